"""The metric-math expression tree: one frozen dataclass per construct.

Every node knows `start`, its offset in the expression, so the evaluator can name
where an unsupported construct sits.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Number:
    value: float
    start: int


@dataclass(frozen=True, slots=True)
class String:
    value: str
    start: int


@dataclass(frozen=True, slots=True)
class Name:
    """A metric or expression id: m1, e1."""

    name: str
    start: int


@dataclass(frozen=True, slots=True)
class Keyword:
    """A bare upper-case word a function takes as an argument: FILL(m1, REPEAT)."""

    name: str
    start: int


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-", "+" or "NOT"
    operand: Node
    start: int


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # canonical: + - * / ^ == != < <= > >= AND OR
    left: Node
    right: Node
    start: int


@dataclass(frozen=True, slots=True)
class Call:
    function: str  # upper case
    args: tuple[Node, ...]
    start: int


@dataclass(frozen=True, slots=True)
class ArrayOf:
    """[m1, m2, e1]: an array of time series."""

    items: tuple[Node, ...]
    start: int


@dataclass(frozen=True, slots=True)
class Query:
    """A Metrics Insights query (SELECT ...): valid in an alarm, not evaluated by cfgmon."""

    text: str
    start: int


Node = Number | String | Name | Keyword | Unary | Binary | Call | ArrayOf | Query


@dataclass(frozen=True, slots=True)
class Expression:
    """A parsed expression: its text and its tree."""

    text: str
    root: Node

    def ids(self) -> set[str]:
        """The metric and expression ids the expression names."""
        found: set[str] = set()
        stack: list[Node] = [self.root]
        while stack:
            node = stack.pop()
            if isinstance(node, Name):
                found.add(node.name)
            elif isinstance(node, Unary):
                stack.append(node.operand)
            elif isinstance(node, Binary):
                stack.extend((node.left, node.right))
            elif isinstance(node, Call | ArrayOf):
                stack.extend(node.args if isinstance(node, Call) else node.items)
        return found
