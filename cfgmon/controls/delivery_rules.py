"""The rules that decide whether an SNS topic can deliver an alarm's notification.

Each rule is here once, with its evidence: an AWS page quoted, or "decided" and
why. A rule answers False (cannot deliver, and the reason names what to fix), None
(cannot tell, and says what is missing) or passes. cfgmon.controls.topic_delivery
reads the inventory and applies them in RULES' order, once per alarm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cfgmon.aws.values import is_sns_managed_alias
from cfgmon.controls.access_policy import Access, Request, judge
from cfgmon.controls.filter_policy import UNKNOWN, OpenObject, matches

CLOUDWATCH = "cloudwatch.amazonaws.com"
PUBLISH = "sns:Publish"
# The calls CloudWatch makes with a topic's key to publish to it; kms:GenerateDataKey*
# in a policy covers the second.
KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
KEY_ACTIONS_TEXT = "kms:Decrypt, kms:GenerateDataKey*"


@dataclass(frozen=True)
class Rule:
    id: str
    says: str
    evidence: str


RULES: tuple[Rule, ...] = (
    Rule(
        "topic-present",
        "the topic must exist: a topic missing from a collected SNS scope cannot deliver; "
        "one whose scope (or attributes) was not collected cannot be judged",
        "decided: an ARN in AlarmActions is not checked by CloudWatch when the alarm is "
        "saved, so it may name a topic that was deleted",
    ),
    Rule(
        "aws-managed-key",
        "a topic encrypted with the AWS managed key alias/aws/sns (or any AWS managed "
        "key) cannot receive alarm notifications",
        "AWS re:Post knowledge center, How do I configure a CloudWatch alarm with an "
        "encrypted SNS topic (repost.aws/knowledge-center/cloudwatch-configure-alarm-sns): "
        "a customer managed key is needed; with alias/aws/sns the alarm history shows "
        "\"CloudWatch Alarms does not have authorization to access the SNS topic "
        "encryption key\", because that key's policy does not let CloudWatch call "
        "kms:Decrypt and kms:GenerateDataKey, and an AWS managed key's policy cannot be "
        "edited",
    ),
    Rule(
        "key-enabled",
        "a customer managed key that is not Enabled (Disabled, PendingDeletion, ...) "
        "cannot deliver",
        "decided: KMS refuses every cryptographic operation with a key that is not "
        "enabled, so SNS cannot encrypt the message",
    ),
    Rule(
        "key-policy-allows-cloudwatch",
        "the key policy must allow the cloudwatch.amazonaws.com service principal (or "
        "\"*\") kms:Decrypt and kms:GenerateDataKey (kms:*, kms:GenerateDataKey* and "
        "other wildcards count); a key policy that cannot be read gives cannot tell",
        "the same knowledge center page: the key policy statement Allow_CloudWatch_for_CMK "
        "grants Principal Service cloudwatch.amazonaws.com the actions kms:Decrypt and "
        "kms:GenerateDataKey*; the SNS developer guide, Key management, \"Enable "
        "compatibility between event sources from AWS services and encrypted topics\" "
        "(docs.aws.amazon.com/sns/latest/dg/sns-key-management.html). Decided: the "
        "account-root statement of a default key policy does not let a service principal "
        "in (it delegates to IAM policies, which a service principal has none of)",
    ),
    Rule(
        "topic-policy-allows-publish",
        "the topic policy must not deny sns:Publish to CloudWatch, and must allow it to "
        "cloudwatch.amazonaws.com, \"*\" or the alarm's account, for alarms in the topic's "
        "account as for alarms in another",
        "AWS re:Post knowledge center, Why didn't I receive an SNS notification for my "
        "CloudWatch alarm trigger (repost.aws/knowledge-center/cloudwatch-receive-sns-for-"
        "alarm-trigger): when the access policy restricts publishers, the alarm history "
        "shows \"...alarm:ALARM_NAME is not authorized to perform: SNS:Publish on "
        "resource...\" and the fix is an Allow of sns:Publish to Principal Service "
        "cloudwatch.amazonaws.com; that page's example has alarm and topic in the same "
        "account, so the same-account case needs an Allow too. A topic's default policy "
        "has one: Principal AWS \"*\" with AWS:SourceOwner equal to the topic owner",
    ),
    Rule(
        "policy-conditions",
        "conditions are evaluated against what is known of CloudWatch's request: "
        "aws:SourceArn (the alarm ARN), aws:SourceAccount and AWS:SourceOwner (the alarm's "
        "account), aws:SecureTransport true, aws:PrincipalIsAWSService true, "
        "aws:PrincipalServiceName cloudwatch.amazonaws.com; the IAM principal keys "
        "(aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalOrgID, "
        "aws:PrincipalOrgPaths) are absent; any other key makes the statement cannot tell",
        "IAM User Guide, AWS global condition context keys (docs.aws.amazon.com/IAM/latest/"
        "UserGuide/reference_policies_condition-keys.html): aws:SourceAccount is in the "
        "request context only when an AWS service principal calls the resource directly; "
        "the knowledge center page of topic-policy-allows-publish conditions CloudWatch's "
        "Allow on aws:SourceArn, the alarm ARN. Decided: the principal keys describe an "
        "IAM principal, which a service principal is not (the reason AWS offers "
        "aws:PrincipalIsAWSService, to exempt services from aws:PrincipalOrgID guards), "
        "and AWS services call one another over TLS",
    ),
    Rule(
        "pending-never-works",
        "a subscription pending confirmation is never a working subscription",
        "decided: it receives nothing until its endpoint confirms, which may never happen",
    ),
    Rule(
        "attribute-scope-never-matches",
        "a subscription whose filter policy applies to message attributes (FilterPolicyScope "
        "MessageAttributes, the default when a FilterPolicy exists) never receives an alarm "
        "notification, whatever its conditions (exists: false and anything-but included)",
        "SNS developer guide, Subscription filter policy scope (docs.aws.amazon.com/sns/"
        "latest/dg/sns-message-filtering-scope.html): \"If no filter policy scope is defined "
        "for an existing filter policy, the scope defaults to MessageAttributes\"; Key "
        "matching (attribute-key-matching.html): \"exists\": false \"only matches if at "
        "least one attribute is present\", and every other condition needs the attribute. "
        "Decided: CloudWatch publishes alarm notifications without message attributes. "
        "An empty filter policy ({}) is no filter",
    ),
    Rule(
        "body-scope-evaluated",
        "a filter policy with scope MessageBody is evaluated against the ALARM "
        "notification CloudWatch publishes for the alarm (AlarmName, AlarmDescription, "
        "AWSAccountId, NewStateValue \"ALARM\", AlarmArn, and for a metric alarm Trigger's "
        "MetricName, Namespace, Period, EvaluationPeriods, ComparisonOperator and "
        "Threshold); a condition on a field known only when the alarm fires "
        "(NewStateReason, StateChangeTime, OldStateValue, Region, ...), or an operator "
        "not evaluated, gives cannot tell",
        "SNS developer guide, Message filtering (docs.aws.amazon.com/sns/latest/dg/"
        "message-filtering.html): \"Filter policies for the message body assume that the "
        "message payload is a well-formed JSON object\"; decided: the fields are those of "
        "the JSON notification CloudWatch publishes for an alarm",
    ),
)


# -- the facts the rules read ----------------------------------------------------------


@dataclass(frozen=True)
class Alarm:
    arn: str
    name: str
    account_id: str
    alarm_type: str
    description: str | None = None
    metric_name: str | None = None
    namespace: str | None = None
    period: int | None = None
    evaluation_periods: int | None = None
    comparison_operator: str | None = None
    threshold: float | None = None


@dataclass(frozen=True)
class Topic:
    topic_arn: str
    account_id: str
    region: str
    policy: Any
    kms_master_key_id: str | None
    kms_key_arn: str | None
    kms_key_error: str | None
    attributes_error: str | None
    subscriptions_error: str | None


@dataclass(frozen=True)
class Key:
    key_arn: str
    key_manager: str | None
    key_state: str | None
    enabled: bool | None
    aliases: tuple[str, ...]
    policy: Any
    describe_error: str | None
    policy_error: str | None


@dataclass(frozen=True)
class Subscription:
    subscription_arn: str
    owner: str | None
    pending: bool
    filter_policy: Any
    filter_policy_scope: str | None
    attributes_error: str | None


@dataclass(frozen=True)
class Finding:
    """A rule that did not pass: can_deliver False (broken) or None (cannot tell)."""

    can_deliver: bool | None
    reason: str


def refusal(error: str) -> str:
    """'GetKeyPolicy: AccessDeniedException: message' as 'GetKeyPolicy: AccessDeniedException'."""
    return ": ".join(error.split(": ")[:2])


# -- CloudWatch's requests ---------------------------------------------------------------

# Condition keys of the request a CloudWatch alarm makes (rule policy-conditions).
_ABSENT_KEYS = frozenset({"aws:PrincipalArn", "aws:PrincipalAccount", "aws:PrincipalOrgID",
                          "aws:PrincipalOrgPaths"})


def _context(alarm: Alarm, *, sns: bool) -> dict[str, str]:
    context = {
        "aws:SourceArn": alarm.arn, "aws:SourceAccount": alarm.account_id,
        "aws:SecureTransport": "true", "aws:PrincipalIsAWSService": "true",
        "aws:PrincipalServiceName": CLOUDWATCH,
    }
    if sns:
        context["aws:SourceOwner"] = alarm.account_id
    return context


def publish_request(alarm: Alarm, topic_arn: str) -> Request:
    """CloudWatch publishing the alarm's notification to the topic."""
    return Request(frozenset({("Service", CLOUDWATCH), ("AWS", alarm.account_id)}), PUBLISH,
                   topic_arn, _context(alarm, sns=True), _ABSENT_KEYS)


def key_request(alarm: Alarm, key_arn: str, action: str) -> Request:
    """CloudWatch using the topic's key to publish (the key policy's account principal
    does not stand for a service: rule key-policy-allows-cloudwatch)."""
    return Request(frozenset({("Service", CLOUDWATCH)}), action, key_arn,
                   _context(alarm, sns=False), _ABSENT_KEYS)


# -- the rules -------------------------------------------------------------------------


def judge_key(topic: Topic, key: Key | None, alarm: Alarm) -> Finding | None:
    """Rules aws-managed-key, key-enabled and key-policy-allows-cloudwatch."""
    reference = topic.kms_master_key_id
    if not reference:
        return None
    if is_sns_managed_alias(reference):
        return Finding(False, "it is encrypted with the AWS managed key alias/aws/sns, "
                              "which CloudWatch cannot use")
    if topic.kms_key_error or topic.kms_key_arn is None:
        why = refusal(topic.kms_key_error) if topic.kms_key_error else "not collected"
        return Finding(None, f"its KMS key {reference} could not be identified ({why})")
    if key is None:
        return Finding(None, f"its KMS key {topic.kms_key_arn} was not collected")
    if key.describe_error:
        return Finding(None, f"its KMS key {key.key_arn} could not be described "
                             f"({refusal(key.describe_error)})")
    if key.key_manager == "AWS":
        name = next(iter(key.aliases), key.key_arn)
        return Finding(False, f"it is encrypted with the AWS managed key {name}, "
                              "which CloudWatch cannot use")
    if key.key_state not in (None, "Enabled") or key.enabled is False:
        return Finding(False, f"its KMS key {key.key_arn} is {key.key_state or 'Disabled'}")
    if key.policy_error:
        return Finding(None, f"the policy of KMS key {key.key_arn} could not be read "
                             f"({refusal(key.policy_error)})")
    if key.policy is None:
        return Finding(None, f"the policy of KMS key {key.key_arn} was not collected")
    undecided = None
    for action in KEY_ACTIONS:
        judged = judge(key.policy, key_request(alarm, key.key_arn, action))
        if judged.access is Access.DENIED:
            return Finding(False, f"the policy of its KMS key {key.key_arn} denies "
                                  f"{CLOUDWATCH} {action} ({judged.statement})")
        if judged.access is Access.NOT_ALLOWED:
            return Finding(False, f"the policy of its KMS key {key.key_arn} does not let "
                                  f"{CLOUDWATCH} use it ({KEY_ACTIONS_TEXT})")
        if judged.access is Access.UNKNOWN and undecided is None:
            undecided = Finding(None, f"the policy of KMS key {key.key_arn} may or may not let "
                                      f"{CLOUDWATCH} {action}: {_unknown(judged)}")
    return undecided


def judge_topic_policy(topic: Topic, alarm: Alarm) -> Finding | None:
    """Rule topic-policy-allows-publish."""
    if topic.policy is None:
        return Finding(None, "its policy was not collected")
    judged = judge(topic.policy, publish_request(alarm, topic.topic_arn))
    if judged.access is Access.DENIED:
        return Finding(False, f"its policy denies {PUBLISH} to CloudWatch alarms of account "
                              f"{alarm.account_id} ({judged.statement})")
    if judged.access is Access.NOT_ALLOWED:
        return Finding(False, f"its policy does not let CloudWatch of account "
                              f"{alarm.account_id} publish (no Allow of {PUBLISH} to "
                              f"{CLOUDWATCH} or to the account)")
    if judged.access is Access.UNKNOWN:
        return Finding(None, f"its policy may or may not let CloudWatch of account "
                             f"{alarm.account_id} publish: {_unknown(judged)}")
    return None


def _unknown(judged) -> str:
    return f"{judged.statement} {judged.why}" if judged.statement else str(judged.why)


# -- subscriptions ---------------------------------------------------------------------

WORKING, PENDING, FILTERED_OUT, UNDECIDED = "working", "pending", "filtered out", "undecided"


def judge_subscription(subscription: Subscription, alarm: Alarm) -> tuple[str, str | None]:
    """(outcome, why) of one subscription for the alarm's ALARM notification."""
    arn = subscription.subscription_arn
    if subscription.pending:
        return PENDING, f"{arn} is pending confirmation"
    if subscription.attributes_error:
        return UNDECIDED, (f"the attributes of {arn} could not be read "
                           f"({refusal(subscription.attributes_error)})")
    policy = subscription.filter_policy
    if not policy:  # none, or {}: every message
        return WORKING, None
    if not isinstance(policy, dict):
        return UNDECIDED, f"the filter policy of {arn} is not a JSON object"
    scope = subscription.filter_policy_scope or "MessageAttributes"
    if scope == "MessageAttributes":
        return FILTERED_OUT, (f"{arn} filters on message attributes, which alarm "
                              "notifications do not carry")
    if scope != "MessageBody":
        return UNDECIDED, f"{arn} has filter policy scope {scope!r}, which cfgmon does not know"
    matched = matches(policy, notification_body(alarm))
    if matched is True:
        return WORKING, None
    if matched is False:
        return FILTERED_OUT, (f"the filter policy of {arn} does not accept the ALARM "
                              f"notification of alarm {alarm.name}")
    return UNDECIDED, (f"the filter policy of {arn} depends on what the notification of alarm "
                       f"{alarm.name} says only when it fires, or on an operator cfgmon does "
                       "not evaluate")


def notification_body(alarm: Alarm) -> dict:
    """The ALARM notification CloudWatch publishes for the alarm, as far as it is known
    before the alarm fires (rule body-scope-evaluated)."""
    known = {
        "AlarmName": alarm.name, "AlarmDescription": alarm.description,
        "AWSAccountId": alarm.account_id, "NewStateValue": "ALARM", "AlarmArn": alarm.arn,
    }
    if alarm.alarm_type != "MetricAlarm":
        return OpenObject(known)
    later = ("NewStateReason", "StateChangeTime", "OldStateValue", "Region",
             "AlarmConfigurationUpdatedTimestamp", "OKActions", "AlarmActions",
             "InsufficientDataActions")
    body = {**known, **{field: UNKNOWN for field in later}}
    if alarm.metric_name is None:  # metric math: Trigger lists the metrics
        body["Trigger"] = OpenObject()
        return body
    body["Trigger"] = OpenObject({
        "MetricName": alarm.metric_name, "Namespace": alarm.namespace, "Period": alarm.period,
        "EvaluationPeriods": alarm.evaluation_periods,
        "ComparisonOperator": alarm.comparison_operator, "Threshold": alarm.threshold,
    })
    return body


def judge_subscriptions(topic: Topic, subscriptions: Sequence[Subscription],
                        alarm: Alarm) -> Finding | None:
    """Whether some subscription receives the alarm's notification."""
    if topic.subscriptions_error:
        return Finding(None, f"its subscriptions could not be listed "
                             f"({refusal(topic.subscriptions_error)})")
    outcomes = [judge_subscription(s, alarm) for s in subscriptions]
    if any(outcome == WORKING for outcome, _ in outcomes):
        return None
    undecided = [why for outcome, why in outcomes if outcome == UNDECIDED]
    if undecided:
        return Finding(None, undecided[0])
    if not outcomes:
        return Finding(False, "it has no subscriptions")
    pending = sum(1 for outcome, _ in outcomes if outcome == PENDING)
    filtered = [why for outcome, why in outcomes if outcome == FILTERED_OUT]
    parts = ([f"{pending} pending confirmation"] if pending else []) + (
        [f"{len(filtered)} filtered out ({filtered[0]})"] if filtered else [])
    return Finding(False, f"none of its {len(outcomes)} subscription(s) receives the "
                          f"notification: {', '.join(parts)}")
