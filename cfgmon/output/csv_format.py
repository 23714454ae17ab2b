"""CSV with a header row; nested values are written as JSON text."""

from __future__ import annotations

import csv

from cfgmon.output.json_format import Encoded, default, dumps


def cell(value):
    if value is None:
        return ""
    if isinstance(value, Encoded):
        return value.text
    if isinstance(value, dict | list):
        return dumps(value)
    if isinstance(value, bool | int | float | str):
        return value
    return default(value)


def render(rows, context, out) -> None:
    rows = list(rows)
    columns = list(context.columns or (rows[0].keys() if rows else []))
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(row.get(c)) for c in columns])
