"""The drawn chain: which link a broken_link number breaks, and where evidence fields go."""

from __future__ import annotations

import pytest

from cfgmon.controls.links import BROKEN, LINKS, evidence_by_link, link_of_number, link_states

# broken_link -> the drawn link it breaks
EXPECTED = {1: "trail", 2: "trail", 3: "trail", 4: "trail", 5: "log_group", 6: "log_group",
            7: "filter", 8: "filter", 9: "alarm", 10: "alarm", 11: "alarm", 12: "topic",
            13: "topic", 14: "subscription"}


def test_every_link_number_breaks_one_drawn_link():
    assert {n: link_of_number(n).key for n in EXPECTED} == EXPECTED
    assert set(BROKEN) == set(EXPECTED) | {15} and link_of_number(15) is None


@pytest.mark.parametrize(("status", "number", "states"), [
    ("COMPLIANT", 15, "oooooo"),
    ("NON_COMPLIANT", 7, "oobnnn"),
    ("NON_COMPLIANT", 12, "oooobn"),
    ("NON_COMPLIANT", 1, "bnnnnn"),
    ("INSUFFICIENT_DATA", 9, "ooonnn"),    # not collected: never drawn as broken
    ("NOT_APPLICABLE", 1, "nnnnnn"),
])
def test_link_states(status, number, states):
    codes = {"ok": "o", "broken": "b", "not reached": "n"}
    assert "".join(codes[s] for s in link_states(status, number)) == states


def test_evidence_fields_find_their_link_by_name_even_new_ones():
    grouped = evidence_by_link({
        "broken_link": 13, "trail_arn": "t", "cloudwatch_logs_delivery_error": "e",
        "metric_filter_name": "f", "missed_events": "m", "metric_name": "n",
        "alarm_arn": "a", "composite_alarm_arn": "c", "topic_arn": "s", "topic_kms_key": "k",
        "pending_subscriptions": 1, "subscription_filter_policy": "p", "collected_at": "x",
    })
    assert grouped == {
        "trail": {"trail_arn": "t"},
        "log_group": {"cloudwatch_logs_delivery_error": "e"},
        "filter": {"metric_filter_name": "f", "missed_events": "m", "metric_name": "n"},
        "alarm": {"alarm_arn": "a", "composite_alarm_arn": "c"},
        "topic": {"topic_arn": "s", "topic_kms_key": "k"},
        "subscription": {"pending_subscriptions": 1, "subscription_filter_policy": "p"},
        "general": {"broken_link": 13, "collected_at": "x"},
    }
    assert [link.key for link in LINKS] == list(grouped)[:-1]
