"""Each link of the chain, broken alone in an otherwise compliant account.

The account is built in a real moto server, collected with `cfgmon collect` and
judged with `cfgmon check`; each test asserts the verdict and the reason a user sees.
"""

from __future__ import annotations

import json

import duckdb
from clirun import run_cli

from cfgmon.simulation import CIS_CONFIG_PATTERN, Seeder, expression_query, stat_query

from .conftest import LATEST

# These tests are about one control; `check` alone runs the whole family.
CONFIG_CONTROL = "config_configuration_changes_monitoring"

OTHER_ACCOUNT = "222222222222"


def test_complete_chain_is_compliant_with_evidence(inspector, seeder):
    chain = seeder.chain("us-east-1")
    result = inspector.verdict()
    assert result["status"] == "COMPLIANT", result["reason"]
    evidence = result["evidence"]
    assert evidence["trail_arn"] == chain.trail_arn
    assert evidence["log_group_arn"] == chain.log_group_arn.removesuffix(":*")
    assert evidence["metric_filter_name"] == chain.filter_name
    assert evidence["alarm_arn"] == chain.alarm_arn
    assert evidence["topic_arn"] == chain.topic_arn
    assert evidence["subscription_arn"] == chain.subscription_arns[0]
    assert evidence["events_matched"] == evidence["events_total"] == 16
    assert evidence["pattern_broader_than_reference"] is False
    assert result["control_id"] == "config_configuration_changes_monitoring"
    assert result["control_version"] == LATEST  # the latest, on the shared chain
    assert result["account_id"] == chain.account_id


def test_no_trail(inspector, seeder):
    seeder.chain("us-east-1", with_trail=False)
    result = inspector.verdict()
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"] == f"no CloudTrail trail applies to account {seeder.account_id}"


def test_single_region_trail(inspector, seeder):
    chain = seeder.chain("us-east-1", multi_region=False)
    result = inspector.verdict()
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"] == f"trail {chain.trail_arn} is not multi-region"
    assert result["resource"] == chain.trail_arn


def test_stopped_trail(inspector, seeder):
    chain = seeder.chain("us-east-1", logging=False)
    result = inspector.verdict()
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"] == f"trail {chain.trail_arn} is not logging"


V1_TRAIL_RULE = "does not log all management events, read and write"
ALL_FOUR = ("StopConfigurationRecorder, DeleteDeliveryChannel, PutDeliveryChannel, "
            "PutConfigurationRecorder")


def test_write_only_management_events(inspector, seeder):
    chain = seeder.chain(
        "us-east-1",
        event_selectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}],
    )
    verdicts = inspector.verdicts()
    # version 1 asks for all management events; the chain asks for the control's own
    # events, and every AWS Config change is a write
    assert verdicts["1"]["status"] == "NON_COMPLIANT"
    assert verdicts["1"]["reason"] == f"trail {chain.trail_arn} {V1_TRAIL_RULE}"
    assert verdicts[LATEST]["status"] == "COMPLIANT"


def test_management_events_excluded(inspector, seeder):
    chain = seeder.chain(
        "us-east-1",
        event_selectors=[{"ReadWriteType": "All", "IncludeManagementEvents": False,
                          "DataResources": [{"Type": "AWS::S3::Object",
                                             "Values": ["arn:aws:s3:::bucket/"]}]}],
    )
    verdicts = inspector.verdicts()
    assert V1_TRAIL_RULE in verdicts["1"]["reason"]
    assert verdicts[LATEST]["status"] == "NON_COMPLIANT"
    assert verdicts[LATEST]["reason"] == (
        f"trail {chain.trail_arn} does not record all AWS Config change events: it misses "
        f"{ALL_FOUR} (no event selector records management events)"
    )


def test_read_and_write_selectors_together_capture_all(inspector, seeder):
    seeder.chain(
        "us-east-1",
        event_selectors=[
            {"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True},
            {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True},
        ],
    )
    assert inspector.verdict()["status"] == "COMPLIANT"


def test_advanced_selector_on_management_events(inspector, seeder):
    seeder.chain(
        "us-east-1",
        advanced_event_selectors=[{
            "Name": "Management events",
            "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}],
        }],
    )
    assert inspector.verdict()["status"] == "COMPLIANT"


def test_advanced_selector_read_only(inspector, seeder):
    chain = seeder.chain(
        "us-east-1",
        advanced_event_selectors=[{
            "Name": "Reads only",
            "FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Management"]},
                {"Field": "readOnly", "Equals": ["true"]},
            ],
        }],
    )
    verdicts = inspector.verdicts()
    assert verdicts["1"]["status"] == verdicts[LATEST]["status"] == "NON_COMPLIANT"
    assert verdicts["1"]["reason"] == f"trail {chain.trail_arn} {V1_TRAIL_RULE}"
    assert verdicts[LATEST]["reason"] == (
        f"trail {chain.trail_arn} does not record all AWS Config change events: it misses "
        f"{ALL_FOUR} (its advanced event selector on management events requires readOnly "
        "Equals true)"
    )


def test_advanced_selector_for_data_events_only(inspector, seeder):
    seeder.chain(
        "us-east-1",
        advanced_event_selectors=[{
            "Name": "S3 data events",
            "FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Data"]},
                {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            ],
        }],
    )
    verdicts = inspector.verdicts()
    assert V1_TRAIL_RULE in verdicts["1"]["reason"]
    assert f"misses {ALL_FOUR} (its advanced event selectors" in verdicts[LATEST]["reason"]


def test_trail_without_cloudwatch_logs(inspector, seeder):
    seeder.chain("us-east-1", with_trail=False)
    arn = seeder.trail("us-east-1", "no-cwl-trail")
    result = inspector.verdict()
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"] == f"trail {arn} does not deliver to CloudWatch Logs"


def test_log_group_matched_by_full_arn_not_name(inspector, seeder):
    # A log group of the same name exists in us-east-1, but the trail delivers to
    # eu-west-1, where there is none. Joining on the name alone would pass.
    seeder.chain("us-east-1", with_trail=False)
    missing_arn = f"arn:aws:logs:eu-west-1:{seeder.account_id}:log-group:cis-cloudtrail-logs:*"
    trail_arn = seeder.trail("us-east-1", "cis-trail", log_group_arn=missing_arn)
    result = inspector.verdict("us-east-1", "eu-west-1")
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"] == (
        f"trail {trail_arn} delivers to log group {missing_arn.removesuffix(':*')}, "
        "which does not exist"
    )


def test_log_group_in_a_region_not_collected_is_insufficient_data(inspector, seeder):
    seeder.chain("us-east-1", with_trail=False)
    elsewhere = f"arn:aws:logs:ap-south-1:{seeder.account_id}:log-group:cis-cloudtrail-logs:*"
    seeder.trail("us-east-1", "cis-trail", log_group_arn=elsewhere)
    result = inspector.verdict("us-east-1")
    assert result["status"] == "INSUFFICIENT_DATA"
    assert "ap-south-1 was not collected" in result["reason"]


def test_and_instead_of_or_is_not_covered(inspector, seeder):
    # Regex-based tools pass this pattern: every event name is present.
    pattern = (
        "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)"
        "&&($.eventName=DeleteDeliveryChannel)&&($.eventName=PutDeliveryChannel)"
        "&&($.eventName=PutConfigurationRecorder)) }"
    )
    chain = seeder.chain("us-east-1", pattern=pattern)
    result = inspector.verdict()
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"] == (
        f"log group {chain.log_group_arn.removesuffix(':*')} has no metric filter covering all 4 "
        f"AWS Config change events; none of its metric filters matches any of them "
        f"(filter {chain.filter_name} among them)"
    )


def test_missing_event_name_is_named(inspector, seeder):
    pattern = (
        "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)"
        "||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)) }"
    )
    seeder.chain("us-east-1", pattern=pattern)
    result = inspector.verdict()
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"].endswith("misses PutConfigurationRecorder")
    assert result["evidence"]["events_matched"] == 12


def test_extra_condition_narrows_the_filter(inspector, seeder):
    # Only successful calls: failed attempts to stop the recorder go unseen.
    pattern = "{ (" + CIS_CONFIG_PATTERN.strip()[1:-1] + ") && $.errorCode NOT EXISTS }"
    seeder.chain("us-east-1", pattern=pattern)
    result = inspector.verdict()
    assert result["status"] == "NON_COMPLIANT"
    assert "failed (AccessDenied)" in result["reason"]


def test_broader_wildcard_pattern_complies_and_says_so(inspector, seeder):
    pattern = (
        '{ ($.eventSource = "config.amazonaws.com") && (($.eventName = "Stop*") || '
        '($.eventName = "*DeliveryChannel") || ($.eventName = "Put*")) }'
    )
    seeder.chain("us-east-1", pattern=pattern)
    result = inspector.verdict()
    assert result["status"] == "COMPLIANT", result["reason"]
    assert result["evidence"]["pattern_broader_than_reference"] is True
    assert "broader than the CIS reference pattern" in result["reason"]


def test_quoted_multiline_pattern_complies(inspector, seeder):
    pattern = (
        '{\n  ($.eventSource = "config.amazonaws.com") &&\n'
        '  (\n    ($.eventName = "PutConfigurationRecorder") ||\n'
        '    ($.eventName = "StopConfigurationRecorder") ||\n'
        '    ($.eventName = "PutDeliveryChannel") ||\n'
        '    ($.eventName = "DeleteDeliveryChannel")\n  )\n}'
    )
    seeder.chain("us-east-1", pattern=pattern)
    assert inspector.verdict()["status"] == "COMPLIANT"


def test_invalid_pattern_is_reported_as_invalid(inspector, seeder):
    pattern = CIS_CONFIG_PATTERN.replace("PutConfigurationRecorder))", "PutConfigurationRecorder)")
    chain = seeder.chain("us-east-1", pattern=pattern)
    result = inspector.verdict()
    assert result["status"] == "NON_COMPLIANT"
    assert f"closest, filter {chain.filter_name}, has an invalid pattern: " in result["reason"]


def test_metric_value_must_be_positive(inspector, seeder):
    chain = seeder.chain("us-east-1", metric_value="0")
    result = inspector.verdict()
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"] == (
        f"metric filter {chain.filter_name} on log group "
        f"{chain.log_group_arn.removesuffix(':*')} publishes metric value '0', "
        "not a positive number"
    )


def test_alarm_in_wrong_namespace(inspector, seeder):
    chain = seeder.chain("us-east-1", alarm_namespace="LogMetrics")
    result = inspector.verdict()
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"] == (
        f"no alarm in account {seeder.account_id} region us-east-1 watches metric "
        f"CISBenchmark/{chain.metric_name} of metric filter {chain.filter_name}; "
        f"closest: alarm {chain.alarm_arn} in the same account watches "
        f"LogMetrics/{chain.metric_name}, but in namespace LogMetrics, not CISBenchmark "
        "(an alarm sees only metrics of its own account and region, with the same namespace, "
        "dimensions and unit)"
    )


def test_alarm_in_another_region_does_not_count(inspector, seeder):
    # Alarms only see metrics of their own region.
    chain = seeder.chain("us-east-1", prefix="a")
    inspector.collect()
    client = seeder.client("cloudwatch", "us-east-1")
    client.delete_alarms(AlarmNames=[chain.alarm_name])
    seeder.alarm("eu-west-1", chain.alarm_name, metric_name=chain.metric_name,
                 alarm_actions=[chain.topic_arn])
    result = inspector.verdict()
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"].startswith(
        f"no alarm in account {seeder.account_id} region us-east-1 watches metric"
    )
    assert result["reason"].endswith(
        f"; closest: alarm {seeder.alarm_arn('eu-west-1', chain.alarm_name)} in the same "
        f"account watches CISBenchmark/{chain.metric_name}, but in region eu-west-1, not "
        "us-east-1 (an alarm sees only metrics of its own account and region, with the same "
        "namespace, dimensions and unit)"
    )


def test_near_miss_prefers_the_metrics_own_account_and_never_names_an_unrelated_one(
    aws, tmp_path, seeder
):
    # Another collected account, in no organisation with this one, has an alarm on a
    # metric of the same name in the same region: it is no near miss of this account.
    other = Seeder(aws, OTHER_ACCOUNT)
    other.chain("us-east-1", prefix="a")
    chain = seeder.chain("us-east-1", prefix="a")
    seeder.client("cloudwatch", "us-east-1").delete_alarms(AlarmNames=[chain.alarm_name])
    db = str(tmp_path / "two.duckdb")
    collected = run_cli("collect", "--db", db, "--endpoint-url", aws.endpoint,
                        "--region", "us-east-1", "--region", "eu-west-1",
                        "--account", seeder.account_id, "--account", OTHER_ACCOUNT)
    assert collected.exit_code == 0, collected.stderr
    results = {r["account_id"]: r for r in json.loads(
        run_cli("check", "--db", db, "--control", CONFIG_CONTROL, "--format", "json").stdout)}
    reason = results[seeder.account_id]["reason"]
    assert reason == (
        f"no alarm in account {seeder.account_id} region us-east-1 watches metric "
        f"CISBenchmark/{chain.metric_name} of metric filter {chain.filter_name}"
    )
    assert OTHER_ACCOUNT not in reason

    # Its own alarm in another region is the near miss, named as in its own account.
    seeder.alarm("eu-west-1", chain.alarm_name, metric_name=chain.metric_name,
                 alarm_actions=[chain.topic_arn])
    run_cli("collect", "--db", db, "--endpoint-url", aws.endpoint, "--region", "eu-west-1",
            "--account", seeder.account_id)
    results = {r["account_id"]: r for r in json.loads(
        run_cli("check", "--db", db, "--control", CONFIG_CONTROL, "--format", "json").stdout)}
    reason = results[seeder.account_id]["reason"]
    assert f"closest: alarm {seeder.alarm_arn('eu-west-1', chain.alarm_name)} in the same account" in reason
    assert "in region eu-west-1, not us-east-1" in reason and OTHER_ACCOUNT not in reason


def test_alarm_actions_disabled(inspector, seeder):
    chain = seeder.chain("us-east-1", actions_enabled=False)
    result = inspector.verdict()
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"] == f"alarm {chain.alarm_arn} has its actions disabled"
    assert result["resource"] == chain.alarm_arn


def test_alarm_threshold_too_high(inspector, seeder):
    chain = seeder.chain("us-east-1", threshold=5)
    result = inspector.verdict()
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"] == (
        f"alarm {chain.alarm_arn} does not go into ALARM on a single event "
        "(Sum GreaterThanOrEqualToThreshold 5, 1 of 1 datapoints)"
    )


def test_alarm_on_less_than(inspector, seeder):
    seeder.chain("us-east-1", comparison_operator="LessThanThreshold")
    assert "does not go into ALARM on a single event" in inspector.verdict()["reason"]


def test_alarm_needing_two_datapoints(inspector, seeder):
    seeder.chain("us-east-1", evaluation_periods=2)
    result = inspector.verdict()
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"].endswith("2 of 2 datapoints)")


def test_alarm_without_sns_alarm_action(inspector, seeder):
    chain = seeder.chain("us-east-1")
    seeder.alarm("us-east-1", chain.alarm_name, metric_name=chain.metric_name,
                 ok_actions=[chain.topic_arn])  # only told when things go back to OK
    result = inspector.verdict()
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"] == f"alarm {chain.alarm_arn} has no SNS topic among its ALARM actions"


def test_alarm_notifies_a_topic_that_does_not_exist(inspector, seeder):
    chain = seeder.chain("us-east-1")
    gone = f"arn:aws:sns:us-east-1:{seeder.account_id}:deleted-topic"
    seeder.alarm("us-east-1", chain.alarm_name, metric_name=chain.metric_name,
                 alarm_actions=[gone])
    result = inspector.verdict()
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"] == (
        f"alarm {chain.alarm_arn} notifies SNS topic {gone}, which does not exist"
    )


def test_topic_without_subscriptions(inspector, seeder):
    chain = seeder.chain("us-east-1", subscriptions=())
    result = inspector.verdict()
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"] == (
        f"SNS topic {chain.topic_arn} of alarm {chain.alarm_arn} has no confirmed subscription"
    )


def test_pending_subscription_is_not_confirmed(inspector, seeder):
    # moto confirms every subscription, so the collected row is turned into what
    # the collector stores for AWS's 'PendingConfirmation' answer.
    chain = seeder.chain("us-east-1")
    inspector.collect()
    con = duckdb.connect(inspector.db)
    con.execute(
        "UPDATE aws_sns_topic_subscription SET pending_confirmation = TRUE, "
        "subscription_arn = 'PendingConfirmation'"
    )
    con.close()
    result = inspector.check()[0]
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"] == (
        f"SNS topic {chain.topic_arn} of alarm {chain.alarm_arn} has no confirmed "
        "subscription (1 pending confirmation)"
    )


def test_metric_math_alarm_with_metric_stat_returning_data(inspector, seeder):
    chain = seeder.chain("us-east-1")
    seeder.client("cloudwatch", "us-east-1").delete_alarms(AlarmNames=[chain.alarm_name])
    seeder.math_alarm("us-east-1", "math-alarm",
                      [stat_query("m1", chain.metric_name, return_data=True)],
                      alarm_actions=[chain.topic_arn])
    result = inspector.verdict()
    assert result["status"] == "COMPLIANT", result["reason"]
    assert result["evidence"]["alarm_arn"].endswith(":alarm:math-alarm")


def test_metric_math_alarm_on_an_expression_only(inspector, seeder):
    chain = seeder.chain("us-east-1")
    seeder.client("cloudwatch", "us-east-1").delete_alarms(AlarmNames=[chain.alarm_name])
    seeder.math_alarm("us-east-1", "math-alarm",
                      [stat_query("m1", chain.metric_name),
                       expression_query("e1", "m1 * 2")],
                      alarm_actions=[chain.topic_arn])
    result = inspector.verdict()
    assert result["status"] == "NON_COMPLIANT"
    assert "watches metric" in result["reason"]


def test_filter_dimensions_must_be_matched_by_the_alarm(inspector, seeder):
    chain = seeder.chain("us-east-1")
    logs = seeder.client("logs", "us-east-1")
    logs.delete_metric_filter(logGroupName=chain.log_group_name, filterName=chain.filter_name)
    seeder.metric_filter("us-east-1", chain.log_group_name, chain.filter_name,
                         metric_name=chain.metric_name,
                         dimensions={"EventSource": "$.eventSource"})
    # The alarm has no dimensions: it watches a metric the filter never publishes.
    assert inspector.verdict()["status"] == "NON_COMPLIANT"
    seeder.alarm("us-east-1", chain.alarm_name, metric_name=chain.metric_name,
                 alarm_actions=[chain.topic_arn],
                 dimensions={"EventSource": "config.amazonaws.com"})
    assert inspector.verdict()["status"] == "COMPLIANT"


def test_one_good_chain_among_broken_ones_complies(inspector, seeder):
    seeder.chain("eu-west-1", prefix="broken", threshold=10)
    seeder.chain("us-east-1", prefix="good")
    result = inspector.verdict()
    assert result["status"] == "COMPLIANT"
    assert result["evidence"]["metric_filter_name"] == "good-config-changes"


def test_alarm_on_another_unit_sees_no_data(inspector, seeder):
    # The filter publishes without a unit ('None'); an alarm asking for Count never
    # receives those datapoints.
    chain = seeder.chain("us-east-1")
    cloudwatch = seeder.client("cloudwatch", "us-east-1")
    alarm = cloudwatch.describe_alarms(AlarmNames=[chain.alarm_name])["MetricAlarms"][0]
    keep = ("AlarmName", "MetricName", "Namespace", "Statistic", "Period", "EvaluationPeriods",
            "Threshold", "ComparisonOperator", "AlarmActions")
    cloudwatch.put_metric_alarm(**{k: alarm[k] for k in keep}, Unit="Count")
    result = inspector.verdict()
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"].startswith(f"no alarm in account {seeder.account_id} region us-east-1")
    assert "dimensions and unit" in result["reason"]


def test_covering_filter_on_another_log_group_does_not_count(inspector, seeder):
    # A name-only or account-wide join would pass: the CIS filter exists, but on a
    # log group the trail does not deliver to.
    chain = seeder.chain("us-east-1", with_trail=False)
    target = seeder.log_group("us-east-1", "trail-target")
    trail_arn = seeder.trail("us-east-1", "cis-trail", log_group_arn=target)
    result = inspector.verdict()
    assert result["status"] == "NON_COMPLIANT"
    assert result["resource"] == target.removesuffix(":*")
    assert result["reason"] == (
        f"log group {target.removesuffix(':*')} has no metric filters; filter "
        f"{chain.filter_name} on log group {chain.log_group_name} in us-east-1 covers them, "
        "but the trail does not deliver there"
    )
    assert result["evidence"]["trail_arn"] == trail_arn
