"""What `collect` writes for a seeded two-region account, row by row, and the calls it makes."""

from __future__ import annotations

import json
import os

from collect_scenario import (
    ADVANCED_SELECTORS,
    FIRST,
    MULTI_LINE_PATTERN,
    QUOTED_PATTERN,
    SECOND,
    UNCOLLECTED,
)

from cfgmon.simulation import DEFAULT_ACCOUNT

ACCOUNT = DEFAULT_ACCOUNT


def test_every_scope_succeeds_and_is_recorded(collected):
    report, query = collected.report, collected.query
    assert report.accounts == [ACCOUNT]
    assert report.regions[ACCOUNT] == (FIRST, SECOND)
    assert {(o.scope.region, o.scope.service, o.status) for o in report.outcomes} == {
        (region, service, "ok")
        for region in (FIRST, SECOND)
        for service in ("cloudtrail", "logs", "cloudwatch", "sns")
    }
    rows = query("SELECT * FROM cfgmon_collection ORDER BY region, service")
    assert len(rows) == 8
    for row in rows:
        assert row["status"] == "ok" and row["error_code"] is None
        assert row["last_success_at"] == row["finished_at"]
        assert row["api_calls"] >= 1
    accounts = query("SELECT account_id, source, status FROM cfgmon_account")
    assert accounts == [{"account_id": ACCOUNT, "source": "caller", "status": "ok"}]


def test_trails_are_stored_once_in_their_home_region(collected):
    world, query = collected.world, collected.query
    trails = {r["name"]: r for r in query("SELECT * FROM aws_cloudtrail_trail")}
    assert set(trails) == {"main-trail", "local-trail", "far-trail"}

    main = trails["main-trail"]
    assert main["arn"] == world.main.trail_arn
    assert (main["region"], main["home_region"]) == (SECOND, SECOND)
    assert main["is_multi_region_trail"] is True and main["is_logging"] is True
    assert main["owner_account_id"] == ACCOUNT
    assert main["cloud_watch_logs_log_group_arn"] == world.main.log_group_arn
    assert (main["log_group_account_id"], main["log_group_region"], main["log_group_name"]) == (
        ACCOUNT, SECOND, "main-cloudtrail-logs",
    )
    assert main["event_selectors_collected"] is True and main["detail_error"] is None
    assert json.loads(main["advanced_event_selectors"]) == ADVANCED_SELECTORS
    assert json.loads(main["raw"])["TrailARN"] == world.main.trail_arn
    assert json.loads(main["status"])["IsLogging"] is True

    local = trails["local-trail"]
    assert (local["region"], local["is_multi_region_trail"]) == (FIRST, False)
    assert local["is_logging"] is False
    assert local["stop_logging_time"] is not None
    assert local["log_group_name"] == "local-logs"

    # Seen only as a shadow from the collected regions, fetched from its home region:
    # moto answers GetEventSelectors only there, so collected selectors prove it.
    far = trails["far-trail"]
    assert (far["region"], far["home_region"]) == (UNCOLLECTED, UNCOLLECTED)
    assert far["event_selectors_collected"] is True and far["detail_error"] is None
    assert far["is_logging"] is True
    assert far["cloud_watch_logs_log_group_arn"] is None and far["log_group_name"] is None


def test_event_selectors_have_child_rows(collected):
    world, query = collected.world, collected.query
    basic = query(
        "SELECT region, selector_index, read_write_type, include_management_events, "
        "exclude_management_event_sources, data_resources "
        "FROM aws_cloudtrail_trail_event_selector WHERE trail_arn = ? ORDER BY selector_index",
        [world.local_trail_arn],
    )
    assert [(r["region"], r["selector_index"], r["read_write_type"], r["include_management_events"])
            for r in basic] == [(FIRST, 0, "WriteOnly", True), (FIRST, 1, "All", False)]
    assert json.loads(basic[0]["exclude_management_event_sources"]) == ["kms.amazonaws.com"]
    assert basic[0]["data_resources"] is None
    assert json.loads(basic[1]["data_resources"]) == [
        {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}
    ]

    advanced = query(
        "SELECT region, selector_index, name FROM aws_cloudtrail_trail_advanced_event_selector "
        "ORDER BY selector_index"
    )
    assert advanced == [
        {"region": SECOND, "selector_index": 0, "name": "management events"},
        {"region": SECOND, "selector_index": 1, "name": "s3 data"},
    ]
    fields = query(
        "SELECT trail_arn, selector_index, field, operator, value "
        "FROM aws_cloudtrail_trail_advanced_field_selector ORDER BY selector_index, field, value"
    )
    assert {r["trail_arn"] for r in fields} == {world.main.trail_arn}
    assert [(r["selector_index"], r["field"], r["operator"], r["value"]) for r in fields] == [
        (0, "eventCategory", "Equals", "Management"),
        (1, "eventCategory", "Equals", "Data"),
        (1, "eventName", "NotStartsWith", "Get"),
        (1, "eventName", "NotStartsWith", "List"),
        (1, "resources.type", "Equals", "AWS::S3::Object"),
    ]


def test_log_groups_and_metric_filters(collected):
    world, query = collected.world, collected.query
    groups = query("SELECT region, arn, name, retention_in_days, raw FROM aws_cloudwatch_log_group ORDER BY name")
    assert [(g["region"], g["name"], g["retention_in_days"]) for g in groups] == [
        (FIRST, "local-logs", 30), (SECOND, "main-cloudtrail-logs", None),
    ]
    # arn is logGroupArn, without the ':*' the trail's reference carries
    assert groups[1]["arn"] == world.main.log_group_arn.removesuffix(":*")

    filters = {f["name"]: f for f in query("SELECT * FROM aws_cloudwatch_log_metric_filter")}
    main = filters["main-config-changes"]
    assert main["filter_pattern"] == MULTI_LINE_PATTERN  # byte for byte, newlines kept
    assert (main["region"], main["log_group_name"]) == (SECOND, "main-cloudtrail-logs")
    assert (main["metric_transformation_name"], main["metric_transformation_namespace"],
            main["metric_transformation_value"]) == (world.main.metric_name, "CISBenchmark", "1")
    assert main["metric_transformation_default_value"] is None

    quoted = filters["quoted"]
    assert quoted["filter_pattern"] == QUOTED_PATTERN
    assert quoted["metric_transformation_default_value"] == 0.0
    assert quoted["metric_transformation_unit"] == "Count"
    assert json.loads(quoted["metric_transformation_dimensions"]) == {"EventName": "$.eventName"}
    assert json.loads(quoted["raw"])["filterPattern"] == QUOTED_PATTERN

    dimensions = query("SELECT region, log_group_name, filter_name, dimension_name, value_selector "
                       "FROM aws_cloudwatch_log_metric_filter_dimension")
    assert dimensions == [{"region": FIRST, "log_group_name": "local-logs", "filter_name": "quoted",
                           "dimension_name": "EventName", "value_selector": "$.eventName"}]


def test_alarms_actions_and_metric_math(collected):
    world, query = collected.world, collected.query
    alarms = {a["name"]: a for a in query("SELECT * FROM aws_cloudwatch_alarm")}
    main = alarms["main-config-changes"]
    assert (main["region"], main["arn"], main["alarm_type"]) == (SECOND, world.main.alarm_arn, "MetricAlarm")
    assert (main["metric_name"], main["namespace"], main["statistic"], main["period"]) == (
        world.main.metric_name, "CISBenchmark", "Sum", 300,
    )
    assert (main["threshold"], main["comparison_operator"], main["evaluation_periods"],
            main["datapoints_to_alarm"], main["actions_enabled"]) == (
        1.0, "GreaterThanOrEqualToThreshold", 1, 1, True,
    )
    assert main["treat_missing_data"] == "notBreaching"

    actions = query("SELECT alarm_arn, action_type, action_index, action_arn "
                    "FROM aws_cloudwatch_alarm_action WHERE alarm_arn = ? ORDER BY action_type",
                    [world.main.alarm_arn])
    assert [(a["action_type"], a["action_index"], a["action_arn"]) for a in actions] == [
        ("ALARM", 0, world.main.topic_arn),
        ("INSUFFICIENT_DATA", 0, world.main.topic_arn),
        ("OK", 0, world.main.topic_arn),
    ]
    assert query("SELECT name, value FROM aws_cloudwatch_alarm_dimension WHERE alarm_arn = ?",
                 [world.main.alarm_arn]) == [{"name": "Source", "value": "cloudtrail"}]

    math = alarms["math"]
    assert (math["region"], math["metric_name"], math["namespace"]) == (FIRST, None, None)
    metrics = query("SELECT metric_index, id, expression, label, return_data, metric_name, "
                    "namespace, stat, period FROM aws_cloudwatch_alarm_metric "
                    "WHERE alarm_arn = ? ORDER BY metric_index", [world.math_alarm_arn])
    assert metrics == [
        {"metric_index": 0, "id": "m1", "expression": None, "label": None, "return_data": False,
         "metric_name": "PutEvents", "namespace": "CISBenchmark", "stat": "Sum", "period": 300},
        {"metric_index": 1, "id": "e1", "expression": "m1 * 2", "label": "doubled",
         "return_data": True, "metric_name": None, "namespace": None, "stat": None, "period": None},
    ]
    assert query("SELECT metric_id, name, value FROM aws_cloudwatch_alarm_metric_dimension") == [
        {"metric_id": "m1", "name": "EventName", "value": "PutDeliveryChannel"}
    ]


def test_topics_and_masked_subscriptions(collected):
    world, query = collected.world, collected.query
    topics = query("SELECT region, topic_arn, name FROM aws_sns_topic ORDER BY region")
    assert topics == [
        {"region": SECOND, "topic_arn": world.main.topic_arn, "name": "main-alerts"},
        {"region": FIRST, "topic_arn": world.quiet_topic_arn, "name": "quiet"},
    ]
    subscriptions = {s["protocol"]: s for s in query("SELECT * FROM aws_sns_topic_subscription")}
    assert set(subscriptions) == {"https", "email"}
    hook = subscriptions["https"]
    assert hook["endpoint"] == "https://****@hooks.example.com:8443/notify/config?****#****"
    assert json.loads(hook["raw"])["Endpoint"] == hook["endpoint"]
    assert hook["topic_arn"] == world.main.topic_arn and hook["region"] == SECOND
    assert hook["pending_confirmation"] is False  # moto confirms every subscription
    assert subscriptions["email"]["endpoint"] == "security@example.com"
    assert not query("SELECT * FROM aws_sns_topic_subscription WHERE topic_arn = ?",
                     [world.quiet_topic_arn])


def test_no_secret_reaches_the_database(collected):
    query = collected.query
    tables = [r["table_name"] for r in query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
    )]
    stored = "\n".join(
        repr(row) for table in tables for row in query(f"SELECT * FROM {table}")
    )
    assert "hooks.example.com" in stored  # the endpoint is there, masked
    credentials = (os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
    for secret in (*credentials, "s3cret", "abc123", "alice", "frag"):
        assert secret not in stored


def test_each_list_call_once_per_region_and_trail_details_once_per_trail(collected):
    report, query = collected.report, collected.query
    calls = report.api_calls()
    # Three trails: main (home SECOND, visible in both), local (FIRST), far (home not
    # collected, visible in both): each asked for status and selectors exactly once.
    assert calls["GetTrailStatus"] == 3
    assert calls["GetEventSelectors"] == 3
    for operation in ("DescribeTrails", "DescribeLogGroups", "DescribeMetricFilters",
                      "DescribeAlarms", "ListTopics", "ListSubscriptions"):
        assert calls[operation] == 2, operation
    assert calls["DescribeRegions"] == 1
    assert not {"ListTrails", "ListAliases", "DescribeKey", "GetKeyPolicy"} & set(calls)
    # one topic per region; the two subscriptions are on SECOND's (neither encrypted)
    assert calls["GetTopicAttributes"] == calls["ListSubscriptionsByTopic"] == 2
    assert calls["GetSubscriptionAttributes"] == 2

    by_scope = {(o.scope.region, o.scope.service): o.api_call_total for o in report.outcomes}
    stored = {(r["region"], r["service"]): r["api_calls"]
              for r in query("SELECT region, service, api_calls FROM cfgmon_collection")}
    assert stored == by_scope
    assert stored[(FIRST, "logs")] == 2 and stored[(SECOND, "sns")] == 6
