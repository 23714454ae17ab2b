"""What the HTML report's header says about the estate beside the verdicts: what was
collected (and what could not be), and compliance over the stored runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

HISTORY_RUNS = 60           # runs drawn in the compliance-over-time chart
ERRORS_LISTED = 200         # collection errors listed by name; the rest are counted


@dataclass(frozen=True)
class Estate:
    accounts: tuple[dict[str, Any], ...]             # cfgmon_account rows
    regions: tuple[str, ...]                         # regions with a scope collected
    errors: tuple[dict[str, Any], ...]               # cfgmon_collection rows with status error
    errors_total: int
    history: tuple[dict[str, Any], ...] = field(default=())   # per run and control


def _rows(con, sql: str, params=()) -> list[dict[str, Any]]:
    cursor = con.execute(sql, list(params))
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def read_estate(con) -> Estate:
    accounts = _rows(con, "SELECT account_id, status, error_code, error_message, organization_id "
                          "FROM cfgmon_account ORDER BY account_id")
    regions = [r[0] for r in con.execute(
        "SELECT DISTINCT region FROM cfgmon_collection WHERE status = 'ok' ORDER BY region"
    ).fetchall()]
    errors_total = con.execute(
        "SELECT count(*) FROM cfgmon_collection WHERE status = 'error'").fetchone()[0]
    errors = _rows(con, "SELECT account_id, region, service, error_code, error_operation, "
                        "error_message, last_success_at FROM cfgmon_collection "
                        "WHERE status = 'error' ORDER BY account_id, region, service LIMIT ?",
                   [ERRORS_LISTED])
    history = _rows(con, """
        WITH runs AS (
            SELECT run_id, min(evaluated_at) AS evaluated_at FROM cfgmon_check_result
            GROUP BY run_id ORDER BY evaluated_at DESC LIMIT ?)
        SELECT r.run_id, r.evaluated_at, c.control_id,
               count(*) FILTER (WHERE c.status = 'COMPLIANT') AS compliant,
               count(*) FILTER (WHERE c.status <> 'NOT_APPLICABLE') AS judged
        FROM runs r JOIN cfgmon_check_result c USING (run_id)
        GROUP BY r.run_id, r.evaluated_at, c.control_id
        ORDER BY r.evaluated_at, c.control_id""", [HISTORY_RUNS])
    return Estate(tuple(accounts), tuple(regions), tuple(errors), errors_total, tuple(history))
