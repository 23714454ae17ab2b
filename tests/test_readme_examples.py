"""Every README example that shows what cfgmon prints is what cfgmon prints today.

The expected text is read from README.md (tests/readme.py), never retyped here.

- Console transcripts: a fenced block marked ```console, whose commands start with
  `$ cfgmon ` and continue with a trailing backslash, followed by their output
  (stdout, then stderr; `…` is any text within a line). Every such block is run,
  so to add an example write one in the README: nothing to change here. A
  transcript whose output holds a `cfgmon: error:` line expects exit code 2, any
  other exit code 0. No shell features (pipes, redirections, variables).
- Text quoted in the README's prose and tables (error lines, a verdict, a masked
  endpoint): each one that can be reproduced cheaply has a test below that locates
  it by a fragment of its text, causes it for real, and compares what cfgmon prints
  or stores.
"""

from __future__ import annotations

import re

import duckdb
import pytest
import readme
from dblock import held_by_another_process
from sample_inventory import build_sample_inventory

from cfgmon.redaction import mask_endpoint
from cfgmon.store import database, open_database

TRANSCRIPTS = readme.transcripts()
ERROR_PREFIX = "cfgmon: error:"


def test_the_readme_has_console_transcripts():
    assert TRANSCRIPTS, "no ```console block found in README.md"


@pytest.mark.parametrize("example", TRANSCRIPTS, ids=str)
def test_console_transcript(cli, example):
    assert example.argv[0] == "cfgmon", f"{example}: a transcript runs cfgmon only"
    result = cli(*example.argv[1:])
    printed = (result.stdout + result.stderr).splitlines()
    assert len(printed) == len(example.output) and all(
        readme.line_matches(expected, actual.rstrip())
        for expected, actual in zip(example.output, printed, strict=True)
    ), f"{example}: the README shows\n" + "\n".join(example.output) + "\ncfgmon prints\n" + "\n".join(printed)
    fails = any(line.startswith(ERROR_PREFIX) for line in example.output)
    assert result.exit_code == (2 if fails else 0), result.stderr


def assert_error_line_is_quoted(result, quoted: str) -> None:
    """One line on stderr, exit 2, and the line is the quoted one; a table may quote it
    without the `cfgmon: error: ` that starts every error line."""
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    if not quoted.startswith((ERROR_PREFIX, readme.ELLIPSIS)):
        quoted = f"{ERROR_PREFIX} {quoted}"
    assert readme.line_matches(quoted, lines[0]), f"README quotes\n{quoted}\ncfgmon prints\n{lines[0]}"


# -- "When things go wrong" ---------------------------------------------------------------

WRONG = "When things go wrong"

def test_a_database_in_use(cli, tmp_path, monkeypatch):
    expected = readme.quoted(WRONG, "or wait for it to finish")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CFGMON_DB", raising=False)
    db = build_sample_inventory(tmp_path / database.DEFAULT_DB)
    with held_by_another_process(db):
        result = cli("sql", "SELECT 1")
    assert_error_line_is_quoted(result, expected)


def test_a_damaged_database(cli, tmp_path):
    expected = readme.quoted(WRONG, "is damaged")
    db = build_sample_inventory(tmp_path / "cut.duckdb")
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])
    assert_error_line_is_quoted(cli("sql", "--db", str(db), "SELECT 1"), expected)


def test_a_database_from_a_newer_cfgmon(cli, tmp_path):
    # The README writes the two schema versions as N and M.
    expected = readme.quoted(WRONG, "written by a newer cfgmon")
    expected = expected.replace("version N;", "version 99;")
    expected = expected.replace("up to M)", f"up to {database.SCHEMA_VERSION})")
    db = tmp_path / "future.duckdb"
    open_database(db).close()
    con = duckdb.connect(str(db))
    con.execute("INSERT INTO cfgmon_schema VALUES (99, now())")
    con.close()
    assert_error_line_is_quoted(cli("sql", "--db", str(db), "SELECT 1"), expected)


def test_an_event_that_is_not_json(cli):
    # The README's table gives the verdict `pattern test` prints for such an event.
    expected = readme.quoted(WRONG, "no match")
    result = cli("pattern", "test", "{ $.eventName NOT EXISTS }", "--event", "not JSON at all")
    assert result.exit_code == 0, result.stderr
    verdict, _, event = result.stdout.rstrip("\n").partition("  ")
    assert (verdict.strip(), event.strip()) == (expected, "not JSON at all")


# -- "Collecting" --------------------------------------------------------------------------


def test_subscription_endpoints_are_masked_as_shown():
    [(endpoint, stored)] = re.findall(r"`([^`]+)` is stored as\s+`([^`]+)`", readme.section("Collecting"))
    assert mask_endpoint(endpoint) == stored
