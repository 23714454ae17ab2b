"""The fix fixes: the plan `check --format json` carries, applied through boto3 to the moto
account it was written for, makes the next collection and check COMPLIANT.

The calls are built from the plan's own steps (service, operation, parameters), the
same steps the AWS CLI text and the Terraform are rendered from.
"""

from __future__ import annotations

import json

import pytest
from botocore import xform_name
from clirun import run_cli

from cfgmon.simulation.seed import CIS_CONFIG_PATTERN

from .conftest import CONTROL

WITHOUT_RECORDER = (
    "{ ($.eventSource = config.amazonaws.com) && (($.eventName = StopConfigurationRecorder) || "
    "($.eventName = DeleteDeliveryChannel) || ($.eventName = PutDeliveryChannel)) }"
)


def _delete_alarm(seeder):
    chain = seeder.chain("us-east-1")
    seeder.client("cloudwatch", "us-east-1").delete_alarms(AlarmNames=[chain.alarm_name])


def _delete_topic(seeder):
    chain = seeder.chain("us-east-1")
    seeder.client("sns", "us-east-1").delete_topic(TopicArn=chain.topic_arn)


def _key_without_cloudwatch(seeder):
    chain = seeder.chain("us-east-1")
    key = seeder.kms_key("us-east-1")  # KMS's default policy: the account alone
    seeder.client("sns", "us-east-1").set_topic_attributes(
        TopicArn=chain.topic_arn, AttributeName="KmsMasterKeyId", AttributeValue=key)


# name: (how the account is broken, the link that breaks, what the fix's steps call)
CASES = {
    "a filter missing an event": (lambda s: s.chain("us-east-1", pattern=WITHOUT_RECORDER), 7,
                                  ["PutMetricFilter"]),
    "no alarm on the metric": (_delete_alarm, 9, ["PutMetricAlarm"]),
    "alarm actions disabled": (lambda s: s.chain("us-east-1", actions_enabled=False), 10,
                               ["PutMetricAlarm"]),
    "a threshold of 3 events": (lambda s: s.chain("us-east-1", threshold=3), 11, ["PutMetricAlarm"]),
    "a topic nobody subscribed to": (lambda s: s.chain("us-east-1", subscriptions=()), 14,
                                     ["Subscribe"]),
    "an alarm notifying a deleted topic": (_delete_topic, 13, ["CreateTopic", "Subscribe"]),
    "a trail that is not logging": (lambda s: s.chain("us-east-1", logging=False), 3,
                                    ["StartLogging"]),
    "a single-region trail": (lambda s: s.chain("us-east-1", multi_region=False), 2,
                              ["UpdateTrail"]),
    "a topic key CloudWatch may not use": (_key_without_cloudwatch, 14, ["PutKeyPolicy"]),
}


def _check(inspector, control: str = CONTROL) -> dict:
    result = run_cli("check", "--db", inspector.db, "--control", control, "--format", "json")
    assert result.exit_code in (0, 1), result.stderr
    (verdict,) = json.loads(result.stdout)
    return verdict


def apply(aws, steps: list[dict]) -> None:
    """Each step's API call through boto3, as the plan states it."""
    for step in steps:
        _call(aws.client(step["service"], step["region"]), step)


def apply_as(aws, steps: list[dict]) -> None:
    """The same, each step in the account it names."""
    for step in steps:
        credentials = aws.account_credentials(step["account_id"])
        _call(aws.client(step["service"], step["region"], **credentials), step)


def _call(client, step: dict) -> None:
    if step["operation"] == "PutMetricFilter":
        # AWS replaces a filter of the same name; moto 5 appends a second one instead
        client.delete_metric_filter(logGroupName=step["params"]["logGroupName"],
                                    filterName=step["params"]["filterName"])
    getattr(client, xform_name(step["operation"]))(**step["params"])


@pytest.mark.parametrize("case", CASES)
def test_the_planned_fix_makes_the_account_compliant(aws, seeder, inspector, case):
    build, link, operations = CASES[case]
    build(seeder)
    inspector.collect()
    before = _check(inspector)
    assert (before["status"], before["evidence"]["broken_link"]) == ("NON_COMPLIANT", link), before
    fix = before["remediation"]
    assert [s["operation"] for s in fix["steps"]] == operations, fix["cli"]
    assert {s["account_id"] for s in fix["steps"]} == {before["account_id"]}

    apply(aws, fix["steps"])
    inspector.collect()
    after = _check(inspector)
    assert after["status"] == "COMPLIANT", (after["reason"], fix["cli"])
    assert "remediation" not in after


def test_a_corrected_filter_keeps_the_users_own_narrowing(aws, seeder, inspector):
    seeder.chain("us-east-1", pattern=WITHOUT_RECORDER)
    inspector.collect()
    (step,) = _check(inspector)["remediation"]["steps"]
    pattern = step["params"]["filterPattern"]
    assert "$.eventSource = config.amazonaws.com" in pattern      # the user's narrowing stays
    assert "$.eventName = PutConfigurationRecorder" in pattern    # the missed event is added
    assert step["params"]["metricTransformations"] == [
        {"metricName": "cis-config-changes", "metricNamespace": "CISBenchmark", "metricValue": "1"}]
    assert step["title"].startswith("correct the pattern of metric filter cis-config-changes")


def test_a_filter_of_another_shape_gets_the_reference_pattern(aws, seeder, inspector):
    and_for_or = CIS_CONFIG_PATTERN.replace("||", "&&")
    seeder.chain("us-east-1", pattern=and_for_or)
    inspector.collect()
    verdict = _check(inspector)
    (step,) = verdict["remediation"]["steps"]
    assert step["params"]["filterName"] == "cis-config-changes"
    assert step["params"]["filterPattern"] == _reference()
    assert "use the reference pattern of cis-aws@7.0.0" in step["title"]


def test_only_non_compliant_results_carry_a_remediation(aws, seeder, inspector):
    seeder.chain("us-east-1")
    inspector.collect()
    assert "remediation" not in _check(inspector)


def _reference(control: str = CONTROL) -> str:
    from cfgmon.controls import resolve

    return resolve(control).control.reference_for("cis-aws@7.0.0")


def test_a_stored_run_is_planned_on_its_own_filter_after_the_trail_moved(aws, seeder, inspector):
    # `cfgmon fix` plans the latest stored run against the latest collection: a trail
    # that delivers elsewhere since must not make the run's filter look missing (which
    # would plan a second filter and alarm beside it)
    chain = seeder.chain("us-east-1", pattern=WITHOUT_RECORDER)
    inspector.collect()
    assert _check(inspector)["evidence"]["broken_link"] == 7
    seeder.client("cloudtrail", "us-east-1").update_trail(
        Name=chain.trail_name,
        CloudWatchLogsLogGroupArn=seeder.log_group("us-east-1", "moved-trail-logs"),
        CloudWatchLogsRoleArn=f"arn:aws:iam::{chain.account_id}:role/CloudTrail_CloudWatchLogs_Role")
    inspector.collect()
    result = run_cli("fix", "--db", inspector.db)
    assert result.exit_code == 0, result.stderr
    assert ("correct the pattern of metric filter cis-config-changes on log group "
            "cis-cloudtrail-logs") in result.stdout, result.stdout
    assert "put-metric-alarm" not in result.stdout


def test_of_two_filters_on_one_metric_the_one_matching_ordinary_traffic_is_named_and_fixed(
        aws, seeder, inspector):
    # the trail's changes in one filter, its logging in another that also counts every
    # AssumeRole (sts): together they cover, but their alarm never leaves ALARM
    control = "cloudtrail_configuration_changes_monitoring"
    changes = ("{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail)"
               " || ($.eventName = DeleteTrail) }")
    logging = ("{ ($.eventName = StartLogging) || ($.eventName = StopLogging)"
               " || ($.eventSource = sts.amazonaws.com) }")
    chain = seeder.chain("us-east-1", pattern=changes)
    seeder.metric_filter("us-east-1", chain.log_group_name, "zz-logging", pattern=logging,
                         metric_name=chain.metric_name, namespace=chain.namespace)
    inspector.collect()
    before = _check(inspector, control)
    assert before["evidence"]["broken_link"] == 7, before["reason"]
    assert "but filter zz-logging also matches ordinary traffic" in before["reason"]
    assert before["evidence"]["ordinary_traffic_filter_name"] == "zz-logging"
    (step,) = before["remediation"]["steps"]
    assert step["params"]["filterName"] == "zz-logging"
    assert "it also matches ordinary traffic" in step["title"]
    apply(aws, [step])
    inspector.collect()
    after = _check(inspector, control)
    assert after["status"] == "COMPLIANT", (after["reason"], before["remediation"]["cli"])


def test_another_control_s_filter_on_the_metric_is_left_alone_and_this_one_gets_its_own(
        aws, seeder, inspector):
    # one metric, one alarm: the CIS CloudTrail-changes filter and a console sign-in
    # filter (which keeps console_sign_in_without_mfa COMPLIANT); every sign-in is
    # ordinary traffic for the CloudTrail control, whose fix must not break the other
    control, console = ("cloudtrail_configuration_changes_monitoring",
                        "console_sign_in_without_mfa_monitoring")
    chain = seeder.chain("us-east-1", pattern=_reference(control))
    seeder.metric_filter("us-east-1", chain.log_group_name, "console-sign-ins",
                         pattern='{ $.eventName = "ConsoleLogin" }',
                         metric_name=chain.metric_name, namespace=chain.namespace)
    inspector.collect()
    assert _check(inspector, console)["status"] == "COMPLIANT"
    before = _check(inspector, control)
    assert before["evidence"]["ordinary_traffic_filter_name"] == "console-sign-ins", before["reason"]
    steps = before["remediation"]["steps"]
    assert [s["operation"] for s in steps] == ["PutMetricFilter", "PutMetricAlarm"]
    assert steps[0]["params"]["filterName"] not in ("console-sign-ins", chain.filter_name)
    assert any("console-sign-ins" in note for note in before["remediation"]["notes"])
    apply(aws, steps)
    inspector.collect()
    after = _check(inspector, control)
    assert after["status"] == "COMPLIANT", (after["reason"], before["remediation"]["cli"])
    assert _check(inspector, console)["status"] == "COMPLIANT"

def test_a_log_group_holding_only_another_control_s_filter_gets_one_of_its_own(
        aws, seeder, inspector):
    # the trail's log group has the AWS Config filter only: it names none of the
    # CloudTrail control's events, so it is not this control's attempt to correct
    control = "cloudtrail_configuration_changes_monitoring"
    chain = seeder.chain("us-east-1", pattern=CIS_CONFIG_PATTERN)
    inspector.collect()
    before = _check(inspector, control)
    assert before["status"] == "NON_COMPLIANT", before["reason"]
    steps = before["remediation"]["steps"]
    assert [s["operation"] for s in steps] == ["PutMetricFilter", "PutMetricAlarm"], steps
    assert steps[0]["params"]["filterName"] != chain.filter_name
    assert steps[0]["params"]["filterPattern"] == _reference(control)
    apply(aws, steps)
    inspector.collect()
    after = _check(inspector, control)
    assert after["status"] == "COMPLIANT", (after["reason"], before["remediation"]["cli"])
    assert _check(inspector)["status"] == "COMPLIANT"   # the Config filter, as it was


def test_a_user_s_attempt_is_corrected_not_another_control_s_filter_beside_it(
        seeder, inspector):
    control = "cloudtrail_configuration_changes_monitoring"
    chain = seeder.chain("us-east-1", pattern=CIS_CONFIG_PATTERN)
    seeder.metric_filter("us-east-1", chain.log_group_name, "trail-changes",
                         pattern="{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) }",
                         metric_name="TrailChanges", namespace=chain.namespace)
    inspector.collect()
    steps = _check(inspector, control)["remediation"]["steps"]
    assert steps[0]["operation"] == "PutMetricFilter"
    assert steps[0]["params"]["filterName"] == "trail-changes", steps
    assert "correct the pattern of metric filter trail-changes" in steps[0]["title"]


def test_the_new_filter_publishes_a_metric_no_other_filter_does(aws, seeder, inspector):
    # the chain's shared metric is already called as cfgmon would call the new one
    control = "cloudtrail_configuration_changes_monitoring"
    chain = seeder.chain("us-east-1", pattern=_reference(control),
                         metric_name="cloudtrail-configuration-changes")
    seeder.metric_filter("us-east-1", chain.log_group_name, "console-sign-ins",
                         pattern='{ $.eventName = "ConsoleLogin" }',
                         metric_name=chain.metric_name, namespace=chain.namespace)
    inspector.collect()
    before = _check(inspector, control)
    steps = before["remediation"]["steps"]
    published = steps[0]["params"]["metricTransformations"][0]
    assert (published["metricNamespace"], published["metricName"]) != (
        chain.namespace, chain.metric_name), before["remediation"]["cli"]
    apply(aws, steps)
    inspector.collect()
    after = _check(inspector, control)
    assert after["status"] == "COMPLIANT", (after["reason"], before["remediation"]["cli"])


def test_the_control_s_own_too_broad_filter_is_corrected_in_place(aws, seeder, inspector):
    control = "cloudtrail_configuration_changes_monitoring"
    chain = seeder.chain("us-east-1", pattern='{ $.eventSource = "*" }')
    inspector.collect()
    before = _check(inspector, control)
    assert before["evidence"]["ordinary_traffic_filter_name"] == chain.filter_name
    (step,) = before["remediation"]["steps"]
    assert step["params"]["filterName"] == chain.filter_name
    apply(aws, [step])
    inspector.collect()
    assert _check(inspector, control)["status"] == "COMPLIANT"
