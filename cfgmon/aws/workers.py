"""Collecting in several processes: worker processes fetch, the collecting process writes.

botocore spends a couple of milliseconds of CPU on every call, and one Python
process runs Python on one core at a time, so a large collection is bound by one
core's worth of botocore long before the latency is hidden. Worker processes each
run a ScopeFetcher (cfgmon.aws.fetching) over their share of the accounts and send
what it hands back to the collecting process, which alone writes to DuckDB.

The accounts are dealt to the workers in turn, in the order given: each account
lives in one worker, which assumes its role, asks its organisation and regions once
and fetches all its scopes, with its own clients and its own adaptive rate limiter
per (account, service, region), so AWS's per-account, per-region rate limits are
respected as in one process. A worker makes the caller's session itself
(SessionRecipe) and is handed only account ids and role ARNs: credentials never
cross the pipe, and a fetch's error message is masked before it is sent.

Workers are started with 'spawn', not fork: the collecting process holds DuckDB
and threads, which a fork would copy in whatever state they were. Unlike spawn's
default, they do not import the collecting process's main module again (see
_main_module_left_out), and what they import loads no DuckDB: a worker's CPU before
its first call is its interpreter, botocore and the service models. They ignore
SIGINT (Ctrl-C reaches the whole process group; the collecting process decides
what an interruption writes) and are terminated when the collection stops early.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import pickle
import resource
import signal
import sys
import types
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing import connection as connections
from typing import Any

from cfgmon.aws.errors import CollectError
from cfgmon.aws.fetching import Event, ScopeFetcher
from cfgmon.aws.session import ApiCallCounter, ClientFactory, SessionRecipe
from cfgmon.aws.targets import Target, TargetRecipe, caller_session, target_recipe
from cfgmon.garbage import fewer_collections
from cfgmon.parallel import usable_cores

# How long a stopped worker gets to end once terminated, before it is killed.
STOP_GRACE_SECONDS = 5.0
# A worker process costs some 0.6 s of CPU before its first call (an interpreter,
# boto3, botocore's service models): as much as 300 calls, half a dozen accounts'
# worth. Fewer accounts than this per worker cost more than the second core gives
# back (benchmarks/collect.py, answered at once: 20 accounts x 4 regions took 2.1-2.5 s
# wall in 2 processes, 1.9-2.0 s in one; 100 accounts gain from a second process,
# which also costs no more CPU per call there than one process of 64 threads).
MIN_ACCOUNTS_PER_PROCESS = 25


def default_processes(accounts: int | None = None) -> int:
    """The cores this process may run on (its scheduler affinity, else all of them);
    for `accounts` accounts, no more than gain from a process of their own."""
    cores = usable_cores()
    if accounts is None:
        return cores
    return max(1, min(cores, accounts // MIN_ACCOUNTS_PER_PROCESS))


@dataclass(frozen=True)
class WorkerUsage:
    """One worker process's own CPU (user + sys) and peak RSS, from its start to its end."""

    cpu_seconds: float
    peak_rss_kb: int


def worker_shares(
    targets: Sequence[Target], concurrency: int, processes: int
) -> list[tuple[list[Target], int]]:
    """The targets dealt in turn to as many workers as `processes` allows (no more than
    there are accounts or requests in flight), each with its share of the concurrency."""
    count = max(1, min(processes, len(targets), concurrency))
    return [
        (list(targets[index::count]), concurrency // count + (index < concurrency % count))
        for index in range(count)
    ]


@dataclass(frozen=True)
class _Order:
    """What one worker is asked to collect: picklable, without sessions or credentials."""

    targets: list[TargetRecipe]
    caller: SessionRecipe
    clients: ClientFactory
    regions: Sequence[str] | None
    services: Sequence[str]
    concurrency: int


class WorkerPool:
    """ScopeFetchers in worker processes, one share of the accounts each; the same
    start / busy / wait / stop / close as one ScopeFetcher."""

    def __init__(
        self,
        shares: Sequence[tuple[Sequence[Target], int]],
        *,
        caller: SessionRecipe,
        clients: ClientFactory,
        regions: Sequence[str] | None,
        services: Sequence[str],
        setup_counter: ApiCallCounter,
    ) -> None:
        sessions = {id(caller_session(target)) for targets, _ in shares for target in targets}
        if len(sessions) > 1:
            raise ValueError("targets acting through several sessions cannot be collected "
                             "in worker processes: each worker makes the caller's one")
        self._orders = [
            _Order([target_recipe(target) for target in targets], caller, clients,
                   tuple(regions) if regions else None, tuple(services), concurrency)
            for targets, concurrency in shares
        ]
        self._setup_counter = setup_counter
        self._processes: list[Any] = []
        self._running: dict[Any, Any] = {}  # the pipe each running worker sends on -> worker
        self._usage: list[WorkerUsage] = []

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def start(self) -> None:
        context = multiprocessing.get_context("spawn")
        for order in self._orders:
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(target=_work, args=(sender, order), daemon=True,
                                      name="cfgmon-collect-worker")
            with _main_module_left_out():
                process.start()
            sender.close()  # the worker's end: a worker that dies is then seen as EOF
            self._processes.append(process)
            self._running[receiver] = process

    def wait(self, timeout: float | None) -> list[Event]:
        """What the workers fetched within `timeout` seconds (None: until one sends)."""
        events: list[Event] = []
        for receiver in connections.wait(list(self._running), timeout):
            try:
                kind, payload = receiver.recv()
            except EOFError:
                process = self._running.pop(receiver)
                process.join()
                raise CollectError(
                    f"a collecting worker process ended unexpectedly (exit code "
                    f"{process.exitcode})") from None
            if kind == "events":
                events.extend(payload)
            elif kind == "done":
                calls, usage = payload
                self._setup_counter.add(calls)
                self._usage.append(usage)
                self._running.pop(receiver).join()
                receiver.close()
            else:  # "failed": what stopped the worker, raised here as in one process
                self._running.pop(receiver).join()
                raise payload
        return events

    def stop(self) -> list[Event]:
        """End every worker now (requests in flight go unanswered, none follows);
        returns what they had sent and this process had not yet received."""
        for process in self._processes:
            if process.is_alive():
                process.terminate()
        for process in self._processes:
            process.join(STOP_GRACE_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()
        sent: list[Event] = []
        for receiver in self._running:
            # a worker ended mid-message leaves a message that cannot be read: the end
            with contextlib.suppress(EOFError, OSError, pickle.UnpicklingError, ValueError):
                while receiver.poll():
                    kind, payload = receiver.recv()
                    if kind == "events":
                        sent.extend(payload)
        self._close_pipes()
        return sent

    def close(self) -> None:
        for process in self._processes:
            process.join()
        self._close_pipes()

    def usage(self) -> list[WorkerUsage]:
        return list(self._usage)

    def _close_pipes(self) -> None:
        for receiver in self._running:
            receiver.close()
        self._running.clear()


@contextlib.contextmanager
def _main_module_left_out() -> Iterator[None]:
    """Start processes that do not import this process's main module again.

    'spawn' has each child import the parent's main module, in case what the child
    is handed was defined there. A worker is handed cfgmon's own objects only, and
    the main module of `cfgmon collect` is the whole command line: half a second of
    CPU per worker, and a script's top-level code run once more in each. While a
    worker starts (spawn reads the main module then, in this thread), the main
    module is a stand-in without a file, as under `python -c`, where spawn has
    nothing to import either.
    """
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def _work(sender: Any, order: _Order) -> None:
    """A worker process: fetch the order's accounts and send back what was fetched."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        counter = ApiCallCounter()
        session = order.caller.session()
        fetcher = ScopeFetcher(
            [recipe.target(session) for recipe in order.targets], clients=order.clients,
            regions=order.regions, services=order.services, concurrency=order.concurrency,
            setup_counter=counter,
        )
        with fewer_collections():
            fetcher.start()
            while fetcher.busy:
                sender.send(("events", fetcher.wait(None)))
            fetcher.close()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        sender.send(("done", (dict(counter.calls), WorkerUsage(
            usage.ru_utime + usage.ru_stime, usage.ru_maxrss))))
    except BaseException as exc:
        sender.send(("failed", _sendable(exc)))
    finally:
        sender.close()


def _sendable(exc: BaseException) -> BaseException:
    """`exc` if it survives the pipe, else a CollectError that says what it was."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return CollectError(f"a collecting worker process failed: {type(exc).__name__}: {exc}")
    return exc
