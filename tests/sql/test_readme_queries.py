"""Every SQL example in the README runs against an inventory with cfgmon's schema."""

from __future__ import annotations

import json

import duckdb
import pytest
import readme
from sample_inventory import BAD, build_sample_inventory


def _sql_blocks(title: str) -> list[str]:
    return [block.body for block in readme.blocks("sql", title)]


INVESTIGATING = _sql_blocks("Investigating with SQL")


def test_there_are_at_least_ten_examples():
    assert len(INVESTIGATING) >= 10


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return str(build_sample_inventory(tmp_path_factory.mktemp("readme") / "inventory.duckdb"))


@pytest.mark.parametrize("query", INVESTIGATING, ids=lambda q: " ".join(q.split())[:50])
def test_example_runs_and_finds_something(cli, db, query):
    result = cli("sql", "--db", db, "--format", "json", query)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout), "the sample inventory should give this example rows"


def test_pending_subscriptions_example_finds_the_pending_one(cli, db):
    [query] = [q for q in INVESTIGATING if "WHERE pending_confirmation" in q]
    rows = json.loads(cli("sql", "--db", db, "--format", "json", query).stdout)
    assert [r["account_id"] for r in rows] == [BAD]


def test_parquet_reading_example(cli, db, tmp_path, monkeypatch):
    [query] = _sql_blocks("Feeding BI tools")
    monkeypatch.chdir(tmp_path)
    assert cli("export", "--db", db, "--parquet", "lake").exit_code == 0
    relation = duckdb.sql(query.strip().rstrip(";"))
    accounts = [row[relation.columns.index("account_id")] for row in relation.fetchall()]
    assert sorted(accounts) == sorted([BAD, BAD, "111111111111"])  # leading zero kept
