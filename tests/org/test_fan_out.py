"""Accounts x regions x services on one bounded pool: opening accounts, progress, batched writes."""

from __future__ import annotations

import threading

import duckdb
import pytest
from dbrows import sorted_rows
from org_scenario import RoleGate

from cfgmon.aws import ClientFactory, RoleTarget, collect
from cfgmon.simulation import DEFAULT_ACCOUNT, Seeder
from cfgmon.store import open_database
from cfgmon.store.scope import InventoryWriter, ScopeKey, ScopeWrite

ACCOUNTS = [f"{number:012d}" for number in range(200000000001, 200000000011)]


class Recorder:
    """Progress, and the order in which roles are assumed and scopes finish."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.totals: list[int] = []
        self.threads: set[str] = set()
        self._lock = threading.Lock()

    def start(self, total: int) -> None:
        self.totals.append(total)

    def resize(self, total: int) -> None:
        self.totals.append(total)

    def advance(self, outcome) -> None:
        with self._lock:
            self.events.append(("scope", outcome.scope.account_id))

    def assumed(self, role_arn: str) -> None:
        with self._lock:
            self.events.append(("assume", role_arn.split(":")[4]))
            self.threads.add(threading.current_thread().name)


class RecordingGate(RoleGate):
    def __init__(self, recorder: Recorder, **kwargs) -> None:
        super().__init__(**kwargs)
        self.recorder = recorder

    def _asked(self, role_arn: str) -> None:
        super()._asked(role_arn)
        self.recorder.assumed(role_arn)


def role_targets(aws, accounts=ACCOUNTS):
    import boto3

    caller = boto3.Session(region_name="us-east-1")
    return [RoleTarget(a, f"arn:aws:iam::{a}:role/Audit", caller) for a in accounts]


def run(aws, db, targets, clients, **kwargs):
    con = open_database(db)
    try:
        return collect(con, targets, clients=clients, **kwargs)
    finally:
        con.close()


def test_accounts_are_opened_on_the_pool_a_little_ahead_of_their_scopes(aws, tmp_path):
    for account in ACCOUNTS:
        Seeder(aws, account).topic("us-east-1", "alerts")
    recorder = Recorder()
    clients = RecordingGate(recorder, endpoint_url=aws.endpoint)
    workers = 2

    report = run(aws, tmp_path / "x.duckdb", role_targets(aws), clients,
                 regions=["us-east-1"], services=["sns"], concurrency=workers, progress=recorder,
                 write_batch=workers)

    assert report.count("ok") == len(ACCOUNTS)
    # Roles are assumed by the pool's workers, not one after the other up front ...
    assert recorder.threads and all(t.startswith("cfgmon-collect") for t in recorder.threads)
    # ... and only as their scopes come near. The pool opens an account while fewer
    # scopes than workers wait for one; besides those, the workers hold one job each
    # and the writing thread up to a write batch of fetched scopes (one per worker
    # here). So, however the threads are scheduled, never more accounts than that (one
    # scope each here) are open with their scope unwritten: fewer than all of them.
    ahead = (workers - 1) + workers + workers
    assert ahead < len(ACCOUNTS)
    assert max(_opened_ahead(recorder.events)) <= ahead
    # Progress: scopes done of scopes total, the total exact from the start here.
    assert set(recorder.totals) == {len(ACCOUNTS)}
    assert [kind for kind, _ in recorder.events].count("scope") == len(ACCOUNTS)


def _opened_ahead(events: list[tuple[str, str]]) -> list[int]:
    """After each event: accounts whose role was assumed and whose scope is not written."""
    assumed, written, ahead = set(), set(), []
    for kind, account in events:
        (assumed if kind == "assume" else written).add(account)
        ahead.append(len(assumed - written))
    return ahead


def test_the_progress_total_follows_the_accounts_as_they_open(aws, tmp_path):
    # No --region: each account's enabled regions are only known once it is opened,
    # and an account that cannot be opened has no scopes at all.
    denied = ACCOUNTS[1]
    recorder = Recorder()
    clients = RecordingGate(recorder, denied={f"arn:aws:iam::{denied}:role/Audit"},
                            endpoint_url=aws.endpoint)
    report = run(aws, tmp_path / "x.duckdb", role_targets(aws, ACCOUNTS[:3]), clients,
                 services=["sns"], concurrency=2, progress=recorder)

    enabled = len(report.regions[ACCOUNTS[0]])
    assert recorder.totals[0] == 3 * 17  # a guess before any account is open
    assert recorder.totals[-1] == len(report.outcomes) == 2 * enabled
    assert [f.account_id for f in report.account_failures] == [denied]


def test_a_batch_of_scopes_is_written_as_each_scope_alone_would_be(aws, tmp_path, monkeypatch):
    """Many workers: scopes that finish together are written in one transaction."""
    accounts = ACCOUNTS[:6]
    for account in accounts:
        Seeder(aws, account).chain("us-east-1", prefix=f"p{account[-2:]}")
    clients = ClientFactory(endpoint_url=aws.endpoint)
    batched, alone = tmp_path / "batched.duckdb", tmp_path / "alone.duckdb"
    with monkeypatch.context() as patch:
        batches = _hold_the_first_write_until_two_more_scopes_are_fetched(patch)
        run(aws, batched, role_targets(aws, accounts), clients, regions=["us-east-1"],
            concurrency=8)
    assert max(batches) > 1, "no two scopes were written in one transaction"
    run(aws, alone, role_targets(aws, accounts), clients, regions=["us-east-1"], concurrency=1)

    # Trails without the delivery times moto moves on every read.
    trails = "account_id, region, arn, is_multi_region_trail, is_logging, log_group_name"
    assert len(sorted_rows(batched, "aws_cloudtrail_trail", trails)) == len(accounts)
    assert sorted_rows(batched, "aws_cloudtrail_trail", trails) == sorted_rows(alone, "aws_cloudtrail_trail", trails)
    for table in ("aws_cloudwatch_log_group", "aws_cloudwatch_log_metric_filter",
                  "aws_cloudwatch_alarm", "aws_cloudwatch_alarm_action", "aws_sns_topic",
                  "aws_sns_topic_subscription"):
        assert sorted_rows(batched, table) == sorted_rows(alone, table), table
    assert sorted_rows(batched, "cfgmon_collection", "account_id, region, service, status, rows_written") \
        == sorted_rows(alone, "cfgmon_collection", "account_id, region, service, status, rows_written")


def _hold_the_first_write_until_two_more_scopes_are_fetched(patch) -> list[int]:
    """While the writing thread holds its first scope, two more fetches finish: the
    collector then finds them done together and writes them as one batch, whatever
    the scheduling. Returns the number of scopes of each write (replace_scope
    writes one scope through replace_scopes)."""
    from cfgmon.aws import fetching

    fetched = threading.Semaphore(0)  # released as each scope fetch finishes

    class CountingPool(fetching.ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):
            future = super().submit(fn, *args, **kwargs)
            if fn is fetching._fetch_scope:
                future.add_done_callback(lambda _: fetched.release())
            return future

    held: list[bool] = []
    batches: list[int] = []

    def hold_first(write):
        def written(self, *args, **kwargs):
            if not held:
                held.append(True)
                for _ in range(3):  # the scope written here, and two more
                    assert fetched.acquire(timeout=120), "scope fetches did not finish"
            return write(self, *args, **kwargs)
        return written

    replace_scopes = hold_first(InventoryWriter.replace_scopes)

    def counted(self, writes):
        batches.append(len(writes))
        return replace_scopes(self, writes)

    patch.setattr(fetching, "ThreadPoolExecutor", CountingPool)
    patch.setattr(InventoryWriter, "replace_scope", hold_first(InventoryWriter.replace_scope))
    patch.setattr(InventoryWriter, "replace_scopes", counted)
    return batches


def test_a_batch_is_all_or_nothing(tmp_path):
    import datetime as dt

    con = open_database(tmp_path / "x.duckdb")
    writer = InventoryWriter(con)
    now = dt.datetime(2026, 1, 1)
    good = ScopeKey(DEFAULT_ACCOUNT, "us-east-1", "sns")
    topic = {"topic_arn": f"arn:aws:sns:us-east-1:{DEFAULT_ACCOUNT}:kept", "name": "kept"}
    writer.replace_scope(good, {"aws_sns_topic": [topic]}, collected_at=now, started_at=now,
                         api_calls=1)
    broken = ScopeKey(DEFAULT_ACCOUNT, "eu-west-1", "sns")
    with pytest.raises(duckdb.Error):
        writer.replace_scopes([
            ScopeWrite(good, {"aws_sns_topic": []}, now, now, 1),
            ScopeWrite(broken, {"aws_sns_topic": [{"topic_arn": None, "name": "x"}]}, now, now, 1),
        ])
    assert con.execute("SELECT name FROM aws_sns_topic").fetchall() == [("kept",)]
    assert con.execute("SELECT region, status FROM cfgmon_collection").fetchall() == [
        ("us-east-1", "ok")
    ]
    con.close()


def test_a_scope_that_cannot_be_written_fails_alone(aws, tmp_path):
    """The batch's transaction fails, so each scope is written on its own."""
    from cfgmon.aws import sns

    for account in ACCOUNTS[:4]:
        Seeder(aws, account).topic("us-east-1", "alerts")
    original = sns.topic_row

    def topic_row(topic):
        row = original(topic)
        return row | {"name": None} if f":{ACCOUNTS[2]}:" in row["topic_arn"] else row

    sns.topic_row = topic_row  # a row the database refuses (name is NOT NULL)
    try:
        report = run(aws, tmp_path / "x.duckdb", role_targets(aws, ACCOUNTS[:4]),
                     ClientFactory(endpoint_url=aws.endpoint), regions=["us-east-1"],
                     services=["sns"], concurrency=4)
    finally:
        sns.topic_row = original
    statuses = {o.scope.account_id: o.status for o in report.outcomes}
    assert statuses == {ACCOUNTS[0]: "ok", ACCOUNTS[1]: "ok", ACCOUNTS[2]: "error",
                        ACCOUNTS[3]: "ok"}
    [failed] = [o for o in report.outcomes if o.status == "error"]
    assert failed.failure.error_operation == "write"
    assert "NOT NULL" in failed.failure.error_message


class CountedClients(ClientFactory):
    """Records every boto3 client made, by service and region."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.made: list[tuple[str, str]] = []

    def _new_client(self, session, service, region):
        self.made.append((service, region))
        return super()._new_client(session, service, region)


def test_accounts_share_one_client_per_service_and_region_each_signing_as_itself(aws, tmp_path):
    """Making a boto3 client costs more CPU than the calls of a scope: one client per
    service and region serves every account, each request signed with its account's
    own credentials (moto files each request under the account they belong to)."""
    accounts = ACCOUNTS[:6]
    regions = ["us-east-1", "eu-west-1"]
    for account in accounts:
        for region in regions:
            Seeder(aws, account).topic(region, f"alerts-{account}")
    clients = CountedClients(endpoint_url=aws.endpoint)

    report = run(aws, tmp_path / "x.duckdb", role_targets(aws, accounts), clients,
                 regions=regions, services=["sns", "logs"], concurrency=4)

    assert report.count("ok") == len(accounts) * len(regions) * 2
    # sts (AssumeRole), organizations (DescribeOrganization) and ec2 (DescribeRegions)
    # once each, and one per scope's service and region: not one per account.
    assert sorted(clients.made) == sorted(
        [("sts", "us-east-1"), ("organizations", "us-east-1"), ("ec2", "us-east-1")]
        + [(service, region) for service in ("sns", "logs") for region in regions]
    )
    con = duckdb.connect(str(tmp_path / "x.duckdb"), read_only=True)
    try:
        topics = con.execute("SELECT account_id, region, name FROM aws_sns_topic").fetchall()
    finally:
        con.close()
    assert sorted(topics) == sorted(
        (account, region, f"alerts-{account}") for account in accounts for region in regions
    )
