"""Opening accounts and fetching their scopes on a bounded thread pool.

The one implementation of fetching: the collector runs a ScopeFetcher in its own
process, or each worker process runs one over the accounts dealt to it
(cfgmon.aws.workers). Either way it hands back plain events (an account opened or
unavailable, a scope fetched) that hold no session and no credentials, for the one
writer to store.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from cfgmon.aws import cloudtrail, cloudwatch, logs, sns
from cfgmon.aws.errors import CollectError
from cfgmon.aws.organizations import Membership, describe_membership
from cfgmon.aws.regions import RegionPlan, UnknownRegionError, plan_regions
from cfgmon.aws.scope import ScopeContext, ScopeData, TrailClaims
from cfgmon.aws.session import ApiCallCounter, ClientFactory
from cfgmon.aws.targets import AccountTarget, AccountUnavailable, Target
from cfgmon.redaction import redact
from cfgmon.store.keys import ScopeFailure, ScopeKey, utc_now

# Service name (as stored in cfgmon_collection.service) -> its fetcher.
FETCHERS: dict[str, Callable[[ScopeContext], ScopeData]] = {
    cloudtrail.SERVICE: cloudtrail.fetch,
    logs.SERVICE: logs.fetch,
    cloudwatch.SERVICE: cloudwatch.fetch,
    sns.SERVICE: sns.fetch,
}
SERVICES: tuple[str, ...] = tuple(FETCHERS)


@dataclass
class Fetched:
    """One scope's fetch: its rows, or why it failed; and the API calls it made."""

    key: ScopeKey
    calls: Counter[str]
    started_at: dt.datetime
    finished_at: dt.datetime
    data: ScopeData | None = None
    failure: ScopeFailure | None = None


@dataclass(frozen=True)
class Opened:
    """An account reached, its organisation (None: unknown) and its regions planned."""

    account_id: str
    source: str
    plan: RegionPlan
    membership: Membership | None


@dataclass(frozen=True)
class Unavailable:
    """An account that could not be opened; `membership` is what its target knew."""

    account_id: str
    source: str
    membership: Membership | None
    code: str
    message: str


Event = Fetched | Opened | Unavailable


class ScopeFetcher:
    """Opens `targets` and fetches their (region, service) scopes, `concurrency` at a time.

    Opening an account (assuming its role, asking its organisation and regions) is
    work on the same pool as fetching scopes, done while fewer scopes than workers
    wait, so memory holds the scopes in flight and the accounts about to be fetched,
    however many accounts there are. The waiting scopes are taken from each open
    account in turn, so the workers spread over accounts rather than crowd one
    account's regions (AWS limits request rates per account and region).
    """

    def __init__(
        self,
        targets: Sequence[Target],
        *,
        clients: ClientFactory,
        regions: Sequence[str] | None,
        services: Sequence[str],
        concurrency: int,
        setup_counter: ApiCallCounter,
    ) -> None:
        self._waiting: deque[Target] = deque(targets)
        self._clients = clients
        self._regions = regions
        self._services = services
        self._concurrency = concurrency
        self._setup_counter = setup_counter
        self._ready = _ScopeQueue()
        self._claims = TrailClaims()
        self._stop = threading.Event()
        self._executor = ThreadPoolExecutor(max_workers=concurrency,
                                            thread_name_prefix="cfgmon-collect")
        self._in_flight: set[Future] = set()

    @property
    def busy(self) -> bool:
        """Something is in flight: wait() has more to hand back."""
        return bool(self._in_flight)

    def start(self) -> None:
        self._fill()

    def wait(self, timeout: float | None) -> list[Event]:
        """What finished within `timeout` seconds (None: at least one thing); the pool
        is refilled before returning, so the workers fetch on while the caller writes.
        An unknown region raises UnknownRegionError."""
        done, pending = wait(self._in_flight, timeout=timeout, return_when=FIRST_COMPLETED)
        self._in_flight = set(pending)
        events: list[Event] = []
        for result in (future.result() for future in done):
            if isinstance(result, _OpenedTarget):
                self._queue_scopes(result)
                events.append(result.event)
            else:
                events.append(result)
        self._fill()
        return events

    def stop(self) -> list[Event]:
        """Do not wait for fetches in flight: they stop at their next request. Nothing
        finished is left to hand back (wait() handed back all it found)."""
        self._stop.set()
        self._executor.shutdown(wait=False, cancel_futures=True)
        return []

    def close(self) -> None:
        self._executor.shutdown(wait=True)

    def usage(self) -> list:
        """No worker processes: this process's own usage is the caller's to measure."""
        return []

    def _fill(self) -> None:
        # Keep every worker busy; open the next account while fewer scopes than
        # workers are waiting, so the pool never idles between accounts.
        while len(self._in_flight) < self._concurrency and (self._waiting or self._ready):
            if self._waiting and len(self._ready) < self._concurrency:
                job = self._executor.submit(_open_account, self._waiting.popleft(),
                                            self._clients, self._regions, self._setup_counter)
            else:
                job = self._executor.submit(_fetch_scope, *self._ready.pop())
            self._in_flight.add(job)

    def _queue_scopes(self, opened: _OpenedTarget) -> None:
        collected = frozenset(opened.event.plan.collect)
        self._ready.add([
            (ScopeContext(target=opened.target, region=region, collected_regions=collected,
                          clients=self._clients, counter=ApiCallCounter(),
                          trail_claims=self._claims, stop=self._stop), service)
            for region in opened.event.plan.collect for service in self._services
        ])


class _ScopeQueue:
    """Scopes waiting for a worker, taken from each account in turn."""

    def __init__(self) -> None:
        self._accounts: deque[deque[tuple[ScopeContext, str]]] = deque()
        self._size = 0

    def add(self, scopes: list[tuple[ScopeContext, str]]) -> None:
        if scopes:
            self._accounts.append(deque(scopes))
            self._size += len(scopes)

    def pop(self) -> tuple[ScopeContext, str]:
        scopes = self._accounts.popleft()
        scope = scopes.popleft()
        if scopes:
            self._accounts.append(scopes)
        self._size -= 1
        return scope

    def __len__(self) -> int:
        return self._size


@dataclass(frozen=True)
class _OpenedTarget:
    target: AccountTarget  # holds the account's session: it stays with the fetcher
    event: Opened


def _open_account(
    target: Target, clients: ClientFactory, regions: Sequence[str] | None, counter: ApiCallCounter
) -> _OpenedTarget | Unavailable:
    """Reach the account, learn its organisation and plan its regions (on a worker)."""
    try:
        opened = target.open(clients, counter)
    except AccountUnavailable as exc:
        return Unavailable(target.account_id, target.source, target.membership,
                           exc.code, exc.message)
    membership = opened.membership
    if membership is None:
        membership = describe_membership(opened.session, clients, counter)
    try:
        plan = plan_regions(opened, clients, regions, counter)
    except UnknownRegionError:
        raise
    except CollectError as exc:
        return Unavailable(target.account_id, target.source, target.membership,
                           "RegionsUnavailable", str(exc))
    return _OpenedTarget(opened, Opened(opened.account_id, opened.source, plan, membership))


def _fetch_scope(ctx: ScopeContext, service: str) -> Fetched:
    key = ScopeKey(ctx.account_id, ctx.region, service)
    started_at = utc_now()
    try:
        data = FETCHERS[service](ctx)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code") or "ClientError"
        message = error.get("Message") or str(exc)
        operation = exc.operation_name or ctx.counter.last_operation
    except BotoCoreError as exc:
        code, message, operation = type(exc).__name__, str(exc), ctx.counter.last_operation
    except Exception as exc:
        # An answer the fetcher did not expect fails this scope, not the whole run.
        code, message, operation = type(exc).__name__, str(exc), ctx.counter.last_operation
    else:
        return Fetched(key, Counter(ctx.counter.calls), started_at, utc_now(), data=data)
    failure = ScopeFailure("error", code, redact(message, _credentials(ctx.target)), operation)
    return Fetched(key, Counter(ctx.counter.calls), started_at, utc_now(), failure=failure)


def _credentials(target: AccountTarget) -> tuple[str | None, ...]:
    """The target's credential values, to be masked wherever an error message echoes them."""
    try:
        credentials = target.session.get_credentials()
        if credentials is None:
            return ()
        frozen = credentials.get_frozen_credentials()
    except Exception:  # credentials that cannot even be read cannot be echoed either
        return ()
    return (frozen.access_key, frozen.secret_key, frozen.token)
