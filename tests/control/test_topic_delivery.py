"""Whether the SNS topic an alarm notifies can deliver: one test per delivery rule.

Each account is built in a real moto server, collected through the library and
derived with derive_topic_delivery; the tests read cfgmon_topic_delivery as the
chain will. Where moto cannot hold a setup (a subscription pending confirmation,
another account's subscription on the topic), the test says so and inserts the
collected row itself.
"""

from __future__ import annotations

import json

import pytest
from collectrun import collect_into
from dbrows import query_rows
from reliability.fault_proxy import Fault, FaultProxy

from cfgmon.aws import ClientFactory
from cfgmon.controls.topic_delivery import derive_topic_delivery
from cfgmon.simulation import Seeder
from cfgmon.store import open_database

REGION = "us-east-1"
ACCOUNT = "123456789012"   # moto's account for the test keys
OTHER = "222222222222"
CLOUDWATCH_CAN_USE_KEY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "root", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*",
         "Resource": "*"},
        {"Sid": "Allow_CloudWatch_for_CMK", "Effect": "Allow",
         "Principal": {"Service": ["cloudwatch.amazonaws.com"]},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"},
    ],
}


@pytest.fixture
def seeder(aws):
    return Seeder(aws)


@pytest.fixture
def delivery(aws, tmp_path, monkeypatch):
    """Collect the given accounts, derive, and return the rows of cfgmon_topic_delivery."""
    db = tmp_path / "cfgmon.duckdb"

    def run(*accounts: str, endpoint: str | None = None, before_derive: str | None = None,
            params=()) -> list[dict]:
        for account in accounts or (ACCOUNT,):
            if account != ACCOUNT:
                for name, value in aws.account_credentials(account).items():
                    monkeypatch.setenv(name.upper(), value)
            collect_into(endpoint or aws.endpoint, db, (REGION,),
                         ClientFactory(endpoint_url=endpoint or aws.endpoint))
        con = open_database(db)
        try:
            if before_derive:
                con.execute(before_derive, list(params))
            derive_topic_delivery(con)
        finally:
            con.close()
        return query_rows(db, "SELECT * FROM cfgmon_topic_delivery ORDER BY topic_arn, "
                              "publisher_account_id")

    run.db = db
    return run


def alarm_to(seeder: Seeder, topic_arn: str, name: str = "config-changes") -> str:
    """An alarm on a chain (its metric is a filter's on the trail's log group) notifying
    `topic_arn`: only the topics of such alarms are judged."""
    log_group = f"{name}-trail-logs"
    seeder.trail(REGION, f"{name}-trail", log_group_arn=seeder.log_group(REGION, log_group))
    seeder.metric_filter(REGION, log_group, name, metric_name=name)
    return seeder.alarm(REGION, name, metric_name=name, alarm_actions=[topic_arn])


def one(rows: list[dict]) -> dict:
    assert len(rows) == 1, rows
    return rows[0]


def test_a_plain_topic_with_a_confirmed_subscription_can_deliver(seeder, delivery):
    chain = seeder.chain(REGION)
    row = one(delivery())
    assert (row["topic_arn"], row["publisher_account_id"]) == (chain.topic_arn, ACCOUNT)
    assert row["can_deliver"] is True
    assert (row["undeliverable_because"], row["undecided_because"]) == (None, None)
    assert row["working_subscriptions"] == 1
    assert row["first_working_subscription_arn"] == chain.subscription_arns[0]
    assert (row["pending_subscriptions"], row["filtered_out_subscriptions"]) == (0, 0)
    assert row["kms_key_arn"] is None and row["alarms"] == 1


def test_the_aws_managed_key_alias_aws_sns_cannot_be_used_by_cloudwatch(seeder, delivery):
    topic = seeder.topic(REGION, "alerts", attributes={"KmsMasterKeyId": "alias/aws/sns"})
    seeder.subscription(topic)
    alarm_to(seeder, topic)
    row = one(delivery())
    assert row["can_deliver"] is False
    assert row["undeliverable_because"] == (
        "it is encrypted with the AWS managed key alias/aws/sns, which CloudWatch cannot use")


def test_a_customer_key_whose_policy_leaves_cloudwatch_out_cannot_deliver(seeder, delivery):
    key_arn = seeder.kms_key(REGION, alias="alias/alerts")  # KMS's default policy: the account only
    topic = seeder.topic(REGION, "alerts", attributes={"KmsMasterKeyId": "alias/alerts"})
    seeder.subscription(topic)
    alarm_to(seeder, topic)
    row = one(delivery())
    assert row["can_deliver"] is False
    assert row["kms_key_arn"] == key_arn and row["kms_key_manager"] == "CUSTOMER"
    assert row["undeliverable_because"] == (
        f"the policy of its KMS key {key_arn} does not let cloudwatch.amazonaws.com use it "
        "(kms:Decrypt, kms:GenerateDataKey*)")


def test_a_customer_key_that_lets_cloudwatch_in_can_deliver(seeder, delivery):
    key_arn = seeder.kms_key(REGION, policy=CLOUDWATCH_CAN_USE_KEY)
    topic = seeder.topic(REGION, "alerts",
                         attributes={"KmsMasterKeyId": key_arn.rsplit("/", 1)[-1]})  # a key id
    seeder.subscription(topic)
    alarm_to(seeder, topic)
    row = one(delivery())
    assert (row["can_deliver"], row["undeliverable_because"], row["undecided_because"]) == (
        True, None, None)
    assert row["kms_key_arn"] == key_arn


def test_a_key_policy_that_cannot_be_read_gives_cannot_tell(aws, seeder, delivery):
    key_arn = seeder.kms_key(REGION, policy=CLOUDWATCH_CAN_USE_KEY)
    topic = seeder.topic(REGION, "alerts", attributes={"KmsMasterKeyId": key_arn})
    seeder.subscription(topic)
    alarm_to(seeder, topic)
    with FaultProxy(aws.endpoint) as proxy:
        proxy.add(Fault("access_denied", operation="GetKeyPolicy",
                        code="AccessDeniedException", message="not yours"))
        row = one(delivery(endpoint=proxy.url))
        assert proxy.count(operation="GetKeyPolicy") == 1
    assert row["can_deliver"] is None
    assert row["undeliverable_because"] is None
    assert row["undecided_because"] == (
        f"the policy of KMS key {key_arn} could not be read (GetKeyPolicy: AccessDeniedException)")
    # the refusal concerns one key: the SNS scope itself was collected
    [scope] = query_rows(delivery.db, "SELECT status FROM cfgmon_collection WHERE service = 'sns'")
    assert scope["status"] == "ok"


def test_a_topic_policy_that_denies_publishing_cannot_deliver(seeder, delivery):
    topic = seeder.topic(REGION, "alerts")
    seeder.client("sns", REGION).set_topic_attributes(
        TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps({
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "owner", "Effect": "Allow", "Principal": {"AWS": "*"},
                 "Action": "SNS:Publish", "Resource": topic,
                 "Condition": {"StringEquals": {"AWS:SourceOwner": ACCOUNT}}},
                {"Sid": "EnforceTLS", "Effect": "Deny", "Principal": "*", "Action": "sns:*",
                 "Resource": topic, "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
                {"Sid": "NoPublishing", "Effect": "Deny", "Principal": "*",
                 "Action": "sns:Publish", "Resource": topic},
            ],
        }))
    seeder.subscription(topic)
    alarm_to(seeder, topic)
    row = one(delivery())
    assert row["can_deliver"] is False
    # the TLS guard does not apply to CloudWatch; the unconditioned Deny does
    assert row["undeliverable_because"] == (
        f"its policy denies sns:Publish to CloudWatch alarms of account {ACCOUNT} "
        "(statement 'NoPublishing')")


def test_an_alarm_in_another_account_needs_the_topic_policy_to_allow_it(aws, seeder, delivery):
    topic = seeder.chain(REGION).topic_arn  # the default policy: its own account only
    other = Seeder(aws, OTHER)
    alarm_arn = alarm_to(other, topic, "their-alarm")
    rows = {row["publisher_account_id"]: row for row in delivery(ACCOUNT, OTHER)}
    assert rows[ACCOUNT]["can_deliver"] is True
    foreign = rows[OTHER]
    assert foreign["topic_account_id"] == ACCOUNT and foreign["alarms"] == 1
    assert foreign["can_deliver"] is False
    assert foreign["undeliverable_because"] == (
        f"its policy does not let CloudWatch of account {OTHER} publish "
        "(no Allow of sns:Publish to cloudwatch.amazonaws.com or to the account)")
    assert alarm_arn.split(":")[4] == OTHER


def test_a_cross_account_allow_for_cloudwatch_lets_the_other_account_publish(
        aws, seeder, delivery):
    topic = seeder.chain(REGION).topic_arn
    seeder.client("sns", REGION).set_topic_attributes(
        TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Sid": "Allow_Publish_Alarms", "Effect": "Allow",
                           "Principal": {"Service": ["cloudwatch.amazonaws.com"]},
                           "Action": "sns:Publish", "Resource": topic,
                           "Condition": {"ArnLike": {"aws:SourceArn":
                                                     f"arn:aws:cloudwatch:{REGION}:*:alarm:*"}}}],
        }))
    alarm_to(Seeder(aws, OTHER), topic, "their-alarm")
    rows = {row["publisher_account_id"]: row for row in delivery(ACCOUNT, OTHER)}
    assert rows[OTHER]["can_deliver"] is True, rows[OTHER]


def test_a_filter_policy_on_message_attributes_never_receives_an_alarm(seeder, delivery):
    chain = seeder.chain(REGION, subscriptions=())
    subscription = seeder.subscription(chain.topic_arn, attributes={
        # exists: false would match a message whose attributes lack the key, but an alarm
        # notification has no attributes at all
        "FilterPolicy": json.dumps({"severity": [{"exists": False}]}),
    })
    row = one(delivery())
    assert row["can_deliver"] is False
    assert (row["working_subscriptions"], row["filtered_out_subscriptions"]) == (0, 1)
    why = (f"{subscription} filters on message attributes, which alarm notifications do not "
           "carry")
    assert row["filtered_out_example"] == why
    assert row["undeliverable_because"] == (
        f"none of its 1 subscription(s) receives the notification: 1 filtered out ({why})")


@pytest.mark.parametrize(("policy", "can_deliver"), [
    ({"NewStateValue": ["ALARM"]}, True),
    ({"AlarmName": [{"prefix": "cis-"}], "Trigger": {"Threshold": [{"numeric": [">=", 1]}]}},
     True),
    ({"NewStateValue": [{"anything-but": ["OK", "INSUFFICIENT_DATA"]}]}, True),
    ({"NewStateValue": ["OK"]}, False),
    ({"StateChangeTime": [{"prefix": "2024-"}]}, None),   # known only when the alarm fires
])
def test_a_filter_policy_on_the_message_body_is_evaluated_against_the_notification(
        seeder, delivery, policy, can_deliver):
    chain = seeder.chain(REGION, subscriptions=())
    subscription = seeder.subscription(chain.topic_arn, attributes={
        "FilterPolicy": json.dumps(policy), "FilterPolicyScope": "MessageBody"})
    row = one(delivery())
    assert row["can_deliver"] is can_deliver, row
    if can_deliver:
        assert row["first_working_subscription_arn"] == subscription
    elif can_deliver is False:
        assert row["filtered_out_example"] == (
            f"the filter policy of {subscription} does not accept the ALARM notification of "
            f"alarm {chain.alarm_name}")
    else:
        assert row["undecided_subscriptions"] == 1
        assert row["undecided_because"].startswith(f"the filter policy of {subscription} depends")


SUBSCRIPTION_ROW = """
    INSERT INTO aws_sns_topic_subscription_attributes
        (account_id, region, collected_at, topic_arn, subscription_arn, owner, protocol,
         endpoint, pending_confirmation)
    VALUES (?, ?, now()::TIMESTAMP, ?, ?, ?, 'sqs', ?, ?)
"""


def test_a_subscription_pending_confirmation_never_works(seeder, delivery):
    # moto confirms every subscription at once: the pending one is inserted as collected
    chain = seeder.chain(REGION, subscriptions=())
    row = one(delivery(before_derive=SUBSCRIPTION_ROW, params=(
        ACCOUNT, REGION, chain.topic_arn, "PendingConfirmation", ACCOUNT,
        f"arn:aws:sqs:{REGION}:{ACCOUNT}:alerts", True)))
    assert row["can_deliver"] is False
    assert (row["working_subscriptions"], row["pending_subscriptions"]) == (0, 1)
    assert row["undeliverable_because"] == (
        "none of its 1 subscription(s) receives the notification: 1 pending confirmation")


def test_another_accounts_subscription_on_the_topic_is_a_working_subscription(seeder, delivery):
    # moto keeps another account's subscription in that account, out of the topic owner's
    # ListSubscriptionsByTopic: the row the owner's listing gives is inserted as collected
    # (tests/collect/test_collect_topic_details.py shows the collector storing it)
    chain = seeder.chain(REGION, subscriptions=())
    theirs = f"{chain.topic_arn}:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    row = one(delivery(before_derive=SUBSCRIPTION_ROW, params=(
        ACCOUNT, REGION, chain.topic_arn, theirs, OTHER,
        f"arn:aws:sqs:{REGION}:{OTHER}:alerts", False)))
    assert row["can_deliver"] is True
    assert (row["working_subscriptions"], row["first_working_subscription_arn"]) == (1, theirs)


def test_a_topic_an_alarm_names_that_does_not_exist_cannot_deliver(seeder, delivery):
    missing = f"arn:aws:sns:{REGION}:{ACCOUNT}:deleted"
    alarm_to(seeder, missing)
    row = one(delivery())
    assert (row["topic_collected"], row["can_deliver"], row["undeliverable_because"]) == (
        False, False, "it does not exist")
