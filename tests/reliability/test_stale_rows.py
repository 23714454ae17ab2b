"""Verdicts that rest on rows kept from an earlier collection say so, and `--max-age`
refuses to decide on rows older than the user allows."""

from __future__ import annotations

import json
import re

import duckdb
import pytest
from clirun import run_cli

from cfgmon.simulation import DEFAULT_ACCOUNT, Seeder

from .fault_proxy import Fault
from .faultrun import check_cli, collect_cli

# These tests are about one control; `check` alone runs the whole family.
CONFIG_CONTROL = "config_configuration_changes_monitoring"

HOME = "eu-west-1"


@pytest.mark.parametrize(
    ("proxied", "service", "code"),
    [("logs", "logs", "AccessDeniedException"), ("sns", "sns", "AuthorizationError"),
     ("monitoring", "cloudwatch", "AccessDenied")],
)
def test_a_compliant_chain_resting_on_kept_rows_says_when_they_were_collected(
    aws, proxy, db, fast_retries, proxied, service, code
):
    Seeder(aws).chain(HOME)
    assert collect_cli(proxy.url, db, HOME).exit_code == 0
    [fresh] = check_cli(db)
    assert fresh["status"] == "COMPLIANT" and "as collected at" not in fresh["reason"]
    assert "stale_since" not in fresh["evidence"]

    # The next collection of one scope of the chain is refused: its rows stay.
    proxy.add(Fault("access_denied", service=proxied, region=HOME))
    assert collect_cli(proxy.url, db, HOME).exit_code == 1
    [kept] = check_cli(db)
    assert kept["status"] == "COMPLIANT"
    match = re.search(
        r" \(as collected at (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC; the latest collection of "
        rf"{service} in {HOME} failed: ([\w]+)\)$", kept["reason"])
    assert match, kept["reason"]
    assert match.group(2).startswith(code)
    assert kept["evidence"]["stale_since"].startswith(match.group(1).replace(" ", "T"))
    assert kept["evidence"]["stale_scope"] == f"{service} in account {DEFAULT_ACCOUNT} region {HOME}"


def test_max_age_turns_verdicts_on_old_rows_into_insufficient_data(aws, db):
    Seeder(aws).chain(HOME)
    assert collect_cli(aws.endpoint, db, HOME).exit_code == 0
    # Three days pass for the SNS scope: its rows are dated back, as if collected then.
    con = duckdb.connect(str(db))
    con.execute("UPDATE cfgmon_collection SET last_success_at = last_success_at - INTERVAL 3 DAY "
                "WHERE service = 'sns'")
    con.close()

    within = run_cli("check", "--db", str(db), "--control", CONFIG_CONTROL, "--format", "json", "--max-age", "7d")
    assert within.exit_code == 0, within.stderr

    too_old = run_cli("check", "--db", str(db), "--control", CONFIG_CONTROL, "--format", "json", "--max-age", "2d")
    assert too_old.exit_code == 1
    [verdict] = json.loads(too_old.stdout)
    assert verdict["status"] == "INSUFFICIENT_DATA"
    assert verdict["reason"].startswith(
        f"the inventory is older than --max-age 2d: sns in account {DEFAULT_ACCOUNT} region "
        f"{HOME} was collected at ")
    assert re.search(r"UTC, 3d( \d+[hms])? ago; as collected then: COMPLIANT: trail ",
                     verdict["reason"]), verdict["reason"]
    assert verdict["evidence"]["status_as_collected"] == "COMPLIANT"
    assert verdict["evidence"]["max_age"] == "2d"


@pytest.mark.parametrize("spec", ["2x", "0h", "-1d", "", "7 days"])
def test_a_max_age_that_is_no_duration_is_refused(aws, db, spec):
    Seeder(aws).chain(HOME)
    assert collect_cli(aws.endpoint, db, HOME).exit_code == 0
    result = run_cli("check", "--db", str(db), "--control", CONFIG_CONTROL, "--max-age", spec)
    assert result.exit_code == 2
    assert result.stderr.startswith("cfgmon: error: --max-age") and "Traceback" not in result.stderr
