"""Fixtures of the organisation tests (the world itself is in org_scenario.py)."""

from __future__ import annotations

import pytest
from org_scenario import Collector


@pytest.fixture
def collector(aws, cli, tmp_path):
    return Collector(aws, cli, tmp_path / "org.duckdb")
