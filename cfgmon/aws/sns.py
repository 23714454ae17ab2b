"""SNS: topics and subscriptions, each listed once for the whole region.

Subscription endpoints of http/https subscriptions can carry secrets (basic-auth
user-info, tokens in the query string); they are masked before anything is stored,
in the endpoint column and in raw alike.
"""

from __future__ import annotations

from cfgmon.aws.scope import Row, ScopeContext, ScopeData, paginate
from cfgmon.aws.values import mask_endpoint

SERVICE = "sns"
PENDING = "PendingConfirmation"


def fetch(ctx: ScopeContext) -> ScopeData:
    client = ctx.client(SERVICE)
    data = ScopeData()
    data.add("aws_sns_topic", [topic_row(t) for t in paginate(client, "list_topics", "Topics")])
    data.add("aws_sns_topic_subscription", [
        subscription_row(s) for s in paginate(client, "list_subscriptions", "Subscriptions")
    ])
    return data


def topic_row(topic: dict) -> Row:
    arn = topic["TopicArn"]
    return {"topic_arn": arn, "name": arn.rsplit(":", 1)[-1], "raw": topic}


def subscription_row(subscription: dict) -> Row:
    endpoint = mask_endpoint(subscription.get("Endpoint"))
    raw = dict(subscription)
    if "Endpoint" in raw:
        raw["Endpoint"] = endpoint
    return {
        "subscription_arn": subscription["SubscriptionArn"],
        "topic_arn": subscription["TopicArn"],
        "owner": subscription.get("Owner"),
        "protocol": subscription.get("Protocol"),
        "endpoint": endpoint,
        "pending_confirmation": subscription["SubscriptionArn"] == PENDING,
        "raw": raw,
    }
