"""SNS subscription filter policies (scope MessageBody) judged against a message body.

The body may hold values cfgmon cannot know in advance (an alarm notification's
StateChangeTime, say): those are UNKNOWN; and an object whose other keys cannot be
listed is an OpenObject, whose unlisted keys may or may not be there. A policy then matches True, False, or None when
the answer depends on what is unknown or on an operator not evaluated here.

Semantics, after AWS's filter policy documentation: the policy's keys must all
match ("$or" takes a list of alternative policies); a nested object descends into
the body's object; a leaf is a list of conditions of which one must match; a body
array matches when one of its elements does. Conditions evaluated: exact strings,
numbers and null, `prefix`, `suffix`, `equals-ignore-case`, `anything-but` (values,
or a prefix or suffix), `exists` and `numeric` comparisons; any other (`cidr`,
`wildcard`, nested operators) gives None. A key the body does not have matches only
`{"exists": false}`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from typing import Any


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()   # a value the body has, unknown in advance
_MISSING = object()    # a key the body does not have
_MAYBE = object()      # a key an OpenObject may or may not have


class OpenObject(dict):
    """A body object that may have more keys than it lists: an unlisted key is UNKNOWN."""


def matches(policy: dict, body: dict) -> bool | None:
    """Whether the body passes the policy: True, False, or None when it cannot be told."""
    results = []
    for key, condition in policy.items():
        if key == "$or":
            alternatives = condition if isinstance(condition, list) else []
            results.append(any_of(matches(p, body) if isinstance(p, dict) else None
                                  for p in alternatives) if alternatives else None)
            continue
        value = _lookup(body, key)
        if isinstance(condition, dict):
            if value is UNKNOWN or value is _MAYBE:
                results.append(None)
            else:
                results.append(matches(condition, value if isinstance(value, dict) else {}))
        elif isinstance(condition, list):
            results.append(any_of(_leaf(c, value) for c in condition))
        else:
            results.append(None)
    return all_of(results)


def all_of(results: Iterable[bool | None]) -> bool | None:
    results = list(results)
    if False in results:
        return False
    return None if None in results else True


def any_of(results: Iterable[bool | None]) -> bool | None:
    results = list(results)
    if True in results:
        return True
    return None if None in results else False


def _lookup(body: dict, key: str) -> Any:
    if key in body:
        return body[key]
    return _MAYBE if isinstance(body, OpenObject) else _MISSING


_NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


def _leaf(condition: Any, value: Any) -> bool | None:
    """One condition of a leaf against the body's value there."""
    if value is _MAYBE:
        return None
    if isinstance(condition, dict) and len(condition) == 1 and "exists" in condition:
        wanted = condition["exists"]
        if not isinstance(wanted, bool):
            return None
        present = value is not _MISSING and value is not None
        return present == wanted
    if value is _MISSING:
        return False
    if value is UNKNOWN:
        return None
    if isinstance(value, list):
        return any_of(_leaf(condition, element) for element in value)
    return _scalar(condition, value)


def _scalar(condition: Any, value: Any) -> bool | None:
    if condition is None or isinstance(condition, str | bool):
        return value == condition and type(value) is type(condition)
    if isinstance(condition, int | float):
        return _is_number(value) and float(value) == float(condition)
    if not isinstance(condition, dict) or len(condition) != 1:
        return None
    [(name, argument)] = condition.items()
    if name in ("prefix", "suffix", "equals-ignore-case"):
        if not isinstance(argument, str):
            return None
        if not isinstance(value, str):
            return False
        if name == "prefix":
            return value.startswith(argument)
        if name == "suffix":
            return value.endswith(argument)
        return value.lower() == argument.lower()
    if name == "anything-but":
        if isinstance(argument, dict):
            inner = _scalar(argument, value)
            return None if inner is None else not inner
        excluded = argument if isinstance(argument, list) else [argument]
        if any(isinstance(e, dict | list) for e in excluded):
            return None
        return not any(_scalar(e, value) for e in excluded)
    if name == "numeric":
        return _numeric(argument, value)
    return None


def _numeric(argument: Any, value: Any) -> bool | None:
    if not isinstance(argument, list) or len(argument) not in (2, 4):
        return None
    if not _is_number(value):
        return False
    for op, bound in zip(argument[::2], argument[1::2], strict=True):
        if op not in _NUMERIC or not _is_number(bound):
            return None
        if not _NUMERIC[op](float(value), float(bound)):
            return False
    return True


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
