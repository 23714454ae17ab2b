"""The chain as the alarm sees it: several filters feeding one metric, and filters
narrowed to one account (real moto server; `cfgmon collect` and `cfgmon check`)."""

from __future__ import annotations

import json

import duckdb

from cfgmon.simulation import (
    CIS_CONFIG_PATTERN,
    DEFAULT_ACCOUNT,
    Seeder,
    expression_query,
    stat_query,
)

from .conftest import CONTROL

RECORDER = (
    "{ ($.eventSource = config.amazonaws.com) && (($.eventName = StopConfigurationRecorder) || "
    "($.eventName = PutConfigurationRecorder)) }"
)
CHANNEL = (
    "{ ($.eventSource = config.amazonaws.com) && (($.eventName = DeleteDeliveryChannel) || "
    "($.eventName = PutDeliveryChannel)) }"
)


def _second_filter(seeder: Seeder, chain, name: str, pattern: str, metric: str | None = None):
    seeder.metric_filter(chain.region, chain.log_group_name, name, pattern=pattern,
                         metric_name=metric or chain.metric_name, namespace=chain.namespace,
                         value="1")


def test_two_filters_on_one_metric_are_judged_together(inspector, seeder):
    chain = seeder.chain("us-east-1", pattern=RECORDER)
    _second_filter(seeder, chain, "cis-config-channel", CHANNEL)
    result = _judged(inspector)
    assert result["status"] == "COMPLIANT", result["reason"]
    assert (f"whose metric filters cis-config-changes, cis-config-channel, publishing one "
            f"metric, together cover all 16 catalogue events; alarm {chain.alarm_arn}"
            in result["reason"])


def test_what_filters_on_one_metric_miss_together_is_named(inspector, seeder):
    chain = seeder.chain("us-east-1", pattern=RECORDER)
    _second_filter(seeder, chain, "cis-config-channel", CHANNEL.replace(
        " || ($.eventName = PutDeliveryChannel)", ""))
    result = _judged(inspector)
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"].endswith(
        "; closest, filters cis-config-changes, cis-config-channel, which publish one metric, "
        "miss together PutDeliveryChannel")


def test_filters_on_different_metrics_are_not_added_up(inspector, seeder):
    chain = seeder.chain("us-east-1", pattern=RECORDER)
    _second_filter(seeder, chain, "cis-config-channel", CHANNEL, metric="other-metric")
    result = _judged(inspector)
    assert result["status"] == "NON_COMPLIANT"
    assert "; closest, filter cis-config-changes, misses DeleteDeliveryChannel, PutDeliveryChannel" \
        in result["reason"]


def _narrowed(account: str) -> str:
    """The CIS pattern, narrowed to the records of one account."""
    return ("{ ($.eventSource = config.amazonaws.com) && ($.recipientAccountId = \"" + account
            + "\") && (($.eventName = StopConfigurationRecorder) || "
            "($.eventName = DeleteDeliveryChannel) || ($.eventName = PutDeliveryChannel) || "
            "($.eventName = PutConfigurationRecorder)) }")


def _judged(inspector) -> dict:
    """Collect and check the latest version alone (version 1 judges these differently)."""
    inspector.collect()
    [result] = inspector.check("--control", CONTROL)
    return result


def test_a_filter_narrowed_to_the_judged_account_covers_it(inspector, seeder):
    seeder.chain("us-east-1", pattern=_narrowed(DEFAULT_ACCOUNT))
    result = inspector.verdict()
    assert result["status"] == "COMPLIANT", result["reason"]


def test_a_filter_narrowed_to_another_account_covers_nothing_here(inspector, seeder):
    seeder.chain("us-east-1", pattern=_narrowed("999999999999"))
    result = _judged(inspector)
    assert result["status"] == "NON_COMPLIANT"
    assert "none of its metric filters matches any of them" in result["reason"]


def test_a_pattern_that_reads_no_account_field_is_evaluated_once(inspector, seeder):
    seeder.chain("us-east-1")
    seeder.chain("eu-west-1", prefix="narrow", pattern=_narrowed(DEFAULT_ACCOUNT))
    inspector.collect()
    inspector.check("--control", CONTROL)
    con = duckdb.connect(inspector.db, read_only=True)
    rows = dict(con.execute(
        "SELECT filter_pattern, list(judged_account_id ORDER BY judged_account_id) "
        "FROM cfgmon_pattern_coverage "
        "WHERE control_id = ? GROUP BY filter_pattern", [CONTROL]).fetchall())
    con.close()
    assert rows[CIS_CONFIG_PATTERN] == [""]
    assert rows[_narrowed(DEFAULT_ACCOUNT)] == ["", DEFAULT_ACCOUNT]


# -- metric math ---------------------------------------------------------------------


def _math_chain(seeder, expression: str, *, threshold: float = 1):
    """The CIS chain with its alarm replaced by a metric-math alarm on `expression`."""
    chain = seeder.chain("us-east-1")
    seeder.client("cloudwatch", "us-east-1").delete_alarms(AlarmNames=[chain.alarm_name])
    arn = seeder.math_alarm("us-east-1", "math-alarm",
                            [stat_query("m1", chain.metric_name), expression_query("e1", expression)],
                            alarm_actions=[chain.topic_arn], threshold=threshold)
    return chain, arn


def test_a_fill_alarm_is_evaluated_not_missed(inspector, seeder):
    _, arn = _math_chain(seeder, "FILL(m1, 0)")
    result = _judged(inspector)
    assert result["status"] == "COMPLIANT", result["reason"]
    assert f"alarm {arn} notifies SNS topic" in result["reason"]


def test_a_math_alarm_one_event_cannot_raise_is_named(inspector, seeder):
    _, arn = _math_chain(seeder, "IF(m1 > 5, 1, 0)")
    result = _judged(inspector)
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"] == (
        f"alarm {arn} does not go into ALARM on a single event "
        f"({result['evidence']['alarm_response']})")
    assert result["evidence"]["alarm_response"].startswith("expression IF(m1 > 5, 1, 0) ")


def test_a_math_alarm_cfgmon_cannot_evaluate_is_insufficient_data(inspector, seeder):
    _, arn = _math_chain(seeder, "ANOMALY_DETECTION_BAND(m1, 2)")
    result = _judged(inspector)
    assert result["status"] == "INSUFFICIENT_DATA"
    assert result["reason"].startswith(f"whether alarm {arn} goes into ALARM on a single event "
                                       "is unknown: ")
    assert "ANOMALY_DETECTION_BAND" in result["reason"]


# -- composite alarms ----------------------------------------------------------------
# moto has no PutCompositeAlarm: the composites are inserted as collected rows, the way
# the collector stores DescribeAlarms' CompositeAlarms, after a real collection.


def _composite(db: str, region: str, name: str, rule: str, topic: str | None, *,
               enabled: bool = True, suppressor: str | None = None) -> str:
    arn = f"arn:aws:cloudwatch:{region}:{DEFAULT_ACCOUNT}:alarm:{name}"
    raw = {"AlarmArn": arn, "AlarmName": name, "AlarmRule": rule, "ActionsEnabled": enabled,
           "StateValue": "OK", **({"ActionsSuppressor": suppressor} if suppressor else {})}
    con = duckdb.connect(db)
    con.execute(
        "INSERT INTO aws_cloudwatch_alarm (account_id, region, collected_at, arn, name, "
        "alarm_type, actions_enabled, state_value, alarm_rule, raw) "
        "VALUES (?, ?, now(), ?, ?, 'CompositeAlarm', ?, 'OK', ?, ?)",
        [DEFAULT_ACCOUNT, region, arn, name, enabled, rule, json.dumps(raw)])
    if topic:
        con.execute(
            "INSERT INTO aws_cloudwatch_alarm_action VALUES (?, ?, now(), ?, 'ALARM', 0, ?)",
            [DEFAULT_ACCOUNT, region, arn, topic])
    con.close()
    return arn


def _silent_chain(seeder):
    """The CIS chain whose metric alarm notifies no one itself (no actions)."""
    chain = seeder.chain("us-east-1")
    seeder.alarm("us-east-1", chain.alarm_name, metric_name=chain.metric_name,
                 alarm_actions=[], actions_enabled=False)
    return chain


def _check_latest(inspector) -> dict:
    [result] = inspector.check("--control", CONTROL)
    return result


def test_a_composite_that_the_alarm_alone_raises_notifies_for_it(inspector, seeder):
    chain = _silent_chain(seeder)
    inspector.collect()
    composite = _composite(inspector.db, "us-east-1", "security-events",
                           f'ALARM("{chain.alarm_name}") OR ALARM(other-alarm)', chain.topic_arn)
    result = _check_latest(inspector)
    assert result["status"] == "COMPLIANT", result["reason"]
    assert f"alarm {chain.alarm_arn}, through composite alarm {composite}, notifies SNS topic " \
        in result["reason"]
    assert result["evidence"]["composite_alarm_arn"] == composite


def test_a_nested_composite_counts_too(inspector, seeder):
    chain = _silent_chain(seeder)
    inspector.collect()
    inner = _composite(inspector.db, "us-east-1", "inner", f"ALARM({chain.alarm_arn})", None)
    outer = _composite(inspector.db, "us-east-1", "outer", f"ALARM({inner}) OR FALSE",
                       chain.topic_arn)
    result = _check_latest(inspector)
    assert result["status"] == "COMPLIANT", result["reason"]
    assert result["evidence"]["composite_alarm_arn"] == outer


def test_a_composite_that_needs_another_alarm_too_does_not_count(inspector, seeder):
    chain = _silent_chain(seeder)
    seeder.alarm("us-east-1", "quiet-partner", metric_name="nothing-here", alarm_actions=[])
    inspector.collect()
    _composite(inspector.db, "us-east-1", "both", f"ALARM({chain.alarm_name}) AND "
               "ALARM(quiet-partner)", chain.topic_arn)
    result = _check_latest(inspector)
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"] == f"alarm {chain.alarm_arn} has its actions disabled"


def test_a_composite_suppressed_by_the_alarm_itself_or_disabled_does_not_count(inspector, seeder):
    chain = _silent_chain(seeder)
    inspector.collect()
    _composite(inspector.db, "us-east-1", "suppressed", f"ALARM({chain.alarm_name})",
               chain.topic_arn, suppressor=chain.alarm_name)
    _composite(inspector.db, "us-east-1", "disabled", f"ALARM({chain.alarm_name})",
               chain.topic_arn, enabled=False)
    assert _check_latest(inspector)["status"] == "NON_COMPLIANT"


# -- SNS delivery --------------------------------------------------------------------

CLOUDWATCH_USES_KEY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "account", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{DEFAULT_ACCOUNT}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "cloudwatch", "Effect": "Allow",
         "Principal": {"Service": "cloudwatch.amazonaws.com"},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"},
    ],
}


def _encrypted_chain(seeder, key: str):
    chain = seeder.chain("us-east-1")
    seeder.client("sns", "us-east-1").set_topic_attributes(
        TopicArn=chain.topic_arn, AttributeName="KmsMasterKeyId", AttributeValue=key)
    return chain


def test_a_topic_encrypted_with_the_aws_managed_key_cannot_notify(inspector, seeder):
    chain = _encrypted_chain(seeder, "alias/aws/sns")
    result = _judged(inspector)
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"] == (
        f"SNS topic {chain.topic_arn} of alarm {chain.alarm_arn} cannot deliver its "
        "notification: it is encrypted with the AWS managed key alias/aws/sns, which "
        "CloudWatch cannot use")
    assert result["evidence"]["broken_link"] == 14


def test_a_customer_key_cloudwatch_may_use_delivers(inspector, seeder):
    key = seeder.kms_key("us-east-1", policy=CLOUDWATCH_USES_KEY)
    _encrypted_chain(seeder, key)
    result = _judged(inspector)
    assert result["status"] == "COMPLIANT", result["reason"]
    assert result["evidence"]["topic_kms_key"] == key


def test_a_customer_key_without_cloudwatch_cannot_notify(inspector, seeder):
    key = seeder.kms_key("us-east-1")  # KMS's default policy: the account alone
    _encrypted_chain(seeder, key)
    result = _judged(inspector)
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"].endswith(
        f"cannot deliver its notification: the policy of its KMS key {key} does not let "
        "cloudwatch.amazonaws.com use it (kms:Decrypt, kms:GenerateDataKey*)")


def test_a_subscription_filtering_on_attributes_is_not_a_working_one(inspector, seeder):
    chain = seeder.chain("us-east-1", subscriptions=())
    subscription = seeder.subscription(chain.topic_arn, attributes={
        "FilterPolicy": json.dumps({"severity": ["high"]})})
    result = _judged(inspector)
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"] == (
        f"SNS topic {chain.topic_arn} of alarm {chain.alarm_arn} has no confirmed subscription "
        f"that receives alarm notifications (1 filtered out by a filter policy: {subscription} "
        "filters on message attributes, which alarm notifications do not carry)")


def test_a_subscription_for_this_alarm_alone_serves_its_chain(inspector, seeder):
    # Another alarm on the topic is filtered away from it: that is no concern of the
    # chain, which follows its own alarm.
    chain = seeder.chain("us-east-1", subscriptions=())
    seeder.alarm("us-east-1", "billing", metric_name="EstimatedCharges",
                 alarm_actions=[chain.topic_arn])
    seeder.subscription(chain.topic_arn, attributes={
        "FilterPolicyScope": "MessageBody",
        "FilterPolicy": json.dumps({"AlarmName": [chain.alarm_name]})})
    result = _judged(inspector)
    assert result["status"] == "COMPLIANT", result["reason"]


def test_filters_on_one_metric_with_different_default_values_are_not_added_up(inspector, seeder):
    # The channel filter's default value is published for every other log event: the
    # metric the alarm sees is not the two filters' events alone.
    chain = seeder.chain("us-east-1", pattern=RECORDER)
    seeder.client("logs", "us-east-1").put_metric_filter(
        logGroupName=chain.log_group_name, filterName="cis-config-channel", filterPattern=CHANNEL,
        metricTransformations=[{"metricName": chain.metric_name, "metricNamespace": chain.namespace,
                                "metricValue": "1", "defaultValue": 0}])
    result = _judged(inspector)
    assert result["status"] == "NON_COMPLIANT"
    assert "together" not in result["reason"]
