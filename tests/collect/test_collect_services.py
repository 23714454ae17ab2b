"""Service fetchers against botocore's Stubber, for what moto cannot show.

moto implements neither PutCompositeAlarm nor paging of DescribeAlarms and
DescribeMetricFilters; these tests feed the fetchers exact API pages instead.
"""

from __future__ import annotations

import datetime as dt

import boto3
from botocore.stub import Stubber

from cfgmon.aws import cloudwatch, logs
from cfgmon.aws.session import ApiCallCounter

ALARM = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:alerts"


class StubContext:
    """Just enough of ScopeContext: one stubbed, counted client."""

    def __init__(self, service: str) -> None:
        self.counter = ApiCallCounter()
        self.stub_client = boto3.client(service, region_name="eu-west-1",
                                        aws_access_key_id="x", aws_secret_access_key="y")
        self.counter.attach(self.stub_client)
        self.stubber = Stubber(self.stub_client)
        self.region = "eu-west-1"

    def client(self, service: str, region: str | None = None):
        return self.stub_client


def metric_alarm(name: str) -> dict:
    return {
        "AlarmName": name, "AlarmArn": ALARM + name, "ActionsEnabled": True,
        "AlarmActions": [TOPIC], "StateValue": "OK", "MetricName": "m", "Namespace": "ns",
        "Statistic": "Sum", "Period": 300, "EvaluationPeriods": 1, "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "StateUpdatedTimestamp": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    }


def test_alarms_of_both_types_on_every_page():
    ctx = StubContext("cloudwatch")
    types = {"AlarmTypes": ["MetricAlarm", "CompositeAlarm"]}
    ctx.stubber.add_response("describe_alarms", {
        "MetricAlarms": [metric_alarm("one")], "CompositeAlarms": [], "NextToken": "p2",
    }, types)
    ctx.stubber.add_response("describe_alarms", {
        "MetricAlarms": [metric_alarm("two")],
        "CompositeAlarms": [{
            "AlarmName": "both", "AlarmArn": ALARM + "both", "ActionsEnabled": False,
            "AlarmRule": 'ALARM("one") OR ALARM("two")', "AlarmActions": [TOPIC],
            "OKActions": [TOPIC], "StateValue": "ALARM",
        }],
    }, {**types, "NextToken": "p2"})
    with ctx.stubber:
        data = cloudwatch.fetch(ctx)
    assert ctx.counter.calls == {"DescribeAlarms": 2}
    alarms = {a["name"]: a for a in data.tables["aws_cloudwatch_alarm"]}
    assert set(alarms) == {"one", "two", "both"}
    assert alarms["one"]["state_updated_timestamp"] == dt.datetime(2024, 1, 1)
    both = alarms["both"]
    assert (both["alarm_type"], both["alarm_rule"], both["actions_enabled"]) == (
        "CompositeAlarm", 'ALARM("one") OR ALARM("two")', False,
    )
    assert both["metric_name"] is None
    actions = [(a["alarm_arn"], a["action_type"]) for a in data.tables["aws_cloudwatch_alarm_action"]]
    assert (ALARM + "both", "ALARM") in actions and (ALARM + "both", "OK") in actions


def test_metric_filters_on_every_page_and_patterns_untouched():
    ctx = StubContext("logs")
    ctx.stubber.add_response("describe_log_groups", {"logGroups": [
        {"logGroupName": "g", "arn": "arn:aws:logs:eu-west-1:123456789012:log-group:g:*",
         "creationTime": 1_700_000_000_000},
    ]}, {})
    pattern = '{ $.eventName = "Put*" }\t'  # trailing tab kept
    page = {"filterName": "a", "logGroupName": "g", "filterPattern": pattern,
            "metricTransformations": [{"metricName": "m", "metricNamespace": "ns",
                                       "metricValue": "1"}]}
    ctx.stubber.add_response("describe_metric_filters", {"metricFilters": [page], "nextToken": "t"}, {})
    ctx.stubber.add_response("describe_metric_filters",
                             {"metricFilters": [{**page, "filterName": "b", "filterPattern": ""}]},
                             {"nextToken": "t"})
    with ctx.stubber:
        data = logs.fetch(ctx)
    assert ctx.counter.calls == {"DescribeLogGroups": 1, "DescribeMetricFilters": 2}
    group = data.tables["aws_cloudwatch_log_group"][0]
    assert group["arn"] == "arn:aws:logs:eu-west-1:123456789012:log-group:g"  # ':*' removed
    assert group["creation_time"] == dt.datetime(2023, 11, 14, 22, 13, 20)
    patterns = [f["filter_pattern"] for f in data.tables["aws_cloudwatch_log_metric_filter"]]
    assert patterns == [pattern, ""]
