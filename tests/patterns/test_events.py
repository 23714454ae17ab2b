"""LogEvent's space-delimited fields."""

from __future__ import annotations

from cfgmon.patterns.events import LogEvent, split_fields


def test_fields_split_on_white_space_with_groups():
    text = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /a.gif HTTP/1.0" 200 2326'
    assert [value for value, _ in split_fields(text)] == [
        "127.0.0.1", "-", "frank", "10/Oct/2000:13:25:15 -0700", "GET /a.gif HTTP/1.0", "200", "2326",
    ]  # fmt: skip
    assert [start for _, start in split_fields(text)][:4] == [0, 10, 12, 18]


def test_fields_edge_cases():
    assert split_fields("") == []
    assert split_fields("  a\t\tb\n c  ") == [("a", 2), ("b", 5), ("c", 8)]
    assert split_fields('"" []') == [("", 0), ("", 3)]
    assert split_fields('a "open to the end') == [("a", 0), ("open to the end", 2)]
    assert split_fields("[x y]z") == [("x y", 0), ("z", 5)]


def test_fields_are_computed_once():
    event = LogEvent("a b")
    assert event.fields is event.fields
