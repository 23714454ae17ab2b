"""`cfgmon pattern test --control`: does a pattern cover the control's catalogue?"""

from __future__ import annotations

import json

from cfgmon.simulation import CIS_CONFIG_PATTERN

from .conftest import LATEST

CONTROL = "config_configuration_changes_monitoring"


def test_reference_pattern_covers_the_control(cli):
    result = cli("pattern", "test", CIS_CONFIG_PATTERN, "--control", CONTROL)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 17 and all(line.startswith("MATCH") for line in lines[:16])
    assert lines[-1] == f"covers {CONTROL}@{LATEST}: matches all 16 catalogue records"


def test_narrower_pattern_does_not_cover_and_exits_1(cli):
    pattern = '{ $.eventSource = config.amazonaws.com && $.eventName = "*DeliveryChannel" }'
    result = cli("pattern", "test", pattern, "--control", CONTROL)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1] == (
        f"does not cover {CONTROL}@{LATEST}: matches 8 of 16 catalogue records; misses "
        "StopConfigurationRecorder, PutConfigurationRecorder"
    )


def test_json_reports_given_events_then_the_catalogue(cli):
    event = '{"eventSource": "config.amazonaws.com", "eventName": "PutDeliveryChannel"}'
    pattern = '{ $.eventName = "*DeliveryChannel" || $.eventName = "*ConfigurationRecorder" }'
    result = cli("pattern", "test", pattern, "--event", event, "--control", f"{CONTROL}@1",
                 "--format", "json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["valid"] is True and document["error"] is None
    assert document["results"][0] == {"event": event, "matched": True}
    assert len(document["results"]) == 17
    assert document["control"] == {
        "id": CONTROL, "version": "1", "covers": True, "events_matched": 16,
        "events_total": 16, "missed": None, "broader_than_reference": True,
    }


def test_invalid_pattern_with_control_is_exit_2(cli):
    result = cli("pattern", "test", "{ $.eventName = ", "--control", CONTROL)
    assert result.exit_code == 2
    assert result.stderr.startswith("cfgmon: error: ") and result.stderr.count("\n") == 1


def test_unknown_control_is_exit_2(cli):
    result = cli("pattern", "test", "{ $.a = 1 }", "--control", "nope")
    assert result.exit_code == 2
    assert "unknown control 'nope'" in result.stderr
