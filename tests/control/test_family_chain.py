"""Every control of the family on the shared chain, through a real moto server: the
reference pattern of its newest CIS version, applied verbatim, is COMPLIANT; the same
chain with one event dropped from the pattern is NON_COMPLIANT and names that event.

One account holds every verbatim chain, another every narrowed one; both are
management accounts of their own organisations, so the Organizations control applies.
One collection and one check serve every control.
"""

from __future__ import annotations

import json
import re

import duckdb
import pytest
from clirun import run_cli

from cfgmon.controls import latest_versions, load_catalogue
from cfgmon.simulation import Seeder

from .conftest import LATEST

VERBATIM, NARROWED, STANDALONE = "111111111111", "222222222222", "333333333333"
OWN_TRAIL = "444444444444"
REGION = "us-east-1"
CHAINED = [v for v in latest_versions() if v.chain]


def narrowed(pattern: str, version) -> tuple[str, str]:
    """The pattern without its clause for one listed event, and that event's name; for a
    control not defined by event names, the pattern excluding one catalogue record."""
    for name in version.control.event_names:
        clause = re.compile(r'\(\s*\$\.eventName\s*=\s*"?' + name + r'"?\s*\)\s*\|\|\s*')
        if clause.search(pattern):
            return clause.sub("", pattern, count=1), name
    record = version.matches[0]
    inner = pattern.strip()[1:-1]
    return '{ (' + inner + ') && ($.eventID != "' + record.record["eventID"] + '") }', record.event_name


@pytest.fixture(scope="module")
def family_results(aws_module, tmp_path_factory):
    aws = aws_module
    dropped = {}
    for account in (VERBATIM, NARROWED):
        seeder = Seeder(aws, account)
        seeder.client("organizations", REGION).create_organization(FeatureSet="ALL")
        for i, version in enumerate(CHAINED):
            reference = version.control.reference_for()
            pattern = reference
            if account == NARROWED:
                pattern, dropped[version.control.id] = narrowed(reference, version)
            # Organizations changes of members reach the management account's log
            # group through an organisation trail only
            seeder.chain(REGION, prefix=f"c{i}", pattern=pattern,
                         organization_trail=version.control.applies_to == "management_account")
    # An account in no organisation, with the Organizations chain verbatim.
    organizations = next(v for v in CHAINED if v.control.applies_to == "management_account")
    Seeder(aws, STANDALONE).chain(REGION, pattern=organizations.control.reference_for())
    # a management account whose trail is not an organisation trail
    Seeder(aws, OWN_TRAIL).client("organizations", REGION).create_organization(FeatureSet="ALL")
    Seeder(aws, OWN_TRAIL).chain(REGION, pattern=organizations.control.reference_for())
    db = tmp_path_factory.mktemp("family") / "family.duckdb"
    collected = run_cli("collect", "--db", str(db), "--endpoint-url", aws.endpoint,
                        "--region", REGION, "--account", VERBATIM, "--account", NARROWED,
                        "--account", STANDALONE, "--account", OWN_TRAIL)
    assert collected.exit_code == 0, collected.stderr
    checked = run_cli("check", "--db", str(db), "--format", "json")
    assert checked.exit_code in (0, 1), checked.stderr
    results = {(r["control_id"], r["account_id"]): r for r in json.loads(checked.stdout)}
    # The same account, had DescribeOrganization been refused: its organisation unknown.
    con = duckdb.connect(str(db))
    con.execute("UPDATE cfgmon_account SET organization_known = FALSE WHERE account_id = ?",
                [STANDALONE])
    con.close()
    unknown = json.loads(run_cli("check", "--db", str(db), "--format", "json", "--control",
                                 organizations.control.id).stdout)
    results |= {(r["control_id"], "unknown:" + r["account_id"]): r for r in unknown}
    results["table"] = run_cli("check", "--db", str(db)).stdout  # STANDALONE's organisation unknown
    results["db"] = db
    return results, dropped


def test_a_member_is_not_applicable_even_uncollected_and_however_old(family_results, tmp_path):
    results, _ = family_results
    control = next(v for v in CHAINED if v.control.applies_to == "management_account").control
    db = tmp_path / "member.duckdb"
    db.write_bytes(results["db"].read_bytes())
    con = duckdb.connect(str(db))
    # NARROWED as a member of VERBATIM's organisation whose role could not be assumed,
    # its rows from three days ago
    con.execute("UPDATE cfgmon_account SET status = 'error', error_code = 'AccessDenied', "
                "organization_id = 'o-example', management_account_id = ? WHERE account_id = ?",
                [VERBATIM, NARROWED])
    con.execute("UPDATE cfgmon_collection SET last_success_at = last_success_at - INTERVAL 3 DAY")
    con.close()
    checked = run_cli("check", "--db", str(db), "--format", "json", "--control", control.id,
                      "--max-age", "1d", "--account", NARROWED)
    [member] = json.loads(checked.stdout)
    assert member["status"] == "NOT_APPLICABLE", member["reason"]
    assert member["reason"] == (
        f"account {NARROWED} is a member of organisation o-example; this control applies to "
        f"its management account {VERBATIM}")
    assert checked.exit_code == 0


def test_the_table_ends_with_a_summary_per_control(family_results):
    results, _ = family_results
    lines = results["table"].splitlines()
    assert f"  5.9 config_configuration_changes_monitoring@{LATEST}: 1 passed, 3 failed, 0 insufficient, " \
           "0 not applicable (4 accounts)" in lines
    organizations = load_catalogue()["organizations_changes_monitoring"].latest.version
    assert f"  5.15 organizations_changes_monitoring@{organizations}: 1 passed, 2 failed, 1 insufficient, " \
           "0 not applicable (4 accounts)" in lines


def test_organizations_changes_apply_to_management_accounts_only(family_results):
    results, _ = family_results
    control = next(v for v in CHAINED if v.control.applies_to == "management_account").control
    outside = results[(control.id, STANDALONE)]
    assert outside["status"] == "NOT_APPLICABLE"
    assert outside["reason"] == (
        f"account {STANDALONE} is in no organisation; this control applies to the management "
        "account of an organisation")
    unknown = results[(control.id, f"unknown:{STANDALONE}")]
    assert unknown["status"] == "INSUFFICIENT_DATA"
    assert "could not be collected (DescribeOrganization)" in unknown["reason"]
    own_trail = results[(control.id, OWN_TRAIL)]
    assert own_trail["status"] == "NON_COMPLIANT"
    assert own_trail["reason"].endswith(
        "(it is not an organisation trail, so it records no member account's events)")
    # every other control judges the account as usual
    assert results[("config_configuration_changes_monitoring", STANDALONE)]["status"] == "NON_COMPLIANT"


@pytest.mark.parametrize("version", CHAINED, ids=[v.control.id for v in CHAINED])
def test_the_cis_remediation_verbatim_is_compliant(family_results, version):
    results, _ = family_results
    result = results[(version.control.id, VERBATIM)]
    assert result["status"] == "COMPLIANT", result["reason"]


@pytest.mark.parametrize("version", CHAINED, ids=[v.control.id for v in CHAINED])
def test_one_event_dropped_is_non_compliant_and_named(family_results, version):
    results, dropped = family_results
    result = results[(version.control.id, NARROWED)]
    assert result["status"] == "NON_COMPLIANT", result["reason"]
    assert f"covering all {len(version.control.event_names) or len(version.matches)} " \
           f"{version.control.event_noun}" in result["reason"]
    assert dropped[version.control.id] in result["evidence"]["missed_events"]
