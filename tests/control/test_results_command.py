"""`cfgmon results`: a stored run shown again, read-only, in any format, without running anything."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import duckdb

from .conftest import LATEST
from .securityhub import batch_import_errors

# These tests are about one control; `check` alone runs the whole family.
CONFIG_CONTROL = "config_configuration_changes_monitoring"


def _result_rows(db: str) -> int:
    con = duckdb.connect(db, read_only=True)
    try:
        return con.execute("SELECT count(*) FROM cfgmon_check_result").fetchone()[0]
    finally:
        con.close()


def test_results_shows_the_latest_run_as_check_did_and_records_nothing(db, cli):
    checked = cli("check", "--db", db, "--control", CONFIG_CONTROL, "--format", "json")
    assert checked.exit_code == 1
    shown = cli("results", "--db", db, "--format", "json")
    assert shown.exit_code == 1
    assert json.loads(shown.stdout) == json.loads(checked.stdout)
    findings = json.loads(cli("results", "--db", db, "--format", "asff").stdout)
    assert not batch_import_errors(findings)
    assert {f["ProductFields"]["cfgmon/RunId"] for f in findings} == {
        r["run_id"] for r in json.loads(checked.stdout)
    }
    assert _result_rows(db) == 3  # one audit, one row set


def test_results_of_an_earlier_run_by_id_or_prefix(db, cli):
    first = json.loads(cli("check", "--db", db, "--control", CONFIG_CONTROL, "--format", "json").stdout)[0]["run_id"]
    cli("check", "--db", db, "--control", CONFIG_CONTROL, "--format", "json")
    for given in (first, first[:8]):
        rows = json.loads(cli("results", given, "--db", db, "--format", "json").stdout)
        assert {r["run_id"] for r in rows} == {first}


def test_results_narrows_and_exits_by_what_it_shows(db, cli):
    cli("check", "--db", db, "--control", CONFIG_CONTROL, "--format", "json")
    result = cli("results", "--db", db, "--status", "compliant", "--format", "json")
    assert result.exit_code == 0
    assert [r["account_id"] for r in json.loads(result.stdout)] == ["123456789012"]
    result = cli("results", "--db", db, "--account", "333333333333")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1] == (
        "1 account: 0 COMPLIANT, 1 NON_COMPLIANT, 0 INSUFFICIENT_DATA; 2 more in this run not shown"
    )
    assert cli("results", "--db", db, "--exit-zero").exit_code == 0


def test_list_shows_recent_runs_newest_first(db, cli):
    runs = [json.loads(cli("check", "--db", db, "--control", CONFIG_CONTROL, "--format", "json").stdout)[0]["run_id"]
            for _ in range(2)]
    result = cli("results", "--db", db, "--list", "--format", "json")
    assert result.exit_code == 0
    listed = json.loads(result.stdout)
    assert [r["run_id"] for r in listed] == runs[::-1]
    assert listed[0]["controls"] == f"config_configuration_changes_monitoring@{LATEST}"
    assert (listed[0]["accounts"], listed[0]["compliant"], listed[0]["non_compliant"],
            listed[0]["insufficient_data"]) == (3, 1, 2, 0)


def test_unknown_run_is_one_line_naming_the_latest_runs(db, cli):
    run_id = json.loads(cli("check", "--db", db, "--control", CONFIG_CONTROL, "--format", "json").stdout)[0]["run_id"]
    result = cli("results", "no-such-run", "--db", db)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert f"no run 'no-such-run'; the latest runs are {run_id}" in result.stderr


def test_results_before_any_check(db, cli):
    result = cli("results", "--db", db)
    assert result.exit_code == 2
    assert "no stored runs yet: run cfgmon check first" in result.stderr


def test_results_reads_while_another_process_holds_the_database_read_only(db, cli):
    cli("check", "--db", db, "--control", CONFIG_CONTROL, "--format", "json")
    holder = duckdb.connect(db, read_only=True)  # a BI tool, say: writers are locked out
    try:
        env = dict(os.environ)
        command = [sys.executable, "-m", "cfgmon.cli"]
        shown = subprocess.run([*command, "results", "--db", db, "--format", "json"],
                               capture_output=True, text=True, env=env, timeout=120)
        assert shown.returncode == 1, shown.stderr
        assert len(json.loads(shown.stdout)) == 3
        checked = subprocess.run([*command, "check", "--db", db, "--control", CONFIG_CONTROL], capture_output=True,
                                 text=True, env=env, timeout=120)
        assert checked.returncode == 2 and "is open in another process (PID" in checked.stderr
    finally:
        holder.close()
