"""The CloudWatch Logs filter pattern language: tokenize -> parse -> evaluate.

    from cfgmon.patterns import compile_pattern, PatternError, LogEvent, matches

    pattern = compile_pattern(text)       # PatternError if AWS would reject it
    pattern.matches(LogEvent(record))     # as CloudWatch Logs would answer
    pattern.matches_all(events)           # list[bool], in order
    matches(pattern_text, event_text)     # the same, in one call (a SQL function)
    render(parse(text))                   # canonical text that parses back to the same AST

The behaviour is docs/filter-patterns.md; rules AWS leaves open are in decisions.py,
AWS's limits in limits.py. This package knows nothing about AWS APIs, SQL or the CLI.
"""

from cfgmon.patterns.compiled import FilterPattern, clear_caches, compile_pattern, matches
from cfgmon.patterns.errors import PatternError
from cfgmon.patterns.events import LogEvent
from cfgmon.patterns.parser import parse
from cfgmon.patterns.render import render

__all__ = [
    "FilterPattern",
    "LogEvent",
    "PatternError",
    "clear_caches",
    "compile_pattern",
    "matches",
    "parse",
    "render",
]
