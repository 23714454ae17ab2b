"""judge_alarm against the released chain SQL for simple alarms (alarm_chain v1).

The CTE `alarm_breach` of queries/_chains/alarm_chain/v1.sql (released, never edited)
and the link-11 test of `chain_link` run in DuckDB over a grid of own-metric alarms; wherever the SQL judges
(GreaterThan operators, the SQL's domain), judge_alarm must break link 11 exactly
when the SQL does, and be in ALARM without any event wherever the SQL says so.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import duckdb

from cfgmon.alarms import AlarmSpec, judge_alarm

SQL = (Path(__file__).resolve().parents[2] / "queries" / "_chains" / "alarm_chain" / "v1.sql").read_text()
ALARM_BREACH = re.search(r"\nalarm_breach AS \((.*?)\n\),\n", SQL, re.S).group(1)
COLUMNS = (
    ("alarm_stat", "VARCHAR"), ("value_number", "DOUBLE"), ("metric_default_value", "DOUBLE"),
    ("threshold", "DOUBLE"), ("comparison_operator", "VARCHAR"), ("evaluation_periods", "INTEGER"),
    ("datapoints_to_alarm", "INTEGER"), ("threshold_metric_id", "VARCHAR"),
    ("treat_missing_data", "VARCHAR"), ("evaluate_low_sample_count_percentile", "VARCHAR"),
)
GRID = [
    case for case in itertools.product(
    ("Sum", "Maximum", "Minimum", "Average", "SampleCount", "p99"),
    (1.0,),  # the filter's value
    (None, 0.0, 1.0, -1.0, 2.0),  # its default value
    (0.0, 1.0, 3.0),  # threshold
    ("GreaterThanOrEqualToThreshold", "GreaterThanThreshold"),
    ((1, None), (1, 1), (3, 1), (2, 2)),  # evaluation periods, datapoints to alarm
    (None, "missing", "breaching", "notBreaching", "ignore"),
    (None, "ignore"),  # low sample count percentiles
    )
    if case[-1] is None or case[0] == "p99"
]


def _sql_rows():
    connection = duckdb.connect()
    columns = ", ".join(f"{name} {kind}" for name, kind in COLUMNS)
    connection.execute(f"CREATE TABLE chain_alarm ({columns}, case_no INTEGER)")
    rows = [
        (stat, value, default, threshold, op, n, m, None, treat, low, at)
        for at, (stat, value, default, threshold, op, (n, m), treat, low) in enumerate(GRID)
    ]
    connection.executemany(f"INSERT INTO chain_alarm VALUES ({', '.join('?' * 11)})", rows)
    return connection.execute(
        f"WITH alarm_breach AS ({ALARM_BREACH}) "
        "SELECT case_no, quiet_breaches, single_event_breaches, "
        "  CASE WHEN quiet_breaches = 1 OR single_event_breaches = 0"
        "    OR (treat_missing_data = 'ignore' AND metric_default_value IS NULL) THEN 1 ELSE 0 END "
        "FROM alarm_breach ORDER BY case_no"
    ).fetchall()


def test_link_11_as_the_sql_judges_it():
    disagreements = []
    for case_no, quiet_breaches, single_event_breaches, link_11 in _sql_rows():
        stat, value, default, threshold, op, (n, m), treat, low = GRID[case_no]
        response = judge_alarm(
            AlarmSpec(stat, 60, n, m, threshold, op, treat, low, None), frozenset({""}), value, default
        )
        broken = (
            response.alarm_when_quiet or not response.alarms_on_event or response.leaves_alarm is False
        )
        if bool(link_11) != bool(broken) or (quiet_breaches and not response.alarm_when_quiet):
            disagreements.append((GRID[case_no], quiet_breaches, single_event_breaches, response))
    assert not disagreements, f"{len(disagreements)} disagreements, e.g. {disagreements[:3]}"
    assert len(GRID) > 4000
