"""Property tests: the evaluator and judge_alarm against brute-force references.

The references are written here, separately and plainly: an expression is computed
datapoint by datapoint from its generated tree; an own-metric alarm is run period by
period over a few hundred periods, its statistic from closed formulas and its state
from the missing-data rules as AWS's page states them.
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from cfgmon.alarms import AlarmSpec, decisions, judge_alarm, parse_expression
from cfgmon.alarms.evaluate import Window, evaluate
from cfgmon.alarms.series import Series

LENGTH = 6

# -- expressions ------------------------------------------------------------------------

points = st.lists(st.one_of(st.none(), st.integers(-3, 3).map(float)), min_size=LENGTH, max_size=LENGTH)
leaves = st.one_of(st.sampled_from(["m1", "m2"]), st.integers(0, 4).map(lambda n: ("const", float(n))))
BINARY = ["+", "-", "*", "/", "==", "!=", "<", "<=", ">", ">=", "AND", "OR"]


def _extend(children):
    return st.one_of(
        st.tuples(st.sampled_from(BINARY), children, children),
        st.tuples(st.sampled_from(["neg", "NOT", "ABS"]), children),
        st.tuples(st.just("FILL"), children, st.integers(0, 3).map(float)),
        st.tuples(st.just("IF"), children, children, children),
    )


trees = st.recursive(leaves, _extend, max_leaves=8)


def render(tree) -> str:
    if isinstance(tree, str):
        return tree
    kind = tree[0]
    if kind == "const":
        return str(int(tree[1]))
    if kind in BINARY:
        return f"({render(tree[1])} {kind} {render(tree[2])})"
    if kind == "neg":
        return f"(-{render(tree[1])})"
    if kind == "NOT":
        return f"(NOT {render(tree[1])})"
    if kind == "ABS":
        return f"ABS({render(tree[1])})"
    if kind == "FILL":
        return f"FILL({render(tree[1])}, {int(tree[2])})"
    return f"IF({render(tree[1])}, {render(tree[2])}, {render(tree[3])})"


def _is_series(tree) -> bool:
    if isinstance(tree, str):
        return True
    return tree[0] != "const" and any(_is_series(child) for child in tree[1:] if not isinstance(child, float))


def reference(tree, series: dict[str, list], at: int):
    """The datapoint at `at`, by the plain rules: a missing operand gives a missing result."""
    if isinstance(tree, str):
        return series[tree][at]
    kind = tree[0]
    if kind == "const":
        return tree[1]
    if kind == "FILL":
        inner = reference(tree[1], series, at)
        return tree[2] if inner is None else inner
    if kind == "IF":
        condition = reference(tree[1], series, at)
        a, b = reference(tree[2], series, at), reference(tree[3], series, at)
        if condition is None or a is None or b is None:
            return None
        return a if condition != 0 else b
    args = [reference(child, series, at) for child in tree[1:]]
    if any(arg is None for arg in args):
        return None
    if kind == "neg":
        return -args[0]
    if kind == "NOT":
        return 1.0 if args[0] == 0 else 0.0
    if kind == "ABS":
        return abs(args[0])
    a, b = args
    if kind == "/":
        return None if b == 0 else a / b
    table = {
        "+": a + b, "-": a - b, "*": a * b,
        "==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b,
        "AND": a != 0 and b != 0, "OR": a != 0 or b != 0,
    }
    return float(table[kind])


@settings(max_examples=400, deadline=None)
@given(trees, points, points)
def test_the_evaluator_agrees_with_a_datapoint_by_datapoint_reference(tree, m1, m2):
    series = {"m1": m1, "m2": m2}
    window = Window(LENGTH, {k: Series(k, tuple(v)) for k, v in series.items()}, {"m1": 60, "m2": 60})
    value = evaluate(parse_expression(render(tree)), window)
    got = value.points if isinstance(value, Series) else (value,) * LENGTH
    for at in range(LENGTH):
        want = reference(tree, series, at)
        if want is None or got[at] is None:
            assert want is got[at] is None, (render(tree), at, want, got[at])
        else:
            assert math.isclose(got[at], want, abs_tol=1e-9), (render(tree), at, want, got[at])


# -- own-metric alarms ------------------------------------------------------------------

OPERATORS = {
    "GreaterThanOrEqualToThreshold": lambda a, b: a >= b,
    "GreaterThanThreshold": lambda a, b: a > b,
    "LessThanThreshold": lambda a, b: a < b,
    "LessThanOrEqualToThreshold": lambda a, b: a <= b,
}


def period_statistic(stat: str, event: float | None, default: float | None, others: int):
    """Closed formulas over one event's value and `others` copies of the default value."""
    values = ([] if event is None else [(event, 1)]) + ([] if default is None else [(default, others)])
    values = [(v, n) for v, n in values if n]
    if not values:
        return None
    count = sum(n for _, n in values)
    total = sum(v * n for v, n in values)
    return {
        "Sum": total, "SampleCount": float(count), "Average": total / count,
        "Minimum": min(v for v, _ in values), "Maximum": max(v for v, _ in values),
    }[stat]


def run_alarm(spec: AlarmSpec, datapoints: list[float | None]) -> list[str]:
    """The state after each period, per "Configuring how CloudWatch alarms treat missing data"."""
    n = spec.evaluation_periods
    m = spec.datapoints_to_alarm
    span = decisions.evaluation_range(n)
    treat = spec.treat_missing_data or "missing"
    compare = OPERATORS[spec.comparison_operator]
    state, states = "INSUFFICIENT_DATA", []
    for end in range(span, len(datapoints) + 1):
        window = datapoints[end - span : end]
        real = [compare(p, spec.threshold) for p in window if p is not None]
        if len(real) >= n:
            state = "ALARM" if sum(real[-n:]) >= m else "OK"
        elif not real:
            if treat == "breaching":
                state = "ALARM"
            elif treat == "notBreaching":
                state = "OK"
            elif treat == "missing":
                state = "INSUFFICIENT_DATA"
        else:
            extra = n - len(real) if treat == "breaching" else 0
            state = "ALARM" if sum(real) + extra >= m else "OK"
        states.append(state)
    return states


@st.composite
def own_metric_alarms(draw):
    n = draw(st.integers(1, 4))
    return AlarmSpec(
        statistic=draw(st.sampled_from(["Sum", "Maximum", "Minimum", "Average", "SampleCount"])),
        period=60,
        evaluation_periods=n,
        datapoints_to_alarm=draw(st.integers(1, n)),
        threshold=float(draw(st.integers(-1, 3))),
        comparison_operator=draw(st.sampled_from(sorted(OPERATORS))),
        treat_missing_data=draw(st.sampled_from([None, "missing", "breaching", "notBreaching", "ignore"])),
        evaluate_low_sample_count_percentile=None,
        threshold_metric_id=None,
    )


@settings(max_examples=300, deadline=None)
@given(
    own_metric_alarms(),
    st.sampled_from([1.0, 2.0, 5.0]),
    st.sampled_from([None, 0.0, 1.0, -1.0, 2.0]),
    st.integers(60, 120),
)
def test_judge_alarm_agrees_with_a_simulation_over_hundreds_of_periods(spec, event, default, event_at):
    length = 300
    volumes = [(0, 0)] if default is None else [
        (e, q) for e in decisions.EVENT_PERIOD_TRAFFIC for q in decisions.QUIET_PERIOD_TRAFFIC
    ]
    span = decisions.evaluation_range(spec.evaluation_periods)
    on, quiet, leaves = [], [], []
    for event_others, quiet_others in volumes:
        quiet_point = period_statistic(spec.statistic, None, default, quiet_others)
        with_event = [quiet_point] * length
        with_event[event_at] = period_statistic(spec.statistic, event, default, event_others)
        states = run_alarm(spec, with_event)
        # states[k] follows periods k .. k + span - 1
        alarmed = "ALARM" in states[event_at - span + 1 : event_at + 1]
        on.append(alarmed)
        if alarmed:
            leaves.append(states[-1] != "ALARM")
        quiet.append(run_alarm(spec, [quiet_point] * length)[-1] == "ALARM")
    expected_on = all(on)
    if default is not None and not decisions.trusted_with_default(spec.statistic, default):
        expected_on = False
    response = judge_alarm(spec, frozenset({""}), event, default)
    assert response.unsupported is None
    assert response.alarms_on_event is expected_on, response
    assert response.alarm_when_quiet is any(quiet), response
    assert response.leaves_alarm is (all(leaves) if leaves else None), response
