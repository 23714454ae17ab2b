"""Reading stored runs back from cfgmon_check_result, exactly as `check` produced them."""

from __future__ import annotations

import json
from typing import Any

from cfgmon.controls.catalogue import STATUSES
from cfgmon.controls.report import CheckReport, control_metadata, result_order
from cfgmon.controls.runner import ControlResult
from cfgmon.errors import UsageError

RECENT_RUNS = 20        # runs `cfgmon results --list` shows
NAMED_IN_ERRORS = 5     # latest run ids an unknown-run message names


def load_run(con, run_id: str | None = None) -> CheckReport:
    """The run `run_id` (or a unique prefix of it); the latest run when None."""
    chosen = _latest_run_id(con) if run_id is None else _match_run_id(con, run_id)
    cursor = con.execute(
        "SELECT run_id, evaluated_at, control_id, control_version, account_id, status, reason, "
        "resource, evidence, framework FROM cfgmon_check_result WHERE run_id = ?",
        [chosen],
    )
    results = sorted(
        (
            ControlResult(
                run_id=row[0], evaluated_at=row[1], control_id=row[2], control_version=row[3],
                account_id=row[4], status=row[5], reason=row[6], resource=row[7],
                evidence=json.loads(row[8]) if row[8] else {}, framework=row[9],
            )
            for row in cursor.fetchall()
        ),
        key=result_order,
    )
    refs = {f"{r.control_id}@{r.control_version}" for r in results}
    return CheckReport(run_id=chosen, results=tuple(results), controls=control_metadata(refs))


def recent_runs(con, limit: int = RECENT_RUNS) -> list[dict[str, Any]]:
    """The latest runs, newest first: id, time, controls, accounts and a count per status."""
    counts = ", ".join(
        f"count(*) FILTER (WHERE status = '{status}') AS {status.lower()}" for status in STATUSES
    )
    cursor = con.execute(
        "SELECT run_id, min(evaluated_at) AS evaluated_at, "
        "string_agg(DISTINCT control_id || '@' || control_version, ', ' "
        "ORDER BY control_id || '@' || control_version) AS controls, "
        f"count(DISTINCT account_id) AS accounts, {counts} "
        "FROM cfgmon_check_result GROUP BY run_id ORDER BY evaluated_at DESC, run_id LIMIT ?",
        [limit],
    )
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _latest_run_id(con) -> str:
    runs = recent_runs(con, limit=1)
    if not runs:
        raise UsageError("no stored runs yet: run cfgmon check first")
    return runs[0]["run_id"]


def _match_run_id(con, run_id: str) -> str:
    found = [row[0] for row in con.execute(
        "SELECT DISTINCT run_id FROM cfgmon_check_result WHERE starts_with(run_id, ?) "
        "ORDER BY run_id LIMIT 2",
        [run_id],
    ).fetchall()]
    if len(found) == 1:
        return found[0]
    if found:
        raise UsageError(f"run id {run_id!r} is ambiguous: give more of it")
    latest = [run["run_id"] for run in recent_runs(con, limit=NAMED_IN_ERRORS)]
    if not latest:
        raise UsageError(f"no run {run_id!r}: no stored runs yet (run cfgmon check first)")
    raise UsageError(f"no run {run_id!r}; the latest runs are {', '.join(latest)}")
