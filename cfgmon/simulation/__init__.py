"""An AWS simulation for the demo and the tests: a real moto server over HTTP on 127.0.0.1.

`MotoSimulation` starts moto's ThreadedMotoServer in this process and hands out
boto3 clients for any account (moto attributes the credentials STS AssumeRole
returns to the role's account). `Seeder` builds the inventory cfgmon collects.
"""

from __future__ import annotations

import logging
import urllib.request
from typing import Any

import boto3

from cfgmon.simulation.seed import (
    CIS_CONFIG_PATTERN,
    DEFAULT_ACCOUNT,
    Chain,
    Seeder,
    expression_query,
    stat_query,
)

# Credentials the simulation accepts; never real, never sent anywhere but moto.
SIMULATION_CREDENTIALS = {
    "aws_access_key_id": "AKIAIOSFODNN7EXAMPLE",
    "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}


class MotoEndpoint:
    """Clients for a moto server at `endpoint`, in any account it simulates."""

    def __init__(self, endpoint: str, credentials: dict[str, str] | None = None) -> None:
        self.endpoint = endpoint
        self.credentials = credentials if credentials is not None else dict(SIMULATION_CREDENTIALS)

    def client(self, service: str, region: str = "us-east-1", **credentials: Any):
        return boto3.client(
            service, region_name=region, endpoint_url=self.endpoint,
            **(credentials or self.credentials),
        )

    def account_credentials(self, account_id: str) -> dict[str, str]:
        """Credentials that moto attributes to `account_id` (through STS AssumeRole)."""
        creds = self.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/seed", RoleSessionName="seed"
        )["Credentials"]
        return {
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        }

    def session(self, account_id: str, region: str = "us-east-1") -> boto3.Session:
        creds = self.account_credentials(account_id)
        return boto3.Session(region_name=region, **creds)

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        urllib.request.urlopen(request).close()


class MotoSimulation(MotoEndpoint):
    """A moto server in this process, on 127.0.0.1 and a free port; a context manager."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        # werkzeug logs every request to stderr; the simulation should be quiet.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        super().__init__(f"http://{host}:{port}")

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> MotoSimulation:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


__all__ = [
    "CIS_CONFIG_PATTERN",
    "DEFAULT_ACCOUNT",
    "Chain",
    "MotoEndpoint",
    "MotoSimulation",
    "Seeder",
    "expression_query",
    "stat_query",
]
