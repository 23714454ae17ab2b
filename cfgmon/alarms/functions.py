"""The metric-math functions cfgmon evaluates: one table, name -> arity and behaviour.

Each function receives its evaluated arguments and the window (its length, the
period of each metric, the ids METRICS() returns). What AWS documents each one to
do is in docs/alarm-evaluation.md; where AWS is silent, decisions.py says what
cfgmon does.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from cfgmon.alarms import decisions
from cfgmon.alarms.series import (
    Array,
    Point,
    Series,
    Unsupported,
    Value,
    is_array,
    is_series,
    pointwise,
)


class Window(Protocol):
    length: int

    def period_of(self, label: str) -> int: ...

    def metrics(self, prefix: str) -> Array: ...


@dataclass(frozen=True)
class Function:
    min_args: int
    max_args: int
    apply: Callable[[Window, list[Value]], Value]


def _series_arg(value: Value, function: str) -> Series | Array:
    if not (is_series(value) or is_array(value)):
        raise Unsupported(f"{function} of a scalar")
    return value


def _elementwise(fn: Callable[[float], Point]) -> Callable[[Window, list[Value]], Value]:
    return lambda window, args: pointwise(fn, args[0], length=window.length)


def _aggregate(reduce: Callable[[list[float]], float], name: str):
    """Of a series: one scalar over its datapoints; of an array: a series across it."""

    def apply(window: Window, args: list[Value]) -> Value:
        value = args[0]
        if value is None or isinstance(value, float):
            return value
        if is_series(value):
            present = value.present()
            return reduce(present) if present else None
        if not value:
            return None
        columns = zip(*(member.points for member in value), strict=True)
        points = []
        for column in columns:
            present = [p for p in column if p is not None]
            points.append(reduce(present) if present else None)
        return Series(name, tuple(points))

    return apply


def _fill(window: Window, args: list[Value]) -> Value:
    target, how = args
    if is_array(target):
        return tuple(_fill(window, [member, how]) for member in target)
    if not is_series(target):
        # a scalar with no value (0 / 0) is filled like a missing datapoint
        return how if target is None and isinstance(how, int | float) else target
    points = list(target.points)
    if how == "REPEAT":
        return Series(target.label, tuple(decisions.fill_repeat(points)))
    if how == "LINEAR":
        return Series(target.label, tuple(decisions.fill_linear(points)))
    if isinstance(how, str):
        raise Unsupported(f"FILL with {how}")
    fillers = how.points if is_series(how) else (how,) * window.length
    return Series(target.label, tuple(p if p is not None else f for p, f in zip(points, fillers, strict=True)))


def _if(window: Window, args: list[Value]) -> Value:
    if len(args) == 3:
        return pointwise(lambda c, a, b: a if c != 0 else b, *args, length=window.length)
    # IF(c, a) has no datapoint where c is false (decisions.py: if-two-arguments)
    return pointwise(lambda c, a: a if c != 0 else None, *args, length=window.length)


def _previous_pairs(series: Series):
    """(index, value, previous index, previous value) for each datapoint after the first."""
    previous = None
    for at, point in enumerate(series.points):
        if point is None:
            continue
        if previous is not None:
            yield at, point, previous[0], previous[1]
        previous = (at, point)


def _differences(compute: Callable[[float, float, int, Window, Series], float]):
    # With the previous datapoint that exists (decisions.py: diff-previous-datapoint).
    def apply(window: Window, args: list[Value]) -> Value:
        target = _series_arg(args[0], "a difference")
        if is_array(target):
            return tuple(apply(window, [member]) for member in target)
        points: list[Point] = [None] * window.length
        for at, value, before_at, before in _previous_pairs(target):
            points[at] = compute(value, before, at - before_at, window, target)
        return Series(target.label, tuple(points))

    return apply


def _running_sum(window: Window, args: list[Value]) -> Value:
    target = _series_arg(args[0], "RUNNING_SUM")
    if is_array(target):
        return tuple(_running_sum(window, [member]) for member in target)
    total = 0.0
    points: list[Point] = []
    for point in target.points:
        if point is None:
            points.append(None)  # decisions.py: running-sum-gaps
        else:
            total += point
            points.append(total)
    return Series(target.label, tuple(points))


def _metrics(window: Window, args: list[Value]) -> Value:
    prefix = args[0] if args else ""
    if not isinstance(prefix, str):
        raise Unsupported("METRICS with a number")
    return window.metrics(prefix)


def _period(window: Window, args: list[Value]) -> Value:
    target = args[0]
    if not is_series(target):
        raise Unsupported("PERIOD of anything but a metric")
    return float(window.period_of(target.label))


def _first_last(index: int):
    def apply(window: Window, args: list[Value]) -> Value:
        value = args[0]
        if is_array(value):
            return value[index] if value else ()
        return value  # of one series: that series (decisions.py: first-last-series)

    return apply


def _remove_empty(window: Window, args: list[Value]) -> Value:
    value = args[0]
    members = value if is_array(value) else (value,) if is_series(value) else None
    if members is None:
        return value
    return tuple(member for member in members if member.present())


def _time_series(window: Window, args: list[Value]) -> Value:
    value = args[0]
    if is_series(value) or is_array(value):
        return value
    return Series("TIME_SERIES", (value,) * window.length)


def _count(values: list[float]) -> float:
    return float(len(values))


def _datapoint_count(window: Window, args: list[Value]) -> Value:
    value = args[0]
    if is_series(value):
        return float(len(value.present()))
    return _aggregate(_count, "DATAPOINT_COUNT")(window, args)


def _metric_count(window: Window, args: list[Value]) -> Value:
    value = args[0]
    return float(len(value)) if is_array(value) else 1.0


def _log(base: float | None) -> Callable[[float], Point]:
    def fn(x: float) -> Point:
        if x <= 0:
            return None
        return math.log(x) if base is None else math.log(x, base)

    return fn


FUNCTIONS: dict[str, Function] = {
    "ABS": Function(1, 1, _elementwise(abs)),
    "AVG": Function(1, 1, _aggregate(statistics.fmean, "AVG")),
    "CEIL": Function(1, 1, _elementwise(lambda x: float(math.ceil(x)))),
    "DATAPOINT_COUNT": Function(1, 1, _datapoint_count),
    "DIFF": Function(1, 1, _differences(lambda v, b, steps, w, s: v - b)),
    "DIFF_TIME": Function(1, 1, _differences(lambda v, b, steps, w, s: float(steps * w.period_of(s.label)))),
    "FILL": Function(2, 2, _fill),
    "FIRST": Function(1, 1, _first_last(0)),
    "FLOOR": Function(1, 1, _elementwise(lambda x: float(math.floor(x)))),
    "IF": Function(2, 3, _if),
    "LAST": Function(1, 1, _first_last(-1)),
    "LOG": Function(1, 1, _elementwise(_log(None))),
    "LOG10": Function(1, 1, _elementwise(_log(10.0))),
    "MAX": Function(1, 1, _aggregate(max, "MAX")),
    "METRIC_COUNT": Function(1, 1, _metric_count),
    "METRICS": Function(0, 1, _metrics),
    "MIN": Function(1, 1, _aggregate(min, "MIN")),
    "PERIOD": Function(1, 1, _period),
    "RATE": Function(
        1, 1, _differences(lambda v, b, steps, w, s: (v - b) / (steps * w.period_of(s.label)))
    ),
    "REMOVE_EMPTY": Function(1, 1, _remove_empty),
    "RUNNING_SUM": Function(1, 1, _running_sum),
    "STDDEV": Function(1, 1, _aggregate(decisions.standard_deviation, "STDDEV")),
    "SUM": Function(1, 1, _aggregate(math.fsum, "SUM")),
    "TIME_SERIES": Function(1, 1, _time_series),
}
