"""The chain as the alarm sees it: several filters feeding one metric, and filters
narrowed to one account (real moto server; `cfgmon collect` and `cfgmon check`)."""

from __future__ import annotations

import duckdb

from cfgmon.simulation import CIS_CONFIG_PATTERN, DEFAULT_ACCOUNT, Seeder

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
