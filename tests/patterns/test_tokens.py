"""The tokenizers: token kinds, text, values and offsets."""

from __future__ import annotations

from cfgmon.patterns.tokens import TokenType, tokenize, tokenize_terms

T = TokenType


def kinds(text: str) -> list[tuple[TokenType, str]]:
    return [(token.type, token.text) for token in tokenize(text)]


def test_json_tokens_with_and_without_white_space():
    expected = [
        (T.LBRACE, "{"),
        (T.LPAREN, "("),
        (T.SELECTOR, "$.a[0].b"),
        (T.OP, ">="),
        (T.WORD, "-1.5e+3"),
        (T.RPAREN, ")"),
        (T.OR, "||"),
        (T.SELECTOR, "$.['k.x']"),
        (T.OP, "!="),
        (T.STRING, '"a \\"b\\""'),
        (T.AND, "&&"),
        (T.SELECTOR, "$.*"),
        (T.OP, "="),
        (T.REGEX, "%^x$%"),
        (T.RBRACE, "}"),
        (T.EOF, ""),
    ]
    assert kinds('{($.a[0].b>=-1.5e+3)||$.[\'k.x\']!="a \\"b\\""&&$.*=%^x$%}') == expected
    assert (
        kinds('{ ( $.a[0].b >= -1.5e+3 ) ||\n $.[\'k.x\'] != "a \\"b\\"" && $.* = %^x$% }')
        == expected
    )


def test_token_values_and_offsets():
    tokens = tokenize('{ $.a = "x\\"y\\\\z" || $.b = %r% }')
    string = tokens[3]
    assert (string.type, string.value, string.start, string.end) == (T.STRING, 'x"y\\z', 8, 17)
    regex = tokens[7]
    assert (regex.type, regex.value, regex.start) == (T.REGEX, "r", 27)
    assert tokens[-1].start == 32


def test_bare_words_hold_the_documented_characters():
    assert kinds("config.amazonaws.com arn:aws:iam::1:role/x a@b.c *Put* +5")[:-1] == [
        (T.WORD, "config.amazonaws.com"),
        (T.WORD, "arn:aws:iam::1:role/x"),
        (T.WORD, "a@b.c"),
        (T.WORD, "*Put*"),
        (T.WORD, "+5"),
    ]


def test_space_delimited_tokens():
    assert [t.type for t in tokenize("[..., a=4*||a=5*]")] == [
        T.LBRACKET, T.WORD, T.COMMA, T.WORD, T.OP, T.WORD, T.OR, T.WORD, T.OP, T.WORD, T.RBRACKET, T.EOF,
    ]  # fmt: skip


def test_terms():
    terms = tokenize_terms('ERROR -"a b" ?%x y% "q\\"" -x')
    assert [(t.prefix, t.kind, t.value, t.start) for t in terms] == [
        ("", "bare", "ERROR", 0),
        ("-", "string", "a b", 6),
        ("?", "regex", "x y", 13),
        ("", "string", 'q"', 20),
        ("-", "bare", "x", 26),
    ]
