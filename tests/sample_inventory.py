"""A small, hand-written inventory in a DuckDB file, for tests of sql, tables and export.

Two accounts: 111111111111 has the whole chain (multi-region logging trail → log
group → covering metric filter → alarm → SNS topic with a confirmed email
subscription); 012345678901 (a leading zero, as real account ids can have) has a
single-region trail, a multi-region write-only trail that is not logging, an alarm
with actions disabled, only a pending subscription and a failed collection. Rows go in through the schema that
open_database creates, by column name, so they survive new columns.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from cfgmon.store.database import open_database

GOOD = "111111111111"
BAD = "012345678901"
T0 = dt.datetime(2025, 1, 1, 12, 0, 0)
T1 = dt.datetime(2025, 2, 1, 12, 0, 0)

REFERENCE_PATTERN = (
    "{ ($.eventSource = config.amazonaws.com) && (($.eventName = StopConfigurationRecorder)"
    " || ($.eventName = DeleteDeliveryChannel) || ($.eventName = PutDeliveryChannel)"
    " || ($.eventName = PutConfigurationRecorder)) }"
)
PARTIAL_PATTERN = "{ $.eventName = StopConfigurationRecorder }"


def _trail(account, region, name, *, multi, logging, log_group=None):
    arn = f"arn:aws:cloudtrail:{region}:{account}:trail/{name}"
    row = {
        "account_id": account, "region": region, "collected_at": T0, "arn": arn,
        "name": name, "owner_account_id": account, "home_region": region,
        "is_multi_region_trail": multi, "is_organization_trail": False,
        "include_global_service_events": True, "log_file_validation_enabled": True,
        "s3_bucket_name": f"trail-{account}", "has_custom_event_selectors": False,
        "has_insight_selectors": False, "is_logging": logging,
        "latest_delivery_time": T0 if logging else None, "event_selectors_collected": True,
        "status": json.dumps({"IsLogging": logging}),
        "event_selectors": json.dumps([]),
        "raw": json.dumps({"Name": name, "TrailARN": arn, "IsMultiRegionTrail": multi}),
    }
    if log_group:
        row |= {
            "cloud_watch_logs_log_group_arn": f"arn:aws:logs:{region}:{account}:log-group:{log_group}:*",
            "cloud_watch_logs_role_arn": f"arn:aws:iam::{account}:role/trail-to-logs",
            "log_group_account_id": account, "log_group_region": region,
            "log_group_name": log_group,
            "latest_cloud_watch_logs_delivery_time": T0 if logging else None,
        }
    return row


def _log_group(account, region, name):
    return {
        "account_id": account, "region": region, "collected_at": T0,
        "arn": f"arn:aws:logs:{region}:{account}:log-group:{name}", "name": name,
        "creation_time": T0, "retention_in_days": 365, "stored_bytes": 1024,
        "metric_filter_count": 0, "log_group_class": "STANDARD",
        "raw": json.dumps({"logGroupName": name}),
    }


def _filter(account, region, log_group, name, pattern, metric):
    return {
        "account_id": account, "region": region, "collected_at": T0, "name": name,
        "log_group_name": log_group, "filter_pattern": pattern, "creation_time": T0,
        "metric_transformation_name": metric,
        "metric_transformation_namespace": "CISBenchmark",
        "metric_transformation_value": "1",
        "metric_transformation_dimensions": json.dumps({}),
        "apply_on_transformed_logs": False,
        "raw": json.dumps({"filterName": name, "filterPattern": pattern}),
    }


def _alarm(account, region, name, metric, *, enabled):
    return {
        "account_id": account, "region": region, "collected_at": T0,
        "arn": f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}", "name": name,
        "alarm_type": "MetricAlarm", "actions_enabled": enabled, "state_value": "OK",
        "state_updated_timestamp": T0, "metric_name": metric, "namespace": "CISBenchmark",
        "statistic": "Sum", "period": 300, "evaluation_periods": 1, "datapoints_to_alarm": 1,
        "threshold": 1.0, "comparison_operator": "GreaterThanOrEqualToThreshold",
        "treat_missing_data": "notBreaching", "dimensions": json.dumps([]),
        "raw": json.dumps({"AlarmName": name}),
    }


def _topic(account, region, name):
    arn = f"arn:aws:sns:{region}:{account}:{name}"
    return {"account_id": account, "region": region, "collected_at": T0, "topic_arn": arn,
            "name": name, "raw": json.dumps({"TopicArn": arn})}


def _subscription(account, region, topic, endpoint, *, pending):
    topic_arn = f"arn:aws:sns:{region}:{account}:{topic}"
    return {
        "account_id": account, "region": region, "collected_at": T0,
        "subscription_arn": "PendingConfirmation" if pending else f"{topic_arn}:0b1c2d3e",
        "topic_arn": topic_arn, "owner": account, "protocol": "email", "endpoint": endpoint,
        "pending_confirmation": pending, "raw": json.dumps({"Endpoint": endpoint}),
    }


def _topic_attributes(account, region, name):
    """GetTopicAttributes of a topic with AWS's default policy, unencrypted."""
    arn = f"arn:aws:sns:{region}:{account}:{name}"
    policy = {"Version": "2008-10-17", "Statement": [{
        "Sid": "__default_statement_ID", "Effect": "Allow", "Principal": {"AWS": "*"},
        "Action": ["SNS:Publish", "SNS:Subscribe", "SNS:GetTopicAttributes"], "Resource": arn,
        "Condition": {"StringEquals": {"AWS:SourceOwner": account}}}]}
    return {"account_id": account, "region": region, "collected_at": T0, "topic_arn": arn,
            "owner": account, "policy": json.dumps(policy), "raw": json.dumps({"TopicArn": arn})}


def _subscription_attributes(account, region, topic, endpoint, *, pending):
    """The subscription as ListSubscriptionsByTopic and GetSubscriptionAttributes give it."""
    row = _subscription(account, region, topic, endpoint, pending=pending)
    return {key: row[key] for key in ("account_id", "region", "collected_at", "topic_arn",
                                      "subscription_arn", "owner", "protocol", "endpoint",
                                      "pending_confirmation", "raw")}


def _coverage(pattern, matched, missed):
    return {
        "control_id": "config_configuration_changes_monitoring", "control_version": "1",
        "filter_pattern": pattern, "pattern_valid": True, "events_total": 16,
        "events_matched": matched, "covers_catalogue": matched == 16,
        "missed_events": missed, "broader_than_reference": False, "evaluated_at": T1,
    }


def _result(run, at, account, status, reason):
    return {
        "run_id": run, "evaluated_at": at,
        "control_id": "config_configuration_changes_monitoring",
        "control_version": "1", "account_id": account, "status": status, "reason": reason,
        "resource": f"arn:aws:::{account}", "evidence": json.dumps({"chain": []}),
    }


def sample_rows() -> dict[str, list[dict]]:
    good_alarm = f"arn:aws:cloudwatch:us-east-1:{GOOD}:alarm:config-changes"
    return {
        "aws_cloudtrail_trail": [
            _trail(GOOD, "us-east-1", "main", multi=True, logging=True, log_group="CloudTrail/main"),
            _trail(BAD, "eu-west-1", "local", multi=False, logging=True),
            _trail(BAD, "us-east-1", "stopped", multi=True, logging=False, log_group="trail-logs"),
        ],
        "aws_cloudtrail_trail_event_selector": [
            {"account_id": GOOD, "region": "us-east-1", "collected_at": T0,
             "trail_arn": f"arn:aws:cloudtrail:us-east-1:{GOOD}:trail/main",
             "selector_index": 0, "read_write_type": "All", "include_management_events": True,
             "exclude_management_event_sources": json.dumps([]),
             "data_resources": json.dumps([])},
            {"account_id": BAD, "region": "us-east-1", "collected_at": T0,
             "trail_arn": f"arn:aws:cloudtrail:us-east-1:{BAD}:trail/stopped",
             "selector_index": 0, "read_write_type": "WriteOnly",
             "include_management_events": True,
             "exclude_management_event_sources": json.dumps([]),
             "data_resources": json.dumps([])},
        ],
        "aws_cloudwatch_log_group": [
            _log_group(GOOD, "us-east-1", "CloudTrail/main"),
            _log_group(BAD, "us-east-1", "trail-logs"),
        ],
        "aws_cloudwatch_log_metric_filter": [
            _filter(GOOD, "us-east-1", "CloudTrail/main", "config-changes", REFERENCE_PATTERN,
                    "ConfigChanges"),
            _filter(BAD, "us-east-1", "trail-logs", "recorder-stops", PARTIAL_PATTERN,
                    "RecorderStops"),
        ],
        "aws_cloudwatch_alarm": [
            _alarm(GOOD, "us-east-1", "config-changes", "ConfigChanges", enabled=True),
            _alarm(BAD, "us-east-1", "recorder-stops", "RecorderStops", enabled=False),
        ],
        "aws_cloudwatch_alarm_action": [
            {"account_id": GOOD, "region": "us-east-1", "collected_at": T0,
             "alarm_arn": good_alarm, "action_type": "ALARM", "action_index": 0,
             "action_arn": f"arn:aws:sns:us-east-1:{GOOD}:security-alerts"},
        ],
        "aws_sns_topic": [
            _topic(GOOD, "us-east-1", "security-alerts"),
            _topic(BAD, "us-east-1", "alerts"),
        ],
        "aws_sns_topic_subscription": [
            _subscription(GOOD, "us-east-1", "security-alerts", "sec@example.com", pending=False),
            _subscription(BAD, "us-east-1", "alerts", "ops@example.com", pending=True),
        ],
        "aws_sns_topic_attributes": [
            _topic_attributes(GOOD, "us-east-1", "security-alerts"),
            _topic_attributes(BAD, "us-east-1", "alerts"),
        ],
        "aws_sns_topic_subscription_attributes": [
            _subscription_attributes(GOOD, "us-east-1", "security-alerts", "sec@example.com",
                                     pending=False),
            _subscription_attributes(BAD, "us-east-1", "alerts", "ops@example.com", pending=True),
        ],
        "cfgmon_account": [
            {"account_id": GOOD, "collected_at": T0, "source": "caller", "status": "ok"},
            {"account_id": BAD, "collected_at": T0, "source": "assumed-role", "status": "ok"},
        ],
        "cfgmon_collection": [
            {"account_id": a, "region": "us-east-1", "service": s, "started_at": T0,
             "finished_at": T0, "status": "ok", "api_calls": 3, "rows_written": 1,
             "last_success_at": T0}
            for a in (GOOD, BAD) for s in ("cloudtrail", "logs", "cloudwatch", "sns")
        ] + [
            {"account_id": BAD, "region": "eu-west-1", "service": "logs", "started_at": T1,
             "finished_at": T1, "status": "error", "error_code": "AccessDeniedException",
             "error_message": "not authorized to perform: logs:DescribeLogGroups",
             "error_operation": "DescribeLogGroups", "api_calls": 1},
        ],
        "cfgmon_pattern_coverage": [
            _coverage(REFERENCE_PATTERN, 16, None),
            _coverage(PARTIAL_PATTERN, 4,
                      "DeleteDeliveryChannel,PutConfigurationRecorder,PutDeliveryChannel"),
        ],
        "cfgmon_check_result": [
            _result("run-1", T0, GOOD, "NON_COMPLIANT", "no alarm on the metric"),
            _result("run-1", T0, BAD, "NON_COMPLIANT", "no multi-region logging trail"),
            _result("run-2", T1, GOOD, "COMPLIANT", "the whole chain exists"),
            _result("run-2", T1, BAD, "NON_COMPLIANT", "no multi-region logging trail"),
        ],
    }


def build_sample_inventory(path: Path) -> Path:
    """Create the database at `path` with cfgmon's schema and the sample rows."""
    con = open_database(path)
    try:
        for table, rows in sample_rows().items():
            for row in rows:
                names = ", ".join(row)
                marks = ", ".join("?" for _ in row)
                con.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(row.values()))
    finally:
        con.close()
    return path
