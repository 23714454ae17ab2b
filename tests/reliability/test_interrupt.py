"""Interrupting a real `cfgmon collect` process: what it finished stays, nothing is half-written.

The fault proxy holds one AWS call so that the signal lands mid-run, at a known
scope; the database is inspected after the process has gone.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
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


def wait_for(condition, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def inventory_requests(proxy) -> int:
    return sum(1 for r in proxy.requests if r.service not in ("sts", "ec2"))


def first_line(stream, timeout: float = 120) -> str:
    """The stream's first line, or AssertionError if none comes in time."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        raise AssertionError("timed out waiting for a line") from None


def signal_while_held(process, proxy, send) -> tuple[str, str]:
    """send() the signal while the proxy holds the fetches in flight, read stderr's first
    line before they are answered, then answer them: the process's (stdout, stderr)."""
    send()
    stderr = first_line(process.stderr)
    proxy.release()
    stdout, rest = process.communicate(timeout=120)
    return stdout, stderr + rest


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_collect_keeps_what_it_finished(aws, proxy, db, cli, signum):
    Seeder(aws).chain("eu-west-1")
    Seeder(aws).chain("us-east-1", prefix="local", multi_region=False)
    # Held: the first call of the fifth scope (eu-west-1 cloudtrail). With one worker a
    # scope's fetch starts only once the scope two before it is written, so us-east-1's
    # cloudtrail, logs and cloudwatch are in the database by then.
    proxy.add(Fault("hold", operation="DescribeTrails", region="eu-west-1"))
    process = start_collect(proxy, db)
    try:
        wait_for(lambda: proxy.count(outcome="hold") == 1 or process.poll() is not None)
        assert process.poll() is None, process.communicate()
        if signum == signal.SIGINT:
            # Meanwhile a second collect finds the database in use by a real process.
            second = cli("collect", "--db", str(db), "--endpoint-url", aws.endpoint,
                         "--region", "us-east-1")
            assert (second.exit_code, second.stderr) == (
                2, f"cfgmon: error: database {db} is open in another process (PID {process.pid}): "
                   "close it, or wait for it to finish, and run again\n")
        requests_at_signal = inventory_requests(proxy)
        # It reports the interruption while its fetch in flight is still held: it did
        # not wait for that fetch ...
        stdout, stderr = signal_while_held(process, proxy, lambda: process.send_signal(signum))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    name = signal.Signals(signum).name
    assert process.returncode == 128 + signum  # 130, 143
    assert (stdout, stderr) == ("", MESSAGE.format(name=name))
    # ... and once the held call was answered, that fetch made no further request
    # (its next one, GetTrailStatus, was refused before it left), nor did any other.
    assert inventory_requests(proxy) == requests_at_signal

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
                    concurrency=2, progress=InterruptAfter(2), write_batch=1)
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


def test_a_signal_while_the_database_runs_a_statement_is_an_interruption(aws, db, monkeypatch):
    """DuckDB stops a statement whose signal handler raised, and raises its own
    RuntimeError in place of the handler's exception: still an interruption."""
    from cfgmon.cli.common import SignalGuard
    from cfgmon.store.scope import InventoryWriter

    Seeder(aws, OTHER_ACCOUNT).chain("eu-west-1")
    clients = ClientFactory(endpoint_url=aws.endpoint)
    target = AccountTarget(OTHER_ACCOUNT, aws.session(OTHER_ACCOUNT), "assumed-role")
    writing = threading.Event()
    replace_scopes = InventoryWriter.replace_scopes

    def first_write_takes_long(self, writes):
        if not writing.is_set():
            writing.set()
            self.con.execute("SELECT count(*) FROM range(100000000000)")  # the signal lands here
        return replace_scopes(self, writes)

    def signal_the_writing_thread():
        if writing.wait(60):  # never outside the guard, which turns it into Interrupted
            time.sleep(0.5)
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(InventoryWriter, "replace_scopes", first_write_takes_long)
    con = open_database(db)
    try:
        with SignalGuard() as guard, pytest.raises(Interrupted):
            threading.Thread(target=signal_the_writing_thread, daemon=True).start()
            collect(con, [target], clients=clients, regions=["eu-west-1", "us-east-1"],
                    concurrency=1)
    finally:
        con.close()

    assert guard.received is not None and guard.received.name == "SIGINT"
    records = rows(db, "SELECT status, error_code, error_message FROM cfgmon_collection")
    assert len(records) == SCOPES  # the first write never happened: every scope unwritten
    assert {(r["status"], r["error_code"]) for r in records} == {("error", "Interrupted")}
    assert "collection was interrupted (SIGINT) before" in records[0]["error_message"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_collect_in_worker_processes_keeps_what_it_fetched(aws, proxy, db, signum):
    """Two accounts, one per worker process. SIGINT goes to the whole process group, as
    Ctrl-C in a terminal does (the workers must leave it to the collecting process);
    SIGTERM to the collecting process alone."""
    Seeder(aws).chain("eu-west-1")
    Seeder(aws).chain("us-east-1", prefix="local", multi_region=False)
    Seeder(aws, OTHER_ACCOUNT).chain("us-east-1", prefix="other", multi_region=False)
    # Each worker fetches its account's us-east-1 scopes, then is held at eu-west-1.
    proxy.add(Fault("hold", operation="DescribeTrails", region="eu-west-1"))
    args = [sys.executable, "-m", "cfgmon.cli", "collect", "--db", str(db),
            "--endpoint-url", proxy.url, "--concurrency", "2", "--processes", "2",
            "--account", DEFAULT_ACCOUNT, "--account", OTHER_ACCOUNT]
    for region in ("us-east-1", "eu-west-1"):
        args += ["--region", region]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, PYTHONUNBUFFERED="1"),
                               start_new_session=True)
    try:
        wait_for(lambda: proxy.count(outcome="hold") == 2 or process.poll() is not None)
        assert process.poll() is None, process.communicate()
        requests_at_signal = inventory_requests(proxy)
        if signum == signal.SIGINT:
            stdout, stderr = signal_while_held(process, proxy,
                                               lambda: os.killpg(process.pid, signum))
        else:
            stdout, stderr = signal_while_held(process, proxy,
                                               lambda: process.send_signal(signum))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    name = signal.Signals(signum).name
    assert process.returncode == 128 + signum
    assert (stdout, stderr) == ("", MESSAGE.format(name=name))  # no worker's traceback
    # The workers were stopped: the held calls, once answered, led to no further request.
    assert inventory_requests(proxy) == requests_at_signal

    records = rows(db, "SELECT account_id, region, service, status, error_code "
                       "FROM cfgmon_collection")
    assert len(records) == 2 * SCOPES
    done = {(r["account_id"], r["region"], r["service"]) for r in records if r["status"] == "ok"}
    interrupted = [r for r in records if r["status"] != "ok"]
    assert {account for account, _, _ in done} == {DEFAULT_ACCOUNT, OTHER_ACCOUNT}
    assert {(r["status"], r["error_code"]) for r in interrupted} == {("error", "Interrupted")}
    assert {r["region"] for r in interrupted} >= {"eu-west-1"}
    # No scope half-written: a scope has rows exactly when it finished.
    tables = {"cloudtrail": "aws_cloudtrail_trail", "logs": "aws_cloudwatch_log_group",
              "cloudwatch": "aws_cloudwatch_alarm", "sns": "aws_sns_topic"}
    for account in (DEFAULT_ACCOUNT, OTHER_ACCOUNT):
        for service, table in tables.items():
            [stored] = rows(db, f"SELECT count(*) AS n FROM {table} "
                                "WHERE account_id = ? AND region = 'us-east-1'", [account])
            assert stored["n"] == ((account, "us-east-1", service) in done), (account, service)
    assert sorted(r["account_id"] for r in rows(db, "SELECT account_id FROM cfgmon_account")) \
        == [DEFAULT_ACCOUNT, OTHER_ACCOUNT]
