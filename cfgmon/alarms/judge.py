"""judge_alarm: how a metric alarm answers one log event, and quiet.

The alarm is simulated as CloudWatch runs it: a timeline of periods, quiet, then one
period holding the event, then quiet again; at each period the alarm queries its
evaluation range, computes its statistic (or its metric-math expression) per period,
compares each datapoint with the threshold and takes its next state (states.py).
The number of other log events in a period is unknown, so the timeline is run for
each of a few traffic volumes (decisions.py: traffic-volumes).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

from cfgmon.alarms import decisions
from cfgmon.alarms.errors import ExpressionError
from cfgmon.alarms.evaluate import Window, evaluate
from cfgmon.alarms.nodes import Expression, Name
from cfgmon.alarms.parser import parse_expression
from cfgmon.alarms.series import Series, Unsupported, Value, is_array, is_series
from cfgmon.alarms.states import (
    ALARM,
    ANOMALY_OPERATORS,
    TREATMENTS,
    breaches,
    next_state,
)
from cfgmon.alarms.statistics import Samples, Statistic, statistic

OWN_METRIC = ""  # the id of an own-metric alarm's metric in `fed`


@dataclass(frozen=True)
class MetricQuery:
    id: str
    expression: str | None
    stat: str | None
    period: int | None
    return_data: bool | None


@dataclass(frozen=True)
class AlarmSpec:
    statistic: str | None
    period: int | None
    evaluation_periods: int | None
    datapoints_to_alarm: int | None
    threshold: float | None
    comparison_operator: str | None
    treat_missing_data: str | None
    evaluate_low_sample_count_percentile: str | None
    threshold_metric_id: str | None
    metrics: tuple[MetricQuery, ...] = ()


@dataclass(frozen=True)
class AlarmResponse:
    alarms_on_event: bool | None
    alarm_when_quiet: bool | None
    leaves_alarm: bool | None
    unsupported: str | None
    why: str


@dataclass(frozen=True)
class _Model:
    """What the simulation needs, read once from the spec."""

    statistics: Mapping[str, Statistic | None]  # MetricStat id -> its statistic; None: no data
    periods: Mapping[str, int]
    expressions: Mapping[str, Expression]
    returned: Expression
    subject: str  # "Sum", or "expression FILL(m1, 0) >= 1"
    condition: str  # "GreaterThanOrEqualToThreshold 1"
    counts: str  # "1 of 1 datapoints", and "; low sample counts ignored" when so
    low_sample_ignored: bool  # an own-metric percentile with low sample counts ignored


def judge_alarm(
    spec: AlarmSpec, fed: frozenset[str], event_value: float | None, default_value: float | None,
    defaults_only: tuple[tuple[str, float], ...] = (),
) -> AlarmResponse:
    """How the alarm answers one event on the metrics `fed` and quiet.

    `defaults_only`: (MetricStat id, default value) of the alarm's other metrics whose
    filters do not match the event but have a default value: they publish it for that
    log event and every other (PutMetricFilter's defaultValue, "the value to emit when a
    filter pattern does not match a log event"); every other metric has no data."""
    defaults = dict(item for item in defaults_only if item[0] not in fed)
    try:
        model = _model(spec, fed | frozenset(defaults))
    except Unsupported as unsupported:
        return _unsupported(unsupported.construct)
    except ExpressionError as error:
        return _unsupported(f"the expression it cannot read ({error})")
    try:
        return _judge(spec, model, fed, event_value, default_value, defaults)
    except Unsupported as unsupported:
        return _unsupported(unsupported.construct)


def _unsupported(construct: str) -> AlarmResponse:
    return AlarmResponse(None, None, None, construct, f"cfgmon does not evaluate {construct}")


# -- reading the spec ---------------------------------------------------------------------


def _model(spec: AlarmSpec, fed: frozenset[str]) -> _Model:
    if spec.threshold_metric_id is not None or spec.comparison_operator in ANOMALY_OPERATORS:
        raise Unsupported("ANOMALY_DETECTION_BAND")
    if spec.treat_missing_data not in (None, *TREATMENTS):
        raise Unsupported(f"the missing-data treatment {spec.treat_missing_data}")
    condition, counts = _condition(spec), _counts_text(spec)
    if not spec.metrics:
        stat = _statistic(spec.statistic)
        percentile_ignored = stat.percentile and spec.evaluate_low_sample_count_percentile == "ignore"
        return _Model(
            statistics={OWN_METRIC: stat if OWN_METRIC in fed else None},
            periods={OWN_METRIC: spec.period or 60},
            expressions={},
            returned=Expression(OWN_METRIC, Name(OWN_METRIC, 0)),
            subject=stat.name,
            condition=condition,
            counts=counts + ("; low sample counts ignored" if percentile_ignored else ""),
            low_sample_ignored=percentile_ignored,
        )
    statistics: dict[str, Statistic | None] = {}
    periods: dict[str, int] = {}
    expressions: dict[str, Expression] = {}
    for query in spec.metrics:
        if query.expression is not None:
            expressions[query.id] = parse_expression(query.expression)
        else:
            # decisions.py: unknown-metric-no-data
            statistics[query.id] = _statistic(query.stat) if query.id in fed else None
            periods[query.id] = query.period or spec.period or 60
    returned = _returned_query(spec.metrics)
    expression = expressions.get(returned.id) or Expression(returned.id, Name(returned.id, 0))
    return _Model(
        statistics, periods, expressions, expression,
        subject=f"expression {expression.text}", condition=condition, counts=counts,
        low_sample_ignored=False,
    )


def _statistic(name: str | None) -> Statistic:
    found = statistic(name)
    if found is None:
        raise Unsupported("an alarm without a statistic" if name is None else f"the statistic {name}")
    return found


def _returned_query(metrics: tuple[MetricQuery, ...]) -> MetricQuery:
    # decisions.py: returned-series
    chosen = [query for query in metrics if query.return_data is True]
    if not chosen:
        chosen = [query for query in metrics if query.return_data is None]
    if len(chosen) != 1:
        raise Unsupported("an alarm whose queries do not return exactly one time series")
    return chosen[0]


def _condition(spec: AlarmSpec) -> str:
    return f"{spec.comparison_operator or 'no operator'} {_number(spec.threshold)}"


def _counts_text(spec: AlarmSpec) -> str:
    evaluation_periods, datapoints_to_alarm = _counts(spec)
    return f"{datapoints_to_alarm} of {evaluation_periods} datapoints"


def _counts(spec: AlarmSpec) -> tuple[int, int]:
    # decisions.py: datapoint-defaults
    evaluation_periods = spec.evaluation_periods or 1
    return evaluation_periods, spec.datapoints_to_alarm or evaluation_periods


def _number(value: float | None) -> str:
    if value is None:
        return "no threshold"
    return str(int(value)) if float(value).is_integer() else str(value)


# -- the simulation ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Run:
    states: tuple[str, ...]  # the state after each evaluation
    all_missing: bool  # the alarm's series had no datapoint in any range


def _judge(
    spec: AlarmSpec, model: _Model, fed: frozenset[str], event_value: float | None,
    default_value: float | None, defaults: Mapping[str, float],
) -> AlarmResponse:
    evaluation_periods, _ = _counts(spec)
    span = decisions.evaluation_range(evaluation_periods)
    before, after = span + 2, 2 * span + 2
    event_at = before
    length = before + 1 + after
    if default_value is None and not defaults:
        volumes = [(0, 0)]
    else:
        volumes = list(itertools.product(decisions.EVENT_PERIOD_TRAFFIC, decisions.QUIET_PERIOD_TRAFFIC))

    event_runs = [
        _run(spec, model, length, event_at, event_value, default_value, defaults, e, q)
        for e, q in volumes
    ]
    quiet_runs = {
        q: _run(spec, model, length, None, None, default_value, defaults, 0, q)
        for _, q in volumes
    }
    # states[k] follows the evaluation of periods k .. k + span - 1: those holding the event
    holding_event = slice(event_at + 1 - span, event_at + 1)
    alarmed = [ALARM in run.states[holding_event] for run in event_runs]
    alarms_on_event = all(alarmed)
    quiet_in_alarm = [run for run in quiet_runs.values() if run.states[-1] == ALARM]
    alarm_when_quiet = bool(quiet_in_alarm)
    leaves = [run.states[-1] != ALARM for run, hit in zip(event_runs, alarmed, strict=True) if hit]
    leaves_alarm = all(leaves) if leaves else None

    distrusted = _distrusted(model, fed, default_value, defaults)
    if distrusted:
        alarms_on_event = False

    if alarm_when_quiet:
        why = _quiet_why(spec, model, default_value, defaults, quiet_in_alarm[0])
    elif not alarms_on_event:
        why = f"{model.subject} {model.condition}, {model.counts}" + (
            f"; {distrusted} of a metric with a default value depends on how many other log"
            " events share the period" if distrusted else ""
        )
    elif leaves_alarm is False:
        why = _stays_why(spec, model, default_value)
    else:
        why = (
            f"{model.subject} {model.condition}, {model.counts}: one event breaches, and the alarm"
            " leaves ALARM when quiet"
        )
    return AlarmResponse(alarms_on_event, alarm_when_quiet, leaves_alarm, None, why)


def _distrusted(model: _Model, fed: frozenset[str], default_value: float | None,
                defaults: Mapping[str, float]) -> str | None:
    """The statistic that a default value makes unknowable (decisions.py: trusted-statistics)."""
    for metric_id, stat in model.statistics.items():
        default = defaults.get(metric_id, default_value if metric_id in fed else None)
        if (stat is not None and default is not None
                and not decisions.trusted_with_default(stat.name, default)):
            return stat.name
    return None


def _quiet_why(spec: AlarmSpec, model: _Model, default_value: float | None,
               defaults: Mapping[str, float], run: _Run) -> str:
    if run.all_missing:
        return "missing data treated as breaching"
    if defaults:
        return (f"{model.subject} breaches {model.condition} with the metric filters' default"
                " values, published for every other log event")
    if default_value is not None:
        if not model.expressions and model.returned.text == OWN_METRIC:
            stat = model.statistics[OWN_METRIC]
            name = stat.name if stat else spec.statistic
            return (
                f"the metric filter's default value {_number(default_value)}, published for every"
                f" other log event, breaches {name} {model.condition}"
            )
        return (
            f"{model.subject} breaches {model.condition} with the metric filter's default value"
            f" {_number(default_value)}, published for every other log event"
        )
    return f"{model.subject} breaches {model.condition} without any event"


def _stays_why(spec: AlarmSpec, model: _Model, default_value: float | None) -> str:
    if (spec.treat_missing_data == "ignore") and default_value is None:
        return "missing data ignored, and the metric filter publishes nothing between events"
    return f"{model.subject} keeps breaching {model.condition} after the event"


def _run(
    spec: AlarmSpec, model: _Model, length: int, event_at: int | None,
    event_value: float | None, default_value: float | None, defaults: Mapping[str, float],
    event_traffic: int, quiet_traffic: int,
) -> _Run:
    """One timeline: the state after each evaluation, from the first full range on."""
    evaluation_periods, datapoints_to_alarm = _counts(spec)
    span = decisions.evaluation_range(evaluation_periods)
    treat = spec.treat_missing_data or "missing"
    timelines = {
        metric_id: (
            _timeline(stat, length, event_at, event_value, default_value, event_traffic,
                      quiet_traffic, model.low_sample_ignored)
            if metric_id not in defaults else
            # the event is one more log event its filter does not match
            _timeline(stat, length, event_at, None, defaults[metric_id], event_traffic + 1,
                      quiet_traffic, model.low_sample_ignored))
        for metric_id, stat in model.statistics.items()
    }
    state = decisions.INITIAL_STATE
    states: list[str] = []
    all_missing = True
    for end in range(span, length + 1):
        window = Window(
            span,
            {mid: Series(mid, points[end - span : end]) for mid, points in timelines.items()},
            model.periods,
            model.expressions,
        )
        points = _single_series(evaluate(model.returned, window), span)
        if any(p is not None for p in points):
            all_missing = False
        judged = [breaches(p, spec.comparison_operator, spec.threshold) for p in points]
        state = next_state(state, judged, datapoints_to_alarm, evaluation_periods, treat)
        states.append(state)
    return _Run(tuple(states), all_missing)


def _timeline(
    stat: Statistic | None, length: int, event_at: int | None, event_value: float | None,
    default_value: float | None, event_traffic: int, quiet_traffic: int, low_sample_ignored: bool,
) -> tuple[float | None, ...]:
    if stat is None:
        return (None,) * length

    def datapoint(samples: Samples) -> float | None:
        if low_sample_ignored and sum(count for _, count in samples) <= decisions.LOW_SAMPLE_COUNT:
            return None  # decisions.py: low-sample-count
        return stat.of(samples)

    # decisions.py: quiet-periods-have-traffic
    quiet: Samples = () if default_value is None else ((default_value, quiet_traffic),)
    event: list[tuple[float, int]] = [] if event_value is None else [(event_value, 1)]
    if default_value is not None:
        event.append((default_value, event_traffic))
    quiet_point = datapoint(quiet)
    event_point = datapoint(tuple(event))
    return tuple(event_point if at == event_at else quiet_point for at in range(length))


def _single_series(value: Value, length: int) -> tuple[float | None, ...]:
    # decisions.py: returned-series
    if is_array(value):
        if len(value) != 1:
            raise Unsupported("an expression that returns more than one time series")
        value = value[0]
    if is_series(value):
        return value.points
    if isinstance(value, str):
        raise Unsupported("an expression that returns a string")
    return (value,) * length
