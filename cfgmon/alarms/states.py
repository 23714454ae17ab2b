"""A metric alarm's next state from the datapoints of its evaluation range.

The rules are AWS's "Configuring how CloudWatch alarms treat missing data"
(decisions.py: missing-data, ignore-partial); the comparison is the alarm's
ComparisonOperator against its Threshold.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence

ALARM, OK, INSUFFICIENT_DATA = "ALARM", "OK", "INSUFFICIENT_DATA"

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": operator.ge,
    "GreaterThanThreshold": operator.gt,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}
ANOMALY_OPERATORS = frozenset(
    {"LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold"}
)
TREATMENTS = ("breaching", "notBreaching", "ignore", "missing")


def breaches(value: float | None, comparison: str | None, threshold: float | None) -> bool | None:
    """Whether a datapoint breaches; None for a missing one. No operator or no threshold
    never breaches."""
    if value is None:
        return None
    compare = COMPARISONS.get(comparison or "")
    return bool(compare and threshold is not None and compare(value, threshold))


def next_state(
    state: str,
    points: Sequence[bool | None],
    datapoints_to_alarm: int,
    evaluation_periods: int,
    treat_missing_data: str,
) -> str:
    """The state after one evaluation; `points` are the range's datapoints, oldest first,
    True for breaching, False for not, None for missing."""
    real = [point for point in points if point is not None]
    if len(real) >= evaluation_periods:
        # enough real datapoints: the most recent are judged, missing data plays no part
        return ALARM if sum(real[-evaluation_periods:]) >= datapoints_to_alarm else OK
    if not real:
        return {
            "breaching": ALARM if datapoints_to_alarm <= evaluation_periods else OK,
            "notBreaching": OK,
            "ignore": state,
            "missing": INSUFFICIENT_DATA,
        }[treat_missing_data]
    filled_breaching = evaluation_periods - len(real) if treat_missing_data == "breaching" else 0
    return ALARM if sum(real) + filled_breaching >= datapoints_to_alarm else OK
