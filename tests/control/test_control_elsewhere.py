"""The control, transpiled by sqlglot, gives DuckDB's rows on a real PostgreSQL and on
the exported Parquet files.

A moto-collected inventory with one account per kind of verdict is checked in
DuckDB (which also derives the coverage tables), exported, and the same control
run there; every column of every row must agree.
"""

from __future__ import annotations

import datetime as dt
import decimal

import duckdb
import pytest

from cfgmon.aws import AccountTarget, ClientFactory, collect
from cfgmon.controls import resolve, run_controls
from cfgmon.export import export_files, export_postgres
from cfgmon.simulation import Seeder
from cfgmon.sqlport import transpile
from cfgmon.store import open_database

CONTROL = "config_configuration_changes_monitoring"
AND_PATTERN = (
    "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)"
    "&&($.eventName=DeleteDeliveryChannel)) }"
)


@pytest.fixture(scope="module")
def checked_db(aws_module, tmp_path_factory):
    """Five accounts, five verdict paths, collected and checked in DuckDB."""
    aws = aws_module
    builds = {
        "111111111111": lambda s: s.chain("us-east-1"),
        "222222222222": lambda s: s.chain("us-east-1", pattern=AND_PATTERN),
        "333333333333": lambda s: s.chain("eu-west-1", subscriptions=(), threshold=0.5),
        "444444444444": lambda s: s.chain("us-east-1", logging=False),
        "555555555555": lambda s: s.chain("eu-west-1", metric_value="$.missing"),
    }
    targets = []
    for account, build in builds.items():
        build(Seeder(aws, account))
        targets.append(AccountTarget(account, aws.session(account), source="assumed-role"))
    db = tmp_path_factory.mktemp("elsewhere") / "cfgmon.duckdb"
    con = open_database(db)
    try:
        collect(con, targets, clients=ClientFactory(endpoint_url=aws.endpoint),
                regions=["us-east-1", "eu-west-1"])
        results = run_controls(con, [resolve(f"{CONTROL}@1")])
    finally:
        con.close()
    assert {r.status for r in results} == {"COMPLIANT", "NON_COMPLIANT"}
    return db


def _duckdb_rows(db) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [_normalise(row) for row in con.execute(resolve(f"{CONTROL}@1").sql).fetchall()]
    finally:
        con.close()


def _normalise(row) -> tuple:
    """Engines return the same numbers in different Python types."""
    def one(value):
        if isinstance(value, decimal.Decimal | float) and float(value).is_integer():
            return int(value)
        if isinstance(value, dt.datetime):
            return value.replace(tzinfo=None)
        return value
    return tuple(one(v) for v in row)


def test_transpiled_control_on_postgres_matches_duckdb(checked_db, postgres_dsn):
    import psycopg

    expected = _duckdb_rows(checked_db)
    assert len(expected) == 5
    with duckdb.connect(str(checked_db), read_only=True) as con:
        export_postgres(con, postgres_dsn)
    sql = transpile(resolve(f"{CONTROL}@1").sql, "postgres")
    with psycopg.connect(postgres_dsn, options="-c search_path=cfgmon") as pg:
        got = [_normalise(row) for row in pg.execute(sql).fetchall()]
    assert got == expected


def test_control_over_exported_parquet_matches_duckdb(checked_db, tmp_path):
    expected = _duckdb_rows(checked_db)
    with duckdb.connect(str(checked_db), read_only=True) as con:
        export_files(con, tmp_path / "lake", "parquet")
    lake = duckdb.connect()
    for folder in sorted((tmp_path / "lake").iterdir()):
        lake.execute(
            f"CREATE VIEW {folder.name} AS SELECT * FROM read_parquet("
            f"'{folder}/**/*.parquet', hive_partitioning = true, hive_types_autocast = false)"
        )
    got = [_normalise(row) for row in lake.execute(resolve(f"{CONTROL}@1").sql).fetchall()]
    assert got == expected
