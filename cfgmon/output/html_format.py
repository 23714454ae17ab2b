"""The auditor's report: one self-contained HTML file (no network), rendered with Jinja2.

The header (when, what was collected, the summary, compliance over time) is HTML;
the matrix of accounts by controls and every result's detail are data, drawn by the
page's own script: the matrix from a compact table of status codes, a detail (the
chain, reason, evidence, remediation) only when its cell is clicked. Details are
gzip-compressed in chunks of accounts and decompressed by the browser on demand, so
a report of thousands of accounts stays small and opens at once.

Everything shown is user data (resource names, patterns): Jinja2 autoescapes the
HTML, the embedded JSON escapes `<`, `>` and `&` so no value can end its <script>,
and the script puts data into the page as text only, never as markup.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
from collections import Counter, defaultdict
from functools import cache
from typing import Any

from cfgmon.controls.catalogue import STATUSES
from cfgmon.controls.links import LINKS, evidence_by_link, link_states
from cfgmon.output.findings import SHORT, STATUS_WORDS, requirement_key, requirement_of, utc
from cfgmon.output.json_format import default

ACCOUNTS_PER_CHUNK = 50     # details decompressed together when one cell is clicked
STATE_CODES = {"ok": "o", "broken": "b", "not reached": "n"}
CHART = {"width": 640, "height": 140, "pad": 28}
SPARK = {"width": 120, "height": 22}


@cache
def _template():
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("cfgmon.output", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.policies["json.dumps_kwargs"] = {"default": default, "separators": (",", ":"),
                                         "ensure_ascii": False}
    return env.get_template("report.html.j2")


def render(rows, context, out) -> None:
    rows = list(rows)
    refs = sorted({r["control"] for r in rows},
                  key=lambda ref: (requirement_key(_requirement(rows, context.controls, ref)), ref))
    accounts = sorted({r["account_id"] for r in rows})
    page = {
        "title": "cfgmon report",
        "run_id": context.run_id,
        "evaluated_at": _when(min((r["evaluated_at"] for r in rows), default=None)),
        "generated_at": _when(dt.datetime.now(dt.UTC)),
        "frameworks": _frameworks(rows, context),
        "summary": _summary(rows),
        "controls": [_control_summary(rows, context, ref) for ref in refs],
        "accounts_shown": len(accounts),
        "hidden": context.hidden,
        "estate": context.estate,
        "status_words": STATUS_WORDS,
        "short": SHORT,
        "statuses": STATUSES,
        "links": [link.label for link in LINKS],
    }
    page["chart"] = _chart(context.estate, refs) if context.estate else None
    data = _matrix(rows, refs, accounts, context.controls)
    out.write(_template().render(page=page, data=data))


# -- the header -------------------------------------------------------------------------


def _when(value) -> str | None:
    return None if value is None else utc(value).strftime("%Y-%m-%d %H:%M:%S UTC")


def _requirement(rows, controls, ref: str) -> str:
    framework = next((r.get("framework") for r in rows if r["control"] == ref), None)
    return requirement_of(controls, ref, framework)


def _frameworks(rows, context) -> list[str]:
    judged = {r.get("framework") or context.controls.get(r["control"], {}).get("default_framework")
              for r in rows}
    return sorted(f for f in judged if f)


def _summary(rows) -> dict[str, int]:
    counted = Counter(r["status"] for r in rows)
    return {status: counted.get(status, 0) for status in STATUSES}


def _control_summary(rows, context, ref: str) -> dict[str, Any]:
    mine = [r for r in rows if r["control"] == ref]
    meta = context.controls.get(ref, {})
    return {"ref": ref, "id": ref.split("@")[0], "title": meta.get("title", ""),
            "requirement": _requirement(rows, context.controls, ref), "counts": _summary(mine)}


def _chart(estate, refs: list[str]) -> dict[str, Any] | None:
    """Compliance over the stored runs: the estate's line and each control's sparkline."""
    runs: dict[str, dict] = {}
    by_control: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for row in estate.history:
        run = runs.setdefault(row["run_id"], {"at": row["evaluated_at"], "compliant": 0, "judged": 0})
        run["compliant"] += row["compliant"]
        run["judged"] += row["judged"]
        by_control[row["control_id"]][row["run_id"]] = (row["compliant"], row["judged"])
    if len(runs) < 2:
        return None
    order = list(runs)
    w, h, pad = CHART["width"], CHART["height"], CHART["pad"]
    points = []
    for i, run_id in enumerate(order):
        run = runs[run_id]
        share = run["compliant"] / run["judged"] if run["judged"] else 0.0
        x = pad + (w - 2 * pad) * i / (len(order) - 1)
        y = h - pad - (h - 2 * pad) * share
        points.append({"x": round(x, 1), "y": round(y, 1), "percent": round(100 * share, 1),
                       "at": _when(run["at"]), "run": run_id[:8]})
    sparks = {}
    for ref in refs:
        control = ref.split("@")[0]
        values = [by_control[control].get(run_id) for run_id in order]
        coords = []
        for i, value in enumerate(values):
            if value is None or not value[1]:
                continue
            x = SPARK["width"] * i / (len(order) - 1)
            y = SPARK["height"] - 2 - (SPARK["height"] - 4) * value[0] / value[1]
            coords.append(f"{x:.1f},{y:.1f}")
        sparks[ref] = " ".join(coords)
    return {"points": points, "line": " ".join(f"{p['x']},{p['y']}" for p in points),
            "sparks": sparks, **CHART, "spark": SPARK, "runs": len(order)}


# -- the data the page draws ---------------------------------------------------------------


def _matrix(rows, refs: list[str], accounts: list[str], controls) -> dict[str, Any]:
    column = {ref: i for i, ref in enumerate(refs)}
    row_of = {account: i for i, account in enumerate(accounts)}
    cells = [["-"] * len(refs) for _ in accounts]
    chunks: list[list] = [[] for _ in range(0, len(accounts), ACCOUNTS_PER_CHUNK)]
    for r in rows:
        a, c = row_of[r["account_id"]], column[r["control"]]
        cells[a][c] = str(STATUSES.index(r["status"]))
        chunks[a // ACCOUNTS_PER_CHUNK].append([a, c, _detail(r)])
    return {
        "statuses": list(STATUSES),
        "short": [SHORT[s] for s in STATUSES],
        "words": [STATUS_WORDS[s] for s in STATUSES],
        "links": [{"label": link.label, "field": link.resource_field} for link in LINKS],
        "controls": [{"ref": ref, "requirement": _requirement(rows, controls, ref),
                      "id": ref.split("@")[0]} for ref in refs],
        "accounts": accounts,
        "cells": ["".join(row) for row in cells],
        "chunk_size": ACCOUNTS_PER_CHUNK,
        "chunks": [_packed(chunk) for chunk in chunks],
    }


def _detail(row: dict[str, Any]) -> dict[str, Any]:
    evidence = row.get("evidence") or {}
    states = link_states(row["status"], evidence.get("broken_link"))
    grouped = evidence_by_link(evidence)
    detail = {
        "reason": row["reason"],
        "resource": row.get("resource"),
        "framework": row.get("framework"),
        "evaluated_at": _when(row["evaluated_at"]),
        "links": "".join(STATE_CODES[s] for s in states),
        "evidence": [grouped[link.key] for link in LINKS] + [grouped["general"]],
    }
    fix = row.get("remediation")
    if fix:
        detail["fix"] = {"cli": fix["cli"], "terraform": fix["terraform"], "notes": fix["notes"]}
    return detail


def _packed(chunk: list) -> str:
    """A chunk of details as base64 of gzip of JSON: what DecompressionStream reads."""
    text = json.dumps(chunk, default=default, separators=(",", ":"), ensure_ascii=False)
    return base64.b64encode(gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)).decode()
