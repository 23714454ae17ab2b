"""`cfgmon sql`: output formats, refused writes, clear one-line errors."""

from __future__ import annotations

import csv
import io
import json

import duckdb
import pytest
from sample_inventory import BAD, GOOD, PARTIAL_PATTERN, REFERENCE_PATTERN, build_sample_inventory


@pytest.fixture
def db(tmp_path):
    return str(build_sample_inventory(tmp_path / "inventory.duckdb"))


TRAILS = "SELECT account_id, name, is_logging FROM aws_cloudtrail_trail ORDER BY account_id, name"


def _one_line_error(result, *fragments):
    assert result.exit_code == 2, result
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def test_json_output(cli, db):
    result = cli("sql", "--db", db, "--format", "json", TRAILS)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [
        {"account_id": BAD, "name": "local", "is_logging": True},
        {"account_id": BAD, "name": "stopped", "is_logging": False},
        {"account_id": GOOD, "name": "main", "is_logging": True},
    ]


def test_json_columns_come_out_as_objects(cli, db):
    result = cli(
        "sql", "--db", db, "--format", "json",
        "SELECT raw, collected_at FROM aws_cloudtrail_trail WHERE name = 'main'",
    )
    assert result.exit_code == 0, result.stderr
    [row] = json.loads(result.stdout)
    assert row["raw"]["Name"] == "main"
    assert row["collected_at"] == "2025-01-01T12:00:00Z"


def test_csv_output(cli, db):
    result = cli("sql", "--db", db, "--format", "csv", TRAILS)
    assert result.exit_code == 0, result.stderr
    assert list(csv.reader(io.StringIO(result.stdout))) == [
        ["account_id", "name", "is_logging"],
        [BAD, "local", "True"],
        [BAD, "stopped", "False"],
        [GOOD, "main", "True"],
    ]


def test_table_output(cli, db):
    result = cli("sql", "--db", db, TRAILS)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any("account_id" in line and "is_logging" in line for line in lines)
    assert any(BAD in line and "stopped" in line and "False" in line for line in lines)


def test_empty_result_keeps_its_columns(cli, db):
    result = cli("sql", "--db", db, "--format", "csv", "SELECT name FROM aws_sns_topic WHERE false")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "name\n"


def test_last_statement_is_printed(cli, db):
    result = cli("sql", "--db", db, "--format", "json", "SELECT 1 AS a; SELECT 2 AS b")
    assert json.loads(result.stdout) == [{"b": 2}]


def test_sql_from_file(cli, db, tmp_path):
    query = tmp_path / "trails.sql"
    query.write_text(f"-- trails by account\n{TRAILS};\n")
    result = cli("sql", "--db", db, "--file", str(query), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert [r["name"] for r in json.loads(result.stdout)] == ["local", "stopped", "main"]


def test_file_that_cannot_be_read(cli, db, tmp_path):
    _one_line_error(cli("sql", "--db", db, "--file", str(tmp_path / "nope.sql")), "cannot read")


def test_query_and_file_together_is_usage_error(cli, db, tmp_path):
    query = tmp_path / "q.sql"
    query.write_text("SELECT 1")
    _one_line_error(cli("sql", "--db", db, "--file", str(query), "SELECT 1"), "not both")
    _one_line_error(cli("sql", "--db", db), "either as QUERY or with --file")


@pytest.mark.parametrize(
    ("statement", "kind"),
    [
        ("INSERT INTO aws_sns_topic (account_id) VALUES ('1')", "INSERT"),
        ("DELETE FROM aws_cloudtrail_trail", "DELETE"),
        ("UPDATE aws_cloudtrail_trail SET is_logging = true", "UPDATE"),
        ("DROP TABLE aws_cloudtrail_trail", "DROP"),
        ("CREATE TABLE x AS SELECT 1", "CREATE"),
        ("COPY aws_cloudtrail_trail TO '{tmp}/out.csv'", "COPY"),
        ("ATTACH '{tmp}/other.duckdb' AS other", "ATTACH"),
        ("SELECT 1; DELETE FROM aws_cloudtrail_trail", "DELETE"),
        ("EXPLAIN ANALYZE DELETE FROM aws_cloudtrail_trail", "DELETE"),
        ("INSTALL httpfs", "INSTALL"),
        ("SET threads = 1", "SET"),
    ],
)
def test_writes_are_refused(cli, db, tmp_path, statement, kind):
    result = cli("sql", "--db", db, statement.format(tmp=tmp_path))
    _one_line_error(result, "only reads", f"{kind} statements are refused")
    con = duckdb.connect(db, read_only=True)
    assert con.execute("SELECT count(*) FROM aws_cloudtrail_trail").fetchone() == (3,)
    con.close()
    assert not (tmp_path / "out.csv").exists()
    assert not (tmp_path / "other.duckdb").exists()


def test_unknown_table_lists_the_tables(cli, db):
    result = cli("sql", "--db", db, "SELECT * FROM aws_cloudtrail_trails")
    _one_line_error(
        result,
        "unknown table aws_cloudtrail_trails",
        "did you mean aws_cloudtrail_trail?",
        "aws_cloudwatch_log_metric_filter",
        "cfgmon_check_result",
    )


def test_bad_sql_is_one_line(cli, db):
    _one_line_error(cli("sql", "--db", db, "SELECT * FORM aws_sns_topic"), "bad SQL", "syntax error")


def test_unknown_column_is_one_line(cli, db):
    _one_line_error(cli("sql", "--db", db, "SELECT colour FROM aws_sns_topic"), '"colour"')


def test_unknown_format(cli, db):
    _one_line_error(cli("sql", "--db", db, "--format", "xml", "SELECT 1"), "table, json, csv")


def test_missing_database(cli, tmp_path):
    missing = tmp_path / "none.duckdb"
    _one_line_error(cli("sql", "--db", str(missing), "SELECT 1"), f"no database at {missing}",
                    "cfgmon collect")
    assert not missing.exists()


def test_database_from_environment(cli, db, monkeypatch):
    monkeypatch.setenv("CFGMON_DB", db)
    result = cli("sql", "--format", "csv", "SELECT count(*) AS n FROM aws_cloudtrail_trail")
    assert result.stdout == "n\n3\n"


def _patterns_ready() -> bool:
    try:
        from cfgmon import patterns

        return callable(getattr(patterns, "matches", None))
    except ImportError:
        return False


needs_patterns = pytest.mark.skipif(
    not _patterns_ready(), reason="cfgmon.patterns.matches (the pattern engine) is not there yet"
)

PUT_DELIVERY_CHANNEL = json.dumps(
    {"eventSource": "config.amazonaws.com", "eventName": "PutDeliveryChannel"}
)


@needs_patterns
def test_filter_pattern_matches(cli, db):
    result = cli(
        "sql", "--db", db, "--format", "json",
        "SELECT name, filter_pattern_matches(filter_pattern, "
        f"'{PUT_DELIVERY_CHANNEL}') AS matches "
        "FROM aws_cloudwatch_log_metric_filter ORDER BY name",
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [
        {"name": "config-changes", "matches": True},    # the CIS reference pattern
        {"name": "recorder-stops", "matches": False},   # StopConfigurationRecorder only
    ]
    assert REFERENCE_PATTERN and PARTIAL_PATTERN


@needs_patterns
def test_filter_pattern_matches_with_an_invalid_pattern(cli, db):
    result = cli("sql", "--db", db, "SELECT filter_pattern_matches('{ $.eventName = ', '{}')")
    _one_line_error(
        result, "filter_pattern_matches: invalid filter pattern '{ $.eventName = '", "column"
    )
