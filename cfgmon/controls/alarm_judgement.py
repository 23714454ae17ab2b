"""Alarm judgement: how each alarm on a metric filter's metric answers one event, and
which SNS topics its ALARM reaches, directly or through composite alarms.

Before the chain runs, every metric alarm whose metric (its own, or a metric-math
MetricStat) has the name and namespace of the metric of a filter on a log group some
trail delivers to is simulated
with cfgmon.alarms for what that filter publishes: one matching event's value (per
control, from the catalogue) and its default value. Identical alarm settings are
judged once. The answers go into cfgmon_alarm_response; the chain decides which alarm
watches which filter (account, region, dimensions, unit) and reads the answer.

cfgmon_alarm_route lists, for every metric alarm, the SNS topics its going into
ALARM notifies: its own ALARM actions, and those of every composite alarm that its
going into ALARM alone puts into ALARM (nested composites too) with actions enabled
and not suppressed. What "alone" means is decided below.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import lru_cache

from cfgmon.alarms import AlarmRuleError, AlarmSpec, MetricQuery, judge_alarm, parse_alarm_rule
from cfgmon.alarms.judge import AlarmResponse

# Decided (AWS documents no "quiet" state): while nothing happens, every other alarm
# is in the state it was collected in (StateValue, INSUFFICIENT_DATA when unknown),
# and the alarm whose event is judged is in its collected state unless that is ALARM,
# when it counts as OK (it is about to go into ALARM on the event). A composite's
# quiet state is its rule over those states. A composite counts when the event's
# alarm going into ALARM turns its rule from false to true: a rule already true
# while quiet never changes state, so never notifies. An ActionsSuppressor in ALARM
# at that moment suppresses the composite's actions.
# Nested composites are followed this deep (AWS allows composites of composites; a
# cycle cannot be created, but stored rows could hold one).
MAX_NESTING = 10


def on_trail_log_group(alias: str) -> str:
    """SQL: the metric filter `alias` is on a log group some trail delivers to (only
    those filters are on a chain)."""
    return f"""EXISTS (SELECT 1 FROM aws_cloudtrail_trail t
                   WHERE t.log_group_account_id = {alias}.account_id
                     AND t.log_group_region = {alias}.region
                     AND t.log_group_name = {alias}.log_group_name)"""


# The metric alarms a chain can reach, with the filters whose metric each watches:
# every metric alarm whose metric (its own, or a metric-math MetricStat of its own
# account) has the name and namespace of the metric of a filter, in the filter's
# account and region, on a log group some trail delivers to. Only these are simulated,
# and only their topics judged for delivery (cfgmon.controls.topic_delivery).
CHAIN_ALARM_METRICS = """
    WITH alarm_metric AS (
        SELECT account_id, region, arn AS alarm_arn, '' AS metric_id, metric_name, namespace
        FROM aws_cloudwatch_alarm
        WHERE alarm_type = 'MetricAlarm' AND metric_name IS NOT NULL
        UNION ALL
        SELECT account_id, region, alarm_arn, id, metric_name, namespace
        FROM aws_cloudwatch_alarm_metric
        WHERE metric_name IS NOT NULL
          AND (metric_account_id IS NULL OR metric_account_id = account_id))
    SELECT DISTINCT am.account_id, am.region, am.alarm_arn, am.metric_id,
           f.metric_transformation_value, f.metric_transformation_default_value
    FROM aws_cloudwatch_log_metric_filter f
    JOIN alarm_metric am
      ON am.account_id = f.account_id AND am.region = f.region
     AND am.metric_name = f.metric_transformation_name
     AND am.namespace = f.metric_transformation_namespace
    -- only a log group some trail delivers to is on a chain
    WHERE """ + on_trail_log_group("f")

# The same alarms, once each: (account_id, region, alarm_arn).
CHAIN_ALARMS = f"SELECT DISTINCT account_id, region, alarm_arn FROM ({CHAIN_ALARM_METRICS})"


def response_rows(con, event_values: Mapping[str | None, set[float | None]], now) -> list[tuple]:
    """cfgmon_alarm_response rows for every candidate (alarm, metric id, value, default).

    `event_values`: for each metric value expression of the inventory's filters, the
    numbers one matching event publishes under the controls judged (None: none).
    """
    specs = alarm_specs(con)
    rows = []
    for account, region, alarm_arn, metric_id, expression, default in con.execute(
            CHAIN_ALARM_METRICS).fetchall():
        spec = specs.get((account, region, alarm_arn))
        if spec is None:
            continue
        for value in event_values.get(expression, {None}):
            answer = judged_response(spec, metric_id, value, default)
            rows.append((account, region, alarm_arn, metric_id, value, default,
                         answer.alarms_on_event, answer.alarm_when_quiet, answer.leaves_alarm,
                         answer.unsupported, answer.why, now))
    return rows


@lru_cache(maxsize=4096)
def judged_response(spec: AlarmSpec, metric_id: str, value: float | None,
                    default: float | None,
                    defaults_only: tuple[tuple[str, float], ...] = ()) -> AlarmResponse:
    """How the alarm answers one event on its metric `metric_id`, its other metrics
    publishing their filters' default values (`defaults_only`) or without data."""
    # thousands of alarms share a handful of settings: each is simulated once
    return judge_alarm(spec, frozenset({metric_id}), value, default, defaults_only)


def alarm_specs(con) -> dict[tuple[str, str, str], AlarmSpec]:
    """The settings of every alarm a chain can reach, by (account, region, ARN)."""
    metrics: dict[tuple[str, str, str], list[MetricQuery]] = {}
    for account, region, alarm_arn, query_id, expression, stat, period, return_data in con.execute(
        f"""SELECT m.account_id, m.region, m.alarm_arn, m.id, m.expression, m.stat, m.period,
                   m.return_data
            FROM aws_cloudwatch_alarm_metric m
            SEMI JOIN ({CHAIN_ALARMS}) c
              ON c.account_id = m.account_id AND c.region = m.region
             AND c.alarm_arn = m.alarm_arn
            ORDER BY m.account_id, m.region, m.alarm_arn, m.metric_index"""
    ).fetchall():
        metrics.setdefault((account, region, alarm_arn), []).append(
            MetricQuery(query_id, expression, stat, period, return_data))
    specs = {}
    for row in con.execute(
        f"""SELECT a.account_id, a.region, a.arn, COALESCE(a.statistic, a.extended_statistic),
                   a.period, a.evaluation_periods, a.datapoints_to_alarm, a.threshold,
                   a.comparison_operator, a.treat_missing_data,
                   a.evaluate_low_sample_count_percentile, a.threshold_metric_id
            FROM aws_cloudwatch_alarm a
            SEMI JOIN ({CHAIN_ALARMS}) c
              ON c.account_id = a.account_id AND c.region = a.region AND c.alarm_arn = a.arn
            WHERE a.alarm_type = 'MetricAlarm'"""
    ).fetchall():
        key = tuple(row[:3])
        specs[key] = AlarmSpec(*row[3:], metrics=tuple(metrics.get(key, ())))
    return specs


# -- routes to SNS topics ----------------------------------------------------------------


# A metric alarm's own route: each SNS topic among its ALARM actions (its actions
# being enabled is the chain's to judge).
DIRECT_ROUTES = """
    INSERT INTO cfgmon_alarm_route
    SELECT act.account_id, act.region, act.alarm_arn, act.action_arn, NULL, ?
    FROM aws_cloudwatch_alarm_action act
    JOIN aws_cloudwatch_alarm a
      ON a.account_id = act.account_id AND a.region = act.region AND a.arn = act.alarm_arn
    WHERE a.alarm_type = 'MetricAlarm' AND act.action_type = 'ALARM'
      AND act.action_arn LIKE 'arn:%:sns:%'"""


def composite_route_rows(con, now) -> list[tuple]:
    """cfgmon_alarm_route rows through composites: (account, region, metric alarm, topic,
    composite), for the accounts and regions that hold composite alarms."""
    alarms = con.execute(
        """SELECT a.account_id, a.region, a.arn, a.name, a.alarm_type, a.actions_enabled,
                  a.state_value, a.alarm_rule, a.raw
           FROM aws_cloudwatch_alarm a
           JOIN (SELECT DISTINCT account_id, region FROM aws_cloudwatch_alarm
                 WHERE alarm_type = 'CompositeAlarm') c
             ON c.account_id = a.account_id AND c.region = a.region"""
    ).fetchall()
    if not alarms:
        return []
    topics: dict[str, list[str]] = {}
    for alarm_arn, topic in con.execute(
        """SELECT act.alarm_arn, act.action_arn FROM aws_cloudwatch_alarm_action act
           JOIN aws_cloudwatch_alarm a
             ON a.account_id = act.account_id AND a.region = act.region AND a.arn = act.alarm_arn
           WHERE a.alarm_type = 'CompositeAlarm' AND act.action_type = 'ALARM'
             AND act.action_arn LIKE 'arn:%:sns:%'
           ORDER BY act.alarm_arn, act.action_index"""
    ).fetchall():
        topics.setdefault(alarm_arn, []).append(topic)
    rows = []
    for (account, region), members in _by_scope(alarms).items():
        composites = [a for a in members if a[4] == "CompositeAlarm"]
        states = {a[2]: a[6] or "INSUFFICIENT_DATA" for a in members}
        names = {a[3]: a[2] for a in members}
        rules = _rules(composites)
        for alarm in members:
            if alarm[4] != "MetricAlarm":
                continue
            for composite in _composites_raised(alarm[2], states, names, rules, composites):
                rows += [(account, region, alarm[2], topic, composite, now)
                         for topic in topics.get(composite, ())]
    return rows


def _by_scope(alarms: Iterable[tuple]) -> dict[tuple[str, str], list[tuple]]:
    scopes: dict[tuple[str, str], list[tuple]] = {}
    for alarm in alarms:
        scopes.setdefault((alarm[0], alarm[1]), []).append(alarm)
    return scopes


def _rules(composites: list[tuple]) -> dict[str, object]:
    rules = {}
    for composite in composites:
        try:
            rules[composite[2]] = parse_alarm_rule(composite[7] or "")
        except AlarmRuleError:
            continue  # a rule AWS would refuse raises nothing
    return rules


def _composites_raised(alarm_arn: str, states: Mapping[str, str], names: Mapping[str, str],
                       rules: Mapping[str, object], composites: list[tuple]) -> list[str]:
    """The composites with actions enabled, not suppressed, that go into ALARM when
    `alarm_arn` does and every other alarm stays quiet (decided above)."""
    quiet = dict(states)
    if quiet.get(alarm_arn) == "ALARM":
        quiet[alarm_arn] = "OK"
    raised = dict(quiet, **{alarm_arn: "ALARM"})
    quiet = _settle(quiet, rules, names)
    raised = _settle(raised, rules, names)
    chosen = []
    for composite in composites:
        arn, enabled, raw = composite[2], composite[5], composite[8]
        if not enabled or quiet.get(arn) == "ALARM" or raised.get(arn) != "ALARM":
            continue
        suppressor = (json.loads(raw) if isinstance(raw, str) else raw or {}).get("ActionsSuppressor")
        if suppressor and _state_of(suppressor, raised, names) == "ALARM":
            continue  # its actions are suppressed just when it would notify
        chosen.append(arn)
    return chosen


def _settle(states: dict[str, str], rules: Mapping[str, object], names: Mapping[str, str]):
    """Each composite's state from its rule, nested composites following their parts."""
    by_name = _NameView(states, names)
    for _ in range(MAX_NESTING):
        changed = False
        for arn, rule in rules.items():
            state = "ALARM" if rule.is_true(by_name) else "OK"
            if states.get(arn) != state:
                states[arn], changed = state, True
        if not changed:
            break
    return states


def _state_of(reference: str, states: Mapping[str, str], names: Mapping[str, str]) -> str:
    return states.get(reference) or states.get(names.get(reference, ""), "INSUFFICIENT_DATA")


class _NameView(Mapping):
    """States by ARN, also reachable by alarm name (a rule may use either)."""

    def __init__(self, states: dict[str, str], names: Mapping[str, str]) -> None:
        self._states, self._names = states, names

    def __getitem__(self, key: str) -> str:
        if key in self._states:
            return self._states[key]
        if key in self._names:
            return self._states[self._names[key]]
        raise KeyError(key)

    def __iter__(self):
        return iter(list(self._states) + list(self._names))

    def __len__(self) -> int:
        return len(self._states) + len(self._names)
