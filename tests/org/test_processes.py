"""Collecting in worker processes: what one process collects, each account opened once."""

from __future__ import annotations

import subprocess
import sys

import boto3
from dbrows import sorted_rows
from reliability.fault_proxy import FaultProxy

from cfgmon.aws import ClientFactory, RoleTarget, SessionRecipe, collect
from cfgmon.simulation import Seeder
from cfgmon.store import open_database

ACCOUNTS = [f"{number:012d}" for number in range(300000000001, 300000000006)]
REGIONS = ["us-east-1", "eu-west-1"]
TABLES = ("aws_cloudwatch_log_group", "aws_cloudwatch_log_metric_filter",
          "aws_cloudwatch_alarm", "aws_cloudwatch_alarm_action", "aws_sns_topic",
          "aws_sns_topic_subscription")


class Totals:
    """Progress: the totals drawn and the scopes advanced."""

    def __init__(self) -> None:
        self.totals: list[int] = []
        self.advanced = 0

    def start(self, total: int) -> None:
        self.totals.append(total)

    def resize(self, total: int) -> None:
        self.totals.append(total)

    def advance(self, outcome) -> None:
        self.advanced += 1


def _collect(endpoint, db, processes, progress=None):
    caller = boto3.Session(region_name="us-east-1")  # the environment's credentials
    targets = [RoleTarget(a, f"arn:aws:iam::{a}:role/Audit", caller) for a in ACCOUNTS]
    con = open_database(db)
    try:
        return collect(con, targets, clients=ClientFactory(endpoint_url=endpoint),
                       regions=REGIONS, concurrency=4, processes=processes,
                       caller=SessionRecipe(), progress=progress)
    finally:
        con.close()


def test_worker_processes_collect_what_one_process_collects(aws, tmp_path):
    for account in ACCOUNTS:
        Seeder(aws, account).chain("us-east-1", prefix=f"p{account[-2:]}")
        Seeder(aws, account).topic("eu-west-1", f"alerts-{account}")
    progress = Totals()
    with FaultProxy(aws.endpoint) as proxy:  # sees every request the workers make
        report = _collect(proxy.url, tmp_path / "workers.duckdb", processes=2,
                          progress=progress)
        # Each account is opened once, in the one worker that collects it.
        assert proxy.count(operation="AssumeRole") == len(ACCOUNTS)
        assert proxy.count(operation="DescribeRegions") == len(ACCOUNTS)
    alone = _collect(aws.endpoint, tmp_path / "alone.duckdb", processes=1)

    assert len(report.workers) == 2 and not alone.workers
    assert report.count("ok") == len(ACCOUNTS) * len(REGIONS) * 4 == alone.count("ok")
    assert report.api_calls() == alone.api_calls()
    # The bar advanced once per scope, up to the total it ended with.
    assert progress.advanced == len(report.outcomes) == progress.totals[-1]
    workers, one = tmp_path / "workers.duckdb", tmp_path / "alone.duckdb"
    trails = "account_id, region, arn, is_multi_region_trail, is_logging, log_group_name"
    assert len(sorted_rows(workers, "aws_cloudtrail_trail", trails)) == len(ACCOUNTS)
    assert sorted_rows(workers, "aws_cloudtrail_trail", trails) == sorted_rows(one, "aws_cloudtrail_trail", trails)
    for table in TABLES:
        assert sorted_rows(workers, table) == sorted_rows(one, table), table
    status = "account_id, region, service, status, api_calls, rows_written"
    assert sorted_rows(workers, "cfgmon_collection", status) == sorted_rows(one, "cfgmon_collection", status)
    account = "account_id, source, status, organization_id"
    assert sorted_rows(workers, "cfgmon_account", account) == sorted_rows(one, "cfgmon_account", account)


# A script that collects in two worker processes; every process that runs this file
# (the script itself, and a worker that imports it again) logs its module name.
COLLECTING_SCRIPT = """
import sys

with open(sys.argv[2], "a") as log:
    log.write(__name__ + "\\n")

if __name__ == "__main__":
    import boto3
    from cfgmon.aws import ClientFactory, RoleTarget, SessionRecipe, collect
    from cfgmon.store import open_database

    caller = boto3.Session(region_name="us-east-1")
    targets = [RoleTarget(account, f"arn:aws:iam::{account}:role/Audit", caller)
               for account in sys.argv[4:]]
    con = open_database(sys.argv[3])
    report = collect(con, targets, clients=ClientFactory(endpoint_url=sys.argv[1]),
                     regions=["us-east-1"], concurrency=2, processes=2, caller=SessionRecipe())
    print(len(report.workers), report.count("ok"))
"""


def test_worker_processes_do_not_run_the_callers_script_again(aws, tmp_path):
    script, log = tmp_path / "collecting.py", tmp_path / "ran.log"
    script.write_text(COLLECTING_SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script), aws.endpoint, str(log), str(tmp_path / "x.duckdb"),
         *ACCOUNTS[:2]], capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", str(2 * 4)]  # two workers, every scope fetched
    assert log.read_text().split() == ["__main__"]  # the script ran once, in its own process


def test_the_modules_a_worker_process_runs_load_no_database_engine():
    # A worker imports cfgmon.aws.workers (its entry point) and what that imports; it
    # writes nothing, so DuckDB and numpy would be CPU spent for nothing.
    done = subprocess.run(
        [sys.executable, "-c", "import sys, cfgmon.aws.workers; "
         "print(sorted(name for name in ('duckdb', 'numpy') if name in sys.modules))"],
        capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
