"""Bad input, through the command line: one clear line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import json

import pytest
from sample_inventory import build_sample_inventory

CONTROL = "config_configuration_changes_monitoring"


@pytest.fixture(scope="module")
def inventory(tmp_path_factory):
    return build_sample_inventory(tmp_path_factory.mktemp("bad-input") / "inventory.duckdb")


@pytest.fixture
def place(tmp_path, inventory):
    """Paths the cases name: {db}, {dir} (a folder), {file} (a plain file), {missing}."""
    (tmp_path / "plain.txt").write_text("not a folder\n")
    return {"db": str(inventory), "dir": str(tmp_path), "file": str(tmp_path / "plain.txt"),
            "missing": str(tmp_path / "missing")}


# (arguments, the start of the error line after "cfgmon: error: ")
CASES = {
    "bad SQL": (["sql", "--db", "{db}", "SELEC 1"], "bad SQL: syntax error at or near"),
    "unknown table": (["sql", "--db", "{db}", "SELECT * FROM trails"], "unknown table trails"),
    "writing SQL": (["sql", "--db", "{db}", "DROP TABLE aws_sns_topic"],
                    "cfgmon sql only reads: DROP statements are refused"),
    "unreadable --file": (["sql", "--db", "{db}", "--file", "{missing}/q.sql"],
                          "cannot read {missing}/q.sql: No such file or directory"),
    "--file is a folder": (["sql", "--db", "{db}", "--file", "{dir}"],
                           "cannot read {dir}: Is a directory"),
    "unknown control": (["check", "--db", "{db}", "--control", "cis_4_9"],
                        "unknown control 'cis_4_9'; known controls: cloudtrail_configuration_changes_monitoring, "),
    "unknown version": (["check", "--db", "{db}", "--control", f"{CONTROL}@7"],
                        f"control {CONTROL} has no version '7'; versions: 1"),
    "unknown control to show": (["controls", "show", "cis_4_9"], "unknown control 'cis_4_9'"),
    "unknown version to transpile": (["controls", "transpile", f"{CONTROL}@7", "--dialect",
                                      "postgres"], f"control {CONTROL} has no version '7'"),
    "unknown format": (["check", "--db", "{db}", "--format", "xml"], "unknown format 'xml'"),
    "output in a missing folder": (["check", "--db", "{db}", "--output", "{missing}/r.json"],
                                   "cannot write {missing}/r.json: No such file or directory"),
    "output under a file": (["check", "--db", "{db}", "--output", "{file}/r.json"],
                            "cannot write {file}/r.json: Not a directory"),
    "output is a folder": (["check", "--db", "{db}", "--output", "{dir}"],
                           "cannot write {dir}: Is a directory"),
    "export to a file": (["export", "--db", "{db}", "--parquet", "{file}"],
                         "cannot export to {file}: it is a file, not a folder"),
    "export under a file": (["export", "--db", "{db}", "--csv", "{file}/lake"],
                            "cannot write to {file}/lake: Not a directory"),
    "invalid pattern": (["pattern", "test", "{ $.eventName = "],
                        "expected a value after '=', found the end of the pattern at column 16"),
    "concurrency": (["collect", "--db", "{missing}/x.duckdb", "--concurrency", "0"],
                    "--concurrency must be at least 1"),
}
DB_COMMANDS = {
    "collect": ["collect"],
    "check": ["check"],
    "sql": ["sql", "SELECT 1"],
    "tables": ["tables"],
    "export": ["export", "--csv", "{missing}"],
}


def fill(text: str, place: dict[str, str]) -> str:
    for name, value in place.items():
        text = text.replace("{" + name + "}", value)
    return text


def assert_one_line(result, expected: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert result.stderr.startswith(f"cfgmon: error: {expected}"), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_line_and_exit_2(cli, place, case):
    args, expected = CASES[case]
    result = cli(*[fill(a, place) for a in args])
    assert_one_line(result, fill(expected, place))


@pytest.mark.parametrize("command", DB_COMMANDS)
def test_a_db_that_is_a_folder(cli, place, command):
    first, *rest = DB_COMMANDS[command]
    result = cli(first, "--db", place["dir"], *[fill(a, place) for a in rest])
    assert_one_line(result, f"{place['dir']} is a directory, not a cfgmon database file")


def test_an_unknown_region(aws, cli, tmp_path):
    db = tmp_path / "x.duckdb"
    result = cli("collect", "--db", str(db), "--endpoint-url", aws.endpoint,
                 "--region", "eu-west-1", "--region", "eu-middle-9")
    assert_one_line(result, "unknown region 'eu-middle-9'; known regions: ")


@pytest.mark.parametrize("name, value, expected", [
    ("AWS_MAX_ATTEMPTS", "lots", "AWS_MAX_ATTEMPTS must be a number, not 'lots'"),
    ("AWS_MAX_ATTEMPTS", "0", "AWS_MAX_ATTEMPTS must be greater than 0, not 0"),
    ("AWS_RETRY_MODE", "eager", "AWS_RETRY_MODE must be one of adaptive, standard, legacy, not 'eager'"),
    ("CFGMON_READ_TIMEOUT", "-1", "CFGMON_READ_TIMEOUT must be greater than 0, not -1.0"),
    ("CFGMON_CONNECT_TIMEOUT", "soon", "CFGMON_CONNECT_TIMEOUT must be a number, not 'soon'"),
])
def test_bad_retry_settings(cli, tmp_path, monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    db = tmp_path / "x.duckdb"
    result = cli("collect", "--db", str(db), "--endpoint-url", "http://127.0.0.1:9")
    assert_one_line(result, expected)
    assert not db.exists()  # a usage error creates no database


def test_an_event_that_is_not_json_is_raw_text_not_bad_input(cli):
    result = cli("pattern", "test", "--format", "json", '{ $.eventName = "Put*" }',
                 "--event", "PutDeliveryChannel {not json", "--event", '{"eventName": "PutX"}')
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert [r["matched"] for r in document["results"]] == [False, True]
    result = cli("pattern", "test", "PutDeliveryChannel", "--event", "PutDeliveryChannel {not json")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.startswith("MATCH")


def test_a_failed_check_leaves_the_previous_output_file(cli, place, tmp_path):
    output = tmp_path / "results.json"
    first = cli("check", "--db", place["db"], "--format", "json", "--output", str(output))
    assert first.exit_code == 1, first.stderr  # the sample has a non-compliant account
    before = output.read_text()
    assert json.loads(before)

    damaged = tmp_path / "damaged.duckdb"
    damaged.write_text("not a database")
    result = cli("check", "--db", str(damaged), "--format", "json", "--output", str(output))

    assert_one_line(result, f"{damaged} is not a DuckDB database file")
    assert output.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["damaged.duckdb", "plain.txt",
                                                          "results.json"]
