"""The composite alarm rule case files: each rule's truth, each invalid rule's error."""

from __future__ import annotations

import pytest

from cfgmon.alarms import AlarmRuleError, parse_alarm_rule
from cfgmon.errors import CfgmonError

from .casefiles import ids, load

CASES = load("rules.txt", 3)
ERRORS = load("rule_errors.txt", 3)


def _pairs(text: str) -> dict[str, str]:
    """name=STATE pairs; a name may hold blanks: cis root usage=ALARM b=OK"""
    states: dict[str, str] = {}
    pending = ""
    for word in text.split():
        if "=" in word:
            name, state = word.rsplit("=", 1)
            states[(pending + " " + name).strip()] = state
            pending = ""
        else:
            pending = (pending + " " + word).strip()
    return states


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_rule_case(case):
    text, states, expected = case.fields
    rule = parse_alarm_rule(text)
    if states.startswith("alone "):
        name, _, quiet = states[len("alone "):].partition(" ")
        assert rule.true_when_alone_in_alarm(name, _pairs(quiet)) is (expected == "true")
    else:
        assert rule.is_true(_pairs("" if states == "-" else states)) is (expected == "true")


@pytest.mark.parametrize("case", ERRORS, ids=ids(ERRORS))
def test_rule_error_case(case):
    text, column, message = case.fields
    with pytest.raises(AlarmRuleError) as caught:
        parse_alarm_rule(text)
    error = caught.value
    assert isinstance(error, CfgmonError)
    assert message in error.message
    assert error.column == int(column), str(error)
    assert "\n" not in str(error)


def test_alarms_named():
    rule = parse_alarm_rule('ALARM(a) OR (OK("b c") AND NOT AT_LEAST(1, ALARM, (d, e))) OR TRUE')
    assert rule.alarms_named() == {"a", "b c", "d", "e"}


def test_the_rule_files_are_substantial():
    assert len(CASES) > 40 and len(ERRORS) > 15
