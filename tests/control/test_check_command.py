"""`cfgmon check`: exit codes, formats, history, bad input."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import duckdb
import pytest

from cfgmon.simulation import Seeder

from .conftest import LATEST
from .securityhub import batch_import_errors

# These tests are about one control; `check` alone runs the whole family.
CONFIG_CONTROL = "config_configuration_changes_monitoring"

CONTROL = "config_configuration_changes_monitoring"
CONTRACT_KEYS = {
    "control_id", "control_version", "account_id", "status", "reason", "resource",
    "evaluated_at", "evidence",
}


@pytest.fixture
def two_accounts(aws, inspector, monkeypatch):
    """A compliant default account and a non-compliant second one, both collected."""
    Seeder(aws).chain("us-east-1")
    other = Seeder(aws, "222222222222")
    other.chain("us-east-1", threshold=3)
    inspector.collect("us-east-1")
    creds = aws.account_credentials("222222222222")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["aws_secret_access_key"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", creds["aws_session_token"])
    inspector.collect("us-east-1")
    return inspector


def test_one_row_per_collected_account_and_exit_code(two_accounts, cli):
    result = cli("check", "--db", two_accounts.db, "--control", CONFIG_CONTROL, "--format", "json")
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    assert [(r["account_id"], r["status"]) for r in rows] == [
        ("123456789012", "COMPLIANT"), ("222222222222", "NON_COMPLIANT"),
    ]
    for row in rows:
        assert set(row) >= CONTRACT_KEYS
        assert isinstance(row["evidence"], dict)
        assert row["evaluated_at"].endswith("Z")
    assert cli("check", "--db", two_accounts.db, "--control", CONFIG_CONTROL, "--exit-zero").exit_code == 0


def test_all_compliant_exits_zero(aws, inspector, cli):
    Seeder(aws).chain("us-east-1")
    inspector.collect("us-east-1")
    result = cli("check", "--db", inspector.db, "--control", CONFIG_CONTROL)
    assert result.exit_code == 0
    assert "COMPLIANT" in result.stdout and "123456789012" in result.stdout


def test_history_appends_every_run(two_accounts, cli):
    for _ in range(2):
        cli("check", "--db", two_accounts.db, "--control", CONFIG_CONTROL, "--format", "csv")
    con = duckdb.connect(two_accounts.db, read_only=True)
    runs = con.execute(
        "SELECT run_id, COUNT(*), MIN(control_id), MIN(control_version) "
        "FROM cfgmon_check_result GROUP BY run_id"
    ).fetchall()
    con.close()
    assert len(runs) == 2
    assert all(r[1:] == (2, CONTROL, LATEST) for r in runs)  # the latest version


def test_csv_has_the_contract_columns(two_accounts, cli):
    result = cli("check", "--db", two_accounts.db, "--control", CONFIG_CONTROL, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 2
    assert set(rows[0]) >= CONTRACT_KEYS
    assert json.loads(rows[1]["evidence"])["alarm_arn"].endswith(":alarm:cis-config-changes")


def test_junit_has_a_testcase_per_account(two_accounts, cli, tmp_path):
    out = tmp_path / "junit.xml"
    result = cli("check", "--db", two_accounts.db, "--control", CONFIG_CONTROL, "--format", "junit", "--output", str(out))
    assert result.exit_code == 1 and result.stdout == ""
    root = ET.parse(out).getroot()
    cases = root.findall(".//testcase")
    assert [c.get("name") for c in cases] == ["account 123456789012", "account 222222222222"]
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure is not None and "does not go into ALARM" in failure.get("message")
    assert root.get("tests") == "2" and root.get("failures") == "1"


def test_ocsf_compliance_findings(two_accounts, cli):
    findings = json.loads(cli("check", "--db", two_accounts.db, "--control", CONFIG_CONTROL, "--format", "ocsf").stdout)
    assert [f["class_uid"] for f in findings] == [2003, 2003]
    assert [f["compliance"]["status"] for f in findings] == ["Pass", "Fail"]
    assert findings[1]["cloud"]["account"]["uid"] == "222222222222"
    requirements = findings[0]["compliance"]["requirements"]
    assert "CIS AWS Foundations Benchmark v1.2.0 3.9" in requirements
    assert "NIST SP 800-53 Revision 5 SI-4(20)" in requirements
    assert findings[1]["evidences"][0]["data"]["alarm_arn"]


def test_asff_is_accepted_by_the_batch_import_findings_model(two_accounts, cli):
    findings = json.loads(cli("check", "--db", two_accounts.db, "--control", CONFIG_CONTROL, "--format", "asff").stdout)
    assert not batch_import_errors(findings)
    assert [f["Compliance"]["Status"] for f in findings] == ["PASSED", "FAILED"]
    assert len({f["Id"] for f in findings}) == 2
    assert "CIS AWS Foundations Benchmark v5.0.0 4.9" in findings[0]["Compliance"]["RelatedRequirements"]


def test_control_version_is_selectable(two_accounts, cli):
    rows = json.loads(cli("check", "--db", two_accounts.db, "--format", "json",
                          "--control", f"{CONTROL}@1").stdout)
    assert {r["control_version"] for r in rows} == {"1"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--control", "no_such_control"], "unknown control 'no_such_control'"),
        (["--control", f"{CONTROL}@9"], f"control {CONTROL} has no version '9'"),
        (["--format", "xml"], "unknown format 'xml'"),
        (["--output", "/nonexistent-dir/x.json"], "cannot write /nonexistent-dir/x.json"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(two_accounts, cli, args, message):
    result = cli("check", "--db", two_accounts.db, "--control", CONFIG_CONTROL, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_check_before_collect_says_what_to_do(cli, tmp_path):
    result = cli("check", "--db", str(tmp_path / "empty.duckdb"), "--control", CONFIG_CONTROL)
    assert result.exit_code == 2
    assert "no inventory yet: run cfgmon collect first" in result.stderr
