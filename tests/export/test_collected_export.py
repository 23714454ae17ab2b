"""End to end on collected data: moto → cfgmon collect → check → sql / export."""

from __future__ import annotations

import json

import duckdb
import pytest

from cfgmon.simulation import Seeder

# These tests are about one control; `check` alone runs the whole family.
CONFIG_CONTROL = "config_configuration_changes_monitoring"

ACCOUNT = "123456789012"  # moto's default account


@pytest.fixture
def collected(aws, cli, tmp_path):
    Seeder(aws).chain("eu-west-1")
    db = tmp_path / "collected.duckdb"
    collect = cli("collect", "--db", str(db), "--endpoint-url", aws.endpoint,
                  "--region", "eu-west-1")
    assert collect.exit_code == 0, collect.stderr
    check = cli("check", "--db", str(db), "--control", CONFIG_CONTROL, "--exit-zero", "--format", "json")
    assert check.exit_code == 0, check.stderr
    return db


def _counts(db) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        return {n: con.execute(f"SELECT count(*) FROM {n}").fetchone()[0] for n in names}


def test_collected_inventory_queries_and_exports(cli, collected, tmp_path, postgres_dsn):
    import psycopg

    counts = _counts(collected)
    assert counts["aws_cloudtrail_trail"] == 1 and counts["cfgmon_check_result"] == 1
    assert counts["aws_sns_topic_subscription"] == 1 and counts["cfgmon_pattern_coverage"] >= 1

    out = tmp_path / "lake"
    assert cli("export", "--db", str(collected), "--parquet", str(out)).exit_code == 0
    partitions = [p.name for p in (out / "aws_cloudtrail_trail").iterdir()]
    assert partitions == [f"account=acct-{ACCOUNT}"]
    for table, rows in counts.items():
        got = duckdb.sql(
            f"SELECT count(*) FROM read_parquet('{out}/{table}/**/*.parquet', "
            "hive_partitioning = true)"
        ).fetchall()[0][0]
        assert got == rows, table

    assert cli("export", "--db", str(collected), "--postgres", postgres_dsn).exit_code == 0
    with psycopg.connect(postgres_dsn) as pg:
        for table, rows in counts.items():
            assert pg.execute(f"SELECT count(*) FROM cfgmon.{table}").fetchone()[0] == rows, table

    # The README's trail → log group join finds the collected log group by full ARN.
    result = cli(
        "sql", "--db", str(collected), "--format", "json",
        "SELECT t.account_id, t.is_logging, g.arn IS NOT NULL AS log_group_found "
        "FROM aws_cloudtrail_trail t LEFT JOIN aws_cloudwatch_log_group g "
        "ON g.account_id = t.log_group_account_id AND g.region = t.log_group_region "
        "AND g.name = t.log_group_name ORDER BY t.account_id",
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [
        {"account_id": ACCOUNT, "is_logging": True, "log_group_found": True},
    ]
