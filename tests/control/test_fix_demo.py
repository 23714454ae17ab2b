"""The fixes of the whole demo estate: every NON_COMPLIANT result of the demo's
organisation, its plan applied through boto3 to the moto accounts (steps as
`check --format json` carries them), re-collected and re-checked, is COMPLIANT."""

from __future__ import annotations

import json

import pytest
from clirun import run_cli

from cfgmon.demo import DEMO_ACCOUNTS, REGIONS, build_family
from cfgmon.simulation import Seeder
from cfgmon.simulation.organization import create_organization

from .test_fix_applied import apply_as


def _collect_and_check(aws, db: str) -> list[dict]:
    regions = [arg for region in REGIONS for arg in ("--region", region)]
    collected = run_cli("collect", "--db", db, "--endpoint-url", aws.endpoint, "--organization",
                        *regions)
    assert collected.exit_code == 0, collected.stderr
    checked = run_cli("check", "--db", db, "--format", "json")
    assert checked.exit_code in (0, 1), checked.stderr
    return json.loads(checked.stdout)


@pytest.mark.slow
def test_every_planned_fix_of_the_demo_estate_makes_it_compliant(aws, tmp_path, monkeypatch):
    management, *members = (account.account_id for account in DEMO_ACCOUNTS)
    create_organization(aws, management, members)
    for account in DEMO_ACCOUNTS:
        seeder = Seeder(aws, account.account_id)
        build_family(seeder, account, account.build(seeder))
    # cfgmon runs as the management account, as the demo does
    for name, value in aws.account_credentials(management).items():
        monkeypatch.setenv(name.upper(), value)
    db = str(tmp_path / "demo.duckdb")

    before = _collect_and_check(aws, db)
    failing = [r for r in before if r["status"] == "NON_COMPLIANT"]
    assert len(failing) > 20  # the demo's half-done and trap accounts
    for result in failing:
        assert result["remediation"]["steps"], (result["account_id"], result["control_id"],
                                                result["reason"])
        apply_as(aws, result["remediation"]["steps"])

    after = {(r["control_id"], r["account_id"]): r for r in _collect_and_check(aws, db)}
    still = [(r["control_id"], r["account_id"], after[r["control_id"], r["account_id"]]["reason"])
             for r in failing
             if after[r["control_id"], r["account_id"]]["status"] != "COMPLIANT"]
    assert not still, still
