"""A report renders each shape of plan once: every account's fix must still be exactly
what rendering its own plan gives.

The plans are built as the planner builds them (Plan, Step, ApiCall), the same
template for several accounts, with names drawn by hypothesis: digits next to the
account id, another account's ARN, quotes, `${`, line breaks.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from cfgmon.remediation import rendered, rendered_plans
from cfgmon.remediation.plan import ApiCall, Plan, Step

ACCOUNTS = ("111111111111", "222222222222", "123456789012", "000000000001")
MANAGEMENT = "999999999999"   # another account the plans name (an organisation trail's)
REGION = "eu-west-1"

names = st.text(alphabet=st.sampled_from('ab-_./:"$%{}\\\n\x12\x00 0123456789'), min_size=1,
                max_size=16)


def plan_for(account: str, group: str, filter_name: str, topic: str, endpoint: str) -> Plan:
    topic_arn = f"arn:aws:sns:{REGION}:{account}:{topic}"
    steps = (
        Step("filter", f"correct metric filter {filter_name} on log group {group}", ApiCall(
            "logs", "PutMetricFilter",
            {"logGroupName": group, "filterName": filter_name,
             "filterPattern": '{ $.eventName = "StopLogging" }',
             "metricTransformations": [{"metricName": filter_name, "metricNamespace": "CIS",
                                        "metricValue": "1"}]}, account, REGION),
            existing=True),
        Step("alarm", f"create alarm {filter_name}{account}", ApiCall(
            "cloudwatch", "PutMetricAlarm",
            {"AlarmName": f"{filter_name}{account}", "MetricName": filter_name,
             "Namespace": "CIS", "Statistic": "Sum", "Period": 300, "EvaluationPeriods": 1,
             "Threshold": 1.0, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
             "AlarmActions": [topic_arn]}, account, REGION)),
        Step("topic", f"let CloudWatch of {MANAGEMENT} publish to {topic_arn}", ApiCall(
            "sns", "SetTopicAttributes",
            {"TopicArn": topic_arn, "AttributeName": "Policy", "AttributeValue": json.dumps({
                "Statement": [{"Effect": "Allow", "Principal": {"AWS": MANAGEMENT},
                               "Action": "sns:Publish", "Resource": topic_arn}]})},
            account, REGION), existing=True),
        Step("subscription", f"subscribe {endpoint} to {topic_arn}", ApiCall(
            "sns", "Subscribe", {"TopicArn": topic_arn, "Protocol": "email",
                                 "Endpoint": endpoint}, account, REGION)),
    )
    reason = (f"log group arn:aws:logs:{REGION}:{MANAGEMENT}:log-group:{group} has no metric "
              f"filter covering the events of account {account}")
    return Plan("cloudtrail_configuration_changes_monitoring", account, 7, reason, steps,
                (f"the topic of account {account} is in {REGION}",))


@settings(max_examples=60, deadline=None)
@given(group=names, filter_name=names, topic=names, endpoint=names)
def test_plans_alike_but_for_the_account_render_as_each_alone(group, filter_name, topic, endpoint):
    plans = {(p.control_id, "v1", p.account_id): p
             for p in (plan_for(a, group, filter_name, topic, endpoint) for a in ACCOUNTS)}
    together = rendered_plans(plans)
    for key, plan in plans.items():
        assert dict(together[key]) == rendered(plan), key


def test_digits_an_escape_writes_never_turn_into_another_account():
    # JSON and HCL write \x12 as \u0012: with the digits after it, "001234567890", the
    # id of the account rendered first; no other account's fix may have it replaced
    description = "CIS 4.3\x1234567890 owner"

    def plan_for_account(account: str) -> Plan:
        step = Step("alarm", "enable the actions of alarm root-usage", ApiCall(
            "cloudwatch", "PutMetricAlarm",
            {"AlarmName": "root-usage", "AlarmDescription": description, "ActionsEnabled": True,
             "AlarmActions": [f"arn:aws:sns:{REGION}:{account}:alarms"]}, account, REGION),
            existing=True)
        return Plan("root_account_usage_monitoring", account, 10, "alarm has actions disabled",
                    (step,))

    plans = {("c", "v1", a): plan_for_account(a) for a in ("001234567890", "222222222222")}
    together = rendered_plans(plans)
    for key, plan in plans.items():
        assert dict(together[key]) == rendered(plan), key
