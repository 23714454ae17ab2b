"""Benchmark: collecting an AWS organisation, with the default concurrency and with 1.

    .venv/bin/python benchmarks/collect.py [--accounts 20] [--regions 4] [--in-process]

A moto server (cfgmon.simulation.MotoSimulation) holds an organisation of
`--accounts` accounts (the management account and its members, made with moto's
CreateOrganization and CreateAccount), each seeded in every one of `--regions`
regions: a multi-region trail into CloudWatch Logs in its first region, and in
every region a log group with metric filters, alarms and an SNS topic with
subscriptions. The organisation is then collected twice, exactly as
`cfgmon collect --organization --region ...` does (caller = management account,
members through OrganizationAccountAccessRole), into fresh databases: once with
the default concurrency and once with concurrency 1. Prints wall time, scopes and
API calls of each, and the ratio.

The moto server runs in a child process by default, so that it and cfgmon do not
share one interpreter lock (real AWS does not share cfgmon's); --in-process keeps
it in this process. moto answers in a few milliseconds, where AWS takes tens of
them: collected as fast as moto answers, the run measures cfgmon's own CPU cost
(botocore's request handling, client creation, DuckDB writes), which threads
cannot spread over cores. A second pass holds every request --latency-ms before
moto answers it, as AWS's round trip would, which is the wait concurrency hides.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cfgmon.aws import (  # noqa: E402
    DEFAULT_CONCURRENCY,
    ClientFactory,
    caller_target,
    collect,
    organization_targets,
)
from cfgmon.simulation import MotoEndpoint, MotoSimulation, Seeder  # noqa: E402
from cfgmon.simulation.organization import create_organization  # noqa: E402
from cfgmon.store import open_database  # noqa: E402

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1", "us-west-2", "eu-central-1"]
MANAGEMENT = "100000000000"


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
        wsgi.app = cls(getattr(wsgi.app, "app", wsgi.app), seconds) if seconds else getattr(
            wsgi.app, "app", wsgi.app)


def _serve(connection) -> None:
    with MotoSimulation() as server:
        connection.send(server.endpoint)
        while (message := connection.recv()) != "stop":
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

    def __exit__(self, *exc) -> None:
        self._parent.send("stop")
        self._process.join(timeout=10)


class LocalServer:
    """MotoSimulation in this process."""

    def __enter__(self) -> LocalServer:
        self._simulation = MotoSimulation()
        self.endpoint = self._simulation
        return self

    def latency(self, seconds: float) -> None:
        Latency.add(self._simulation, seconds)

    def __exit__(self, *exc) -> None:
        self._simulation.stop()


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


def collect_organization(aws: MotoEndpoint, db: Path, regions: list[str], concurrency: int):
    """What `cfgmon collect --organization --region ... --concurrency N` does."""
    clients = ClientFactory(endpoint_url=aws.endpoint)
    from cfgmon.aws import ApiCallCounter

    setup = ApiCallCounter()
    began = time.perf_counter()
    caller = caller_target(aws.session(MANAGEMENT), clients, setup)
    targets = organization_targets(caller, clients, setup).targets
    con = open_database(db)
    try:
        report = collect(con, targets, clients=clients, regions=regions,
                         concurrency=concurrency, setup_counter=setup)
    finally:
        con.close()
    return time.perf_counter() - began, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--regions", type=int, default=4)
    parser.add_argument("--in-process", action="store_true",
                        help="run the moto server in this process")
    parser.add_argument("--latency-ms", type=float, default=30,
                        help="also collect with this delay added to every request, as AWS's "
                             "round trip would (0: skip) [default: 30]")
    options = parser.parse_args()
    if not 1 <= options.regions <= len(REGIONS):
        parser.error(f"--regions must be 1..{len(REGIONS)}")
    regions = REGIONS[: options.regions]

    server = LocalServer() if options.in_process else ChildServer()
    with server, tempfile.TemporaryDirectory() as tmp:
        aws = server.endpoint
        began = time.perf_counter()
        accounts = seed(aws, options.accounts, regions)
        print(f"seeded an organisation of {len(accounts)} accounts x {len(regions)} regions "
              f"in {time.perf_counter() - began:.1f} s "
              f"(moto {'in this process' if options.in_process else 'in a child process'})")
        for latency in dict.fromkeys((0.0, options.latency_ms)):
            server.latency(latency / 1000)
            print(f"moto answering {'as fast as it can' if not latency else f'after {latency:g} ms'}:")
            runs = {}
            for concurrency in (DEFAULT_CONCURRENCY, 1):
                db = Path(tmp) / f"l{latency:g}-c{concurrency}.duckdb"
                wall, report = collect_organization(aws, db, regions, concurrency)
                calls = sum(report.api_calls().values())
                failed = report.count("error") + len(report.account_failures)
                runs[concurrency] = wall
                print(f"  concurrency {concurrency}: {wall:.2f} s wall, {len(report.outcomes)} "
                      f"scopes ({report.count('ok')} ok, {failed} failed), {calls} API calls "
                      f"({calls / wall:.0f}/s)")
            print(f"  speed-up of concurrency {DEFAULT_CONCURRENCY} over 1: "
                  f"{runs[1] / runs[DEFAULT_CONCURRENCY]:.2f}x")


if __name__ == "__main__":
    main()
