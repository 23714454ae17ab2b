"""What a control's catalogue gives in the rendering of the account a chain judges.

The derived rows alarm_chain version 4 reads beside the catalogue's own (rendering.py
says how a judged account's rendering is made):

- cfgmon_judged_coverage: a pattern that reads the account's id or a region, in each
  judged account's rendering; each distinct pattern is evaluated once per distinct
  rendering it can tell apart (a pattern reading regions only, once per set of
  regions), and a pattern reading neither has only its catalogue row;
- cfgmon_judged_value: a metric value whose records hold the account's id, per judged
  account;
- cfgmon_group_coverage: the filters of a log group whose events one alarm sees
  together, in the judged account's rendering: those publishing one metric (any alarm
  on it sees them all; alarm_arn ''), and those whose different metrics one
  metric-math alarm reads (`m1 + m2`, `SUM(METRICS())`), each counted when one of its
  events alone puts the alarm into ALARM, as cfgmon.alarms evaluates it (the other
  filters publish their default value for that event, when they have one), with that
  answer (the chain's alarm link for the filter in the group).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass

from cfgmon.controls import alarm_judgement
from cfgmon.controls.catalogue import CATALOGUE_ACCOUNT, EventSet
from cfgmon.controls.coverage import dimension_texts, evaluate_records
from cfgmon.controls.rendering import CATALOGUE, Rendering, account_regions

# The filters a metric-math alarm on a trail's log group reads through its MetricStats
# (same account and region, name, namespace, and unit when the MetricStat names one),
# for alarms that read the metrics of several filters of one log group.
ALARM_READS = """
    WITH stat AS (
        SELECT account_id, region, alarm_arn, id AS metric_id, metric_name, namespace, unit
        FROM aws_cloudwatch_alarm_metric
        WHERE metric_name IS NOT NULL
          AND (metric_account_id IS NULL OR metric_account_id = account_id)),
    reads AS (
        SELECT s.account_id, s.region, s.alarm_arn, s.metric_id, f.log_group_name, f.name,
               COALESCE(f.filter_pattern, '') AS pattern, f.metric_transformation_value,
               f.metric_transformation_default_value
        FROM stat s
        JOIN aws_cloudwatch_log_metric_filter f
          ON f.account_id = s.account_id AND f.region = s.region
         AND f.metric_transformation_name = s.metric_name
         AND f.metric_transformation_namespace = s.namespace
         AND (s.unit IS NULL OR s.unit = COALESCE(f.metric_transformation_unit, 'None'))
        WHERE """ + alarm_judgement.on_trail_log_group("f") + """),
    several AS (
        SELECT account_id, region, alarm_arn, log_group_name FROM reads
        GROUP BY account_id, region, alarm_arn, log_group_name
        HAVING COUNT(DISTINCT metric_id) > 1)
    SELECT r.* FROM reads r
    SEMI JOIN several g
      ON g.account_id = r.account_id AND g.region = r.region AND g.alarm_arn = r.alarm_arn
     AND g.log_group_name = r.log_group_name
    ORDER BY r.account_id, r.region, r.alarm_arn, r.log_group_name, r.name, r.metric_id"""

# The accounts whose chains can reach each log group a trail delivers to, as the chain's
# applicable_trail joins them: the account that lists the trail (its own, or a member's
# copy of an organisation trail) and, for an organisation trail listed by its owner, the
# members cfgmon_account places under that management account.
LOG_GROUP_READERS = """
    SELECT t.log_group_account_id, t.log_group_region, t.log_group_name, t.account_id
    FROM aws_cloudtrail_trail t
    WHERE t.log_group_name IS NOT NULL
    UNION
    SELECT t.log_group_account_id, t.log_group_region, t.log_group_name, a.account_id
    FROM aws_cloudtrail_trail t
    JOIN cfgmon_account a ON a.management_account_id = t.account_id
    WHERE t.log_group_name IS NOT NULL AND t.is_organization_trail = TRUE
      AND t.owner_account_id = t.account_id"""

FILTER_VALUES = ("SELECT metric_transformation_value AS looked_up, account_id "
                 "FROM aws_cloudwatch_log_metric_filter "
                 "WHERE metric_transformation_value IS NOT NULL")


@dataclass(frozen=True)
class Member:
    """A filter of a group: what it matches, publishes, and the MetricStat reading it."""

    name: str
    pattern: str
    value: str | None
    default: float | None = None
    metric_id: str = ""      # '' in a same-metric group


class JudgedRenderings:
    """The version-4 rows of one derive: built up while derive() reads the inventory."""

    def __init__(self, con, catalogue, keys, book, judged_accounts) -> None:
        self.con, self.catalogue, self.keys, self.book = con, catalogue, keys, book
        self._judged_accounts = judged_accounts   # (con, query) -> {looked up: [accounts]}
        self._regions: dict[str, tuple[str, ...]] | None = None
        self._all_regions: tuple[str, ...] | None = None
        self._value_accounts: dict[str, list[str]] | None = None
        self._readers: dict[tuple[str, str, str], set[str]] | None = None
        self._evaluated: dict[tuple[str, Rendering], tuple[int, list[tuple]]] = {}
        # patterns added, by the rendering they are judged in: (pattern, compiled, account)
        self._pending: dict[Rendering, list[tuple[str, object, str]]] = {}
        # (pattern, judged account): the rendering its answer is in
        self.renderings: dict[tuple[str, str], Rendering] = {}
        self.coverage_rows: list[tuple] = []
        self.value_rows: list[tuple] = []
        # (key index, judged account, expression): (positive, min number)
        self.numbers: dict[tuple[int, str, str], tuple[bool, float | None]] = {}

    def regions(self, account: str) -> tuple[str, ...]:
        return self._account_regions().get(account, ())

    def _account_regions(self) -> dict[str, tuple[str, ...]]:
        if self._regions is None:
            self._regions = account_regions(self.con)
        return self._regions

    def all_regions(self) -> tuple[str, ...]:
        """Every region some account's rendering uses."""
        if self._all_regions is None:
            self._all_regions = tuple(sorted(
                {r for names in self._account_regions().values() for r in names}))
        return self._all_regions

    def readers(self, account: str, region: str, log_group: str) -> set[str]:
        """The accounts whose chains can reach this log group: its own account, and
        those a trail delivering to it applies to (LOG_GROUP_READERS)."""
        if self._readers is None:
            self._readers = {}
            for *where, reader in self.con.execute(LOG_GROUP_READERS).fetchall():
                self._readers.setdefault(tuple(where), set()).add(reader)
        return {account} | self._readers.get((account, region, log_group), set())

    # -- patterns ----------------------------------------------------------------------

    def add_pattern(self, pattern: str, compiled, judged: dict[str, list[str]],
                    by_account: bool, by_region: bool) -> None:
        """A valid pattern that reads the account's id (`by_account`) or a region, to be
        judged per judged account in its rendering (evaluate_patterns)."""
        for account in judged.get(pattern, ()):
            rendering = Rendering(account if by_account else "",
                                  self.regions(account) if by_region else ())
            self.renderings[pattern, account] = rendering
            self._pending.setdefault(rendering, []).append((pattern, compiled, account))

    def evaluate_patterns(self, now) -> None:
        """The coverage rows of the patterns added, each distinct rendering evaluated
        once and built once: the work goes rendering by rendering."""
        for rendering, work in self._pending.items():
            for pattern, compiled, account in work:
                _, rows = self._evaluate(pattern, compiled, rendering)
                for key, row in zip(self.keys, rows, strict=True):
                    self.coverage_rows.append((*key, account, pattern, *row, now))
        self._pending.clear()

    def _bits(self, pattern: str, compiled, rendering: Rendering) -> int:
        """What the pattern matches in the rendering, from its evaluation when it had one."""
        found = self._evaluated.get((pattern, rendering))
        return self.catalogue.raw(compiled, rendering) if found is None else found[0]

    def _evaluate(self, pattern: str, compiled, rendering: Rendering) -> tuple[int, list[tuple]]:
        found = self._evaluated.get((pattern, rendering))
        if found is None:
            bits = self.catalogue.raw(compiled, rendering)
            found = self._evaluated[pattern, rendering] = (
                bits, self.catalogue.rows(compiled, bits, rendering))
        return found

    # -- metric values ---------------------------------------------------------------

    def add_values(self, index: int, events: EventSet, expression: str,
                   value, now) -> None:
        """The catalogue's value, and, when its records yield the account's id, each
        judged account's (rendering.py: a value is read in the account's id only)."""
        self.numbers[index, "", expression] = (value.positive_number, value.min_number)
        if not expression.strip().startswith("$.") or not any(CATALOGUE_ACCOUNT in text for text in dimension_texts(events, expression)
                   if text is not None):
            return
        if self._value_accounts is None:
            self._value_accounts = self._judged_accounts(self.con, FILTER_VALUES)
        for account in self._value_accounts.get(expression, ()):
            records = [json.loads(e.text.replace(CATALOGUE_ACCOUNT, account))
                       for e in events.matches]
            judged = evaluate_records(records, expression)
            self.numbers[index, account, expression] = (judged.positive_number, judged.min_number)
            self.value_rows.append((*self.keys[index], account, expression, judged.constant_value,
                                    judged.min_number, judged.positive_number, now))

    def event_values(self) -> dict[str, set[float | None]]:
        """Per expression, the numbers judged accounts' events publish."""
        found: dict[str, set[float | None]] = {}
        for (_, account, expression), (_, number) in self.numbers.items():
            if account:
                found.setdefault(expression, set()).add(number)
        return found

    def _number(self, index: int, account: str, expression: str | None):
        if expression is None:
            return False, None
        return self.numbers.get((index, account, expression),
                                self.numbers.get((index, "", expression), (False, None)))

    # -- groups ----------------------------------------------------------------------

    def group_rows(self, same_metric: list[tuple], dimension_values: dict[tuple, str | None],
                   now) -> list[tuple]:
        """cfgmon_group_coverage rows: same-metric groups (`same_metric`: SAME_METRIC's
        rows), then metric-math alarms over several filters' metrics."""
        groups: dict[tuple, list[Member]] = {}
        for account, region, log_group, name, pattern, value, *metric in same_metric:
            groups.setdefault((account, region, log_group, "", *metric), []).append(
                Member(name, pattern, value))
        work: list[tuple[Rendering, Callable[[], list[tuple]]]] = []
        for (account, region, log_group, *_), members in groups.items():
            work += self._work(account, region, log_group, "", members, None, now)
        work += self._alarm_group_work(dimension_values, now)
        # rendering by rendering, so that each is built once (only a few are kept)
        by_rendering: dict[Rendering, list[Callable[[], list[tuple]]]] = {}
        for rendering, rows_of in work:
            by_rendering.setdefault(rendering, []).append(rows_of)
        return [row for jobs in by_rendering.values() for rows_of in jobs for row in rows_of()]

    def _alarm_group_work(self, dimension_values, now) -> list[tuple[Rendering, Callable]]:
        reads: dict[tuple, list[Member]] = {}
        for account, region, alarm, metric_id, log_group, name, pattern, value, default in (
                self.con.execute(ALARM_READS).fetchall()):
            reads.setdefault((account, region, alarm, log_group), []).append(
                Member(name, pattern, value, default, metric_id))
        if not reads:
            return []
        specs = alarm_judgement.alarm_specs(self.con)
        filter_dims = _grouped(self.con.execute(
            "SELECT account_id, region, log_group_name, filter_name, dimension_name, "
            "value_selector FROM aws_cloudwatch_log_metric_filter_dimension").fetchall())
        alarm_dims = _grouped(self.con.execute(
            "SELECT account_id, region, alarm_arn, metric_id, name, value "
            "FROM aws_cloudwatch_alarm_metric_dimension").fetchall())
        work: list[tuple[Rendering, Callable]] = []
        for (account, region, alarm, log_group), members in reads.items():
            spec = specs.get((account, region, alarm))
            if spec is None:
                continue

            def read(index: int, judged: str, member: Member, scope=(account, region),
                     alarm=alarm, log_group=log_group) -> bool:
                # its dimensions are the MetricStat's, as the judged account publishes them
                own = filter_dims.get((*scope, log_group, member.name), {})
                wanted = alarm_dims.get((*scope, alarm, member.metric_id), {})
                key = self.keys[index]
                return len(own) == len(wanted) and all(
                    dimension_values.get((key, judged, selector),
                                         dimension_values.get((key, "", selector)))
                    == wanted.get(name) for name, selector in own.items())

            def answer(index: int, judged: str, member: Member, members=members, spec=spec,
                       read=read):
                """How the alarm answers one event of the member (None: it does not read
                the member's metric)."""
                if not read(index, judged, member):
                    return None
                # the other metrics' filters do not match its event: those with a default
                # value publish it (for this log event as for every other)
                defaults = tuple(sorted(dict.fromkeys(
                    (m.metric_id, m.default) for m in members
                    if m.metric_id != member.metric_id and m.default is not None
                    and read(index, judged, m))))
                _, number = self._number(index, judged, member.value)
                return alarm_judgement.judged_response(spec, member.metric_id, number,
                                                       member.default, defaults)

            work += self._work(account, region, log_group, alarm, members, answer, now)
        return work

    def _work(self, account, region, log_group, alarm, members: list[Member], answer,
              now) -> list[tuple[Rendering, Callable[[], list[tuple]]]]:
        """The group's rows to make, one job per account it is judged for (with the
        rendering the job evaluates in): the catalogue's own, and each account that
        reads a member's pattern or value and whose chain can reach the log group (no
        other account's chain ever reads these filters)."""
        judged = sorted(
            a for a in self.readers(account, region, log_group)
            if any((m.pattern, a) in self.renderings for m in members)
            or any((index, a, m.value) in self.numbers
                   for index in range(len(self.keys)) for m in members))
        work = []
        for account_judged in ["", *judged]:
            rendering = self._group_rendering(members, account_judged)
            work.append((rendering, functools.partial(
                self._rows, account, region, log_group, alarm, members, answer, now,
                account_judged, rendering)))
        return work

    def _rows(self, account, region, log_group, alarm, members: list[Member], answer, now,
              account_judged: str, rendering: Rendering) -> list[tuple]:
        """One row per filter of the group and control, for one judged account: what
        the members that count (a positive value, and for an alarm's group, one event
        alone puts the alarm into ALARM: `answer`) match together in its rendering;
        with the alarm's answer to each filter's event (NULL in a metric's group)."""
        names = list(dict.fromkeys(m.name for m in members))
        rows = []
        for index, key in enumerate(self.keys):
            answers = {m: None if answer is None else answer(index, account_judged, m)
                       for m in members}
            counted = [m for m in members
                       if self._number(index, account_judged, m.value)[0]
                       and (answer is None or _alarms_on_one_event(answers[m]))]
            bits, background, background_filter = 0, None, None
            for member in sorted(counted, key=lambda m: m.name):
                compiled = self.book.compile(member.pattern)
                if isinstance(compiled, Exception):
                    continue
                own = self._bits(member.pattern, compiled, rendering)
                bits |= own
                if background is None:
                    background = self.catalogue.background_of(index, own, rendering)
                    background_filter = member.name if background else None
            if alarm and len({m.name for m in counted}) < 2:
                continue  # the alarm sees one of them at most: each is judged alone
            total, matched, covers, missed, _ = self.catalogue.union_row(index, bits, rendering)
            # an alarm's group names the filters it counts; a metric's, every filter
            # publishing it (their alarm is the one on the metric)
            together = list(dict.fromkeys(m.name for m in counted)) if alarm else names
            by_name = {}
            for m in members:
                by_name.setdefault(m.name, answers[m])
            for name in names:
                own = by_name[name]
                rows.append((*key, account_judged, account, region, log_group, alarm, name,
                             ", ".join(together), len(together), total, matched,
                             covers, missed, background, background_filter,
                             *((None,) * 5 if own is None else (
                                 own.alarms_on_event, own.alarm_when_quiet,
                                 own.leaves_alarm, own.unsupported, own.why)),
                             now))
        return rows

    def _group_rendering(self, members: list[Member], account: str) -> Rendering:
        """The rendering every member is evaluated in: the judged account's id and
        regions where some member reads them."""
        if not account:
            return CATALOGUE
        found = [self.renderings[m.pattern, account] for m in members
                 if (m.pattern, account) in self.renderings]
        return Rendering(account if any(r.account_id for r in found) or not found else "",
                         self.regions(account) if any(r.regions for r in found) else ())


def _alarms_on_one_event(answer) -> bool:
    """Whether one event puts the alarm into ALARM, and it notifies (not in ALARM
    when quiet, and it leaves ALARM)."""
    return bool(answer is not None and answer.alarms_on_event and not answer.alarm_when_quiet
                and answer.leaves_alarm is not False)


def _grouped(rows) -> dict[tuple, dict[str, str]]:
    """(key..., name, value) rows as {key: {name: value}}."""
    found: dict[tuple, dict[str, str]] = {}
    for *key, name, value in rows:
        found.setdefault(tuple(key), {})[name] = value
    return found
