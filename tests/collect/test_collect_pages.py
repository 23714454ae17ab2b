"""Every page of every list call is fetched."""

from __future__ import annotations

from collect_scenario import FIRST


def test_every_page_is_fetched(aws, run_collect, query):
    from cfgmon.simulation import Seeder

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
