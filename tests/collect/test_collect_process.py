"""A collection leaves the process it runs in as it found it."""

from __future__ import annotations

import gc

import pytest

from cfgmon.aws import CollectError


def _collector_settings() -> tuple:
    return gc.get_threshold(), gc.get_freeze_count(), gc.isenabled()


def test_the_garbage_collector_is_left_as_it_was_after_a_run_and_after_a_failed_one(
    aws, run_collect
):
    before = _collector_settings()
    report = run_collect()
    assert report.count("ok") > 0
    assert _collector_settings() == before
    with pytest.raises(CollectError, match="unknown region"):
        run_collect(regions=["nowhere-1"])
    assert _collector_settings() == before
