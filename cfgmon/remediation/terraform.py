"""Plans as Terraform: the resources the steps create or change, for the AWS provider.

Each step's API call maps to the resource it acts on (PutMetricFilter to an
aws_cloudwatch_log_metric_filter, StartLogging to an aws_cloudtrail's
enable_logging, …); calls on one resource merge into one block, which restates
the settings the step keeps (Terraform describes whole resources). A resource that
exists gets an `import` block, so applying adopts it instead of creating a twin.
Every resource names a provider bound to its account and region
(allowed_account_ids), so a plan for one account cannot change another.
All strings are HCL-escaped; comments are flattened to one line.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cfgmon.remediation.aws_cli import comment
from cfgmon.remediation.plan import Plan, Step

_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")


@dataclass
class Block:
    """A nested block (metric_transformation, event_selector, …)."""

    name: str
    attributes: dict[str, Any]
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Resource:
    type: str
    key: tuple                       # what identifies it: merged when two steps share it
    label: str                       # a readable base for its local name
    account_id: str
    region: str
    attributes: dict[str, Any] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)
    kept: dict[str, Any] = field(default_factory=dict)   # settings restated, not changed
    import_id: str | None = None
    comments: list[str] = field(default_factory=list)
    name: str = ""                   # its local name, unique in the document


# -- from API calls to resources -------------------------------------------------------

_TRAIL = {"Name": "name", "S3BucketName": "s3_bucket_name", "S3KeyPrefix": "s3_key_prefix",
          "IsMultiRegionTrail": "is_multi_region_trail",
          "IncludeGlobalServiceEvents": "include_global_service_events",
          "IsOrganizationTrail": "is_organization_trail",
          "CloudWatchLogsLogGroupArn": "cloud_watch_logs_group_arn",
          "CloudWatchLogsRoleArn": "cloud_watch_logs_role_arn", "KmsKeyId": "kms_key_id",
          "EnableLogging": "enable_logging"}
_ALARM = {"AlarmName": "alarm_name", "AlarmDescription": "alarm_description",
          "ActionsEnabled": "actions_enabled", "OKActions": "ok_actions",
          "AlarmActions": "alarm_actions", "InsufficientDataActions": "insufficient_data_actions",
          "MetricName": "metric_name", "Namespace": "namespace", "Statistic": "statistic",
          "ExtendedStatistic": "extended_statistic", "Period": "period", "Unit": "unit",
          "EvaluationPeriods": "evaluation_periods", "DatapointsToAlarm": "datapoints_to_alarm",
          "Threshold": "threshold", "ComparisonOperator": "comparison_operator",
          "TreatMissingData": "treat_missing_data",
          "EvaluateLowSampleCountPercentile": "evaluate_low_sample_count_percentiles",
          "ThresholdMetricId": "threshold_metric_id"}


def _renamed(values: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    return {names[k]: v for k, v in values.items() if k in names and v is not None}


def _dimensions(items) -> dict[str, str]:
    return {d["Name"]: d["Value"] for d in items or ()}


def _trail(step: Step) -> Resource:
    call = step.call
    name = call.params.get("Name") or call.params.get("TrailName")
    arn = f"arn:aws:cloudtrail:{call.region}:{call.account_id}:trail/{name}"
    found = Resource("aws_cloudtrail", (arn,), name, call.account_id, call.region,
                     {"name": name, **_renamed(call.params, _TRAIL)},
                     kept=_renamed(step.current, _TRAIL),
                     import_id=arn if step.existing else None)
    if call.operation == "StartLogging":
        found.attributes["enable_logging"] = True
    for selector in call.params.get("EventSelectors", ()):
        found.blocks.append(Block("event_selector", {
            "read_write_type": selector.get("ReadWriteType", "All"),
            "include_management_events": selector.get("IncludeManagementEvents", True),
            **({"exclude_management_event_sources": selector["ExcludeManagementEventSources"]}
               if selector.get("ExcludeManagementEventSources") else {}),
        }, [Block("data_resource", {"type": d["Type"], "values": d["Values"]})
            for d in selector.get("DataResources", ())]))
    return found


def _log_group(step: Step) -> Resource:
    call = step.call
    name = call.params["logGroupName"]
    return Resource("aws_cloudwatch_log_group", (call.account_id, call.region, name), name,
                    call.account_id, call.region, {"name": name},
                    import_id=name if step.existing else None)


def _metric_filter(step: Step) -> Resource:
    call, p = step.call, step.call.params
    t = p["metricTransformations"][0]
    transformation = {"name": t["metricName"], "namespace": t["metricNamespace"],
                      "value": t["metricValue"]}
    for api, attribute in (("defaultValue", "default_value"), ("unit", "unit"),
                           ("dimensions", "dimensions")):
        if t.get(api) is not None:
            transformation[attribute] = t[api]
    return Resource("aws_cloudwatch_log_metric_filter",
                    (call.account_id, call.region, p["logGroupName"], p["filterName"]),
                    p["filterName"], call.account_id, call.region,
                    {"name": p["filterName"], "log_group_name": p["logGroupName"],
                     "pattern": p["filterPattern"]},
                    [Block("metric_transformation", transformation)],
                    import_id=f"{p['logGroupName']}:{p['filterName']}" if step.existing else None)


def _metric_query(entry: Mapping[str, Any]) -> Block:
    attributes = _renamed(entry, {"Id": "id", "Expression": "expression", "Label": "label",
                                  "ReturnData": "return_data", "Period": "period",
                                  "AccountId": "account_id"})
    blocks = []
    stat = entry.get("MetricStat")
    if stat:
        metric = stat["Metric"]
        blocks.append(Block("metric", {
            "metric_name": metric["MetricName"], "namespace": metric["Namespace"],
            "period": stat["Period"], "stat": stat["Stat"],
            **({"unit": stat["Unit"]} if stat.get("Unit") else {}),
            **({"dimensions": _dimensions(metric["Dimensions"])} if metric.get("Dimensions") else {}),
        }))
    return Block("metric_query", attributes, blocks)


def _alarm(step: Step) -> Resource:
    call, p = step.call, step.call.params
    attributes = _renamed(p, _ALARM)
    if p.get("Dimensions"):
        attributes["dimensions"] = _dimensions(p["Dimensions"])
    return Resource("aws_cloudwatch_metric_alarm", (call.account_id, call.region, p["AlarmName"]),
                    p["AlarmName"], call.account_id, call.region, attributes,
                    [_metric_query(m) for m in p.get("Metrics", ())],
                    import_id=p["AlarmName"] if step.existing else None)


def _topic(step: Step) -> Resource:
    call = step.call
    name = call.params["Name"]
    arn = f"arn:aws:sns:{call.region}:{call.account_id}:{name}"
    return Resource("aws_sns_topic", (arn,), name, call.account_id, call.region, {"name": name},
                    import_id=arn if step.existing else None)


def _topic_policy(step: Step) -> Resource:
    call, p = step.call, step.call.params
    name = p["TopicArn"].rsplit(":", 1)[-1]
    return Resource("aws_sns_topic_policy", (p["TopicArn"], "policy"), name, call.account_id,
                    call.region, {"arn": p["TopicArn"], "policy": p["AttributeValue"]},
                    import_id=p["TopicArn"])


def _key_policy(step: Step) -> Resource:
    call, p = step.call, step.call.params
    key_id = p["KeyId"].rsplit("/", 1)[-1]
    return Resource("aws_kms_key_policy", (p["KeyId"],), f"key_{key_id}", call.account_id,
                    call.region, {"key_id": key_id, "policy": p["Policy"]}, import_id=key_id)


def _subscription(step: Step) -> Resource:
    call, p = step.call, step.call.params
    return Resource("aws_sns_topic_subscription", (p["TopicArn"], p["Protocol"], p["Endpoint"]),
                    f"{p['TopicArn'].rsplit(':', 1)[-1]}_{p['Protocol']}", call.account_id,
                    call.region,
                    {"topic_arn": p["TopicArn"], "protocol": p["Protocol"], "endpoint": p["Endpoint"]})


def _role(step: Step) -> Resource:
    call, p = step.call, step.call.params
    return Resource("aws_iam_role", (call.account_id, p["RoleName"]), p["RoleName"],
                    call.account_id, call.region,
                    {"name": p["RoleName"], "assume_role_policy": p["AssumeRolePolicyDocument"]})


def _role_policy(step: Step) -> Resource:
    call, p = step.call, step.call.params
    return Resource("aws_iam_role_policy", (call.account_id, p["RoleName"], p["PolicyName"]),
                    p["PolicyName"], call.account_id, call.region,
                    {"name": p["PolicyName"], "role": p["RoleName"], "policy": p["PolicyDocument"]})


def _bucket(step: Step) -> Resource:
    call = step.call
    return Resource("aws_s3_bucket", (call.params["Bucket"],), call.params["Bucket"],
                    call.account_id, call.region, {"bucket": call.params["Bucket"]})


def _bucket_policy(step: Step) -> Resource:
    call = step.call
    return Resource("aws_s3_bucket_policy", ("policy", call.params["Bucket"]),
                    call.params["Bucket"], call.account_id, call.region,
                    {"bucket": call.params["Bucket"], "policy": call.params["Policy"]})


RESOURCES: dict[tuple[str, str], Callable[[Step], Resource]] = {
    ("cloudtrail", "CreateTrail"): _trail,
    ("cloudtrail", "UpdateTrail"): _trail,
    ("cloudtrail", "StartLogging"): _trail,
    ("cloudtrail", "PutEventSelectors"): _trail,
    ("logs", "CreateLogGroup"): _log_group,
    ("logs", "PutMetricFilter"): _metric_filter,
    ("cloudwatch", "PutMetricAlarm"): _alarm,
    ("sns", "CreateTopic"): _topic,
    ("sns", "SetTopicAttributes"): _topic_policy,
    ("kms", "PutKeyPolicy"): _key_policy,
    ("sns", "Subscribe"): _subscription,
    ("iam", "CreateRole"): _role,
    ("iam", "PutRolePolicy"): _role_policy,
    ("s3", "CreateBucket"): _bucket,
    ("s3", "PutBucketPolicy"): _bucket_policy,
}


def resources(plans: Iterable[Plan]) -> list[Resource]:
    """The resources of every step, those two steps share merged, in first-step order."""
    merged: dict[tuple, Resource] = {}
    for plan in plans:
        for step in plan.steps:
            found = RESOURCES[(step.call.service, step.call.operation)](step)
            found.comments.append(f"{plan.account_id} {plan.control_id}: {step.title}")
            key = (found.type, *found.key)
            if key not in merged:
                merged[key] = found
                continue
            into = merged[key]
            into.attributes.update(found.attributes)   # a change wins over a restated setting
            into.kept.update(found.kept)
            into.blocks = found.blocks or into.blocks
            into.import_id = into.import_id or found.import_id
            into.comments += [c for c in found.comments if c not in into.comments]
    _name(merged.values())
    return list(merged.values())


def _name(found: Iterable[Resource]) -> None:
    taken: set[tuple[str, str]] = set()
    for resource in found:
        base = _identifier(f"{resource.label}_{resource.account_id}")
        name, n = base, 1
        while (resource.type, name) in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add((resource.type, name))
        resource.name = name


def _identifier(text: str) -> str:
    text = _UNSAFE.sub("_", text).strip("_") or "resource"
    return text if text[0].isalpha() else f"r_{text}"


def provider_alias(account_id: str, region: str) -> str:
    return _identifier(f"a{account_id}_{region}")


# -- HCL text --------------------------------------------------------------------------


@functools.lru_cache(maxsize=65536)  # names and patterns recur over thousands of plans
def hcl_string(text: str) -> str:
    """A quoted HCL string: escapes, and no `${`/`%{` template sequences."""
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\r", "\\r").replace("\t", "\\t").replace("${", "$${")
               .replace("%{", "%%{"))
    escaped = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]",
                     lambda m: f"\\u{ord(m.group()):04x}", escaped)
    return f'"{escaped}"'


def hcl_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, list | tuple):
        return "[" + ", ".join(hcl_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{hcl_string(str(k))} = {hcl_value(v)}"
                                for k, v in value.items()) + " }"
    if value is None:
        return "null"
    return hcl_string(str(value))


def _body(attributes: Mapping[str, Any], blocks: Iterable[Block], indent: str) -> list[str]:
    lines = [f"{indent}{name} = {hcl_value(value)}" for name, value in attributes.items()]
    for block in blocks:
        lines.append(f"{indent}{block.name} {{")
        lines += _body(block.attributes, block.blocks, indent + "  ")
        lines.append(f"{indent}}}")
    return lines


def render_plans(plans: Iterable[Plan]) -> str:
    plans = list(plans)
    found = resources(plans)
    lines = [comment("Suggested by cfgmon fix: review every block before applying it."), ""]
    for account, region in dict.fromkeys((r.account_id, r.region) for r in found):
        lines += [
            'provider "aws" {',
            f"  alias               = {hcl_string(provider_alias(account, region))}",
            f"  region              = {hcl_string(region)}",
            f"  allowed_account_ids = [{hcl_string(account)}]",
            "}", "",
        ]
    for resource in found:
        provider = f"aws.{provider_alias(resource.account_id, resource.region)}"
        lines += [comment(c) for c in resource.comments]
        if resource.import_id is not None:
            lines += ["import {", f"  to       = {resource.type}.{resource.name}",
                      f"  id       = {hcl_string(resource.import_id)}",
                      f"  provider = {provider}", "}"]
        lines.append(f'resource "{resource.type}" "{resource.name}" {{')
        lines.append(f"  provider = {provider}")
        kept = {k: v for k, v in resource.kept.items() if k not in resource.attributes}
        lines += _body({**resource.attributes, **kept}, resource.blocks, "  ")
        lines += ["}", ""]
    notes = [n for plan in plans for n in plan.notes]
    lines += [comment(f"note: {n}") for n in dict.fromkeys(notes)]
    return "\n".join(lines).rstrip("\n") + "\n"

