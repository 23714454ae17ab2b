"""The rules of alarm evaluation AWS leaves open or states only in prose, here.

Each rule carries a marker `(rule: ID)` whose ID names its row in the table "Rules
and their evidence" of docs/alarm-evaluation.md: an example, what cfgmon does, and
its evidence, an AWS document (the page named, its words quoted where they settle
the rule) or "decided, no evidence" with the reason (a test keeps the two in step).
Each is a constant or a small function the other modules call, so when AWS is
shown to answer otherwise the rule changes in this file only.
"""

from __future__ import annotations

import math

# -- metric math: syntax ---------------------------------------------------------------

# Binding strength of the binary operators, weakest first; all are left-associative
# but ^, which is right-associative and binds tighter than a unary minus (-2 ^ 2 is
# -4). AWS's metric-math page lists the operators but no precedence: the usual
# arithmetic one (rule: operator-precedence).
BINARY_PRECEDENCE: dict[str, int] = {
    "OR": 1, "||": 1,
    "AND": 2, "&&": 2,
    "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4,
    "+": 5, "-": 5,
    "*": 6, "/": 6,
    "^": 8,
}
RIGHT_ASSOCIATIVE = frozenset({"^"})
NOT_PRECEDENCE = 3
UNARY_MINUS_PRECEDENCE = 7
CANONICAL_OPERATOR = {"||": "OR", "&&": "AND"}

# Function names and the words AND, OR, NOT, REPEAT, LINEAR are read in any case:
# an alarm cfgmon judges was accepted by AWS already, so leniency cannot accept a
# wrong one, and strictness would only turn a working alarm into an error
# (rule: function-case).
WORD_OPERATORS = {"AND": "AND", "OR": "OR", "NOT": "NOT"}
KEYWORD_ARGUMENTS = frozenset({"REPEAT", "LINEAR"})

# Functions AWS documents for metric math that cfgmon does not evaluate: they read
# data cfgmon does not have (other metrics, Lambda, quotas, Performance Insights),
# the clock (MINUTE, HOUR ...), or are not needed to judge an alarm on one log metric
# (SORT, SLICE, string functions). An alarm using one is INSUFFICIENT_DATA, naming it
# (rule: unsupported-functions).
UNSUPPORTED_FUNCTIONS = frozenset({
    "ANOMALY_DETECTION_BAND", "CONCAT", "DATE", "DAY", "DB_PERF_INSIGHTS", "EPOCH", "HOUR",
    "INSIGHT_RULE_METRIC", "LAMBDA", "MINUTE", "MONTH", "SEARCH", "SERVICE_QUOTA", "SLICE",
    "SORT", "YEAR",
})

# An expression that starts with SELECT is a Metrics Insights query, valid in an
# alarm and not evaluated (rule: insights-query).
INSIGHTS_QUERY_NAME = "SELECT (a Metrics Insights query)"

# -- metric math: values -----------------------------------------------------------------

# A datapoint missing in one operand is missing in the result: AWS's "Using metric
# math" page says of arithmetic between time series that it is done for the
# timestamps both have, and FILL is how to supply the others (rule: missing-propagates).

# Where the arithmetic has no value (x / 0, LOG of 0, an overflow), there is no
# datapoint; AWS does not say what it publishes (rule: no-value-arithmetic).

# IF(condition, value) with no third argument has no datapoint where the condition
# is 0; a missing condition gives no datapoint (rule: if-two-arguments).

# Functions over a whole series (AVG, SUM, MIN, MAX, STDDEV, DATAPOINT_COUNT of one
# series) give one scalar over the datapoints of the evaluation range the alarm
# queries, recomputed at each evaluation; across an array they give a series, each
# datapoint over the members that have one (rule: aggregate-window).


def standard_deviation(values: list[float]) -> float:
    """Population standard deviation; AWS names no formula (rule: stddev-population)."""
    mean = math.fsum(values) / len(values)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / len(values))


def fill_repeat(points: list[float | None]) -> list[float | None]:
    """FILL(x, REPEAT): each gap takes the latest datapoint before it; a gap at the start
    of the range, with none before it, stays empty (rule: fill-repeat)."""
    filled: list[float | None] = []
    last = None
    for point in points:
        if point is not None:
            last = point
        filled.append(point if point is not None else last)
    return filled


def fill_linear(points: list[float | None]) -> list[float | None]:
    """FILL(x, LINEAR): a gap between two datapoints takes the straight line between them;
    a gap at either end of the range stays empty (rule: fill-linear)."""
    filled = list(points)
    known = [at for at, point in enumerate(points) if point is not None]
    for left, right in zip(known, known[1:], strict=False):
        step = (points[right] - points[left]) / (right - left)
        for at in range(left + 1, right):
            filled[at] = points[left] + step * (at - left)
    return filled


# DIFF, DIFF_TIME and RATE compare a datapoint with the previous datapoint that
# exists, however far back; the first datapoint of the range has none and no result
# (rule: diff-previous-datapoint).

# RUNNING_SUM has no datapoint where its input has none; the sum carries over the gap
# (rule: running-sum-gaps).

# FIRST and LAST of one time series (not an array) return that series
# (rule: first-last-series).


def metrics_match(metric_id: str, prefix: str) -> bool:
    """METRICS("s") returns the metrics whose id starts with s (rule: metrics-prefix)."""
    return metric_id.startswith(prefix)


# METRICS() returns the MetricStat queries of the alarm, in the order they are
# listed, never the expressions (an expression listing itself would never end)
# (rule: metrics-are-metricstats).

# A MetricStat whose metric is not the metric filter's publishes nothing cfgmon
# knows of: its series has no datapoint (rule: unknown-metric-no-data).

# What the alarm compares: the query with ReturnData true, or the only one whose
# ReturnData is not given when no other says true. A scalar counts as the same value
# at every period; an array of one series as that series; more series than one is
# not a single time series and is INSUFFICIENT_DATA (rule: returned-series).

# -- the statistic of a period ---------------------------------------------------------------

# How many ordinary (non-matching) log events share a period is unknown; cfgmon
# tries a period with the event alone in it, with one other log event, and with a
# billion (a volume beyond any log group), and a quiet period with one and with a
# billion. An answer holds only if it holds for each (rule: traffic-volumes).
EVENT_PERIOD_TRAFFIC = (0, 1, 1_000_000_000)
QUIET_PERIOD_TRAFFIC = (1, 1_000_000_000)

# With a default value every quiet period has at least one log event, so the metric
# always has a datapoint (the log group of a trail receives CloudTrail's records
# around the clock); without one, a quiet period has no datapoint
# (rule: quiet-periods-have-traffic).

# With a default value, only Sum (of a default value of 0 or more) and Maximum have a
# datapoint at least the event's value however many other log events share the
# period; Minimum, Average, SampleCount and the extended statistics are diluted by
# the other log events by an amount cfgmon cannot know, so cfgmon never counts on
# them to go into ALARM on one event (rule: trusted-statistics).


def trusted_with_default(statistic: str, default_value: float) -> bool:
    if statistic == "Maximum":
        return True
    return statistic == "Sum" and default_value >= 0


# Percentiles are taken by nearest rank: pNN is the smallest value with at least NN%
# of the samples at or below it; the trimmed statistics (tm, wm, tc, ts) keep the
# samples whose rank falls within the bounds, by the same ranks (rule: nearest-rank).

# With EvaluateLowSampleCountPercentile `ignore`, a percentile period of a single
# sample is too few to be evaluated and counts as missing; AWS gives the minimum
# only for percentiles and cfgmon applies it to pNN alone, as before
# (rule: low-sample-count).
LOW_SAMPLE_COUNT = 1

# -- evaluating the alarm --------------------------------------------------------------------

# The evaluation range: AWS's "Configuring how CloudWatch alarms treat missing data"
# says CloudWatch "attempts to retrieve a higher number of data points than the
# number specified as Evaluation Periods" and its worked example uses five for three
# evaluation periods; cfgmon uses Evaluation Periods + 2 (rule: evaluation-range).


def evaluation_range(evaluation_periods: int) -> int:
    return evaluation_periods + 2


# Missing datapoints, per the same page: with at least Evaluation Periods real
# datapoints in the range, the most recent of them are evaluated and the treatment of
# missing data does not apply; with fewer, missing ones are filled by the treatment
# ("breaching", "notBreaching") as few times as possible, every real one counting;
# with none, `missing` goes to INSUFFICIENT_DATA and `ignore` keeps the state
# (rule: missing-data).

# `ignore` with some real datapoints but fewer than Evaluation Periods judges the real
# ones, as `missing` does; AWS says only that the state is maintained
# (rule: ignore-partial).

# A new alarm starts in INSUFFICIENT_DATA (rule: initial-state).
INITIAL_STATE = "INSUFFICIENT_DATA"

# DatapointsToAlarm defaults to EvaluationPeriods, EvaluationPeriods to 1 (AWS:
# PutMetricAlarm) (rule: datapoint-defaults).

# -- composite alarm rules -----------------------------------------------------------------

# ALARM, OK, INSUFFICIENT_DATA, TRUE, FALSE, AND, OR, NOT and AT_LEAST are upper case;
# `alarm(x)` or `and` is an error with a hint (rule: rule-keyword-case).
RULE_KEYWORDS = frozenset(
    {"ALARM", "OK", "INSUFFICIENT_DATA", "TRUE", "FALSE", "AND", "OR", "NOT", "AT_LEAST"}
)

# NOT binds tighter than AND, AND tighter than OR (rule: rule-precedence).

# An alarm is named in double quotes, or bare when its name has no blank, comma,
# parenthesis or quote; names and ARNs are compared exactly, case included
# (rule: rule-names).
RULE_BARE_NAME = r"[^\s(),\"]+"

# A state read by ARN is looked up by that ARN, then by the alarm name the ARN ends
# with; an alarm the mapping does not know is INSUFFICIENT_DATA (rule: unknown-state).
UNKNOWN_STATE = "INSUFFICIENT_DATA"


def alarm_name_of(reference: str) -> str:
    """The alarm name an ARN ends with (arn:aws:cloudwatch:r:a:alarm:NAME), else itself."""
    marker = ":alarm:"
    return reference.split(marker, 1)[1] if reference.startswith("arn:") and marker in reference else reference


# AT_LEAST(50%, ...) needs at least that share of the listed alarms, rounded up
# (rule: at-least-percent).


def at_least_count(amount: float, percent: bool, listed: int) -> int:
    return math.ceil(amount * listed / 100 - 1e-9) if percent else int(amount)


# true_when_alone_in_alarm(name, quiet): the rule is true with that alarm in ALARM and
# every other alarm in its quiet state; an alarm missing from the quiet states is
# INSUFFICIENT_DATA, as in is_true (rule: alone-in-alarm).
