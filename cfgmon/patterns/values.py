"""Value tests: a pattern value and an operator, compiled once into a function that
answers for one JSON scalar or one space-delimited field.

The semantics are docs/filter-patterns.md rules 4 to 9; the undocumented corners
come from decisions.py. Wildcard values compile to the cheapest equivalent check
(==, startswith, find, in), and to AWS's segment-by-segment scan otherwise.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from cfgmon.patterns import decisions, regexes
from cfgmon.patterns.jsontext import NUMBER_TYPES
from cfgmon.patterns.nodes import Literal, Regex, Value

TextTest = Callable[[str], bool]
ScalarTest = Callable[[Any], bool]

_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def wildcard_matcher(text: str) -> TextTest:
    """Whole-value match of `text`, where `*` is a wildcard (decisions.wildcard_matches),
    with the common shapes as one string method each."""
    if "*" not in text:
        return text.__eq__
    segments = text.split("*")
    if len(segments) == 2:
        first, last = segments
        if not last:  # Put*
            return (lambda s: s.startswith(first)) if first else _always
        if not first:  # *Channel: its first occurrence must end the value

            def ends_at_first(s: str, last: str = last, size: int = len(last)) -> bool:
                found = s.find(last)
                return found >= 0 and found + size == len(s)

            return ends_at_first
    elif len(segments) == 3 and not segments[0] and not segments[2]:  # *date*
        core = segments[1]
        return (lambda s: core in s) if core else _always
    matches = decisions.wildcard_matches
    return lambda s: matches(segments, s)


def _always(_: Any) -> bool:
    return True


def _regex_matcher(value: Regex) -> TextTest:
    search = regexes.compile_regex(value.source).search
    return lambda s: search(s) is not None


_MATCHERS: dict[type, Callable[[Any], TextTest]] = {
    Literal: lambda value: wildcard_matcher(value.text),
    Regex: _regex_matcher,
}


def text_test(op: str, value: Value) -> TextTest:
    """How a text (a string, or a scalar's text) answers `op value`, numbers aside."""
    matcher = _MATCHERS[type(value)](value)
    if op == "=":
        return matcher
    if op == "!=":
        return lambda s: not matcher(s)
    raise ValueError(f"{op} takes a bare number (the parser refuses anything else)")


def _bare_number(value: Value) -> int | float | None:
    """The number a bare value spells; None for quoted values (text) and regexes."""
    if type(value) is not Literal or value.quoted:
        return None
    return decisions.parse_number(value.text)


def json_test(op: str, value: Value) -> ScalarTest:
    """The test one JSON value reached by a selector must pass for `op value`."""
    number = _bare_number(value)
    scalar_text = decisions.scalar_text
    if number is None:
        on_text = text_test(op, value)

        def test(v: Any) -> bool:
            if type(v) is str:  # the common case, without a call to scalar_text
                return on_text(v)
            s = scalar_text(v)
            return s is not None and on_text(s)

        return test
    compare = _ORDER[op]
    literal = value.text
    against_text = decisions.number_against_string
    number_types = NUMBER_TYPES

    def numeric_test(v: Any) -> bool:
        kind = type(v)
        if kind in number_types:
            return compare(v, number)
        s = scalar_text(v)
        return s is not None and against_text(op, literal, s)

    return numeric_test


def field_test(op: str, value: Value) -> TextTest:
    """The test a space-delimited field must pass for `op value`."""
    number = _bare_number(value)
    if number is None:
        return text_test(op, value)
    compare = _ORDER[op]
    literal = value.text
    as_number = decisions.FIELD_IS_NUMBER
    against_text = decisions.number_against_string

    def test(field: str) -> bool:
        n = as_number(field)
        return compare(n, number) if n is not None else against_text(op, literal, field)

    return test
