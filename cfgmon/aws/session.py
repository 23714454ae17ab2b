"""boto3 sessions and clients: retries, endpoint override, API call counting."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ProfileNotFound

from cfgmon.aws.errors import CollectError

# Where account-level calls (STS, EC2 DescribeRegions) go when the session names no region.
FALLBACK_REGION = "us-east-1"
DEFAULT_MAX_ATTEMPTS = 8


def build_session(profile: str | None = None) -> boto3.Session:
    """A boto3 session for `profile` (or boto3's own default chain)."""
    try:
        return boto3.Session(profile_name=profile)
    except ProfileNotFound:
        raise CollectError(f"AWS profile {profile!r} is not configured") from None
    except BotoCoreError as exc:
        raise CollectError(f"cannot start an AWS session: {exc}") from None


def session_region(session: boto3.Session) -> str:
    return session.region_name or FALLBACK_REGION


class ApiCallCounter:
    """Counts the API operations a client makes, one per request sent (pages included).

    Retries of one request are not counted again: the hook fires once per
    operation call, before botocore's retry loop. It listens to
    `before-parameter-build` rather than `before-call` because every handler of that
    event runs, so a call answered by botocore's Stubber still counts.
    """

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.last_operation: str | None = None
        self._lock = threading.Lock()

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def attach(self, client: Any) -> None:
        # A client's event emitter is its own copy, so this counts this client only.
        client.meta.events.register("before-parameter-build", self._before_call)

    def _before_call(self, model, **_kwargs) -> None:
        with self._lock:
            self.calls[model.name] += 1
            self.last_operation = model.name


class ClientFactory:
    """Makes boto3 clients with cfgmon's retry policy and optional endpoint override.

    `endpoint_url` points every client at one endpoint (a moto server, say). When it
    is None, boto3's own AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> still apply.
    """

    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        connect_timeout: float = 10,
        read_timeout: float = 60,
    ) -> None:
        self.endpoint_url = endpoint_url
        self.config = Config(
            retries={"mode": "adaptive", "max_attempts": max_attempts},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            user_agent_extra="cfgmon",
        )
        # A boto3 Session is not thread-safe; clients, once made, are.
        self._lock = threading.Lock()

    def client(
        self,
        session: boto3.Session,
        service: str,
        region: str,
        counter: ApiCallCounter | None = None,
    ) -> Any:
        with self._lock:
            client = self._new_client(session, service, region)
        if counter is not None:
            counter.attach(client)
        return client

    def _new_client(self, session: boto3.Session, service: str, region: str) -> Any:
        """The one place clients are made; tests override it to inject faults."""
        return session.client(
            service, region_name=region, endpoint_url=self.endpoint_url, config=self.config
        )
