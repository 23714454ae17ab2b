"""A corrected filter pattern that keeps the user's own narrowing where it is harmless.

When the pattern has the usual shape, an OR group of `$.eventName = …` comparisons,
the events it misses are added to that group; whatever else the user wrote (an
eventSource clause, an errorCode or userIdentity condition) stays. The result is
kept only if it matches every catalogue record of the framework judged and none of
the ordinary background records; otherwise, and for any other shape, the control's
reference pattern for that framework is proposed.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cfgmon.controls.catalogue import ControlVersion
from cfgmon.controls.coverage import Coverage, evaluate_pattern
from cfgmon.patterns import PatternError, parse, render
from cfgmon.patterns.nodes import And, Comparison, JsonPattern, Key, Literal, Or, Selector

EVENT_NAME = Selector((Key("eventName"),))


@dataclass(frozen=True)
class Correction:
    pattern: str
    kept_narrowing: bool            # the user's pattern, with the missed events added
    added_events: tuple[str, ...]   # event names added to the user's OR group


def judged_version(version: ControlVersion, framework: str | None) -> ControlVersion:
    """The version with the records of `framework` as its catalogue (what the check judged)."""
    events = version.event_set(framework)
    return dataclasses.replace(version, matches=events.matches,
                               does_not_match=events.does_not_match, background=events.background)


_CORRECTIONS: dict[tuple, Correction] = {}   # one answer per control, framework and pattern


def corrected_pattern(version: ControlVersion, framework: str | None, pattern: str | None) -> Correction:
    key = (version.ref, framework, pattern)
    if key not in _CORRECTIONS:
        _CORRECTIONS[key] = _correct(version, framework, pattern)
    return _CORRECTIONS[key]


def _correct(version: ControlVersion, framework: str | None, pattern: str | None) -> Correction:
    judged = judged_version(version, framework)
    reference = Correction(version.control.reference_for(framework), False, ())
    if not pattern:
        return reference
    coverage = evaluate_pattern(judged, pattern)
    if not coverage.valid:
        return reference
    missed = _missed_names(judged, coverage)
    widened = _with_event_names(pattern, missed) if missed else None
    if widened is None:
        return reference
    check = evaluate_pattern(judged, widened)
    if not check.covers or check.background_matched is not None:
        return reference
    return Correction(widened, True, missed)


def mentions_events(version: ControlVersion, pattern: str | None) -> int:
    """How many of the control's event names a pattern's text names: whether a filter is
    the user's attempt at this control (worth correcting) or another control's."""
    return _mentions(version.control.event_names, pattern or "")


def filters_naming_events(version: ControlVersion,
                          filters: Iterable[Mapping[str, Any]]) -> list[tuple[int, Mapping]]:
    """The filters whose patterns name some of the control's events, each with how many
    (mentions_events): the user's attempts at this control on a log group."""
    names = version.control.event_names
    return [(count, f) for f in filters
            if (count := _mentions(names, f["filter_pattern"] or ""))]


@functools.lru_cache(maxsize=65536)   # every account's filters ask it again
def _mentions(event_names: tuple[str, ...], pattern: str) -> int:
    return sum(name in pattern for name in event_names)


def _missed_names(version: ControlVersion, coverage: Coverage) -> tuple[str, ...]:
    names = [e.event_name for e, hit in zip(version.matches, coverage.matched, strict=True)
             if not hit and e.event_name]
    return tuple(dict.fromkeys(names))


def _with_event_names(pattern: str, names: tuple[str, ...]) -> str | None:
    """The pattern with `$.eventName = NAME` added to its OR group of event names, or None
    when it has no such group."""
    try:
        tree = parse(pattern)
    except PatternError:
        return None
    if type(tree) is not JsonPattern:
        return None
    found: list[bool] = []
    widened = _widen(tree.expression, names, found)
    return render(JsonPattern(widened)) if found else None


def _is_event_name(node) -> bool:
    return type(node) is Comparison and node.selector == EVENT_NAME and node.op == "="


def _is_event_name_group(node) -> bool:
    """An OR of `$.eventName = …`, or a lone one (a group of one)."""
    return _is_event_name(node) or (type(node) is Or and all(map(_is_event_name, node.operands)))


def _widen(node, names: tuple[str, ...], found: list[bool]):
    if not found and _is_event_name_group(node):
        found.append(True)
        operands = node.operands if type(node) is Or else (node,)
        present = {o.value.text for o in operands if type(o.value) is Literal}
        added = tuple(Comparison(EVENT_NAME, "=", Literal(n)) for n in names if n not in present)
        return Or(operands + added)
    if type(node) in (And, Or):
        return type(node)(tuple(_widen(o, names, found) for o in node.operands))
    return node
