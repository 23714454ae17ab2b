"""What collect stores about SNS topics for the delivery rules, and the calls it costs."""

from __future__ import annotations

import json

import boto3
from botocore.stub import Stubber

from cfgmon.aws import sns
from cfgmon.aws.session import ApiCallCounter
from cfgmon.simulation import Seeder

REGION = "us-east-1"
ACCOUNT = "123456789012"
OTHER = "222222222222"


def test_calls_per_region_stay_bounded_by_topics_subscriptions_and_keys(aws, run_collect, query):
    seeder = Seeder(aws)
    key_arn = seeder.kms_key(REGION, alias="alias/alerts")
    topics = [
        seeder.topic(REGION, "plain"),
        seeder.topic(REGION, "by-alias", attributes={"KmsMasterKeyId": "alias/alerts"}),
        seeder.topic(REGION, "by-arn", attributes={"KmsMasterKeyId": key_arn}),  # the same key
        seeder.topic(REGION, "managed", attributes={"KmsMasterKeyId": "alias/aws/sns"}),
    ]
    for index, topic in enumerate(topics):
        for n in range(index):  # 0 + 1 + 2 + 3 = 6 subscriptions
            seeder.subscription(topic, endpoint=f"team{n}@example.com")
    report = run_collect(regions=(REGION,))
    [outcome] = [o for o in report.outcomes if o.scope.service == "sns"]
    # T = 4 topics, S = 6 confirmed subscriptions, K = 1 customer managed key (named two
    # ways); alias/aws/sns is known by name and costs nothing
    assert dict(outcome.api_calls) == {
        "ListTopics": 1, "ListSubscriptions": 1,
        "GetTopicAttributes": 4, "ListSubscriptionsByTopic": 4, "GetSubscriptionAttributes": 6,
        "ListAliases": 1, "DescribeKey": 1, "GetKeyPolicy": 1,
    }
    [row] = query("SELECT api_calls FROM cfgmon_collection WHERE service = 'sns'")
    assert row["api_calls"] == outcome.api_call_total == 19
    resolved = {r["topic_arn"].rsplit(":", 1)[-1]: r["kms_key_arn"]
                for r in query("SELECT topic_arn, kms_key_arn FROM aws_sns_topic_attributes")}
    assert resolved == {"plain": None, "by-alias": key_arn, "by-arn": key_arn, "managed": None}
    [key] = query("SELECT * FROM aws_sns_topic_kms_key")
    assert (key["key_arn"], key["key_manager"], key["key_state"]) == (key_arn, "CUSTOMER", "Enabled")
    assert json.loads(key["aliases"]) == ["alias/alerts"]
    assert json.loads(key["policy"])["Statement"][0]["Principal"] == {
        "AWS": f"arn:aws:iam::{ACCOUNT}:root"}


def test_subscription_attributes_are_typed_with_the_raw_answer_kept(aws, run_collect, query):
    seeder = Seeder(aws)
    topic = seeder.topic(REGION, "alerts")
    policy = {"NewStateValue": ["ALARM"]}
    arn = seeder.subscription(topic, protocol="https",
                              endpoint="https://bob:pw@hooks.example.com/in?token=t0ps3cret",
                              attributes={"FilterPolicy": json.dumps(policy),
                                          "FilterPolicyScope": "MessageBody",
                                          "RawMessageDelivery": "true"})
    run_collect(regions=(REGION,))
    [row] = query("SELECT * FROM aws_sns_topic_subscription_attributes")
    assert (row["subscription_arn"], row["owner"], row["pending_confirmation"]) == (
        arn, ACCOUNT, False)
    assert json.loads(row["filter_policy"]) == policy
    assert (row["filter_policy_scope"], row["raw_message_delivery"]) == ("MessageBody", True)
    assert row["attributes_error"] is None
    stored = json.dumps(row, default=str)
    assert "t0ps3cret" not in stored and "bob:pw" not in stored
    assert json.loads(row["raw"])["attributes"]["FilterPolicyScope"] == "MessageBody"


class StubContext:
    """Just enough of ScopeContext for sns.fetch: one stubbed, counted SNS client."""

    def __init__(self) -> None:
        self.counter = ApiCallCounter()
        self.region, self.account_id = REGION, ACCOUNT
        self.sns = boto3.client("sns", region_name=REGION, aws_access_key_id="x",
                                aws_secret_access_key="y")
        self.counter.attach(self.sns)
        self.stubber = Stubber(self.sns)

    def client(self, service: str, region: str | None = None):
        assert service == "sns", "no topic here is encrypted"
        return self.sns


def test_another_accounts_subscription_on_the_topic_is_stored_and_a_refusal_recorded():
    # moto keeps a subscription made by another account out of the topic owner's
    # ListSubscriptionsByTopic, so these are the answers AWS gives the owner
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
    theirs = f"{topic}:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    ctx = StubContext()
    ctx.stubber.add_response("list_topics", {"Topics": [{"TopicArn": topic}]}, {})
    ctx.stubber.add_response("list_subscriptions", {"Subscriptions": []}, {})  # only our own
    ctx.stubber.add_response("get_topic_attributes", {"Attributes": {
        "TopicArn": topic, "Owner": ACCOUNT, "SubscriptionsConfirmed": "1"}}, {"TopicArn": topic})
    ctx.stubber.add_response("list_subscriptions_by_topic", {"Subscriptions": [
        {"SubscriptionArn": theirs, "Owner": OTHER, "Protocol": "sqs",
         "Endpoint": f"arn:aws:sqs:{REGION}:{OTHER}:alerts", "TopicArn": topic},
    ]}, {"TopicArn": topic})
    ctx.stubber.add_client_error("get_subscription_attributes", "AuthorizationError",
                                 "not yours", 403, expected_params={"SubscriptionArn": theirs})
    with ctx.stubber:
        data = sns.fetch(ctx)
    [row] = data.tables["aws_sns_topic_subscription_attributes"]
    assert (row["subscription_arn"], row["owner"], row["pending_confirmation"]) == (
        theirs, OTHER, False)
    assert row["attributes_error"] == "GetSubscriptionAttributes: AuthorizationError: not yours"
    assert data.tables["aws_sns_topic_subscription"] == []
    [attributes] = data.tables["aws_sns_topic_attributes"]
    assert (attributes["owner"], attributes["subscriptions_confirmed"]) == (ACCOUNT, 1)
    assert data.tables["aws_sns_topic_kms_key"] == []
