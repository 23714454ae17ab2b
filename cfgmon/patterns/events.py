"""LogEvent: one raw log event, with its JSON and its space-delimited fields worked
out lazily, once, however many patterns look at it."""

from __future__ import annotations

import json
import re
from typing import Any

from cfgmon.patterns.decisions import FIELD_GROUPS, reject_constant
from cfgmon.patterns.jsontext import parse_float, parse_int

_UNSET: Any = object()


class LogEvent:
    """A raw log event message, as CloudWatch Logs receives it."""

    __slots__ = ("text", "_json", "_fields", "_field_values")

    def __init__(self, text: str) -> None:
        self.text = text
        self._json = _UNSET
        self._fields: list[tuple[str, int]] | None = None
        self._field_values: list[str] | None = None

    @property
    def json(self) -> dict[str, Any] | None:
        """The event as a JSON object; None when it is not one (JSON patterns never match)."""
        if self._json is _UNSET:
            self._json = _parse_json(self.text)
        return self._json

    @property
    def fields(self) -> list[tuple[str, int]]:
        """The space-delimited fields as (value, offset) pairs."""
        if self._fields is None:
            self._fields = split_fields(self.text)
        return self._fields

    @property
    def field_values(self) -> list[str]:
        """The values of `fields` alone."""
        if self._field_values is None:
            self._field_values = [value for value, _ in self.fields]
        return self._field_values

    def __repr__(self) -> str:
        return f"LogEvent({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LogEvent) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def _parse_json(text: str) -> dict[str, Any] | None:
    stripped = text.strip()
    if not stripped.startswith("{"):  # cheap: most raw-text events are not JSON at all
        return None
    try:
        value = json.loads(
            stripped, parse_constant=reject_constant, parse_int=parse_int, parse_float=parse_float
        )
    except (ValueError, RecursionError):
        return None
    return value if type(value) is dict else None


# A group: an opener, everything up to its closer (or the end), the closer; else a word.
_FIELD = re.compile(
    "|".join(
        f"{re.escape(opener)}([^{re.escape(closer)}]*){re.escape(closer)}?"
        for opener, closer in FIELD_GROUPS.items()
    )
    + r"|(\S+)"
)


def split_fields(text: str) -> list[tuple[str, int]]:
    """Split on white space; text between " " or [ ] is one field, delimiters removed."""
    return [(m.group(m.lastindex), m.start()) for m in _FIELD.finditer(text)]
