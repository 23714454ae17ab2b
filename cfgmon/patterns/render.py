"""Generator: AST -> canonical pattern text, which parses back to the same AST.

Canonical means: one space around operators, `&&` groups parenthesised only inside
`&&`, values bare when they can be, quoted (with \\" and \\\\ escapes) otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from cfgmon.patterns.decisions import BARE_VALUE_CHARS, NAME_CHARS
from cfgmon.patterns.nodes import (
    And,
    AnyFields,
    Comparison,
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
    Node,
    NotExists,
    Or,
    Phrase,
    Regex,
    Selector,
    SpacePattern,
    Term,
    TermPattern,
    Wildcard,
)

_BARE_VALUE = re.compile(rf"[{BARE_VALUE_CHARS}]+")
_NAME = re.compile(rf"[{NAME_CHARS}]+")
_BARE_TERM = re.compile(r'[^\s"\-?%{\[][^\s"]*')


def render(node: Node) -> str:
    """The canonical text of a pattern, or of any part of one."""
    return _RENDER[type(node)](node)


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _literal(node: Literal) -> str:
    text = node.text
    if not node.quoted and _BARE_VALUE.fullmatch(text):  # it was written bare: it reads back bare
        return text
    return quote(text)


def _and(node: And) -> str:
    return " && ".join(f"({render(op)})" if type(op) is Or else render(op) for op in node.operands)


def _selector(node: Selector) -> str:
    return "$" + "".join(render(step) for step in node.steps)


def _key(node: Key) -> str:
    return f".{node.name}" if _NAME.fullmatch(node.name) else f".['{node.name}']"


def _term(node: Term) -> str:
    prefix = {"require": "", "exclude": "-", "optional": "?"}[node.polarity]
    operand = node.operand
    if type(operand) is Phrase:
        text = operand.text
        return prefix + (text if _BARE_TERM.fullmatch(text) else quote(text))
    return prefix + render(operand)


def _field(node: Field) -> str:
    return node.name if node.condition is None else render(node.condition)


_RENDER: dict[type, Callable[[Any], str]] = {
    MatchAll: lambda node: "",
    JsonPattern: lambda node: "{ " + render(node.expression) + " }",
    TermPattern: lambda node: " ".join(render(term) for term in node.terms),
    SpacePattern: lambda node: "[" + ", ".join(render(field) for field in node.fields) + "]",
    Or: lambda node: " || ".join(render(op) for op in node.operands),
    And: _and,
    Comparison: lambda node: f"{render(node.selector)} {node.op} {render(node.value)}",
    IsNull: lambda node: f"{render(node.selector)} IS NULL",
    IsTrue: lambda node: f"{render(node.selector)} IS TRUE",
    IsFalse: lambda node: f"{render(node.selector)} IS FALSE",
    NotExists: lambda node: f"{render(node.selector)} NOT EXISTS",
    Selector: _selector,
    Key: _key,
    Index: lambda node: f"[{node.position}]",
    Wildcard: lambda node: "[*]" if node.bracketed else ".*",
    Literal: _literal,
    Regex: lambda node: f"%{node.source}%",
    Term: _term,
    Phrase: lambda node: quote(node.text),
    AnyFields: lambda node: "...",
    Field: _field,
    FieldComparison: lambda node: f"{node.name} {node.op} {render(node.value)}",
}
