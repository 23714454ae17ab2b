"""`cfgmon pattern test`."""

from __future__ import annotations

import json

REFERENCE = (
    "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||"
    "($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||"
    "($.eventName=PutConfigurationRecorder)) }"
)
PUT = '{"eventSource": "config.amazonaws.com", "eventName": "PutDeliveryChannel"}'
START = '{"eventSource": "config.amazonaws.com", "eventName": "StartConfigurationRecorder"}'


def test_text_output_one_line_per_event(cli):
    result = cli(
        "pattern", "test", REFERENCE, "--event", PUT, "--event", START, "--event", "plain text"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"MATCH     {PUT}",
        f"no match  {START}",
        "no match  plain text",
    ]
    assert result.stderr == ""


def test_text_output_shortens_long_events_to_one_line(cli):
    event = json.dumps({"eventName": "PutDeliveryChannel", "pad": "x" * 300}, indent=2)
    result = cli("pattern", "test", "{ $.eventName = Put* }", "-e", event)
    (line,) = result.stdout.splitlines()
    assert line.startswith('MATCH     { "eventName": "PutDeliveryChannel", "pad": "xxx')
    assert line.endswith("…") and len(line) == 10 + 100


def test_json_output(cli):
    result = cli(
        "pattern", "test", "ERROR -DEBUG", "-e", "ERROR x", "-e", "ERROR DEBUG", "--format", "json"
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "pattern": "ERROR -DEBUG",
        "valid": True,
        "error": None,
        "results": [
            {"event": "ERROR x", "matched": True},
            {"event": "ERROR DEBUG", "matched": False},
        ],
    }


def test_invalid_pattern_text_mode(cli):
    result = cli("pattern", "test", "{ ($.eventName = X }", "--event", PUT)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == "cfgmon: error: expected ')' at column 20\n"


def test_invalid_pattern_json_mode(cli):
    result = cli("pattern", "test", "{ $.a IS NOT NULL }", "--event", PUT, "--format", "json")
    assert result.exit_code == 2
    assert json.loads(result.stdout) == {
        "pattern": "{ $.a IS NOT NULL }",
        "valid": False,
        "error": "IS NOT is not supported by AWS (a value that is present and not null: = *) at column 7",
        "results": [],
    }


def test_no_events(cli):
    result = cli("pattern", "test", "{ $.a = 1 }")
    assert result.exit_code == 0
    assert "valid json pattern" in result.stdout
    result = cli("pattern", "test", "{ $.a = 1 }", "-f", "json")
    assert json.loads(result.stdout)["results"] == []


def test_empty_pattern_matches_everything(cli):
    result = cli("pattern", "test", "", "-e", "anything", "-e", PUT)
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["MATCH", "MATCH"]


def test_unknown_format(cli):
    result = cli("pattern", "test", "x", "--format", "yaml")
    assert result.exit_code == 2
    assert "unknown format 'yaml'" in result.stderr


def test_help(cli):
    result = cli("pattern", "test", "--help")
    assert result.exit_code == 0
    assert "Example: cfgmon pattern test" in result.stdout
    assert cli("pattern", "--help").exit_code == 0
