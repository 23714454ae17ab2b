"""The fan-out collector: every (account, region, service) scope, fetched concurrently.

Scopes are fetched on a bounded thread pool (cfgmon.aws.fetching), in this process or
in worker processes, each with its own share of the accounts (cfgmon.aws.workers);
the calling thread is the only DuckDB writer and writes each scope once its fetch
completes, so memory holds at most the scopes in flight and those waiting for their
write. A scope's rows are replaced only when its whole fetch succeeded (see
cfgmon.store.scope).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import duckdb

from cfgmon.aws.defaults import DEFAULT_CONCURRENCY
from cfgmon.aws.fetching import (
    FETCHERS,
    SERVICES,
    Fetched,
    Opened,
    ScopeFetcher,
    Unavailable,
)
from cfgmon.aws.organizations import Membership
from cfgmon.aws.regions import RegionPlan
from cfgmon.aws.session import ApiCallCounter, ClientFactory, SessionRecipe
from cfgmon.aws.targets import Target
from cfgmon.aws.workers import WorkerPool, WorkerUsage, worker_shares
from cfgmon.errors import Interrupted
from cfgmon.garbage import fewer_collections
from cfgmon.redaction import redact
from cfgmon.store.keys import ScopeFailure, ScopeKey, utc_now
from cfgmon.store.scope import AccountRecord, InventoryWriter, ScopeWrite

# Scopes written in one transaction at most, and how long a fetched scope waits at
# most for its write. A write is a few dozen DuckDB statements of a few milliseconds
# each whatever their size (some 100 ms of CPU a batch, against a quarter of a
# millisecond a scope), so scopes are written in large batches.
DEFAULT_WRITE_BATCH = 512
WRITE_INTERVAL_SECONDS = 2.0


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


@dataclass(frozen=True)
class AccountFailure:
    """An account that could not be collected at all (its role could not be assumed, say)."""

    account_id: str
    code: str
    message: str


@dataclass
class CollectionReport:
    accounts: list[str] = field(default_factory=list)  # every account asked for, in order
    regions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # account -> collected regions
    outcomes: list[ScopeOutcome] = field(default_factory=list)
    account_failures: list[AccountFailure] = field(default_factory=list)
    setup_api_calls: Counter[str] = field(default_factory=Counter)  # STS, EC2 DescribeRegions
    elapsed_seconds: float = 0.0
    workers: list[WorkerUsage] = field(default_factory=list)  # each worker process's CPU, RSS

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

        Skipped regions (not enabled in the account) do not make a run partial; an
        account that could not be collected does.
        """
        return self.count("error") > 0 or bool(self.account_failures)


class CollectProgress(Protocol):
    """How a caller watches progress; the CLI draws a bar with it."""

    def start(self, total: int) -> None: ...

    def advance(self, outcome: ScopeOutcome) -> None: ...

    def resize(self, total: int) -> None:
        """The total changed: an account was opened (its regions are known) or failed."""


@fewer_collections()
def collect(
    con: duckdb.DuckDBPyConnection,
    targets: Sequence[Target],
    *,
    clients: ClientFactory,
    regions: Sequence[str] | None = None,
    services: Sequence[str] = SERVICES,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: CollectProgress | None = None,
    setup_counter: ApiCallCounter | None = None,
    write_batch: int = DEFAULT_WRITE_BATCH,
    processes: int = 1,
    caller: SessionRecipe | None = None,
) -> CollectionReport:
    """Collect every (target, region, service) scope into the database behind `con`.

    `regions` narrows the regions (default: each account's enabled regions); an
    unknown name raises CollectError before anything is fetched. Returns what
    happened to each account and scope; fetch errors are recorded, not raised.

    Opening an account (assuming its role, asking its organisation and regions) is
    work on the same pool as fetching scopes, done a little ahead of the scopes that
    need it, so memory holds the scopes in flight, the accounts about to be fetched
    and at most `write_batch` fetched scopes waiting for their write, however many
    accounts there are. The scopes waiting for a worker are taken from each open
    account in turn, so the workers spread over accounts rather than crowd one
    account's regions (AWS limits request rates per account and region). An account
    that cannot be opened is recorded (cfgmon_account status 'error', its known
    scopes failed with it) and the others go on.

    With `processes` above 1 (and more than one account), the accounts are dealt
    to that many worker processes, the concurrency shared among them (see
    cfgmon.aws.workers): each worker opens its accounts and fetches their scopes,
    with clients, rate limiters and credentials of its own, and this thread writes
    what they fetched. Every target must then act through the session `caller`
    makes (the caller's own, or a role assumed with it): a worker makes that
    session itself, so no credentials are handed to it.

    Fetched scopes are written `write_batch` at a time, or when the oldest has
    waited WRITE_INTERVAL_SECONDS, or when nothing else is in flight.

    Interrupted (KeyboardInterrupt, or cfgmon's Interrupted from a signal, even one
    that DuckDB turned into its own error mid-statement), the scopes already written
    stay, the scopes fetched and not yet written are written, the scopes not
    finished (a write the interruption stopped included) are recorded as errors (code
    Interrupted, their earlier rows kept), fetches in flight stop at their next
    request, and the interruption is re-raised.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    if processes < 1:
        raise ValueError("processes must be at least 1")
    if write_batch < 1:
        raise ValueError("write_batch must be at least 1")
    unknown = [s for s in services if s not in FETCHERS]
    if unknown:
        raise ValueError(f"unknown services {unknown}")
    began = time.perf_counter()
    run_started = utc_now()
    interrupted_before = Interrupted.latest
    writer = InventoryWriter(con)
    setup_counter = setup_counter or ApiCallCounter()
    report = CollectionReport()
    waiting: list[Target] = []
    for target in targets:  # each account once, as the first target given for it
        if target.account_id not in report.regions:
            report.regions[target.account_id] = ()
            report.accounts.append(target.account_id)
            waiting.append(target)
    total = _ProgressTotal(len(waiting), len(regions) if regions else None, len(services))
    if progress:
        progress.start(total.value)

    def finish(outcome: ScopeOutcome) -> None:
        report.outcomes.append(outcome)
        if progress:
            progress.advance(outcome)

    def resize() -> None:
        if progress:
            progress.resize(total.value)

    plans: list[tuple[str, RegionPlan]] = []  # (account id, plan) of every account opened
    unwritten: list[Fetched] = []  # fetched, waiting for the next write
    unrecorded: list[AccountRecord] = []  # accounts opened, recorded with the next write
    oldest = 0.0  # when the oldest of them was fetched (perf_counter)
    shares = worker_shares(waiting, concurrency, processes)
    fetcher: ScopeFetcher | WorkerPool
    if len(shares) > 1:
        if caller is None:
            raise ValueError("collecting in worker processes needs the caller's SessionRecipe")
        fetcher = WorkerPool(shares, caller=caller, clients=clients, regions=regions,
                             services=services, setup_counter=setup_counter)
    else:
        fetcher = ScopeFetcher(waiting, clients=clients, regions=regions, services=services,
                               concurrency=concurrency, setup_counter=setup_counter)

    def write() -> None:
        writer.record_accounts(unrecorded)
        unrecorded.clear()
        batch = unwritten[:]
        unwritten.clear()  # a write an interruption stops is not tried again
        for outcome in _write_all(writer, batch):
            finish(outcome)

    try:
        fetcher.start()
        while fetcher.busy:
            timeout = None
            if unwritten:
                timeout = max(0.0, oldest + WRITE_INTERVAL_SECONDS - time.perf_counter())
            for event in fetcher.wait(timeout):  # it fetches on while this thread writes
                if isinstance(event, Fetched):
                    if not unwritten:
                        oldest = time.perf_counter()
                    unwritten.append(event)
                elif isinstance(event, Opened):
                    plans.append((event.account_id, event.plan))
                    report.regions[event.account_id] = event.plan.collect
                    unrecorded.append(_record_opened(writer, event, services, finish))
                    total.opened((len(event.plan.collect) + len(event.plan.skipped))
                                 * len(services))
                    resize()
                else:
                    report.account_failures.append(
                        _record_unavailable(writer, event, regions, services))
                    total.failed()
                    resize()
            if (unwritten or unrecorded) and (
                len(unwritten) >= write_batch or not fetcher.busy
                or time.perf_counter() - oldest >= WRITE_INTERVAL_SECONDS
            ):
                write()
    except BaseException as exc:
        sent = fetcher.stop()  # fetches in flight stop at their next request
        interruption = _interruption(exc, interrupted_before)
        if interruption is not None:
            for event in sent:  # fetched whole before the interruption, not yet received
                if isinstance(event, Fetched):
                    unwritten.append(event)
                elif isinstance(event, Opened):
                    plans.append((event.account_id, event.plan))
                    with contextlib.suppress(duckdb.Error):
                        unrecorded.append(_record_opened(writer, event, services, finish))
            with contextlib.suppress(duckdb.Error):
                writer.record_accounts(unrecorded)
                _write_all(writer, unwritten)  # fetched whole before the interruption
            _record_interrupted(writer, plans, services, run_started, interruption)
            if interruption is not exc:
                raise interruption from exc
        raise
    fetcher.close()
    report.setup_api_calls = Counter(setup_counter.calls)
    report.workers = fetcher.usage()
    report.elapsed_seconds = time.perf_counter() - began
    return report


class _ProgressTotal:
    """Scopes in the run: those of accounts opened, and a guess for the accounts still to open."""

    GUESSED_REGIONS = 17  # the regions enabled by default, until an account says otherwise

    def __init__(self, accounts: int, regions: int | None, services: int) -> None:
        self.unopened = accounts
        self.regions = regions
        self.services = services
        self.known = 0
        self.accounts_known = 0

    def opened(self, scopes: int) -> None:
        self.unopened -= 1
        self.accounts_known += 1
        self.known += scopes

    def failed(self) -> None:
        self.unopened -= 1

    @property
    def value(self) -> int:
        if self.regions is not None:
            guess = self.regions * self.services
        elif self.accounts_known:
            guess = round(self.known / self.accounts_known)
        else:
            guess = self.GUESSED_REGIONS * self.services
        return self.known + self.unopened * guess




def _record_opened(
    writer: InventoryWriter, opened: Opened, services: Sequence[str],
    finish: Callable[[ScopeOutcome], None],
) -> AccountRecord:
    """Record the regions skipped; returns the account's row, for the next write."""
    plan, known = opened.plan, opened.membership
    membership = known or Membership()
    now = utc_now()
    for region, reason in plan.skipped.items():
        for service in services:
            key = ScopeKey(opened.account_id, region, service)
            failure = ScopeFailure("skipped", "RegionNotEnabled", reason)
            writer.record_failure(key, failure, started_at=now, finished_at=now, api_calls=0)
            finish(ScopeOutcome(key, "skipped", failure=failure))
    return AccountRecord(
        opened.account_id, collected_at=now, source=opened.source,
        organization_id=membership.organization_id,
        management_account_id=membership.management_account_id,
        organization_known=known is not None, listed_regions=plan.listed,
    )


def _record_unavailable(
    writer: InventoryWriter, unavailable: Unavailable, regions: Sequence[str] | None,
    services: Sequence[str],
) -> AccountFailure:
    """Record the account as failed, and fail its scopes collected before, so no
    verdict leans on their rows as if they were current."""
    account_id = unavailable.account_id
    membership = unavailable.membership or Membership()
    known = unavailable.membership is not None
    message = redact(unavailable.message, ())
    now = utc_now()
    writer.record_account(
        account_id, collected_at=now, source=unavailable.source, status="error",
        error_code=unavailable.code, error_message=message,
        organization_id=membership.organization_id,
        management_account_id=membership.management_account_id,
        organization_known=known,
    )
    stale = [
        key for key in writer.collected_scopes(account_id)
        if key.service in services and (not regions or key.region in regions)
    ]
    if stale:
        writer.record_failures(
            stale,
            ScopeFailure("error", unavailable.code,
                         f"account {account_id} could not be collected: {message}"),
            started_at=now, finished_at=now,
        )
    return AccountFailure(account_id, unavailable.code, message)



# What DuckDB raises in place of the exception a signal handler raised while DuckDB
# ran a statement on this thread (the handler's exception itself is lost).
DUCKDB_INTERRUPTED = "Query interrupted"


def _interruption(
    exc: BaseException, interrupted_before: Interrupted | None
) -> BaseException | None:
    """The interruption that `exc` is or stands for, or None if it is another error."""
    if isinstance(exc, KeyboardInterrupt | Interrupted):
        return exc
    if isinstance(exc, RuntimeError) and str(exc) == DUCKDB_INTERRUPTED:
        # A signal cfgmon handles made an Interrupted during this run; else Python's own
        # SIGINT handler raised KeyboardInterrupt.
        latest = Interrupted.latest
        return latest if latest is not interrupted_before else KeyboardInterrupt()
    return None


def _record_interrupted(
    writer: InventoryWriter,
    plans: Sequence[tuple[str, RegionPlan]],
    services: Sequence[str],
    run_started: dt.datetime,
    exc: BaseException,
) -> None:
    """Record the scopes this run did not write as interrupted, in one transaction.

    What was written is read back from cfgmon_collection, not from the report: the
    interruption may land between committing a batch and reporting it. Best effort:
    the interruption is what the caller must see, so a database error here is
    dropped (the scopes then keep their earlier records).
    """
    now = utc_now()
    with contextlib.suppress(duckdb.Error):
        writer.con.execute("ROLLBACK")  # a scope transaction the interruption left open
    try:
        written = {
            ScopeKey(*row) for row in writer.con.execute(
                "SELECT account_id, region, service FROM cfgmon_collection WHERE finished_at >= ?",
                [run_started],
            ).fetchall()
        }
    except duckdb.Error:
        return
    unfinished = [
        key for key in (
            ScopeKey(account_id, region, service)
            for account_id, plan in plans for region in plan.collect for service in services
        )
        if key not in written
    ]
    signal_name = exc.name if isinstance(exc, Interrupted) else "KeyboardInterrupt"
    failure = ScopeFailure(
        "error", "Interrupted",
        f"collection was interrupted ({signal_name}) before this scope was written; "
        "rows from earlier collections are kept",
    )
    with contextlib.suppress(duckdb.Error):
        # Accounts were recorded, with their organisation, when they were opened.
        writer.record_failures(unfinished, failure, started_at=now, finished_at=now)


def _write_all(writer: InventoryWriter, batch: list[Fetched]) -> list[ScopeOutcome]:
    """Write the scopes fetched since the last write: the successful ones in one
    transaction, or one by one if that fails, so one bad scope fails alone."""
    succeeded = [fetched for fetched in batch if fetched.data is not None]
    outcomes = []
    if len(succeeded) > 1:
        try:
            written = writer.replace_scopes([
                ScopeWrite(f.key, f.data.tables, f.finished_at, f.started_at, f.calls.total(),
                           f.data.trail_upserts)
                for f in succeeded
            ])
        except duckdb.Error:
            pass
        else:
            outcomes = [
                ScopeOutcome(f.key, "ok", f.calls, rows_written=rows)
                for f, rows in zip(succeeded, written, strict=True)
            ]
            batch = [fetched for fetched in batch if fetched.data is None]
    return outcomes + [_write(writer, fetched) for fetched in batch]


def _write(writer: InventoryWriter, fetched: Fetched) -> ScopeOutcome:
    calls = fetched.calls
    total = calls.total()
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
