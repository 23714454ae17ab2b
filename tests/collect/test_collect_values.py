"""Row building at the unit level: masking, pending subscriptions, ARNs, unknown trail details."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from cfgmon.aws import cloudtrail, sns
from cfgmon.aws.values import log_group_from_arn, mask_endpoint, utc

TOPIC = "arn:aws:sns:eu-west-1:123456789012:alerts"
TRAIL = "arn:aws:cloudtrail:eu-west-1:999999999999:trail/org-trail"


@pytest.mark.parametrize(("endpoint", "masked"), [
    ("https://user:pw@hooks.example.com/path?token=x", "https://****@hooks.example.com/path?****"),
    ("https://hooks.example.com/path?token=x&b=2", "https://hooks.example.com/path?****"),
    ("http://token@example.com:8080/", "http://****@example.com:8080/"),
    ("HTTPS://u@example.com/a#secret", "https://****@example.com/a#****"),
    ("https://example.com/plain", "https://example.com/plain"),
    ("https://example.com/?", "https://example.com/"),
    ("https://[::1/oops?token=x", "https:****"),  # not a URL: only the scheme is kept
    ("security@example.com", "security@example.com"),
    ("arn:aws:sqs:eu-west-1:123456789012:queue", "arn:aws:sqs:eu-west-1:123456789012:queue"),
    ("+15555550123", "+15555550123"),
    (None, None),
])
def test_mask_endpoint(endpoint, masked):
    assert mask_endpoint(endpoint) == masked


def test_pending_confirmation_subscription_row():
    # moto confirms every subscription, so the pending case is built here.
    row = sns.subscription_row({
        "SubscriptionArn": "PendingConfirmation", "Owner": "123456789012", "Protocol": "https",
        "Endpoint": "https://a:b@example.com/x?k=v", "TopicArn": TOPIC,
    })
    assert row["pending_confirmation"] is True
    assert row["subscription_arn"] == "PendingConfirmation"
    assert row["endpoint"] == row["raw"]["Endpoint"] == "https://****@example.com/x?****"
    confirmed = sns.subscription_row({"SubscriptionArn": f"{TOPIC}:abc", "TopicArn": TOPIC,
                                      "Protocol": "email", "Endpoint": "a@example.com"})
    assert confirmed["pending_confirmation"] is False


@pytest.mark.parametrize(("arn", "parts"), [
    ("arn:aws:logs:eu-west-1:111122223333:log-group:CloudTrail/logs:*",
     ("111122223333", "eu-west-1", "CloudTrail/logs")),
    ("arn:aws:logs:eu-west-1:111122223333:log-group:plain", ("111122223333", "eu-west-1", "plain")),
    ("arn:aws-us-gov:logs:us-gov-west-1:1:log-group:g:*", ("1", "us-gov-west-1", "g")),
    ("arn:aws:sns:eu-west-1:1:topic", (None, None, None)),
    ("not an arn", (None, None, None)),
    (None, (None, None, None)),
])
def test_log_group_from_arn(arn, parts):
    assert tuple(log_group_from_arn(arn)) == parts


def test_utc_normalises_api_timestamps():
    aware = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert utc(aware) == dt.datetime(2024, 5, 1, 10, 0)
    assert utc("2024-05-01T10:00:00Z") == dt.datetime(2024, 5, 1, 10, 0)
    assert utc(0) == dt.datetime(1970, 1, 1)
    assert utc("") is None and utc(None) is None


def test_trail_with_unknown_details_is_marked_unknown_not_absent():
    rows = cloudtrail.trail_rows(
        {"TrailARN": TRAIL, "Name": "org-trail", "HomeRegion": "eu-west-1",
         "IsOrganizationTrail": True, "IsMultiRegionTrail": True},
        None, None, "GetEventSelectors: AccessDeniedException: no",
    )
    trail = rows["aws_cloudtrail_trail"][0]
    assert trail["owner_account_id"] == "999999999999"
    assert trail["region"] == trail["home_region"] == "eu-west-1"
    assert trail["is_logging"] is None and trail["status"] is None
    assert trail["event_selectors_collected"] is False
    assert trail["event_selectors"] is None and trail["advanced_event_selectors"] is None
    assert trail["detail_error"] == "GetEventSelectors: AccessDeniedException: no"
    assert all(not rows[t] for t in rows if t != "aws_cloudtrail_trail")


def stubbed_cloudtrail():
    client = boto3.client("cloudtrail", region_name="eu-west-1", aws_access_key_id="x",
                          aws_secret_access_key="y")
    return client, Stubber(client)


def test_a_refused_detail_call_leaves_that_part_unknown():
    client, stubber = stubbed_cloudtrail()
    stubber.add_response("get_trail_status", {"IsLogging": True})
    stubber.add_client_error("get_event_selectors", "AccessDeniedException", "not yours")
    with stubber:
        status, selectors, error = cloudtrail.fetch_details(client, TRAIL)
    assert status == {"IsLogging": True}
    assert selectors is None
    assert error == "GetEventSelectors: AccessDeniedException: not yours"


def test_throttling_on_a_detail_call_fails_the_scope():
    client, stubber = stubbed_cloudtrail()
    stubber.add_client_error("get_trail_status", "ThrottlingException", "slow down")
    with stubber, pytest.raises(ClientError):
        cloudtrail.fetch_details(client, TRAIL)
