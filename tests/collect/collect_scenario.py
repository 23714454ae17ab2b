"""The seeded two-region account the collector tests share (see `seed_world`)."""

from __future__ import annotations

from dataclasses import dataclass

from cfgmon.simulation import Chain, Seeder, expression_query, stat_query

# Collected in this order: the multi-region trail's home (eu-west-1) is not first.
FIRST, SECOND = "us-east-1", "eu-west-1"
# Home of a multi-region trail in a region the tests do not collect.
UNCOLLECTED = "ap-southeast-2"

MULTI_LINE_PATTERN = (
    "{ ($.eventSource = config.amazonaws.com) &&\n"
    "  (($.eventName = StopConfigurationRecorder) ||\n"
    "   ($.eventName = DeleteDeliveryChannel) ||\n"
    "   ($.eventName = PutDeliveryChannel) ||\n"
    "   ($.eventName = PutConfigurationRecorder)) }"
)
QUOTED_PATTERN = '{ ($.eventSource = "config.amazonaws.com") && ($.eventName = "Put*") }'
HOOK_URL = "https://alice:s3cret@hooks.example.com:8443/notify/config?token=abc123&x=1#frag"
ADVANCED_SELECTORS = [
    {
        "Name": "management events",
        "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}],
    },
    {
        "Name": "s3 data",
        "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "eventName", "NotStartsWith": ["Get", "List"]},
        ],
    },
]
BASIC_SELECTORS = [
    {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True,
     "ExcludeManagementEventSources": ["kms.amazonaws.com"]},
    {"ReadWriteType": "All", "IncludeManagementEvents": False,
     "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]},
]


@dataclass
class World:
    seeder: Seeder
    main: Chain            # eu-west-1: multi-region trail, https + email subscriptions
    local_trail_arn: str   # us-east-1: single-region, stopped, basic selectors
    shadow_trail_arn: str  # ap-southeast-2: multi-region, home not collected
    math_alarm_arn: str
    quiet_topic_arn: str   # us-east-1: topic without subscriptions


def seed_world(aws) -> World:
    seeder = Seeder(aws)
    main = seeder.chain(
        SECOND,
        prefix="main",
        pattern=MULTI_LINE_PATTERN,
        advanced_event_selectors=ADVANCED_SELECTORS,
        subscriptions=[("https", HOOK_URL), ("email", "security@example.com")],
    )
    # The main alarm also gets OK and INSUFFICIENT_DATA actions: all three kinds.
    seeder.alarm(
        SECOND, main.alarm_name, metric_name=main.metric_name,
        alarm_actions=[main.topic_arn], ok_actions=[main.topic_arn],
        insufficient_data_actions=[main.topic_arn],
        dimensions={"Source": "cloudtrail"}, datapoints_to_alarm=1,
    )
    local_group_arn = seeder.log_group(FIRST, "local-logs", retention_days=30)
    local_trail_arn = seeder.trail(
        FIRST, "local-trail", multi_region=False, logging=False,
        log_group_arn=local_group_arn, event_selectors=BASIC_SELECTORS,
    )
    seeder.metric_filter(
        FIRST, "local-logs", "quoted", pattern=QUOTED_PATTERN, metric_name="PutEvents",
        dimensions={"EventName": "$.eventName"}, default_value=0, unit="Count",
    )
    quiet_topic_arn = seeder.topic(FIRST, "quiet")
    math_alarm_arn = seeder.math_alarm(
        FIRST, "math",
        [
            stat_query("m1", "PutEvents", dimensions={"EventName": "PutDeliveryChannel"}),
            expression_query("e1", "m1 * 2", label="doubled"),
        ],
        alarm_actions=[quiet_topic_arn],
    )
    shadow_trail_arn = seeder.trail(UNCOLLECTED, "far-trail", multi_region=True)
    return World(seeder, main, local_trail_arn, shadow_trail_arn, math_alarm_arn, quiet_topic_arn)


