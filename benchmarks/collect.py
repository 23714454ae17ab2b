"""Benchmark: collecting an AWS organisation: cfgmon's CPU per call, hidden latency, memory, shards.

    .venv/bin/python benchmarks/collect.py [--accounts 20,100] [--regions 4]
        [--latency-ms 50] [--concurrency 8,16,32,64] [--processes 1,CORES] [--shards 3 (0: none)]
        [--profile]

A moto server (cfgmon.simulation.MotoSimulation), in a child process of its own,
holds an organisation of the largest `--accounts` accounts (the management account
and its members, made with moto's CreateOrganization and CreateAccount), each seeded
in every one of `--regions` regions: a multi-region trail into CloudWatch Logs in
its first region, and in every region a log group with metric filters, alarms and
an SNS topic with a subscription. Each collection runs exactly as `cfgmon collect
--organization --region ...` does (caller = management account, members through
OrganizationAccountAccessRole), into a fresh database, in a fresh process of its
own, so that its CPU time (user + sys) and peak RSS are cfgmon's alone: the
server's CPU is in the server's process. With `--processes` above 1 the collection
runs worker processes of its own (cfgmon.aws.workers); cfgmon's CPU is then the
collecting process's (the writer's) plus every worker's, from its start to its end
(interpreter, imports and all), and the peak RSS is the sum of the processes' peaks.
A worker is started by multiprocessing's 'spawn' without importing the parent's
main module again (this script here, the command line under `cfgmon collect`), so
a worker costs here what it costs under `cfgmon collect`: an interpreter, boto3,
botocore's service models and its calls (no DuckDB: only the writer writes).

The collections are answered by a ReplayServer in front of moto, not by moto
itself. One collection of the whole organisation is answered by moto and its
answers recorded; every later request that is the same as one recorded (same
operation, parameters, account, region) gets moto's answer back, byte for byte,
from a small asyncio server that keeps connections alive, as AWS's endpoints do,
and answers from the recorded bytes (status line, headers and body precomputed).
Why not moto alone: moto answers every call in one Python interpreter, with some
4 ms of its own CPU, and closes the connection after every answer; on two cores
its CPU, not cfgmon's nor the latency, bounded the wall time, and every call paid
for a TCP connection that AWS would have kept. Replayed answers keep what cfgmon
sees of AWS (the same bodies, pages, tokens and credentials) and let the latency
and cfgmon's own CPU be what is measured. A request never recorded (none, in a
run of this script: it says so at the end) is still answered by moto. Real AWS
also speaks TLS, whose handshake keep-alive pays once per connection.

0. The recording: one collection of the whole organisation answered by moto.
1. cfgmon's CPU per API call, answered at once: ms of CPU per call (client
   creation and the DuckDB writes included), and peak RSS, for each --accounts
   and --processes (memory stays flat as accounts grow). --profile adds the top
   entries of a CPU profile of every thread of the smallest run in one process.
2. Latency hidden, every request answered --latency-ms after it arrives, as
   AWS's round trip would: for each --processes and --concurrency, the wall time
   against the two bounds no collection can beat, calls x latency / concurrency
   and cfgmon CPU seconds / cores, and their ratio; and the speed-up of the default settings
   over concurrency 1 on the smallest organisation. The server's own CPU seconds
   are printed beside: they share the cores, as do other programs running on the
   machine (repeat the runs: the wall times are noisy when the cores are shared).
3. Shards: --shards collections of `--shard K/N` run at once (as N machines
   would, each with the processes `cfgmon collect` would choose for its share),
   against one collection of the whole organisation.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import http.client
import io
import multiprocessing
import os
import pstats
import re
import resource
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cfgmon.aws import (  # noqa: E402
    DEFAULT_CONCURRENCY,
    ApiCallCounter,
    ClientFactory,
    SessionRecipe,
    caller_target,
    collect,
    default_processes,
    organization_targets,
)
from cfgmon.shards import Shard  # noqa: E402
from cfgmon.simulation import MotoEndpoint, MotoSimulation, Seeder  # noqa: E402
from cfgmon.simulation.organization import create_organization  # noqa: E402
from cfgmon.store import open_database  # noqa: E402

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1", "us-west-2", "eu-central-1"]
MANAGEMENT = "100000000000"
PROFILE_ENTRIES = 15


class ReplayServer:
    """moto's answers over keep-alive HTTP/1.1, each recorded the first time it is asked
    and replayed after `latency` seconds from then on.

    A request is known by what decides moto's answer: method, path, body, the
    X-Amz-Target header and the signer (access key, region and service of the
    Authorization header's credential scope; not its date or signature). One that
    was never asked is forwarded to moto and its answer recorded, as the whole
    response (status line, moto's headers, Content-Length, body) in bytes, so a
    replay is a dictionary look-up and one write: the server's CPU, which shares the
    cores with cfgmon's, is kept as small as the same bytes allow. It is one asyncio
    loop on a thread of its own, each request waiting out its latency on a timer.
    """

    def __init__(self, moto_endpoint: str) -> None:
        self.moto = urlsplit(moto_endpoint)
        self.latency = 0.0
        self.recorded = self.replayed = 0
        self._answers: dict[tuple, bytes] = {}
        self._loop = asyncio.new_event_loop()
        started = threading.Event()
        threading.Thread(target=self._run, args=(started,), daemon=True).start()
        started.wait()
        self.endpoint = f"http://127.0.0.1:{self._port}"

    def _run(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        # every worker of a run connects at once: a backlog of a few would drop SYNs
        server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=1024))
        self._port = server.sockets[0].getsockname()[1]
        started.set()
        self._loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # headers and body go out in one write; no Nagle wait for a delayed ACK either
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *lines = head[:-4].decode("latin-1").split("\r\n")
                method, path, _ = request_line.split(" ", 2)
                headers = {}
                for line in lines:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                answer = await self._answer(method, path, headers, body)
                if self.latency:
                    await asyncio.sleep(self.latency)
                writer.write(answer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _answer(self, method: str, path: str, headers: dict, body: bytes) -> bytes:
        signer = _CREDENTIAL_SCOPE.search(headers.get("authorization") or "")
        key = (method, path, headers.get("x-amz-target"), signer and signer.groups(), body)
        known = self._answers.get(key)
        if known is not None:
            self.replayed += 1
            return known
        known = await self._loop.run_in_executor(None, self._ask_moto, method, path, headers,
                                                 body)
        self.recorded += 1
        return self._answers.setdefault(key, known)

    def _ask_moto(self, method: str, path: str, headers: dict, body: bytes) -> bytes:
        connection = http.client.HTTPConnection(self.moto.hostname, self.moto.port)
        try:
            connection.request(method, path, body, {
                name: value for name, value in headers.items() if name != "connection"
            })
            response = connection.getresponse()
            payload = response.read()
        finally:
            connection.close()
        head = [f"HTTP/1.1 {response.status} {response.reason}"]
        head += [f"{name}: {value}" for name, value in response.getheaders()
                 if name.lower() not in _HOP_HEADERS]
        head.append(f"Content-Length: {len(payload)}")
        return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)


# The Authorization header's access key, region and service (SigV4 credential scope).
_CREDENTIAL_SCOPE = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/")
# Headers of moto's answer that belong to its connection, not to the answer.
_HOP_HEADERS = {"connection", "content-length", "transfer-encoding", "date", "server",
                "keep-alive"}


def _serve(connection) -> None:
    with MotoSimulation() as moto:
        replay = ReplayServer(moto.endpoint)
        connection.send((moto.endpoint, replay.endpoint))
        while (message := connection.recv()) != "stop":
            if message == "cpu":
                usage = resource.getrusage(resource.RUSAGE_SELF)
                connection.send(usage.ru_utime + usage.ru_stime)
            elif message == "answers":
                connection.send((replay.recorded, replay.replayed))
            else:
                replay.latency = message
                connection.send("ok")
        replay.stop()


class ChildServer:
    """MotoSimulation and its ReplayServer in a child process."""

    def __enter__(self) -> ChildServer:
        self._parent, child = multiprocessing.Pipe()
        self._process = multiprocessing.Process(target=_serve, args=(child,), daemon=True)
        self._process.start()
        moto, replay = self._parent.recv()
        self.moto = MotoEndpoint(moto)
        self.endpoint = replay
        return self

    def latency(self, seconds: float) -> None:
        self._parent.send(seconds)
        self._parent.recv()

    def cpu(self) -> float:
        """CPU seconds the server (replay and moto) has spent so far."""
        self._parent.send("cpu")
        return self._parent.recv()

    def answers(self) -> tuple[int, int]:
        """Answers recorded from moto and answers replayed so far."""
        self._parent.send("answers")
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
                             profile: bool, processes: int = 1) -> dict:
    """What `cfgmon collect --organization --region ... --concurrency N --processes P
    [--shard K/N]` does, measured: run in a process of its own. Its CPU and peak RSS
    are this process's and its workers' together."""
    from cfgmon.aws import fetching

    aws = MotoEndpoint(endpoint)
    # The caller's credentials where boto3's chain finds them, as the workers do too.
    credentials = aws.account_credentials(MANAGEMENT)
    os.environ.update({name.upper(): value for name, value in credentials.items()})
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    profiles = _ThreadProfiles()
    main = cProfile.Profile(time.thread_time)
    if profile:
        fetching._fetch_scope = profiles.wrap(fetching._fetch_scope)
        fetching._open_account = profiles.wrap(fetching._open_account)
        main.enable()
    before = resource.getrusage(resource.RUSAGE_SELF)
    began = time.perf_counter()
    clients = ClientFactory(endpoint_url=aws.endpoint, max_pool_connections=max(concurrency, 64))
    setup = ApiCallCounter()
    caller = caller_target(SessionRecipe().session(), clients, setup)
    targets = organization_targets(caller, clients, setup, only=accounts,
                                   shard=Shard(*shard) if shard else None).targets
    con = open_database(db)
    try:
        report = collect(con, targets, clients=clients, regions=regions,
                         concurrency=concurrency, setup_counter=setup, processes=processes,
                         caller=SessionRecipe())
    finally:
        con.close()
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_SELF)
    if profile:
        main.disable()
    parent_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    workers_cpu = sum(worker.cpu_seconds for worker in report.workers)
    return {
        "wall": wall,
        "cpu": parent_cpu + workers_cpu,
        "parent_cpu": parent_cpu,
        "workers": len(report.workers),
        "calls": sum(report.api_calls().values()),
        "scopes": len(report.outcomes),
        "ok": report.count("ok"),
        "failed": report.count("error") + len(report.account_failures),
        "peak_rss_mb": (after.ru_maxrss + sum(w.peak_rss_kb for w in report.workers)) / 1024,
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
    parser.add_argument("--processes", default=f"1,{default_processes()}",
                        help="processes of passes 1 and 2, comma-separated "
                             "[default: 1 and the cores cfgmon may use]")
    parser.add_argument("--shards", type=int, default=3,
                        help="shards collected at once in part 3 (0: skip part 3)")
    parser.add_argument("--profile", action="store_true",
                        help="print the top of a CPU profile of the smallest run")
    options = parser.parse_args()
    if options.shards < 0:
        parser.error("--shards must be 0 (skip part 3) or more")
    if not 1 <= options.regions <= len(REGIONS):
        parser.error(f"--regions must be 1..{len(REGIONS)}")
    sizes = sorted(_numbers(options.accounts))
    regions = REGIONS[: options.regions]
    cores = default_processes()
    processes = sorted(set(_numbers(options.processes)))
    default = default_processes(sizes[-1])  # what `cfgmon collect` runs with
    latency = options.latency_ms / 1000

    with ChildServer() as server, tempfile.TemporaryDirectory() as tmp:
        endpoint = server.endpoint
        began = time.perf_counter()
        accounts = seed(server.moto, sizes[-1], regions)
        print(f"seeded an organisation of {len(accounts)} accounts x {len(regions)} regions in "
              f"{time.perf_counter() - began:.0f} s (moto in a child process; {cores} cores)")
        runs = iter(range(10_000))

        def db() -> str:
            return str(Path(tmp) / f"run-{next(runs)}.duckdb")

        def run(concurrency: int, some: list[str], procs: int, shard=None, profile=False):
            return (endpoint, db(), regions, concurrency, some, shard, profile, procs)

        began = time.perf_counter()
        measured(*run(DEFAULT_CONCURRENCY, accounts, 1))
        recorded, _ = server.answers()
        print(f"recorded moto's {recorded} answers to a collection of the whole organisation in "
              f"{time.perf_counter() - began:.0f} s; every run below is answered from them")

        print(f"\n1. cfgmon's CPU (the collecting process and its workers, user + sys), "
              f"answered at once (concurrency {DEFAULT_CONCURRENCY}):")
        for size in sizes:
            for procs in processes:
                result = measured(*run(DEFAULT_CONCURRENCY, accounts[:size], procs))
                print(f"  {size} accounts, {procs} process(es): {result['calls']} API calls, "
                      f"{result['scopes']} scopes ({result['failed']} failed) in "
                      f"{result['wall']:.1f} s wall; cfgmon CPU {result['cpu']:.2f} s "
                      f"(writer {result['parent_cpu']:.2f} s) = "
                      f"{result['cpu'] / result['calls'] * 1000:.2f} ms per call; "
                      f"peak RSS {result['peak_rss_mb']:.0f} MB (all processes)")
        if options.profile:
            result = measured(*run(DEFAULT_CONCURRENCY, accounts[: sizes[0]], 1, profile=True))
            print(f"  CPU profile of every thread, {sizes[0]} accounts, 1 process (a run of "
                  "its own: the profiler's cost is not in the figures above), by own time:")
            print("    " + result["profile"].replace("\n", "\n    "))

        server.latency(latency)
        largest = accounts[: sizes[-1]]
        print(f"\n2. every request answered after {options.latency_ms:g} ms, "
              f"{len(largest)} accounts:")
        best = None
        for procs in processes:
            for concurrency in _numbers(options.concurrency):
                server_before = server.cpu()
                result = measured(*run(concurrency, largest, procs))
                served = server.cpu() - server_before
                waiting = result["calls"] * latency / concurrency
                computing = result["cpu"] / cores
                bound = max(waiting, computing)
                print(f"  {procs} process(es), concurrency {concurrency}: {result['wall']:.1f} s "
                      f"wall; bounds: latency {waiting:.1f} s (calls x latency / concurrency), "
                      f"CPU {computing:.1f} s (cfgmon CPU / cores); wall / bound "
                      f"{result['wall'] / bound:.2f}; cfgmon CPU "
                      f"{result['cpu'] / result['calls'] * 1000:.2f} ms per call; the "
                      f"server's CPU {served:.1f} s")
                if best is None or result["wall"] < best[2]:
                    best = (procs, concurrency, result["wall"])
        print(f"  fastest: {best[0]} process(es), concurrency {best[1]} (default: {default} "
              f"process(es), concurrency {DEFAULT_CONCURRENCY})")
        smallest = accounts[: sizes[0]]
        one = measured(*run(1, smallest, 1))
        fast = measured(*run(DEFAULT_CONCURRENCY, smallest, default_processes(len(smallest))))
        print(f"  {len(smallest)} accounts: concurrency 1 {one['wall']:.1f} s, the default "
              f"{fast['wall']:.1f} s: speed-up {one['wall'] / fast['wall']:.1f}x")

        if options.shards:
            compare_shards(options, run, largest, default)
        now_recorded, replayed = server.answers()
        print(f"\nanswers replayed: {replayed}; asked of moto after the recording: "
              f"{now_recorded - recorded}")


def compare_shards(options, run, largest: list[str], default: int) -> None:
    """Part 3: --shards collections of `--shard K/N` at once against one collection."""
    print(f"\n3. {options.shards} shards at once against one collection, {len(largest)} "
          f"accounts, {options.latency_ms:g} ms per request, the default settings:")
    whole = measured(*run(DEFAULT_CONCURRENCY, largest, default))
    # each shard as its own `cfgmon collect` would run, for the accounts of a shard
    per_shard = default_processes(len(largest) // options.shards)
    shards = measured_together([
        run(DEFAULT_CONCURRENCY, largest, per_shard, shard=(index, options.shards))
        for index in range(1, options.shards + 1)
    ])
    slowest = max(result["wall"] for result in shards)
    walls = ", ".join(f"{result['wall']:.1f} s" for result in shards)
    scopes = ", ".join(str(result["scopes"]) for result in shards)
    print(f"  whole organisation: {whole['wall']:.1f} s; shards: {walls} ({scopes} scopes); "
          f"speed-up {whole['wall'] / slowest:.1f}x")


if __name__ == "__main__":
    main()
