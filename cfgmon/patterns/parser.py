"""Parser: pattern text -> AST (nodes.py), or PatternError with the position.

The kind of pattern is chosen by its first character (a table), and each kind's
grammar is a small recursive-descent parser whose choices are dispatch tables keyed
by token type or keyword, as in sqlglot:

    json     := "{" or "}"
    or       := and ( "||" and )*                    ( ) > && > ||
    and      := primary ( "&&" primary )*
    primary  := "(" or ")" | selector condition
    condition:= op value | "IS" ("NULL" | "TRUE" | "FALSE") | "NOT" "EXISTS"
    fields   := "[" [ field ( "," field )* [ "," ] ] "]"
    field    := "..." | name | or                    (primary: "(" or ")" | name op value)
    terms    := ( ["-" | "?"] ( bare | "quoted" | %regex% ) )+

AWS's limits (limits.py) and the rules of decisions.py are enforced here,
at the token that breaks them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from cfgmon.patterns import decisions, limits, regexes
from cfgmon.patterns.errors import PatternError
from cfgmon.patterns.nodes import (
    And,
    AnyFields,
    Comparison,
    Expression,
    Field,
    FieldComparison,
    Index,
    IsFalse,
    IsNull,
    IsTrue,
    JsonPattern,
    Key,
    Literal,
    MatchAll,
    NotExists,
    Or,
    Pattern,
    Phrase,
    Regex,
    Selector,
    SpacePattern,
    Term,
    TermPattern,
    Value,
    Wildcard,
)
from cfgmon.patterns.tokens import SELECTOR_STEP, Token, TokenType, tokenize, tokenize_terms
from cfgmon.text import counted


def parse(text: str) -> Pattern:
    """The AST of a filter pattern; PatternError when AWS would reject it."""
    if len(text) > limits.MAX_PATTERN_LENGTH:
        raise PatternError(
            f"pattern is {counted(len(text), 'character')} long; AWS allows at most {limits.MAX_PATTERN_LENGTH}",
            text,
            limits.MAX_PATTERN_LENGTH,
        )
    start, end = _trimmed(text)
    if start == end:
        return MatchAll()
    kind = _KINDS.get(text[start], TermParser)
    if start and kind is not TermParser and not decisions.BLANK_BEFORE_BRACKET_ALLOWED:
        raise PatternError(
            f"a pattern that starts with {text[start]!r} may have no blank before it", text, 0
        )
    return kind(text, start, end).parse()


def _trimmed(text: str) -> tuple[int, int]:
    stripped = text.lstrip()
    start = len(text) - len(stripped)
    return start, start + len(stripped.rstrip())


class _Parser:
    """What every kind of pattern shares: the text, the regex budget, errors."""

    def __init__(self, text: str, start: int, end: int) -> None:
        self.text = text
        self.start = start
        self.end = end
        self.regex_count = 0
        self.regex_limit: int | None = limits.MAX_REGEXES

    def error(self, message: str, position: int) -> PatternError:
        return PatternError(message, self.text, position)

    def regex(self, source: str, position: int) -> Regex:
        """A checked %regex% whose source starts at `position` (just after the %)."""
        self.regex_count += 1
        if self.regex_limit is not None and self.regex_count > self.regex_limit:
            raise self.error(
                f"a pattern may hold at most {counted(limits.MAX_REGEXES, 'regular expression')}", position - 1
            )
        try:
            regexes.check(source)
        except regexes.RegexProblem as problem:
            raise self.error(problem.message, position + problem.offset) from None
        return Regex(source)


# -- JSON and space-delimited patterns -------------------------------------------------


class _ExpressionParser(_Parser):
    """Token handling and the && / || / ( ) grammar shared by JSON and field conditions."""

    def __init__(self, text: str, start: int, end: int) -> None:
        super().__init__(text, start, end)
        self.tokens = tokenize(text, start, end)
        self.index = 0
        self.last = len(self.tokens) - 1
        self.depth = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if self.index < self.last:  # the EOF token stays current
            self.index += 1
        return token

    def expect(self, token_type: TokenType, message: str) -> Token:
        if self.current.type is not token_type:
            raise self.error(message, self.current.start)
        return self.advance()

    def unexpected(self, expected: str) -> PatternError:
        token = self.current
        found = "the end of the pattern" if token.type is TokenType.EOF else repr(token.text)
        hint = _HINTS.get(token.text.upper()) if token.type is TokenType.WORD else None
        return self.error(
            f"expected {expected}, found {found}" + (f" ({hint})" if hint else ""), token.start
        )

    def parse_or(self, primary: Callable[[], Expression]) -> Expression:
        operands = [self.parse_and(primary)]
        while self.tokens[self.index].type is TokenType.OR:
            self.advance()
            operands.append(self.parse_and(primary))
        return _joined(Or, operands)

    def parse_and(self, primary: Callable[[], Expression]) -> Expression:
        operands = [primary()]
        while self.tokens[self.index].type is TokenType.AND:
            self.advance()
            operands.append(primary())
        return _joined(And, operands)

    def parse_group(self, primary: Callable[[], Expression]) -> Expression:
        opening = self.advance()
        self.depth += 1
        if self.depth > decisions.MAX_NESTING:
            raise self.error(
                f"parentheses nest deeper than {counted(decisions.MAX_NESTING, 'level')}", opening.start
            )
        inner = self.parse_or(primary)
        self.expect(TokenType.RPAREN, "expected ')'")
        self.depth -= 1
        return inner

    def parse_value(self, op: Token) -> Value:
        token = self.current
        if token.type is TokenType.OP and op.text == "=" and token.text == "=":
            raise self.error(decisions.DOUBLE_EQUALS_HINT, op.start)
        parse = _VALUE_PARSERS.get(token.type)
        if parse is None:
            raise self.unexpected(f"a value after {op.text!r}")
        self.advance()
        value = parse(self, token, op)
        if op.text in decisions.ORDER_OPERATORS and not _is_bare_number(value):
            raise self.error(
                f"{op.text} takes a bare number, not {token.text} (AWS: invalid character(s) in term)",
                token.start,
            )
        return value

    def _literal(self, token: Token, op: Token) -> Value:
        if token.type is TokenType.STRING:
            return _literal(token.value, True)
        return _literal(token.text)

    def _regex(self, token: Token, op: Token) -> Value:
        return self.regex(token.value, token.start + 1)


def _is_bare_number(value: Value) -> bool:
    return type(value) is Literal and not value.quoted and decisions.parse_number(value.text) is not None


def _joined(node: type[And] | type[Or], operands: list[Expression]) -> Expression:
    if len(operands) == 1:
        return operands[0]
    flat: list[Expression] = []
    for item in operands:  # (a || b) || c is a || b || c: one canonical tree
        flat.extend(item.operands if type(item) is node else (item,))  # type: ignore[union-attr]
    return node(tuple(flat))


_VALUE_PARSERS: dict[TokenType, Callable[[_ExpressionParser, Token, Token], Value]] = {
    TokenType.STRING: _ExpressionParser._literal,
    TokenType.WORD: _ExpressionParser._literal,
    TokenType.REGEX: _ExpressionParser._regex,
}

_HINTS = {
    "AND": "write && for AND",
    "OR": "write || for OR",
    "NOT": "there is no unary NOT; use != or NOT EXISTS",
}


class JsonParser(_ExpressionParser):
    def __init__(self, text: str, start: int, end: int) -> None:
        super().__init__(text, start, end)
        self.wildcard_selectors = 0

    def parse(self) -> JsonPattern:
        self.expect(TokenType.LBRACE, "expected '{'")
        if self.current.type is TokenType.RBRACE:
            raise self.unexpected("a condition")
        expression = self.parse_or(self.parse_primary)
        if self.current.type is not TokenType.RBRACE:
            raise self.unexpected("&&, || or '}'" if self.depth == 0 else "')'")
        self.advance()
        if self.current.type is not TokenType.EOF:
            raise self.error(
                f"unexpected {self.current.text!r} after the closing '}}'", self.current.start
            )
        return JsonPattern(expression)

    def parse_primary(self) -> Expression:
        parse = _JSON_PRIMARY.get(self.current.type)
        if parse is None:
            raise self.unexpected("a condition ($.field …) or '('")
        return parse(self)

    def parse_group_primary(self) -> Expression:
        return self.parse_group(self.parse_primary)

    def parse_condition(self) -> Expression:
        token = self.advance()
        selector = self.selector(token)
        after = self.current
        if after.type is TokenType.OP:
            self.advance()
            return Comparison(selector, after.text, self.parse_value(after))  # type: ignore[arg-type]
        if after.type is TokenType.WORD:
            casing = decisions.keyword_casing_error(after.text)
            if casing:
                raise self.error(casing, after.start)
            parse = _KEYWORD_CONDITIONS.get(after.text)
            if parse is not None:
                self.advance()
                return parse(self, selector, after)
        raise self.unexpected(f"an operator (= != < <= > >=), IS or NOT EXISTS after {token.text}")

    def selector(self, token: Token) -> Selector:
        selector = parse_selector(token.text)
        wildcards = _wildcards(token.text)
        if wildcards:
            if wildcards > limits.MAX_WILDCARDS_PER_SELECTOR:
                raise self.error(
                    f"a selector may hold at most {counted(limits.MAX_WILDCARDS_PER_SELECTOR, 'wildcard')}",
                    token.start,
                )
            self.wildcard_selectors += 1
            if self.wildcard_selectors > limits.MAX_WILDCARD_SELECTORS:
                raise self.error(
                    f"a pattern may hold at most {counted(limits.MAX_WILDCARD_SELECTORS, 'wildcard selector')}",
                    token.start,
                )
        return selector

    def parse_is(self, selector: Selector, keyword: Token) -> Expression:
        token = self.current
        if token.type is TokenType.WORD:
            casing = decisions.keyword_casing_error(token.text)
            if casing:
                raise self.error(casing, token.start)
            if token.text == "NOT":
                raise self.error(
                    "IS NOT is not supported by AWS (a value that is present and not null: = *)",
                    keyword.start,
                )
            node = _IS_KEYWORDS.get(token.text)
            if node is not None:
                self.advance()
                return node(selector)
        raise self.unexpected("NULL, TRUE or FALSE after IS")

    def parse_not(self, selector: Selector, keyword: Token) -> Expression:
        token = self.current
        if token.type is TokenType.WORD:
            casing = decisions.keyword_casing_error(token.text)
            if casing:
                raise self.error(casing, token.start)
            if token.text == "EXISTS":
                self.advance()
                return NotExists(selector)
        raise self.unexpected("EXISTS after NOT")

    def parse_exists(self, selector: Selector, keyword: Token) -> Expression:
        raise self.error(
            'EXISTS alone is not supported by AWS (use NOT EXISTS, or = "*" to require the field)',
            keyword.start,
        )


_JSON_PRIMARY: dict[TokenType, Callable[[JsonParser], Expression]] = {
    TokenType.LPAREN: JsonParser.parse_group_primary,
    TokenType.SELECTOR: JsonParser.parse_condition,
}
_KEYWORD_CONDITIONS: dict[str, Callable[[JsonParser, Selector, Token], Expression]] = {
    "IS": JsonParser.parse_is,
    "NOT": JsonParser.parse_not,
    "EXISTS": JsonParser.parse_exists,
}
_IS_KEYWORDS: dict[str, type[IsNull] | type[IsTrue] | type[IsFalse]] = {
    "NULL": IsNull,
    "TRUE": IsTrue,
    "FALSE": IsFalse,
}

_STEP = re.compile(SELECTOR_STEP)
_STEPS = {
    "name": lambda m: Key(m["name"]),
    "key": lambda m: Key(m["key"]),
    "index": lambda m: Index(int(m["index"])),
    "dot_star": lambda m: Wildcard(bracketed=False),
    "bracket_star": lambda m: Wildcard(bracketed=True),
}


# Selectors and values recur across the patterns of an inventory; their nodes are
# immutable, so each distinct one is built once.
@lru_cache(maxsize=4096)
def parse_selector(text: str) -> Selector:
    """The steps of a selector token (the tokenizer has checked its grammar)."""
    return Selector(tuple(_STEPS[m.lastgroup](m) for m in _STEP.finditer(text, 1)))


@lru_cache(maxsize=4096)
def _wildcards(selector_text: str) -> int:
    return parse_selector(selector_text).wildcards


_literal = lru_cache(maxsize=8192)(Literal)


class FieldsParser(_ExpressionParser):
    """`[ip, user, ..., status_code = 4* || status_code = 5*, bytes]`."""

    def __init__(self, text: str, start: int, end: int) -> None:
        super().__init__(text, start, end)
        self.field_name: str | None = None

    def parse(self) -> SpacePattern:
        self.expect(TokenType.LBRACKET, "expected '['")
        fields: list[AnyFields | Field] = []
        if self.current.type is not TokenType.RBRACKET:  # `[]`: no field named (decisions.py)
            fields.append(self.parse_field())
        while self.current.type is TokenType.COMMA:
            self.advance()
            if self.current.type is TokenType.RBRACKET:  # `[a,]`: one more, unnamed field
                fields.append(Field(""))
                break
            fields.append(self.parse_field())
        if self.current.type is not TokenType.RBRACKET:
            raise self.unexpected("',' or ']'")
        self.advance()
        if self.current.type is not TokenType.EOF:
            raise self.error(
                f"unexpected {self.current.text!r} after the closing ']'", self.current.start
            )
        return SpacePattern(tuple(fields))

    def parse_field(self) -> AnyFields | Field:
        token = self.current
        if token.type is TokenType.WORD and token.text == "...":
            self.advance()
            return AnyFields()
        following = self.tokens[self.index + 1].type if token.type is TokenType.WORD else None
        if following in (TokenType.COMMA, TokenType.RBRACKET, TokenType.EOF):
            self.advance()
            return Field(self.field_name_of(token))
        self.field_name = None
        condition = self.parse_or(self.parse_primary)
        return Field(self.field_name or "", condition)

    def field_name_of(self, token: Token) -> str:
        if not _FIELD_NAME.fullmatch(token.text):
            raise self.error(
                f"invalid field name {token.text!r} (letters, digits, '-' and '_')", token.start
            )
        return token.text

    def parse_primary(self) -> Expression:
        token = self.current
        if token.type is TokenType.LPAREN:
            return self.parse_group(self.parse_primary)
        if token.type is not TokenType.WORD:
            raise self.unexpected("a field name, '...' or '('")
        name = self.field_name_of(self.advance())
        if self.field_name is None:
            self.field_name = name
        elif name != self.field_name and decisions.CONDITIONS_NAME_THEIR_FIELD:
            raise self.error(
                f"a condition in field {self.field_name!r} cannot name field {name!r}", token.start
            )
        op = self.current
        if op.type is not TokenType.OP:
            raise self.unexpected(f"an operator (= != < <= > >=) after {name}")
        self.advance()
        return FieldComparison(name, op.text, self.parse_value(op))  # type: ignore[arg-type]


_FIELD_NAME = re.compile(rf"[{decisions.NAME_CHARS}]+")


# -- term patterns ---------------------------------------------------------------------

_POLARITY = {"": "require", "-": "exclude", "?": "optional"}


class TermParser(_Parser):
    def __init__(self, text: str, start: int, end: int) -> None:
        super().__init__(text, start, end)
        if not decisions.REGEX_LIMIT_APPLIES_TO_TERMS:
            self.regex_limit = None

    def parse(self) -> TermPattern:
        terms = []
        for token in tokenize_terms(self.text, self.start, self.end):
            if token.kind == "regex":
                operand: Phrase | Regex = self.regex(token.value, token.value_start + 1)
            else:
                operand = Phrase(token.value)
            terms.append(Term(operand, _POLARITY[token.prefix]))  # type: ignore[arg-type]
        return TermPattern(tuple(terms))


# The first character decides the kind of pattern; anything else is a term pattern.
_KINDS: dict[str, type[JsonParser] | type[FieldsParser]] = {"{": JsonParser, "[": FieldsParser}
