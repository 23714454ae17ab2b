"""The fan-out collector: every (account, region, service) scope, fetched concurrently.

Workers fetch scopes on a bounded thread pool; the calling thread is the only
DuckDB writer and writes each scope as soon as its fetch completes, so memory holds
at most the scopes in flight. A scope's rows are replaced only when its whole fetch
succeeded (see cfgmon.store.scope).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Protocol

import duckdb
from botocore.exceptions import BotoCoreError, ClientError

from cfgmon.aws import cloudtrail, cloudwatch, logs, sns
from cfgmon.aws.regions import RegionPlan, plan_regions
from cfgmon.aws.scope import ScopeContext, ScopeData, TrailClaims
from cfgmon.aws.session import ApiCallCounter, ClientFactory
from cfgmon.aws.targets import AccountTarget
from cfgmon.errors import Interrupted
from cfgmon.redaction import redact
from cfgmon.store.database import utc_now
from cfgmon.store.scope import InventoryWriter, ScopeFailure, ScopeKey

DEFAULT_CONCURRENCY = 8

# Service name (as stored in cfgmon_collection.service) -> its fetcher.
FETCHERS: dict[str, Callable[[ScopeContext], ScopeData]] = {
    cloudtrail.SERVICE: cloudtrail.fetch,
    logs.SERVICE: logs.fetch,
    cloudwatch.SERVICE: cloudwatch.fetch,
    sns.SERVICE: sns.fetch,
}
SERVICES: tuple[str, ...] = tuple(FETCHERS)


@dataclass
class ScopeOutcome:
    """What happened to one scope in this run."""

    scope: ScopeKey
    status: str  # ok | error | skipped
    api_calls: Counter[str] = field(default_factory=Counter)
    rows_written: int = 0
    failure: ScopeFailure | None = None

    @property
    def api_call_total(self) -> int:
        return sum(self.api_calls.values())


@dataclass
class CollectionReport:
    accounts: list[str] = field(default_factory=list)
    regions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # account -> collected regions
    outcomes: list[ScopeOutcome] = field(default_factory=list)
    setup_api_calls: Counter[str] = field(default_factory=Counter)  # STS, EC2 DescribeRegions
    elapsed_seconds: float = 0.0

    def api_calls(self) -> Counter[str]:
        """API calls per operation over the whole run, setup included."""
        total = Counter(self.setup_api_calls)
        for outcome in self.outcomes:
            total.update(outcome.api_calls)
        return total

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def partial(self) -> bool:
        """Some scope could not be fetched; its earlier rows, if any, stand in for it.

        Skipped regions (not enabled in the account) do not make a run partial.
        """
        return self.count("error") > 0


class CollectProgress(Protocol):
    """How a caller watches progress; the CLI draws a bar with it."""

    def start(self, total: int) -> None: ...

    def advance(self, outcome: ScopeOutcome) -> None: ...


@dataclass
class _Fetched:
    key: ScopeKey
    counter: ApiCallCounter
    started_at: dt.datetime
    finished_at: dt.datetime
    data: ScopeData | None = None
    failure: ScopeFailure | None = None


def collect(
    con: duckdb.DuckDBPyConnection,
    targets: Sequence[AccountTarget],
    *,
    clients: ClientFactory,
    regions: Sequence[str] | None = None,
    services: Sequence[str] = SERVICES,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: CollectProgress | None = None,
    setup_counter: ApiCallCounter | None = None,
) -> CollectionReport:
    """Collect every (target, region, service) scope into the database behind `con`.

    `regions` narrows the regions (default: each account's enabled regions); an
    unknown name raises CollectError before anything is fetched. Returns what
    happened to each scope; fetch errors are recorded, not raised.

    Interrupted (KeyboardInterrupt, or cfgmon's Interrupted from a signal), the
    scopes already written stay, the scopes not finished are recorded as errors
    (code Interrupted, their earlier rows kept), fetches in flight stop at their
    next request, and the interruption is re-raised.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    unknown = [s for s in services if s not in FETCHERS]
    if unknown:
        raise ValueError(f"unknown services {unknown}")
    began = time.perf_counter()
    writer = InventoryWriter(con)
    setup_counter = setup_counter or ApiCallCounter()
    report = CollectionReport()

    plans: list[tuple[AccountTarget, RegionPlan]] = []
    for target in targets:
        plan = plan_regions(target, clients, regions, setup_counter)
        plans.append((target, plan))
        report.accounts.append(target.account_id)
        report.regions[target.account_id] = plan.collect

    total = sum((len(p.collect) + len(p.skipped)) * len(services) for _, p in plans)
    if progress:
        progress.start(total)

    def finish(outcome: ScopeOutcome) -> None:
        report.outcomes.append(outcome)
        if progress:
            progress.advance(outcome)

    for target, plan in plans:
        now = utc_now()
        for region, reason in plan.skipped.items():
            for service in services:
                key = ScopeKey(target.account_id, region, service)
                failure = ScopeFailure("skipped", "RegionNotEnabled", reason)
                writer.record_failure(key, failure, started_at=now, finished_at=now, api_calls=0)
                finish(ScopeOutcome(key, "skipped", failure=failure))

    claims = TrailClaims()
    stop = threading.Event()
    executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="cfgmon-collect")
    try:
        pending: set[Future[_Fetched]] = set()
        for target, plan in plans:
            collected = frozenset(plan.collect)
            for region in plan.collect:
                for service in services:
                    ctx = ScopeContext(
                        target=target,
                        region=region,
                        collected_regions=collected,
                        clients=clients,
                        counter=ApiCallCounter(),
                        trail_claims=claims,
                        stop=stop,
                    )
                    pending.add(executor.submit(_fetch_scope, ctx, service))
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                finish(_write(writer, future.result()))
        for target, _plan in plans:
            writer.record_account(target.account_id, collected_at=utc_now(), source=target.source)
    except BaseException as exc:
        # Do not wait for fetches in flight: they stop at their next request.
        stop.set()
        executor.shutdown(wait=False, cancel_futures=True)
        if isinstance(exc, KeyboardInterrupt | Interrupted):
            _record_interrupted(writer, plans, services, report, exc)
        raise
    executor.shutdown(wait=True)
    report.setup_api_calls = Counter(setup_counter.calls)
    report.elapsed_seconds = time.perf_counter() - began
    return report


def _fetch_scope(ctx: ScopeContext, service: str) -> _Fetched:
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
        return _Fetched(key, ctx.counter, started_at, utc_now(), data=data)
    failure = ScopeFailure("error", code, redact(message, _credentials(ctx.target)), operation)
    return _Fetched(key, ctx.counter, started_at, utc_now(), failure=failure)


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


def _record_interrupted(
    writer: InventoryWriter,
    plans: Sequence[tuple[AccountTarget, RegionPlan]],
    services: Sequence[str],
    report: CollectionReport,
    exc: BaseException,
) -> None:
    """Record the scopes this run did not finish as interrupted, in one transaction.

    Best effort: the interruption is what the caller must see, so a database error
    here is dropped (the scopes then keep their earlier records).
    """
    finished = {outcome.scope for outcome in report.outcomes}
    unfinished = [
        ScopeKey(target.account_id, region, service)
        for target, plan in plans for region in plan.collect for service in services
    ]
    unfinished = [key for key in unfinished if key not in finished]
    signal_name = exc.name if isinstance(exc, Interrupted) else "KeyboardInterrupt"
    failure = ScopeFailure(
        "error", "Interrupted",
        f"collection was interrupted ({signal_name}) before this scope was written; "
        "rows from earlier collections are kept",
    )
    now = utc_now()
    with contextlib.suppress(duckdb.Error):
        writer.con.execute("ROLLBACK")  # a scope transaction the interruption left open
    try:
        writer.record_failures(unfinished, failure, started_at=now, finished_at=now)
        for target, _plan in plans:
            writer.record_account(target.account_id, collected_at=now, source=target.source)
    except duckdb.Error:
        return
    report.outcomes.extend(ScopeOutcome(key, "error", failure=failure) for key in unfinished)


def _write(writer: InventoryWriter, fetched: _Fetched) -> ScopeOutcome:
    calls = Counter(fetched.counter.calls)
    total = sum(calls.values())
    if fetched.data is not None:
        try:
            written = writer.replace_scope(
                fetched.key,
                fetched.data.tables,
                collected_at=fetched.finished_at,
                started_at=fetched.started_at,
                api_calls=total,
                trail_upserts=fetched.data.trail_upserts,
            )
        except duckdb.Error as exc:
            fetched.failure = ScopeFailure("error", type(exc).__name__, str(exc), "write")
        else:
            return ScopeOutcome(fetched.key, "ok", calls, rows_written=written)
    writer.record_failure(
        fetched.key,
        fetched.failure,
        started_at=fetched.started_at,
        finished_at=fetched.finished_at,
        api_calls=total,
    )
    return ScopeOutcome(fetched.key, "error", calls, failure=fetched.failure)
