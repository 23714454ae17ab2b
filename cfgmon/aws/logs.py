"""CloudWatch Logs: log groups and metric filters, each listed once for the whole region."""

from __future__ import annotations

from cfgmon.aws.scope import Row, ScopeContext, ScopeData, paginate
from cfgmon.aws.values import from_millis

SERVICE = "logs"


def fetch(ctx: ScopeContext) -> ScopeData:
    client = ctx.client(SERVICE)
    data = ScopeData()
    data.add("aws_cloudwatch_log_group", [
        log_group_row(group) for group in paginate(client, "describe_log_groups", "logGroups")
    ])
    for metric_filter in paginate(client, "describe_metric_filters", "metricFilters"):
        data.add("aws_cloudwatch_log_metric_filter", metric_filter_row(metric_filter))
        data.add("aws_cloudwatch_log_metric_filter_dimension", dimension_rows(metric_filter))
    return data


def log_group_row(group: dict) -> Row:
    arn = group.get("logGroupArn") or (group.get("arn") or "").removesuffix(":*")
    return {
        "arn": arn,
        "name": group["logGroupName"],
        "creation_time": from_millis(group.get("creationTime")),
        "retention_in_days": group.get("retentionInDays"),
        "stored_bytes": group.get("storedBytes"),
        "metric_filter_count": group.get("metricFilterCount"),
        "kms_key_id": group.get("kmsKeyId"),
        "log_group_class": group.get("logGroupClass"),
        "data_protection_status": group.get("dataProtectionStatus"),
        "raw": group,
    }


def metric_filter_row(metric_filter: dict) -> Row:
    # The API allows exactly one transformation per filter.
    transformation = (metric_filter.get("metricTransformations") or [{}])[0]
    return {
        "name": metric_filter["filterName"],
        "log_group_name": metric_filter["logGroupName"],
        "filter_pattern": metric_filter.get("filterPattern"),
        "creation_time": from_millis(metric_filter.get("creationTime")),
        "metric_transformation_name": transformation.get("metricName"),
        "metric_transformation_namespace": transformation.get("metricNamespace"),
        "metric_transformation_value": transformation.get("metricValue"),
        "metric_transformation_default_value": transformation.get("defaultValue"),
        "metric_transformation_unit": transformation.get("unit"),
        "metric_transformation_dimensions": transformation.get("dimensions"),
        "apply_on_transformed_logs": metric_filter.get("applyOnTransformedLogs"),
        "raw": metric_filter,
    }


def dimension_rows(metric_filter: dict) -> list[Row]:
    transformation = (metric_filter.get("metricTransformations") or [{}])[0]
    return [
        {
            "log_group_name": metric_filter["logGroupName"],
            "filter_name": metric_filter["filterName"],
            "dimension_name": name,
            "value_selector": selector,
        }
        for name, selector in (transformation.get("dimensions") or {}).items()
    ]
