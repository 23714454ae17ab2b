"""JSON numbers that remember how the event wrote them.

A quoted pattern value is compared with a JSON number as text, and the text AWS
compares is the number as it appears in the event (`12.0` stays `12.0`, `1e3` stays
`1e3`), not a re-rendering of its value. The event parser builds these instead of
plain int and float; they are ints and floats in every other respect.
"""

from __future__ import annotations

from collections.abc import Callable


class JsonInt(int):
    text: str


class JsonFloat(float):
    text: str


def _keeping_text(kind: type[JsonInt] | type[JsonFloat]) -> Callable[[str], JsonInt | JsonFloat]:
    def parse(text: str) -> JsonInt | JsonFloat:
        number = kind(text)
        number.text = text
        return number

    return parse


# json.loads(parse_int=..., parse_float=...)
parse_int = _keeping_text(JsonInt)
parse_float = _keeping_text(JsonFloat)

# The types a JSON number has once parsed: from an event, or built in Python.
NUMBER_TYPES = frozenset({JsonInt, JsonFloat, int, float})
