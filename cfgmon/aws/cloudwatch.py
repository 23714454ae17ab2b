"""CloudWatch alarms: metric and composite alarms, listed once for the whole region."""

from __future__ import annotations

from cfgmon.aws.scope import Row, ScopeContext, ScopeData
from cfgmon.aws.values import utc

SERVICE = "cloudwatch"
ALARM_TYPES = ("MetricAlarm", "CompositeAlarm")

# Action list field of the API -> action_type column (the alarm state it fires on).
ACTION_FIELDS = {
    "AlarmActions": "ALARM",
    "OKActions": "OK",
    "InsufficientDataActions": "INSUFFICIENT_DATA",
}


def fetch(ctx: ScopeContext) -> ScopeData:
    client = ctx.client(SERVICE)
    data = ScopeData()
    pages = client.get_paginator("describe_alarms").paginate(AlarmTypes=list(ALARM_TYPES))
    for page in pages:
        for alarm_type, key in (("MetricAlarm", "MetricAlarms"), ("CompositeAlarm", "CompositeAlarms")):
            for alarm in page.get(key) or ():
                for table, rows in alarm_rows(alarm, alarm_type).items():
                    data.add(table, rows)
    return data


def alarm_rows(alarm: dict, alarm_type: str) -> dict[str, list[Row]]:
    """The rows of one alarm: the alarm, its actions, dimensions and metric-math entries."""
    arn = alarm["AlarmArn"]
    alarm_row = {
        "arn": arn,
        "name": alarm["AlarmName"],
        "alarm_type": alarm_type,
        "alarm_description": alarm.get("AlarmDescription"),
        "actions_enabled": alarm.get("ActionsEnabled"),
        "state_value": alarm.get("StateValue"),
        "state_reason": alarm.get("StateReason"),
        "state_updated_timestamp": utc(alarm.get("StateUpdatedTimestamp")),
        "metric_name": alarm.get("MetricName"),
        "namespace": alarm.get("Namespace"),
        "statistic": alarm.get("Statistic"),
        "extended_statistic": alarm.get("ExtendedStatistic"),
        "period": alarm.get("Period"),
        "unit": alarm.get("Unit"),
        "evaluation_periods": alarm.get("EvaluationPeriods"),
        "datapoints_to_alarm": alarm.get("DatapointsToAlarm"),
        "threshold": alarm.get("Threshold"),
        "comparison_operator": alarm.get("ComparisonOperator"),
        "treat_missing_data": alarm.get("TreatMissingData"),
        "evaluate_low_sample_count_percentile": alarm.get("EvaluateLowSampleCountPercentile"),
        "threshold_metric_id": alarm.get("ThresholdMetricId"),
        "alarm_rule": alarm.get("AlarmRule"),
        "dimensions": alarm.get("Dimensions"),
        "raw": alarm,
    }
    actions = [
        {"alarm_arn": arn, "action_type": action_type, "action_index": index, "action_arn": action}
        for field, action_type in ACTION_FIELDS.items()
        for index, action in enumerate(alarm.get(field) or [])
    ]
    dimensions = [
        {"alarm_arn": arn, "name": d["Name"], "value": d.get("Value")}
        for d in alarm.get("Dimensions") or []
    ]
    metrics, metric_dimensions = [], []
    for index, query in enumerate(alarm.get("Metrics") or []):
        stat = query.get("MetricStat") or {}
        metric = stat.get("Metric") or {}
        metrics.append({
            "alarm_arn": arn,
            "metric_index": index,
            "id": query["Id"],
            "expression": query.get("Expression"),
            "label": query.get("Label"),
            "return_data": query.get("ReturnData"),
            "metric_name": metric.get("MetricName"),
            "namespace": metric.get("Namespace"),
            "stat": stat.get("Stat"),
            "period": stat.get("Period", query.get("Period")),
            "unit": stat.get("Unit"),
            "metric_account_id": query.get("AccountId"),
        })
        metric_dimensions.extend(
            {"alarm_arn": arn, "metric_id": query["Id"], "name": d["Name"], "value": d.get("Value")}
            for d in metric.get("Dimensions") or []
        )
    return {
        "aws_cloudwatch_alarm": [alarm_row],
        "aws_cloudwatch_alarm_action": actions,
        "aws_cloudwatch_alarm_dimension": dimensions,
        "aws_cloudwatch_alarm_metric": metrics,
        "aws_cloudwatch_alarm_metric_dimension": metric_dimensions,
    }
