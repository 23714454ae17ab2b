"""The CIS 4.9 reference pattern and its variants against realistic CloudTrail records."""

from __future__ import annotations

import pytest

from cfgmon.patterns import LogEvent, PatternError, compile_pattern
from cfgmon.patterns.tokens import TokenType, tokenize

from .casefiles import load_cis_cases
from .cloudtrail import neighbour_records, watched_records

WATCHED = [LogEvent(text) for text in watched_records()]
NEIGHBOURS = [LogEvent(text) for text in neighbour_records()]
CASES = load_cis_cases()
REFERENCE = CASES[0][0]
_GLUED = {TokenType.WORD, TokenType.SELECTOR}


def verdict(pattern: str) -> str:
    compiled = compile_pattern(pattern)
    if not all(compiled.matches_all(WATCHED)):
        return "narrower"
    return "broader" if any(compiled.matches_all(NEIGHBOURS)) else "equivalent"


def respell(pattern: str, separator: str) -> str:
    """The same JSON or space-delimited pattern with `separator` between its tokens."""
    tokens = [token for token in tokenize(pattern) if token.type is not TokenType.EOF]
    out = [tokens[0].text]
    for before, token in zip(tokens, tokens[1:], strict=False):
        glue = separator or (" " if before.type in _GLUED and token.type in _GLUED else "")
        out.append(glue + token.text)
    return "".join(out)


def test_the_records_are_what_the_catalogue_needs():
    assert len(WATCHED) == 16
    assert verdict(REFERENCE) == "equivalent"
    assert REFERENCE == (
        "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||"
        "($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||"
        "($.eventName=PutConfigurationRecorder)) }"
    )


@pytest.mark.parametrize(
    ("pattern", "expected", "where"), CASES, ids=[where for *_, where in CASES]
)
def test_variant(pattern, expected, where):
    assert verdict(pattern) == expected


@pytest.mark.parametrize("separator", ["", "\n", "\n\t  ", "\r\n"])
@pytest.mark.parametrize(
    "pattern",
    [p for p, v, _ in CASES if v == "equivalent" and p.startswith("{")],
    ids=[w for p, v, w in CASES if v == "equivalent" and p.startswith("{")],
)
def test_equivalent_respelt(pattern, separator):
    respelt = respell(pattern, separator)
    assert respelt != pattern
    assert verdict(respelt) == "equivalent"
    assert compile_pattern(respelt).ast == compile_pattern(pattern).ast


def test_trailing_white_space_is_ignored():
    assert verdict(REFERENCE + "  \n") == "equivalent"


def test_white_space_before_the_reference_makes_it_invalid():
    # AWS refuses ' {$.ThisFlag IS TRUE} ' (leading-blank in docs/filter-patterns.md)
    with pytest.raises(PatternError, match="no blank before it"):
        compile_pattern("\n\t  " + REFERENCE)


def test_reference_over_several_lines():
    pattern = """{
        ($.eventSource = config.amazonaws.com) &&
        (
            ($.eventName = StopConfigurationRecorder) ||
            ($.eventName = DeleteDeliveryChannel) ||
            ($.eventName = PutDeliveryChannel) ||
            ($.eventName = PutConfigurationRecorder)
        )
    }"""
    assert verdict(pattern) == "equivalent"
