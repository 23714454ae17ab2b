"""Tokenizer of metric-math expressions: text -> list[Token], each with its offset.

The token kinds are listed once, in `_TOKENS`, tried in order at each position; the
scanner is one compiled regex over them.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import NamedTuple

from cfgmon.alarms.errors import ExpressionError


class TokenType(Enum):
    NUMBER = "number"
    STRING = "string"
    NAME = "name"
    OP = "operator"
    LPAREN = "("
    RPAREN = ")"
    LBRACKET = "["
    RBRACKET = "]"
    COMMA = ","
    EOF = "end of expression"


class Token(NamedTuple):
    type: TokenType
    text: str  # as written
    start: int  # offset in the expression
    value: str = ""  # strings: the content between the quotes

    @property
    def end(self) -> int:
        return self.start + len(self.text)


_TOKENS: tuple[tuple[str, str, TokenType], ...] = (
    ("number", r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", TokenType.NUMBER),
    ("string", r"\"[^\"]*\"|'[^']*'", TokenType.STRING),
    ("name", r"[A-Za-z_][A-Za-z0-9_]*", TokenType.NAME),
    ("op", r"==|!=|<=|>=|&&|\|\||[-+*/^<>!]", TokenType.OP),
    ("lparen", r"\(", TokenType.LPAREN),
    ("rparen", r"\)", TokenType.RPAREN),
    ("lbracket", r"\[", TokenType.LBRACKET),
    ("rbracket", r"\]", TokenType.RBRACKET),
    ("comma", r",", TokenType.COMMA),
)
_SCANNER = re.compile(
    r"\s*(?:" + "|".join(f"(?P<{name}>{regex})" for name, regex, _ in _TOKENS) + r"|(?P<stray>\S))"
)
_TYPES = {name: token_type for name, _, token_type in _TOKENS}
_STRAY = {
    '"': "unterminated string",
    "'": "unterminated string",
    "&": "expected && (a single & is not an operator)",
    "|": "expected || (a single | is not an operator)",
    "=": "expected == (a single = is not an operator)",
}


def tokenize(text: str) -> list[Token]:
    """The tokens of an expression, ending with an EOF token."""
    tokens: list[Token] = []
    for m in _SCANNER.finditer(text):
        kind = m.lastgroup
        raw = m.group(kind)
        at = m.start(kind)
        if kind == "stray":
            raise ExpressionError(_STRAY.get(raw, f"unexpected character {raw!r}"), text, at)
        if kind == "number" and m.end() < len(text) and (text[m.end()].isalpha() or text[m.end()] == "_"):
            raise ExpressionError("a metric id starts with a letter", text, at)
        value = raw[1:-1] if kind == "string" else ""
        tokens.append(Token(_TYPES[kind], raw, at, value))
    tokens.append(Token(TokenType.EOF, "", len(text)))
    return tokens
