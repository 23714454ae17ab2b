"""CloudTrail: trails, their status and their event selectors.

DescribeTrails(includeShadowTrails=True) once per region. Each trail is stored once,
by ARN, in its home region, with GetTrailStatus and GetEventSelectors asked of the
home region exactly once:
- trails whose home is this scope's region belong to this scope and replace it;
- trails whose home is another collected region are left to that region's scope;
- trails whose home was not collected (shadows) are claimed by the first scope
  that sees them, fetched from their home region and upserted by ARN.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from cfgmon.aws.resource_errors import tolerated
from cfgmon.aws.scope import Row, ScopeContext, ScopeData
from cfgmon.aws.values import log_group_from_arn, parse_arn, utc, without_metadata

SERVICE = "cloudtrail"

# Field selector operators, in the API's order; each is a list of values.
FIELD_OPERATORS = ("Equals", "StartsWith", "EndsWith", "NotEquals", "NotStartsWith", "NotEndsWith")

_TABLES = (
    "aws_cloudtrail_trail",
    "aws_cloudtrail_trail_event_selector",
    "aws_cloudtrail_trail_advanced_event_selector",
    "aws_cloudtrail_trail_advanced_field_selector",
)


def fetch(ctx: ScopeContext) -> ScopeData:
    client = ctx.client(SERVICE)
    trails = client.describe_trails(includeShadowTrails=True).get("trailList", [])
    data = ScopeData(tables={table: [] for table in _TABLES})
    for trail in trails:
        home = home_region(trail)
        if home == ctx.region:
            _merge(data.tables, trail_rows(trail, *fetch_details(client, trail["TrailARN"])))
        elif home not in ctx.collected_regions and ctx.trail_claims.claim(
            ctx.account_id, trail["TrailARN"]
        ):
            home_client = ctx.client(SERVICE, home)
            _merge(
                data.trail_upserts,
                trail_rows(trail, *fetch_details(home_client, trail["TrailARN"])),
            )
    return data


def home_region(trail: dict) -> str:
    arn = parse_arn(trail.get("TrailARN"))
    return trail.get("HomeRegion") or (arn.region if arn else "")


def fetch_details(client: Any, trail_arn: str) -> tuple[dict | None, dict | None, str | None]:
    """GetTrailStatus and GetEventSelectors of one trail, called in its home region.

    A refusal for one trail (an organisation trail's selectors, access denied)
    leaves that part unknown (None) and is reported as the third element; throttling
    and server errors propagate and fail the scope.
    """
    errors = []
    status = selectors = None
    try:
        status = without_metadata(client.get_trail_status(Name=trail_arn))
    except ClientError as exc:
        errors.append(tolerated(exc))
    try:
        selectors = without_metadata(client.get_event_selectors(TrailName=trail_arn))
    except ClientError as exc:
        errors.append(tolerated(exc))
    return status, selectors, "; ".join(errors) or None


def trail_rows(
    trail: dict, status: dict | None, selectors: dict | None, detail_error: str | None = None
) -> dict[str, list[Row]]:
    """The rows of one trail: the trail itself and its selector child tables."""
    arn = trail["TrailARN"]
    home = home_region(trail)
    owner = parse_arn(arn)
    log_group = log_group_from_arn(trail.get("CloudWatchLogsLogGroupArn"))
    status = status or {}
    basic = (selectors or {}).get("EventSelectors")
    advanced = (selectors or {}).get("AdvancedEventSelectors")
    common = {"region": home, "trail_arn": arn}
    trail_row = {
        "region": home,
        "arn": arn,
        "name": trail.get("Name"),
        "owner_account_id": owner.account_id if owner else None,
        "home_region": home,
        "is_multi_region_trail": trail.get("IsMultiRegionTrail"),
        "is_organization_trail": trail.get("IsOrganizationTrail"),
        "include_global_service_events": trail.get("IncludeGlobalServiceEvents"),
        "log_file_validation_enabled": trail.get("LogFileValidationEnabled"),
        "s3_bucket_name": trail.get("S3BucketName"),
        "s3_key_prefix": trail.get("S3KeyPrefix"),
        "sns_topic_arn": trail.get("SnsTopicARN"),
        "cloud_watch_logs_log_group_arn": trail.get("CloudWatchLogsLogGroupArn"),
        "cloud_watch_logs_role_arn": trail.get("CloudWatchLogsRoleArn"),
        "log_group_account_id": log_group.account_id,
        "log_group_region": log_group.region,
        "log_group_name": log_group.name,
        "kms_key_id": trail.get("KmsKeyId"),
        "has_custom_event_selectors": trail.get("HasCustomEventSelectors"),
        "has_insight_selectors": trail.get("HasInsightSelectors"),
        "is_logging": status.get("IsLogging"),
        "latest_delivery_time": utc(status.get("LatestDeliveryTime")),
        "latest_delivery_error": status.get("LatestDeliveryError"),
        "latest_cloud_watch_logs_delivery_time": utc(status.get("LatestCloudWatchLogsDeliveryTime")),
        "latest_cloud_watch_logs_delivery_error": status.get("LatestCloudWatchLogsDeliveryError"),
        "start_logging_time": utc(status.get("StartLoggingTime")),
        "stop_logging_time": utc(status.get("StopLoggingTime")),
        "event_selectors_collected": selectors is not None,
        "status": status or None,
        "event_selectors": basic,
        "advanced_event_selectors": advanced,
        "detail_error": detail_error,
        "raw": trail,
    }
    basic_rows = [
        {
            **common,
            "selector_index": index,
            "read_write_type": selector.get("ReadWriteType"),
            "include_management_events": selector.get("IncludeManagementEvents"),
            "exclude_management_event_sources": selector.get("ExcludeManagementEventSources"),
            "data_resources": selector.get("DataResources"),
        }
        for index, selector in enumerate(basic or [])
    ]
    advanced_rows, field_rows = [], []
    for index, selector in enumerate(advanced or []):
        advanced_rows.append({**common, "selector_index": index, "name": selector.get("Name")})
        for field_selector in selector.get("FieldSelectors") or []:
            for operator in FIELD_OPERATORS:
                for value in field_selector.get(operator) or []:
                    field_rows.append({
                        **common,
                        "selector_index": index,
                        "field": field_selector["Field"],
                        "operator": operator,
                        "value": value,
                    })
    return {
        "aws_cloudtrail_trail": [trail_row],
        "aws_cloudtrail_trail_event_selector": basic_rows,
        "aws_cloudtrail_trail_advanced_event_selector": advanced_rows,
        "aws_cloudtrail_trail_advanced_field_selector": field_rows,
    }


def _merge(into: dict[str, list[Row]], rows: dict[str, list[Row]]) -> None:
    for table, table_rows in rows.items():
        into.setdefault(table, []).extend(table_rows)
