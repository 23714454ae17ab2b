"""The values metric math computes with: a scalar, a time series with gaps, an array.

A series is one value or None (no datapoint) per period of the window the alarm
evaluates, oldest first. A scalar is a float, or None when it has no value (the
average of a series without datapoints). An array is a tuple of series.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Point = float | None


@dataclass(frozen=True, slots=True)
class Series:
    label: str  # the metric or expression id it comes from
    points: tuple[Point, ...]

    def present(self) -> list[float]:
        return [p for p in self.points if p is not None]


Array = tuple[Series, ...]
Value = float | None | Series | Array


class Unsupported(Exception):
    """A construct cfgmon does not evaluate; `construct` names it (SEARCH, SORT, ...)."""

    def __init__(self, construct: str) -> None:
        super().__init__(construct)
        self.construct = construct


def is_series(value: Value) -> bool:
    return isinstance(value, Series)


def is_array(value: Value) -> bool:
    return isinstance(value, tuple)


def pointwise(fn: Callable[..., Point], *args: Value, length: int) -> Value:
    """fn applied datapoint by datapoint; a scalar stands for the same value everywhere.

    A datapoint missing in any argument is missing in the result (decisions.py:
    missing-propagates); an array applies fn to each of its series.
    """
    arrays = [a for a in args if is_array(a)]
    if len(arrays) > 1:
        raise Unsupported("an operation between two arrays of time series")
    if arrays:
        array = arrays[0]
        return tuple(
            pointwise(fn, *(member if a is array else a for a in args), length=length)
            for member in array
        )
    series = [a for a in args if is_series(a)]
    if not series:
        return _apply(fn, args)
    label = series[0].label
    columns = [a.points if is_series(a) else (a,) * length for a in args]
    return Series(label, tuple(_apply(fn, row) for row in zip(*columns, strict=True)))


def _apply(fn: Callable[..., Point], values) -> Point:
    if any(v is None for v in values):
        return None
    try:
        result = fn(*values)
    except (ZeroDivisionError, OverflowError, ValueError):
        # no datapoint where the arithmetic has no value (decisions.py: no-value-arithmetic)
        return None
    except TypeError:
        raise Unsupported("a string where a number belongs") from None
    if isinstance(result, complex):
        return None
    if result is not None and (result != result or result in (float("inf"), float("-inf"))):
        return None
    return result
