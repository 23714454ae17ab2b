"""The whole CIS monitoring family on a real Spark: the demo estate, checked, exported to
Parquet, and the SQL `cfgmon controls transpile --dialect spark` prints, run over it.

Spark must give exactly the rows `check` stored, for every control of the family. The
session is local (two cores, a small driver), as on a laptop.
"""

from __future__ import annotations

import json
import shutil

import pytest
from clirun import run_cli_process

from cfgmon.controls import latest_versions

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java (no java found)"),
]

KEYS = ("control_id", "account_id", "status", "reason", "resource")


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("cfgmon-test")
        .config("spark.driver.memory", "1g")
        # the driver listens on loopback only, like every server the tests start
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("warehouse")))
        .getOrCreate()
    )
    yield session
    session.stop()


def _run_script(spark, script: str) -> list[dict]:
    """Every statement in order, as spark-sql -f would; the rows of the one query."""
    rows: list[dict] | None = None
    for statement in (s for s in script.split(";\n") if s.strip()):
        frame = spark.sql(statement)
        if frame.columns:  # the query (a table's creation or drop returns no columns)
            assert rows is None, "the script holds one query"
            rows = [row.asDict() for row in frame.collect()]
    assert rows is not None, "the script holds no query"
    return rows


def test_the_family_on_spark_gives_the_rows_check_stored(spark, tmp_path):
    db = tmp_path / "demo.duckdb"
    demo = run_cli_process("demo", "--db", str(db))  # its own moto, in its own process
    assert demo.exit_code == 0, demo.stderr
    check = run_cli_process("check", "--db", str(db), "--format", "json", "--exit-zero")
    assert check.exit_code == 0, check.stderr
    stored = sorted(tuple(r[k] for k in KEYS) for r in json.loads(check.stdout))
    family = {v.control.id for v in latest_versions() if v.judged_together}
    assert {row[0] for row in stored} == family
    assert {row[2] for row in stored} >= {"COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"}

    lake = tmp_path / "lake"
    export = run_cli_process("export", "--db", str(db), "--parquet", str(lake))
    assert export.exit_code == 0, export.stderr
    transpiled = run_cli_process("controls", "transpile", "config_configuration_changes_monitoring",
                                 "--dialect", "spark")
    assert transpiled.exit_code == 0, transpiled.stderr

    for folder in sorted(lake.iterdir()):
        spark.read.parquet(str(folder)).createOrReplaceTempView(folder.name)
    rows = _run_script(spark, transpiled.stdout)
    assert sorted(tuple(r[k] for k in KEYS) for r in rows) == stored
    # the script leaves nothing behind in the catalogue but the lake's own views
    assert {t.name for t in spark.catalog.listTables()} == {f.name for f in lake.iterdir()}
