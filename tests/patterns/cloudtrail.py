"""Realistic CloudTrail records for pattern tests: the changes CIS 4.9 watches, and
neighbours it must not confuse them with."""

from __future__ import annotations

import itertools
import json

ACCOUNT = "111122223333"
CONFIG = "config.amazonaws.com"
WATCHED = (
    "StopConfigurationRecorder",
    "DeleteDeliveryChannel",
    "PutDeliveryChannel",
    "PutConfigurationRecorder",
)

_IDENTITIES = {
    "IAMUser": {
        "type": "IAMUser",
        "principalId": "AIDAJ45Q7YFFAREXAMPLE",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
        "accountId": ACCOUNT,
        "accessKeyId": "AKIAI44QH8DHBEXAMPLE",
        "userName": "alice",
    },
    "AssumedRole": {
        "type": "AssumedRole",
        "principalId": "AROAIDPPEZS35WEXAMPLE:bob",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/bob",
        "accountId": ACCOUNT,
        "accessKeyId": "ASIAIOSFODNN7EXAMPLE",
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": "AROAIDPPEZS35WEXAMPLE",
                "arn": f"arn:aws:iam::{ACCOUNT}:role/Admin",
                "accountId": ACCOUNT,
                "userName": "Admin",
            },
            "attributes": {"creationDate": "2026-11-03T09:00:00Z", "mfaAuthenticated": "true"},
        },
    },
    "Root": {
        "type": "Root",
        "principalId": ACCOUNT,
        "arn": f"arn:aws:iam::{ACCOUNT}:root",
        "accountId": ACCOUNT,
        "accessKeyId": "ASIAQGYBVQ3VEXAMPLE",
    },
    "AWSService": {"type": "AWSService", "invokedBy": "cloudformation.amazonaws.com"},
}

_REQUESTS = {
    "StopConfigurationRecorder": {"configurationRecorderName": "default"},
    "DeleteDeliveryChannel": {"deliveryChannelName": "default"},
    "PutDeliveryChannel": {
        "deliveryChannel": {
            "name": "default",
            "s3BucketName": "config-bucket-111122223333",
            "configSnapshotDeliveryProperties": {"deliveryFrequency": "TwentyFour_Hours"},
        }
    },
    "PutConfigurationRecorder": {
        "configurationRecorder": {
            "name": "default",
            "roleARN": f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig",
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
        }
    },
}


def record(
    event_name: str,
    *,
    source: str = CONFIG,
    identity: str = "IAMUser",
    region: str = "us-east-1",
    error: str | None = None,
    read_only: bool = False,
    number: int = 0,
) -> dict:
    """One CloudTrail record as CloudTrail delivers it to CloudWatch Logs."""
    body = {
        "eventVersion": "1.09",
        "userIdentity": _IDENTITIES[identity],
        "eventTime": f"2026-11-03T10:{number % 60:02d}:00Z",
        "eventSource": source,
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": "203.0.113.10"
        if identity != "AWSService"
        else "cloudformation.amazonaws.com",
        "userAgent": "aws-cli/2.17.20 Python/3.11.9 Linux/6.1 exe/x86_64.amzn.2023",
        "requestParameters": _REQUESTS.get(event_name),
        "responseElements": None,
        "requestID": f"eeee3183-69ca-47e7-5826-{number:012d}",
        "eventID": f"8dea3aa4-c08a-6073-52d0-{number:012d}",
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": f"config.{region}.amazonaws.com",
        },
    }
    if error:
        body["errorCode"] = error
        body["errorMessage"] = (
            f"User: {_IDENTITIES[identity].get('arn', 'service')} is not authorized"
        )
    return body


def watched_records() -> list[str]:
    """16 records the CIS reference pattern matches: every name, success and failure,
    four identity types, three regions; serialised compactly and indented."""
    identities = itertools.cycle(["IAMUser", "AssumedRole", "Root", "AWSService"])
    regions = itertools.cycle(["us-east-1", "eu-west-1", "ap-southeast-2"])
    out = []
    for number, (name, error) in enumerate(itertools.product(WATCHED, (None, "AccessDenied"))):
        body = record(
            name, identity=next(identities), region=next(regions), error=error, number=number
        )
        out.append(json.dumps(body) if number % 2 else json.dumps(body, indent=2))
    for number, name in enumerate(WATCHED, 100):  # and once more, minimal whitespace
        out.append(
            json.dumps(record(name, identity="AssumedRole", number=number), separators=(",", ":"))
        )
    out += [
        json.dumps(record(name, region="sa-east-1", error="ThrottlingException", number=number))
        for number, name in enumerate(WATCHED, 200)
    ]
    return out


def neighbour_records() -> list[str]:
    """Records the reference pattern does not match, some close to it."""
    bodies = [
        record("DescribeConfigurationRecorders", read_only=True),
        record("DescribeDeliveryChannels", read_only=True),
        record("StartConfigurationRecorder"),
        record("DeleteConfigurationRecorder"),
        record("PutConfigRule"),
        record("StopLogging", source="cloudtrail.amazonaws.com"),
        record("PutBucketPolicy", source="s3.amazonaws.com"),
        record("DeleteTrail", source="cloudtrail.amazonaws.com", error="AccessDenied"),
    ]
    return [json.dumps(body) for body in bodies]
