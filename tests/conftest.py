"""Shared fixtures: a real moto server over HTTP on 127.0.0.1, reset for each test."""

from __future__ import annotations

import io
import os
import sys
import urllib.request
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass

import boto3
import pytest
from moto.server import ThreadedMotoServer

from cfgmon.cli import main

# Test credentials: never real, and searched for in everything cfgmon writes.
TEST_ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
TEST_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
DEFAULT_ACCOUNT = "123456789012"  # moto's account for unknown access keys


@pytest.fixture(scope="session")
def moto_server():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


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


def _use_moto(moto_server: str, monkeypatch) -> Aws:
    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST"))
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "CFGMON_DB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    return Aws(moto_server)


@dataclass
class Aws:
    endpoint: str

    def client(self, service: str, region: str = "us-east-1", **credentials):
        return boto3.client(service, region_name=region, endpoint_url=self.endpoint, **credentials)

    def account_credentials(self, account_id: str) -> dict:
        """Credentials that moto attributes to `account_id` (through STS AssumeRole)."""
        sts = self.client("sts")
        creds = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/seed", RoleSessionName="seed"
        )["Credentials"]
        return {
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        }


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str) -> CliResult:
    """Run the cfgmon command line in-process, as the `cfgmon` script would."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    sys.stdout.flush()
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli():
    return run_cli


# A throw-away PostgreSQL server (tests/pg.py): `postgres_server` for the session,
# `postgres_dsn` for a fresh database per test.
from pg import postgres_dsn, postgres_server  # noqa: E402, F401
