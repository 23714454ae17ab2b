"""What the planner reads of the inventory: the real names and settings of a chain's resources.

Loaded once for a whole report (a few queries, whatever the number of results), then
looked up in memory; only the full definition of an alarm (the API object kept in
`raw`, which PutMetricAlarm must restate whole) and the policies of topics and KMS
keys are read per resource, those the results name first, in one query each.
A detached inventory (a forked child's, see cfgmon.parallel) reads nothing more:
what it was not given raises DetachedInventory.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from cfgmon.controls.alarm_judgement import on_trail_log_group
from cfgmon.store.bulk import BOUND_LIST


def _rows(con, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _json(value) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def log_group_of(arn: str) -> tuple[str, str, str]:
    """(account, region, name) of a log group's ARN."""
    parts = arn.split(":", 5)
    parts += [""] * (6 - len(parts))
    return parts[4], parts[3], arn.split(":log-group:", 1)[1] if ":log-group:" in arn else arn


_ALARM_DEFINITIONS = "SELECT arn, raw FROM aws_cloudwatch_alarm"
# A topic's policy and a KMS key's default policy, by ARN (any copy: they are alike).
_TOPIC_POLICIES = ("SELECT topic_arn AS arn, any_value(policy) AS policy "
                   "FROM aws_sns_topic_attributes GROUP BY topic_arn")
_KEY_POLICIES = ("SELECT key_arn AS arn, any_value(policy) AS policy "
                 "FROM aws_sns_topic_kms_key GROUP BY key_arn")


class DetachedInventory(RuntimeError):
    """A detached inventory was asked for a row it was not given."""


class Inventory:
    def __init__(self, con, alarm_arns: Iterable[str] = (),
                 log_group_arns: Iterable[str] = (), topic_arns: Iterable[str] = (),
                 key_arns: Iterable[str] = ()) -> None:
        """`alarm_arns`: the alarms whose definitions the fixes restate, `topic_arns`
        and `key_arns` the topics and KMS keys whose policies they may restate (each
        read in one query; any other is read when asked for); `log_group_arns`:
        the log groups they name (their filters are read even when no trail delivers
        there now, as for a stored run planned against a later collection)."""
        self._con = con
        self.trails: dict[str, dict] = {}
        for row in _rows(con, "SELECT * EXCLUDE (raw) FROM aws_cloudtrail_trail "
                              "ORDER BY (account_id = owner_account_id) DESC"):
            row["advanced_event_selectors"] = _json(row["advanced_event_selectors"])
            self.trails.setdefault(row["arn"], row)   # the owner's copy first
        self.selectors: dict[str, list[dict]] = defaultdict(list)
        for row in _rows(con, "SELECT * FROM aws_cloudtrail_trail_event_selector "
                              "ORDER BY trail_arn, selector_index"):
            row["exclude_management_event_sources"] = _json(row["exclude_management_event_sources"])
            row["data_resources"] = _json(row["data_resources"])
            self.selectors[row["trail_arn"]].append(row)
        self.log_groups = set(con.execute(
            "SELECT account_id, region, name FROM aws_cloudwatch_log_group").fetchall())
        # A fix only ever touches the filters on a chain's log group (a trail's, or one
        # a result names), and asks only whether an alarm watches one of their metrics:
        # a large estate's other filters and alarms (application metrics) are not read.
        named = sorted({"|".join(log_group_of(arn)) for arn in log_group_arns if arn})
        on_chain = (f"({on_trail_log_group('f')} OR f.account_id || '|' || f.region || '|' "
                    f"|| f.log_group_name IN ({BOUND_LIST}))")
        self.filters: dict[tuple, list[dict]] = defaultdict(list)
        for row in _rows(con, "SELECT * EXCLUDE (raw) FROM aws_cloudwatch_log_metric_filter f "
                              f"WHERE {on_chain} ORDER BY name", [named]):
            row["metric_transformation_dimensions"] = _json(row["metric_transformation_dimensions"])
            self.filters[(row["account_id"], row["region"], row["log_group_name"])].append(row)
        self.alarms_by_metric: dict[tuple, list[str]] = defaultdict(list)
        for account, region, namespace, metric, arn in con.execute(f"""
                SELECT a.account_id, a.region, a.namespace, a.metric_name, a.arn
                FROM aws_cloudwatch_alarm a
                WHERE EXISTS (SELECT 1 FROM aws_cloudwatch_log_metric_filter f
                              WHERE f.account_id = a.account_id AND f.region = a.region
                                AND f.metric_transformation_namespace = a.namespace
                                AND f.metric_transformation_name = a.metric_name
                                AND {on_chain})
                ORDER BY a.arn""", [named]).fetchall():
            self.alarms_by_metric[(account, region, namespace, metric)].append(arn)
        self.alarm_arns: set[str] = {arn for (arn,) in con.execute(
            "SELECT arn FROM aws_cloudwatch_alarm").fetchall()}
        self.topics: dict[tuple, list[str]] = defaultdict(list)
        for row in _rows(con, "SELECT DISTINCT account_id, region, topic_arn FROM aws_sns_topic "
                              "ORDER BY topic_arn"):
            self.topics[(row["account_id"], row["region"])].append(row["topic_arn"])
        self.confirmed = dict(con.execute(
            "SELECT topic_arn, count(*) FROM aws_sns_topic_subscription "
            "WHERE NOT pending_confirmation GROUP BY topic_arn").fetchall())
        # filters by log group and name, the first of a name winning (AWS keeps one per name)
        self._by_name = {(*group, f["name"]): f for group, rows in self.filters.items()
                         for f in reversed(rows)}
        # read per resource: the alarm's DescribeAlarms object, the policies
        self._alarm_raw: dict[str, dict | None] = {}
        self._topic_policies: dict[str, dict | None] = {}
        self._key_policies: dict[str, dict | None] = {}
        self._load(self._alarm_raw, _ALARM_DEFINITIONS, alarm_arns)
        self._load(self._topic_policies, _TOPIC_POLICIES, topic_arns)
        self._load(self._key_policies, _KEY_POLICIES, key_arns)

    def detach(self) -> None:
        """Read nothing more from the database: a miss raises DetachedInventory."""
        self._con = None

    def topic_policy(self, topic_arn: str) -> dict | None:
        """The topic's policy as GetTopicAttributes gave it."""
        return self._read(self._topic_policies, _TOPIC_POLICIES, topic_arn)

    def key_policy(self, key_arn: str) -> dict | None:
        """The KMS key's default policy as GetKeyPolicy gave it."""
        return self._read(self._key_policies, _KEY_POLICIES, key_arn)

    def alarm(self, arn: str) -> dict | None:
        """The alarm's DescribeAlarms object, or None when it is not in the inventory."""
        return self._read(self._alarm_raw, _ALARM_DEFINITIONS, arn)

    def _read(self, cache: dict[str, dict | None], sql: str, arn: str | None) -> dict | None:
        if not arn:
            return None
        if arn not in cache:
            self._load(cache, sql, [arn])
        return cache[arn]

    def _load(self, cache: dict[str, dict | None], sql: str, arns: Iterable[str]) -> None:
        """The JSON value of each ARN in `sql`'s (arn, value) rows into `cache` (None: absent)."""
        arns = [arn for arn in dict.fromkeys(arns) if arn and arn not in cache]
        if not arns:
            return
        if self._con is None:
            raise DetachedInventory(f"{arns[0]} was not read before the inventory was detached")
        for arn in arns:
            cache[arn] = None
        for arn, value in self._con.execute(
                f"SELECT * FROM ({sql}) WHERE arn IN ({BOUND_LIST})", [arns]).fetchall():
            cache[arn] = _json(value)

    def filters_on(self, account_id: str, region: str, log_group_name: str) -> list[dict]:
        return self.filters.get((account_id, region, log_group_name), [])

    def filter_named(self, account_id: str, region: str, log_group_name: str,
                     name: str | None) -> dict | None:
        """The filter called `name` on the log group, or None."""
        return self._by_name.get((account_id, region, log_group_name, name))

    def alarms_on(self, account_id: str, region: str, namespace: str, metric_name: str) -> list[str]:
        return self.alarms_by_metric.get((account_id, region, namespace, metric_name), [])

    def delivering_topic(self, account_id: str, region: str) -> str | None:
        """A topic of the account and region with a confirmed subscription, if any."""
        return next((t for t in self.topics.get((account_id, region), [])
                     if self.confirmed.get(t)), None)
