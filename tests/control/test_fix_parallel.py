"""The fixes `check --format json` and the HTML report carry are planned and rendered on
every core (cfgmon.parallel): forked shares must give each result exactly the fix a
serial run gives it, without a forked child ever querying the database."""

from __future__ import annotations

import os
import re

import duckdb
import pytest
from clirun import run_cli

from cfgmon import parallel
from cfgmon.controls import latest_versions
from cfgmon.controls.runner import run_controls
from cfgmon.remediation import plan_fixes, rendered_fixes, rendered_plans
from cfgmon.remediation.inventory import DetachedInventory, Inventory

from .test_fix_applied import _key_without_cloudwatch

pytestmark = pytest.mark.skipif(not parallel.can_fork(), reason="cfgmon forks on Linux only")


def _forked_and_serial(db, monkeypatch) -> tuple[dict, dict, list]:
    """The fixes of every latest control, forked into shares of one result each (but
    the first, made here), and serial; and what each child answered (None: worked
    again here)."""
    con = duckdb.connect(str(db))
    try:
        results = run_controls(con, latest_versions())
        serial = rendered_plans(plan_fixes(con, results))
        answered = []
        answers = parallel._Child.answers

        def recorded(child):
            answered.append(answers(child))
            return answered[-1]

        monkeypatch.setattr(parallel, "MIN_ITEMS_PER_CORE", 1)
        monkeypatch.setattr(parallel, "usable_cores", lambda: 1000)
        monkeypatch.setattr(parallel._Child, "answers", recorded)
        forked = rendered_fixes(con, results)
    finally:
        con.close()
    return forked, serial, answered


def test_fixes_made_in_forked_shares_are_the_serial_fixes(db, monkeypatch):
    forked, serial, answered = _forked_and_serial(db, monkeypatch)
    assert len(serial) >= 6   # two failing accounts, every control of the family
    assert len(answered) == len(serial) - 1 and all(a is not None for a in answered)
    assert list(forked) == list(serial)
    assert {key: fix.text for key, fix in forked.items()} == \
        {key: fix.text for key, fix in serial.items()}


def test_a_fix_restating_a_key_policy_is_made_in_a_child_from_what_was_read_before(
        seeder, inspector, monkeypatch):
    _key_without_cloudwatch(seeder)   # the topic's KMS key does not let CloudWatch use it
    inspector.collect()
    forked, serial, answered = _forked_and_serial(inspector.db, monkeypatch)
    key_fixes = [key for key, fix in serial.items() if '"PutKeyPolicy"' in fix.text]
    assert key_fixes and key_fixes[0] != next(iter(serial))   # made in a child
    # every child answered: none had to read the key's policy from the database itself
    assert len(answered) == len(serial) - 1 and all(a is not None for a in answered)
    assert {key: fix.text for key, fix in forked.items()} == \
        {key: fix.text for key, fix in serial.items()}


def test_a_detached_inventory_answers_what_it_was_given_and_reads_nothing_more(
        seeder, inspector):
    _key_without_cloudwatch(seeder)
    inspector.collect()
    con = duckdb.connect(str(inspector.db), read_only=True)
    try:
        [(topic,)] = con.execute(
            "SELECT topic_arn FROM aws_sns_topic_attributes "
            "WHERE kms_master_key_id IS NOT NULL").fetchall()
        [(key_arn,)] = con.execute("SELECT key_arn FROM aws_sns_topic_kms_key").fetchall()
        inventory = Inventory(con, topic_arns=[topic], key_arns=[key_arn])
        expected = (inventory.topic_policy(topic), inventory.key_policy(key_arn))
        inventory.detach()
        assert (inventory.topic_policy(topic), inventory.key_policy(key_arn)) == expected
        assert expected[1]["Statement"]   # KMS's default policy, as collected
        with pytest.raises(DetachedInventory):
            inventory.topic_policy(f"{topic}-never-read")
    finally:
        con.close()


def test_check_json_made_in_forked_shares_is_byte_for_byte_the_serial_output(db, monkeypatch):
    # shares of several results each: plans of one shape rendered once per share
    def check_json() -> str:
        result = run_cli("check", "--db", db, "--no-record", "--format", "json")
        assert result.exit_code == 1, result.stderr
        return re.sub(r'"(run_id|evaluated_at)": "[^"]*"', "", result.stdout)

    monkeypatch.setattr(parallel, "MIN_ITEMS_PER_CORE", 10**9)
    serial = check_json()
    forks = []
    fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or fork())
    monkeypatch.setattr(parallel, "MIN_ITEMS_PER_CORE", 1)
    monkeypatch.setattr(parallel, "usable_cores", lambda: 3)
    forked = check_json()
    assert len(forks) == 2
    assert '"remediation"' in serial and forked == serial


def test_a_child_missing_a_policy_never_queries_the_database_its_share_is_made_here(
        seeder, inspector, monkeypatch):
    _key_without_cloudwatch(seeder)
    inspector.collect()
    # as if the policy had not been read before the fork: the child's detached
    # inventory refuses to read it, and the parent makes that share itself
    monkeypatch.setattr("cfgmon.remediation.RESTATES_POLICY", frozenset())
    forked, serial, answered = _forked_and_serial(inspector.db, monkeypatch)
    assert answered.count(None) == 1   # the one child whose fix needed the key's policy
    assert {key: fix.text for key, fix in forked.items()} == \
        {key: fix.text for key, fix in serial.items()}
