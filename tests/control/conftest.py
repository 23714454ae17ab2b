"""Helpers for control tests: seed moto, collect with the real command, check."""

from __future__ import annotations

import json

import pytest
from clirun import run_cli

from cfgmon.simulation import Seeder

REGIONS = ("us-east-1", "eu-west-1")
CONTROL = "config_configuration_changes_monitoring"


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
        result = run_cli("check", "--db", self.db, "--format", "json", *extra)
        assert result.exit_code in (0, 1), result.stderr
        return json.loads(result.stdout)

    def verdict(self, *regions: str) -> dict:
        """Collect, check, and return the one account's result."""
        self.collect(*regions)
        results = self.check()
        assert len(results) == 1, results
        return results[0]


@pytest.fixture
def inspector(aws, tmp_path):
    return Inspector(aws, tmp_path / "cfgmon.duckdb")


@pytest.fixture
def seeder(aws):
    return Seeder(aws)
