"""A batch of events answers exactly as the events one at a time (EventBatch)."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import given
from hypothesis import strategies as st

from cfgmon.patterns import PatternError, compile_pattern
from cfgmon.patterns.batch import EventBatch, bits_to_flags
from tests.patterns.casefiles import load_cases
from tests.patterns.test_properties import SETTINGS, events, patterns


def _one_by_one(pattern, texts):
    return tuple(pattern.matches_all(texts))


def test_every_case_file_pattern_answers_the_same_over_all_its_events_at_once():
    by_pattern: dict[str, list[str]] = defaultdict(list)
    cases = load_cases()
    for case in cases:
        by_pattern[case.pattern].append(case.event)
    everything = sorted({case.event for case in cases})
    batch = EventBatch(everything)  # one batch, so leaves are shared between patterns
    compared = 0
    for text in by_pattern:
        try:
            pattern = compile_pattern(text)
        except PatternError:
            continue
        assert bits_to_flags(batch.matches(pattern), 0, len(batch)) == _one_by_one(
            pattern, everything), text
        compared += 1
    assert compared > 300  # the case files hold hundreds of valid patterns


@SETTINGS
@given(st.lists(patterns, min_size=1, max_size=4), st.lists(events, min_size=1, max_size=8))
def test_any_patterns_answer_the_same_in_a_shared_batch(texts, raw_events):
    batch = EventBatch(raw_events)
    for text in texts:
        try:
            pattern = compile_pattern(text)
        except PatternError:
            continue
        assert bits_to_flags(batch.matches(pattern), 0, len(batch)) == _one_by_one(
            pattern, raw_events)


def test_flags_of_a_slice_are_the_events_of_that_slice():
    batch = EventBatch(['{"a": 1}', '{"a": 2}', "not json", '{"a": 1}'])
    bits = batch.matches(compile_pattern("{ $.a = 1 }"))
    assert bits_to_flags(bits, 0, 4) == (True, False, False, True)
    assert bits_to_flags(bits, 2, 2) == (False, True)
