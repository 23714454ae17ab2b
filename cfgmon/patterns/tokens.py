"""Tokenizers: pattern text -> list[Token], with the offset of every token.

JSON and space-delimited patterns share one lexical grammar (`tokenize`): brackets,
operators, selectors, quoted strings, %regexes% and bare words. Term patterns are
plain white-space separated terms (`tokenize_terms`). The token kinds are listed
once, in `_EXPRESSION_TOKENS`; the scanner is one compiled regex over them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

from cfgmon.patterns.decisions import BARE_VALUE_CHARS, NAME_CHARS, unescape_quoted
from cfgmon.patterns.errors import PatternError


class TokenType(Enum):
    LBRACE = "{"
    RBRACE = "}"
    LPAREN = "("
    RPAREN = ")"
    LBRACKET = "["
    RBRACKET = "]"
    COMMA = ","
    AND = "&&"
    OR = "||"
    OP = "operator"
    SELECTOR = "selector"
    STRING = "quoted string"
    REGEX = "regular expression"
    WORD = "word"
    EOF = "end of pattern"

    # Members are singletons: identity hashing is exact, and far cheaper than
    # Enum's hash by name on the parser's dispatch-table lookups.
    __hash__ = object.__hash__


class Token(NamedTuple):
    """One token; a named tuple because a pattern has dozens and they are made often."""

    type: TokenType
    text: str  # as written
    start: int  # offset in the pattern
    value: str = ""  # strings: unescaped content; regexes: the source between the %s

    @property
    def end(self) -> int:
        return self.start + len(self.text)


# One selector step, by kind: .name  .*  [n]  [*]  ['key']  .['key']. The parser
# reads the steps of a selector token with this same regex (one grammar, one place).
SELECTOR_STEP = (
    rf"\.(?P<name>[{NAME_CHARS}]+)|(?P<dot_star>\.\*)|\[(?P<index>\d+)\]|(?P<bracket_star>\[\*\])"
    r"|\.?\['(?P<key>[^']*)'\]"
)
QUOTED = r'"(?:[^"\\]|\\.)*"'

# Token kinds, tried in order at each position. Grammar for one kind = one entry.
_EXPRESSION_TOKENS: tuple[tuple[str, str, TokenType], ...] = (
    ("selector", rf"\$(?:{SELECTOR_STEP})*", TokenType.SELECTOR),
    ("string", QUOTED, TokenType.STRING),
    ("regex", r"%[^%]*%", TokenType.REGEX),
    ("and", r"&&", TokenType.AND),
    ("or", r"\|\|", TokenType.OR),
    ("op", r"<=|>=|!=|=|<|>", TokenType.OP),
    ("lparen", r"\(", TokenType.LPAREN),
    ("rparen", r"\)", TokenType.RPAREN),
    ("lbrace", r"\{", TokenType.LBRACE),
    ("rbrace", r"\}", TokenType.RBRACE),
    ("lbracket", r"\[", TokenType.LBRACKET),
    ("rbracket", r"\]", TokenType.RBRACKET),
    ("comma", r",", TokenType.COMMA),
    ("word", rf"[{BARE_VALUE_CHARS}]+", TokenType.WORD),
)
# White space, then one token, or a character that starts none (an error); the
# scanner reports the token by its group number.
_SCANNER = re.compile(
    r"\s*(?:"
    + "|".join(f"(?P<{name}>{regex})" for name, regex, _ in _EXPRESSION_TOKENS)
    + r"|(?P<stray>\S))",
    re.DOTALL,
)
_TYPES: dict[int, TokenType | None] = {
    _SCANNER.groupindex[name]: token_type for name, _, token_type in _EXPRESSION_TOKENS
}
_TYPES[_SCANNER.groupindex["stray"]] = None

# What a character that starts no token most likely meant.
_STRAY = {
    '"': "unterminated quoted string",
    "%": "unterminated regular expression (no closing %)",
    "&": "expected && (a single & is not an operator)",
    "|": "expected || (a single | is not an operator)",
    "!": "expected != (there is no unary NOT)",
}


def tokenize(text: str, start: int = 0, end: int | None = None) -> list[Token]:
    """The tokens of a JSON or space-delimited pattern, ending with an EOF token."""
    end = len(text) if end is None else end
    tokens: list[Token] = []
    append = tokens.append
    types = _TYPES
    new = tuple.__new__  # Token(...) without the Python-level __new__ of a NamedTuple
    string, regex, selector = TokenType.STRING, TokenType.REGEX, TokenType.SELECTOR
    for m in _SCANNER.finditer(text, start, end):
        group = m.lastindex
        token_type = types[group]
        raw = m.group(group)
        at = m.start(group)
        if token_type is None:
            raise PatternError(_STRAY.get(raw, f"unexpected character {raw!r}"), text, at)
        if token_type is string:
            append(new(Token, (token_type, raw, at, unescape_quoted(raw[1:-1]))))
        elif token_type is regex:
            append(new(Token, (token_type, raw, at, raw[1:-1])))
        else:
            if token_type is selector:
                _check_selector_end(text, m.end(), end, raw, at)
            append(new(Token, (token_type, raw, at, "")))
    append(Token(TokenType.EOF, "", end))
    return tokens


def _check_selector_end(text: str, pos: int, end: int, raw: str, start: int) -> None:
    """A selector ends where its grammar does; a '.', '[' or '$' right after is a broken step."""
    if raw == "$":
        raise PatternError("expected .name, .*, [n], [*] or ['key'] after '$'", text, start + 1)
    if pos < end and text[pos] in ".[$":
        if text[pos] == "[":
            message = "expected [n], [*] or ['key'] in a selector"
        elif text[pos] == ".":
            message = "expected a property name, * or ['key'] after '.'"
        else:
            message = "unexpected '$' inside a selector"
        raise PatternError(message, text, pos)


# -- term patterns -------------------------------------------------------------------

_TERM = re.compile(
    rf'\s+|(?P<prefix>[-?]?)(?:(?P<string>{QUOTED})|(?P<regex>%[^%]*%)|(?P<bare>[^\s"]+))',
    re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class TermToken:
    prefix: str  # "", "-" or "?"
    kind: str  # "string", "regex" or "bare"
    value: str  # unescaped phrase, regex source, or the bare text
    start: int  # offset of the term (its prefix included)
    value_start: int  # offset of the value (after the prefix, before any quote or %)


_TERM_VALUES = {
    "string": lambda raw: unescape_quoted(raw[1:-1]),
    "regex": lambda raw: raw[1:-1],
    "bare": lambda raw: raw,
}


def tokenize_terms(text: str, start: int = 0, end: int | None = None) -> list[TermToken]:
    """The terms of a term pattern, in order."""
    end = len(text) if end is None else end
    terms: list[TermToken] = []
    pos = start
    while pos < end:
        m = _TERM.match(text, pos, end)
        kind = m.lastgroup if m is not None else None
        if kind is None and m is not None:  # white space
            pos = m.end()
            continue
        if kind is None:
            raise PatternError(_term_problem(text, pos, end), text, pos)
        raw = m.group(kind)
        prefix = m.group("prefix")
        if kind == "bare" and not prefix and raw in ("-", "?"):
            raise PatternError(_term_problem(text, pos, end), text, pos)
        if kind == "bare" and raw.startswith("%"):
            raise PatternError(_STRAY["%"], text, m.start(kind))
        after = m.end()
        if after < end and not text[after].isspace():
            # "quoted"tail or abc"def: a quoted phrase stands alone as a term
            raise PatternError(
                f"unexpected {text[after]!r}: separate terms with a space", text, after
            )
        terms.append(TermToken(prefix, kind, _TERM_VALUES[kind](raw), pos, m.start(kind)))
        pos = after
    return terms


def _term_problem(text: str, pos: int, end: int) -> str:
    char = text[pos]
    if char in "-?":
        nxt = text[pos + 1] if pos + 1 < end else ""
        if nxt == '"':
            return "unterminated quoted string"
        return f"expected a term after {char!r}"
    if char == '"':
        return "unterminated quoted string"
    return f"unexpected character {char!r}"
