"""Helpers for control tests: seed moto, collect with the real command, check."""

from __future__ import annotations

import json
import shutil

import pytest
from clirun import run_cli

from cfgmon.controls import load_catalogue
from cfgmon.simulation import Seeder

REGIONS = ("us-east-1", "eu-west-1")
CONTROL = "config_configuration_changes_monitoring"
# its latest version, which a check without @VERSION runs
LATEST = load_catalogue()[CONTROL].latest.version


class Inspector:
    """Collects the moto account(s) into a database file and runs `cfgmon check`."""

    def __init__(self, aws, db):
        self.aws = aws
        self.db = str(db)

    def collect(self, *regions: str, env: dict | None = None) -> None:
        args = ["collect", "--db", self.db, "--endpoint-url", self.aws.endpoint]
        for region in regions or REGIONS:
            args += ["--region", region]
        result = run_cli(*args)
        assert result.exit_code == 0, result.stderr

    def check(self, *extra: str) -> list[dict]:
        """`cfgmon check`; without --control, the results of the latest version, after
        checking that version 1 (its own SQL) and the latest (on the shared chain) agree."""
        if "--control" in extra or "--framework" in extra:
            return self._check(*extra)
        both = self._check(*extra, "--control", f"{CONTROL}@1", "--control", CONTROL)
        latest = max(r["control_version"] for r in both)
        first = {r["account_id"]: r for r in both if r["control_version"] == "1"}
        newest = [r for r in both if r["control_version"] == latest]
        for result in newest:
            assert_same_verdict(first[result["account_id"]], result)
        return newest

    def verdicts(self) -> dict[str, dict]:
        """Collect, check both versions, and return the one account's result by version."""
        self.collect()
        both = self._check("--control", f"{CONTROL}@1", "--control", CONTROL)
        assert len(both) == 2, both
        return {r["control_version"]: r for r in both}

    def _check(self, *extra: str) -> list[dict]:
        result = run_cli("check", "--db", self.db, "--format", "json", *extra)
        assert result.exit_code in (0, 1), result.stderr
        return json.loads(result.stdout)

    def verdict(self, *regions: str) -> dict:
        """Collect, check, and return the one account's result."""
        self.collect(*regions)
        results = self.check()
        assert len(results) == 1, results
        return results[0]


def assert_same_verdict(v1: dict, chained: dict) -> None:
    """Version 1 and the chain version of the control give the same verdict and reason,
    but for four deliberate differences. Where no filter of the log group matches any
    event, the chain says so rather than calling the first by name the closest. An alarm
    that fails link 11 is explained by the alarm engine, more exactly. And the
    chain judges a trail by the control's own events (a write-only trail records every
    AWS Config change), where version 1 asked for all management events, read and
    write; so where version 1 stops at that link (4), the chain is COMPLIANT or names
    the records the trail misses. An alarm near miss on other dimensions names, from
    the chain's version 3 on, a dimension (and value) it lacks."""
    if v1["evidence"].get("broken_link") == 4 and v1["status"] == "NON_COMPLIANT":
        assert chained["status"] == "COMPLIANT" or (
            chained["evidence"]["broken_link"] == 4 and " does not record all " in chained["reason"]
        ), chained
        return
    none = "; none of its metric filters matches any of them (filter "
    if none in chained["reason"]:
        # the chain names no "closest" filter when every filter matches nothing (the one
        # first by name might well be another control's)
        head, _, tail = chained["reason"].partition(none)
        name = tail.split(" among them)")[0]
        assert chained["status"] == v1["status"]
        assert v1["reason"].startswith(f"{head}; closest, filter {name}, misses "), v1["reason"]
        return
    such_as = "but on other dimensions than the filter publishes, such as "
    if such_as in chained["reason"]:
        # from alarm chain version 3 on, the near miss also names a dimension it lacks
        head, _, tail = chained["reason"].partition(such_as)
        assert chained["status"] == v1["status"]
        _, sees, rest = tail.partition(" (an alarm sees only")
        assert v1["reason"] == head + such_as.removesuffix(", such as ") + sees + rest, v1["reason"]
        return
    if v1["evidence"].get("broken_link") == 11 and chained["evidence"].get("broken_link") == 11:
        # the alarm engine explains what a default value does to a statistic (SampleCount
        # counts every log event; a negative default dilutes a Sum) where version 1 only
        # gave the settings: the same verdict, a more exact reason
        assert chained["status"] == v1["status"]
        assert chained["reason"].startswith(f"alarm {chained['evidence']['alarm_arn']} ")
        return
    assert (chained["status"], chained["reason"]) == (v1["status"], v1["reason"])


@pytest.fixture
def inspector(aws, tmp_path):
    return Inspector(aws, tmp_path / "cfgmon.duckdb")


@pytest.fixture
def seeder(aws):
    return Seeder(aws)


AUDITED_ACCOUNTS = {
    "123456789012": "COMPLIANT",      # the whole chain, in us-east-1
    "222222222222": "NON_COMPLIANT",  # an alarm that needs three events, in us-east-1
    "333333333333": "NON_COMPLIANT",  # a topic nobody subscribed to, in eu-west-1
}


@pytest.fixture(scope="module")
def audited_db(aws_module, tmp_path_factory):
    """Three accounts in two regions, collected once per module (copy it before writing)."""
    Seeder(aws_module).chain("us-east-1")
    Seeder(aws_module, "222222222222").chain("us-east-1", threshold=3)
    Seeder(aws_module, "333333333333").chain("eu-west-1", subscriptions=())
    db = tmp_path_factory.mktemp("audited") / "cfgmon.duckdb"
    with pytest.MonkeyPatch.context() as monkeypatch:
        for account in AUDITED_ACCOUNTS:
            if account != "123456789012":  # moto's account for the test keys
                creds = aws_module.account_credentials(account)
                monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["aws_access_key_id"])
                monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["aws_secret_access_key"])
                monkeypatch.setenv("AWS_SESSION_TOKEN", creds["aws_session_token"])
            result = run_cli("collect", "--db", str(db), "--endpoint-url", aws_module.endpoint,
                             *(arg for region in REGIONS for arg in ("--region", region)))
            assert result.exit_code == 0, result.stderr
    return db


@pytest.fixture
def db(audited_db, tmp_path) -> str:
    """A fresh copy of the audited database for one test."""
    copy = tmp_path / "cfgmon.duckdb"
    shutil.copyfile(audited_db, copy)
    return str(copy)
