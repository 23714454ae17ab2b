"""`cfgmon tables`: every table, its columns and the description from schema.sql."""

from __future__ import annotations

import json

import pytest
from sample_inventory import build_sample_inventory

from cfgmon.store.database import schema_sql
from cfgmon.store.query import schema_docs


@pytest.fixture
def db(tmp_path):
    return str(build_sample_inventory(tmp_path / "inventory.duckdb"))


def test_lists_every_table_with_rows_and_description(cli, db):
    result = cli("tables", "--db", db, "--format", "json")
    assert result.exit_code == 0, result.stderr
    tables = {t["table"]: t for t in json.loads(result.stdout)}
    created = set(schema_docs())
    assert created <= set(tables)
    trail = tables["aws_cloudtrail_trail"]
    assert trail["rows"] == 3
    assert trail["description"].startswith("One row per trail ARN visible to the account")
    assert "cloud_watch_logs_log_group_arn" in trail["columns"].split(", ")
    assert "pending_confirmation is true" in tables["aws_sns_topic_subscription"]["description"]


def test_without_a_database_describes_the_schema(cli, tmp_path):
    result = cli("tables", "--db", str(tmp_path / "none.duckdb"), "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {r["table"] for r in rows} == set(schema_docs())
    assert all("rows" not in r for r in rows)
    assert not (tmp_path / "none.duckdb").exists()


def test_one_table_shows_types_and_column_comments(cli, db):
    result = cli("tables", "aws_cloudtrail_trail", "--db", db, "--format", "json")
    assert result.exit_code == 0, result.stderr
    columns = {c["column"]: c for c in json.loads(result.stdout)}
    assert columns["owner_account_id"] == {
        "column": "owner_account_id",
        "type": "VARCHAR",
        "nullable": True,
        "description": "account in the trail ARN (differs for organisation trails)",
    }
    assert columns["arn"]["nullable"] is False
    assert columns["raw"]["type"] == "JSON"


def test_table_format_is_readable(cli, db):
    result = cli("tables", "--db", db)
    assert result.exit_code == 0, result.stderr
    assert "aws_sns_topic_subscription" in result.stdout


def test_unknown_table(cli, db):
    result = cli("tables", "aws_trail", "--db", db)
    assert result.exit_code == 2
    assert "unknown table aws_trail" in result.stderr and "aws_cloudtrail_trail" in result.stderr


def test_schema_docs_reads_the_comment_block_above_each_table():
    docs = schema_docs(
        "-- Section ---\n\n"
        "-- First line\n-- second line.\n"
        "CREATE TABLE IF NOT EXISTS t (\n"
        "    a VARCHAR NOT NULL,   -- the a\n"
        "    -- a label, not a column\n"
        "    b INTEGER,\n"
        "    PRIMARY KEY (a)\n);\n\n"
        "CREATE TABLE u (x INTEGER);\n"
    )
    assert docs["t"].description == "First line second line."
    assert docs["t"].columns == {"a": "the a"}
    assert docs["u"].description == ""


def test_every_table_in_schema_sql_is_found():
    assert len(schema_docs()) == schema_sql().upper().count("CREATE TABLE")
