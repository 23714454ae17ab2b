"""The fix planner: for a NON_COMPLIANT result, the API calls that repair its broken link.

It reads the result's evidence (which link broke, and the names the chain reached)
and the inventory (the resources' current settings), and writes the steps in the
account's own names. A step that creates a link the chain lacks (a log group, a
filter, an alarm, a topic) also creates the links after it, which cannot exist yet;
a step that changes an existing resource restates the settings it keeps.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from cfgmon.controls.catalogue import ControlVersion
from cfgmon.controls.links import BROKEN
from cfgmon.controls.runner import ControlResult
from cfgmon.controls.trail_capture import GLOBAL_EVENT_SOURCES
from cfgmon.remediation.inventory import Inventory, log_group_of
from cfgmon.remediation.patterns import (
    corrected_pattern,
    filters_naming_events,
    judged_version,
    mentions_events,
)
from cfgmon.remediation.plan import ApiCall, Plan, Step

DEFAULT_EMAIL = "security@example.com"   # a placeholder: the notes say to replace it
NAMESPACE = "CISBenchmark"               # the namespace CIS's remediation uses
NEW_TRAIL = "management-events"
NEW_TOPIC = "security-alarms"
TRAIL_HOME = "us-east-1"                 # where a new trail is homed (it records every region)
DELIVERY_ROLE = "CloudTrail_CloudWatchLogs_Role"

# The settings of an alarm that goes into ALARM on one event and leaves it when quiet.
BREACHING = {"Statistic": "Sum", "Threshold": 1.0, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
             "EvaluationPeriods": 1, "DatapointsToAlarm": 1, "TreatMissingData": "notBreaching"}
# What PutMetricAlarm takes of a DescribeAlarms object (it replaces the alarm whole).
ALARM_PARAMS = ("AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions",
                "InsufficientDataActions", "MetricName", "Namespace", "Statistic",
                "ExtendedStatistic", "Dimensions", "Period", "Unit", "EvaluationPeriods",
                "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData",
                "EvaluateLowSampleCountPercentile", "Metrics", "ThresholdMetricId")


def arn_part(arn: str | None, index: int) -> str:
    """Part `index` of arn:partition:service:region:account:resource ('' when absent)."""
    parts = (arn or "").split(":", 5)
    return parts[index] if len(parts) > index else ""


def _resource_name(arn: str, marker: str) -> str:
    return arn.split(marker, 1)[1] if marker in arn else arn


def log_group_arn(account_id: str, region: str, name: str) -> str:
    return f"arn:aws:logs:{region}:{account_id}:log-group:{name}"


class _Planner:
    def __init__(self, result: ControlResult, version: ControlVersion, inventory: Inventory,
                 email: str) -> None:
        self.result = result
        self.evidence = result.evidence
        self.version = version
        self.control = version.control
        self.inv = inventory
        self.email = email
        self.steps: list[Step] = []
        self.notes: list[str] = []

    def add(self, link: str, title: str, service: str, operation: str, params: dict[str, Any],
            account_id: str, region: str, *, current: dict | None = None,
            existing: bool = False) -> None:
        params = {k: v for k, v in params.items() if v is not None}
        self.steps.append(Step(link, title, ApiCall(service, operation, params, account_id, region),
                               current={k: v for k, v in (current or {}).items() if v is not None},
                               existing=existing))

    # -- the trail (links 1-5) ------------------------------------------------------

    def trail(self) -> tuple[dict, str, str, str]:
        arn = self.evidence["trail_arn"]
        row = self.inv.trails.get(arn) or {}
        name = row.get("name") or _resource_name(arn, ":trail/")
        return row, name, arn_part(arn, 4), row.get("home_region") or arn_part(arn, 3)

    def trail_current(self, row: dict) -> dict:
        """The trail's settings as UpdateTrail names them: Terraform restates them."""
        return {"S3BucketName": row.get("s3_bucket_name"), "S3KeyPrefix": row.get("s3_key_prefix"),
                "IsMultiRegionTrail": row.get("is_multi_region_trail"),
                "IncludeGlobalServiceEvents": row.get("include_global_service_events"),
                "IsOrganizationTrail": row.get("is_organization_trail"),
                "CloudWatchLogsLogGroupArn": row.get("cloud_watch_logs_log_group_arn"),
                "CloudWatchLogsRoleArn": row.get("cloud_watch_logs_role_arn"),
                "KmsKeyId": row.get("kms_key_id"), "EnableLogging": row.get("is_logging")}

    def no_trail(self) -> None:
        account = self.result.account_id
        region = TRAIL_HOME
        bucket = f"cloudtrail-logs-{account}"
        self.add("trail", f"create S3 bucket {bucket} for the new trail's log files", "s3",
                 "CreateBucket", {"Bucket": bucket}, account, region)
        self.add("trail", f"let CloudTrail write to bucket {bucket}", "s3", "PutBucketPolicy",
                 {"Bucket": bucket, "Policy": _bucket_policy(bucket, account)}, account, region)
        group = f"aws-cloudtrail-logs-{account}"
        role_arn = self.delivery(NEW_TRAIL, account, region, group, create_group=True)
        self.add("trail", f"create trail {NEW_TRAIL}: multi-region, with global service events, "
                 f"delivering to log group {group}", "cloudtrail", "CreateTrail",
                 {"Name": NEW_TRAIL, "S3BucketName": bucket, "IsMultiRegionTrail": True,
                  "IncludeGlobalServiceEvents": True,
                  "CloudWatchLogsLogGroupArn": log_group_arn(account, region, group) + ":*",
                  "CloudWatchLogsRoleArn": role_arn}, account, region)
        self.add("trail", f"start logging on trail {NEW_TRAIL}", "cloudtrail", "StartLogging",
                 {"Name": NEW_TRAIL}, account, region,
                 current={"S3BucketName": bucket, "IsMultiRegionTrail": True}, existing=False)
        self.notes.append(f"the new trail is homed in {region}; it records every region")
        self.new_filter(account, region, group)

    def update_trail(self, title: str, changes: dict[str, Any]) -> None:
        row, name, account, region = self.trail()
        self.add("trail", title, "cloudtrail", "UpdateTrail", {"Name": name, **changes}, account,
                 region, current=self.trail_current(row), existing=True)

    def not_multi_region(self) -> None:
        _, name, _, _ = self.trail()
        # AWS refuses a multi-region trail without global service events
        self.update_trail(f"make trail {name} multi-region (IsMultiRegionTrail is false)",
                          {"IsMultiRegionTrail": True, "IncludeGlobalServiceEvents": True})

    def not_logging(self) -> None:
        row, name, account, region = self.trail()
        self.add("trail", f"start logging on trail {name} (it is stopped)", "cloudtrail",
                 "StartLogging", {"Name": name}, account, region,
                 current=self.trail_current(row), existing=True)

    def not_recording(self) -> None:
        row, name, account, region = self.trail()
        events = judged_version(self.version, self.result.framework).matches
        home = self.result.account_id
        changes: dict[str, Any] = {}
        if not row.get("is_organization_trail") and any(
                e.record.get("recipientAccountId", home) != home for e in events):
            changes["IsOrganizationTrail"] = True
            self.notes.append("an organisation trail is created from the management account, "
                              "with trusted access for CloudTrail enabled in AWS Organizations")
        if row.get("include_global_service_events") is False and any(
                e.record.get("eventSource") in GLOBAL_EVENT_SOURCES for e in events):
            changes["IncludeGlobalServiceEvents"] = True
        if changes:
            self.update_trail(f"let trail {name} record the events it misses ("
                              + ", ".join(f"{k} is false" for k in changes) + ")", changes)
        selectors = self.inv.selectors.get(self.evidence["trail_arn"], [])
        advanced = row.get("advanced_event_selectors")
        recording = [s for s in selectors if s["include_management_events"]
                     and s["read_write_type"] == "All" and not s["exclude_management_event_sources"]]
        if (selectors or advanced) and not recording:
            kept = [_basic_selector(s) for s in selectors if s.get("data_resources")]
            wanted = [{"ReadWriteType": "All", "IncludeManagementEvents": True}, *kept]
            self.add("trail", f"let trail {name} record all management events, read and write, "
                     "from every event source", "cloudtrail", "PutEventSelectors",
                     {"TrailName": name, "EventSelectors": wanted}, account, region,
                     current={"Name": name, **self.trail_current(row)}, existing=True)
            if advanced:
                self.notes.append(f"basic event selectors replace trail {name}'s advanced "
                                  "selectors: add back any data-event selectors you need")
        if not self.steps:
            self.notes.append(f"trail {name}: {self.result.reason}")

    def no_delivery(self) -> None:
        row, name, account, region = self.trail()
        group = f"aws-cloudtrail-logs-{account}-{name}"
        role_arn = self.delivery(name, account, region, group,
                                 create_group=(account, region, group) not in self.inv.log_groups)
        self.update_trail(f"deliver trail {name} to CloudWatch Logs log group {group}",
                          {"CloudWatchLogsLogGroupArn": log_group_arn(account, region, group) + ":*",
                           "CloudWatchLogsRoleArn": role_arn})
        self.new_filter(account, region, group)

    def delivery(self, trail: str, account: str, region: str, group: str, *,
                 create_group: bool) -> str:
        """The log group and the IAM role CloudTrail needs to write to it; the role's ARN."""
        if create_group:
            self.add("log_group", f"create log group {group} for trail {trail}", "logs",
                     "CreateLogGroup", {"logGroupName": group}, account, region)
        role = DELIVERY_ROLE
        self.add("log_group", f"create IAM role {role}, which CloudTrail assumes to write to "
                 "CloudWatch Logs", "iam", "CreateRole",
                 {"RoleName": role, "AssumeRolePolicyDocument": _trust_policy()}, account, region)
        self.add("log_group", f"let role {role} write trail {trail}'s events to log group {group}",
                 "iam", "PutRolePolicy",
                 {"RoleName": role, "PolicyName": f"{trail}-to-cloudwatch-logs",
                  "PolicyDocument": _delivery_policy(log_group_arn(account, region, group))},
                 account, region)
        self.notes.append(f"if IAM role {role} exists already, skip creating it")
        return f"arn:aws:iam::{account}:role/{role}"

    # -- the log group (6) ------------------------------------------------------------

    def chain_log_group(self) -> tuple[str, str, str]:
        return log_group_of(self.evidence["log_group_arn"])

    def no_log_group(self) -> None:
        account, region, group = self.chain_log_group()
        self.add("log_group", f"create log group {group}, which trail "
                 f"{self.evidence.get('trail_arn')} delivers to", "logs", "CreateLogGroup",
                 {"logGroupName": group}, account, region)
        self.new_filter(account, region, group)

    # -- the metric filter (7, 8) -------------------------------------------------------

    def new_filter(self, account: str, region: str, group: str) -> None:
        name = self._free_name(account, region, group,
                               self.control.id.removesuffix("_monitoring").replace("_", "-"))
        pattern = self.control.reference_for(self.result.framework)
        self.add("filter", f"create metric filter {name} on log group {group}: the reference "
                 f"pattern of {self.result.framework or self.control.default_framework}", "logs",
                 "PutMetricFilter",
                 {"logGroupName": group, "filterName": name, "filterPattern": pattern,
                  "metricTransformations": [{"metricName": name, "metricNamespace": NAMESPACE,
                                             "metricValue": "1"}]}, account, region)
        self.new_alarm(account, region, NAMESPACE, name, f"metric filter {name}")

    def _free_name(self, account: str, region: str, group: str, name: str) -> str:
        """`name`, or the first of name-2, name-3, ... that no filter on the log group is
        called or publishes as a metric of NAMESPACE, and no alarm watches: a new
        filter replaces no filter and shares its metric with none."""
        filters = self.inv.filters_on(account, region, group)
        taken = {f["name"] for f in filters} | {
            f["metric_transformation_name"] for f in filters
            if f["metric_transformation_namespace"] == NAMESPACE}
        candidate, n = name, 1
        while candidate in taken or self.inv.alarms_on(account, region, NAMESPACE, candidate):
            n += 1
            candidate = f"{name}-{n}"
        return candidate

    def put_filter(self, title: str, row: dict, *, pattern: str | None = None,
                   transformation: dict | None = None) -> None:
        current = _transformation(row)
        self.add("filter", title, "logs", "PutMetricFilter",
                 {"logGroupName": row["log_group_name"], "filterName": row["name"],
                  "filterPattern": row["filter_pattern"] if pattern is None else pattern,
                  "metricTransformations": [transformation or current]},
                 row["account_id"], row["region"], existing=True)

    def filter_row(self, name: str | None) -> dict | None:
        account, region, group = self.chain_log_group()
        return self.inv.filter_named(account, region, group, name)

    def no_covering_filter(self) -> None:
        account, region, group = self.chain_log_group()
        # of filters seen together, the one matching ordinary traffic is the one to correct
        row = self.filter_row(self.evidence.get("ordinary_traffic_filter_name"))
        if (row is not None and row["name"] != self.evidence.get("metric_filter_name")
                and not mentions_events(self.version, row["filter_pattern"])):
            # it names none of this control's events: another control's filter, or one
            # kept for another purpose, that publishes the same metric. It stays as it
            # is; this control gets a filter and an alarm of its own.
            self.notes.append(
                f"metric filter {row['name']} publishes metric "
                f"{row['metric_transformation_namespace']}/{row['metric_transformation_name']} "
                "on ordinary traffic too, so an alarm on it stays in ALARM; it is left as it is")
            self.new_filter(account, region, group)
            return
        closest = self.evidence.get("metric_filter_name") if row is None else row["name"]
        if row is None:
            # the filter to correct: the user's attempt at this control, the one naming
            # most of its events (the closest filter may be another control's: never
            # rewrite that one)
            candidates = filters_naming_events(self.version,
                                               self.inv.filters_on(account, region, group))
            if not candidates:
                self.new_filter(account, region, group)
                return
            _, row = max(candidates, key=lambda c: (c[1]["name"] == closest, c[0]))
        fix = corrected_pattern(self.version, self.result.framework, row["filter_pattern"])
        if fix.kept_narrowing:
            why = f"add {', '.join(fix.added_events)} to its event names, keeping the rest"
        elif self.evidence.get("pattern_matches_ordinary_traffic") and row["name"] == closest:
            why = "it also matches ordinary traffic; use the reference pattern"
        else:
            why = "use the reference pattern of " + (
                self.result.framework or self.control.default_framework or "the control")
        self.put_filter(f"correct the pattern of metric filter {row['name']} on log group "
                        f"{group}: {why}", row, pattern=fix.pattern)
        if not self.inv.alarms_on(account, region, row["metric_transformation_namespace"],
                                  row["metric_transformation_name"]):
            self.new_alarm(account, region, row["metric_transformation_namespace"],
                           row["metric_transformation_name"], f"metric filter {row['name']}")

    def value_not_positive(self) -> None:
        row = self.filter_row(self.evidence.get("metric_filter_name"))
        if row is None:
            return self.missing(f"metric filter {self.evidence.get('metric_filter_name')}")
        self.put_filter(f"publish 1 per event from metric filter {row['name']} (metricValue is "
                        f"{row['metric_transformation_value']!r})", row,
                        transformation={**_transformation(row), "metricValue": "1"})

    # -- the alarm (9-11) ----------------------------------------------------------------

    def new_alarm(self, account: str, region: str, namespace: str, metric: str, source: str) -> None:
        name = metric if f"arn:aws:cloudwatch:{region}:{account}:alarm:{metric}" not in \
            self.inv.alarm_arns else f"{metric}-alarm"
        topic = self.topic_for(account, region)
        self.add("alarm", f"create alarm {name} on metric {namespace}/{metric} of {source}: "
                 "ALARM on one event, notifying SNS topic " + topic, "cloudwatch",
                 "PutMetricAlarm",
                 {"AlarmName": name, "MetricName": metric, "Namespace": namespace, "Period": 300,
                  **BREACHING, "ActionsEnabled": True, "AlarmActions": [topic]}, account, region)

    def no_alarm(self) -> None:
        account, region, _ = self.chain_log_group()
        self.new_alarm(account, region, self.evidence["metric_namespace"],
                       self.evidence["metric_name"],
                       f"metric filter {self.evidence.get('metric_filter_name')}")
        self.notes.append("an alarm sees only metrics of its own account and region: it is "
                          f"created in account {account} region {region}")

    def alarm(self) -> tuple[dict, dict, str, str] | None:
        arn = self.evidence.get("alarm_arn") or ""
        raw = self.inv.alarm(arn)
        if raw is None:
            self.missing(f"alarm {arn}")
            return None
        params = {k: raw[k] for k in ALARM_PARAMS if raw.get(k) not in (None, [])}
        return raw, params, arn_part(arn, 4), arn_part(arn, 3)

    def put_alarm(self, title: str, params: dict, account: str, region: str) -> None:
        self.add("alarm", title, "cloudwatch", "PutMetricAlarm", params, account, region,
                 existing=True)

    def actions_disabled(self) -> None:
        found = self.alarm()
        if found:
            _, params, account, region = found
            self.put_alarm(f"enable the actions of alarm {params['AlarmName']} "
                           "(ActionsEnabled is false)", {**params, "ActionsEnabled": True},
                           account, region)

    def does_not_breach(self) -> None:
        found = self.alarm()
        if not found:
            return
        raw, params, account, region = found
        if "Metrics" in params:
            self.notes.append(f"alarm {params['AlarmName']} is a metric-math alarm: make its "
                              f"expression reach 1 on one event; {self.result.reason}")
            return
        row = self.filter_row(self.evidence.get("metric_filter_name"))
        if row is not None and row.get("metric_transformation_default_value") is not None:
            transformation = _transformation(row)
            transformation.pop("defaultValue", None)
            self.put_filter(f"drop the default value of metric filter {row['name']} (defaultValue "
                            f"{row['metric_transformation_default_value']:g} is published for "
                            "every other log event)", row, transformation=transformation)
        wanted = {**BREACHING}
        changed = [f"{k} {_shown(params.get(k))} -> {_shown(v)}" for k, v in wanted.items()
                   if params.get(k) != v]
        fixed = {k: v for k, v in params.items()
                 if k not in ("ExtendedStatistic", "ThresholdMetricId",
                              "EvaluateLowSampleCountPercentile")}
        dropped = [k for k in ("ExtendedStatistic", "ThresholdMetricId") if k in params]
        changed += [f"no {k}" for k in dropped]
        self.put_alarm(f"make alarm {params['AlarmName']} go into ALARM on one event and leave it "
                       "when quiet: " + ", ".join(changed), {**fixed, **wanted}, account, region)

    # -- the topic and subscription (12-14) --------------------------------------------------

    def topic_for(self, account: str, region: str) -> str:
        """A topic of the account and region that delivers, or the steps of a new one."""
        found = self.inv.delivering_topic(account, region)
        if found:
            return found
        # a topic the account has (that nobody subscribed to yet), or a new one
        existing = self.inv.topics.get((account, region), [])
        arn = existing[0] if existing else f"arn:aws:sns:{region}:{account}:{NEW_TOPIC}"
        if arn not in [s.call.params.get("TopicArn") for s in self.steps]:
            if not existing:
                self.add("topic", f"create SNS topic {NEW_TOPIC}", "sns", "CreateTopic",
                         {"Name": NEW_TOPIC}, account, region)
            self.subscribe(arn)
        return arn

    def subscribe(self, topic_arn: str) -> None:
        self.add("subscription", f"subscribe {self.email} to SNS topic {topic_arn}", "sns",
                 "Subscribe", {"TopicArn": topic_arn, "Protocol": "email", "Endpoint": self.email},
                 arn_part(topic_arn, 4), arn_part(topic_arn, 3))
        self.notes.append(f"replace {self.email} with the address that must hear of it, and "
                          "confirm the subscription from the message AWS sends"
                          if self.email == DEFAULT_EMAIL else
                          f"{self.email} must confirm the subscription from the message AWS sends")

    def no_sns_action(self) -> None:
        found = self.alarm()
        if found:
            _, params, account, region = found
            topic = self.topic_for(account, region)
            self.put_alarm(f"notify SNS topic {topic} from alarm {params['AlarmName']} (it has "
                           "no SNS topic among its ALARM actions)",
                           {**params, "AlarmActions": [*params.get("AlarmActions", []), topic]},
                           account, region)

    def no_topic(self) -> None:
        arn = self.evidence["topic_arn"]
        name = arn_part(arn, 5)
        self.add("topic", f"create SNS topic {name}, which alarm {self.evidence.get('alarm_arn')} "
                 "notifies", "sns", "CreateTopic", {"Name": name}, arn_part(arn, 4), arn_part(arn, 3))
        self.subscribe(arn)

    def no_subscription(self) -> None:
        delivery = self.evidence.get("topic_delivery") or ""
        if self.evidence.get("confirmed_subscriptions") and delivery:
            return self.cannot_deliver(delivery)
        if self.evidence.get("pending_subscriptions"):
            self.notes.append(f"SNS topic {self.evidence['topic_arn']} has "
                              f"{self.evidence['pending_subscriptions']} subscription(s) pending "
                              "confirmation: confirming one is enough")
        self.subscribe(self.evidence["topic_arn"])

    def cannot_deliver(self, why: str) -> None:
        """The topic has subscribers, but CloudWatch's notification cannot reach them."""
        topic = self.evidence["topic_arn"]
        account, region = arn_part(topic, 4), arn_part(topic, 3)
        key = self.evidence.get("topic_kms_key")
        if key and "does not let cloudwatch.amazonaws.com use it" in why:
            policy = self.inv.key_policy(key)
            if policy is None:
                return self.missing(f"the policy of KMS key {key}")
            self.add("topic", f"let CloudWatch use KMS key {key}, which SNS topic {topic} is "
                     "encrypted with (kms:Decrypt, kms:GenerateDataKey*)", "kms", "PutKeyPolicy",
                     {"KeyId": key, "PolicyName": "default",
                      "Policy": json.dumps(_with_statement(policy, CLOUDWATCH_USES_KEY))},
                     account, region, existing=True)
        elif "does not let CloudWatch of account" in why:
            alarm_account = arn_part(self.evidence.get("alarm_arn") or "", 4)
            policy = self.inv.topic_policy(topic) or {"Version": "2012-10-17", "Statement": []}
            statement = {**CLOUDWATCH_PUBLISHES, "Sid": f"CloudWatchAlarmsOf{alarm_account}",
                         "Resource": topic,
                         "Condition": {"StringEquals": {"aws:SourceAccount": alarm_account}}}
            self.add("topic", f"let CloudWatch alarms of account {alarm_account} publish "
                     f"to SNS topic {topic}", "sns", "SetTopicAttributes",
                     {"TopicArn": topic, "AttributeName": "Policy",
                      "AttributeValue": json.dumps(_with_statement(policy, statement))},
                     account, region, existing=True)
        else:
            # the AWS managed key alias/aws/sns, a Deny, a condition: a person decides
            self.notes.append(f"SNS topic {topic} cannot deliver: {why}; "
                              + ("encrypt it with a customer managed key whose policy lets "
                                 "cloudwatch.amazonaws.com use it (kms:Decrypt, "
                                 "kms:GenerateDataKey*)" if "alias/aws/sns" in why else
                                 "change what refuses CloudWatch"))

    def missing(self, what: str) -> None:
        self.notes.append(f"{what} is no longer in the inventory: collect again and re-run cfgmon check")

    def plan(self) -> Plan:
        number = self.evidence.get("broken_link")
        planner = _LINK_PLANNERS.get(number)
        if planner is not None:
            planner(self)
        return Plan(self.control.id, self.result.account_id, number, self.result.reason,
                    tuple(self.steps), tuple(dict.fromkeys(self.notes)))


_LINK_PLANNERS: dict[int, Callable[[_Planner], None]] = {
    1: _Planner.no_trail,
    2: _Planner.not_multi_region,
    3: _Planner.not_logging,
    4: _Planner.not_recording,
    5: _Planner.no_delivery,
    6: _Planner.no_log_group,
    7: _Planner.no_covering_filter,
    8: _Planner.value_not_positive,
    9: _Planner.no_alarm,
    10: _Planner.actions_disabled,
    11: _Planner.does_not_breach,
    12: _Planner.no_sns_action,
    13: _Planner.no_topic,
    14: _Planner.no_subscription,
}
assert set(_LINK_PLANNERS) == set(BROKEN) - {15}

# The broken links whose fix restates the alarm's whole definition (Inventory.alarm):
# a report's other results name alarms whose definitions nothing reads.
RESTATES_ALARM = frozenset({10, 11, 12})
# The broken link whose fix may restate the topic's policy or its KMS key's
# (cannot_deliver: Inventory.topic_policy, Inventory.key_policy).
RESTATES_POLICY = frozenset({14})


CLOUDWATCH_USES_KEY = {
    "Sid": "CloudWatchAlarmsUseTheKey", "Effect": "Allow",
    "Principal": {"Service": "cloudwatch.amazonaws.com"},
    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
}
CLOUDWATCH_PUBLISHES = {
    "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
    "Action": "sns:Publish",
}


def _with_statement(policy: dict, statement: dict) -> dict:
    """The policy with `statement` added (replacing one of the same Sid)."""
    statements = policy.get("Statement") or []
    statements = [statements] if isinstance(statements, dict) else list(statements)
    kept = [s for s in statements if s.get("Sid") != statement.get("Sid")]
    return {**policy, "Statement": [*kept, statement]}


def plan_fix(result: ControlResult, version: ControlVersion, inventory: Inventory, *,
             email: str = DEFAULT_EMAIL) -> Plan | None:
    """The plan for a NON_COMPLIANT result; None for any other status."""
    if result.status != "NON_COMPLIANT":
        return None
    return _Planner(result, version, inventory, email).plan()


def _transformation(row: dict) -> dict[str, Any]:
    """A filter's metric transformation as PutMetricFilter takes it."""
    found = {"metricName": row["metric_transformation_name"],
             "metricNamespace": row["metric_transformation_namespace"],
             "metricValue": row["metric_transformation_value"],
             "defaultValue": row.get("metric_transformation_default_value"),
             "dimensions": row.get("metric_transformation_dimensions") or None,
             "unit": row.get("metric_transformation_unit")}
    return {k: v for k, v in found.items() if v is not None}


def _basic_selector(row: dict) -> dict[str, Any]:
    found = {"ReadWriteType": row["read_write_type"],
             "IncludeManagementEvents": row["include_management_events"],
             "DataResources": row.get("data_resources") or None,
             "ExcludeManagementEventSources": row.get("exclude_management_event_sources") or None}
    return {k: v for k, v in found.items() if v is not None}


def _shown(value) -> str:
    if value is None:
        return "unset"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _policy(statements: list[dict]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, separators=(",", ":"))


def _trust_policy() -> str:
    return _policy([{"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                     "Action": "sts:AssumeRole"}])


def _delivery_policy(group_arn: str) -> str:
    return _policy([{"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                     "Resource": f"{group_arn}:log-stream:*"}])


def _bucket_policy(bucket: str, account: str) -> str:
    return _policy([
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}"},
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{account}/*",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}},
    ])

