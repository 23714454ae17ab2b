"""Fixtures of the reliability tests: the fault proxy in front of moto, fast retries.

tests/reliability is a package, so this conftest is `reliability.conftest` and
leaves the module name `conftest` to other folders.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .fault_proxy import FaultProxy
from .faultrun import FAST_RETRIES


@pytest.fixture
def proxy(aws):
    """A fault proxy in front of a clean moto server."""
    with FaultProxy(aws.endpoint) as running:
        yield running


@pytest.fixture
def fast_retries(monkeypatch):
    for name, value in FAST_RETRIES.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "cfgmon.duckdb"
