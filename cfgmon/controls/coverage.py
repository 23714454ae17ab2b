"""Pattern coverage: what each distinct metric filter pattern does to a control's catalogue.

Before a control's SQL runs, every distinct filter pattern in the inventory is
evaluated once against the control version's event catalogue, and every distinct
metric value and dimension selector is resolved against it. The answers go into
cfgmon_pattern_coverage and cfgmon_catalogue_value, so the control itself stays
plain, portable SQL.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
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
    """A version's catalogue as one batch of log events, made once for many patterns.

    The batch holds the matching records, then the near misses, then the ordinary
    traffic; a pattern's answer for all of them is one EventBatch call, and the
    leaf conditions patterns share are tested once for the whole catalogue.
    """

    def __init__(self, version: ControlVersion) -> None:
        from cfgmon.patterns.batch import EventBatch

        self.version = version
        self.background_events = tuple(getattr(version, "background", ()))
        records = [*version.matches, *version.does_not_match, *self.background_events]
        self.batch = EventBatch([event.text for event in records])
        self._counts = (len(version.matches), len(version.does_not_match),
                        len(self.background_events))
        self._missed: dict[int, str | None] = {}  # many patterns miss the same records

    def evaluate(self, pattern: str, book: PatternBook | None = None) -> Coverage:
        from cfgmon.patterns.batch import bits_to_flags

        matching, near, _ = self._counts
        compiled = (book or PatternBook()).compile(pattern)
        if isinstance(compiled, Exception):
            return Coverage(pattern, False, str(compiled), (False,) * matching, None, None)
        bits = self.batch.matches(compiled)
        matched = bits_to_flags(bits, 0, matching)
        outside = bits >> matching & ((1 << near) - 1)
        hits = bits >> (matching + near)
        background = None
        if hits:
            first = (hits & -hits).bit_length() - 1  # the lowest set bit: the first record hit
            background = self.background_events[first].label
        return Coverage(pattern, True, None, matched, outside != 0, self._describe(bits, matched),
                        background)

    def _describe(self, bits: int, matched: tuple[bool, ...]) -> str | None:
        if all(matched):
            return None
        key = bits & ((1 << len(matched)) - 1)
        if key not in self._missed:
            self._missed[key] = describe_missed(self.version.matches, matched)
        return self._missed[key]


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
    """Recompute the derived tables of one control version and event set; returns counts."""
    return derive_many(con, [(version, events or version.event_set())], book)


def derive_many(
    con, bindings: Sequence[tuple[ControlVersion, EventSet]], book: PatternBook | None = None
) -> dict[str, int]:
    """Recompute the derived tables of each (control version, event set); returns counts.

    The inventory's distinct patterns and expressions are read once for all of them
    and every row is written in one transaction. The versions on a shared chain also
    get their trail capture and a binding row each (cfgmon_chain_control), which tell
    the chain which controls it judges, and nothing else.
    """
    from cfgmon.controls.trail_capture import capture_rows

    book = book or PatternBook()
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
    coverage_rows: list[tuple] = []
    value_rows: list[tuple] = []
    capture: list[tuple] = []
    binding_rows: list[tuple] = []
    for version, events in bindings:
        control = version.control
        key = (control.id, version.version, events.name)
        catalogue = _CatalogueEvents(events)
        for pattern in patterns:
            c = catalogue.evaluate(pattern, book)
            coverage_rows.append((
                *key, pattern, c.valid, c.error, len(c.matched),
                sum(c.matched), c.covers, c.missed, c.broader_than_reference,
                c.background_matched, now,
            ))
        for expression in expressions:
            v = evaluate_expression(events, expression)
            value_rows.append((*key, expression, v.constant_value, v.min_number,
                               v.positive_number, now))
        if version.chain is not None:
            capture += capture_rows(con, events.matches, key, now)
            # what reasons count: the event names (of this framework version's records),
            # else the records
            names = {e.event_name for e in events.matches} & set(control.event_names)
            binding_rows.append((*key, control.event_noun, len(names) or len(events.matches),
                                 control.applies_to))
    keys = list({(v.control.id, v.version, e.name) for v, e in bindings})
    with transaction(con):
        for table in ("cfgmon_pattern_coverage", "cfgmon_catalogue_value", "cfgmon_trail_capture"):
            for key in keys:
                con.execute(
                    f"DELETE FROM {table} "
                    "WHERE control_id = ? AND control_version = ? AND event_set = ?",
                    list(key),
                )
        insert_rows(con, "cfgmon_pattern_coverage", coverage_rows)
        insert_rows(con, "cfgmon_catalogue_value", value_rows)
        insert_rows(con, "cfgmon_trail_capture", capture)
        if binding_rows:
            # the chain judges exactly the controls bound here
            con.execute("DELETE FROM cfgmon_chain_control")
            insert_rows(con, "cfgmon_chain_control", binding_rows)
    return {"patterns": len(patterns), "expressions": len(expressions),
            "trails": len(capture) // max(1, len(binding_rows))}
