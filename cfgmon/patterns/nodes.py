"""The AST: one frozen dataclass per construct of the filter pattern language.

The parser builds these, `render` turns them back into text and the evaluator
compiles them into predicates through a {node type: builder} table. Nodes compare
by value, so a rendered pattern can be checked to parse back to the same tree.
A value records whether it was quoted: quoted values compare as text (decisions.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal as Choice

Operator = Choice["=", "!=", "<", "<=", ">", ">="]
OPERATORS: tuple[Operator, ...] = ("=", "!=", "<", "<=", ">", ">=")


# -- whole patterns ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MatchAll:
    """The empty pattern: every event matches."""


@dataclass(frozen=True, slots=True)
class JsonPattern:
    """`{ expression }`: conditions on the fields of a JSON event."""

    expression: Expression


@dataclass(frozen=True, slots=True)
class TermPattern:
    """Terms searched for in the raw text of the event."""

    terms: tuple[Term, ...]


@dataclass(frozen=True, slots=True)
class SpacePattern:
    """`[f1, f2=x, ...]`: conditions on the space-delimited fields of the event."""

    fields: tuple[AnyFields | Field, ...]


# -- boolean structure (JSON expressions and space-delimited field conditions) --------


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Expression, ...]


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Expression, ...]


# -- JSON selectors ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Key:
    """`.name` or `['name']`: a member of an object."""

    name: str


@dataclass(frozen=True, slots=True)
class Index:
    """`[n]`: an element of an array."""

    position: int


@dataclass(frozen=True, slots=True)
class Wildcard:
    """`.*` or `[*]` (bracketed): every member or element."""

    bracketed: bool = False


Step = Key | Index | Wildcard


@dataclass(frozen=True, slots=True)
class Selector:
    steps: tuple[Step, ...]

    @property
    def wildcards(self) -> int:
        return sum(type(step) is Wildcard for step in self.steps)


# -- values --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Literal:
    """A quoted or bare value; `*` is a wildcard. A bare number compares numerically;
    a quoted value is always text (decisions.py)."""

    text: str
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class Regex:
    """`%source%`: an unanchored search."""

    source: str


Value = Literal | Regex


# -- JSON conditions -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Comparison:
    selector: Selector
    op: Operator
    value: Value


@dataclass(frozen=True, slots=True)
class IsNull:
    selector: Selector


@dataclass(frozen=True, slots=True)
class IsTrue:
    selector: Selector


@dataclass(frozen=True, slots=True)
class IsFalse:
    selector: Selector


@dataclass(frozen=True, slots=True)
class NotExists:
    selector: Selector


# -- terms ---------------------------------------------------------------------------

Polarity = Choice["require", "exclude", "optional"]


@dataclass(frozen=True, slots=True)
class Phrase:
    """A term or "quoted phrase": a case-sensitive substring."""

    text: str


@dataclass(frozen=True, slots=True)
class Term:
    operand: Phrase | Regex
    polarity: Polarity = "require"


# -- space-delimited fields ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnyFields:
    """`...`: any number of fields, none included."""


@dataclass(frozen=True, slots=True)
class FieldComparison:
    name: str
    op: Operator
    value: Value


@dataclass(frozen=True, slots=True)
class Field:
    """A named field, with the condition its value must meet (None: any value)."""

    name: str
    condition: Expression | None = None


Expression = And | Or | Comparison | IsNull | IsTrue | IsFalse | NotExists | FieldComparison
Pattern = MatchAll | JsonPattern | TermPattern | SpacePattern
Node = Pattern | Expression | Selector | Step | Value | Term | Phrase | Field | AnyFields
