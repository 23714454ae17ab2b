"""The chain as AWS evaluates it for the judged account: its regions, its metric values,
an alarm over several filters' metrics, and the filter that matches ordinary traffic.

The account has enabled us-east-1 and eu-west-1 (REGIONS) only, so those are the
regions its events happen in.
"""

from __future__ import annotations

import duckdb
import pytest

from cfgmon.controls import load_catalogue
from cfgmon.controls.rendering import DEFAULT_REGIONS
from cfgmon.simulation import CIS_CONFIG_PATTERN, expression_query, stat_query

from .conftest import CONTROL, REGIONS

RECORDER = ("{ ($.eventSource = config.amazonaws.com) && (($.eventName = StopConfigurationRecorder)"
            " || ($.eventName = PutConfigurationRecorder)) }")
CHANNEL = ("{ ($.eventSource = config.amazonaws.com) && (($.eventName = DeleteDeliveryChannel)"
           " || ($.eventName = PutDeliveryChannel)) }")


def narrowed(*regions: str) -> str:
    """The CIS pattern narrowed to some regions."""
    clause = " || ".join(f'($.awsRegion = "{region}")' for region in regions)
    return CIS_CONFIG_PATTERN.removesuffix(" }") + f" && ({clause}) }}"


def renarrow(seeder, chain, *regions: str) -> None:
    """The chain's filter narrowed to other regions."""
    seeder.metric_filter(chain.region, chain.log_group_name, chain.filter_name,
                         pattern=narrowed(*regions), metric_name=chain.metric_name,
                         namespace=chain.namespace)


@pytest.fixture(autouse=True)
def _two_regions(enabled_regions):
    enabled_regions(*REGIONS)


def latest(inspector, control: str = CONTROL) -> dict:
    inspector.collect()
    [result] = inspector.check("--control", control)
    return result


def test_a_filter_narrowed_to_the_account_s_regions_covers_its_events(inspector, seeder):
    # the catalogue's records happen in many regions; this account uses two
    seeder.chain("us-east-1", pattern=narrowed(*REGIONS))
    result = latest(inspector)
    assert result["status"] == "COMPLIANT", result["reason"]
    assert result["control_version"] == load_catalogue()[CONTROL].latest.version


def test_a_filter_naming_one_of_the_account_s_two_regions_misses_the_other_s_events(
        inspector, seeder):
    chain = seeder.chain("us-east-1", pattern=narrowed("us-east-1"))
    result = latest(inspector)
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"] == (
        f"log group {chain.log_group_arn.removesuffix(':*')} has no metric filter covering all 4"
        f" AWS Config change events; closest, filter {chain.filter_name}, misses"
        " StopConfigurationRecorder, DeleteDeliveryChannel, PutDeliveryChannel,"
        " PutConfigurationRecorder (in eu-west-1)")


def test_collecting_one_region_still_judges_the_account_in_both(inspector, seeder):
    # `collect --region eu-west-1` narrows what is collected, not where the account
    # makes calls: its multi-region trail records us-east-1's AWS Config changes too
    chain = seeder.chain("eu-west-1", pattern=narrowed("eu-west-1"))
    inspector.collect("eu-west-1")
    [result] = inspector.check("--control", CONTROL)
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"].endswith("PutConfigurationRecorder (in us-east-1)"), result["reason"]
    renarrow(seeder, chain, *REGIONS)
    inspector.collect("eu-west-1")
    [result] = inspector.check("--control", CONTROL)
    assert result["status"] == "COMPLIANT", result["reason"]


def test_an_account_whose_regions_were_never_listed_is_judged_in_the_default_ones_too(
        inspector, seeder):
    # a database collected before cfgmon kept the listed regions: the regions collected
    # and those every commercial account has enabled (it cannot disable them)
    chain = seeder.chain("eu-west-1", pattern=narrowed("eu-west-1"))
    inspector.collect("eu-west-1")
    with duckdb.connect(inspector.db) as con:
        assert con.execute("SELECT count(*) FROM cfgmon_account_region").fetchone()[0] > 0
        con.execute("DELETE FROM cfgmon_account_region")
    [result] = inspector.check("--control", CONTROL)
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"].endswith("(in every region but eu-west-1)"), result["reason"]
    renarrow(seeder, chain, *DEFAULT_REGIONS)
    inspector.collect("eu-west-1")
    with duckdb.connect(inspector.db) as con:
        con.execute("DELETE FROM cfgmon_account_region")
    [result] = inspector.check("--control", CONTROL)
    assert result["status"] == "COMPLIANT", result["reason"]


def test_an_account_whose_regions_cannot_be_listed_is_judged_in_the_default_ones_too(
        inspector, seeder, refused_regions):
    seeder.chain("eu-west-1", pattern=narrowed("eu-west-1"))
    inspector.collect("eu-west-1")   # --region: collect needs no list of regions
    with duckdb.connect(inspector.db) as con:
        assert con.execute("SELECT count(*) FROM cfgmon_account_region").fetchone()[0] == 0
    [result] = inspector.check("--control", CONTROL)
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"].endswith("(in every region but eu-west-1)"), result["reason"]


def test_collect_keeps_the_regions_the_account_lists(inspector, aws, enabled_regions):
    enabled_regions("us-east-1", "eu-west-1", "ap-east-1")
    inspector.collect("us-east-1")
    with duckdb.connect(inspector.db) as con:
        listed = dict(con.execute(
            "SELECT region, opt_in_status FROM cfgmon_account_region "
            "WHERE account_id = '123456789012'").fetchall())
    assert {r for r, status in listed.items() if status == "opt-in-not-required"} == {
        "us-east-1", "eu-west-1", "ap-east-1"}
    assert listed["eu-central-1"] == "not-opted-in"
    # the account enables another region: the next collection replaces the list
    enabled_regions("us-east-1")
    inspector.collect("us-east-1")
    with duckdb.connect(inspector.db) as con:
        assert con.execute(
            "SELECT list(region) FROM cfgmon_account_region "
            "WHERE opt_in_status = 'opt-in-not-required'").fetchone()[0] == ["us-east-1"]


def test_a_metric_value_is_read_in_the_judged_account_s_rendering(inspector, seeder):
    # the value each event publishes is the account's own id; the alarm breaches at it
    chain = seeder.chain("us-east-1", metric_value="$.recipientAccountId",
                         threshold=float(seeder.account_id))
    result = latest(inspector)
    assert result["status"] == "COMPLIANT", result["reason"]
    assert result["evidence"]["alarm_arn"] == chain.alarm_arn
    # the previous version read the catalogue's account, whose id is below the threshold
    [before] = inspector.check("--control", f"{CONTROL}@4")
    assert before["status"] == "NON_COMPLIANT"
    assert before["reason"].startswith(f"alarm {chain.alarm_arn} does not go into ALARM")


def split_over_two_metrics(seeder, *, channel: str = CHANNEL, expression: str = "SUM(METRICS())"):
    """The chain's filter and alarm replaced by two filters with two metrics, and one
    metric-math alarm reading both."""
    chain = seeder.chain("us-east-1")
    seeder.client("logs", "us-east-1").delete_metric_filter(
        logGroupName=chain.log_group_name, filterName=chain.filter_name)
    seeder.client("cloudwatch", "us-east-1").delete_alarms(AlarmNames=[chain.alarm_name])
    seeder.metric_filter("us-east-1", chain.log_group_name, "recorder-events", pattern=RECORDER,
                         metric_name="RecorderChanges")
    seeder.metric_filter("us-east-1", chain.log_group_name, "channel-events", pattern=channel,
                         metric_name="ChannelChanges")
    alarm = seeder.math_alarm("us-east-1", "config-changes",
                              [stat_query("m1", "RecorderChanges"),
                               stat_query("m2", "ChannelChanges"),
                               expression_query("e1", expression)],
                              alarm_actions=[chain.topic_arn])
    return chain, alarm


def test_an_alarm_over_two_filters_metrics_sees_what_they_match_together(inspector, seeder):
    chain, alarm = split_over_two_metrics(seeder)
    result = latest(inspector)
    assert result["status"] == "COMPLIANT", result["reason"]
    assert result["evidence"]["alarm_arn"] == alarm
    assert ("whose metric filters channel-events, recorder-events, whose metrics its alarm"
            " reads, together cover all 16 catalogue events") in result["reason"]


def test_what_an_alarm_over_two_filters_metrics_misses_is_named(inspector, seeder):
    chain, alarm = split_over_two_metrics(seeder, channel=CHANNEL.replace(
        " || ($.eventName = PutDeliveryChannel)", ""))
    result = latest(inspector)
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"].endswith(
        f"; closest, filters channel-events, recorder-events, whose metrics alarm {alarm} reads,"
        " miss together PutDeliveryChannel")


def test_a_filter_whose_events_do_not_raise_the_alarm_does_not_count(inspector, seeder):
    # the expression reads m1 only: a channel event alone leaves the alarm quiet
    split_over_two_metrics(seeder, expression="FILL(m1, 0)")
    result = latest(inspector)
    assert result["status"] == "NON_COMPLIANT"
    # each filter judged alone: neither covers
    assert result["reason"].endswith(
        "; closest, filter channel-events, misses StopConfigurationRecorder,"
        " PutConfigurationRecorder")


def test_the_filter_that_matches_ordinary_traffic_is_named(inspector, seeder):
    trail_control = "cloudtrail_configuration_changes_monitoring"
    reference = load_catalogue()[trail_control].reference_pattern
    chain = seeder.chain("us-east-1", pattern=reference)
    # a second filter on the same metric, matching every role assumed
    seeder.metric_filter("us-east-1", chain.log_group_name, "zz-assumed-roles",
                         pattern='{ $.eventName = "AssumeRole" }', metric_name=chain.metric_name)
    result = latest(inspector, trail_control)
    assert result["status"] == "NON_COMPLIANT"
    assert result["reason"] == (
        f"metric filters {chain.filter_name}, zz-assumed-roles on log group"
        f" {chain.log_group_arn.removesuffix(':*')} together cover all 5 CloudTrail configuration"
        " change events, but filter zz-assumed-roles also matches ordinary traffic (sts"
        " AssumeRole by the Lambda service (us-east-1)), so their alarm stays in ALARM and an"
        " event notifies no one")
