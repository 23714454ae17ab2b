"""What a service fetcher receives (ScopeContext) and returns (ScopeData)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from cfgmon.aws.session import ApiCallCounter, ClientFactory, CollectionStopped  # noqa: F401
from cfgmon.aws.targets import AccountTarget

Row = dict[str, Any]


@dataclass
class ScopeData:
    """Rows fetched for one scope, keyed by table.

    Rows leave out account_id, collected_at and (unless they belong to another
    region, as a trail does to its home region) region: the writer fills them in.
    `trail_upserts` are trail-table rows to be replaced by ARN rather than by scope.
    """

    tables: dict[str, list[Row]] = field(default_factory=dict)
    trail_upserts: dict[str, list[Row]] = field(default_factory=dict)

    def add(self, table: str, rows: list[Row] | Row) -> None:
        self.tables.setdefault(table, []).extend(rows if isinstance(rows, list) else [rows])

    @property
    def row_count(self) -> int:
        return sum(len(rows) for rows in self.tables.values()) + sum(
            len(rows) for rows in self.trail_upserts.values()
        )


class TrailClaims:
    """Which trails' details some scope of this run has already taken on.

    A multi-region trail whose home region is not collected shows up in every
    collected region's DescribeTrails; the first scope to claim it fetches its
    status and selectors, the others leave it alone.
    """

    def __init__(self) -> None:
        self._claimed: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def claim(self, account_id: str, trail_arn: str) -> bool:
        with self._lock:
            if (account_id, trail_arn) in self._claimed:
                return False
            self._claimed.add((account_id, trail_arn))
            return True


@dataclass
class ScopeContext:
    """Everything a service fetcher may use for one (account, region) scope.

    `stop`, once set, makes every further HTTP request of the scope's clients
    (retries and pages included) raise CollectionStopped.
    """

    target: AccountTarget
    region: str
    collected_regions: frozenset[str]
    clients: ClientFactory
    counter: ApiCallCounter
    trail_claims: TrailClaims
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def account_id(self) -> str:
        return self.target.account_id

    def client(self, service: str, region: str | None = None) -> Any:
        """A counted client for `service` in the scope's region (or another, e.g. a trail's home)."""
        return self.clients.client(
            self.target.session, service, region or self.region, self.counter, self.stop
        )


def paginate(client: Any, operation: str, result_key: str, **params: Any) -> Iterator[dict]:
    """Every item of every page of a paginated list call."""
    for page in client.get_paginator(operation).paginate(**params):
        yield from page.get(result_key) or ()
