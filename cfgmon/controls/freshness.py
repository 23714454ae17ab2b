"""How old the inventory behind a verdict may be: `cfgmon check --max-age DURATION`.

Every control row carries `collected_at`, the time of the oldest collected rows its
verdict rests on, and `collected_scope`, the scope they came from. A verdict resting
on rows older than the allowed age proves nothing about now: it becomes
INSUFFICIENT_DATA, names the scope and its age, and keeps what it was in its evidence.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from cfgmon.errors import UsageError

_UNITS = {"w": dt.timedelta(weeks=1), "d": dt.timedelta(days=1), "h": dt.timedelta(hours=1),
          "m": dt.timedelta(minutes=1), "s": dt.timedelta(seconds=1)}
_PART = re.compile(r"(\d+)([wdhms])")


@dataclasses.dataclass(frozen=True)
class MaxAge:
    spec: str             # as the user wrote it: 24h, 7d, 1d12h
    limit: dt.timedelta


def parse_max_age(spec: str) -> MaxAge:
    """`24h`, `7d`, `90m`, `1d12h`, `2w` (weeks, days, hours, minutes, seconds)."""
    text = spec.strip().lower()
    parts = _PART.findall(text)
    if not text or "".join(n + u for n, u in parts) != text:
        raise UsageError(
            f"--max-age {spec!r} is not a duration; write it like 24h, 7d, 90m or 1d12h"
        )
    limit = sum((int(n) * _UNITS[u] for n, u in parts), dt.timedelta())
    if limit <= dt.timedelta():
        raise UsageError(f"--max-age {spec!r} must be longer than zero")
    return MaxAge(spec, limit)


def describe_age(age: dt.timedelta) -> str:
    """The two largest units of an age: `3d 4h`, `5h 12m`, `40s`."""
    seconds = int(age.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts[:2])


def apply_max_age(result, max_age: MaxAge, now: dt.datetime):
    """The result itself, or INSUFFICIENT_DATA when its rows are older than allowed."""
    collected_at = result.evidence.get("collected_at")
    # NOT_APPLICABLE rests on the account's organisation, not on collected chain rows
    if result.status == "NOT_APPLICABLE" or collected_at is None or now - collected_at <= max_age.limit:
        return result
    stamp = collected_at.replace(microsecond=0).isoformat(sep=" ")
    scope = result.evidence.get("collected_scope", "its inventory")
    reason = (
        f"the inventory is older than --max-age {max_age.spec}: {scope} was collected at "
        f"{stamp} UTC, {describe_age(now - collected_at)} ago; as collected then: "
        f"{result.status}: {result.reason}"
    )
    evidence = result.evidence | {"status_as_collected": result.status,
                                  "max_age": max_age.spec}
    return dataclasses.replace(result, status="INSUFFICIENT_DATA", reason=reason,
                               evidence=evidence)
