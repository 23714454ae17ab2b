"""The fixes `check --format json` and the HTML report carry are planned and rendered on
every core (cfgmon.parallel): forked shares must give each result exactly the fix a
serial run gives it."""

from __future__ import annotations

import os

import duckdb
import pytest

from cfgmon import parallel
from cfgmon.controls import latest_versions
from cfgmon.controls.runner import run_controls
from cfgmon.remediation import plan_fixes, rendered_fixes, rendered_plans

pytestmark = pytest.mark.skipif(not parallel.can_fork(), reason="cfgmon forks on Linux only")


def test_fixes_made_in_forked_shares_are_the_serial_fixes(db, monkeypatch):
    con = duckdb.connect(db)
    try:
        results = run_controls(con, latest_versions())
        failing = [r for r in results if r.status == "NON_COMPLIANT"]
        assert len(failing) >= 6   # two failing accounts, every control of the family
        serial = rendered_plans(plan_fixes(con, results))

        forks = []
        fork = os.fork

        def counted_fork():
            forks.append(1)
            return fork()

        # shares of one or two results each, over three "cores": two forked children
        monkeypatch.setattr(parallel, "MIN_ITEMS_PER_CORE", 1)
        monkeypatch.setattr(parallel, "usable_cores", lambda: 3)
        monkeypatch.setattr(os, "fork", counted_fork)
        forked = rendered_fixes(con, results)
    finally:
        con.close()
    assert len(forks) == 2
    assert list(forked) == list(serial)
    assert {key: fix.text for key, fix in forked.items()} == \
        {key: fix.text for key, fix in serial.items()}
