"""Interrupting a real `cfgmon collect` process: what it finished stays, nothing is half-written.

The fault proxy slows every AWS answer down so that the signal lands mid-run; the
database is inspected after the process has gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from cfgmon.aws import AccountTarget, ClientFactory, collect
from cfgmon.errors import Interrupted
from cfgmon.simulation import DEFAULT_ACCOUNT, Seeder
from cfgmon.store import SERVICE_TABLES, open_database

from .fault_proxy import Fault
from .faultrun import check_cli, rows

REGIONS = ("us-east-1", "eu-west-1")
OTHER_ACCOUNT = "222222222222"
SCOPES = len(REGIONS) * len(SERVICE_TABLES)
MESSAGE = "cfgmon: interrupted by {name}; work committed before it is kept\n"


def start_collect(proxy, db):
    """`python -m cfgmon.cli collect` through the proxy, one scope at a time."""
    args = [sys.executable, "-m", "cfgmon.cli", "collect", "--db", str(db),
            "--endpoint-url", proxy.url, "--concurrency", "1"]
    for region in REGIONS:
        args += ["--region", region]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))


def wait_for(condition, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def inventory_requests(proxy) -> int:
    return sum(1 for r in proxy.requests if r.service not in ("sts", "ec2"))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_collect_keeps_what_it_finished(aws, proxy, db, cli, signum):
    Seeder(aws).chain("eu-west-1")
    Seeder(aws).chain("us-east-1", prefix="local", multi_region=False)
    proxy.add(Fault("delay", seconds=0.3))
    process = start_collect(proxy, db)
    try:
        # A few scopes in (us-east-1's four take about 8 calls), then the signal.
        wait_for(lambda: inventory_requests(proxy) >= 6 or process.poll() is not None)
        assert process.poll() is None, process.communicate()
        if signum == signal.SIGINT:
            # Meanwhile a second collect finds the database in use by a real process.
            second = cli("collect", "--db", str(db), "--endpoint-url", aws.endpoint,
                         "--region", "us-east-1")
            assert (second.exit_code, second.stderr) == (
                2, f"cfgmon: error: database {db} is open in another process (PID {process.pid}): "
                   "close it, or wait for it to finish, and run again\n")
        signalled = time.monotonic()
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=20)
        took = time.monotonic() - signalled
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    name = signal.Signals(signum).name
    assert process.returncode == 128 + signum  # 130, 143
    assert (stdout, stderr) == ("", MESSAGE.format(name=name))
    assert took < 5  # fetches in flight stop at their next request
    assert inventory_requests(proxy) < 20  # it did stop, well short of the whole run

    records = rows(db, "SELECT region, service, status, error_code, error_message, last_success_at "
                       "FROM cfgmon_collection ORDER BY region, service")
    assert len(records) == SCOPES
    done = {(r["region"], r["service"]) for r in records if r["status"] == "ok"}
    interrupted = [r for r in records if r["status"] != "ok"]
    assert done and interrupted
    assert {(r["status"], r["error_code"]) for r in interrupted} == {("error", "Interrupted")}
    assert all(r["last_success_at"] is None for r in interrupted)
    assert f"interrupted ({name}) before this scope was written" in interrupted[0]["error_message"]
    # No scope half-written: a scope has rows exactly when it finished (each region has
    # one trail, log group, alarm and topic of its own).
    tables = {"cloudtrail": "aws_cloudtrail_trail", "logs": "aws_cloudwatch_log_group",
              "cloudwatch": "aws_cloudwatch_alarm", "sns": "aws_sns_topic"}
    for region in REGIONS:
        for service, table in tables.items():
            [stored] = rows(db, f"SELECT count(*) AS n FROM {table} WHERE region = ?", [region])
            assert stored["n"] == ((region, service) in done), (region, service, stored)
    assert rows(db, "SELECT account_id FROM cfgmon_account") == [{"account_id": DEFAULT_ACCOUNT}]

    # The database is consistent and usable; missing data is not called a failure.
    verdicts = check_cli(db)
    assert [v["status"] for v in verdicts] in (["COMPLIANT"], ["INSUFFICIENT_DATA"])


class InterruptAfter:
    """Progress that raises Interrupted, as the CLI's signal handler does, at the nth scope.

    `advance` runs on the writing thread after scopes are committed, so this lands
    the interruption between a committed batch and its report, deterministically.
    """

    def __init__(self, scopes: int) -> None:
        self.left = scopes

    def start(self, total: int) -> None:
        pass

    def resize(self, total: int) -> None:
        pass

    def advance(self, outcome) -> None:
        self.left -= 1
        if self.left == 0:
            raise Interrupted(signal.SIGTERM, "SIGTERM")


def test_the_library_records_what_an_interruption_left_unwritten(aws, db):
    Seeder(aws, OTHER_ACCOUNT).chain("eu-west-1")
    clients = ClientFactory(endpoint_url=aws.endpoint)
    target = AccountTarget(OTHER_ACCOUNT, aws.session(OTHER_ACCOUNT), "assumed-role")
    con = open_database(db)
    try:
        with pytest.raises(Interrupted):  # in the middle of eu-west-1, collected first
            collect(con, [target], clients=clients, regions=["eu-west-1", "us-east-1"],
                    concurrency=2, progress=InterruptAfter(2))
    finally:
        con.close()

    records = rows(db, "SELECT region, service, status, error_code, finished_at "
                       "FROM cfgmon_collection")
    assert len(records) == SCOPES
    ok = [r for r in records if r["status"] == "ok"]
    assert len(ok) >= 2  # all written before the interruption, reported or not
    assert {(r["status"], r["error_code"]) for r in records if r not in ok} == {
        ("error", "Interrupted")}
    assert any(r["region"] == "eu-west-1" and r["status"] == "ok" for r in records)
    assert any(r["region"] == "eu-west-1" and r["status"] != "ok" for r in records)
    # A scope called interrupted wrote nothing; one written is not called interrupted.
    tables = {"cloudtrail": "aws_cloudtrail_trail", "logs": "aws_cloudwatch_log_group",
              "cloudwatch": "aws_cloudwatch_alarm", "sns": "aws_sns_topic"}
    for record in (r for r in records if r["region"] == "eu-west-1"):
        [stored] = rows(db, f"SELECT count(*) AS n FROM {tables[record['service']]} "
                            "WHERE region = 'eu-west-1'")
        assert (stored["n"] > 0) == (record["status"] == "ok"), record
    # The account row is the one written when the account was opened.
    [account] = rows(db, "SELECT account_id, source, status, collected_at FROM cfgmon_account")
    assert (account["account_id"], account["source"], account["status"]) == (
        OTHER_ACCOUNT, "assumed-role", "ok")
    assert account["collected_at"] <= min(r["finished_at"] for r in ok)
