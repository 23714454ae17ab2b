"""AWS's restricted %regex% dialect: check it, then hand it to Python's `re`.

AWS allows alphanumerics, a few symbols and the operators ^ $ ? [ ] { } | \\ * + .,
the classes \\d \\D \\s \\S \\w \\W and \\xhh; no parentheses, no multi-byte characters.
Within that set the syntax means the same in Python's `re` (ASCII mode, as AWS
defines \\w as [a-zA-Z_0-9]), so checking is the whole translation.
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache

from cfgmon.patterns import limits
from cfgmon.patterns.decisions import REGEX_EXTRA_CHARS

_ALLOWED = (
    limits.REGEX_ALPHANUMERICS | limits.REGEX_SYMBOLS | limits.REGEX_OPERATORS | REGEX_EXTRA_CHARS
)
_HEX = frozenset("0123456789abcdefABCDEF")


class RegexProblem(ValueError):
    """What is wrong with a regex, and the offset inside it (the parser adds where it sits)."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def check(source: str) -> None:
    """Raise RegexProblem when AWS would reject the regex `source` (without the %s)."""
    if not source:
        raise RegexProblem("empty regular expression", 0)
    i, n = 0, len(source)
    while i < n:
        char = source[i]
        _check_char(char, i)
        if char == "\\":
            i = _check_escape(source, i)
        i += 1
    try:
        compile_regex(source)
    except re.error as exc:
        raise RegexProblem(f"invalid regular expression: {exc.msg}", exc.pos or 0) from None


def _check_char(char: str, offset: int) -> None:
    if char in _ALLOWED:
        return
    if ord(char) > 127:
        raise RegexProblem(
            f"multi-byte character {char!r} is not supported in a regular expression", offset
        )
    if char in "()":
        raise RegexProblem(
            f"{char!r} is not supported in a regular expression (no subpatterns; \\x28 and \\x29 match parentheses)",
            offset,
        )
    raise RegexProblem(f"{char!r} is not supported in a regular expression", offset)


def _check_escape(source: str, i: int) -> int:
    """Check the escape at source[i] == '\\'; return the index of its last character."""
    if i + 1 >= len(source):
        raise RegexProblem("regular expression ends with a lone backslash", i)
    nxt = source[i + 1]
    if nxt in limits.REGEX_CLASS_ESCAPES:
        return i + 1
    if nxt == limits.REGEX_HEX_ESCAPE:
        digits = source[i + 2 : i + 4]
        if len(digits) != 2 or not set(digits) <= _HEX:
            raise RegexProblem("\\x needs two hexadecimal digits", i)
        return i + 3
    if nxt in limits.REGEX_ALPHANUMERICS:
        raise RegexProblem(f"unsupported escape \\{nxt} in a regular expression", i)
    _check_char(nxt, i + 1)
    return i + 1  # an escaped symbol or operator stands for itself


@lru_cache(maxsize=1024)
def compile_regex(source: str) -> re.Pattern[str]:
    # Python warns that it may one day read '[[', '--' and '||' inside a set as set
    # operations; today it reads them as plain characters, as AWS does, and a user's
    # pattern must not print warnings.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return re.compile(source, re.ASCII)
