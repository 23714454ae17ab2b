"""SNS: topics and subscriptions, and what decides whether a topic can deliver.

Calls per region, for T topics, S confirmed subscriptions on them and K distinct
KMS keys they are encrypted with (P the pages of a list call, one per 100 topics or
subscriptions):
- ListTopics and ListSubscriptions: P each, the region's listing as before;
- per topic: GetTopicAttributes (policy, KMS key, owner, delivery policy) and
  ListSubscriptionsByTopic (P), which shows the topic owner every subscription on
  the topic, other accounts' included: ListSubscriptions shows only the caller's own;
- per confirmed subscription on the region's topics: GetSubscriptionAttributes, the
  only call that returns FilterPolicy, FilterPolicyScope and RawMessageDelivery
  (ListSubscriptionsByTopic does not); pending ones have no ARN to ask with;
- for encrypted topics: at most one ListAliases, and per key one DescribeKey and
  one GetKeyPolicy (see cfgmon.aws.kms).
So 2 + 2T + S + 1 + 2K calls with single pages; nothing grows with the account's
other resources.

A per-topic, per-subscription or per-key call that is refused for that resource is
recorded in its row (attributes_error, subscriptions_error, kms_key_error,
describe_error, policy_error) and the scope goes on; throttling and server errors
fail the scope (cfgmon.aws.resource_errors).

Subscription endpoints of http/https subscriptions can carry secrets (basic-auth
user-info, tokens in the query string); they are masked before anything is stored,
in the endpoint column and in raw alike.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from cfgmon.aws import kms
from cfgmon.aws.resource_errors import tolerated
from cfgmon.aws.scope import Row, ScopeContext, ScopeData, paginate
from cfgmon.aws.values import mask_endpoint, parse_arn

SERVICE = "sns"
PENDING = "PendingConfirmation"


def fetch(ctx: ScopeContext) -> ScopeData:
    client = ctx.client(SERVICE)
    data = ScopeData()
    topics = list(paginate(client, "list_topics", "Topics"))
    data.add("aws_sns_topic", [topic_row(t) for t in topics])
    data.add("aws_sns_topic_subscription", [
        subscription_row(s) for s in paginate(client, "list_subscriptions", "Subscriptions")
    ])
    attribute_rows = [topic_attributes_row(client, t["TopicArn"]) for t in topics]
    data.add("aws_sns_topic_subscription_attributes", [
        row for attributes in attribute_rows
        for row in topic_subscription_rows(client, attributes)
    ])
    partition = next((arn.partition for arn in map(parse_arn, (t["TopicArn"] for t in topics))
                      if arn), "aws")
    keys = kms.fetch_topic_keys(
        ctx, (row["kms_master_key_id"] for row in attribute_rows), partition)
    for row in attribute_rows:
        reference = row["kms_master_key_id"]
        resolved = keys.references.get(reference) if reference else None
        if resolved is not None:
            row["kms_key_arn"], row["kms_key_error"] = resolved.key_arn, resolved.error
    data.add("aws_sns_topic_attributes", attribute_rows)
    data.add("aws_sns_topic_kms_key", keys.rows)
    return data


def topic_row(topic: dict) -> Row:
    arn = topic["TopicArn"]
    return {"topic_arn": arn, "name": arn.rsplit(":", 1)[-1], "raw": topic}


def subscription_row(subscription: dict) -> Row:
    endpoint = mask_endpoint(subscription.get("Endpoint"))
    return {
        "subscription_arn": subscription["SubscriptionArn"],
        "topic_arn": subscription["TopicArn"],
        "owner": subscription.get("Owner"),
        "protocol": subscription.get("Protocol"),
        "endpoint": endpoint,
        "pending_confirmation": subscription["SubscriptionArn"] == PENDING,
        "raw": _masked(subscription, endpoint),
    }


def topic_attributes_row(client: Any, topic_arn: str) -> Row:
    """GetTopicAttributes of one topic, typed; a refusal leaves the attributes unknown."""
    try:
        attributes = client.get_topic_attributes(TopicArn=topic_arn).get("Attributes") or {}
    except ClientError as exc:
        return {"topic_arn": topic_arn, "kms_master_key_id": None,
                "attributes_error": tolerated(exc)}
    return {
        "topic_arn": topic_arn,
        "owner": attributes.get("Owner"),
        "display_name": attributes.get("DisplayName") or None,
        "policy": _json(attributes.get("Policy")),
        "kms_master_key_id": attributes.get("KmsMasterKeyId") or None,
        "delivery_policy": _json(attributes.get("DeliveryPolicy")),
        "effective_delivery_policy": _json(attributes.get("EffectiveDeliveryPolicy")),
        "fifo_topic": _bool(attributes.get("FifoTopic")),
        "signature_version": attributes.get("SignatureVersion"),
        "subscriptions_confirmed": _int(attributes.get("SubscriptionsConfirmed")),
        "subscriptions_pending": _int(attributes.get("SubscriptionsPending")),
        "subscriptions_deleted": _int(attributes.get("SubscriptionsDeleted")),
        "raw": attributes,
    }


def topic_subscription_rows(client: Any, topic: Row) -> list[Row]:
    """The topic's subscriptions as its owner sees them, each confirmed one with its
    attributes; a refused listing is recorded on the topic's row."""
    try:
        listed = list(paginate(client, "list_subscriptions_by_topic", "Subscriptions",
                               TopicArn=topic["topic_arn"]))
    except ClientError as exc:
        topic["subscriptions_error"] = tolerated(exc)
        return []
    return [subscription_attributes_row(client, subscription) for subscription in listed]


def subscription_attributes_row(client: Any, subscription: dict) -> Row:
    arn = subscription["SubscriptionArn"]
    endpoint = mask_endpoint(subscription.get("Endpoint"))
    row: Row = {
        "topic_arn": subscription["TopicArn"],
        "subscription_arn": arn,
        "owner": subscription.get("Owner"),
        "protocol": subscription.get("Protocol"),
        "endpoint": endpoint,
        "pending_confirmation": arn == PENDING,
        "raw": {"listed": _masked(subscription, endpoint)},
    }
    if arn == PENDING:
        return row
    try:
        attributes = client.get_subscription_attributes(SubscriptionArn=arn).get("Attributes") or {}
    except ClientError as exc:
        row["attributes_error"] = tolerated(exc)
        return row
    pending = _bool(attributes.get("PendingConfirmation"))
    row.update({
        "pending_confirmation": bool(pending),
        "filter_policy": _json(attributes.get("FilterPolicy")),
        "filter_policy_scope": attributes.get("FilterPolicyScope") or None,
        "raw_message_delivery": _bool(attributes.get("RawMessageDelivery")),
        "confirmation_was_authenticated": _bool(attributes.get("ConfirmationWasAuthenticated")),
    })
    row["raw"]["attributes"] = _masked(attributes, endpoint)
    return row


def _masked(item: dict, endpoint: str | None) -> dict:
    raw = dict(item)
    if "Endpoint" in raw:
        raw["Endpoint"] = endpoint
    return raw


def _json(text: str | None) -> Any:
    """An attribute holding a JSON document, parsed; '' and None are NULL, and so is a
    document that is not JSON (raw keeps its text)."""
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _bool(text: str | None) -> bool | None:
    return None if text in (None, "") else str(text).lower() == "true"


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text not in (None, "") else None
    except ValueError:
        return None
