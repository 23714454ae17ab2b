"""The two small evaluators behind the delivery rules, case by case: resource policies
judged for CloudWatch's request, and SNS filter policies against an alarm notification.
"""

from __future__ import annotations

import pytest

from cfgmon.controls.access_policy import Access, judge
from cfgmon.controls.delivery_rules import Alarm, key_request, notification_body, publish_request
from cfgmon.controls.filter_policy import matches

ACCOUNT = "123456789012"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
ALARM = Alarm(arn=f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:cis-config-changes",
              name="cis-config-changes", account_id=ACCOUNT, alarm_type="MetricAlarm",
              metric_name="AWSConfigChanges", namespace="CISBenchmark", period=300,
              evaluation_periods=1, comparison_operator="GreaterThanOrEqualToThreshold",
              threshold=1.0)


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(**fields) -> dict:
    return {"Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": TOPIC,
            **fields}


def deny(**fields) -> dict:
    return {**allow(**fields), "Effect": "Deny"}


@pytest.mark.parametrize(("statements", "access"), [
    ([], Access.NOT_ALLOWED),
    ([allow()], Access.ALLOWED),
    ([allow(Action="SNS:*")], Access.ALLOWED),                       # actions ignore case
    ([allow(Action="sns:Subscribe")], Access.NOT_ALLOWED),
    ([allow(Resource="arn:aws:sns:us-east-1:*:*")], Access.ALLOWED),
    ([allow(Resource="arn:aws:sns:eu-west-1:*:*")], Access.NOT_ALLOWED),
    ([allow(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})], Access.ALLOWED),
    ([allow(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/ops"})], Access.NOT_ALLOWED),
    ([allow(Principal={"Service": "events.amazonaws.com"})], Access.NOT_ALLOWED),
    ([allow(Condition={"StringEquals": {"AWS:SourceOwner": ACCOUNT}})], Access.ALLOWED),
    ([allow(Condition={"StringEquals": {"aws:sourceaccount": "999999999999"}})],
     Access.NOT_ALLOWED),                                             # keys ignore case
    ([allow(Condition={"ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:*:*:alarm:cis-*"}})],
     Access.ALLOWED),
    ([allow(Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc"}})], Access.NOT_ALLOWED),
    ([allow(Condition={"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc"}})],
     Access.ALLOWED),                                                 # absent: IfExists holds
    ([allow(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})], Access.UNKNOWN),
    ([allow(), deny()], Access.DENIED),
    ([allow(), deny(Condition={"Bool": {"aws:SecureTransport": "false"}})], Access.ALLOWED),
    # a service principal has no organisation: the classic guard shuts CloudWatch out
    ([allow(), deny(Condition={"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}})],
     Access.DENIED),
    ([allow(), deny(Condition={"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"},
                               "Bool": {"aws:PrincipalIsAWSService": "false"}})],
     Access.ALLOWED),
    ([allow(), deny(Condition={"StringEquals": {"aws:RequestTag/team": "x"}})], Access.UNKNOWN),
    ([allow(), deny(NotAction="sns:Publish")], Access.ALLOWED),
    ([allow(NotPrincipal={"AWS": "x"})], Access.UNKNOWN),
])
def test_topic_policy_judged_for_cloudwatch_publishing(statements, access):
    assert judge(policy(*statements), publish_request(ALARM, TOPIC)).access is access


@pytest.mark.parametrize(("actions", "principal", "access"), [
    ("kms:*", {"Service": "cloudwatch.amazonaws.com"}, Access.ALLOWED),
    (["kms:Decrypt", "kms:GenerateDataKey*"], {"Service": ["cloudwatch.amazonaws.com"]},
     Access.ALLOWED),
    ("kms:GenerateDataKey*", "*", Access.ALLOWED),
    ("kms:Encrypt", {"Service": "cloudwatch.amazonaws.com"}, Access.NOT_ALLOWED),
    # the account-root statement of KMS's default key policy does not let a service in
    ("kms:*", {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, Access.NOT_ALLOWED),
])
def test_key_policy_judged_for_cloudwatch_generating_a_data_key(actions, principal, access):
    key_policy = policy({"Effect": "Allow", "Principal": principal, "Action": actions,
                         "Resource": "*"})
    judged = judge(key_policy, key_request(ALARM, KEY, "kms:GenerateDataKey"))
    assert judged.access is access


@pytest.mark.parametrize(("filter_policy", "expected"), [
    ({"NewStateValue": ["ALARM"]}, True),
    ({"NewStateValue": ["OK", "ALARM"]}, True),
    ({"NewStateValue": ["OK"]}, False),
    ({"NewStateValue": [{"anything-but": "OK"}]}, True),
    ({"NewStateValue": [{"anything-but": {"prefix": "AL"}}]}, False),
    ({"AlarmName": [{"prefix": "cis-"}], "AWSAccountId": [ACCOUNT]}, True),
    ({"AlarmName": [{"suffix": "-changes"}]}, True),
    ({"AlarmName": [{"equals-ignore-case": "CIS-CONFIG-CHANGES"}]}, True),
    ({"Trigger": {"Threshold": [{"numeric": [">", 0, "<=", 1]}]}}, True),
    ({"Trigger": {"Threshold": [{"numeric": [">", 5]}]}}, False),
    ({"Trigger": {"MetricName": ["AWSConfigChanges"]}}, True),
    ({"severity": [{"exists": False}]}, True),        # not in the notification
    ({"severity": [{"exists": True}]}, False),
    ({"severity": ["high"]}, False),
    ({"severity": [{"anything-but": "low"}]}, False),  # a key the body lacks matches nothing else
    ({"NewStateReason": [{"exists": True}]}, True),    # always there, its text unknown
    ({"NewStateReason": [{"prefix": "Threshold Crossed"}]}, None),
    ({"Trigger": {"Dimensions": [{"exists": True}]}}, None),
    ({"$or": [{"NewStateValue": ["OK"]}, {"AlarmName": ["cis-config-changes"]}]}, True),
    ({"$or": [{"NewStateValue": ["OK"]}, {"Region": ["US East (N. Virginia)"]}]}, None),
    ({"NewStateValue": [{"cidr": "10.0.0.0/24"}]}, None),
    ({"NewStateValue": [{"anything-but": ["OK"]}], "AlarmName": ["other"]}, False),
])
def test_body_filter_policy_against_the_alarm_notification(filter_policy, expected):
    assert matches(filter_policy, notification_body(ALARM)) is expected


def test_a_composite_alarm_notification_is_known_only_by_its_own_fields():
    composite = Alarm(arn=ALARM.arn, name="all", account_id=ACCOUNT, alarm_type="CompositeAlarm")
    body = notification_body(composite)
    assert matches({"NewStateValue": ["ALARM"]}, body) is True
    assert matches({"AlarmRule": [{"prefix": "ALARM("}]}, body) is None
