"""A CheckReport in any format: every key for machines, a table that fits a terminal for people."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TextIO

from cfgmon.controls.estate import read_estate
from cfgmon.controls.report import CheckReport
from cfgmon.controls.runner import RESULT_KEYS
from cfgmon.output import ESTATE_FORMATS, FORMATS, REMEDIATION_FORMATS, RenderContext
from cfgmon.output.findings import SHORT, requirement_key, requirement_of
from cfgmon.text import counted

# Statuses every control can return are always counted in the summary line; any
# other status (NOT_APPLICABLE, say) appears there when some result has it.
ALWAYS_COUNTED = ("COMPLIANT", "NON_COMPLIANT", "INSUFFICIENT_DATA")

# arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE, the resource ending where the reason's
# own punctuation or words begin.
_ARN = re.compile(r"\barn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(?P<account>\d{12}):(?P<resource>[^\s,;()]+)")


def prepare(con, report: CheckReport, formats: Iterable[str], *, email: str | None = None
            ) -> CheckReport:
    """The report with what `formats` show beyond the results, read from `con` while it is
    open: the fix of each NON_COMPLIANT result (json, html), the estate (html)."""
    from cfgmon.remediation import DEFAULT_EMAIL, rendered_fixes

    formats = set(formats)
    if formats & REMEDIATION_FORMATS:
        fixes = rendered_fixes(con, report.results, email=email or DEFAULT_EMAIL)
        report = replace(report, remediation=fixes)
    if formats & ESTATE_FORMATS:
        report = replace(report, estate=read_estate(con))
    return report


def render_report(
    report: CheckReport,
    format_name: str,
    out: TextIO,
    *,
    title: str = "cfgmon check",
    extra: Mapping[str, Mapping[str, str]] | None = None,
) -> None:
    """Render `report` as `format_name`. `extra`: more table columns, by name, by account."""
    if format_name != "table":
        context = RenderContext(columns=RESULT_KEYS, controls=report.controls,
                                run_id=report.run_id, estate=report.estate, hidden=report.hidden)
        FORMATS[format_name](report.rows(), context, out)
        return
    rows, context = table_view(report, title=title, extra=extra or {})
    FORMATS["table"](rows, context, out)


def table_view(
    report: CheckReport, *, title: str, extra: Mapping[str, Mapping[str, str]]
) -> tuple[list[dict], RenderContext]:
    """The table's rows: one control's column only when several ran, ARNs shortened."""
    refs = report.control_refs
    several = len(refs) > 1
    columns: Sequence[str] = (
        "account_id", *(("control",) if several else ()), *extra, "status", "reason",
    )
    rows = []
    for row in report.rows():
        row["reason"] = shorten_arns(row["reason"], row["account_id"])
        for name, by_account in extra.items():
            row[name] = by_account.get(row["account_id"], "")
        rows.append(row)
    context = RenderContext(
        title=title if several or not refs else f"{title}: {refs[0]}",
        columns=columns,
        controls=report.controls,
        status_column="status",
        # the reason has the most to say: twice the width of any extra column
        wrap_columns={**{name: 1 for name in extra}, "reason": 2},
        footer="\n".join([summary_line(report), *control_lines(report)]),
    )
    return rows, context


def shorten_arns(text: str, account_id: str) -> str:
    """`arn:aws:cloudwatch:eu-west-1:ACCOUNT:alarm:x` -> `alarm:x` for the account's own ARNs.

    ARNs of other accounts stay whole: that another account is involved is the point.
    """
    return _ARN.sub(
        lambda m: m["resource"] if m["account"] == account_id else m[0], text
    )


def summary_line(report: CheckReport) -> str:
    """`6 accounts: 2 COMPLIANT, 4 NON_COMPLIANT, 0 INSUFFICIENT_DATA`, and what was not shown."""
    counts = ", ".join(
        f"{n} {status}" for status, n in report.counts().items()
        if n or status in ALWAYS_COUNTED
    )
    accounts = len(report.accounts)
    subject = counted(accounts, "account")
    if len(report.control_refs) > 1:
        subject = f"{counted(len(report.results), 'result')} ({subject}, " \
                  f"{counted(len(report.control_refs), 'control')})"
    line = f"{subject}: {counts}"
    if report.hidden:
        line += f"; {report.hidden} more in this run not shown"
    return line


COUNT_WORDS = {"COMPLIANT": "passed", "NON_COMPLIANT": "failed",
               "INSUFFICIENT_DATA": "insufficient", "NOT_APPLICABLE": "not applicable"}


def requirement(report: CheckReport, ref: str, framework: str | None) -> str:
    """The requirement id a control answers in the framework judged (`5.9`), or ''."""
    return requirement_of(report.controls, ref, framework)


def _by_control(report: CheckReport) -> dict[str, list]:
    grouped: dict[str, list] = {ref: [] for ref in report.control_refs}
    for result in report.results:
        grouped[f"{result.control_id}@{result.control_version}"].append(result)
    return grouped


def control_lines(report: CheckReport) -> list[str]:
    """With several controls, one line each: `5.9 config_…@2: 2 passed, 4 failed, …`."""
    if len(report.control_refs) < 2:
        return []
    lines = []
    for ref, results in _by_control(report).items():
        counts = {s: sum(r.status == s for r in results) for s in COUNT_WORDS}
        framework = results[0].framework if results else None
        lines.append(f"  {requirement(report, ref, framework)} {ref}: "
                     + ", ".join(f"{n} {COUNT_WORDS[s]}" for s, n in counts.items())
                     + f" ({counted(len(results), 'account')})")
    return lines


def render_matrix(report: CheckReport, out, *, title: str) -> None:
    """Controls by accounts, a short verdict in each cell: the audit at a glance."""
    accounts = report.accounts
    rows = []
    for ref, results in _by_control(report).items():
        by_account = {r.account_id: r.status for r in results}
        framework = results[0].framework if results else None
        rows.append({"requirement": requirement(report, ref, framework),
                     "control": ref.split("@")[0],
                     **{a: SHORT.get(by_account.get(a, ""), "") for a in accounts}})
    rows.sort(key=lambda row: requirement_key(row["requirement"]))
    context = RenderContext(title=title, columns=("requirement", "control", *accounts),
                            status_column="*", wrap_columns={"control": 1})
    FORMATS["table"](rows, context, out)
