"""Shared fixtures: a real moto server over HTTP on 127.0.0.1, reset for each test."""

from __future__ import annotations

import os

import pytest
from clirun import run_cli

from cfgmon.simulation import MotoEndpoint, MotoSimulation

# Test credentials: never real, and searched for in everything cfgmon writes.
TEST_ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
TEST_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
DEFAULT_ACCOUNT = "123456789012"  # moto's account for unknown access keys


@pytest.fixture(scope="session")
def moto_server():
    with MotoSimulation() as simulation:
        yield simulation.endpoint


@pytest.fixture
def aws(moto_server, monkeypatch):
    """A clean moto server and an environment that points boto3 at it."""
    return _use_moto(moto_server, monkeypatch)


@pytest.fixture(scope="module")
def aws_module(moto_server):
    """`aws` for module-scoped fixtures that seed and collect once for many tests.

    Any test using `aws` resets moto, so do all AWS work inside the module fixture.
    """
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield _use_moto(moto_server, monkeypatch)


def _use_moto(moto_server: str, monkeypatch) -> MotoEndpoint:
    aws = MotoEndpoint(
        moto_server,
        {"aws_access_key_id": TEST_ACCESS_KEY, "aws_secret_access_key": TEST_SECRET_KEY},
    )
    aws.reset()
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "CFGMON_DB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    return aws


@pytest.fixture
def enabled_regions(aws, monkeypatch):
    """Set which regions moto's account lists as enabled: `enabled_regions(*names)`.

    moto's DescribeRegions lists every region of three partitions, most enabled, for
    every account; a real account lists its partition's, some not opted in. moto has no
    request that changes it, so this drives moto's EC2 backend (in this process) for
    the region account-level calls go to; moto's reset restores it."""
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.availability_zones_and_regions import Region

    def enable(*names: str, account: str = DEFAULT_ACCOUNT) -> None:
        backend = ec2_backends[account]["us-east-1"]
        listed = [Region(r.name, r.endpoint, "opt-in-not-required" if r.name in names
                         else "not-opted-in") for r in backend.regions]
        monkeypatch.setattr(backend, "regions", listed)

    return enable


@pytest.fixture
def refused_regions(aws, monkeypatch):
    """moto's EC2 answers DescribeRegions with UnauthorizedOperation (a policy that
    denies ec2:DescribeRegions), driving its backend as `enabled_regions` does."""
    from moto.ec2.exceptions import EC2ClientError
    from moto.ec2.models import ec2_backends

    def refuse(*_args, **_kwargs):
        raise EC2ClientError("UnauthorizedOperation",
                             "You are not authorized to perform this operation.")

    monkeypatch.setattr(ec2_backends[DEFAULT_ACCOUNT]["us-east-1"], "describe_regions", refuse)


@pytest.fixture(scope="session", autouse=True)
def _no_terminal_size():
    """No $COLUMNS or $LINES from where the suite runs (a shell's, or the 80x24 that
    pytest-xdist's workers are given), for module fixtures too: tables are as wide as
    the test asks, or unwrapped."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.delenv("COLUMNS", raising=False)
        monkeypatch.delenv("LINES", raising=False)
        yield


@pytest.fixture
def cli():
    return run_cli


# A throw-away PostgreSQL server (tests/pg.py): `postgres_server` for the session,
# `postgres_dsn` for a fresh database per test.
from pg import postgres_dsn, postgres_server  # noqa: E402, F401
