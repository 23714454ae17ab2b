"""Helpers of the reliability tests: run the CLI, read the database."""

from __future__ import annotations

import json
from pathlib import Path

from clirun import run_cli
from dbrows import query_rows

# These tests are about one control; `check` alone runs the whole family.
CONFIG_CONTROL = "config_configuration_changes_monitoring"

# Attempts and timeouts small enough that a persistent fault costs a second, not minutes.
FAST_RETRIES = {
    "AWS_MAX_ATTEMPTS": "2",
    "AWS_RETRY_MODE": "standard",
    "CFGMON_CONNECT_TIMEOUT": "2",
    "CFGMON_READ_TIMEOUT": "2",
}


def collect_cli(endpoint: str, db: Path, *regions: str, extra: tuple[str, ...] = ()):
    args = ["collect", "--db", str(db), "--endpoint-url", endpoint]
    for region in regions:
        args += ["--region", region]
    return run_cli(*args, *extra)


def check_cli(db: Path) -> list[dict]:
    result = run_cli("check", "--db", str(db), "--control", CONFIG_CONTROL, "--format", "json")
    assert result.exit_code in (0, 1), result.stderr
    return json.loads(result.stdout)


rows = query_rows  # the reliability tests' name for it


def scope_statuses(db: Path) -> dict[tuple[str, str, str], str]:
    return {
        (r["account_id"], r["region"], r["service"]): r["status"]
        for r in rows(db, "SELECT account_id, region, service, status FROM cfgmon_collection")
    }
