"""JSON: an array of objects, one per row."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid


def default(value):
    if isinstance(value, dt.datetime):
        # Stored timestamps are naive UTC; say so.
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, uuid.UUID | bytes):
        return str(value)
    raise TypeError(f"cannot render {type(value).__name__} as JSON")


def dumps(value, **kwargs) -> str:
    return json.dumps(value, default=default, ensure_ascii=False, **kwargs)


def write_array(items, out) -> None:
    """A JSON array, one element a line: json's C encoder writes each element, where an
    indented dump goes through its pure-Python encoder, ten times slower on the tens of
    thousands of results of an estate."""
    written = False
    for item in items:
        out.write(",\n  " if written else "[\n  ")
        out.write(dumps(item))
        written = True
    out.write("\n]\n" if written else "[]\n")


def render(rows, context, out) -> None:
    write_array(rows, out)
