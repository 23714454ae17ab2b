"""Scenarios from a review of version 1: real AWS set-ups a regex-based check gets wrong.

Each account is built in a real moto server, collected with `cfgmon collect` (only the
regions it needs) and judged with `cfgmon check`. An alarm notifies only when its
state changes, so an alarm that is already in ALARM without any event, or that never
leaves ALARM after the first one, does not monitor the AWS Config changes.
"""

from __future__ import annotations

import pytest

from cfgmon.simulation import CIS_CONFIG_PATTERN

HOME = "us-east-1"


def _replace_filter(seeder, chain, **options) -> None:
    """Put the chain's metric filter again with other options (moto appends otherwise)."""
    seeder.client("logs", HOME).delete_metric_filter(
        logGroupName=chain.log_group_name, filterName=chain.filter_name)
    seeder.metric_filter(HOME, chain.log_group_name, chain.filter_name,
                         metric_name=chain.metric_name, **options)


def _replace_alarm(seeder, chain, **options) -> None:
    """Put the chain's alarm again: same metric and SNS action, other settings."""
    params = {
        "AlarmName": chain.alarm_name, "MetricName": chain.metric_name,
        "Namespace": chain.namespace, "Statistic": "Sum", "Period": 300,
        "EvaluationPeriods": 1, "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "AlarmActions": [chain.topic_arn], "TreatMissingData": "notBreaching",
    }
    params.update(options)
    params = {k: v for k, v in params.items() if v is not None}
    seeder.client("cloudwatch", HOME).put_metric_alarm(**params)


# -- alarms that never notify of a Config change ------------------------------------


def test_missing_data_treated_as_breaching_keeps_the_alarm_in_alarm(inspector, seeder):
    # The filter publishes nothing between events, so every quiet period breaches.
    chain = seeder.chain(HOME)
    _replace_alarm(seeder, chain, TreatMissingData="breaching")
    result = inspector.verdict(HOME)
    assert result["status"] == "NON_COMPLIANT", result["reason"]
    assert result["resource"] == chain.alarm_arn
    assert result["reason"] == (
        f"alarm {chain.alarm_arn} is in ALARM without any event (missing data treated as "
        "breaching), so an event changes nothing and notifies no one"
    )


def test_missing_data_ignored_keeps_the_alarm_in_alarm_after_the_first_event(inspector, seeder):
    chain = seeder.chain(HOME)
    _replace_alarm(seeder, chain, TreatMissingData="ignore")
    result = inspector.verdict(HOME)
    assert result["status"] == "NON_COMPLIANT", result["reason"]
    assert result["reason"] == (
        f"alarm {chain.alarm_arn} never leaves ALARM after an event (missing data ignored, "
        "and the metric filter publishes nothing between events), so later events notify "
        "no one"
    )


@pytest.mark.parametrize("treat_missing_data", [None, "missing", "notBreaching"])
def test_missing_data_that_lets_the_alarm_leave_alarm_complies(
    inspector, seeder, treat_missing_data
):
    chain = seeder.chain(HOME)
    _replace_alarm(seeder, chain, TreatMissingData=treat_missing_data)
    assert inspector.verdict(HOME)["status"] == "COMPLIANT"


def test_ignored_missing_data_is_fine_when_quiet_periods_publish_zero(inspector, seeder):
    chain = seeder.chain(HOME)
    _replace_filter(seeder, chain, default_value=0)
    _replace_alarm(seeder, chain, TreatMissingData="ignore")
    assert inspector.verdict(HOME)["status"] == "COMPLIANT"


def test_default_value_that_breaches_the_threshold(inspector, seeder):
    # Sum >= 0 with a default value of 0: every quiet period breaches.
    chain = seeder.chain(HOME)
    _replace_filter(seeder, chain, default_value=0)
    _replace_alarm(seeder, chain, Threshold=0.0)
    result = inspector.verdict(HOME)
    assert result["status"] == "NON_COMPLIANT", result["reason"]
    assert result["reason"] == (
        f"alarm {chain.alarm_arn} is in ALARM without any event (the metric filter's "
        "default value 0, published for every other log event, breaches Sum "
        "GreaterThanOrEqualToThreshold 0), so an event changes nothing and notifies no one"
    )


def test_positive_default_value_makes_every_log_event_count(inspector, seeder):
    # Every CloudTrail record that is not a Config change publishes 1 too.
    chain = seeder.chain(HOME)
    _replace_filter(seeder, chain, default_value=1)
    result = inspector.verdict(HOME)
    assert result["status"] == "NON_COMPLIANT", result["reason"]
    assert result["reason"] == (
        f"alarm {chain.alarm_arn} is in ALARM without any event (the metric filter's "
        "default value 1, published for every other log event, breaches Sum "
        "GreaterThanOrEqualToThreshold 1), so an event changes nothing and notifies no one"
    )


def test_sample_count_with_a_default_value_counts_every_log_event(inspector, seeder):
    chain = seeder.chain(HOME)
    _replace_filter(seeder, chain, default_value=0)
    _replace_alarm(seeder, chain, Statistic="SampleCount")
    result = inspector.verdict(HOME)
    assert result["status"] == "NON_COMPLIANT", result["reason"]
    assert result["reason"] == (
        f"alarm {chain.alarm_arn} is in ALARM without any event (the metric filter's default "
        "value 0, published for every other log event, breaches SampleCount "
        "GreaterThanOrEqualToThreshold 1), so an event changes nothing and notifies no one"
    )


@pytest.mark.parametrize("statistic", ["Sum", "Maximum"])
def test_default_value_zero_with_threshold_one_complies(inspector, seeder, statistic):
    # The common CloudFormation set-up: quiet periods publish 0, an event 1.
    chain = seeder.chain(HOME)
    _replace_filter(seeder, chain, default_value=0)
    _replace_alarm(seeder, chain, Statistic=statistic)
    assert inspector.verdict(HOME)["status"] == "COMPLIANT"


def test_percentile_ignoring_low_sample_counts_never_evaluates_one_event(inspector, seeder):
    # One datapoint is far too few for p90 (AWS wants 10/(1-0.9) = 100).
    chain = seeder.chain(HOME)
    _replace_alarm(seeder, chain, Statistic=None, ExtendedStatistic="p90",
                   EvaluateLowSampleCountPercentile="ignore")
    result = inspector.verdict(HOME)
    assert result["status"] == "NON_COMPLIANT", result["reason"]
    assert result["reason"] == (
        f"alarm {chain.alarm_arn} does not go into ALARM on a single event "
        "(p90 GreaterThanOrEqualToThreshold 1, 1 of 1 datapoints; low sample counts ignored)"
    )


def test_percentile_evaluating_low_sample_counts_complies(inspector, seeder):
    chain = seeder.chain(HOME)
    _replace_alarm(seeder, chain, Statistic=None, ExtendedStatistic="p90",
                   EvaluateLowSampleCountPercentile="evaluate")
    assert inspector.verdict(HOME)["status"] == "COMPLIANT"


# -- thresholds and datapoints --------------------------------------------------------


def test_greater_than_threshold_zero_complies(inspector, seeder):
    chain = seeder.chain(HOME)
    _replace_alarm(seeder, chain, Threshold=0.0, ComparisonOperator="GreaterThanThreshold")
    assert inspector.verdict(HOME)["status"] == "COMPLIANT"


def test_greater_than_threshold_one_needs_two_events(inspector, seeder):
    chain = seeder.chain(HOME, comparison_operator="GreaterThanThreshold")
    result = inspector.verdict(HOME)
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"] == (
        f"alarm {chain.alarm_arn} does not go into ALARM on a single event "
        "(Sum GreaterThanThreshold 1, 1 of 1 datapoints)"
    )


def test_one_datapoint_of_several_evaluation_periods_complies(inspector, seeder):
    chain = seeder.chain(HOME)
    _replace_alarm(seeder, chain, EvaluationPeriods=3, DatapointsToAlarm=1)
    assert inspector.verdict(HOME)["status"] == "COMPLIANT"


def test_two_datapoints_of_three_do_not(inspector, seeder):
    chain = seeder.chain(HOME)
    _replace_alarm(seeder, chain, EvaluationPeriods=3, DatapointsToAlarm=2)
    result = inspector.verdict(HOME)
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"].endswith("2 of 3 datapoints)")


# -- several filters, alarms and actions ------------------------------------------------


def test_non_sns_alarm_action_beside_the_topic_complies(inspector, seeder):
    chain = seeder.chain(HOME)
    lambda_arn = f"arn:aws:lambda:{HOME}:{seeder.account_id}:function:responder"
    _replace_alarm(seeder, chain, AlarmActions=[lambda_arn, chain.topic_arn])
    result = inspector.verdict(HOME)
    assert result["status"] == "COMPLIANT", result["reason"]
    assert result["evidence"]["topic_arn"] == chain.topic_arn


def test_a_second_alarm_with_actions_disabled_does_not_hide_a_good_one(inspector, seeder):
    chain = seeder.chain(HOME)
    seeder.alarm(HOME, "a-muted-copy", metric_name=chain.metric_name,
                 alarm_actions=[chain.topic_arn], actions_enabled=False)
    result = inspector.verdict(HOME)
    assert result["status"] == "COMPLIANT", result["reason"]
    assert result["evidence"]["alarm_arn"] == chain.alarm_arn


def test_the_alarm_on_a_narrow_filter_does_not_lend_itself_to_a_covering_one(inspector, seeder):
    # Two filters on the trail's log group: the covering one has no alarm, the alarmed
    # one misses PutConfigurationRecorder. The reason names the covering filter's gap.
    narrow = CIS_CONFIG_PATTERN.replace(" || ($.eventName = PutConfigurationRecorder)", "")
    chain = seeder.chain(HOME, pattern=narrow)
    seeder.metric_filter(HOME, chain.log_group_name, "covering", metric_name="Unwatched")
    result = inspector.verdict(HOME)
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"] == (
        f"no alarm in account {seeder.account_id} region {HOME} watches metric "
        "CISBenchmark/Unwatched of metric filter covering"
    )


def test_empty_pattern_matches_everything_and_says_it_is_broader(inspector, seeder):
    seeder.chain(HOME, pattern="")
    result = inspector.verdict(HOME)
    assert result["status"] == "COMPLIANT", result["reason"]
    assert result["evidence"]["pattern_broader_than_reference"] is True


def test_metric_value_from_a_text_field_is_not_a_number(inspector, seeder):
    chain = seeder.chain(HOME, metric_value="$.eventName")
    result = inspector.verdict(HOME)
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"] == (
        f"metric filter {chain.filter_name} on log group "
        f"{chain.log_group_arn.removesuffix(':*')} publishes metric value '$.eventName', "
        "not a positive number"
    )


# -- regions --------------------------------------------------------------------------


def test_chain_in_a_region_not_collected_is_insufficient_data(inspector, seeder):
    # The multi-region trail shows in us-east-1 too, but its log group, filter and
    # alarm live in eu-west-1, which this run did not collect.
    chain = seeder.chain("eu-west-1")
    result = inspector.verdict(HOME)
    assert result["status"] == "INSUFFICIENT_DATA", result["reason"]
    assert result["evidence"]["trail_arn"] == chain.trail_arn
    assert "eu-west-1 was not collected" in result["reason"]


def test_negative_default_value_dilutes_the_sum(inspector, seeder):
    # Every other log event in the period publishes -1: one event's 1 is cancelled out.
    chain = seeder.chain(HOME)
    _replace_filter(seeder, chain, default_value=-1)
    result = inspector.verdict(HOME)
    assert result["status"] == "NON_COMPLIANT", result["reason"]
    assert result["reason"] == (
        f"alarm {chain.alarm_arn} does not go into ALARM on a single event "
        "(Sum GreaterThanOrEqualToThreshold 1, 1 of 1 datapoints; Sum of a metric with a "
        "default value depends on how many other log events share the period)"
    )
