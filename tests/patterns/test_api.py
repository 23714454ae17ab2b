"""The public API the control and the SQL function rely on."""

from __future__ import annotations

import json

import pytest

import cfgmon.patterns.events as events_module
from cfgmon.errors import CfgmonError
from cfgmon.patterns import (
    FilterPattern,
    LogEvent,
    PatternError,
    compile_pattern,
    matches,
    parse,
    render,
)
from cfgmon.patterns.limits import MAX_PATTERN_LENGTH
from cfgmon.patterns.nodes import MatchAll

RECORD = json.dumps({"eventSource": "config.amazonaws.com", "eventName": "PutDeliveryChannel"})


def test_compile_pattern_parses_each_distinct_text_once():
    text = "{ $.eventName = PutDeliveryChannel && $.x NOT EXISTS }"
    first = compile_pattern(text)
    assert isinstance(first, FilterPattern)
    assert compile_pattern(text) is first
    assert compile_pattern(text + " ") is not first


def test_matches_and_matches_all():
    pattern = compile_pattern("{ $.eventName = Put* }")
    assert pattern.matches(LogEvent(RECORD)) is True
    assert pattern.matches(RECORD) is True  # raw text is accepted too
    assert pattern.matches_all([LogEvent(RECORD), "not json", RECORD, "{}"]) == [
        True,
        False,
        True,
        False,
    ]
    assert pattern.matches_all([]) == []
    assert matches("{ $.eventName = Put* }", RECORD) is True
    assert matches("{ $.eventName = Stop* }", RECORD) is False
    assert matches("", "anything") is True


def test_matches_raises_for_an_invalid_pattern():
    with pytest.raises(PatternError):
        matches("{ $.eventName = ", RECORD)


def test_log_event_parses_its_json_once(monkeypatch):
    calls = []
    real = events_module._parse_json
    monkeypatch.setattr(events_module, "_parse_json", lambda text: calls.append(text) or real(text))
    event = LogEvent(RECORD)
    for pattern in ("{ $.eventName = Put* }", "{ $.eventSource = config.* }", "{ $.x NOT EXISTS }"):
        assert compile_pattern(pattern).matches(event)
    assert calls == [RECORD]
    assert event.json == json.loads(RECORD)


@pytest.mark.parametrize(
    "text", ["plain", "[1, 2]", '"s"', "3", "null", "{broken", '{"a": NaN}', ""]
)
def test_log_event_json_is_none_unless_an_object(text):
    assert LogEvent(text).json is None


def test_log_events_compare_by_text():
    assert LogEvent("a") == LogEvent("a") and hash(LogEvent("a")) == hash(LogEvent("a"))
    assert LogEvent("a") != LogEvent("b")


def test_kinds():
    assert compile_pattern("").kind == "match-all"
    assert compile_pattern("   ").kind == "match-all"
    assert compile_pattern("{ $.a = 1 }").kind == "json"
    assert compile_pattern("ERROR").kind == "terms"
    assert compile_pattern('""').kind == "terms"
    assert compile_pattern("[a, b]").kind == "space-delimited"
    assert parse("\n \t") == MatchAll()


def test_pattern_error_facts():
    text = "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder) }"
    with pytest.raises(PatternError) as caught:
        compile_pattern(text)
    error = caught.value
    assert isinstance(error, CfgmonError)
    assert str(error) == "expected ')' at column 86"
    assert (error.message, error.line, error.column, error.position) == ("expected ')'", 1, 86, 85)
    assert error.snippet == text + "\n" + " " * 85 + "^"
    assert error.pattern == text


def test_pattern_error_on_a_later_line():
    text = "{\n  $.a = 1 &&\n  $.b = }"
    with pytest.raises(PatternError) as caught:
        compile_pattern(text)
    error = caught.value
    assert (error.line, error.column) == (3, 9)
    assert str(error) == "expected a value after '=', found '}' at line 3, column 9"
    assert error.snippet == "  $.b = }\n        ^"


def test_length_limit():
    fits = "{ $.a = " + "x" * (MAX_PATTERN_LENGTH - 10) + " }"
    assert len(fits) == MAX_PATTERN_LENGTH
    compile_pattern(fits)
    with pytest.raises(PatternError) as caught:
        compile_pattern(fits + " ")
    assert caught.value.column == MAX_PATTERN_LENGTH + 1
    assert "1025 characters" in caught.value.message


def test_deep_nesting_is_an_error_not_a_crash():
    compile_pattern("{ " + "(" * 100 + "$.a = 1" + ")" * 100 + " }")
    with pytest.raises(PatternError, match="nest deeper"):
        compile_pattern("{ " + "(" * 101 + "$.a = 1" + ")" * 101 + " }")
    with pytest.raises(PatternError):
        compile_pattern("{" + "(" * 1000)


def test_render_gives_canonical_text():
    assert (
        render(parse('{($.b=1)||($.c="x y"&&$.d IS NULL)}'))
        == '{ $.b = 1 || $.c = "x y" && $.d IS NULL }'
    )
    assert compile_pattern("{$.a=1}").render() == "{ $.a = 1 }"
