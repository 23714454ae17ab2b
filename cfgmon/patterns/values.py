"""Value tests: a pattern value and an operator, compiled once into a function that
answers for one JSON scalar or one space-delimited field.

The semantics are docs/filter-patterns.md rules 4 to 9; the undocumented corners
come from decisions.py. Wildcard values compile to the cheapest equivalent check
(==, startswith, endswith, in) and to a regex only when a `*` sits in the middle.
"""

from __future__ import annotations

import operator
import re
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
    """Whole-value match of `text`, where `*` is any run of characters."""
    core = text.strip("*")
    if "*" in core:
        fullmatch = re.compile(decisions.wildcard_regex(text), re.DOTALL).fullmatch
        return lambda s: fullmatch(s) is not None
    leading, trailing = text.startswith("*"), text.endswith("*")
    if leading and trailing:
        return (lambda s: core in s) if core else _always
    if trailing:
        return lambda s: s.startswith(core)
    if leading:
        return lambda s: s.endswith(core)
    return text.__eq__


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
