"""`cfgmon check` output: a table that fits, a summary, narrowing, several formats from one run."""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios

import duckdb
import pytest

from .conftest import AUDITED_ACCOUNTS, LATEST

# These tests are about one control; `check` alone runs the whole family.
CONFIG_CONTROL = "config_configuration_changes_monitoring"

SUMMARY = "3 accounts: 1 COMPLIANT, 2 NON_COMPLIANT, 0 INSUFFICIENT_DATA"
CONTROL_REF = f"config_configuration_changes_monitoring@{LATEST}"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _runs(db: str) -> list[tuple[str, int]]:
    con = duckdb.connect(db, read_only=True)
    try:
        return con.execute(
            "SELECT run_id, count(*) FROM cfgmon_check_result GROUP BY run_id"
        ).fetchall()
    finally:
        con.close()


def _table_rows(lines: list[str]) -> dict[str, int]:
    """How many lines each account's row takes in a rendered table."""
    heights: dict[str, int] = {}
    current = None
    for line in lines:
        if not line.startswith("│"):  # a rule between rows, the header, the summary
            current = None
            continue
        current = next((a for a in AUDITED_ACCOUNTS if a in line), current)
        if current:
            heights[current] = heights.get(current, 0) + 1
    return heights


def test_table_fits_the_width_columns_asks_for(db, cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    result = cli("check", "--db", db, "--control", CONFIG_CONTROL)
    assert result.exit_code == 1
    lines = result.stdout.rstrip("\n").splitlines()
    assert max(len(line) for line in lines) <= 80
    assert all(height <= 8 for height in _table_rows(lines).values()), result.stdout
    # One control ran: it is named once in the title, not in a column on every row.
    assert result.stdout.count(CONTROL_REF) == 1
    # The table names the account's own resources by the part after the account id.
    assert "alarm:cis-config-changes" in result.stdout
    assert "arn:aws:cloudwatch:" not in result.stdout
    assert lines[-1] == SUMMARY


def test_piped_table_without_columns_keeps_each_row_on_one_line(db, cli, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    verdicts = json.loads(cli("check", "--db", db, "--control", CONFIG_CONTROL, "--format", "json").stdout)
    table = cli("check", "--db", db, "--control", CONFIG_CONTROL).stdout
    for verdict in verdicts:
        row = next(line for line in table.splitlines() if verdict["account_id"] in line)
        # the reason's last words (after any shortened ARN) end the same line
        assert verdict["reason"].split()[-1] in row
        assert verdict["status"] in row


def test_table_on_an_80_column_terminal(db):
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    process = subprocess.Popen(
        [sys.executable, "-m", "cfgmon.cli", "check", "--db", db, "--control", CONFIG_CONTROL],
        stdin=subprocess.DEVNULL, stdout=follower, stderr=subprocess.PIPE, env=env,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closes when the command exits
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=120) == 1, process.stderr.read()
    process.stderr.close()
    lines = ANSI.sub("", b"".join(chunks).decode()).replace("\r", "").rstrip("\n").splitlines()
    assert max(len(line) for line in lines) <= 80
    heights = _table_rows(lines)
    assert set(heights) == set(AUDITED_ACCOUNTS)
    assert all(height <= 8 for height in heights.values()), "\n".join(lines)
    assert lines[-1] == SUMMARY


def test_summary_line_counts_what_is_shown(db, cli):
    result = cli("check", "--db", db, "--control", CONFIG_CONTROL, "--account", "123456789012")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == (
        "1 account: 1 COMPLIANT, 0 NON_COMPLIANT, 0 INSUFFICIENT_DATA; "
        "2 more in this run not shown"
    )


def test_status_and_account_narrow_every_format_and_the_exit_code(db, cli):
    result = cli("check", "--db", db, "--control", CONFIG_CONTROL, "--format", "json", "--status", "non_compliant")
    assert result.exit_code == 1
    assert [r["account_id"] for r in json.loads(result.stdout)] == ["222222222222", "333333333333"]

    result = cli("check", "--db", db, "--control", CONFIG_CONTROL, "--format", "json", "--status", "COMPLIANT")
    assert result.exit_code == 0  # what is shown is all compliant
    assert [r["account_id"] for r in json.loads(result.stdout)] == ["123456789012"]

    result = cli("check", "--db", db, "--control", CONFIG_CONTROL, "--format", "csv",
                 "--status", "compliant,NON_COMPLIANT", "--status", "insufficient_data")
    assert len(list(csv.DictReader(io.StringIO(result.stdout)))) == 3

    for format_name, accounts in (
        ("asff", lambda out: [f["AwsAccountId"] for f in json.loads(out)]),
        ("ocsf", lambda out: [f["cloud"]["account"]["uid"] for f in json.loads(out)]),
        ("junit", lambda out: re.findall(r'name="account (\d+)"', out)),
    ):
        result = cli("check", "--db", db, "--control", CONFIG_CONTROL, "--format", format_name,
                     "--account", "333333333333", "--account", "123456789012")
        assert result.exit_code == 1
        assert accounts(result.stdout) == ["123456789012", "333333333333"]

    # Each run is recorded whole, whatever was shown.
    assert [n for _, n in _runs(db)] == [3] * 6


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--status", "bogus"], "unknown status 'bogus'; choose one of: COMPLIANT, NON_COMPLIANT"),
        (["--status", "COMPLIANT,nope"], "unknown status 'nope'"),
        (["--account", "999999999999"], "no result for account 999999999999 in this run"),
        (["--format", "json", "--format", "csv"], "only one format can go to stdout, not json, csv"),
        (["--format", "json", "--output", "a.json", "--output", "b.json"],
         "--format json has two outputs"),
        (["--format", "json", "--output", "a.json", "--format", "csv", "--output", "a.json"],
         "two formats cannot be written to the same --output file"),
    ],
)
def test_bad_selection_or_outputs_are_one_line_and_exit_2(db, cli, args, message, tmp_path,
                                                           monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("check", "--db", db, "--control", CONFIG_CONTROL, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.glob("*.json"))


def test_several_formats_from_one_run(db, cli, tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.asff.json"
    result = cli("check", "--db", db, "--control", CONFIG_CONTROL, "--format", "json", "--output", str(a),
                 "--format", "asff", "--output", str(b), "--format", "csv")
    assert result.exit_code == 1, result.stderr
    rows = json.loads(a.read_text())
    findings = json.loads(b.read_text())
    printed = list(csv.DictReader(io.StringIO(result.stdout)))
    [(run_id, count)] = _runs(db)  # one run, recorded once
    assert count == 3
    assert {r["run_id"] for r in rows} == {run_id}
    assert {f["ProductFields"]["cfgmon/RunId"] for f in findings} == {run_id}
    assert {r["run_id"] for r in printed} == {run_id}
    assert [r["account_id"] for r in rows] == [f["AwsAccountId"] for f in findings]


def test_output_before_its_format_still_pairs(db, cli, tmp_path):
    out = tmp_path / "results.json"
    result = cli("check", "--db", db, "--control", CONFIG_CONTROL, "--output", str(out), "--format", "json")
    assert result.exit_code == 1 and result.stdout == ""
    assert len(json.loads(out.read_text())) == 3


def test_a_failed_output_writes_none_of_them(db, cli, tmp_path):
    a = tmp_path / "a.json"
    result = cli("check", "--db", db, "--control", CONFIG_CONTROL, "--format", "json", "--output", str(a),
                 "--format", "asff", "--output", str(tmp_path / "missing" / "b.json"))
    assert result.exit_code == 2
    assert "cannot write" in result.stderr
    assert not a.exists()
    assert _runs(db) == []  # refused before the controls ran
