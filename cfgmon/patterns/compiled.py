"""FilterPattern: a parsed, compiled pattern, ready to test events; cached by text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from cfgmon.patterns.evaluate import Predicate, compile_ast
from cfgmon.patterns.events import LogEvent
from cfgmon.patterns.nodes import JsonPattern, MatchAll, Pattern, SpacePattern, TermPattern
from cfgmon.patterns.parser import parse
from cfgmon.patterns.render import render

KINDS: dict[type, str] = {
    MatchAll: "match-all",
    JsonPattern: "json",
    TermPattern: "terms",
    SpacePattern: "space-delimited",
}


@dataclass(frozen=True, eq=False)
class FilterPattern:
    """A CloudWatch Logs filter pattern that parsed; `matches` answers as AWS would."""

    text: str
    ast: Pattern
    _predicate: Predicate = field(repr=False)

    @property
    def kind(self) -> str:
        """match-all, json, terms or space-delimited."""
        return KINDS[type(self.ast)]

    def matches(self, event: LogEvent | str) -> bool:
        return bool(self._predicate(event if type(event) is LogEvent else LogEvent(event)))  # type: ignore[arg-type]

    def matches_all(self, events: Iterable[LogEvent | str]) -> list[bool]:
        predicate = self._predicate
        return [
            bool(predicate(event if type(event) is LogEvent else LogEvent(event)))  # type: ignore[arg-type]
            for event in events
        ]

    def render(self) -> str:
        """The canonical text of this pattern."""
        return render(self.ast)


# Bounded: an inventory holds far fewer distinct patterns, and an unbounded cache of
# compiled closures would only make every garbage collection slower.
@lru_cache(maxsize=2048)
def compile_pattern(text: str) -> FilterPattern:
    """Parse and compile `text` once; PatternError when AWS would reject it."""
    ast = parse(text)
    return FilterPattern(text, ast, compile_ast(ast))


@lru_cache(maxsize=256)
def _event(text: str) -> LogEvent:
    return LogEvent(text)


def matches(pattern_text: str, event_text: str) -> bool:
    """Whether the pattern matches the raw event (for SQL: filter_pattern_matches)."""
    return compile_pattern(pattern_text).matches(_event(event_text))


def clear_caches() -> None:
    """Forget every compiled pattern, selector, value and leaf test (tests, benchmarks,
    long-running processes after a large inventory)."""
    from cfgmon.patterns import evaluate, parser, regexes

    compile_pattern.cache_clear()
    _event.cache_clear()
    parser.parse_selector.cache_clear()
    parser._wildcards.cache_clear()
    parser._literal.cache_clear()
    regexes.compile_regex.cache_clear()
    for builder in evaluate._EXPRESSIONS.values():
        getattr(builder, "cache_clear", lambda: None)()
