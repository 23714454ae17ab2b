"""The rules of the pattern language a TestMetricFilter call could overturn, here.

Each rule carries a marker `(rule: ID)` whose ID names its row in the table "Rules
and their evidence" of docs/filter-patterns.md: an example, what cfgmon does, and
its evidence, a recorded AWS answer, an AWS document, or "decided, no evidence" (a
test keeps the two in step). Each is a constant or a small function that the
tokenizer, parser or evaluator calls, or a comment where the grammar itself applies
it, so when real AWS answers otherwise the rule changes in this file only. Limits
live in limits.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from cfgmon.patterns.jsontext import JsonFloat, JsonInt

# -- lexical -------------------------------------------------------------------------

# Keywords are upper case; `is null`, `Not Exists` … are errors, not synonyms
# (rule: keyword-case).
KEYWORDS = frozenset({"IS", "NOT", "EXISTS", "NULL", "TRUE", "FALSE"})


def keyword_casing_error(word: str) -> str | None:
    """The message for a keyword written in the wrong case, or None."""
    upper = word.upper()
    if upper in KEYWORDS and word != upper:
        return f"keywords are upper case: write {upper}, not {word}"
    return None


# Property names: letters, digits, '-' and '_' (AWS). Letters are ASCII
# (rule: ascii-names): any other key uses bracket notation $.['clé'].
NAME_CHARS = r"A-Za-z0-9_\-"

# Bare values may hold letters, digits, '_' and . * : / - @; '+' is added so signed
# and scientific numbers (+5, 1e+3) can be written bare (rule: bare-plus).
# Anything else must be quoted.
BARE_VALUE_CHARS = r"A-Za-z0-9_.*:/@+\-"

# A selector is one token: no white space inside `$.a[0].b` (rule: selector-one-token).

# Quoted strings take \" and \\ escapes; a backslash before any other character
# stays a literal backslash (rule: other-backslashes).
_ESCAPE = re.compile(r"\\([\"\\])")


def unescape_quoted(body: str) -> str:
    return _ESCAPE.sub(r"\1", body) if "\\" in body else body


# Blanks around a pattern. AWS refuses `' {$.ThisFlag IS TRUE} '` ("Invalid metric
# filter pattern", a TestMetricFilter answer recorded in a public test module),
# so a blank before `{` is an error; before `[` as well, decided (rule: leading-blank). A
# pattern of blanks alone is valid and matches everything (AWS: PutMetricFilter
# accepts " " in LocalStack's AWS-validated test_put_metric_filter_basic). Blanks
# after the closing `}` or `]`, and around a term pattern, are ignored
# (rule: other-blanks).
BLANK_BEFORE_BRACKET_ALLOWED = False

# `{ }` is an error (rule: empty-braces). `[]` is valid and matches every event, and
# a comma before `]` adds one unnamed field: the API Reference's TestMetricFilter
# examples "without specifying any fields" (`[]`, all three events match, $1 to $7
# extracted) and `[..., request=*.html*, status_code=4*,]` (its `$7` is the unnamed
# last field). An empty entry elsewhere (`[a,,b]`, `[,a]`) stays an error
# (rule: empty-fields).

# `==` is not an operator (AWS has `=`; the CDK rewrites `==` before sending): an
# error with a hint (rule: double-equals).
DOUBLE_EQUALS_HINT = "use = (there is no == operator)"

# Parentheses may nest this deep; deeper is an error (rule: max-nesting). AWS
# states no limit, and the evaluator must not run out of stack on a 1,024-character
# pattern.
MAX_NESTING = 100

# -- values --------------------------------------------------------------------------

# A quoted value is text, compared as text even with a JSON number: on
# {"someInt": 123, "someFloat2": 12.0} AWS matches `$.someInt = "123"` and
# `$.someFloat2 != "12"`, not `$.someInt = "123.0"`; a bare number compares
# numerically (`$.someInt = 123.0` matches). Inside quotes `*` is still a wildcard
# (AWS: `$.someInt = "1*"` matches) and `%…%` plain text (rule: quoted-is-text).
NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def parse_number(text: str) -> int | float | None:
    """The number a bare value or space-delimited field spells, or None (any notation)."""
    if not NUMBER.fullmatch(text):
        return None
    try:
        return int(text)
    except ValueError:
        return float(text)


def scalar_text(value: Any) -> str | None:
    """The text a string comparison sees for a JSON scalar; None when none applies.

    Strings are themselves; a number is its text as the event writes it (`12.0`
    stays `12.0`: AWS matches `$.someFloat2 != "12"` on 12.0); booleans are `true` /
    `false` (rule: scalar-text); null, objects and arrays never satisfy a
    comparison (AWS).
    """
    kind = type(value)
    if kind is str:
        return value
    if kind is bool:
        return "true" if value else "false"
    if kind is JsonInt or kind is JsonFloat:
        return value.text
    if kind is int or kind is float:  # a number built in Python, not read from an event
        return repr(value)
    return None


def only_strings_spell(text: str) -> bool:
    """Whether, under scalar_text, no JSON value but a string can have this text: true
    when it is neither a number literal (numbers) nor true / false (booleans). The
    evaluator then tests `=` against it as plain string equality."""
    return text not in ("true", "false") and parse_number(text) is None


def wildcard_matches(segments: list[str], value: str) -> bool:
    """Whether `value` matches a wildcard value split at its `*`s (at least one).

    AWS's matcher does not backtrack: the text before the first `*` must start the
    value, each later segment is taken at its first occurrence after the previous
    one, and the last must then end the value unless a `*` ends the pattern. So on
    `111.111.111.111` AWS matches neither `*111.111.111` nor `111*111` (both
    segments first occur too early), yet matches `*.111.111.111`; `1*3` matches
    `123` and `1*4` matches `12.34` (AWS answers, json_filter test suite;
    rule: wildcard-first-occurrence). In term patterns `*` is no wildcard
    (term-star below), so this is the rule of JSON and space-delimited values alike
    (decided for the latter; rule: wildcard-fields).
    """
    first, last = segments[0], segments[-1]
    if not value.startswith(first):
        return False
    at = len(first)
    for segment in segments[1:-1]:
        found = value.find(segment, at)
        if found < 0:
            return False
        at = found + len(segment)
    if not last:
        return True
    found = value.find(last, at)
    return found >= 0 and found + len(last) == len(value)


# A number compared with a JSON string: = and != compare the text as written, the
# order operators are false (rule: number-against-string).
def number_against_string(op: str, literal: str, value: str) -> bool:
    if op == "=":
        return value == literal
    if op == "!=":
        return value != literal
    return False


# A space-delimited field is text; it compares numerically when both it and the
# value spell numbers, as text otherwise (rule: field-numbers).
FIELD_IS_NUMBER: Callable[[str], int | float | None] = parse_number

# <, <=, >, >= take a bare number only; any other value (a word, a wildcard, a
# quoted value, even "123") makes the pattern invalid, not "no match": AWS answers
# `$.someInt >= someString`, `>= "123"` and `>= "123.0"` with InvalidParameterException
# "Invalid character(s) in term". That a %regex% after them and the same values in a
# space-delimited field are refused alike is decided (rule: order-operators).
ORDER_OPERATORS = frozenset({"<", "<=", ">", ">="})

# -- selectors -----------------------------------------------------------------------


def holds_for_any(values: Iterable[Any], test: Callable[[Any], bool]) -> bool:
    """A condition holds when any value the selector reaches satisfies it; `!=`
    included (AWS for =; decided for != with wildcards; rule: any-value)."""
    return any(test(value) for value in values)


def wildcard_children(value: Any) -> list[Any]:
    """What `.*` and `[*]` select: the members of an object and the elements of an
    array alike, as JSONPath does (rule: wildcard-children); a scalar has none."""
    if type(value) is dict:
        return list(value.values())
    if type(value) is list:
        return value
    return []


# `.name` and `['key']` address object members only; `[n]` addresses array elements
# only: `$.list.0` does not reach list[0], `$.obj[0]` does not reach obj["0"]
# (rule: steps-by-kind).

# -- events --------------------------------------------------------------------------

# Only a JSON object is a JSON event; NaN and Infinity are not JSON (rule: json-events).


def reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# -- term patterns -------------------------------------------------------------------


def optional_terms_apply(has_other_terms: bool) -> bool:
    """`?term`s count only when every term is a `?term`: mixed with other terms,
    required or excluded, AWS ignores them (AWS: "If you combine "?" with other
    filter patterns, all question mark terms will be ignored"; that exclusions
    count as "other", as AWS's note names include and exclude terms, is decided;
    rule: optional-terms)."""
    return not has_other_terms


def phrase_always_occurs(text: str) -> bool:
    """A blank quoted phrase occurs in every event: AWS documents `" "` as the
    pattern that matches everything; `""` and `" "` mixed with other terms add no
    condition (rule: blank-phrase)."""
    return not text.strip()


# The limit of 2 regexes applies to term patterns as well as to JSON and
# space-delimited ones; AWS names only the latter two (rule: regex-limit-in-terms).
REGEX_LIMIT_APPLIES_TO_TERMS = True

# In a term pattern `%` opens a regex only at the start of a term; `50%` is text.
# A bare term may hold any character but white space and `"`; AWS asks for quotes
# around non-alphanumeric terms, and cfgmon does not reject them bare
# (rule: bare-terms). `*` in a term is a plain character, not a wildcard
# (rule: term-star).

# -- space-delimited patterns --------------------------------------------------------

# An event may have more words than the pattern has fields: AWS's `[w1=ERROR, w2]`
# matches `ERROR 09/25/2014 12:00:02 Failed to process request` ("a blank w2
# indicator after the w1 term"). The last field takes the rest of the event rather
# than dropping it (rule: last-field-rest), so `[a, b = two]` does not match
# `one two three`. Text between [ ] or " " forms one
# field, without the delimiters; an unclosed group runs to the end of the event
# (rule: field-groups).
FIELD_GROUPS = {'"': '"', "[": "]"}

# A condition in a field names that field: `[w1=ERROR || w1=WARN, w2]`; naming
# another field is an error, as the console answers "Invalid filter pattern" for
# `[..., status_code = 4* && bytes > 1000]` (rule: conditions-name-their-field).
CONDITIONS_NAME_THEIR_FIELD = True

# Regexes allow a space (AWS's own example `%^starting|^initializing|^shutting
# down%`), though AWS's character list omits it (rule: regex-space).
REGEX_EXTRA_CHARS = frozenset(" ")
