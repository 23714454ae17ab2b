"""EventBatch: one answer for many patterns over the same log events, as bit sets.

A control's catalogue is a few dozen log events and an estate holds thousands of
distinct filter patterns, whose JSON conditions repeat (`$.eventName =
PutDeliveryChannel` is in most of them). A JSON pattern is `&&` and `||` over leaf
conditions, each of which looks at one event alone, so its answer for every event
of a batch is the same `&` and `|` over the leaves' answers, held as the bits of an
int (bit i: event i). Each distinct leaf is tested once per event for the whole
batch; a pattern then costs a few integer operations however many events there are.
Other patterns (terms, space-delimited, match-all) are asked event by event.

The answer is exactly FilterPattern.matches_all's: the leaves are the evaluator's
own tests (tests/patterns/test_batch.py compares the two over every case file).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from cfgmon.patterns.compiled import FilterPattern
from cfgmon.patterns.evaluate import build, values_at
from cfgmon.patterns.events import LogEvent
from cfgmon.patterns.nodes import And, Comparison, JsonPattern, MatchAll, Or, Phrase, TermPattern


class EventBatch:
    """Log events in a fixed order; `matches` answers with a bit per event."""

    def __init__(self, events: Sequence[LogEvent | str]) -> None:
        self.events = [e if type(e) is LogEvent else LogEvent(e) for e in events]  # type: ignore[arg-type]
        self.all = (1 << len(self.events)) - 1
        # JSON patterns never match an event that is not a JSON object
        self._documents = [(i, e.json) for i, e in enumerate(self.events) if e.json is not None]
        self._leaves: dict[object, int] = {}
        self._reads: dict[tuple, bool] = {}  # (selector, text): a value it reaches holds it

    def __len__(self) -> int:
        return len(self.events)

    def matches(self, pattern: FilterPattern) -> int:
        """The events `pattern` matches, as bits (bit i set: events[i] matches)."""
        if type(pattern.ast) is JsonPattern:
            return self._expression(pattern.ast.expression)
        bits = 0
        for i, hit in enumerate(pattern.matches_all(self.events)):
            if hit:
                bits |= 1 << i
        return bits

    def reads_text(self, pattern: FilterPattern, needle: str) -> bool:
        """Whether the pattern's answers could change were `needle` replaced in the events.

        A JSON pattern reads the values its comparisons reach (whether a key exists, or
        holds null or a boolean, does not depend on text in it); a pattern of terms
        reads the needle a term can overlap (_phrase_reads; a regular expression term
        reads everything); a space-delimited pattern reads the whole message. Each
        distinct comparison is looked at once per batch.
        """
        return self.reads_any(pattern, (needle,))

    def reads_any(self, pattern: FilterPattern, needles: tuple[str, ...]) -> bool:
        """reads_text for any of `needles`, each comparison's selector looked at once."""
        return self.reads_each(pattern, (needles,))[0]

    def reads_each(self, pattern: FilterPattern,
                   groups: tuple[tuple[str, ...], ...]) -> tuple[bool, ...]:
        """reads_any for each group of needles, the pattern walked once."""
        if type(pattern.ast) is MatchAll:
            return (False,) * len(groups)
        if type(pattern.ast) is TermPattern:
            phrases = [term.operand.text for term in pattern.ast.terms
                       if type(term.operand) is Phrase]
            if len(phrases) == len(pattern.ast.terms):
                return tuple(any(_phrase_reads(p, needle) for p in phrases for needle in needles)
                             for needles in groups)
        if type(pattern.ast) is not JsonPattern:
            return (True,) * len(groups)
        selectors = {leaf.selector for leaf in _comparisons(pattern.ast.expression)}
        return tuple(any(self._selector_reads(selector, needles) for selector in selectors)
                     for needles in groups)

    def _selector_reads(self, selector, needles: tuple[str, ...]) -> bool:
        key = (selector, needles)
        found = self._reads.get(key)
        if found is None:
            reach = values_at(selector)
            found = self._reads[key] = any(
                needle in (json.dumps(value) if isinstance(value, dict | list) else str(value))
                for _, document in self._documents
                for value in reach(document)
                for needle in needles
            )
        return found

    def _expression(self, node) -> int:
        kind = type(node)
        if kind is And:
            bits = self.all
            for operand in node.operands:
                bits &= self._expression(operand)
                if not bits:
                    break
            return bits
        if kind is Or:
            bits = 0
            for operand in node.operands:
                bits |= self._expression(operand)
            return bits
        return self._leaf(node)

    def _leaf(self, node) -> int:
        bits = self._leaves.get(node)
        if bits is None:
            test = build(node)
            bits = 0
            for i, document in self._documents:
                if test(document):
                    bits |= 1 << i
            self._leaves[node] = bits
        return bits


def _comparisons(node):
    if type(node) in (And, Or):
        for operand in node.operands:
            yield from _comparisons(operand)
    elif type(node) is Comparison:
        yield node


def bits_to_flags(bits: int, start: int, count: int) -> tuple[bool, ...]:
    """Events start..start+count-1 of a batch answer, as one flag each."""
    return tuple(bool(bits >> i & 1) for i in range(start, start + count))


def _phrase_reads(phrase: str, needle: str) -> bool:
    """Whether replacing `needle` in a text can change whether `phrase` occurs in it.

    An occurrence of the phrase changes only where it overlaps the replaced text, the
    needle or what stands in its place: the phrase holds the needle or lies inside it,
    or one's start is the other's end. An all-digit needle stands for every number of
    its length (an account id replaced by another's): a phrase overlaps one when it
    starts or ends with a digit, or holds a run of that many digits. A region needle
    stands for itself only: the caller passes every region a rendering puts in its
    place."""
    if needle.isdigit():
        return (phrase[:1].isdigit() or phrase[-1:].isdigit()
                or any(len(run) >= len(needle) for run in _DIGIT_RUNS.findall(phrase)))
    return (needle in phrase or phrase in needle
            or any(needle.endswith(phrase[:n]) or needle.startswith(phrase[-n:])
                   for n in range(1, min(len(phrase), len(needle)) + 1)))


_DIGIT_RUNS = re.compile(r"[0-9]+")
