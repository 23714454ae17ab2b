"""`--asff-split DIR`: files BatchImportFindings accepts with the default product ARN.

One file per account and ProductArn region (the call must come from the finding's
AwsAccountId, in the ProductArn's region), at most 100 findings a file.
"""

from __future__ import annotations

import json
import re

import pytest

from cfgmon.store import open_database

from .securityhub import batch_import_errors

# These tests are about one control; `check` alone runs the whole family.
CONFIG_CONTROL = "config_configuration_changes_monitoring"

RUN_ID = "0b7c5f3e-1d2a-4c9b-8e6f-5a4d3c2b1a09"
# (account, region, results): 130 findings of one account and region need two calls.
GENERATED = (
    ("111111111111", "us-east-1", 130),
    ("222222222222", "eu-west-1", 3),
    ("333333333333", "us-east-1", 2),
    ("333333333333", "eu-west-1", 2),
)


@pytest.fixture
def stored_run(tmp_path) -> str:
    """A database holding one run of many controls, as `check` would have recorded it."""
    db = tmp_path / "history.duckdb"
    con = open_database(db)
    try:
        for account, region, count in GENERATED:
            con.execute(
                "INSERT INTO cfgmon_check_result (run_id, evaluated_at, control_id, control_version, "
                "account_id, status, reason, resource, evidence) "
                "SELECT ?, TIMESTAMP '2025-03-01 10:00:00', printf('control_%s_%03d', ?, i), '1', "
                "?, CASE WHEN i % 2 = 0 THEN 'NON_COMPLIANT' ELSE 'COMPLIANT' END, "
                "'alarm arn:aws:cloudwatch:' || ? || ':' || ? || ':alarm:a' || i || ' checked', "
                "'arn:aws:cloudwatch:' || ? || ':' || ? || ':alarm:a' || i, "
                "json_object('alarm_arn', 'arn:aws:cloudwatch:' || ? || ':' || ? || ':alarm:a' || i) "
                "FROM range(?) r(i)",
                [RUN_ID, region, account, region, account, region, account, region, account, count],
            )
    finally:
        con.close()
    return str(db)


def test_split_is_importable_per_account_region_and_100(stored_run, cli, tmp_path):
    folder = tmp_path / "findings"
    result = cli("results", "--db", stored_run, "--asff-split", str(folder), "--exit-zero")
    assert result.exit_code == 0, result.stderr
    assert "wrote 137 ASFF findings in 5 files for 3 accounts" in result.stderr

    files = sorted(p.name for p in folder.glob("*.asff.json"))
    assert files == [
        "111111111111-us-east-1-1.asff.json", "111111111111-us-east-1-2.asff.json",
        "222222222222-eu-west-1-1.asff.json",
        "333333333333-eu-west-1-1.asff.json", "333333333333-us-east-1-1.asff.json",
    ]
    script = (folder / "import.sh").read_text()
    total = 0
    for name in files:
        findings = json.loads((folder / name).read_text())
        account, region = re.match(r"(\d{12})-(.+)-\d+\.asff\.json", name).groups()
        assert 1 <= len(findings) <= 100
        assert {f["AwsAccountId"] for f in findings} == {account}
        assert {f["ProductArn"] for f in findings} == {
            f"arn:aws:securityhub:{region}:{account}:product/{account}/default"
        }
        assert not batch_import_errors(findings)
        assert (f"aws securityhub batch-import-findings --region {region} "
                f"--findings file://{name}") in script
        total += len(findings)
    assert total == sum(count for *_, count in GENERATED)
    # The script imports only the files of the account whose credentials run it.
    assert "aws sts get-caller-identity --query Account --output text" in script
    assert script.index("  111111111111)") < script.index("111111111111-us-east-1-2") \
        < script.index("  222222222222)")


def test_a_second_split_replaces_the_first_and_nothing_else(stored_run, cli, tmp_path):
    folder = tmp_path / "findings"
    folder.mkdir()
    (folder / "999999999999-us-west-2-1.asff.json").write_text("[]")  # an earlier split's
    (folder / "notes.txt").write_text("mine")
    result = cli("results", "--db", stored_run, "--asff-split", str(folder),
                 "--account", "222222222222")
    assert result.exit_code == 1
    assert sorted(p.name for p in folder.iterdir()) == [
        "222222222222-eu-west-1-1.asff.json", "import.sh", "notes.txt",
    ]


def test_split_into_something_that_is_not_a_folder(stored_run, cli, tmp_path):
    target = tmp_path / "file"
    target.write_text("")
    result = cli("results", "--db", stored_run, "--asff-split", str(target))
    assert result.exit_code == 2
    assert f"cannot write findings into {target}: it is not a folder" in result.stderr


def test_check_splits_its_own_findings_by_region(db, cli, tmp_path):
    folder = tmp_path / "findings"
    result = cli("check", "--db", db, "--control", CONFIG_CONTROL, "--format", "json", "--asff-split", str(folder))
    assert result.exit_code == 1, result.stderr
    assert len(json.loads(result.stdout)) == 3  # the requested format still goes to stdout
    assert sorted(p.name for p in folder.glob("*.asff.json")) == [
        "123456789012-us-east-1-1.asff.json", "222222222222-us-east-1-1.asff.json",
        "333333333333-eu-west-1-1.asff.json",
    ]
