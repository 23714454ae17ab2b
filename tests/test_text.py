"""Counts read as English: one region, two regions."""

from __future__ import annotations

import pytest

from cfgmon.text import counted


@pytest.mark.parametrize("count, noun, plural, expected", [
    (1, "region", None, "1 region"),
    (2, "region", None, "2 regions"),
    (0, "scope", None, "0 scopes"),
    (1, "API call", None, "1 API call"),
    (12, "API call", None, "12 API calls"),
    (1, "match", "matches", "1 match"),
    (3, "match", "matches", "3 matches"),
])
def test_counted(count, noun, plural, expected):
    assert counted(count, noun, plural) == expected
