"""Evaluator of metric-math expressions over one evaluation range.

`evaluate(expression, window)` gives the expression's value (series.py) over the
window's periods. The evaluator picks its routine from the `_EVALUATORS` table keyed
by node type. Ids resolve to the window's metric series, or to another expression of
the alarm, evaluated once per window.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from cfgmon.alarms import decisions
from cfgmon.alarms.functions import FUNCTIONS
from cfgmon.alarms.nodes import (
    ArrayOf,
    Binary,
    Call,
    Expression,
    Keyword,
    Name,
    Node,
    Number,
    Query,
    String,
    Unary,
)
from cfgmon.alarms.series import Array, Series, Unsupported, Value, is_array, is_series, pointwise


def _truth(fn: Callable[[float, float], bool]) -> Callable[[float, float], float]:
    return lambda a, b: 1.0 if fn(a, b) else 0.0


BINARY: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "^": operator.pow,
    "==": _truth(operator.eq),
    "!=": _truth(operator.ne),
    "<": _truth(operator.lt),
    "<=": _truth(operator.le),
    ">": _truth(operator.gt),
    ">=": _truth(operator.ge),
    "AND": _truth(lambda a, b: a != 0 and b != 0),
    "OR": _truth(lambda a, b: a != 0 or b != 0),
}
UNARY: dict[str, Callable[[float], float]] = {
    "-": operator.neg,
    "+": operator.pos,
    "NOT": lambda a: 1.0 if a == 0 else 0.0,
}


@dataclass
class Window:
    """The evaluation range: its length, each MetricStat's series and period, the
    alarm's other expressions by id."""

    length: int
    metric_series: Mapping[str, Series]  # MetricStat id -> series, in the alarm's order
    periods: Mapping[str, int]
    expressions: Mapping[str, Expression] = field(default_factory=dict)
    _values: dict[str, Value] = field(default_factory=dict)
    _evaluating: set[str] = field(default_factory=set)

    def period_of(self, label: str) -> int:
        return self.periods.get(label, 60)

    def metrics(self, prefix: str) -> Array:
        return tuple(
            series for metric_id, series in self.metric_series.items()
            if decisions.metrics_match(metric_id, prefix)
        )

    def resolve(self, name: Name) -> Value:
        if name.name in self.metric_series:
            return self.metric_series[name.name]
        if name.name not in self.expressions:
            raise Unsupported(f"the unknown id {name.name}")
        if name.name not in self._values:
            if name.name in self._evaluating:
                raise Unsupported(f"an expression that refers to itself ({name.name})")
            self._evaluating.add(name.name)
            value = evaluate(self.expressions[name.name], self)
            self._evaluating.discard(name.name)
            self._values[name.name] = _relabel(value, name.name)
        return self._values[name.name]


def _relabel(value: Value, label: str) -> Value:
    if is_series(value):
        return Series(label, value.points)
    return value


def evaluate(expression: Expression, window: Window) -> Value:
    return _eval(expression.root, window)


def _eval(node: Node, window: Window) -> Value:
    return _EVALUATORS[type(node)](node, window)


def _number(node: Number, window: Window) -> Value:
    return node.value if math.isfinite(node.value) else None


def _string(node: String, window: Window) -> Value:
    return node.value  # type: ignore[return-value]  # only METRICS and FILL take one


def _keyword(node: Keyword, window: Window) -> Value:
    return node.name  # type: ignore[return-value]


def _unary(node: Unary, window: Window) -> Value:
    return pointwise(UNARY[node.op], _eval(node.operand, window), length=window.length)


def _binary(node: Binary, window: Window) -> Value:
    left = _eval(node.left, window)
    right = _eval(node.right, window)
    return pointwise(BINARY[node.op], left, right, length=window.length)


def _call(node: Call, window: Window) -> Value:
    function = FUNCTIONS.get(node.function)
    if function is None:
        raise Unsupported(node.function)
    return function.apply(window, [_eval(arg, window) for arg in node.args])


def _array(node: ArrayOf, window: Window) -> Value:
    members: list[Series] = []
    for item in node.items:
        value = _eval(item, window)
        if is_series(value):
            members.append(value)
        elif is_array(value):
            members.extend(value)
        else:
            raise Unsupported("a scalar in an array of time series")
    return tuple(members)


def _query(node: Query, window: Window) -> Value:
    raise Unsupported(decisions.INSIGHTS_QUERY_NAME)


_EVALUATORS: dict[type, Callable[[Node, Window], Value]] = {
    Number: _number,
    String: _string,
    Keyword: _keyword,
    Name: lambda node, window: window.resolve(node),
    Unary: _unary,
    Binary: _binary,
    Call: _call,
    ArrayOf: _array,
    Query: _query,
}
