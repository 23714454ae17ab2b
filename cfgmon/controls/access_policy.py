"""Resource policies (SNS topic policies, KMS key policies) judged for one request.

A small evaluator of AWS's policy language, for the questions the delivery rules
ask: does this policy let this principal do this action on this resource, given
what is known of the request? It answers in three values, because a condition on a
key cfgmon cannot know must not turn into a verdict either way:

    ALLOWED      an Allow statement certainly applies and no Deny may apply
    DENIED       a Deny statement certainly applies
    NOT_ALLOWED  no statement applies (the implicit deny of a resource policy)
    UNKNOWN      a statement that would decide it may or may not apply

Statement matching follows AWS's evaluation logic: Principal/NotPrincipal, Action/
NotAction and Resource/NotResource with `*` and `?` wildcards (actions case-
insensitively), and every condition operator of a statement must hold. A condition
key the request context holds is compared; one it marks absent follows AWS's rule
for missing keys (positive operators fail, negated ones and `...IfExists` hold);
any other key, the set operators (ForAnyValue:, ForAllValues:) and operators not
listed in CONDITION_OPERATORS make the statement UNKNOWN.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Access(Enum):
    ALLOWED = "allowed"
    DENIED = "denied"
    NOT_ALLOWED = "not allowed"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Request:
    """What is known of one request.

    `principals` are (kind, value) pairs the request's principal answers to, such as
    ("Service", "cloudwatch.amazonaws.com") or ("AWS", "111122223333"); `context`
    maps condition keys (any case) to their values; `absent` names keys known not to
    be in the request. Keys in neither are unknown.
    """

    principals: frozenset[tuple[str, str]]
    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)
    absent: frozenset[str] = frozenset()

    def value(self, key: str) -> str | None | _Unknown:
        lowered = key.lower()
        for name, value in self.context.items():
            if name.lower() == lowered:
                return value
        if lowered in {name.lower() for name in self.absent}:
            return None
        return UNKNOWN


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


@dataclass(frozen=True)
class Judgement:
    access: Access
    statement: str | None = None   # the statement that decided it, by Sid or position
    why: str | None = None         # for UNKNOWN: what could not be evaluated


def judge(policy: Any, request: Request) -> Judgement:
    """Whether `policy` (a parsed policy document) lets `request` through."""
    statements = policy.get("Statement") if isinstance(policy, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        return Judgement(Access.UNKNOWN, why="the policy has no Statement list")
    allowed: str | None = None
    maybe_deny: tuple[str, str] | None = None
    maybe_allow: tuple[str, str] | None = None
    for index, statement in enumerate(statements):
        if not isinstance(statement, dict):
            continue
        name = statement_name(statement, index)
        applies, why = _applies(statement, request)
        effect = statement.get("Effect")
        if effect == "Deny":
            if applies is True:
                return Judgement(Access.DENIED, name)
            if applies is None and maybe_deny is None:
                maybe_deny = (name, why)
        elif effect == "Allow":
            if applies is True and allowed is None:
                allowed = name
            elif applies is None and maybe_allow is None:
                maybe_allow = (name, why)
    if maybe_deny is not None:
        return Judgement(Access.UNKNOWN, *maybe_deny)
    if allowed is not None:
        return Judgement(Access.ALLOWED, allowed)
    if maybe_allow is not None:
        return Judgement(Access.UNKNOWN, *maybe_allow)
    return Judgement(Access.NOT_ALLOWED)


def statement_name(statement: dict, index: int) -> str:
    sid = statement.get("Sid")
    return f"statement {sid!r}" if sid else f"statement {index + 1}"


def _applies(statement: dict, request: Request) -> tuple[bool | None, str | None]:
    """Whether the statement applies to the request: True, False, or None (and why not known)."""
    if "NotPrincipal" in statement:
        return None, "it uses NotPrincipal"
    if not _principal_matches(statement.get("Principal"), request.principals):
        return False, None
    if "NotAction" in statement:
        if _any_match(statement["NotAction"], request.action, ignore_case=True):
            return False, None
    elif not _any_match(statement.get("Action"), request.action, ignore_case=True):
        return False, None
    if "NotResource" in statement:
        if _any_match(statement["NotResource"], request.resource):
            return False, None
    elif "Resource" in statement and not _any_match(statement["Resource"], request.resource):
        return False, None
    return _conditions_hold(statement.get("Condition"), request)


def _principal_matches(principal: Any, principals: frozenset[tuple[str, str]]) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    for kind, values in principal.items():
        for value in values if isinstance(values, list) else [values]:
            if kind == "AWS" and value == "*":
                return True
            if (kind, _account_of(value) if kind == "AWS" else value) in principals:
                return True
    return False


_ACCOUNT_ROOT = re.compile(r"^arn:[^:]+:iam::(\d{12}):root$")


def _account_of(value: str) -> str:
    """An account principal written as its root ARN, as its id; other ARNs as they are."""
    match = _ACCOUNT_ROOT.match(value)
    return match.group(1) if match else value


def _any_match(patterns: Any, value: str, *, ignore_case: bool = False) -> bool:
    if patterns is None:
        return False
    for pattern in patterns if isinstance(patterns, list) else [patterns]:
        if isinstance(pattern, str) and wildcard_match(pattern, value, ignore_case=ignore_case):
            return True
    return False


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """AWS's `*` (any run) and `?` (one character) wildcards; nothing else is special."""
    if "*" not in pattern and "?" not in pattern:
        return pattern.lower() == value.lower() if ignore_case else pattern == value
    return _wildcard_regex(pattern, ignore_case).fullmatch(value) is not None


@functools.lru_cache(maxsize=4096)
def _wildcard_regex(pattern: str, ignore_case: bool) -> re.Pattern:
    # the same few policy patterns recur over thousands of topics: compile each once
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


# Condition operators cfgmon evaluates: name -> (compare one request value with one
# policy value, negated). A negated operator holds when no policy value matches.
CONDITION_OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (lambda v, p: v == p, False),
    "StringNotEquals": (lambda v, p: v == p, True),
    "StringEqualsIgnoreCase": (lambda v, p: v.lower() == p.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda v, p: v.lower() == p.lower(), True),
    "StringLike": (lambda v, p: wildcard_match(p, v), False),
    "StringNotLike": (lambda v, p: wildcard_match(p, v), True),
    "ArnEquals": (lambda v, p: wildcard_match(p, v), False),
    "ArnLike": (lambda v, p: wildcard_match(p, v), False),
    "ArnNotEquals": (lambda v, p: wildcard_match(p, v), True),
    "ArnNotLike": (lambda v, p: wildcard_match(p, v), True),
    "Bool": (lambda v, p: v.lower() == str(p).lower(), False),
}


def _conditions_hold(conditions: Any, request: Request) -> tuple[bool | None, str | None]:
    if not conditions:
        return True, None
    if not isinstance(conditions, dict):
        return None, "its Condition is not an object"
    unknown: str | None = None
    for operator, entries in conditions.items():
        if not isinstance(entries, dict):
            return None, f"its {operator} condition is not an object"
        for key, expected in entries.items():
            holds = _condition_holds(operator, key, expected, request)
            if holds is False:
                return False, None
            if holds is None and unknown is None:
                unknown = f"its condition {operator} on {key} cannot be evaluated"
    return (None, unknown) if unknown else (True, None)


def _condition_holds(operator: str, key: str, expected: Any, request: Request) -> bool | None:
    values = [str(v) if not isinstance(v, str) else v
              for v in (expected if isinstance(expected, list) else [expected])]
    if operator == "Null":
        value = request.value(key)
        if value is UNKNOWN:
            return None
        return (value is None) == (values[0].lower() == "true")
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    if base not in CONDITION_OPERATORS:
        return None
    compare, negated = CONDITION_OPERATORS[base]
    value = request.value(key)
    if value is UNKNOWN:
        return None
    if value is None:  # the key is not in the request
        return True if if_exists else negated
    matched = any(compare(value, p) for p in values)
    return not matched if negated else matched
