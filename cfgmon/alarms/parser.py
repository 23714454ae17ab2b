"""Parser of metric-math expressions: tokens -> Expression (nodes.py), by precedence climbing.

The operators and their binding strength are decisions.BINARY_PRECEDENCE; the atoms
are read through the `_ATOMS` table keyed by token type. A function name is checked
against the functions cfgmon evaluates and those AWS documents but cfgmon does not
(parsed, then reported as unsupported when judged); any other name is an error.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable

from cfgmon.alarms import decisions
from cfgmon.alarms.errors import ExpressionError
from cfgmon.alarms.functions import FUNCTIONS
from cfgmon.alarms.nodes import (
    ArrayOf,
    Binary,
    Call,
    Expression,
    Keyword,
    Name,
    Node,
    Number,
    Query,
    String,
    Unary,
)
from cfgmon.alarms.tokens import Token, TokenType, tokenize

_QUERY = re.compile(r"\s*SELECT\b", re.I)
_KNOWN_FUNCTIONS = sorted(FUNCTIONS.keys() | decisions.UNSUPPORTED_FUNCTIONS)


def parse_expression(text: str) -> Expression:
    """The tree of a metric-math expression; ExpressionError where AWS would reject it."""
    if not text.strip():
        raise ExpressionError("empty expression", text, 0)
    query = _QUERY.match(text)
    if query:
        return Expression(text, Query(text, query.end() - 6))
    return Expression(text, _Parser(text).parse())


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.at = 0
        self.inside_unsupported = 0  # their arguments may be any words: SORT(x, AVG, DESC)

    # -- reading tokens ----------------------------------------------------------------

    @property
    def token(self) -> Token:
        return self.tokens[self.at]

    def advance(self) -> Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def error(self, message: str, token: Token | None = None) -> ExpressionError:
        return ExpressionError(message, self.text, (token or self.token).start)

    def expect(self, token_type: TokenType, what: str) -> Token:
        if self.token.type is not token_type:
            raise self.error(f"expected {what}, found {self._describe(self.token)}")
        return self.advance()

    @staticmethod
    def _describe(token: Token) -> str:
        return "end of expression" if token.type is TokenType.EOF else repr(token.text)

    def binary_operator(self) -> str | None:
        token = self.token
        if token.type is TokenType.OP and token.text in decisions.BINARY_PRECEDENCE:
            return token.text
        if token.type is TokenType.NAME and token.text.upper() in ("AND", "OR"):
            return token.text.upper()
        return None

    # -- grammar --------------------------------------------------------------------

    def parse(self) -> Node:
        node = self.expression(0)
        if self.token.type is not TokenType.EOF:
            if self.token.type is TokenType.RPAREN:
                raise self.error("unbalanced ')'")
            raise self.error(f"expected an operator, found {self._describe(self.token)}")
        return node

    def expression(self, min_precedence: int) -> Node:
        left = self.prefix()
        while (op := self.binary_operator()) is not None:
            precedence = decisions.BINARY_PRECEDENCE[op]
            if precedence < min_precedence:
                break
            token = self.advance()
            next_min = precedence if op in decisions.RIGHT_ASSOCIATIVE else precedence + 1
            right = self.expression(next_min)
            left = Binary(decisions.CANONICAL_OPERATOR.get(op, op), left, right, token.start)
        return left

    def prefix(self) -> Node:
        token = self.token
        if token.type is TokenType.OP and token.text in ("-", "+"):
            self.advance()
            return Unary(token.text, self.expression(decisions.UNARY_MINUS_PRECEDENCE), token.start)
        if (token.type is TokenType.OP and token.text == "!") or (
            token.type is TokenType.NAME and token.text.upper() == "NOT"
        ):
            self.advance()
            return Unary("NOT", self.expression(decisions.NOT_PRECEDENCE), token.start)
        atom = _ATOMS.get(token.type)
        if atom is None:
            raise self.error(f"expected a number, a metric id or a function, found {self._describe(token)}")
        return atom(self)

    def number(self) -> Node:
        token = self.advance()
        return Number(float(token.text), token.start)

    def string(self) -> Node:
        token = self.advance()
        return String(token.value, token.start)

    def name(self) -> Node:
        token = self.advance()
        if self.token.type is TokenType.LPAREN:
            return self.call(token)
        upper = token.text.upper()
        if upper in decisions.KEYWORD_ARGUMENTS or (
            self.inside_unsupported and not token.text[0].islower()
        ):
            return Keyword(upper, token.start)
        if upper in decisions.WORD_OPERATORS:
            raise self.error(f"expected an operand before {token.text}", token)
        if not token.text[0].islower():
            raise self.error(f"a metric id starts with a lower-case letter: {token.text}", token)
        return Name(token.text, token.start)

    def call(self, name: Token) -> Node:
        function = name.text.upper()
        if function not in FUNCTIONS and function not in decisions.UNSUPPORTED_FUNCTIONS:
            close = difflib.get_close_matches(function, _KNOWN_FUNCTIONS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise self.error(f"unknown function {name.text}{hint}", name)
        self.advance()  # (
        known = FUNCTIONS.get(function)
        self.inside_unsupported += known is None
        args = self.arguments(TokenType.RPAREN, "')'")
        self.inside_unsupported -= known is None
        if known is not None and not known.min_args <= len(args) <= known.max_args:
            wanted = (
                str(known.min_args)
                if known.min_args == known.max_args
                else f"{known.min_args} to {known.max_args}"
            )
            raise self.error(f"{function} takes {wanted} argument(s), not {len(args)}", name)
        return Call(function, tuple(args), name.start)

    def array(self) -> Node:
        token = self.advance()
        items = self.arguments(TokenType.RBRACKET, "']'")
        if not items:
            raise self.error("an empty array", token)
        return ArrayOf(tuple(items), token.start)

    def arguments(self, closing: TokenType, what: str) -> list[Node]:
        args: list[Node] = []
        if self.token.type is closing:
            self.advance()
            return args
        while True:
            args.append(self.expression(0))
            if self.token.type is TokenType.COMMA:
                self.advance()
                continue
            self.expect(closing, f"',' or {what}")
            return args

    def parenthesised(self) -> Node:
        self.advance()
        node = self.expression(0)
        self.expect(TokenType.RPAREN, "')'")
        return node


_ATOMS: dict[TokenType, Callable[[_Parser], Node]] = {
    TokenType.NUMBER: _Parser.number,
    TokenType.STRING: _Parser.string,
    TokenType.NAME: _Parser.name,
    TokenType.LPAREN: _Parser.parenthesised,
    TokenType.LBRACKET: _Parser.array,
}
