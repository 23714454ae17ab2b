"""Remediation written for the account: the fix of each NON_COMPLIANT result's broken link.

    plans = plan_fixes(con, results)            # {(control_id, version, account): Plan}
    aws_cli.render_plans(plans.values())        # shell commands
    terraform.render_plans(plans.values())      # HCL

The plans are suggestions to review; cfgmon never runs them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from cfgmon.controls.catalogue import ControlVersion, resolve
from cfgmon.controls.runner import ControlResult
from cfgmon.errors import ControlError
from cfgmon.output.json_format import Encoded, dumps
from cfgmon.remediation import aws_cli, terraform
from cfgmon.remediation.inventory import Inventory
from cfgmon.remediation.plan import ApiCall, Plan, Step
from cfgmon.remediation.planner import DEFAULT_EMAIL, RESTATES_ALARM, plan_fix
from cfgmon.remediation.shapes import ShapeCache

PlanKey = tuple[str, str, str]   # control_id, control_version, account_id


def plan_key(result) -> PlanKey:
    return (result.control_id, result.control_version, result.account_id)


def plan_fixes(con, results: Iterable[ControlResult], *,
               email: str = DEFAULT_EMAIL) -> dict[PlanKey, Plan]:
    """A plan for each NON_COMPLIANT result whose control version is in the catalogue."""
    failing = [r for r in results if r.status == "NON_COMPLIANT"]
    if not failing:
        return {}
    inventory = Inventory(con, [r.evidence["alarm_arn"] for r in failing
                                if r.evidence.get("alarm_arn")
                                and r.evidence.get("broken_link") in RESTATES_ALARM],
                          [r.evidence.get("log_group_arn") for r in failing])
    plans = {}
    versions: dict[str, ControlVersion | None] = {}   # thousands of results, a few versions
    for result in failing:
        ref = f"{result.control_id}@{result.control_version}"
        if ref not in versions:
            try:
                versions[ref] = resolve(ref)
            except ControlError:   # a stored run of a version this cfgmon no longer ships
                versions[ref] = None
        if versions[ref] is not None:
            plans[plan_key(result)] = plan_fix(result, versions[ref], inventory, email=email)
    return plans


def rendered(plan: Plan) -> dict:
    """A plan as `check --format json` and the HTML report carry it."""
    return {"cli": aws_cli.render_plan(plan), "terraform": terraform.render_plans([plan]),
            **plan.as_dict()}


def rendered_plans(plans: Mapping[PlanKey, Plan]) -> dict[PlanKey, Encoded]:
    """rendered() of every plan, encoded as JSON, each shape of plan rendered once
    (see shapes): thousands of accounts of one estate share a handful of shapes."""
    encoded = ShapeCache(lambda plan: (dumps(rendered(plan)),))
    return {key: Encoded(encoded(plan)[0]) for key, plan in plans.items()}


__all__ = ["ApiCall", "DEFAULT_EMAIL", "Plan", "PlanKey", "Step", "aws_cli", "plan_fixes",
           "plan_key", "rendered", "rendered_plans", "terraform"]
