"""render: canonical text that parses back to the same AST and the same answers."""

from __future__ import annotations

import pytest

from cfgmon.patterns import LogEvent, compile_pattern, parse, render

from .casefiles import load_cases, load_cis_cases

PATTERNS = sorted({case.pattern for case in load_cases()} | {p for p, _, _ in load_cis_cases()})


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("", ""),
        ('""', '""'),
        ('{$.a="x"}', '{ $.a = "x" }'),
        ("{$.a=x}", "{ $.a = x }"),
        ('{ $.a = "404" }', '{ $.a = "404" }'),
        ('{ $.a = "two words" }', '{ $.a = "two words" }'),
        ('{ $.a = "" }', '{ $.a = "" }'),
        ('{ $.a = "say \\"hi\\"" }', '{ $.a = "say \\"hi\\"" }'),
        ('{ $.a = "NULL" }', '{ $.a = "NULL" }'),
        ("[f = IS]", "[f = IS]"),
        ("{ $.a = 1e+3 }", "{ $.a = 1e+3 }"),
        ("{ $.a = %x|y% }", "{ $.a = %x|y% }"),
        ("{ ($.a = 1) }", "{ $.a = 1 }"),
        ("{ ($.a = 1 || $.b = 2) || $.c = 3 }", "{ $.a = 1 || $.b = 2 || $.c = 3 }"),
        ("{ ($.a = 1 && $.b = 2) || $.c = 3 }", "{ $.a = 1 && $.b = 2 || $.c = 3 }"),
        ("{ $.a = 1 && ($.b = 2 || $.c = 3) }", "{ $.a = 1 && ($.b = 2 || $.c = 3) }"),
        ("{ $['a'].b[0][*].['c.d'] NOT EXISTS }", "{ $.a.b[0][*].['c.d'] NOT EXISTS }"),
        ("{ $.* IS TRUE || $.a.* IS FALSE }", "{ $.* IS TRUE || $.a.* IS FALSE }"),
        ("ERROR  -DEBUG ?x", "ERROR -DEBUG ?x"),
        ('"a b" "-dash" "{brace"', '"a b" "-dash" "{brace"'),
        ('"plain"', "plain"),
        ('[a = "200", b = 200]', '[a = "200", b = 200]'),
        ("[a,b=1||b=2,...]", "[a, b = 1 || b = 2, ...]"),
        ('[a = "x y", b = %^c%]', '[a = "x y", b = %^c%]'),
    ],
)
def test_canonical(text, canonical):
    assert render(parse(text)) == canonical


@pytest.mark.parametrize("text", PATTERNS)
def test_rendered_patterns_parse_back_to_themselves(text):
    ast = parse(text)
    rendered = render(ast)
    assert parse(rendered) == ast
    assert render(parse(rendered)) == rendered


def test_rendered_patterns_answer_the_same():
    for case in load_cases():
        rendered = render(parse(case.pattern))
        assert compile_pattern(rendered).matches(LogEvent(case.event)) is case.expected, case.where
