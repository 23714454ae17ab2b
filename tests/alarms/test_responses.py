"""The alarm-response case file: each alarm's answer to one event and to quiet."""

from __future__ import annotations

import pytest

from cfgmon.alarms import AlarmSpec, MetricQuery, judge_alarm

from .casefiles import ids, load

CASES = load("responses.txt", 5)
OPERATORS = {
    ">=": "GreaterThanOrEqualToThreshold",
    ">": "GreaterThanThreshold",
    "<": "LessThanThreshold",
    "<=": "LessThanOrEqualToThreshold",
}
ANSWER = {"yes": True, "no": False, "-": None}


def spec_and_fed(text: str) -> tuple[AlarmSpec, frozenset[str]]:
    head, _, expression = text.partition("expr=")
    keys = dict(item.split("=", 1) for item in head.split())
    n = int(keys["n"]) if "n" in keys else None
    common = dict(
        period=60,
        evaluation_periods=n,
        datapoints_to_alarm=int(keys["m"]) if "m" in keys else None,
        threshold=float(keys["thr"]) if "thr" in keys else None,
        comparison_operator=OPERATORS.get(keys.get("op", ""), keys.get("op")),
        treat_missing_data=keys.get("treat"),
        evaluate_low_sample_count_percentile=keys.get("low"),
        threshold_metric_id=keys.get("band"),
    )
    if not expression:
        return AlarmSpec(statistic=keys.get("stat"), **common), frozenset({""})
    metrics = [MetricQuery("m1", None, keys.get("stat"), 60, False)]
    if "other" in keys:
        metrics.append(MetricQuery(keys["other"], None, "Sum", 60, False))
    metrics.append(MetricQuery("e1", expression.strip(), None, None, True))
    return AlarmSpec(statistic=None, metrics=tuple(metrics), **common), frozenset({"m1"})


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_response_case(case):
    alarm, event, default, answers, why = case.fields
    spec, fed = spec_and_fed(alarm)
    response = judge_alarm(
        spec, fed, None if event == "-" else float(event), None if default == "-" else float(default)
    )
    if answers.startswith("unsupported="):
        assert response.unsupported == answers[len("unsupported=") :], response
        assert (response.alarms_on_event, response.alarm_when_quiet, response.leaves_alarm) == (None,) * 3
    else:
        expected = dict(item.split("=", 1) for item in answers.split())
        assert response.unsupported is None, response
        got = (response.alarms_on_event, response.alarm_when_quiet, response.leaves_alarm)
        assert got == (ANSWER[expected["on"]], ANSWER[expected["quiet"]], ANSWER[expected["leaves"]]), response
    assert why in response.why, response.why


def test_the_response_file_is_substantial():
    assert len(CASES) > 50


def test_another_metric_s_default_value_is_published_for_the_event_it_does_not_match():
    # m1 + m2 over two filters with defaultValue 0: the filter behind m2 does not match
    # m1's event but emits 0 for it, so the sum has a datapoint; without that default
    # m2 has none and the sum is missing
    spec, fed = spec_and_fed("stat=Sum thr=1 op=>= other=m2 expr=m1 + m2")
    with_default = judge_alarm(spec, fed, 1.0, 0.0, (("m2", 0.0),))
    assert (with_default.alarms_on_event, with_default.alarm_when_quiet,
            with_default.leaves_alarm) == (True, False, True), with_default
    without = judge_alarm(spec, fed, 1.0, 0.0)
    assert without.alarms_on_event is False, without


def test_other_metrics_defaults_that_breach_when_quiet_are_named():
    spec, fed = spec_and_fed("stat=Sum thr=1 op=>= other=m2 expr=m1 + m2")
    response = judge_alarm(spec, fed, 1.0, 0.0, (("m2", 5.0),))
    assert response.alarm_when_quiet is True, response
    assert "default values" in response.why, response.why
