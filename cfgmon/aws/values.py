"""Turning API values into column values: timestamps, ARNs, masked endpoints (cfgmon.redaction)."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from cfgmon.redaction import mask_endpoint  # noqa: F401 (its home was here: sns, tests import it)

# The opt-in statuses (EC2 DescribeRegions) of a region an account can make calls in.
ENABLED_REGION_STATUSES = ("opt-in-not-required", "opted-in")


def utc(value: Any) -> dt.datetime | None:
    """An API timestamp as the naive UTC datetime TIMESTAMP columns hold; '' and None are NULL."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.UTC).replace(tzinfo=None)
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def from_millis(value: int | None) -> dt.datetime | None:
    """CloudWatch Logs' epoch milliseconds as a naive UTC datetime."""
    if value is None:
        return None
    return dt.datetime.fromtimestamp(value / 1000, dt.UTC).replace(tzinfo=None)


def without_metadata(response: dict) -> dict:
    return {key: value for key, value in response.items() if key != "ResponseMetadata"}


class Arn(NamedTuple):
    partition: str
    service: str
    region: str
    account_id: str
    resource: str


def parse_arn(arn: str | None) -> Arn | None:
    """The parts of an ARN, or None when the text is not one."""
    if not arn:
        return None
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return Arn(*parts[1:])


class LogGroupRef(NamedTuple):
    account_id: str | None
    region: str | None
    name: str | None


def log_group_from_arn(arn: str | None) -> LogGroupRef:
    """Account, region and name of a log group ARN, with or without the trailing ':*'."""
    parsed = parse_arn(arn)
    if parsed is None or not parsed.resource.startswith("log-group:"):
        return LogGroupRef(None, None, None)
    name = parsed.resource.removeprefix("log-group:")
    name = name.removesuffix(":*")
    return LogGroupRef(parsed.account_id or None, parsed.region or None, name or None)


# The AWS managed key of SNS, which CloudWatch cannot use (see cfgmon.controls.delivery_rules).
SNS_MANAGED_ALIAS = "alias/aws/sns"


def is_sns_managed_alias(reference: str) -> bool:
    """`alias/aws/sns`, by name or as an alias ARN."""
    return reference == SNS_MANAGED_ALIAS or reference.endswith(":" + SNS_MANAGED_ALIAS)
