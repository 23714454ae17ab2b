"""Running control versions: derive coverage, run the SQL, check its rows, record history."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, fields
from typing import Any

import duckdb

from cfgmon.controls.catalogue import (
    EVIDENCE_PREFIX,
    REQUIRED_COLUMNS,
    STATUSES,
    ControlVersion,
)
from cfgmon.controls.coverage import PatternBook, derive_aside, derive_many
from cfgmon.controls.freshness import MaxAge, apply_max_age
from cfgmon.controls.topic_delivery import derive_topic_delivery
from cfgmon.errors import ControlError, DatabaseError
from cfgmon.output.json_format import Encoded, dumps
from cfgmon.store.bulk import insert_rows
from cfgmon.store.database import utc_now
from cfgmon.store.transaction import transaction

# What a query judging many controls at once adds to each row: whose row it is.
JUDGED_TOGETHER_COLUMNS = ("control_id", "control_version")

# The keys every result carries, in the order outputs show them.
RESULT_KEYS = (
    "control_id", "control_version", "account_id", "status", "reason", "resource",
    "evaluated_at", "evidence", "run_id", "framework",
)


@dataclass(frozen=True)
class ControlResult:
    control_id: str
    control_version: str
    account_id: str
    status: str
    reason: str
    resource: str | None
    evaluated_at: Any
    evidence: dict[str, Any]
    run_id: str
    framework: str | None = None   # the framework version judged (cis-aws@5.0.0); None: default

    @functools.cached_property
    def evidence_json(self) -> str:
        """The evidence as JSON, encoded once for the history row and the json output."""
        return dumps(self.evidence)

    def as_dict(self) -> dict[str, Any]:
        # shallow, the evidence a read-only mapping that carries its JSON: asdict would
        # deep-copy every value of tens of thousands of results
        values = {name: getattr(self, name) for name in _RESULT_FIELDS}
        values["evidence"] = Encoded(self.evidence_json, self.evidence)
        return values


_RESULT_FIELDS = tuple(f.name for f in fields(ControlResult))


def run_controls(
    con, versions: list[ControlVersion], *, record: bool = True, max_age: MaxAge | None = None,
    framework: str | None = None,
) -> list[ControlResult]:
    """Run each control version over the inventory in `con`; append to history.

    `framework` (`cis-aws@5.0.0`, `securityhub`) picks that framework version's events
    for controls on a shared chain; by default each judges its newest CIS version's.
    With record=False nothing is written to the database (a read-only connection
    will do): no history, and the derived tables live only in this connection.
    With `max_age`, a verdict resting on rows collected longer ago than that is
    INSUFFICIENT_DATA (see freshness); the history records what was reported.
    """
    _require_inventory(con)
    if not record:
        derive_aside(con)
    run_id = str(uuid.uuid4())
    evaluated_at = utc_now()
    by_ref: dict[str, list[ControlResult]] = {}
    book = PatternBook()  # the inventory's patterns, compiled once for every control
    derive_topic_delivery(con)  # control-independent: once for every chain of the run
    for group in run_groups(versions):
        derive_many(con, [(v, v.event_set(framework)) for v in group], book)
        by_ref.update(_run_group(con, group, run_id, evaluated_at, framework))
    results = [r for ref in dict.fromkeys(v.ref for v in versions) for r in by_ref[ref]]
    if max_age is not None:
        results = [apply_max_age(r, max_age, evaluated_at) for r in results]
    if record:
        record_results(con, results)
    return results


def run_groups(versions: list[ControlVersion]) -> list[list[ControlVersion]]:
    """The runs of one query each: every version on the same chain that judges many
    controls at once goes into one run; any other version runs alone."""
    together: dict[str, list[ControlVersion]] = {}
    groups: list[list[ControlVersion]] = []
    for version in {v.ref: v for v in versions}.values():
        if version.judged_together:
            if version.chain not in together:
                together[version.chain] = []
                groups.append(together[version.chain])
            together[version.chain].append(version)
        else:
            groups.append([version])
    return groups


def _require_inventory(con) -> None:
    try:
        collected = con.execute("SELECT COUNT(*) FROM cfgmon_account").fetchone()[0]
    except duckdb.CatalogException:
        collected = 0
    if not collected:
        raise DatabaseError("no inventory yet: run cfgmon collect first")


def _run_group(
    con, group: list[ControlVersion], run_id: str, evaluated_at, framework: str | None
) -> dict[str, list[ControlResult]]:
    """Run the group's one query; its results per version ref."""
    where = group[0].chain if group[0].judged_together else group[0].ref
    try:
        cursor = con.execute(group[0].sql)
    except duckdb.Error as exc:
        message = str(exc).strip().splitlines()[0]
        raise ControlError(f"control {where} failed to run: {message}") from None
    columns = [d[0] for d in cursor.description]
    required = REQUIRED_COLUMNS + (JUDGED_TOGETHER_COLUMNS if group[0].judged_together else ())
    missing = [c for c in required if c not in columns]
    if missing:
        raise ControlError(f"control {where} does not return {', '.join(missing)}")
    versions = {(v.control.id, v.version): v for v in group}
    results: dict[str, list[ControlResult]] = {v.ref: [] for v in group}
    position = {name: i for i, name in enumerate(columns)}
    evidence_columns = [(name.removeprefix(EVIDENCE_PREFIX), i) for i, name in enumerate(columns)
                        if name.startswith(EVIDENCE_PREFIX)]
    account, status, reason, resource = (position[c] for c in ("account_id", "status", "reason",
                                                                "resource"))
    version_of = ((position["control_id"], position["control_version"])
                  if group[0].judged_together else None)
    for values in cursor.fetchall():
        if version_of is None:
            version = group[0]
        else:
            version = versions.get((values[version_of[0]], values[version_of[1]]))
            if version is None:
                raise ControlError(f"chain {where} returned a row for {values[version_of[0]]}@"
                                   f"{values[version_of[1]]}, which it was not asked to judge")
        if values[status] not in STATUSES:
            raise ControlError(f"control {version.ref} returned unknown status {values[status]!r}")
        if not values[reason] or not values[account]:
            raise ControlError(f"control {version.ref} returned a row without account or reason")
        results[version.ref].append(ControlResult(
            control_id=version.control.id,
            control_version=version.version,
            account_id=values[account],
            status=values[status],
            reason=values[reason],
            resource=values[resource],
            evaluated_at=evaluated_at,
            evidence={name: values[i] for name, i in evidence_columns if values[i] is not None},
            run_id=run_id,
            framework=framework,
        ))
    return results


def record_results(con, results: list[ControlResult]) -> None:
    """Append results to cfgmon_check_result in one transaction."""
    if not results:
        return
    rows = [
        (r.run_id, r.evaluated_at, r.control_id, r.control_version, r.account_id, r.status,
         r.reason, r.resource, r.evidence_json, r.framework)
        for r in results
    ]
    with transaction(con):
        insert_rows(con, "cfgmon_check_result", rows)
