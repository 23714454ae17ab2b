"""Benchmark: collecting an AWS organisation: cfgmon's CPU per call, hidden latency, memory, shards.

    .venv/bin/python benchmarks/collect.py [--accounts 20,100] [--regions 4]
        [--latency-ms 50] [--concurrency 8,16,32,64] [--shards 3] [--profile]

A moto server (cfgmon.simulation.MotoSimulation), in a child process of its own,
holds an organisation of the largest `--accounts` accounts (the management account
and its members, made with moto's CreateOrganization and CreateAccount), each seeded
in every one of `--regions` regions: a multi-region trail into CloudWatch Logs in
its first region, and in every region a log group with metric filters, alarms and
an SNS topic with a subscription. Each collection runs exactly as `cfgmon collect
--organization --region ...` does (caller = management account, members through
OrganizationAccountAccessRole), into a fresh database, in a fresh process of its
own, so that its CPU time (user + sys) and peak RSS are cfgmon's alone: moto's
CPU is in the server's process.

1. cfgmon's CPU per API call, moto answering at once: calls per second of cfgmon
   CPU and ms of CPU per call (client creation and the DuckDB writes included), and
   peak RSS, for each --accounts (memory stays flat as accounts grow). --profile
   adds the top entries of a CPU profile of every thread of the smallest run.
2. Latency hidden, every request held --latency-ms before moto answers it, as
   AWS's round trip would: for each --concurrency, the wall time against the two
   bounds no collection can beat, calls x latency / concurrency and cfgmon CPU
   seconds / cores, and their ratio; and the speed-up of the default concurrency
   over 1 on the smallest organisation. moto answers in one Python interpreter,
   so its own CPU seconds bound the wall time too: they are printed beside.
3. Shards: --shards collections of `--shard K/N` run at once (as N machines
   would), against one collection of the whole organisation.

moto closes the connection after every answer, so each call here also pays for a
new TCP connection that AWS's keep-alive would spare.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import multiprocessing
import os
import pstats
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cfgmon.aws import (  # noqa: E402
    DEFAULT_CONCURRENCY,
    ApiCallCounter,
    ClientFactory,
    caller_target,
    collect,
    organization_targets,
)
from cfgmon.shards import Shard  # noqa: E402
from cfgmon.simulation import MotoEndpoint, MotoSimulation, Seeder  # noqa: E402
from cfgmon.simulation.organization import create_organization  # noqa: E402
from cfgmon.store import open_database  # noqa: E402

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1", "us-west-2", "eu-central-1"]
MANAGEMENT = "100000000000"
PROFILE_ENTRIES = 15


class Latency:
    """Holds every request `seconds` before moto answers it, as AWS's round trip would.

    Wraps the WSGI application of MotoSimulation's werkzeug server (a private
    attribute of moto's ThreadedMotoServer: benchmark-only).
    """

    def __init__(self, app, seconds: float) -> None:
        self.app, self.seconds = app, seconds

    def __call__(self, environ, start_response):
        time.sleep(self.seconds)
        return self.app(environ, start_response)

    @classmethod
    def add(cls, simulation: MotoSimulation, seconds: float) -> None:
        wsgi = simulation._server._server
        app = getattr(wsgi.app, "app", wsgi.app)
        wsgi.app = cls(app, seconds) if seconds else app


def _serve(connection) -> None:
    with MotoSimulation() as server:
        connection.send(server.endpoint)
        while (message := connection.recv()) != "stop":
            if message == "cpu":
                usage = resource.getrusage(resource.RUSAGE_SELF)
                connection.send(usage.ru_utime + usage.ru_stime)
                continue
            Latency.add(server, message)
            connection.send("ok")


class ChildServer:
    """MotoSimulation in a child process."""

    def __enter__(self) -> ChildServer:
        self._parent, child = multiprocessing.Pipe()
        self._process = multiprocessing.Process(target=_serve, args=(child,), daemon=True)
        self._process.start()
        self.endpoint = MotoEndpoint(self._parent.recv())
        return self

    def latency(self, seconds: float) -> None:
        self._parent.send(seconds)
        self._parent.recv()

    def cpu(self) -> float:
        """CPU seconds the moto server has spent so far."""
        self._parent.send("cpu")
        return self._parent.recv()

    def __exit__(self, *exc) -> None:
        self._parent.send("stop")
        self._process.join(timeout=10)


def seed(aws: MotoEndpoint, accounts: int, regions: list[str]) -> list[str]:
    """The organisation and every account's inventory; returns the account ids."""
    organization = create_organization(aws, MANAGEMENT, accounts - 1)
    for account_id in organization.account_ids:
        seeder = Seeder(aws, account_id)
        seeder.chain(regions[0], prefix="cis")
        for region in regions:
            group = f"app-{region}"
            seeder.log_group(region, group)
            for number in range(3):
                seeder.metric_filter(region, group, f"filter-{number}",
                                     metric_name=f"metric-{number}")
            topic = seeder.topic(region, "alerts")
            seeder.subscription(topic)
            for number in range(3):
                seeder.alarm(region, f"alarm-{number}", metric_name=f"metric-{number}",
                             alarm_actions=[topic])
    return list(organization.account_ids)


class _ThreadProfiles:
    """A CPU-time profile of every thread that runs a wrapped function (the pool's workers)."""

    def __init__(self) -> None:
        self.profiles: dict[int, cProfile.Profile] = {}

    def wrap(self, function):
        def profiled(*args, **kwargs):
            profile = self.profiles.setdefault(
                threading.get_ident(), cProfile.Profile(time.thread_time))
            profile.enable()
            try:
                return function(*args, **kwargs)
            finally:
                profile.disable()
        return profiled

    def top(self, main: cProfile.Profile) -> str:
        out = io.StringIO()
        stats = pstats.Stats(main, stream=out)
        for profile in self.profiles.values():
            stats.add(profile)
        stats.sort_stats("tottime").print_stats(PROFILE_ENTRIES)
        lines = [line for line in out.getvalue().splitlines() if line.strip()]
        start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
        return "\n".join(lines[start:])


def _collect_in_this_process(endpoint: str, db: str, regions: list[str], concurrency: int,
                             accounts: list[str], shard: tuple[int, int] | None,
                             profile: bool) -> dict:
    """What `cfgmon collect --organization --region ... --concurrency N [--shard K/N]` does,
    measured: run in a process of its own."""
    from cfgmon.aws import collector

    aws = MotoEndpoint(endpoint)
    profiles = _ThreadProfiles()
    main = cProfile.Profile(time.thread_time)
    if profile:
        collector._fetch_scope = profiles.wrap(collector._fetch_scope)
        collector._open_account = profiles.wrap(collector._open_account)
        main.enable()
    before = resource.getrusage(resource.RUSAGE_SELF)
    began = time.perf_counter()
    clients = ClientFactory(endpoint_url=aws.endpoint, max_pool_connections=max(concurrency, 64))
    setup = ApiCallCounter()
    caller = caller_target(aws.session(MANAGEMENT), clients, setup)
    targets = organization_targets(caller, clients, setup, only=accounts,
                                   shard=Shard(*shard) if shard else None).targets
    con = open_database(db)
    try:
        report = collect(con, targets, clients=clients, regions=regions,
                         concurrency=concurrency, setup_counter=setup)
    finally:
        con.close()
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_SELF)
    if profile:
        main.disable()
    return {
        "wall": wall,
        "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "calls": sum(report.api_calls().values()),
        "scopes": len(report.outcomes),
        "ok": report.count("ok"),
        "failed": report.count("error") + len(report.account_failures),
        "peak_rss_mb": after.ru_maxrss / 1024,
        "profile": profiles.top(main) if profile else None,
    }


def _child(connection, *args) -> None:
    connection.send(_collect_in_this_process(*args))


def measured(*args) -> dict:
    """One collection in a fresh process: its own CPU and RSS."""
    parent, child = multiprocessing.get_context("spawn").Pipe()
    process = multiprocessing.get_context("spawn").Process(target=_child, args=(child, *args))
    process.start()
    result = parent.recv()
    process.join()
    return result


def measured_together(runs: list[tuple]) -> list[dict]:
    """Several collections at once, each in a process of its own (N machines)."""
    context = multiprocessing.get_context("spawn")
    pipes, processes = [], []
    for args in runs:
        parent, child = context.Pipe()
        process = context.Process(target=_child, args=(child, *args))
        process.start()
        pipes.append(parent)
        processes.append(process)
    results = [pipe.recv() for pipe in pipes]
    for process in processes:
        process.join()
    return results


def _numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", default="20,100",
                        help="organisation sizes, comma-separated [default: 20,100]")
    parser.add_argument("--regions", type=int, default=4)
    parser.add_argument("--latency-ms", type=float, default=50,
                        help="delay added to every request in passes 2 and 3 [default: 50]")
    parser.add_argument("--concurrency", default="8,16,32,64",
                        help="concurrencies of pass 2, comma-separated [default: 8,16,32,64]")
    parser.add_argument("--shards", type=int, default=3)
    parser.add_argument("--profile", action="store_true",
                        help="print the top of a CPU profile of the smallest run")
    options = parser.parse_args()
    if not 1 <= options.regions <= len(REGIONS):
        parser.error(f"--regions must be 1..{len(REGIONS)}")
    sizes = sorted(_numbers(options.accounts))
    regions = REGIONS[: options.regions]
    cores = os.cpu_count() or 1
    latency = options.latency_ms / 1000

    with ChildServer() as server, tempfile.TemporaryDirectory() as tmp:
        endpoint = server.endpoint.endpoint
        began = time.perf_counter()
        accounts = seed(server.endpoint, sizes[-1], regions)
        print(f"seeded an organisation of {len(accounts)} accounts x {len(regions)} regions in "
              f"{time.perf_counter() - began:.0f} s (moto in a child process; {cores} cores)")
        runs = iter(range(10_000))

        def db() -> str:
            return str(Path(tmp) / f"run-{next(runs)}.duckdb")

        print(f"\n1. cfgmon's CPU, moto answering at once (concurrency {DEFAULT_CONCURRENCY}):")
        for size in sizes:
            run = measured(endpoint, db(), regions, DEFAULT_CONCURRENCY, accounts[:size], None,
                           False)
            print(f"  {size} accounts: {run['calls']} API calls, {run['scopes']} scopes "
                  f"({run['failed']} failed) in {run['wall']:.1f} s wall; cfgmon CPU "
                  f"{run['cpu']:.2f} s = {run['cpu'] / run['calls'] * 1000:.2f} ms per call "
                  f"({run['calls'] / run['cpu']:.0f} calls per CPU second); "
                  f"peak RSS {run['peak_rss_mb']:.0f} MB")
        if options.profile:
            run = measured(endpoint, db(), regions, DEFAULT_CONCURRENCY, accounts[: sizes[0]],
                           None, True)
            print(f"  CPU profile of every thread, {sizes[0]} accounts (a run of its own: the "
                  "profiler's cost is not in the figures above), by own time:")
            print("    " + run["profile"].replace("\n", "\n    "))

        server.latency(latency)
        largest = accounts[: sizes[-1]]
        print(f"\n2. every request answered after {options.latency_ms:g} ms, "
              f"{len(largest)} accounts:")
        best = None
        for concurrency in _numbers(options.concurrency):
            moto_before = server.cpu()
            run = measured(endpoint, db(), regions, concurrency, largest, None, False)
            moto = server.cpu() - moto_before
            waiting = run["calls"] * latency / concurrency
            computing = run["cpu"] / cores
            bound = max(waiting, computing)
            print(f"  concurrency {concurrency}: {run['wall']:.1f} s wall; bounds: latency "
                  f"{waiting:.1f} s (calls x latency / concurrency), CPU {computing:.1f} s "
                  f"(cfgmon CPU / cores); wall / bound {run['wall'] / bound:.2f}; moto's CPU "
                  f"{moto:.1f} s (wall / max of the three {run['wall'] / max(bound, moto):.2f})")
            if best is None or run["wall"] < best[1]:
                best = (concurrency, run["wall"])
        print(f"  fastest: concurrency {best[0]} (default {DEFAULT_CONCURRENCY})")
        smallest = accounts[: sizes[0]]
        one = measured(endpoint, db(), regions, 1, smallest, None, False)
        default = measured(endpoint, db(), regions, DEFAULT_CONCURRENCY, smallest, None, False)
        print(f"  {len(smallest)} accounts: concurrency 1 {one['wall']:.1f} s, concurrency "
              f"{DEFAULT_CONCURRENCY} {default['wall']:.1f} s: speed-up "
              f"{one['wall'] / default['wall']:.1f}x")

        print(f"\n3. {options.shards} shards at once against one collection, {len(largest)} "
              f"accounts, {options.latency_ms:g} ms per request:")
        whole = measured(endpoint, db(), regions, DEFAULT_CONCURRENCY, largest, None, False)
        shards = measured_together([
            (endpoint, db(), regions, DEFAULT_CONCURRENCY, largest, (index, options.shards), False)
            for index in range(1, options.shards + 1)
        ])
        slowest = max(run["wall"] for run in shards)
        walls = ", ".join(f"{run['wall']:.1f} s" for run in shards)
        scopes = ", ".join(str(run["scopes"]) for run in shards)
        print(f"  whole organisation: {whole['wall']:.1f} s; shards: {walls} ({scopes} scopes); "
              f"speed-up {whole['wall'] / slowest:.1f}x")


if __name__ == "__main__":
    main()
