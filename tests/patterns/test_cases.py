"""The case files: every pattern against its event, every invalid pattern's error."""

from __future__ import annotations

import pytest

from cfgmon.errors import CfgmonError
from cfgmon.patterns import LogEvent, PatternError, compile_pattern

from .casefiles import load_cases, load_error_cases

MATCH_CASES = load_cases()
ERROR_CASES = load_error_cases()


@pytest.mark.parametrize("case", MATCH_CASES, ids=[case.where for case in MATCH_CASES])
def test_match_case(case):
    assert compile_pattern(case.pattern).matches(LogEvent(case.event)) is case.expected


@pytest.mark.parametrize("case", ERROR_CASES, ids=[case.where for case in ERROR_CASES])
def test_error_case(case):
    with pytest.raises(PatternError) as caught:
        compile_pattern(case.pattern)
    error = caught.value
    assert isinstance(error, CfgmonError)
    assert case.message in error.message
    assert error.column == case.column, f"{error} (expected column {case.column})"
    assert str(error).endswith(f" at column {case.column}")


def test_the_case_files_are_substantial():
    # Guards the loader: a broken separator would silently drop cases.
    files = {case.where.split(":")[0] for case in MATCH_CASES}
    assert files == {"aws_docs.txt", "aws_recorded.txt", "json.txt", "terms.txt", "space_delimited.txt"}
    assert len(MATCH_CASES) > 400 and len(ERROR_CASES) > 100
