"""Topic delivery: can each SNS topic an alarm notifies deliver that alarm's notification?

Derived once per check, before the chain runs, for every topic the ALARM action of
an alarm a chain can reach names (a metric alarm on a trail's filter's metric, see
alarm_judgement.CHAIN_ALARMS, or a composite alarm, which may route for one), and
written to cfgmon_topic_delivery: one row per (topic, alarm whose ALARM action names
it). The chain never reads an alarm no chain reaches, and in a large estate most
alarms are such (application metrics). The chain joins the rows on topic ARN and the
alarm it follows (or the composite that notifies for it); they name no control, so
every control on the chain reads the same rows.

The rules and their evidence are in cfgmon.controls.delivery_rules; this module
reads the inventory and applies them to each alarm's notification.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cfgmon.aws.values import parse_arn
from cfgmon.controls.alarm_judgement import CHAIN_ALARMS
from cfgmon.controls.delivery_rules import (
    FILTERED_OUT,
    PENDING,
    WORKING,
    Alarm,
    Finding,
    Key,
    Subscription,
    Topic,
    judge_key,
    judge_subscription,
    judge_subscriptions,
    judge_topic_policy,
    refusal,
)
from cfgmon.store.bulk import BOUND_LIST, insert_rows
from cfgmon.store.database import utc_now
from cfgmon.store.transaction import transaction

TABLE = "cfgmon_topic_delivery"
COLUMNS = (
    "topic_arn", "publisher_account_id", "alarm_arn", "topic_account_id", "topic_region",
    "topic_collected",
    "can_deliver", "undeliverable_because", "undecided_because", "kms_key_arn",
    "kms_key_manager", "working_subscriptions", "first_working_subscription_arn",
    "pending_subscriptions", "filtered_out_subscriptions", "filtered_out_example",
    "undecided_subscriptions", "alarms", "evaluated_at",
)


def derive_topic_delivery(con) -> int:
    """Recompute cfgmon_topic_delivery from the inventory; returns the rows written."""
    inventory = _Inventory.read(con)
    now = utc_now()
    rows = [
        row
        for (topic_arn, publisher), alarms in sorted(inventory.publishers.items())
        for row in _rows_of(topic_arn, publisher, alarms, inventory, now)
    ]
    with transaction(con):
        con.execute(f"DELETE FROM {TABLE}")
        insert_rows(con, TABLE, rows, COLUMNS)
    return len(rows)


@dataclass
class _Inventory:
    publishers: dict[tuple[str, str], list[Alarm]]   # (topic ARN, alarm account) -> alarms
    topics: dict[str, Topic]
    listed_topics: set[str]                           # in ListTopics, attributes or not
    collected_scopes: set[tuple[str, str]]            # (account, region) of SNS scopes collected
    keys: dict[tuple[str, str, str], Key]              # (account, region, key ARN)
    subscriptions: dict[tuple[str, str], list[Subscription]]   # (account, topic ARN)

    @classmethod
    def read(cls, con) -> _Inventory:
        publishers: dict[tuple[str, str], list[Alarm]] = defaultdict(list)
        # tens of thousands of alarms: tuples straight into Alarm, in its field order
        for topic_arn, *fields in con.execute(f"""
            WITH chain_alarm AS ({CHAIN_ALARMS})
            SELECT DISTINCT act.action_arn, a.arn, a.name, a.account_id, a.alarm_type,
                   a.alarm_description, a.metric_name, a.namespace, a.period,
                   a.evaluation_periods, a.comparison_operator, a.threshold
            FROM aws_cloudwatch_alarm_action act
            JOIN aws_cloudwatch_alarm a
              ON a.account_id = act.account_id AND a.region = act.region
             AND a.arn = act.alarm_arn
            LEFT JOIN chain_alarm c
              ON c.account_id = a.account_id AND c.region = a.region AND c.alarm_arn = a.arn
            WHERE act.action_type = 'ALARM' AND act.action_arn LIKE 'arn:%:sns:%'
              AND (c.alarm_arn IS NOT NULL OR a.alarm_type = 'CompositeAlarm')
            ORDER BY a.arn""").fetchall():
            alarm = Alarm(*fields)
            publishers[(topic_arn, alarm.account_id)].append(alarm)
        # only the topics those alarms name are read (their policies are parsed)
        named = sorted({topic_arn for topic_arn, _ in publishers})
        topics = {}
        for row in _rows(con, f"""SELECT * FROM aws_sns_topic_attributes
                                  WHERE topic_arn IN ({BOUND_LIST}) ORDER BY collected_at""", [named]):
            topics[row["topic_arn"]] = Topic(
                topic_arn=row["topic_arn"], account_id=row["account_id"], region=row["region"],
                policy=_json(row["policy"]), kms_master_key_id=row["kms_master_key_id"],
                kms_key_arn=row["kms_key_arn"], kms_key_error=row["kms_key_error"],
                attributes_error=row["attributes_error"],
                subscriptions_error=row["subscriptions_error"],
            )
        keys = {
            (row["account_id"], row["region"], row["key_arn"]): Key(
                key_arn=row["key_arn"], key_manager=row["key_manager"],
                key_state=row["key_state"], enabled=row["enabled"],
                aliases=tuple(_json(row["aliases"]) or ()), policy=_json(row["policy"]),
                describe_error=row["describe_error"], policy_error=row["policy_error"],
            )
            for row in _rows(con, f"""
                SELECT k.* FROM aws_sns_topic_kms_key k
                WHERE EXISTS (SELECT 1 FROM aws_sns_topic_attributes t
                              WHERE t.topic_arn IN ({BOUND_LIST}) AND t.account_id = k.account_id
                                AND t.region = k.region AND t.kms_key_arn = k.key_arn)""",
                [named])
        }
        subscriptions: dict[tuple[str, str], list[Subscription]] = defaultdict(list)
        for row in _rows(con, f"""SELECT * FROM aws_sns_topic_subscription_attributes
                                  WHERE topic_arn IN ({BOUND_LIST})
                                  ORDER BY subscription_arn""", [named]):
            subscriptions[(row["account_id"], row["topic_arn"])].append(Subscription(
                subscription_arn=row["subscription_arn"], owner=row["owner"],
                pending=row["pending_confirmation"], filter_policy=_json(row["filter_policy"]),
                filter_policy_scope=row["filter_policy_scope"],
                attributes_error=row["attributes_error"],
            ))
        listed = {row["topic_arn"] for row in _rows(
            con, f"SELECT topic_arn FROM aws_sns_topic WHERE topic_arn IN ({BOUND_LIST})", [named])}
        scopes = {(row["account_id"], row["region"]) for row in _rows(
            con, "SELECT account_id, region FROM cfgmon_collection "
                 "WHERE service = 'sns' AND status = 'ok'")}
        return cls(dict(publishers), topics, listed, scopes, keys, dict(subscriptions))


def _rows(con, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def _json(text: Any) -> Any:
    return json.loads(text) if isinstance(text, str) else text


def _rows_of(topic_arn: str, publisher: str, alarms: Sequence[Alarm], inventory: _Inventory,
             now) -> list[tuple]:
    """One row per alarm that notifies the topic: the chain follows one alarm, and another
    alarm's delivery (a filter policy on AlarmName, a condition on its ARN) is not its."""
    arn = parse_arn(topic_arn)
    topic_account, topic_region = (arn.account_id, arn.region) if arn else (None, None)
    topic = inventory.topics.get(topic_arn)
    if topic is None:
        finding = _absent(topic_arn, topic_account, topic_region, inventory)
        return [(topic_arn, publisher, alarm.arn, topic_account, topic_region, False,
                 finding.can_deliver, *_because(finding), None, None, 0, None, 0, 0, None, 0,
                 len(alarms), now) for alarm in alarms]
    key = (inventory.keys.get((topic.account_id, topic.region, topic.kms_key_arn))
           if topic.kms_key_arn else None)
    subscriptions = inventory.subscriptions.get((topic.account_id, topic_arn), [])
    # the rules read an alarm's identity only through a policy condition on its ARN or
    # a filter policy on the notification's body; without either, the account's alarms
    # are all answered alike, so one stands for the rest (thousands share a topic)
    apart = _tells_alarms_apart(topic, key, subscriptions)
    rows, answer = [], None
    for alarm in alarms:
        if apart or answer is None:
            finding = _judge(topic, key, subscriptions, alarm)
            verdict = (True, None, None) if finding is None else (
                finding.can_deliver, *_because(finding))
            answer = (*verdict, topic.kms_key_arn, key.key_manager if key else None,
                      *_subscription_counts(subscriptions, alarm))
        rows.append((topic_arn, publisher, alarm.arn, topic.account_id, topic.region, True,
                     *answer, len(alarms), now))
    return rows


def _tells_alarms_apart(topic: Topic, key: Key | None,
                        subscriptions: Sequence[Subscription]) -> bool:
    policies = [topic.policy, key.policy if key else None]
    return (any(p is not None and "sourcearn" in json.dumps(p).lower() for p in policies)
            or any(s.filter_policy is not None and s.filter_policy_scope == "MessageBody"
                   for s in subscriptions))


def _absent(topic_arn: str, account: str | None, region: str | None,
            inventory: _Inventory) -> Finding:
    """Rule topic-present, for a topic without collected attributes."""
    if topic_arn in inventory.listed_topics:
        return Finding(None, "its attributes were not collected (collect again to read them)")
    if (account, region) in inventory.collected_scopes:
        return Finding(False, "it does not exist")
    return Finding(None, f"SNS of account {account} in {region} was not collected")


def _because(finding: Finding) -> tuple[str | None, str | None]:
    """(undeliverable_because, undecided_because) of a finding."""
    return (finding.reason, None) if finding.can_deliver is False else (None, finding.reason)


def _judge(topic: Topic, key: Key | None, subscriptions: Sequence[Subscription],
           alarm: Alarm) -> Finding | None:
    """The alarm's verdict: the first rule that fails, else the first that cannot tell."""
    if topic.attributes_error:
        return Finding(None, f"its attributes could not be read ({refusal(topic.attributes_error)})")
    findings = [f for f in (judge_key(topic, key, alarm), judge_topic_policy(topic, alarm),
                            judge_subscriptions(topic, subscriptions, alarm)) if f]
    broken = [f for f in findings if f.can_deliver is False]
    return (broken or findings or [None])[0]


def _subscription_counts(subscriptions: Sequence[Subscription], alarm: Alarm) -> tuple:
    """For the alarm's notification: working, first working ARN, pending, filtered out,
    an example of why, and undecided (the rest)."""
    working, pending, filtered, undecided = [], 0, [], 0
    for subscription in subscriptions:
        outcome, why = judge_subscription(subscription, alarm)
        if outcome == WORKING:
            working.append(subscription.subscription_arn)
        elif outcome == PENDING:
            pending += 1
        elif outcome == FILTERED_OUT:
            filtered.append(why)
        else:
            undecided += 1
    return (len(working), working[0] if working else None, pending, len(filtered),
            filtered[0] if filtered else None, undecided)
