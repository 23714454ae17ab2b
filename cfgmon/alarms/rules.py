"""Composite alarm rules (PutCompositeAlarm's AlarmRule): text -> AlarmRule, and its truth.

    ALARM(cis-root) OR (ALARM("arn:aws:cloudwatch:...:alarm:a b") AND NOT OK(c))
    AT_LEAST(2, ALARM, (a, b, c))      AT_LEAST(50%, NOT OK, (a, b))      TRUE  FALSE

One module, three small stages: `_tokenize` (one regex over the token kinds), a
recursive-descent `_Parser` (NOT over AND over OR), and frozen nodes whose truth the
`_TRUTH` table computes from a mapping of alarm states.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from cfgmon.alarms import decisions
from cfgmon.alarms.errors import AlarmRuleError

STATES = ("ALARM", "OK", "INSUFFICIENT_DATA")

# -- tokens -----------------------------------------------------------------------------


class _Token(NamedTuple):
    kind: str  # "string", "word", "(", ")", ",", "end"
    text: str
    start: int
    value: str  # a string's content; a word as written


_SCANNER = re.compile(
    rf'\s*(?:(?P<string>"[^"]*")|(?P<punct>[(),])|(?P<word>{decisions.RULE_BARE_NAME})|(?P<stray>\S))'
)


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    for m in _SCANNER.finditer(text):
        kind = m.lastgroup
        raw = m.group(kind)
        at = m.start(kind)
        if kind == "stray":
            raise AlarmRuleError("unterminated quoted alarm name", text, at)
        if kind == "string":
            tokens.append(_Token("string", raw, at, raw[1:-1]))
        elif kind == "punct":
            tokens.append(_Token(raw, raw, at, raw))
        else:
            tokens.append(_Token("word", raw, at, raw))
    tokens.append(_Token("end", "", len(text), ""))
    return tokens


# -- nodes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Constant:
    value: bool


@dataclass(frozen=True)
class StateOf:
    state: str
    alarm: str  # name or ARN, as written


@dataclass(frozen=True)
class AtLeast:
    amount: float
    percent: bool
    state: str
    negated: bool  # NOT ALARM: any state but ALARM
    alarms: tuple[str, ...]


@dataclass(frozen=True)
class Not:
    operand: RuleNode


@dataclass(frozen=True)
class And:
    left: RuleNode
    right: RuleNode


@dataclass(frozen=True)
class Or:
    left: RuleNode
    right: RuleNode


RuleNode = Constant | StateOf | AtLeast | Not | And | Or

StateOfAlarm = Callable[[str], str]  # alarm name or ARN -> its state


def _at_least(node: AtLeast, state_of: StateOfAlarm) -> bool:
    matching = sum((state_of(alarm) == node.state) != node.negated for alarm in node.alarms)
    return matching >= decisions.at_least_count(node.amount, node.percent, len(node.alarms))


_TRUTH: dict[type, Callable[[RuleNode, StateOfAlarm], bool]] = {
    Constant: lambda node, state_of: node.value,
    StateOf: lambda node, state_of: state_of(node.alarm) == node.state,
    AtLeast: _at_least,
    Not: lambda node, state_of: not _truth(node.operand, state_of),
    And: lambda node, state_of: _truth(node.left, state_of) and _truth(node.right, state_of),
    Or: lambda node, state_of: _truth(node.left, state_of) or _truth(node.right, state_of),
}


def _truth(node: RuleNode, state_of: StateOfAlarm) -> bool:
    return _TRUTH[type(node)](node, state_of)


def _named(node: RuleNode) -> set[str]:
    if isinstance(node, StateOf):
        return {node.alarm}
    if isinstance(node, AtLeast):
        return set(node.alarms)
    if isinstance(node, Not):
        return _named(node.operand)
    if isinstance(node, And | Or):
        return _named(node.left) | _named(node.right)
    return set()


def _lookup(states: Mapping[str, str]) -> StateOfAlarm:
    """A reference's state: by the reference, then by the name an ARN ends with
    (decisions.py: unknown-state)."""

    def state_of(reference: str) -> str:
        if reference in states:
            return states[reference]
        return states.get(decisions.alarm_name_of(reference), decisions.UNKNOWN_STATE)

    return state_of


@dataclass(frozen=True)
class AlarmRule:
    text: str
    root: RuleNode

    def alarms_named(self) -> set[str]:
        """The alarm names and ARNs the rule refers to, as written."""
        return _named(self.root)

    def is_true(self, states: Mapping[str, str]) -> bool:
        """The rule's truth with these states, by alarm name or ARN."""
        return _truth(self.root, _lookup(states))

    def true_when_alone_in_alarm(self, name: str, quiet_states: Mapping[str, str]) -> bool:
        """Whether alarm `name` going into ALARM, every other alarm in its quiet state,
        makes the rule true: true then, and not true with `name` quiet
        (decisions.py: alone-in-alarm)."""
        quiet = _lookup(quiet_states)
        target = decisions.alarm_name_of(name)

        def with_alarm(reference: str) -> str:
            if reference == name or decisions.alarm_name_of(reference) == target:
                return "ALARM"
            return quiet(reference)

        return _truth(self.root, with_alarm) and not _truth(self.root, quiet)


def parse_alarm_rule(text: str) -> AlarmRule:
    """The rule as a tree; AlarmRuleError where PutCompositeAlarm would reject it."""
    parser = _Parser(text)
    if parser.token.kind == "end":
        raise AlarmRuleError("empty alarm rule", text, 0)
    root = parser.disjunction()
    if parser.token.kind != "end":
        if parser.token.kind == ")":
            raise parser.error("unbalanced ')'")
        raise parser.error(f"expected AND or OR, found {parser.token.text!r}")
    return AlarmRule(text, root)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.at = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.at]

    def advance(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def error(self, message: str, token: _Token | None = None) -> AlarmRuleError:
        return AlarmRuleError(message, self.text, (token or self.token).start)

    def found(self) -> str:
        return "end of rule" if self.token.kind == "end" else repr(self.token.text)

    def expect(self, kind: str) -> _Token:
        if self.token.kind != kind:
            raise self.error(f"expected '{kind}', found {self.found()}")
        return self.advance()

    def keyword(self, *words: str) -> str | None:
        """The next token if it is one of these keywords; a wrong-case one is an error
        (decisions.py: rule-keyword-case)."""
        token = self.token
        if token.kind != "word":
            return None
        if token.text in words:
            return token.text
        if token.text.upper() in words:
            raise self.error(f"keywords are upper case: write {token.text.upper()}, not {token.text}")
        return None

    def disjunction(self) -> RuleNode:
        node = self.conjunction()
        while self.keyword("OR"):
            self.advance()
            node = Or(node, self.conjunction())
        return node

    def conjunction(self) -> RuleNode:
        node = self.negation()
        while self.keyword("AND"):
            self.advance()
            node = And(node, self.negation())
        return node

    def negation(self) -> RuleNode:
        if self.keyword("NOT"):
            self.advance()
            return Not(self.negation())
        return self.primary()

    def primary(self) -> RuleNode:
        token = self.token
        if token.kind == "(":
            self.advance()
            node = self.disjunction()
            self.expect(")")
            return node
        word = self.keyword("TRUE", "FALSE", "AT_LEAST", *STATES)
        if word in ("TRUE", "FALSE"):
            self.advance()
            return Constant(word == "TRUE")
        if word == "AT_LEAST":
            return self.at_least()
        if word in STATES:
            self.advance()
            self.expect("(")
            alarm = self.alarm_name()
            self.expect(")")
            return StateOf(word, alarm)
        if token.kind == "end":
            raise self.error("expected ALARM(...), OK(...), INSUFFICIENT_DATA(...), TRUE, FALSE or '('")
        raise self.error(
            f"expected ALARM(...), OK(...), INSUFFICIENT_DATA(...), AT_LEAST(...), TRUE, FALSE"
            f" or '(', found {self.found()}"
        )

    def alarm_name(self) -> str:
        token = self.token
        if token.kind not in ("string", "word"):
            raise self.error(f"expected an alarm name or ARN, found {self.found()}")
        if token.kind == "string" and not token.value.strip():
            raise self.error("empty alarm name")
        self.advance()
        return token.value

    def at_least(self) -> RuleNode:
        self.advance()
        self.expect("(")
        amount_token = self.token
        match = re.fullmatch(r"(\d+(?:\.\d+)?)(%?)", amount_token.text) if amount_token.kind == "word" else None
        if match is None:
            raise self.error(f"expected a count or a percentage, found {self.found()}")
        amount, percent = float(match.group(1)), bool(match.group(2))
        if (percent and not 0 < amount <= 100) or (not percent and (amount < 1 or not amount.is_integer())):
            raise self.error("AT_LEAST takes a whole count of 1 or more, or a percentage up to 100%")
        self.advance()
        self.expect(",")
        negated = bool(self.keyword("NOT"))
        if negated:
            self.advance()
        state = self.keyword(*STATES)
        if state is None:
            raise self.error(f"expected ALARM, OK or INSUFFICIENT_DATA, found {self.found()}")
        self.advance()
        self.expect(",")
        self.expect("(")
        alarms = [self.alarm_name()]
        while self.token.kind == ",":
            self.advance()
            alarms.append(self.alarm_name())
        self.expect(")")
        self.expect(")")
        if not percent and amount > len(alarms):
            raise self.error(f"AT_LEAST({int(amount)}, ...) lists only {len(alarms)} alarm(s)", amount_token)
        return AtLeast(amount, percent, state, negated, tuple(alarms))
