"""Properties that must hold for every pattern and event (hypothesis)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cfgmon.patterns import LogEvent, PatternError, compile_pattern, decisions, parse, render
from cfgmon.patterns.nodes import OPERATORS

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NAMES = ["a", "b", "eventName", "x-y"]

# -- events --------------------------------------------------------------------------

scalars = st.one_of(
    st.text(alphabet="aAb*.1 -:", max_size=5),
    st.integers(-5, 500),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.none(),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(NAMES), inner, max_size=3)
    ),
    max_leaves=6,
)
documents = st.dictionaries(st.sampled_from(NAMES), json_values, max_size=4)
events = st.one_of(documents.map(json.dumps), documents.map(json.dumps), st.text(max_size=20))
field_events = st.lists(st.from_regex(r"[A-Za-z0-9.*:@+\-]{1,5}", fullmatch=True), max_size=6).map(
    " ".join
)

# -- patterns ------------------------------------------------------------------------

bare_values = st.one_of(
    st.from_regex(r"[A-Za-z0-9_.*:/@+\-]{1,6}", fullmatch=True),
    st.integers(-500, 500).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32)
    .map(repr)
    .filter(lambda r: "inf" not in r),
    st.sampled_from(
        ["*", "a*", "*b", "a*b", "1e3", "+4", "-0.5", ".5", "4*", "true", "false", "null"]
    ),
)
plain_selectors = st.lists(st.sampled_from(NAMES), min_size=1, max_size=2).map(
    lambda keys: "$." + ".".join(keys)
)
selectors = st.one_of(
    plain_selectors,
    plain_selectors,
    st.sampled_from(["$.a[0]", "$.b[*]", "$.*", "$['a']", "$.a.*", "$.['x-y']"]),
)
comparisons = st.builds(
    lambda s, op, v: f"{s} {op} {v}", selectors, st.sampled_from(OPERATORS), bare_values
)
conditions = st.one_of(
    comparisons,
    comparisons,
    st.builds(
        lambda s, k: f"{s} {k}",
        selectors,
        st.sampled_from(["IS NULL", "IS TRUE", "IS FALSE", "NOT EXISTS"]),
    ),
    st.builds(
        lambda s, op, r: f"{s} {op} %{r}%",
        selectors,
        st.sampled_from(["=", "!="]),
        st.sampled_from(["a", "^b", "1$", "[0-9]", "a|b"]),
    ),
)
expressions = st.recursive(
    conditions,
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda t: f"{t[0]} && {t[1]}"),
        st.tuples(inner, inner).map(lambda t: f"{t[0]} || {t[1]}"),
        inner.map(lambda e: f"({e})"),
    ),
    max_leaves=4,
)
terms = st.builds(
    lambda prefix, term: prefix + term,
    st.sampled_from(["", "", "-", "?"]),
    st.one_of(
        st.from_regex(r"[A-Za-z0-9_.:*{}\[\]]{1,6}", fullmatch=True),
        st.text(alphabet='ab "\\-', max_size=5).map(
            lambda t: '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'
        ),
        st.sampled_from(["%a%", "%^b%", "%[0-9]+%"]),
    ),
)
term_patterns = st.lists(terms, min_size=1, max_size=4).map(" ".join)
field_conditions = st.builds(lambda op, v: f"f {op} {v}", st.sampled_from(OPERATORS), bare_values)
field_patterns = st.lists(
    st.one_of(
        st.just("..."),
        st.just("f"),
        field_conditions,
        st.tuples(field_conditions, field_conditions).map(" || ".join),
    ),
    min_size=1,
    max_size=4,
).map(lambda fields: "[" + ", ".join(fields) + "]")
patterns = st.one_of(expressions.map(lambda e: "{ " + e + " }"), term_patterns, field_patterns)


def compiled_or_none(text: str):
    try:
        return compile_pattern(text)
    except PatternError:
        return None


def valid(text: str):
    """The compiled pattern; generated combinations past AWS's limits are skipped."""
    pattern = compiled_or_none(text)
    assume(pattern is not None)
    return pattern


# -- the properties ------------------------------------------------------------------


# Quoting a value that spells a number makes it text (AWS: `$.someInt = 123.0`
# matches 123, `$.someInt = "123.0"` does not); any other value means the same
# quoted or bare with = and !=.
text_values = bare_values.filter(lambda value: decisions.parse_number(value) is None)


@SETTINGS
@given(selectors, st.sampled_from(["=", "!="]), text_values, st.lists(events, min_size=1, max_size=4))
def test_quoting_a_value_that_is_no_number_never_changes_a_result(selector, op, value, sample):
    bare = compile_pattern(f"{{ {selector} {op} {value} }}")
    quoted = compile_pattern(f'{{ {selector} {op} "{value}" }}')
    assert bare.matches_all(sample) == quoted.matches_all(sample)


@SETTINGS
@given(st.sampled_from(["=", "!="]), text_values, st.lists(field_events, min_size=1, max_size=4))
def test_quoting_a_field_value_that_is_no_number_never_changes_a_result(op, value, sample):
    bare = compile_pattern(f"[..., f {op} {value}, ...]")
    quoted = compile_pattern(f'[..., f {op} "{value}", ...]')
    assert bare.matches_all(sample) == quoted.matches_all(sample)


@SETTINGS
@given(expressions, expressions, events)
def test_adding_an_or_never_loses_a_match(p, x, event):
    narrow = valid(f"{{ {p} }}")
    wide = valid(f"{{ ({p}) || ({x}) }}")
    if narrow.matches(event):
        assert wide.matches(event)


@SETTINGS
@given(expressions, expressions, events)
def test_adding_an_and_never_gains_a_match(p, x, event):
    wide = valid(f"{{ {p} }}")
    narrow = valid(f"{{ ({p}) && ({x}) }}")
    if narrow.matches(event):
        assert wide.matches(event)


@SETTINGS
@given(expressions, expressions, events)
def test_or_and_and_mean_exactly_or_and_and(p, x, event):
    # Exact, not only monotonic: covers the set lookup that ||-chains compile to.
    first, second = valid(f"{{ {p} }}").matches(event), valid(f"{{ {x} }}").matches(event)
    assert valid(f"{{ ({p}) || ({x}) }}").matches(event) == (first or second)
    assert valid(f"{{ ({p}) && ({x}) }}").matches(event) == (first and second)


@SETTINGS
@given(
    st.lists(st.sampled_from(NAMES + ["true", "1", "1.5", "a*", "-2"]), min_size=2, max_size=6),
    documents,
)
def test_string_equality_chains_answer_like_their_terms(values, document):
    event = json.dumps(document)
    chain = " || ".join(f"$.a = {value}" for value in values)
    expected = any(compile_pattern(f"{{ $.a = {value} }}").matches(event) for value in values)
    assert compile_pattern(f"{{ {chain} }}").matches(event) == expected


@SETTINGS
@given(
    json_values, st.one_of(bare_values, st.sampled_from(["true", "false", "1e+21", "1e-05", "0.1"]))
)
def test_only_strings_spell_what_only_strings_spell(value, text):
    # decisions.only_strings_spell promises the evaluator that no non-string scalar
    # has this text; scalar_text must keep that promise.
    if decisions.only_strings_spell(text) and decisions.scalar_text(value) == text:
        assert type(value) is str


@SETTINGS
@given(patterns)
def test_a_rendered_ast_parses_back_to_itself(text):
    pattern = valid(text)
    rendered = render(pattern.ast)
    assert parse(rendered) == pattern.ast
    assert render(parse(rendered)) == rendered


@SETTINGS
@given(patterns, events)
def test_a_rendered_pattern_answers_the_same(text, event):
    pattern = valid(text)
    assert compile_pattern(render(pattern.ast)).matches(event) == pattern.matches(event)


SOUP = [
    "{", "}", "(", ")", "[", "]", ",", "&&", "||", "&", "|", "=", "!=", "<", "<=", ">", ">=", "==", "!",
    "$", "$.", "$.a", "$.a[0]", "$.*", "$['k']", "$.['k", "[*]", '"', '"x"', '"a\\"', "%", "%a%", "%(%",
    "IS", "NOT", "EXISTS", "NULL", "TRUE", "FALSE", "is", "null", "...", "-", "?", "*", "1e3", "x", "é", "\n", " ",
]  # fmt: skip


@SETTINGS
@given(
    st.one_of(st.text(max_size=60), st.lists(st.sampled_from(SOUP), max_size=25).map("".join)),
    events,
)
def test_any_text_parses_or_raises_pattern_error_only(text, event):
    pattern = compiled_or_none(text)  # anything but PatternError fails the test
    if pattern is not None:
        assert isinstance(pattern.matches(LogEvent(event)), bool)
        assert parse(render(pattern.ast)) == pattern.ast


@SETTINGS
@given(
    st.lists(st.sampled_from(SOUP), max_size=25).map(lambda parts: "{ " + " ".join(parts) + " }")
)
def test_json_token_soup_parses_or_raises_pattern_error_only(text):
    compiled_or_none(text)


def _reference_glob(elements, fields, text, at=0):
    """Space-delimited matching by brute force: every way to spread the fields."""
    if not elements:
        return at == len(fields)
    head, rest = elements[0], elements[1:]
    if head == "...":
        return not rest or any(
            _reference_glob(rest, fields, text, k) for k in range(at, len(fields) + 1)
        )
    if at >= len(fields):
        return False
    if not rest:  # the last field takes the rest of the event
        value = fields[at][0] if at == len(fields) - 1 else text[fields[at][1] :].rstrip()
        return head(value)
    return head(fields[at][0]) and _reference_glob(rest, fields, text, at + 1)


@settings(SETTINGS, max_examples=400)
@given(
    st.lists(
        st.sampled_from(["...", "...", "f", "f = a*", "f != b", "f = *c"]), min_size=1, max_size=4
    ),
    st.lists(st.sampled_from(["a", "b", "ac", "bc", "abc", '"a c"', "[b c]"]), max_size=6).map(
        " ".join
    ),
)
def test_space_delimited_matching_agrees_with_brute_force(elements, event):
    from cfgmon.patterns.events import split_fields

    tests = {
        "f": lambda v: True,
        "f = a*": lambda v: v.startswith("a"),
        "f != b": lambda v: v != "b",
        # the first c must end the value: AWS's wildcards do not backtrack
        "f = *c": lambda v: v.find("c") == len(v) - 1,
    }
    reference = [element if element == "..." else tests[element] for element in elements]
    expected = _reference_glob(reference, split_fields(event), event)
    assert compile_pattern("[" + ", ".join(elements) + "]").matches(event) == expected
