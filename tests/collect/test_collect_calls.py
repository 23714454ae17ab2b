"""How many API calls a collection makes, per operation and per scope."""

from __future__ import annotations

from collect_scenario import FIRST, SECOND


def test_each_list_call_once_per_region_and_trail_details_once_per_trail(world, run_collect, query):
    report = run_collect()
    calls = report.api_calls()
    # Three trails: main (home SECOND, visible in both), local (FIRST), far (home not
    # collected, visible in both): each asked for status and selectors exactly once.
    assert calls["GetTrailStatus"] == 3
    assert calls["GetEventSelectors"] == 3
    for operation in ("DescribeTrails", "DescribeLogGroups", "DescribeMetricFilters",
                      "DescribeAlarms", "ListTopics", "ListSubscriptions"):
        assert calls[operation] == 2, operation
    assert calls["DescribeRegions"] == 1
    assert not {"ListSubscriptionsByTopic", "GetTopicAttributes", "ListTrails"} & set(calls)

    by_scope = {(o.scope.region, o.scope.service): o.api_call_total for o in report.outcomes}
    stored = {(r["region"], r["service"]): r["api_calls"]
              for r in query("SELECT region, service, api_calls FROM cfgmon_collection")}
    assert stored == by_scope
    assert stored[(FIRST, "logs")] == 2 and stored[(SECOND, "sns")] == 2


def test_every_page_is_fetched(aws, run_collect, query):
    from seed import Seeder

    seeder = Seeder(aws)
    logs = seeder.client("logs", FIRST)
    for index in range(51):  # moto pages log groups by 50
        logs.create_log_group(logGroupName=f"group-{index:03d}")
    sns = seeder.client("sns", FIRST)
    for index in range(101):  # and topics by 100
        sns.create_topic(Name=f"topic-{index:03d}")

    report = run_collect(regions=[FIRST])
    calls = report.api_calls()
    assert calls["DescribeLogGroups"] == 2
    assert calls["ListTopics"] == 2
    assert query("SELECT count(*) AS n FROM aws_cloudwatch_log_group") == [{"n": 51}]
    assert query("SELECT count(*) AS n FROM aws_sns_topic") == [{"n": 101}]
