"""alarm_chain v4's metric-math alarms over several filters' metrics."""

from cfgmon.simulation import expression_query, stat_query

CONTROL = "config_configuration_changes_monitoring"

V4 = f"{CONTROL}@5"   # on alarm_chain@4

RECORDER = ("{ ($.eventSource = config.amazonaws.com) && (($.eventName = StopConfigurationRecorder)"
            " || ($.eventName = PutConfigurationRecorder)) }")
CHANNEL = ("{ ($.eventSource = config.amazonaws.com) && (($.eventName = DeleteDeliveryChannel)"
           " || ($.eventName = PutDeliveryChannel)) }")


def split(seeder, expression, *, default_value=None):
    chain = seeder.chain("us-east-1")
    seeder.client("logs", "us-east-1").delete_metric_filter(
        logGroupName=chain.log_group_name, filterName=chain.filter_name)
    seeder.client("cloudwatch", "us-east-1").delete_alarms(AlarmNames=[chain.alarm_name])
    seeder.metric_filter("us-east-1", chain.log_group_name, "recorder-events", pattern=RECORDER,
                         metric_name="RecorderChanges", default_value=default_value)
    seeder.metric_filter("us-east-1", chain.log_group_name, "channel-events", pattern=CHANNEL,
                         metric_name="ChannelChanges", default_value=default_value)
    return chain, seeder.math_alarm(
        "us-east-1", "config-changes",
        [stat_query("m1", "RecorderChanges"), stat_query("m2", "ChannelChanges"),
         expression_query("e1", expression)],
        alarm_actions=[chain.topic_arn])


def test_m1_plus_m2_over_filters_with_a_default_value_sees_both(inspector, seeder):
    # Each filter emits its defaultValue 0 for every log event it does not match
    # (PutMetricFilter: "the value to emit when a filter pattern does not match a log
    # event"), so when a recorder event arrives m2 has a datapoint 0 in that period:
    # m1 + m2 = 1 >= 1, ALARM; quiet periods publish 0 + 0. The alarm fires on every
    # catalogue event. v4 judges each filter "the other metrics without data", where
    # m1 + (missing) is missing: neither counts, and the account fails at link 7.
    _, alarm = split(seeder, "m1 + m2", default_value=0)
    inspector.collect()
    [result] = inspector.check("--control", V4)
    assert result["status"] == "COMPLIANT", result["reason"]
