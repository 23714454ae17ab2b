"""Pattern coverage: what each distinct metric filter pattern does to a control's catalogue.

Before a control's SQL runs, every distinct filter pattern in the inventory is
evaluated once against the control version's event catalogue, and every distinct
metric value and dimension selector is resolved against it. The answers go into
cfgmon_pattern_coverage, cfgmon_catalogue_value and cfgmon_dimension_value, so the
control itself stays plain, portable SQL.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from cfgmon.controls import alarm_judgement
from cfgmon.controls.catalogue import CATALOGUE_ACCOUNT, CatalogueEvent, ControlVersion, EventSet
from cfgmon.controls.chains import KEYED_TABLES
from cfgmon.controls.rendering import CATALOGUE, Rendering, catalogue_regions, where_missed
from cfgmon.parallel import map_forked
from cfgmon.patterns.batch import EventBatch, bits_to_flags
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
    return CatalogueBatch([version]).evaluate(pattern)[0]


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


# How many renderings in an account's regions a CatalogueBatch keeps at once; work is
# ordered by rendering (JudgedRenderings), so one is rarely built twice.
KEPT_REGIONAL_RENDERINGS = 4


class CatalogueBatch:
    """The catalogues of several event sets as one batch of log events, for many patterns.

    Each set contributes its matching records, its near misses and its ordinary
    traffic, one after the other; a pattern's answer for every record of every set is
    one EventBatch call, so the leaf conditions the inventory's patterns share are
    tested once per record for the whole run, and each set reads its own bits.
    """

    def __init__(self, sets: Sequence[EventSet | ControlVersion]) -> None:
        records: list[CatalogueEvent] = []
        self._sets = []
        for events in sets:
            background = tuple(getattr(events, "background", ()))
            self._sets.append(_SetBits(events, len(records), len(events.matches),
                                       len(events.does_not_match), background))
            records += [*events.matches, *events.does_not_match, *background]
        self._records = records
        self._texts = [event.text for event in records]
        self.batch = EventBatch(self._texts)
        # the renderings built, and for each, where each record's copies sit
        self._rendered: dict[Rendering, EventBatch] = {}
        self._regional: list[Rendering] = []  # the renderings with regions kept, oldest first
        self._copies: dict[tuple[str, ...], list[list[int]]] = {}
        self._regions = tuple(sorted(catalogue_regions(records)))
        # records a rendering matches only when every copy matches (those a covering
        # filter must match); near misses and ordinary records match when any copy does
        self._every_copy = {i for s in self._sets for i in range(s.start, s.start + s.matching)}

    def evaluate(self, pattern: str, book: PatternBook | None = None) -> list[Coverage]:
        """The pattern's coverage of each set, in order."""
        compiled = (book or PatternBook()).compile(pattern)
        if isinstance(compiled, Exception):
            return [Coverage(pattern, False, str(compiled), (False,) * s.matching, None, None)
                    for s in self._sets]
        bits = self.batch.matches(compiled)
        return [s.coverage(pattern, bits) for s in self._sets]

    def answer(self, compiled, account_id: str = "") -> int:
        """The records a compiled pattern matches, as bits; with `account_id`, in that
        account's rendering of the catalogue (its id where the records have theirs)."""
        return self.raw(compiled, Rendering(account_id))

    def raw(self, compiled, rendering: Rendering) -> int:
        """What a compiled pattern matches in a rendering, as bits of its log events
        (one per record without regions; fold() turns copies back into records)."""
        if rendering == CATALOGUE:
            return self.batch.matches(compiled)
        return self._rendering(rendering).matches(compiled)

    def _rendering(self, rendering: Rendering) -> EventBatch:
        found = self._rendered.get(rendering)
        if found is None:
            found = self._rendered[rendering] = EventBatch(rendering.texts(self._records))
            if rendering.regions:
                # a rendering in an account's regions holds a copy of each regional record
                # per region (some 50 MB for a family's catalogue in 17 regions): only the
                # latest few are kept, so memory stays flat however many accounts
                self._regional.append(rendering)
                if len(self._regional) > KEPT_REGIONAL_RENDERINGS:
                    del self._rendered[self._regional.pop(0)]
        return found

    def fold(self, bits: int, rendering: Rendering) -> tuple[int, dict[int, str]]:
        """A rendering's bits as one bit per record, and for each covering record
        matched in some of the account's regions only, where it is missed
        (rendering.where_missed)."""
        if not rendering.regions:
            return bits, {}
        # where each record's copies sit (the regions decide it): no texts are built
        copies = self._copies.get(rendering.regions)
        if copies is None:
            copies = self._copies[rendering.regions] = rendering.copies(self._records)
        folded, missed = 0, {}
        for i, members in enumerate(copies):
            hits = [bits >> c & 1 for c in members]
            if i in self._every_copy:
                if all(hits):
                    folded |= 1 << i
                elif any(hits):  # missed in some regions only: say where
                    missed[i] = where_missed(rendering.regions, hits)
            elif any(hits):
                folded |= 1 << i
        return folded, missed

    def reads_account(self, compiled) -> bool:
        """Whether the pattern can answer differently for different judged accounts."""
        return self.batch.reads_text(compiled, CATALOGUE_ACCOUNT)

    def reads(self, compiled, regions: Sequence[str] = ()) -> tuple[bool, bool]:
        """Whether the pattern can answer differently for different judged accounts, and
        in different regions (`regions`: those a rendering may put in place of the
        catalogue's, which a term can read as well as the catalogue's own)."""
        return self.batch.reads_each(compiled, ((CATALOGUE_ACCOUNT,), (*self._regions, *regions)))

    def rows(self, compiled_or_error, bits: int = 0, rendering: Rendering | None = None) -> list[tuple]:
        """Per set: (valid, error, total, matched, covers, missed, broader, background),
        the coverage table's columns, without building a Coverage for each; `bits` in
        `rendering`'s log events (the catalogue's own by default)."""
        if isinstance(compiled_or_error, Exception):
            return [(False, str(compiled_or_error), s.matching, 0, False, None, None, None)
                    for s in self._sets]
        if rendering is None or not rendering.regions:
            return [s.row(bits) for s in self._sets]
        folded, missed = self.fold(bits, rendering)
        return [s.row(folded, s.partly_missed(missed)) for s in self._sets]

    def union_row(self, index: int, bits: int, rendering: Rendering | None = None) -> tuple:
        """(total, matched, covers, missed, background) of set `index` for several
        patterns' answers (in `rendering`'s log events) or'ed together."""
        folded, missed = self.fold(bits, rendering or CATALOGUE)
        s = self._sets[index]
        row = s.row(folded, s.partly_missed(missed))
        return row[2:6] + row[7:]

    def background_of(self, index: int, bits: int, rendering: Rendering | None = None) -> str | None:
        """The first ordinary record of set `index` that these bits match."""
        return self._sets[index].row(self.fold(bits, rendering or CATALOGUE)[0])[7]


class _SetBits:
    """Where one event set's records sit in a CatalogueBatch, and what its bits mean."""

    def __init__(self, events, start: int, matching: int, near: int,
                 background: tuple[CatalogueEvent, ...]) -> None:
        self.events = events
        self.start, self.matching, self.near = start, matching, near
        self.background = background
        self.all = (1 << matching) - 1
        self._missed: dict[tuple, str] = {}  # many patterns miss the same records

    def _split(self, bits: int) -> tuple[int, bool, str | None]:
        own = bits >> self.start
        hits = own & self.all
        outside = (own >> self.matching) & ((1 << self.near) - 1) != 0
        ordinary = (own >> (self.matching + self.near)) & ((1 << len(self.background)) - 1)
        # the lowest set bit: the first ordinary record the pattern matches
        first = self.background[(ordinary & -ordinary).bit_length() - 1].label if ordinary else None
        return hits, outside, first

    def _describe(self, hits: int, partly: tuple[tuple[int, str], ...] = ()) -> str | None:
        """What the misses are: the records missed in every region named plainly, then
        those missed in some regions only, with the regions (`partly`, from
        partly_missed())."""
        if hits == self.all:
            return None
        if (hits, partly) not in self._missed:
            self._missed[hits, partly] = self._missed_text(hits, dict(partly))
        return self._missed[hits, partly]

    def _missed_text(self, hits: int, partly: dict[int, str]) -> str:
        matched = bits_to_flags(hits, 0, self.matching)
        everywhere = [not hit and i not in partly for i, hit in enumerate(matched)]
        parts = []
        if any(everywhere):
            parts.append(describe_missed(self.events.matches, [not m for m in everywhere]))
        by_regions: dict[str, set[int]] = {}
        for i, where in partly.items():
            by_regions.setdefault(where, set()).add(i)
        for where, records in sorted(by_regions.items()):
            flags = [i not in records for i in range(self.matching)]
            parts.append(describe_missed(self.events.matches, flags) + f" ({where})")
        return "; ".join(parts)

    def partly_missed(self, missed: dict[int, str]) -> tuple[tuple[int, str], ...]:
        """This set's covering records missed in some regions only, from fold(): (the
        record's index in the set, where it is missed)."""
        return tuple((i - self.start, missed[i])
                     for i in range(self.start, self.start + self.matching) if i in missed)

    def coverage(self, pattern: str, bits: int) -> Coverage:
        hits, outside, first = self._split(bits)
        return Coverage(pattern, True, None, bits_to_flags(hits, 0, self.matching), outside,
                        self._describe(hits), first)

    def row(self, bits: int, partly: tuple[tuple[int, tuple[str, ...]], ...] = ()) -> tuple:
        hits, outside, first = self._split(bits)
        return (True, None, self.matching, hits.bit_count(), hits == self.all,
                self._describe(hits, partly), outside, first)


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
    return evaluate_records([event.record for event in version.matches], expression)


def evaluate_records(records: Sequence[dict], expression: str) -> CatalogueValue:
    """evaluate_expression over these records (a rendering of the catalogue's)."""
    values = [_resolve(expression, record) for record in records]
    texts = {_as_text(v) for v in values}
    constant = texts.pop() if len(texts) == 1 else None
    numbers = [_as_number(v) for v in values]
    min_number = None if any(n is None for n in numbers) or not numbers else min(numbers)
    return CatalogueValue(expression, constant, min_number, min_number is not None and min_number > 0)


def dimension_texts(events: EventSet | ControlVersion, selector: str) -> list[str | None]:
    """What a dimension's value selector yields on each catalogue record, as text
    (None where a record yields nothing a dimension can hold)."""
    return [_as_text(_resolve(selector, event.record)) for event in events.matches]


def _one_value(texts: Sequence[str | None]) -> str | None:
    """The one value every record yields, else None."""
    distinct = set(texts)
    return distinct.pop() if len(distinct) == 1 else None


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
                  "cfgmon_metric_coverage", "cfgmon_alarm_response", "cfgmon_alarm_route",
                  "cfgmon_chain_control", "cfgmon_topic_delivery", "cfgmon_dimension_value",
                  "cfgmon_judged_coverage", "cfgmon_judged_value", "cfgmon_group_coverage")
COVERAGE_COLUMNS = (
    "control_id", "control_version", "event_set", "judged_account_id", "filter_pattern",
    "pattern_valid", "pattern_error", "events_total", "events_matched", "covers_catalogue",
    "missed_events", "broader_than_reference", "background_matched", "evaluated_at",
)


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
    (the patterns judged in forked shares, cfgmon.parallel) and every row is written
    in one transaction. The versions on a shared chain also get their trail capture
    and a binding row each (cfgmon_chain_control), which tell the chain which
    controls it judges, and nothing else.
    """
    from cfgmon.controls.judged_rendering import JudgedRenderings
    from cfgmon.controls.trail_capture import capture_rows, trail_selectors

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
    keys = [(v.control.id, v.version, e.name) for v, e in bindings]
    catalogue = CatalogueBatch([events for _, events in bindings])
    judged: dict[str, list[str]] | None = None  # read only if a pattern reads the account
    answers: dict[tuple[str, str], int] = {}  # (pattern, account or ''): bits
    judged_rows = JudgedRenderings(con, catalogue, keys, book, _judged_accounts)
    # every pattern judged in the catalogue's own rendering, on all of the machine's
    # cores; a pattern that reads the account or region is compiled again here
    judge = functools.partial(_catalogue_answers, catalogue, book, judged_rows.all_regions())
    for pattern, (bits, rows, by_account, by_region) in zip(
            patterns, map_forked(judge, patterns), strict=True):
        if bits is not None:
            answers[pattern, ""] = bits
        for key, row in zip(keys, rows, strict=True):
            coverage_rows.append((*key, "", pattern, *row, now))
        if by_account or by_region:
            compiled = book.compile(pattern)
            if judged is None:
                judged = _judged_accounts(con)
            # the judged account's rendering: its id and its regions (chain version 4)
            judged_rows.add_pattern(pattern, compiled, judged, by_account, by_region)
        if not by_account:
            continue
        # a pattern that reads the account's id is judged in each account's own rendering
        for account in judged.get(pattern, ()):
            bits = answers[pattern, account] = catalogue.answer(compiled, account)
            for key, row in zip(keys, catalogue.rows(compiled, bits), strict=True):
                coverage_rows.append((*key, account, pattern, *row, now))
    judged_rows.evaluate_patterns(now)
    values: dict[tuple, dict[str, bool]] = {}
    event_values: dict[str | None, set[float | None]] = {}
    trails = trail_selectors(con)
    selectors = [row[0] for row in con.execute(
        "SELECT DISTINCT value_selector FROM aws_cloudwatch_log_metric_filter_dimension "
        "ORDER BY 1").fetchall()]
    selector_accounts: dict[str, list[str]] | None = None  # read only if a value reads one
    dimension_rows: list[tuple] = []
    for index, ((version, events), key) in enumerate(zip(bindings, keys, strict=True)):
        control = version.control
        values[key] = {}
        for expression in expressions:
            v = evaluate_expression(events, expression)
            values[key][expression] = v.positive_number
            judged_rows.add_values(index, events, expression, v, now)
            event_values.setdefault(expression, set()).add(v.min_number)
            value_rows.append((*key, expression, v.constant_value, v.min_number,
                               v.positive_number, now))
        for selector in selectors:
            texts = dimension_texts(events, selector)
            if not any(CATALOGUE_ACCOUNT in text for text in texts if text is not None):
                dimension_rows.append((*key, "", selector, _one_value(texts), now))
                continue
            # a value holding the account's id: each judged account's own
            if selector_accounts is None:
                selector_accounts = _judged_accounts(con, FILTER_SELECTORS)
            for account in selector_accounts.get(selector, ()):
                rendered = [None if text is None else text.replace(CATALOGUE_ACCOUNT, account)
                            for text in texts]
                dimension_rows.append((*key, account, selector, _one_value(rendered), now))
        if version.chain is not None:
            capture += capture_rows(trails, events.matches, key, now)
            # what reasons count: the event names (of this framework version's records),
            # else the records
            names = {e.event_name for e in events.matches} & set(control.event_names)
            binding_rows.append((*key, control.event_noun, len(names) or len(events.matches),
                                 control.applies_to))
    same_metric = con.execute(SAME_METRIC).fetchall()
    metric_rows = _metric_union_rows(same_metric, catalogue, keys, answers, values, judged or {},
                                     now)
    group_rows = judged_rows.group_rows(
        same_metric, {(row[:3], row[3], row[4]): row[5] for row in dimension_rows}, now)
    for expression, numbers in judged_rows.event_values().items():
        event_values.setdefault(expression, set()).update(numbers)
    responses = alarm_judgement.response_rows(con, event_values, now)
    routes = alarm_judgement.composite_route_rows(con, now)
    with transaction(con):
        for table in KEYED_TABLES:
            for key in dict.fromkeys(keys):
                con.execute(
                    f"DELETE FROM {table} "
                    "WHERE control_id = ? AND control_version = ? AND event_set = ?",
                    list(key),
                )
        insert_rows(con, "cfgmon_pattern_coverage", coverage_rows, COVERAGE_COLUMNS)
        insert_rows(con, "cfgmon_metric_coverage", metric_rows)
        # what alarms do is the same for every control: only this run's rows are kept
        con.execute("DELETE FROM cfgmon_alarm_response")
        con.execute("DELETE FROM cfgmon_alarm_route")
        insert_rows(con, "cfgmon_alarm_response", responses)
        con.execute(alarm_judgement.DIRECT_ROUTES, [now])
        insert_rows(con, "cfgmon_alarm_route", routes)
        insert_rows(con, "cfgmon_catalogue_value", value_rows)
        insert_rows(con, "cfgmon_dimension_value", dimension_rows)
        insert_rows(con, "cfgmon_judged_coverage", judged_rows.coverage_rows, COVERAGE_COLUMNS)
        insert_rows(con, "cfgmon_judged_value", judged_rows.value_rows)
        insert_rows(con, "cfgmon_group_coverage", group_rows)
        insert_rows(con, "cfgmon_trail_capture", capture)
        if binding_rows:
            # the chain judges exactly the controls bound here
            con.execute("DELETE FROM cfgmon_chain_control")
            insert_rows(con, "cfgmon_chain_control", binding_rows)
    return {"patterns": len(patterns), "expressions": len(expressions),
            "trails": len(capture) // max(1, len(binding_rows))}


def _catalogue_answers(catalogue: CatalogueBatch, book: PatternBook, regions: Sequence[str],
                       patterns: Sequence[str]) -> list[tuple]:
    """For each pattern: its bits in the catalogue's own rendering (None: AWS rejects
    it), its coverage rows, and whether it reads the judged account's id and region.
    Pure Python on what a forked child inherits: no query, and every answer pickles."""
    answers = []
    for pattern in patterns:
        compiled = book.compile(pattern)
        if isinstance(compiled, Exception):
            answers.append((None, catalogue.rows(compiled), False, False))
            continue
        bits = catalogue.answer(compiled)
        answers.append((bits, catalogue.rows(compiled, bits), *catalogue.reads(compiled, regions)))
    return answers


# What _judged_accounts looks up, for each filter: its pattern, or each of its
# dimensions' value selectors; and the filter's account.
FILTER_PATTERNS = ("SELECT COALESCE(filter_pattern, '') AS looked_up, account_id "
                   "FROM aws_cloudwatch_log_metric_filter")
FILTER_SELECTORS = ("SELECT value_selector AS looked_up, account_id "
                    "FROM aws_cloudwatch_log_metric_filter_dimension")


def _judged_accounts(con, filters: str = FILTER_PATTERNS) -> dict[str, list[str]]:
    """For each pattern (or what `filters` names of each filter), the accounts whose
    chains may reach a filter with it.

    A trail delivers to a log group of its own account, and a trail applies to its
    own account or, as an organisation trail, to the members of its management
    account's organisation: so a filter in account F is judged for F and, when F
    manages an organisation, for its members and for every account that lists an
    organisation trail F owns.
    """
    judged: dict[str, list[str]] = {}
    for looked_up, account in con.execute(
        f"""WITH f AS ({filters})
           SELECT DISTINCT f.looked_up, f.account_id FROM f
           UNION
           SELECT DISTINCT f.looked_up, a.account_id
           FROM f JOIN cfgmon_account a ON a.management_account_id = f.account_id
           UNION
           -- a member whose organisation is unknown may still list the organisation trail
           SELECT DISTINCT f.looked_up, t.account_id
           FROM f JOIN aws_cloudtrail_trail t
             ON t.is_organization_trail = TRUE AND t.owner_account_id = f.account_id
           ORDER BY 1, 2"""
    ).fetchall():
        judged.setdefault(looked_up, []).append(account)
    return judged


# Filters of one log group publishing one metric (namespace, name, unit, dimensions and
# default value: the alarm's answer to quiet depends on the default).
SAME_METRIC = """
    WITH dimensions AS (
        SELECT account_id, region, log_group_name, filter_name,
               STRING_AGG(dimension_name || '=' || value_selector, ','
                          ORDER BY dimension_name) AS dimensions
        FROM aws_cloudwatch_log_metric_filter_dimension
        GROUP BY account_id, region, log_group_name, filter_name),
    published AS (
        SELECT f.account_id, f.region, f.log_group_name, f.name,
               COALESCE(f.filter_pattern, '') AS pattern,
               f.metric_transformation_value AS metric_value,
               f.metric_transformation_namespace AS namespace,
               f.metric_transformation_name AS metric_name,
               COALESCE(f.metric_transformation_unit, 'None') AS unit,
               COALESCE(d.dimensions, '') AS dimensions,
               COALESCE(CAST(f.metric_transformation_default_value AS VARCHAR), '')
                   AS default_value
        FROM aws_cloudwatch_log_metric_filter f
        LEFT JOIN dimensions d
          ON d.account_id = f.account_id AND d.region = f.region
         AND d.log_group_name = f.log_group_name AND d.filter_name = f.name
        WHERE f.metric_transformation_name IS NOT NULL)
    SELECT account_id, region, log_group_name, name, pattern, metric_value, namespace,
           metric_name, unit, dimensions, default_value
    FROM (SELECT *, COUNT(*) OVER (PARTITION BY account_id, region, log_group_name,
                                                namespace, metric_name, unit, dimensions,
                                                default_value)
                        AS filters
          FROM published) grouped
    WHERE filters > 1
    ORDER BY account_id, region, log_group_name, name"""


def _metric_union_rows(same_metric, catalogue: CatalogueBatch, keys, answers, values, judged,
                       now) -> list[tuple]:
    """Rows for the filters of a log group that publish one metric together.

    A metric is its namespace, name, unit and dimensions (name and value selector);
    filters with different default values are not judged together (the alarm's
    answer to quiet depends on the default, and each chain row judges its own filter's);
    a filter counts towards what the metric's alarm sees only when its value is a
    positive number for the control (a zero or negative value raises nothing).
    """
    groups: dict[tuple, list[tuple[str, str, str]]] = {}
    for row in same_metric:
        account, region, log_group, name, pattern, value, *metric = row
        groups.setdefault((account, region, log_group, *metric), []).append((name, pattern, value))
    rows: list[tuple] = []
    for (account, region, log_group, *_), members in groups.items():
        if len(members) < 2:
            continue
        names = ", ".join(name for name, _, _ in members)
        renderings = [""] + sorted({a for _, pattern, _ in members
                                    for a in judged.get(pattern, ()) if (pattern, a) in answers})
        for judged_account in renderings:
            for index, key in enumerate(keys):
                bits = 0
                for _, pattern, value in members:
                    if values[key].get(value):
                        bits |= answers.get((pattern, judged_account),
                                            answers.get((pattern, ""), 0))
                total, matched, covers, missed, background = catalogue.union_row(index, bits)
                for name, _, _ in members:
                    rows.append((*key, judged_account, account, region, log_group, name, names,
                                 len(members), total, matched, covers, missed, background, now))
    return rows
