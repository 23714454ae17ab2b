"""Remediation written for the account: the fix of each NON_COMPLIANT result's broken link.

    plans = plan_fixes(con, results)            # {(control_id, version, account): Plan}
    aws_cli.render_plans(plans.values())        # shell commands
    terraform.render_plans(plans.values())      # HCL

The plans are suggestions to review; cfgmon never runs them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from cfgmon.controls.catalogue import ControlVersion, resolve
from cfgmon.controls.runner import ControlResult
from cfgmon.errors import ControlError
from cfgmon.output.json_format import Encoded, dumps
from cfgmon.parallel import map_forked
from cfgmon.remediation import aws_cli, terraform
from cfgmon.remediation.inventory import Inventory
from cfgmon.remediation.plan import ApiCall, Plan, Step
from cfgmon.remediation.planner import DEFAULT_EMAIL, RESTATES_ALARM, RESTATES_POLICY, plan_fix
from cfgmon.remediation.shapes import ShapeCache

PlanKey = tuple[str, str, str]   # control_id, control_version, account_id


def plan_key(result) -> PlanKey:
    return (result.control_id, result.control_version, result.account_id)


def plan_fixes(con, results: Iterable[ControlResult], *,
               email: str = DEFAULT_EMAIL) -> dict[PlanKey, Plan]:
    """A plan for each NON_COMPLIANT result whose control version is in the catalogue."""
    failing = _plannable(results)
    inventory = _inventory(con, [result for result, _ in failing])
    return {plan_key(result): plan_fix(result, version, inventory, email=email)
            for result, version in failing}


def rendered_fixes(con, results: Iterable[ControlResult], *,
                   email: str = DEFAULT_EMAIL) -> dict[PlanKey, Encoded]:
    """rendered_plans(plan_fixes(...)): each plan made and rendered on one of the
    machine's cores (cfgmon.parallel), from the inventory read once before (a forked
    child's is detached: it never queries the database)."""
    failing = _plannable(results)
    inventory = _inventory(con, [result for result, _ in failing])

    def plan_and_render(share: Sequence[tuple[ControlResult, ControlVersion]]) -> list[str]:
        encoded = _shape_cache()
        return [encoded(plan_fix(result, version, inventory, email=email))[0]
                for result, version in share]

    texts = map_forked(plan_and_render, failing,
                       in_child=inventory.detach if inventory is not None else None)
    return {plan_key(result): Encoded(text)
            for (result, _), text in zip(failing, texts, strict=True)}


def _plannable(results: Iterable[ControlResult]) -> list[tuple[ControlResult, ControlVersion]]:
    """The NON_COMPLIANT results whose control version is in the catalogue, each with it."""
    failing = []
    versions: dict[str, ControlVersion | None] = {}   # thousands of results, a few versions
    for result in results:
        if result.status != "NON_COMPLIANT":
            continue
        ref = f"{result.control_id}@{result.control_version}"
        if ref not in versions:
            try:
                versions[ref] = resolve(ref)
            except ControlError:   # a stored run of a version this cfgmon no longer ships
                versions[ref] = None
        if versions[ref] is not None:
            failing.append((result, versions[ref]))
    return failing


def _inventory(con, failing: Sequence[ControlResult]) -> Inventory | None:
    """The inventory rows the failing results' plans read (None: no plan to make)."""
    if not failing:
        return None
    # a plan restates what the broken link's evidence names (see planner.py)
    def named(field: str, links: Iterable[int]) -> list[str]:
        return [r.evidence[field] for r in failing
                if r.evidence.get(field) and r.evidence.get("broken_link") in links]

    return Inventory(con, named("alarm_arn", RESTATES_ALARM),
                     [r.evidence.get("log_group_arn") for r in failing],
                     topic_arns=named("topic_arn", RESTATES_POLICY),
                     key_arns=named("topic_kms_key", RESTATES_POLICY))


def rendered(plan: Plan) -> dict:
    """A plan as `check --format json` and the HTML report carry it."""
    return {"cli": aws_cli.render_plan(plan), "terraform": terraform.render_plans([plan]),
            **plan.as_dict()}


def rendered_plans(plans: Mapping[PlanKey, Plan]) -> dict[PlanKey, Encoded]:
    """rendered() of every plan, encoded as JSON, each shape of plan rendered once
    (see shapes): thousands of accounts of one estate share a handful of shapes."""
    encoded = _shape_cache()
    return {key: Encoded(encoded(plan)[0]) for key, plan in plans.items()}


def _shape_cache() -> ShapeCache:
    return ShapeCache(lambda plan: (dumps(rendered(plan)),))


__all__ = ["ApiCall", "DEFAULT_EMAIL", "Plan", "PlanKey", "Step", "aws_cli", "plan_fixes",
           "plan_key", "rendered", "rendered_fixes", "rendered_plans", "terraform"]
