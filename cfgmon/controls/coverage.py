"""Pattern coverage: what each distinct metric filter pattern does to a control's catalogue.

Before a control's SQL runs, every distinct filter pattern in the inventory is
evaluated once against the control version's event catalogue, and every distinct
metric value and dimension selector is resolved against it. The answers go into
cfgmon_pattern_coverage and cfgmon_catalogue_value, so the control itself stays
plain, portable SQL.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cfgmon.controls.catalogue import CatalogueEvent, ControlVersion, EventSet
from cfgmon.store.bulk import insert_rows
from cfgmon.store.database import utc_now
from cfgmon.store.transaction import transaction
from cfgmon.text import counted

# How many record labels a "misses …" text names before summarising the rest.
MISSED_LABELS_SHOWN = 2


@dataclass(frozen=True)
class Coverage:
    pattern: str
    valid: bool
    error: str | None
    matched: tuple[bool, ...]          # per catalogue record, in catalogue order
    broader_than_reference: bool | None
    missed: str | None                 # what a person needs to hear about the misses
    background_matched: str | None = None  # the first ordinary record it matches

    @property
    def covers(self) -> bool:
        return self.valid and all(self.matched)


def evaluate_pattern(version: ControlVersion, pattern: str) -> Coverage:
    """Evaluate one pattern against the version's catalogue."""
    return _CatalogueEvents(version).evaluate(pattern)


class PatternBook:
    """Each distinct filter pattern compiled once for a whole run of the controls.

    compile_pattern's own cache is bounded below the thousands of distinct patterns a
    large estate holds, so without this every control would parse them all again.
    """

    def __init__(self) -> None:
        self._compiled: dict[str, object] = {}

    def compile(self, text: str):
        """The compiled pattern, or the PatternError AWS's rejection would carry."""
        from cfgmon.patterns import PatternError, compile_pattern

        if text not in self._compiled:
            try:
                self._compiled[text] = compile_pattern(text)
            except PatternError as exc:
                self._compiled[text] = exc
        return self._compiled[text]


class _CatalogueEvents:
    """A version's catalogue as log events, made once for many patterns.

    Each LogEvent keeps its parsed JSON, so thousands of patterns parse the
    catalogue once rather than once each.
    """

    def __init__(self, version: ControlVersion) -> None:
        self.version = version
        self.matches = _log_events(version.matches)
        self.does_not_match = _log_events(version.does_not_match)
        self.background_events = tuple(getattr(version, "background", ()))
        self.background = _log_events(self.background_events)

    def evaluate(self, pattern: str, book: PatternBook | None = None) -> Coverage:
        compiled = (book or PatternBook()).compile(pattern)
        if isinstance(compiled, Exception):
            return Coverage(pattern, False, str(compiled), (False,) * len(self.matches), None, None)
        matched = tuple(compiled.matches_all(self.matches))
        outside = compiled.matches_all(self.does_not_match)
        missed = describe_missed(self.version.matches, matched) if not all(matched) else None
        ordinary = compiled.matches_all(self.background)
        background = next((e.label for e, hit in zip(self.background_events, ordinary,
                                                     strict=True) if hit), None)
        return Coverage(pattern, True, None, matched, any(outside), missed, background)


def describe_missed(events: Sequence[CatalogueEvent], matched: Sequence[bool]) -> str:
    """Event names missed entirely, then a sample of the other records missed."""
    names_all: dict[str, list[bool]] = {}
    for event, hit in zip(events, matched, strict=True):
        names_all.setdefault(event.event_name, []).append(hit)
    whole = [name for name, hits in names_all.items() if not any(hits)]
    partial = [
        event.label
        for event, hit in zip(events, matched, strict=True)
        if not hit and event.event_name not in whole
    ]
    parts = list(whole)
    if partial:
        shown = "; ".join(partial[:MISSED_LABELS_SHOWN])
        more = len(partial) - MISSED_LABELS_SHOWN
        parts.append(f"{counted(len(partial), 'more record')}: {shown}"
                     + (f"; and {more} more" if more > 0 else ""))
    return ", ".join(parts)


def _log_events(events: Iterable[CatalogueEvent]) -> list:
    from cfgmon.patterns import LogEvent

    return [LogEvent(event.text) for event in events]


# Metric transformation expressions -------------------------------------------


@dataclass(frozen=True)
class CatalogueValue:
    expression: str
    constant_value: str | None
    min_number: float | None
    positive_number: bool


def evaluate_expression(version: ControlVersion, expression: str) -> CatalogueValue:
    """What a metricValue or dimension value selector yields on every catalogue record.

    AWS allows a literal number or a `$.field` selector here; anything else
    yields nothing, which is never a positive number.
    """
    values = [_resolve(expression, event.record) for event in version.matches]
    texts = {_as_text(v) for v in values}
    constant = texts.pop() if len(texts) == 1 else None
    numbers = [_as_number(v) for v in values]
    min_number = None if any(n is None for n in numbers) or not numbers else min(numbers)
    return CatalogueValue(expression, constant, min_number, min_number is not None and min_number > 0)


def _resolve(expression: str, record: dict):
    text = expression.strip()
    if not text.startswith("$."):
        return text
    value = record
    for part in text[2:].split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _as_text(value) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _as_number(value) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


# Writing the derived tables ------------------------------------------------

DERIVED_TABLES = ("cfgmon_pattern_coverage", "cfgmon_catalogue_value", "cfgmon_trail_capture",
                  "cfgmon_chain_control")


def derive_aside(con) -> None:
    """Give this connection empty temporary copies of the derived tables, shadowing the file's.

    A check that records nothing opens the database read-only, so that it can run while
    another process reads the file, yet derive() writes before the control SQL runs.
    DuckDB resolves an unqualified table name in the connection's temp schema first, so
    derive() and the control SQL, both unchanged, write and read these copies; the
    file's own tables are neither read nor written, and the copies go with the
    connection.
    """
    [(database,)] = con.execute("SELECT current_database()").fetchall()
    quoted = '"' + database.replace('"', '""') + '"'
    for table in DERIVED_TABLES:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {quoted}.main.{table} LIMIT 0"
        )


def derive(
    con, version: ControlVersion, events: EventSet | None = None, book: PatternBook | None = None
) -> dict[str, int]:
    """Recompute the derived tables of one control version and event set; returns counts.

    A version on a shared chain also gets its trail capture and its binding row
    (cfgmon_chain_control), which tell the chain which control it judges.
    """
    from cfgmon.controls.trail_capture import capture_rows

    events = events or version.event_set()
    control = version.control
    key = (control.id, version.version, events.name)
    now = utc_now()
    patterns = [
        row[0]
        for row in con.execute(
            "SELECT DISTINCT COALESCE(filter_pattern, '') FROM aws_cloudwatch_log_metric_filter"
        ).fetchall()
    ]
    expressions = [
        row[0]
        for row in con.execute(
            """SELECT metric_transformation_value FROM aws_cloudwatch_log_metric_filter
               WHERE metric_transformation_value IS NOT NULL
               UNION SELECT value_selector FROM aws_cloudwatch_log_metric_filter_dimension"""
        ).fetchall()
    ]
    catalogue = _CatalogueEvents(events)
    coverage_rows = []
    for pattern in patterns:
        c = catalogue.evaluate(pattern, book)
        coverage_rows.append((
            *key, pattern, c.valid, c.error, len(c.matched),
            sum(c.matched), c.covers, c.missed, c.broader_than_reference, c.background_matched,
            now,
        ))
    value_rows = []
    for expression in expressions:
        v = evaluate_expression(events, expression)
        value_rows.append((*key, expression, v.constant_value, v.min_number, v.positive_number, now))
    chained = version.chain is not None
    capture = capture_rows(con, events.matches, key, now) if chained else []
    # what reasons count: the event names (of this framework version's records), else records
    names = {e.event_name for e in events.matches} & set(control.event_names)
    counted = len(names) or len(events.matches)
    with transaction(con):
        for table in ("cfgmon_pattern_coverage", "cfgmon_catalogue_value", "cfgmon_trail_capture"):
            con.execute(
                f"DELETE FROM {table} WHERE control_id = ? AND control_version = ? AND event_set = ?",
                list(key),
            )
        insert_rows(con, "cfgmon_pattern_coverage", coverage_rows)
        insert_rows(con, "cfgmon_catalogue_value", value_rows)
        insert_rows(con, "cfgmon_trail_capture", capture)
        if chained:
            # the chain judges exactly the control bound here
            con.execute("DELETE FROM cfgmon_chain_control")
            con.execute("INSERT INTO cfgmon_chain_control VALUES (?, ?, ?, ?, ?, ?)",
                        [*key, control.event_noun, counted, control.applies_to])
    return {"patterns": len(coverage_rows), "expressions": len(value_rows),
            "trails": len(capture)}
