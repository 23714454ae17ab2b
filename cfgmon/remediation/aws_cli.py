"""A plan as AWS CLI commands: one `aws SERVICE OPERATION --param value …` per step.

Every value is shell-quoted; structured values (lists, objects) are given as JSON,
which the AWS CLI takes for any parameter. Comment lines carry names and reasons,
which are user data: they are flattened to one line so no name can end a comment.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Mapping
from typing import Any

from botocore import xform_name

from cfgmon.remediation.plan import ApiCall, Plan

# Where the AWS CLI names a parameter otherwise than the API does.
_FLAG_NAMES = {("sns", "Subscribe", "Endpoint"): "notification-endpoint"}
_SERVICE_COMMANDS = {"s3": "s3api"}   # `aws s3` is the high-level file commands
_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def comment(text: str) -> str:
    return "# " + _LINE_BREAKS.sub(" ", text)


def command(call: ApiCall) -> str:
    words = ["aws", _SERVICE_COMMANDS.get(call.service, call.service),
             xform_name(call.operation, "-")]
    if call.service != "iam":   # IAM is global
        words += ["--region", shlex.quote(call.region)]
    for name, value in call.params.items():
        flag = _FLAG_NAMES.get((call.service, call.operation, name)) or xform_name(name, "-")
        if isinstance(value, bool):
            words.append(f"--{flag}" if value else f"--no-{flag}")
        else:
            words += [f"--{flag}", shlex.quote(_text(value))]
    return " ".join(words)


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def render_plan(plan: Plan, header: Mapping[str, str] | None = None) -> str:
    """The plan's commands, each after a comment saying what it fixes and where."""
    lines = [comment(f"{plan.account_id} {plan.control_id}: {plan.reason}")]
    for number, step in enumerate(plan.steps, 1):
        where = f"account {step.call.account_id}" + (
            "" if step.call.service == "iam" else f", {step.call.region}")
        lines.append(comment(f"{number}. {step.title} ({where})"))
        lines.append(command(step.call))
    lines += [comment(f"note: {note}") for note in plan.notes]
    return "\n".join(lines) + "\n"


def render_plans(plans: Iterable[Plan]) -> str:
    return "\n".join(render_plan(plan) for plan in plans)
