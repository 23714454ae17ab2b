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


# -- what a pattern of terms reads ---------------------------------------------------

REGION_NAMES = ("us-east-1", "eu-west-1", "eu-west-2", "ap-southeast-2", "us-gov-west-1")
ACCOUNT = "123456789012"
term_texts = st.text(alphabet="abeistu-0123456789EROR", min_size=1, max_size=8).filter(
    lambda t: t.strip("-") == t and " " not in t)


def _term_pattern(term: str):
    return compile_pattern(f'"{term}"')


@SETTINGS
@given(term_texts, st.sampled_from(REGION_NAMES), st.sampled_from(REGION_NAMES),
       st.text(alphabet="abeistu-0123456789 ", max_size=12),
       st.text(alphabet="abeistu-0123456789 ", max_size=12))
def test_a_term_that_reads_no_region_answers_the_same_in_every_region(
        term, region, other, before, after):
    text = f"{before}{region}{after}"
    pattern = _term_pattern(term)
    [reads] = EventBatch([text]).reads_each(pattern, (REGION_NAMES,))
    if not reads:
        assert (term in text) == (term in text.replace(region, other)), (term, text, other)


@SETTINGS
@given(term_texts, st.text(alphabet="0123456789", min_size=12, max_size=12),
       st.text(alphabet="abe-0123456789 :", max_size=12),
       st.text(alphabet="abe-0123456789 :", max_size=12))
def test_a_term_that_reads_no_account_answers_the_same_for_every_account(
        term, account, before, after):
    text = f"{before}{ACCOUNT}{after}"
    pattern = _term_pattern(term)
    [reads] = EventBatch([text]).reads_each(pattern, ((ACCOUNT,),))
    if not reads:
        assert (term in text) == (term in text.replace(ACCOUNT, account)), (term, text, account)


def test_terms_read_what_they_can_overlap():
    batch = EventBatch([f'{{"recipientAccountId":"{ACCOUNT}","awsRegion":"eu-west-1"}}'])
    account, regions = (ACCOUNT,), REGION_NAMES

    def reads(pattern: str) -> tuple[bool, ...]:
        return batch.reads_each(compile_pattern(pattern), (account, regions))

    assert reads("ERROR") == (False, False)          # an application log's term
    assert reads("?ERROR ?Exception") == (False, False)
    assert reads('"eu-west"') == (False, True)       # inside a region's name
    assert reads('"9:"') == (True, False)             # a number's end
    assert reads("west -ERROR") == (False, True)
    assert reads("%ERR.R%") == (True, True)           # a regular expression reads everything
    assert reads("[ip, user, ...]") == (True, True)   # so does a space-delimited pattern
