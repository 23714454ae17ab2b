"""What the collector hands the writer besides rows: a scope's key, why its fetch
failed, and the form of a time stamp.

Apart from the writer so that a collecting worker process, which fetches and writes
nothing, imports neither DuckDB nor numpy (a quarter of a second of CPU each).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class ScopeKey:
    account_id: str
    region: str
    service: str


@dataclass(frozen=True)
class ScopeFailure:
    status: str  # error | skipped
    error_code: str | None
    error_message: str | None
    error_operation: str | None = None


def utc_now() -> dt.datetime:
    """Naive UTC timestamp, the form every TIMESTAMP column holds."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
