"""The control, transpiled by sqlglot, gives DuckDB's rows on a real PostgreSQL and on
the exported Parquet files.

A moto-collected inventory with one account per kind of verdict is checked in
DuckDB (which also derives the coverage tables), exported, and the same control
run there; every column of every row must agree. One account id starts with 0, as
real ones can, and stays text with its leading zero wherever the rows go.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import shutil

import duckdb
import pytest

from cfgmon.aws import AccountTarget, ClientFactory, collect
from cfgmon.controls import resolve, run_controls
from cfgmon.export import export_postgres
from cfgmon.simulation import Seeder
from cfgmon.sqlport import transpile
from cfgmon.store import open_database

CONTROL = "config_configuration_changes_monitoring"
LEADING_ZERO = "012345678901"
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
        LEADING_ZERO: lambda s: s.chain("eu-west-1", subscriptions=(), threshold=0.5),
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


def test_control_over_exported_parquet_matches_duckdb(checked_db, cli, tmp_path):
    """Read with every reader's defaults: no hint that account_id is text."""
    lake_dir = tmp_path / "lake"
    assert cli("export", "--db", str(checked_db), "--parquet", str(lake_dir)).exit_code == 0
    lake = duckdb.connect()
    for folder in sorted(lake_dir.iterdir()):
        lake.execute(
            f"CREATE VIEW {folder.name} AS SELECT * FROM read_parquet("
            f"'{folder}/**/*.parquet', hive_partitioning = true)"
        )

    with duckdb.connect(str(checked_db), read_only=True) as con:
        accounts = _account_ids(con)
    assert accounts["aws_cloudtrail_trail"][0] == "VARCHAR"
    assert LEADING_ZERO in accounts["aws_cloudtrail_trail"][1]
    assert _account_ids(lake) == accounts

    transpiled = cli("controls", "transpile", f"{CONTROL}@1", "--dialect", "duckdb")
    assert transpiled.exit_code == 0, transpiled.stderr
    cursor = lake.execute(transpiled.stdout)
    names = [d[0] for d in cursor.description]
    got = [_normalise(row) for row in cursor.fetchall()]
    assert got == _duckdb_rows(checked_db)

    own_copy = shutil.copy(checked_db, tmp_path / "checked.duckdb")  # check records its run
    check = cli("check", "--db", str(own_copy), "--control", f"{CONTROL}@1",
                "--format", "json", "--exit-zero")
    assert check.exit_code == 0, check.stderr
    verdicts = sorted((r["account_id"], r["status"]) for r in json.loads(check.stdout))
    account, status = names.index("account_id"), names.index("status")
    assert sorted((row[account], row[status]) for row in got) == verdicts


def _account_ids(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, list[str]]]:
    """Per table (or view) with an account_id column: its type and distinct values."""
    columns = con.execute(
        "SELECT table_name, data_type FROM duckdb_columns() WHERE column_name = 'account_id'"
    ).fetchall()
    return {
        table: (kind, [i for (i,) in con.execute(
            f"SELECT DISTINCT account_id::VARCHAR FROM {table} ORDER BY 1"
        ).fetchall()])
        for table, kind in columns
    }
