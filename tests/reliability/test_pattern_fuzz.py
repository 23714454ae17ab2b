"""Fuzzing the filter pattern parser: whatever the text, it compiles or raises PatternError.

tests/patterns fuzzes with random text and token soup; here hypothesis mutates the
real patterns of the case files (AWS's examples, CIS variants, known errors), nests
deeply, and mixes in control characters, lone surrogates and text near the length
limit. Compiled patterns must then answer any event with a bool.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cfgmon.patterns import LogEvent, PatternError, clear_caches, compile_pattern
from cfgmon.patterns.limits import MAX_PATTERN_LENGTH

CASES = Path(__file__).parents[1] / "patterns" / "cases"
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def case_patterns() -> list[str]:
    """The pattern column of every case file (`pattern ; event ; expected`)."""
    found = []
    for path in sorted(CASES.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                found.append(line.split(" ; ", 1)[0])
    return sorted(set(found))


SEEDS = case_patterns()
PIECES = ["{", "}", "(", ")", "[", "]", "$.", "$", ".", "&&", "||", "!", "=", "!=", "<", "<=",
          ">", ">=", '"', "'", "\\", "*", "%", "?", ",", "...", "-", "+", "1e9", "0", "IS",
          "NOT", "EXISTS", "NULL", "TRUE", "eventName", " ", "\t", "\n", "\x00", "\x7f",
          "\u00e9", "\u200b", "\ud800", "\U0001f600"]
EVENTS = st.one_of(
    st.sampled_from(['{"eventName": "PutDeliveryChannel", "eventSource": "config.amazonaws.com"}',
                     '{"a": [1, {"b": null}], "c": "x y"}', "[1, 2]", '"text"', "", "{",
                     "ERROR 42 user=alice", "[" * 2000, '{"a":' * 600 + "1" + "}" * 600]),
    st.text(max_size=40),
)


@st.composite
def mutated(draw) -> str:
    """A case-file pattern after a few random edits."""
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        end = draw(st.integers(at, min(len(text), at + 8)))
        edit = draw(st.sampled_from(["delete", "insert", "duplicate", "replace"]))
        piece = draw(st.sampled_from(PIECES))
        if edit == "delete":
            text = text[:at] + text[end:]
        elif edit == "insert":
            text = text[:at] + piece + text[at:]
        elif edit == "duplicate":
            text = text[:end] + text[at:end] + text[end:]
        else:
            text = text[:at] + piece + text[end:]
    return text


@st.composite
def nested(draw) -> str:
    """Deep nesting of parentheses, negations and brackets, up to the length limit."""
    depth = draw(st.integers(1, MAX_PATTERN_LENGTH // 2))
    opener, closer = draw(st.sampled_from([("(", ")"), ("!(", ")"), ("[", "]"), ("{", "}")]))
    core = draw(st.sampled_from(["$.a = 1", "$.a[0] = *", "x", "", '$.b IS NULL']))
    closed = draw(st.integers(0, depth))
    text = "{ " + opener * depth + core + closer * closed + " }"
    return text[: draw(st.sampled_from([MAX_PATTERN_LENGTH, len(text)]))]


odd_text = st.text(
    alphabet=st.characters(codec=None, categories=("Cc", "Cs", "Zs", "Po", "Ps", "Pe", "Sm", "Lo")),
    max_size=30,
)


def compile_or_reject(text: str):
    try:
        return compile_pattern(text)
    except PatternError as error:  # anything else fails the test
        assert str(error) and error.column >= 1
        return None


@FUZZ
@given(mutated(), EVENTS)
def test_mutated_case_patterns_compile_or_raise_pattern_error(text, event):
    pattern = compile_or_reject(text)
    if pattern is not None:
        assert isinstance(pattern.matches(LogEvent(event)), bool)


@FUZZ
@given(nested(), EVENTS)
def test_deep_nesting_compiles_or_raises_pattern_error(text, event):
    pattern = compile_or_reject(text)
    if pattern is not None:
        assert isinstance(pattern.matches(LogEvent(event)), bool)


@FUZZ
@given(st.one_of(odd_text, odd_text.map(lambda t: "{ $.a = " + t + " }"),
                 odd_text.map(lambda t: "%" + t + "%"), odd_text.map(lambda t: "[" + t + "]")))
def test_control_characters_and_surrogates_compile_or_raise_pattern_error(text):
    compile_or_reject(text)


@FUZZ
@given(st.integers(MAX_PATTERN_LENGTH - 3, MAX_PATTERN_LENGTH + 3), st.sampled_from([s for s in SEEDS if s]))
def test_the_length_limit_is_a_pattern_error(length, seed):
    text = (seed * (length // len(seed) + 1))[:length]
    pattern = compile_or_reject(text)
    if length > MAX_PATTERN_LENGTH:
        assert pattern is None


def test_the_seeds_are_the_case_files():
    assert len(SEEDS) > 100
    assert any(s.startswith("{") for s in SEEDS) and any(s.startswith("%") for s in SEEDS)
    json.dumps(SEEDS)  # plain text, nothing a hypothesis run could not replay


@pytest.mark.parametrize("text", ["%[[a]%", "%a[[b]%", "%[a||b]%"])
def test_regex_sets_compile_without_python_warnings(text):
    clear_caches()  # a compiled regex would not warn again
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compile_or_reject(text)
