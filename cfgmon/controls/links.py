"""The chain as a person draws it: trail -> log group -> filter -> alarm -> topic -> subscription.

The chain query numbers its links 1..14 (15: complete; see `chain_link` in
queries/_chains/alarm_chain/v1.sql). Those numbers stay stable across chain versions,
which add rules inside a link, not links; so this one table maps each number to the
drawn link it breaks, and the report and the fix planner both read it from here.

Evidence fields are assigned to drawn links by the words in their names, so a field
a later chain version adds (`composite_alarm_arn`, `topic_kms_key`) lands on its link
without a change here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

COMPLETE = 15   # the chain's broken_link when nothing is broken


@dataclass(frozen=True)
class Link:
    key: str                      # trail, log_group, filter, alarm, topic, subscription
    label: str                    # as drawn
    numbers: tuple[int, ...]      # the broken_link values that break it
    resource_field: str           # the evidence field naming its resource


# Link numbers that break each drawn link. A link that is missing altogether (no
# delivery to CloudWatch Logs, no alarm, no SNS action) breaks the drawn link it
# fails to reach.
LINKS = (
    Link("trail", "trail", (1, 2, 3, 4), "trail_arn"),
    Link("log_group", "log group", (5, 6), "log_group_arn"),
    Link("filter", "metric filter", (7, 8), "metric_filter_name"),
    Link("alarm", "alarm", (9, 10, 11), "alarm_arn"),
    Link("topic", "SNS topic", (12, 13), "topic_arn"),
    Link("subscription", "subscription", (14,), "subscription_arn"),
)

# What each link number means, in a few words.
BROKEN = {
    1: "no trail applies to the account",
    2: "the trail is not multi-region",
    3: "the trail is not logging",
    4: "the trail does not record the control's events",
    5: "the trail does not deliver to CloudWatch Logs",
    6: "the log group does not exist",
    7: "no metric filter covers the events (or it matches ordinary traffic)",
    8: "the metric value is not a positive number",
    9: "no alarm watches the metric",
    10: "the alarm's actions are disabled",
    11: "the alarm does not go into ALARM on one event, or does not leave it",
    12: "the alarm has no SNS action",
    13: "the SNS topic does not exist",
    14: "the topic has no confirmed subscription",
    15: "the chain is complete",
}

# Which drawn link an evidence field belongs to: the first of these words its name
# contains. Order matters: `metric_filter_name` is the filter's before any other rule,
# `alarm` before `metric` (a composite or metric-math alarm's fields), `subscription`
# before `topic` (a topic's subscriptions are the subscription link).
_FIELD_WORDS: tuple[tuple[str, str], ...] = (
    ("metric_filter", "filter"),
    ("subscription", "subscription"),
    ("alarm", "alarm"),
    ("topic", "topic"),
    ("cloudwatch_logs", "log_group"),
    ("log_group", "log_group"),
    ("trail", "trail"),
    ("filter", "filter"),
    ("pattern", "filter"),
    ("events_", "filter"),
    ("missed_events", "filter"),
    ("metric", "filter"),
)
GENERAL = "general"   # evidence about the verdict as a whole: broken_link, collected_at, …

# States of a drawn link
OK, BROKEN_HERE, NOT_REACHED = "ok", "broken", "not reached"


def link_of_number(number: int | None) -> Link | None:
    """The drawn link a broken_link number breaks; None for a complete chain or none."""
    return next((link for link in LINKS if number in link.numbers), None)


def link_of_field(name: str) -> str:
    """The drawn link (its key) an evidence field belongs to, or GENERAL."""
    return next((key for word, key in _FIELD_WORDS if word in name), GENERAL)


def link_states(status: str, broken_link: int | None) -> list[str]:
    """The state of each drawn link, in LINKS order.

    COMPLIANT: all ok. NON_COMPLIANT: ok up to the broken link, which is broken, the
    rest not reached. INSUFFICIENT_DATA: ok up to the link that could not be judged,
    which with the rest is not reached (missing data is never a failure);
    NOT_APPLICABLE, or a result without a link number: nothing reached.
    """
    if status == "COMPLIANT":
        return [OK] * len(LINKS)
    broken = link_of_number(broken_link)
    if status not in ("NON_COMPLIANT", "INSUFFICIENT_DATA") or broken is None:
        return [NOT_REACHED] * len(LINKS)
    states = []
    for link in LINKS:
        if link.numbers[0] < broken.numbers[0]:
            states.append(OK)
        elif link is broken and status == "NON_COMPLIANT":
            states.append(BROKEN_HERE)
        else:
            states.append(NOT_REACHED)
    return states


def evidence_by_link(evidence: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The evidence split by drawn link (keys of LINKS, then GENERAL), in field order."""
    grouped: dict[str, dict[str, Any]] = {link.key: {} for link in LINKS}
    grouped[GENERAL] = {}
    for name, value in evidence.items():
        grouped[link_of_field(name)][name] = value
    return grouped
