"""The expression case files: each expression over its series, each invalid one's error."""

from __future__ import annotations

import math

import pytest

from cfgmon.alarms import ExpressionError, parse_expression
from cfgmon.alarms.evaluate import Window, evaluate
from cfgmon.alarms.series import Series, Unsupported
from cfgmon.errors import CfgmonError

from .casefiles import ids, load, named_series, series

CASES = load("expressions.txt", 3)
ERRORS = load("expression_errors.txt", 3)


def _window(inputs: str) -> Window:
    metrics = named_series(inputs)
    length = len(next(iter(metrics.values())))
    return Window(
        length, {mid: Series(mid, points) for mid, points in metrics.items()}, dict.fromkeys(metrics, 60)
    )


def _same(actual, expected) -> bool:
    if actual is None or expected is None:
        return actual is expected
    return math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-12)


def _check(value, expected: str) -> None:
    if expected == "none":
        assert value is None
    elif expected.startswith("array"):
        wanted = [series(f"[{part}") for part in expected[len("array"):].split("[") if part.strip()]
        assert isinstance(value, tuple) and len(value) == len(wanted), value
        for member, points in zip(value, wanted, strict=True):
            assert all(_same(a, b) for a, b in zip(member.points, points, strict=True)), member
    elif expected.startswith("["):
        points = series(expected)
        assert isinstance(value, Series), value
        assert len(value.points) == len(points)
        assert all(_same(a, b) for a, b in zip(value.points, points, strict=True)), value.points
    else:
        assert isinstance(value, float) and _same(value, float(expected)), value


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_expression_case(case):
    text, inputs, expected = case.fields
    window = _window(inputs)
    if expected.startswith("unsupported "):
        with pytest.raises(Unsupported) as caught:
            evaluate(parse_expression(text), window)
        assert caught.value.construct == expected[len("unsupported "):]
        return
    _check(evaluate(parse_expression(text), window), expected)


@pytest.mark.parametrize("case", ERRORS, ids=ids(ERRORS))
def test_expression_error_case(case):
    text, column, message = case.fields
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text)
    error = caught.value
    assert isinstance(error, CfgmonError)
    assert message in error.message
    assert error.column == int(column), str(error)
    assert str(error) == f"{error.message} at column {column}"
    assert "\n" not in str(error)


def test_the_expression_files_are_substantial():
    # Guards the loader: a broken separator would silently drop cases.
    assert len(CASES) > 70 and len(ERRORS) > 15


def test_ids_named_by_an_expression():
    assert parse_expression("FILL(m1, REPEAT) + e2 * METRICS()").ids() == {"m1", "e2"}
