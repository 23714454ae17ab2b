"""Every distinct filter pattern of the inventory is judged against the catalogues on
every core (cfgmon.parallel): forked shares must give each filter exactly the coverage
a serial run gives it, and the patterns that read the judged account's id or region
are judged again in that account's rendering, as they are in a serial run."""

from __future__ import annotations

import re

import pytest
from clirun import run_cli

from cfgmon import parallel
from cfgmon.controls import coverage
from cfgmon.simulation import CIS_CONFIG_PATTERN

from .conftest import REGIONS
from .test_judged_account import CHANNEL, RECORDER, narrowed

pytestmark = pytest.mark.skipif(not parallel.can_fork(), reason="cfgmon forks on Linux only")


def check_json(db: str) -> str:
    result = run_cli("check", "--db", db, "--no-record", "--format", "json")
    assert result.exit_code == 1, result.stderr
    return re.sub(r'"(run_id|evaluated_at)": "[^"]*"', "", result.stdout)


def test_coverage_judged_in_forked_shares_is_the_serial_coverage(
        inspector, seeder, enabled_regions, monkeypatch):
    enabled_regions(*REGIONS)
    chain = seeder.chain("us-east-1", pattern=narrowed("us-east-1"))   # reads the region
    group = chain.log_group_name
    account = seeder.account_id
    patterns = {
        "reads-account": '{ ($.eventSource = config.amazonaws.com) && '
                         f'($.recipientAccountId = "{account}") }}',
        "recorder": RECORDER,       # these two publish the chain's metric: judged together
        "channel": CHANNEL,
        "invalid": "{ ($.eventName = PutDeliveryChannel ",
        "terms": "?ERROR ?Exception",
        "cis": CIS_CONFIG_PATTERN,
    }
    for name, pattern in patterns.items():
        metric = chain.metric_name if name in ("recorder", "channel") else f"m-{name}"
        seeder.metric_filter("us-east-1", group, name, pattern=pattern, metric_name=metric)
    inspector.collect()

    monkeypatch.setattr(parallel, "MIN_ITEMS_PER_CORE", 10**9)
    serial = check_json(inspector.db)

    judged: list[int] = []   # the patterns of each forked map
    answered: list = []      # each child's answers (None: its share was judged again here)
    map_forked, answers = coverage.map_forked, parallel._Child.answers

    def recorded_map(work, items, **kwargs):
        judged.append(len(items))
        return map_forked(work, items, **kwargs)

    def recorded_answers(child):
        answered.append(answers(child))
        return answered[-1]

    monkeypatch.setattr(coverage, "map_forked", recorded_map)
    monkeypatch.setattr(parallel._Child, "answers", recorded_answers)
    monkeypatch.setattr(parallel, "MIN_ITEMS_PER_CORE", 1)
    monkeypatch.setattr(parallel, "usable_cores", lambda: 1000)   # a share per pattern
    forked = check_json(inspector.db)

    assert judged == [len(patterns) + 1]   # every distinct pattern (the chain's too), in one map
    # a child judged every pattern but the first, the ones reading the account or region too
    assert len(answered) >= len(patterns) and all(a is not None for a in answered)
    assert '"filter_pattern"' in serial and forked == serial
