"""Faults injected for real, by a proxy between cfgmon and the moto server.

Denied calls, throttling, server errors, dropped connections, timeouts and
unparseable bodies each end in a recorded scope error or a retried success; the
rest of the run completes and nothing stored earlier is lost.
"""

from __future__ import annotations

import re

import boto3
import pytest

from cfgmon.aws import AccountTarget, ClientFactory, caller_target, collect
from cfgmon.simulation import DEFAULT_ACCOUNT, Seeder
from cfgmon.store import open_database

from .fault_proxy import Fault
from .faultrun import check_cli, collect_cli, rows, scope_statuses

OTHER_ACCOUNT = "222222222222"
HOME, ELSEWHERE = "eu-west-1", "us-east-1"


def collect_accounts(proxy, aws, db, regions, *accounts: str):
    """Collect moto's default account and `accounts` (by assumed role) through the proxy."""
    clients = ClientFactory(endpoint_url=proxy.url)
    targets = [caller_target(boto3.Session(region_name="us-east-1"), clients)]
    targets += [AccountTarget(a, aws.session(a), "assumed-role") for a in accounts]
    con = open_database(db)
    try:
        return collect(con, targets, clients=clients, regions=regions)
    finally:
        con.close()


def by_account(results: list[dict]) -> dict[str, dict]:
    return {r["account_id"]: r for r in results}


def test_access_denied_on_one_service_in_one_region(aws, proxy, db, fast_retries):
    mine = Seeder(aws).chain(HOME)
    Seeder(aws, OTHER_ACCOUNT).chain(HOME)
    denied = proxy.add(Fault("access_denied", service="logs", region=HOME,
                             access_key=aws.credentials["aws_access_key_id"]))

    report = collect_accounts(proxy, aws, db, [HOME, ELSEWHERE], OTHER_ACCOUNT)

    assert report.partial
    assert denied.hits == 1  # a denial is not retried
    failed = {k: s for k, s in scope_statuses(db).items() if s != "ok"}
    assert failed == {(DEFAULT_ACCOUNT, HOME, "logs"): "error"}
    assert len(scope_statuses(db)) == 2 * 2 * 4
    [record] = rows(db, "SELECT error_code, error_operation, error_message, last_success_at "
                        "FROM cfgmon_collection WHERE status = 'error'")
    assert (record["error_code"], record["error_operation"]) == (
        "AccessDeniedException", "DescribeLogGroups")
    assert "not authorized to perform: logs:DescribeLogGroups" in record["error_message"]
    assert record["last_success_at"] is None
    # The other account's identical scope was collected.
    assert rows(db, "SELECT account_id FROM aws_cloudwatch_log_group") == [
        {"account_id": OTHER_ACCOUNT}]

    results = by_account(check_cli(db))
    assert results[OTHER_ACCOUNT]["status"] == "COMPLIANT"
    mine_result = results[DEFAULT_ACCOUNT]
    assert mine_result["status"] == "INSUFFICIENT_DATA"
    assert mine_result["reason"] == (
        f"trail {mine.trail_arn} delivers to log group {mine.log_group_arn.removesuffix(':*')}, "
        f"but CloudWatch Logs of account {DEFAULT_ACCOUNT} in {HOME} was not collected "
        "(DescribeLogGroups: AccessDeniedException)"
    )


def test_access_denied_does_not_hide_a_compliant_chain_elsewhere(aws, proxy, db, fast_retries):
    Seeder(aws).chain(HOME)
    elsewhere = Seeder(aws).chain(ELSEWHERE, prefix="backup")
    proxy.add(Fault("access_denied", service="logs", region=HOME))

    report = collect_accounts(proxy, aws, db, [HOME, ELSEWHERE])

    assert [(o.scope.region, o.scope.service) for o in report.outcomes if o.status == "error"] == [
        (HOME, "logs")]
    [result] = check_cli(db)
    assert result["status"] == "COMPLIANT"
    assert elsewhere.alarm_arn in result["reason"]


def test_access_denied_on_cloudtrail_names_the_call_and_region(aws, proxy, db, fast_retries):
    Seeder(aws).chain(HOME)
    proxy.add(Fault("access_denied", service="cloudtrail", region=HOME))

    result = collect_cli(proxy.url, db, HOME)

    assert result.exit_code == 1, result.stderr
    [verdict] = check_cli(db)
    assert verdict["status"] == "INSUFFICIENT_DATA"
    assert verdict["reason"] == (
        f"CloudTrail could not be collected in {HOME} (DescribeTrails: AccessDeniedException), "
        "so a trail there may be missing; best chain found: no CloudTrail trail applies to the "
        "account"
    )


def test_throttling_is_retried_and_then_collected(aws, proxy, db):
    # cfgmon's own retry policy (adaptive, several attempts), not the fast test one.
    chain = Seeder(aws).chain(HOME)
    throttle = proxy.add(Fault("throttle", operation="DescribeAlarms", region=HOME, times=2))

    result = collect_cli(proxy.url, db, HOME)

    assert result.exit_code == 0, result.stderr
    assert throttle.hits == 2
    assert proxy.count(operation="DescribeAlarms", region=HOME) == 3
    assert proxy.count(operation="DescribeAlarms", region=HOME, outcome="forwarded") == 1
    assert set(scope_statuses(db).values()) == {"ok"}
    assert rows(db, "SELECT arn FROM aws_cloudwatch_alarm") == [{"arn": chain.alarm_arn}]
    # Retries of one call are not counted as calls of their own.
    [record] = rows(db, "SELECT api_calls FROM cfgmon_collection WHERE service = 'cloudwatch'")
    assert record["api_calls"] == 1
    [verdict] = check_cli(db)
    assert verdict["status"] == "COMPLIANT"


PERSISTENT_FAULTS = {
    # kind: (error_code recorded, requests the proxy sees with AWS_MAX_ATTEMPTS=2)
    "http500": ("InternalFailure", 2),
    "drop": ("ConnectionClosedError", 2),
    "timeout": ("ReadTimeoutError", 2),
    "malformed": ("MalformedResponseError", 1),  # a 200 is not retried: the body is refused
}


@pytest.mark.parametrize("kind", PERSISTENT_FAULTS)
def test_a_persistent_fault_keeps_earlier_rows_and_the_run_completes(
    aws, proxy, db, fast_retries, monkeypatch, kind
):
    Seeder(aws).chain(HOME)
    first = collect_cli(proxy.url, db, HOME, ELSEWHERE)
    assert first.exit_code == 0, first.stderr
    before = rows(db, "SELECT * FROM cfgmon_collection WHERE region = ? AND service = 'logs'", [HOME])[0]
    groups = rows(db, "SELECT * FROM aws_cloudwatch_log_group ORDER BY arn")
    filters = rows(db, "SELECT * FROM aws_cloudwatch_log_metric_filter ORDER BY name")
    assert groups and filters
    if kind == "timeout":
        monkeypatch.setenv("CFGMON_READ_TIMEOUT", "1")
    # DescribeLogGroups still answers: a scope half fetched must not be half written.
    fault = proxy.add(Fault(kind, operation="DescribeMetricFilters", region=HOME, seconds=5))

    result = collect_cli(proxy.url, db, HOME, ELSEWHERE)

    code, attempts = PERSISTENT_FAULTS[kind]
    assert result.exit_code == 1, result.stderr
    assert "7 ok, 1 failed, 0 skipped" in result.stderr
    assert f"  error: {HOME} logs (DescribeMetricFilters): {code}: " in result.stderr
    assert "Traceback" not in result.stderr
    assert fault.hits == attempts
    after = rows(db, "SELECT * FROM cfgmon_collection WHERE region = ? AND service = 'logs'", [HOME])[0]
    assert (after["status"], after["error_code"], after["error_operation"]) == (
        "error", code, "DescribeMetricFilters")
    assert after["last_success_at"] == before["last_success_at"]
    assert after["started_at"] > before["started_at"]
    assert rows(db, "SELECT * FROM aws_cloudwatch_log_group ORDER BY arn") == groups
    assert rows(db, "SELECT * FROM aws_cloudwatch_log_metric_filter ORDER BY name") == filters
    others = rows(db, "SELECT status, last_success_at FROM cfgmon_collection "
                      "WHERE NOT (region = ? AND service = 'logs')", [HOME])
    assert len(others) == 7
    assert all(o["status"] == "ok" and o["last_success_at"] > before["last_success_at"]
               for o in others)
    # The kept rows still complete the chain; the record says how old they are.
    [verdict] = check_cli(db)
    assert verdict["status"] == "COMPLIANT"


def test_a_region_not_enabled_is_skipped_and_recorded_without_a_call(aws, proxy, db):
    result = collect_cli(proxy.url, db, HOME, "ap-east-1")  # moto: ap-east-1 is not opted in

    assert result.exit_code == 0, result.stderr
    assert "4 ok, 0 failed, 4 skipped" in result.stderr
    assert proxy.count(region="ap-east-1") == 0
    assert proxy.count(region=HOME) > 0
    skipped = rows(db, "SELECT service, status, error_code, error_message FROM cfgmon_collection "
                       "WHERE region = 'ap-east-1' ORDER BY service")
    assert [s["service"] for s in skipped] == ["cloudtrail", "cloudwatch", "logs", "sns"]
    assert {(s["status"], s["error_code"]) for s in skipped} == {("skipped", "RegionNotEnabled")}
    assert skipped[0]["error_message"] == (
        f"region ap-east-1 is not enabled in account {DEFAULT_ACCOUNT} (not-opted-in)")


@pytest.mark.parametrize("service, call, code, words", [
    ("monitoring", "DescribeAlarms", "AccessDenied", "CloudWatch alarms of account"),
    ("sns", "ListTopics", "AuthorizationError", "whose account and region were not collected"),
])
def test_access_denied_further_down_the_chain_names_the_call_and_region(
    aws, proxy, db, fast_retries, service, call, code, words
):
    Seeder(aws).chain(HOME)
    proxy.add(Fault("access_denied", service=service, region=HOME))

    result = collect_cli(proxy.url, db, HOME)

    assert result.exit_code == 1, result.stderr
    [verdict] = check_cli(db)
    assert verdict["status"] == "INSUFFICIENT_DATA"
    assert words in verdict["reason"] and HOME in verdict["reason"]
    assert verdict["reason"].endswith(f" ({call}: {code})")


@pytest.mark.parametrize(
    ("chain_options", "service", "broken"),
    [
        ({"threshold": 5}, "monitoring", "does not go into ALARM on a single event"),
        ({"metric_value": "0"}, "logs", "not a positive number"),
        ({"subscriptions": ()}, "sns", "has no confirmed subscription"),
    ],
)
def test_rows_kept_from_an_earlier_run_never_decide_non_compliant(
    aws, proxy, db, fast_retries, chain_options, service, broken
):
    Seeder(aws).chain(HOME, **chain_options)
    collect_accounts(proxy, aws, db, [HOME])
    [before] = check_cli(db)
    assert before["status"] == "NON_COMPLIANT" and broken in before["reason"]

    # The next run cannot read the scope that decided it: its old rows stay, but
    # they no longer prove anything about now.
    proxy.add(Fault("access_denied", service=service, region=HOME))
    collect_accounts(proxy, aws, db, [HOME])
    [after] = check_cli(db)
    assert after["status"] == "INSUFFICIENT_DATA"
    assert broken in after["reason"]
    assert ", but only from an earlier collection: the latest collection of " in after["reason"]
    assert re.search(r"failed \((Describe|List)\w+: (AccessDenied\w*|AuthorizationError)\)$",
                     after["reason"]), after["reason"]
