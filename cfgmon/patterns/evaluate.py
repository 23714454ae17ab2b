"""Evaluator: AST -> a predicate over LogEvent, built once per pattern.

Each node type has one builder in a table; a builder returns a closure, so
evaluating a pattern against an event is a few direct calls, with no walking of
the tree and no dispatch per event.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from cfgmon.patterns import decisions, regexes
from cfgmon.patterns.events import LogEvent
from cfgmon.patterns.nodes import (
    And,
    AnyFields,
    Comparison,
    Expression,
    Field,
    FieldComparison,
    Index,
    IsFalse,
    IsNull,
    IsTrue,
    JsonPattern,
    Key,
    Literal,
    MatchAll,
    NotExists,
    Or,
    Pattern,
    Phrase,
    Regex,
    Selector,
    SpacePattern,
    Step,
    TermPattern,
    Wildcard,
)
from cfgmon.patterns.values import field_test, json_test

Predicate = Callable[[LogEvent], bool]
Test = Callable[[Any], bool]  # over a JSON document, a JSON value or a field's text

MISSING: Any = object()


def compile_ast(pattern: Pattern) -> Predicate:
    """The predicate that decides whether an event matches `pattern`."""
    return _PATTERNS[type(pattern)](pattern)


# -- whole patterns --------------------------------------------------------------------


def _match_all(pattern: MatchAll) -> Predicate:
    return lambda event: True


def _json_pattern(pattern: JsonPattern) -> Predicate:
    test = build(pattern.expression)

    def predicate(event: LogEvent) -> bool:
        document = event.json
        return document is not None and test(document)

    return predicate


def _term_pattern(pattern: TermPattern) -> Predicate:
    by_polarity: dict[str, list[Test]] = {"require": [], "exclude": [], "optional": []}
    for term in pattern.terms:
        by_polarity[term.polarity].append(_TERMS[type(term.operand)](term.operand))
    required, excluded, optional = (
        by_polarity["require"],
        by_polarity["exclude"],
        by_polarity["optional"],
    )
    if not decisions.optional_terms_apply(bool(required or excluded)):
        optional = []

    def predicate(event: LogEvent) -> bool:
        text = event.text
        for test in required:
            if not test(text):
                return False
        for test in excluded:
            if test(text):
                return False
        if optional:
            for test in optional:  # noqa: SIM110 - plain loops: this is the hot path
                if test(text):
                    return True
            return False
        return True

    return predicate


def _phrase(phrase: Phrase) -> Test:
    if decisions.phrase_always_occurs(phrase.text):
        return lambda text: True
    needle = phrase.text
    return lambda text: needle in text


def _regex_search(regex: Regex) -> Test:
    search = regexes.compile_regex(regex.source).search
    return lambda text: search(text) is not None


_TERMS: dict[type, Callable[[Any], Test]] = {Phrase: _phrase, Regex: _regex_search}

_ANY_FIELDS: Any = object()


def _space_pattern(pattern: SpacePattern) -> Predicate:
    # One entry per pattern field: _ANY_FIELDS for `...`, None for a field with no
    # condition, else the field's test. Matching is a glob over the event's fields.
    elements = [_FIELDS[type(field)](field) for field in pattern.fields]
    if not elements:  # `[]` names no field and matches every event (decisions.py)
        return _match_all(MatchAll())
    last = len(elements) - 1

    def predicate(event: LogEvent) -> bool:
        fields = event.fields
        values = event.field_values
        count = len(fields)
        # Indexes of the next event field, one per way of matching the elements so far,
        # ascending; a range exactly when an ellipsis let every index from one on.
        positions: range | list[int] = [0]
        for i, element in enumerate(elements):
            if element is _ANY_FIELDS:
                if i == last:
                    return True
                positions = range(positions[0], count + 1)
            elif i == last:  # the last field takes the rest of the event (decisions.py)
                text = event.text
                for at in positions:
                    if at < count:
                        value = fields[at][0] if at == count - 1 else text[fields[at][1] :].rstrip()
                        if element is None or element(value):
                            return True
                return False
            elif i + 1 == last and elements[last] is _ANY_FIELDS:  # [..., x = 1, ...]: any field
                if element is None:
                    return positions[0] < count
                if type(positions) is range:  # every field from positions[0] on
                    return any(map(element, values[positions[0] :]))
                return any(element(values[at]) for at in positions if at < count)
            else:
                positions = [
                    at + 1
                    for at in positions
                    if at < count and (element is None or element(values[at]))
                ]
                if not positions:
                    return False
        return False  # not reached: a pattern ends with a field or `...`

    return predicate


_FIELDS: dict[type, Callable[[Any], Any]] = {
    AnyFields: lambda field: _ANY_FIELDS,
    Field: lambda field: None if field.condition is None else build(field.condition),
}


_PATTERNS: dict[type, Callable[[Any], Predicate]] = {
    MatchAll: _match_all,
    JsonPattern: _json_pattern,
    TermPattern: _term_pattern,
    SpacePattern: _space_pattern,
}


# -- expressions (JSON conditions and field conditions) ----------------------------------


def build(expression: Expression) -> Test:
    return _EXPRESSIONS[type(expression)](expression)


def _and(node: And) -> Test:
    tests = [build(operand) for operand in node.operands]
    if len(tests) == 2:
        first, second = tests
        return lambda value: first(value) and second(value)

    def test(value: Any) -> bool:
        for each in tests:  # noqa: SIM110 - a plain loop is faster than all() over a generator
            if not each(value):
                return False
        return True

    return test


def _or(node: Or) -> Test:
    # `$.k = A || $.k = B || …` (the shape of most CIS filters) becomes one set lookup
    # per key; the other operands keep their own tests. Order does not matter: tests
    # are pure.
    alternatives: dict[str, set[str]] = {}
    tests = []
    for operand in node.operands:
        equality = _string_equality(operand)
        if equality is None:
            tests.append(build(operand))
        else:
            alternatives.setdefault(equality[0], set()).add(equality[1])
    tests += [_one_of(name, frozenset(texts)) for name, texts in alternatives.items()]
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        first, second = tests
        return lambda value: first(value) or second(value)

    def test(value: Any) -> bool:
        for each in tests:  # noqa: SIM110 - a plain loop is faster than any() over a generator
            if each(value):
                return True
        return False

    return test


def _string_equality(node: Any) -> tuple[str, str] | None:
    """(name, text) when `node` is `$.name = text` and only a JSON string can equal text."""
    if type(node) is not Comparison or node.op != "=" or type(node.value) is not Literal:
        return None
    steps, text = node.selector.steps, node.value.text
    if len(steps) != 1 or type(steps[0]) is not Key or "*" in text:
        return None
    return (steps[0].name, text) if decisions.only_strings_spell(text) else None


def _one_of(name: str, texts: frozenset[str]) -> Test:
    return lambda document: type(value := document.get(name)) is str and value in texts


def _comparison(node: Comparison) -> Test:
    return _holds(node.selector, json_test(node.op, node.value))


def _is_null(node: IsNull) -> Test:
    return _holds(node.selector, lambda value: value is None)


def _is_true(node: IsTrue) -> Test:
    return _holds(node.selector, lambda value: value is True)  # JSON booleans only


def _is_false(node: IsFalse) -> Test:
    return _holds(node.selector, lambda value: value is False)


def _not_exists(node: NotExists) -> Test:
    if node.selector.wildcards:
        reach = _reach(node.selector)
        return lambda document: not reach(document)
    get = _get(node.selector)
    return lambda document: get(document) is MISSING


def _field_comparison(node: FieldComparison) -> Test:
    return field_test(node.op, node.value)


# Leaves recur across the patterns of an inventory (`$.eventName = PutDeliveryChannel`
# in most of them), and their tests are pure: build each distinct leaf once.
_leaf = functools.lru_cache(maxsize=8192)

_EXPRESSIONS: dict[type, Callable[[Any], Test]] = {
    And: _and,
    Or: _or,
    Comparison: _leaf(_comparison),
    IsNull: _leaf(_is_null),
    IsTrue: _leaf(_is_true),
    IsFalse: _leaf(_is_false),
    NotExists: _leaf(_not_exists),
    FieldComparison: _leaf(_field_comparison),
}


# -- selectors -------------------------------------------------------------------------


def _holds(selector: Selector, test: Test) -> Test:
    """A test over the document: does a value the selector reaches pass `test`?"""
    if selector.wildcards:
        reach = _reach(selector)
        holds_for_any = decisions.holds_for_any
        return lambda document: holds_for_any(reach(document), test)
    steps = selector.steps
    if len(steps) == 1 and type(steps[0]) is Key:  # $.name, by far the most common: one call
        name = steps[0].name
        return lambda document: (
            (value := document.get(name, MISSING)) is not MISSING and test(value)
        )
    get = _get(selector)

    def holds(document: Any) -> bool:
        value = get(document)
        return value is not MISSING and test(value)

    return holds


def _get(selector: Selector) -> Callable[[Any], Any]:
    """The one value a selector without wildcards reaches, or MISSING."""
    steps = selector.steps
    if len(steps) == 1 and type(steps[0]) is Key:
        name = steps[0].name
        return lambda document: document.get(name, MISSING)
    children = [_CHILD[type(step)](step) for step in steps]

    def get(document: Any) -> Any:
        value = document
        for child in children:
            value = child(value)
            if value is MISSING:
                return MISSING
        return value

    return get


def _key_child(step: Key) -> Callable[[Any], Any]:
    name = step.name
    return lambda value: value.get(name, MISSING) if type(value) is dict else MISSING


def _index_child(step: Index) -> Callable[[Any], Any]:
    position = step.position
    return lambda value: (
        value[position] if type(value) is list and position < len(value) else MISSING
    )


_CHILD: dict[type, Callable[[Any], Callable[[Any], Any]]] = {Key: _key_child, Index: _index_child}


def values_at(selector: Selector) -> Callable[[Any], list[Any]]:
    """Every value a selector reaches in a document (none when it reaches nothing)."""
    return _reach(selector)


def _reach(selector: Selector) -> Callable[[Any], list[Any]]:
    """Every value a selector with wildcards reaches."""
    expanders = [_EXPAND[type(step)](step) for step in selector.steps]

    def reach(document: Any) -> list[Any]:
        values = [document]
        for expand in expanders:
            values = [child for value in values for child in expand(value)]
            if not values:
                break
        return values

    return reach


def _single(step: Step) -> Callable[[Any], list[Any]]:
    child = _CHILD[type(step)](step)

    def expand(value: Any) -> list[Any]:
        found = child(value)
        return [] if found is MISSING else [found]

    return expand


_EXPAND: dict[type, Callable[[Any], Callable[[Any], list[Any]]]] = {
    Key: _single,
    Index: _single,
    Wildcard: lambda step: decisions.wildcard_children,
}
