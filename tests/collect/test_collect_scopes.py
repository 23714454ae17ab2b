"""The scope rule: a scope is replaced whole on success and left alone on failure."""

from __future__ import annotations

import socket

from botocore.config import Config
from botocore.stub import Stubber
from collect_scenario import FIRST, SECOND

from cfgmon.aws import ClientFactory

INVENTORY_TABLES = (
    "aws_cloudtrail_trail", "aws_cloudtrail_trail_event_selector",
    "aws_cloudtrail_trail_advanced_event_selector", "aws_cloudtrail_trail_advanced_field_selector",
    "aws_cloudwatch_log_group", "aws_cloudwatch_log_metric_filter",
    "aws_cloudwatch_log_metric_filter_dimension", "aws_cloudwatch_alarm",
    "aws_cloudwatch_alarm_action", "aws_cloudwatch_alarm_dimension",
    "aws_cloudwatch_alarm_metric", "aws_cloudwatch_alarm_metric_dimension",
    "aws_sns_topic", "aws_sns_topic_subscription", "cfgmon_collection", "cfgmon_account",
)


def counts(query) -> dict[str, int]:
    return {t: query(f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in INVENTORY_TABLES}


def by_region(query, table: str) -> dict[str, int]:
    rows = query(f"SELECT region, count(*) AS n FROM {table} GROUP BY region")
    return {r["region"]: r["n"] for r in rows}


def test_collecting_again_never_duplicates_rows(world, run_collect, query):
    run_collect()
    first = counts(query)
    assert all(first[t] > 0 for t in INVENTORY_TABLES)
    run_collect()
    assert counts(query) == first


def test_collecting_one_region_leaves_the_others_rows(world, run_collect, query):
    run_collect()
    before = {r["region"]: r["last_success_at"] for r in query(
        "SELECT region, max(last_success_at) AS last_success_at FROM cfgmon_collection GROUP BY region")}
    topics_before = by_region(query, "aws_sns_topic")
    # A change in SECOND only: a new topic appears.
    world.seeder.topic(SECOND, "late")

    report = run_collect(regions=[SECOND])

    assert {o.scope.region for o in report.outcomes} == {SECOND}
    after = {r["region"]: r["last_success_at"] for r in query(
        "SELECT region, max(last_success_at) AS last_success_at FROM cfgmon_collection GROUP BY region")}
    assert after[FIRST] == before[FIRST]
    assert after[SECOND] > before[SECOND]
    assert by_region(query, "aws_sns_topic") == {FIRST: topics_before[FIRST],
                                                 SECOND: topics_before[SECOND] + 1}
    # The FIRST-region trail stays; the shadow trail from an uncollected home is refreshed.
    trails = {r["name"]: r for r in query("SELECT name, collected_at FROM aws_cloudtrail_trail")}
    assert set(trails) == {"main-trail", "local-trail", "far-trail"}
    assert trails["far-trail"]["collected_at"] == trails["main-trail"]["collected_at"]
    assert trails["local-trail"]["collected_at"] < trails["main-trail"]["collected_at"]


def test_a_deleted_resource_disappears_with_its_child_rows(world, run_collect, query):
    run_collect()
    world.seeder.client("cloudwatch", FIRST).delete_alarms(AlarmNames=["math"])
    run_collect()
    assert not query("SELECT * FROM aws_cloudwatch_alarm WHERE name = 'math'")
    assert not query("SELECT * FROM aws_cloudwatch_alarm_metric")
    assert not query("SELECT * FROM aws_cloudwatch_alarm_metric_dimension")


class ThrottledMetricFilters(ClientFactory):
    """CloudWatch Logs in one region answers DescribeLogGroups, then throttles."""

    def _new_client(self, session, service, region):
        client = super()._new_client(session, service, region)
        if (service, region) == ("logs", SECOND):
            stubber = Stubber(client)
            stubber.add_response("describe_log_groups", {"logGroups": []})
            stubber.add_client_error(
                "describe_metric_filters", service_error_code="ThrottlingException",
                service_message="Rate exceeded", http_status_code=400,
            )
            stubber.activate()
        return client


def test_a_failed_scope_keeps_its_earlier_rows_and_records_the_error(
    aws, world, run_collect, query
):
    run_collect()
    good = query("SELECT * FROM cfgmon_collection WHERE region = ? AND service = 'logs'", [SECOND])[0]
    groups_before = query("SELECT * FROM aws_cloudwatch_log_group WHERE region = ?", [SECOND])
    filters_before = query("SELECT * FROM aws_cloudwatch_log_metric_filter WHERE region = ?", [SECOND])
    assert groups_before and filters_before

    report = run_collect(clients=ThrottledMetricFilters(endpoint_url=aws.endpoint))

    failed = [o for o in report.outcomes if o.status != "ok"]
    assert [(o.scope.region, o.scope.service) for o in failed] == [(SECOND, "logs")]
    record = query("SELECT * FROM cfgmon_collection WHERE region = ? AND service = 'logs'", [SECOND])[0]
    assert record["status"] == "error"
    assert (record["error_code"], record["error_message"], record["error_operation"]) == (
        "ThrottlingException", "Rate exceeded", "DescribeMetricFilters",
    )
    assert record["api_calls"] == 2
    assert record["last_success_at"] == good["last_success_at"]
    assert record["started_at"] > good["started_at"]
    # The empty DescribeLogGroups page was not written: the scope's rows are untouched.
    assert query("SELECT * FROM aws_cloudwatch_log_group WHERE region = ?", [SECOND]) == groups_before
    assert query("SELECT * FROM aws_cloudwatch_log_metric_filter WHERE region = ?", [SECOND]) == filters_before
    # Every other scope succeeded again.
    assert query("SELECT count(*) AS n FROM cfgmon_collection WHERE status = 'ok'") == [{"n": 7}]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class UnreachableRegion(ClientFactory):
    """Every inventory service of one region points at a port nobody listens on."""

    def __init__(self, *, region: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.region = region
        self.dead_endpoint = f"http://127.0.0.1:{closed_port()}"

    def _new_client(self, session, service, region):
        if region == self.region and service in ("cloudtrail", "logs", "cloudwatch", "sns"):
            return session.client(
                service, region_name=region, endpoint_url=self.dead_endpoint,
                config=Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=2),
            )
        return super()._new_client(session, service, region)


def test_an_unreachable_region_is_recorded_not_fatal(aws, world, run_collect, query):
    run_collect()
    trails_before = query("SELECT arn, collected_at FROM aws_cloudtrail_trail WHERE region = ?", [FIRST])

    report = run_collect(clients=UnreachableRegion(region=FIRST, endpoint_url=aws.endpoint))

    statuses = {(o.scope.region, o.scope.service): o.status for o in report.outcomes}
    assert {s for (r, _), s in statuses.items() if r == FIRST} == {"error"}
    assert {s for (r, _), s in statuses.items() if r == SECOND} == {"ok"}
    errors = query("SELECT service, error_code, error_operation FROM cfgmon_collection "
                   "WHERE region = ? ORDER BY service", [FIRST])
    assert {e["error_code"] for e in errors} == {"EndpointConnectionError"}
    assert {e["service"]: e["error_operation"] for e in errors} == {
        "cloudtrail": "DescribeTrails", "cloudwatch": "DescribeAlarms",
        "logs": "DescribeLogGroups", "sns": "ListTopics",
    }
    assert query("SELECT arn, collected_at FROM aws_cloudtrail_trail WHERE region = ?", [FIRST]) == trails_before


def test_a_region_not_enabled_is_skipped_without_calls(world, run_collect, query):
    report = run_collect(regions=[SECOND, "ap-east-1"])  # moto: ap-east-1 is not-opted-in
    skipped = [o for o in report.outcomes if o.status == "skipped"]
    assert {o.scope.service for o in skipped} == {"cloudtrail", "logs", "cloudwatch", "sns"}
    assert all(o.scope.region == "ap-east-1" and o.api_call_total == 0 for o in skipped)
    rows = query("SELECT status, error_code, error_message, api_calls, last_success_at "
                 "FROM cfgmon_collection WHERE region = 'ap-east-1'")
    assert len(rows) == 4
    assert {(r["status"], r["error_code"], r["api_calls"], r["last_success_at"]) for r in rows} == {
        ("skipped", "RegionNotEnabled", 0, None)
    }
    assert "not enabled" in rows[0]["error_message"]
    assert report.regions[report.accounts[0]] == (SECOND,)


def test_several_accounts_are_collected_side_by_side(aws, db_path, query):
    import boto3

    from cfgmon.aws import AccountTarget, collect
    from cfgmon.simulation import Seeder
    from cfgmon.store import open_database

    other = "210987654321"
    Seeder(aws).topic(FIRST, "mine")
    seeder = Seeder(aws, other)
    seeder.topic(FIRST, "theirs")
    targets = [
        AccountTarget("123456789012", boto3.Session(region_name=FIRST)),
        AccountTarget(other, boto3.Session(region_name=FIRST, **seeder.credentials), "assumed-role"),
    ]
    con = open_database(db_path)
    try:
        report = collect(con, targets, clients=ClientFactory(endpoint_url=aws.endpoint),
                         regions=[FIRST], services=["sns"])
    finally:
        con.close()
    assert report.count("ok") == 2
    assert query("SELECT account_id, name FROM aws_sns_topic ORDER BY account_id") == [
        {"account_id": "123456789012", "name": "mine"}, {"account_id": other, "name": "theirs"},
    ]
    assert query("SELECT account_id, source FROM cfgmon_account ORDER BY account_id") == [
        {"account_id": "123456789012", "source": "caller"}, {"account_id": other, "source": "assumed-role"},
    ]
