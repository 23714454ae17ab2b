"""JSON: an array of objects, one per row."""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import json
import uuid
from collections.abc import Iterator, Mapping
from typing import Any


class Encoded(Mapping):
    """A JSON object already encoded (a fix rendered once for thousands of results):
    write_array copies its text into the row; any other reader decodes it on demand."""

    __slots__ = ("text", "_value")

    def __init__(self, text: str, value: Mapping[str, Any] | None = None) -> None:
        """`value`: the object `text` encodes, when the caller has it (nothing to decode)."""
        self.text = text
        self._value = value

    def decoded(self) -> Mapping[str, Any]:
        if self._value is None:
            self._value = json.loads(self.text)
        return self._value

    def __getitem__(self, key: str) -> Any:
        return self.decoded()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.decoded())

    def __len__(self) -> int:
        return len(self.decoded())


def default(value):
    if isinstance(value, Encoded):
        return value.decoded()
    if isinstance(value, dt.datetime):
        return _utc_text(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, uuid.UUID | bytes):
        return str(value)
    raise TypeError(f"cannot render {type(value).__name__} as JSON")


@functools.lru_cache(maxsize=1024)   # a run's results share a handful of timestamps
def _utc_text(value: dt.datetime) -> str:
    # Stored timestamps are naive UTC; say so.
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat().replace("+00:00", "Z")


# One encoder for every plain dumps: json.dumps builds a new one per call, a cost that
# shows on the several calls per result of an estate's tens of thousands of results.
_ENCODER = json.JSONEncoder(default=default, ensure_ascii=False)


def dumps(value, **kwargs) -> str:
    if not kwargs:
        return _ENCODER.encode(value)
    return json.dumps(value, default=default, ensure_ascii=False, **kwargs)


def write_array(items, out) -> None:
    """A JSON array, one element a line: json's C encoder writes each element, where an
    indented dump goes through its pure-Python encoder, ten times slower on the tens of
    thousands of results of an estate."""
    written = False
    for item in items:
        out.write(",\n  " if written else "[\n  ")
        out.write(_encoded_row(item) if isinstance(item, dict) else dumps(item))
        written = True
    out.write("\n]\n" if written else "[]\n")


def _encoded_row(row: dict) -> str:
    """dumps(row), with the text of its Encoded values copied in as they are, in place."""
    if not any(type(value) is Encoded for value in row.values()):
        return dumps(row)
    parts: list[str] = []
    plain: dict = {}
    for key, value in row.items():
        if type(value) is Encoded:
            if plain:
                parts.append(dumps(plain)[1:-1])
                plain = {}
            parts.append(f"{dumps(key)}: {value.text}")
        else:
            plain[key] = value
    if plain:
        parts.append(dumps(plain)[1:-1])
    return "{" + ", ".join(parts) + "}"


def render(rows, context, out) -> None:
    write_array(rows, out)
