"""Trail capture: does a trail record every record of a control's event catalogue?

What a trail records depends on the control's events, not on one fixed rule: a
trail that keeps only write events records every AWS Config change, and one that
excludes `kms.amazonaws.com` from its management events does not record a CMK's
scheduled deletion. For each trail and control this module decides, record by
record, as CloudTrail would:

- its region: a single-region trail records its home region only, and global
  service events (IAM, STS, console sign-in, Organizations: delivered as us-east-1
  events) only with IncludeGlobalServiceEvents;
- basic event selectors: IncludeManagementEvents, ReadWriteType against the
  record's readOnly, ExcludeManagementEventSources against its eventSource;
- advanced event selectors: every field of one selector must hold (Equals,
  StartsWith and EndsWith values are alternatives; NotEquals, NotStartsWith and
  NotEndsWith values must all hold), any selector may record the event;
- no custom selectors at all: AWS's default, every management event, read and write.

The answers go into cfgmon_trail_capture, once per distinct trail configuration,
so the chain query stays plain SQL and names no event source.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from cfgmon.controls.catalogue import CatalogueEvent
from cfgmon.controls.coverage import describe_missed
from cfgmon.controls.rendering import GLOBAL_EVENT_SOURCES, is_global_event  # noqa: F401 (the fix planner reads it here)

POSITIVE = {"Equals": lambda v, x: v == x, "StartsWith": lambda v, x: v.startswith(x),
            "EndsWith": lambda v, x: v.endswith(x)}
NEGATIVE = {"NotEquals": lambda v, x: v != x, "NotStartsWith": lambda v, x: not v.startswith(x),
            "NotEndsWith": lambda v, x: not v.endswith(x)}


@dataclass(frozen=True)
class BasicSelector:
    read_write_type: str            # All | ReadOnly | WriteOnly
    include_management_events: bool
    excluded_sources: tuple[str, ...]


@dataclass(frozen=True)
class TrailSelectors:
    """What decides a trail's capture; trails alike in all of it are judged once."""

    multi_region: bool
    home_region: str
    include_global_events: bool
    organization_trail: bool        # also records the organisation's member accounts
    collected: bool                 # the selectors are known
    basic: tuple[BasicSelector, ...]
    advanced: tuple[tuple[tuple[str, str, str], ...], ...]   # per selector: (field, op, value)


@dataclass(frozen=True)
class Capture:
    captures: bool | None           # None when the selectors were not collected
    captured: int | None
    missed_events: str | None
    missed_because: str | None


def judge(selectors: TrailSelectors, events: Sequence[CatalogueEvent]) -> Capture:
    """Which catalogue records the trail records, and why it misses the others."""
    if not selectors.collected:
        return Capture(None, None, None, None)
    home = _home_account(events)
    hits, reasons = [], []
    for event in events:
        why = _missed_because(selectors, event.record, home)
        hits.append(why is None)
        if why is not None and why not in reasons:
            reasons.append(why)
    if all(hits):
        return Capture(True, len(hits), None, None)
    return Capture(False, sum(hits), describe_missed(events, hits), "; ".join(reasons))


def _home_account(events: Sequence[CatalogueEvent]) -> str | None:
    """The account a catalogue is written for: the recipient of most of its records."""
    accounts = [e.record.get("recipientAccountId") for e in events]
    return max(set(accounts), key=accounts.count) if accounts else None


def _missed_because(trail: TrailSelectors, record: dict, home: str | None = None) -> str | None:
    region = record.get("awsRegion")
    source = record.get("eventSource", "")
    # a record delivered to another account of the organisation (a member's side of a
    # handshake, say) reaches the judged account's log group only through an
    # organisation trail
    if home and record.get("recipientAccountId", home) != home and not trail.organization_trail:
        return "it is not an organisation trail, so it records no member account's events"
    if is_global_event(record):
        if not trail.include_global_events:
            return "it does not include global service events"
    elif not trail.multi_region and region != trail.home_region:
        return f"it records only its home region {trail.home_region}"
    if not trail.basic and not trail.advanced:
        return None  # AWS's default: every management event, read and write
    if trail.advanced:
        if any(_advanced_selects(selector, record) for selector in trail.advanced):
            return None
        return _advanced_refusal(trail.advanced, record)
    reason = "no event selector records management events"
    for selector in trail.basic:
        if not selector.include_management_events:
            continue
        if source in selector.excluded_sources:
            reason = f"it excludes management events of {source}"
            continue
        wanted = "ReadOnly" if record.get("readOnly") else "WriteOnly"
        if selector.read_write_type in ("All", wanted):
            return None
        reason = f"it records {_kind(selector.read_write_type)} events only"
    return reason


def _advanced_refusal(selectors, record: dict) -> str:
    """Which condition of the management-event selectors leaves the record out."""
    for selector in selectors:
        if ("eventCategory", "Equals", "Management") not in selector:
            continue
        for field, operator, value in selector:
            if not _advanced_selects(((field, operator, value),), record):
                return f"its advanced event selector on management events requires {field} {operator} {value}"
    return "its advanced event selectors select no management events"


def _kind(read_write_type: str) -> str:
    return {"ReadOnly": "read", "WriteOnly": "write"}.get(read_write_type, read_write_type)


def _advanced_selects(selector: tuple[tuple[str, str, str], ...], record: dict) -> bool:
    by_field: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for field, operator, value in selector:
        by_field[field].append((operator, value))
    for field, conditions in by_field.items():
        actual = _field_value(record, field)
        positive = [(op, v) for op, v in conditions if op in POSITIVE]
        negative = [(op, v) for op, v in conditions if op in NEGATIVE]
        if positive and (actual is None or not any(POSITIVE[op](actual, v) for op, v in positive)):
            return False
        if actual is not None and not all(NEGATIVE[op](actual, v) for op, v in negative):
            return False
        if any(op not in POSITIVE and op not in NEGATIVE for op, _ in conditions):
            return False  # an operator CloudTrail may add later: not known to record it
    return True


def _field_value(record: dict, field: str) -> str | None:
    """A selector field's value in a record, as text ('true'/'false' for readOnly)."""
    if field == "eventCategory":
        return record.get("eventCategory") or ("Management" if record.get("managementEvent") else None)
    value = record
    for part in field.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if isinstance(value, dict | list) or value is None else str(value)


def trail_selectors(con) -> dict[tuple[str, str], TrailSelectors]:
    """Every stored trail's capture settings, by (account_id, trail_arn)."""
    basic: dict[tuple[str, str], list[BasicSelector]] = defaultdict(list)
    for account, arn, rw, include, excluded in con.execute(
        """SELECT account_id, trail_arn, read_write_type, include_management_events,
                  exclude_management_event_sources
           FROM aws_cloudtrail_trail_event_selector ORDER BY account_id, trail_arn, selector_index"""
    ).fetchall():
        sources = json.loads(excluded) if isinstance(excluded, str) else (excluded or [])
        basic[(account, arn)].append(BasicSelector(
            rw or "All", True if include is None else bool(include), tuple(sources or ())))
    fields: dict[tuple[str, str, int], list[tuple[str, str, str]]] = defaultdict(list)
    for account, arn, index, field, operator, value in con.execute(
        """SELECT account_id, trail_arn, selector_index, field, operator, value
           FROM aws_cloudtrail_trail_advanced_field_selector
           ORDER BY account_id, trail_arn, selector_index, field, operator, value"""
    ).fetchall():
        fields[(account, arn, index)].append((field, operator, value))
    advanced: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    for account, arn, index in con.execute(
        """SELECT account_id, trail_arn, selector_index
           FROM aws_cloudtrail_trail_advanced_event_selector
           ORDER BY account_id, trail_arn, selector_index"""
    ).fetchall():
        advanced[(account, arn)].append(tuple(fields.get((account, arn, index), ())))
    trails = {}
    for account, arn, multi, home, include_global, organization, collected, custom in con.execute(
        """SELECT account_id, arn, is_multi_region_trail, home_region,
                  include_global_service_events, is_organization_trail,
                  event_selectors_collected, has_custom_event_selectors
           FROM aws_cloudtrail_trail"""
    ).fetchall():
        key = (account, arn)
        trails[key] = TrailSelectors(
            multi_region=bool(multi), home_region=home,
            # AWS's default; a multi-region trail always includes them
            include_global_events=bool(multi) or include_global is not False,
            organization_trail=bool(organization),
            # DescribeTrails saying "no custom selectors" is AWS's default: known
            # even when GetEventSelectors was refused
            collected=bool(collected) or custom is False, basic=tuple(basic.get(key, ())),
            advanced=tuple(advanced.get(key, ())),
        )
    return trails


def capture_rows(trails: dict[tuple[str, str], TrailSelectors], events: Sequence[CatalogueEvent],
                 key: tuple[str, str, str], now) -> list:
    """cfgmon_trail_capture rows for one bound control, over `trails` (trail_selectors:
    read once for every control): one judgement per distinct trail."""
    judged: dict[TrailSelectors, Capture] = {}
    rows = []
    for (account, arn), selectors in trails.items():
        capture = judged.get(selectors)
        if capture is None:
            capture = judged[selectors] = judge(selectors, events)
        rows.append((*key, account, arn, capture.captures, len(events), capture.captured,
                     capture.missed_events, capture.missed_because, now))
    return rows
