"""boto3 sessions and clients: retries, endpoint override, API call counting."""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import re
import threading
import xml.etree.ElementTree as ElementTree
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ProfileNotFound
from botocore.parsers import RpcV2CBORParser
from botocore.retries import adaptive, bucket, standard, throttling

from cfgmon.aws.defaults import DEFAULT_POOL_CONNECTIONS
from cfgmon.aws.errors import CollectError

# Where account-level calls (STS, EC2 DescribeRegions) go when the session names no region.
FALLBACK_REGION = "us-east-1"

# Retry and timeout knobs: a ClientFactory argument, else the environment variable,
# else the default. AWS_MAX_ATTEMPTS and AWS_RETRY_MODE are botocore's own names
# (attempts per call, the first included); botocore has no variable for timeouts.
DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_RETRY_MODE = "adaptive"
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 60.0
RETRY_MODES = ("adaptive", "standard", "legacy")
ENV_MAX_ATTEMPTS = "AWS_MAX_ATTEMPTS"
ENV_RETRY_MODE = "AWS_RETRY_MODE"
ENV_CONNECT_TIMEOUT = "CFGMON_CONNECT_TIMEOUT"
ENV_READ_TIMEOUT = "CFGMON_READ_TIMEOUT"
# boto3's own endpoint override, and the variable that tells it to ignore the override.
ENV_ENDPOINT_URL = "AWS_ENDPOINT_URL"
ENV_IGNORE_ENDPOINT_URLS = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
ENDPOINT_EXAMPLE = "http://127.0.0.1:5000"


class MalformedResponseError(BotoCoreError):
    """A body the protocol cannot read (cut off, not JSON/XML/CBOR, a web page).

    botocore reads an unparseable JSON body as an empty answer; an empty answer would
    replace a scope's rows with nothing, so cfgmon refuses it instead.
    """

    fmt = "{operation} returned HTTP {status} with {body}"


def check_endpoint_url(url: str, source: str = "--endpoint-url") -> str:
    """`url` when it is an http(s) URL with a host; else CollectError saying what is wrong.

    botocore refuses a URL without a scheme only when it makes a client, with a bare
    ValueError; a user who typed 127.0.0.1:5000 should hear what to type instead.
    """
    parts = urlsplit(url.strip())
    if "://" not in url:
        reason = "no http:// or https://"
    elif parts.scheme.lower() not in ("http", "https"):
        reason = "it must start with http:// or https://"
    elif not parts.hostname:
        reason = "no host"
    else:
        try:
            parts.port  # noqa: B018 (urlsplit checks the port only when asked for it)
        except ValueError:
            reason = "the port is not a number"
        else:
            return url.strip()
    raise CollectError(
        f"{source} {url!r} is not an endpoint URL ({reason}); expected a form like {ENDPOINT_EXAMPLE}"
    )


def build_session(profile: str | None = None) -> boto3.Session:
    """A boto3 session for `profile` (or boto3's own default chain), reading the
    service models through this process's data loader (see _shared_data_loader)."""
    try:
        core = botocore.session.Session(profile=profile)
        loader = _shared_data_loader(core)   # reads the profile: ProfileNotFound here
        core.register_component("data_loader", loader)
        session = boto3.Session(profile_name=profile, botocore_session=core)
        # boto3 adds its own data folder to the loader's search path on every
        # session; the shared loader needs it once
        loader.search_paths[:] = list(dict.fromkeys(loader.search_paths))
        return session
    except ProfileNotFound:
        raise CollectError(f"AWS profile {profile!r} is not configured") from None
    except BotoCoreError as exc:
        raise CollectError(f"cannot start an AWS session: {exc}") from None


# One botocore data loader per data path (AWS_DATA_PATH) in this process.
_DATA_LOADERS: dict[str | None, Any] = {}
_DATA_LOADERS_LOCK = threading.Lock()


def _shared_data_loader(core: botocore.session.Session) -> Any:
    """The data loader of every session of this process with `core`'s data path.

    botocore parses a service's model (EC2's is megabytes of JSON) once per session
    and hands the same objects to each client of that session; sharing the loader
    between sessions does the same across them, so a process that collects again
    (a scheduler, a notebook, a test suite) parses each model once.
    """
    path = core.get_config_variable("data_path")
    with _DATA_LOADERS_LOCK:
        if path not in _DATA_LOADERS:
            _DATA_LOADERS[path] = core.get_component("data_loader")
        return _DATA_LOADERS[path]


@dataclass(frozen=True)
class SessionRecipe:
    """How another process makes the caller's boto3 session again: by the profile's
    name, its credentials found there by boto3's own chain (the environment it
    inherits, the config files), so that no credentials are handed over."""

    profile: str | None = None

    def session(self) -> boto3.Session:
        return build_session(self.profile)


def session_region(session: boto3.Session) -> str:
    return session.region_name or FALLBACK_REGION


class ApiCallCounter:
    """Counts the API operations a client makes, one per request sent (pages included).

    Retries of one request are not counted again: the count is taken once per
    operation call, before botocore's retry loop. It is taken on
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
        """Count every call of this one client (ClientFactory's clients count by binding)."""
        client.meta.events.register("before-parameter-build", self._before_call)

    def add(self, calls: Mapping[str, int]) -> None:
        """Count calls made elsewhere (by a worker process)."""
        with self._lock:
            self.calls.update(calls)

    def count(self, operation: str) -> None:
        with self._lock:
            self.calls[operation] += 1
            self.last_operation = operation

    def _before_call(self, model, **_kwargs) -> None:
        self.count(model.name)


class CollectionStopped(Exception):
    """The run was stopped (interrupted); a fetch still in flight ends at its next request."""


@dataclass(frozen=True)
class Acting:
    """Who one bound client's calls act for, and what watches them.

    `credentials` makes the credentials to sign with (None: the shared client's own,
    the caller's); `limiter` is the adaptive rate limiter of this account's service
    in this region; `stop`, once set, refuses every further request.
    """

    credentials: Callable[[], Any] | None
    counter: ApiCallCounter | None
    stop: threading.Event | None
    limiter: Any
    role_arn: str | None = None


# The binding of the call in progress on this thread (set by BoundClient around each call).
_ACTING: contextvars.ContextVar[tuple[Acting, Any] | None] = contextvars.ContextVar(
    "cfgmon_acting", default=None
)


def acting_role_arn() -> str | None:
    """The role the call in progress acts through; None for the caller's own credentials."""
    current = _ACTING.get()
    return current[0].role_arn if current else None


class BoundClient:
    """A shared boto3 client bound to one account's credentials, counter and stop event.

    Making a boto3 client costs some 5 ms of CPU, more than the few calls one
    (account, region, service) scope makes with it, so every account shares one client
    per (service, region) and signs each request with its own credentials. Every API
    method and paginator of the client is available; each call runs under the binding.
    """

    def __init__(self, client: Any, acting: Acting) -> None:
        self._client = client
        self._acting = acting
        self._operations = client.meta.method_to_api_mapping

    @property
    def meta(self) -> Any:
        return self._client.meta

    @property
    def exceptions(self) -> Any:
        return self._client.exceptions

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name not in self._operations:
            return attribute

        def call(**params: Any) -> Any:
            with self._bound():
                return attribute(**params)

        return call

    def get_paginator(self, operation: str) -> _BoundPaginator:
        return _BoundPaginator(self, self._client.get_paginator(operation))

    @contextlib.contextmanager
    def _bound(self):
        acting = self._acting
        credentials = acting.credentials() if acting.credentials is not None else None
        token = _ACTING.set((acting, credentials))
        try:
            yield
        finally:
            _ACTING.reset(token)


class _BoundPaginator:
    def __init__(self, client: BoundClient, paginator: Any) -> None:
        self._client = client
        self._paginator = paginator

    def paginate(self, **params: Any) -> Iterator[dict]:
        pages = iter(self._paginator.paginate(**params))
        while True:
            with self._client._bound():  # each page's request runs under the binding
                page = next(pages, None)
            if page is None:
                return
            yield page


def _count_call(model, **_kwargs) -> None:
    current = _ACTING.get()
    if current is not None and current[0].counter is not None:
        current[0].counter.count(model.name)


def _sign_as_acting(request, **_kwargs) -> None:
    current = _ACTING.get()
    if current is not None and current[1] is not None:
        request.context.setdefault("signing", {})["request_credentials"] = current[1]


def _before_send(request, **_kwargs) -> None:
    current = _ACTING.get()
    if current is None:
        return
    acting = current[0]
    if acting.stop is not None and acting.stop.is_set():
        raise CollectionStopped("collection stopped before this request")
    if acting.limiter is not None:
        acting.limiter.on_sending_request(request=request)


def _after_attempt(**kwargs) -> None:
    current = _ACTING.get()
    if current is not None and current[0].limiter is not None:
        current[0].limiter.on_receiving_response(**kwargs)


def new_rate_limiter() -> Any:
    """botocore's adaptive-mode rate limiter, as it makes one per client, unregistered."""
    clock = bucket.Clock()
    return adaptive.ClientRateLimiter(
        rate_adjustor=throttling.CubicCalculator(starting_max_rate=0, start_time=clock.current_time()),
        rate_clocker=adaptive.RateClocker(clock),
        token_bucket=bucket.TokenBucket(max_rate=1, clock=clock),
        throttling_detector=standard.ThrottlingErrorDetector(
            retry_event_adapter=standard.RetryEventAdapter()
        ),
        clock=clock,
    )


class ClientFactory:
    """Makes boto3 clients with cfgmon's retry policy and optional endpoint override.

    `endpoint_url` points every client at one endpoint (a moto server, say). When it
    is None, boto3's own AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> still apply.

    One boto3 client is made per (caller session, service, region) and shared by
    every account reached from that session (see BoundClient). In adaptive retry
    mode each account keeps its own rate limiter per (service, region), as AWS keeps
    its rate limits per account and region: one account being throttled slows that
    account alone.
    """

    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        max_attempts: int | None = None,
        retry_mode: str | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        max_pool_connections: int = DEFAULT_POOL_CONNECTIONS,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        """`max_attempts` counts every attempt of a call, the first included.

        Each knob left None comes from the environment (ENV_* above), else its default;
        a malformed value raises CollectError. `max_pool_connections` bounds the open
        connections of one shared client: at least the requests in flight at once.
        """
        env = os.environ if environ is None else environ
        if endpoint_url is not None:
            endpoint_url = check_endpoint_url(endpoint_url)
        elif env.get(ENV_ENDPOINT_URL) and env.get(ENV_IGNORE_ENDPOINT_URLS, "").lower() != "true":
            check_endpoint_url(env[ENV_ENDPOINT_URL], ENV_ENDPOINT_URL)
        self.endpoint_url = endpoint_url
        self.max_attempts = _setting(max_attempts, env, ENV_MAX_ATTEMPTS, DEFAULT_MAX_ATTEMPTS, int)
        self.retry_mode = _setting(retry_mode, env, ENV_RETRY_MODE, DEFAULT_RETRY_MODE, str)
        if self.retry_mode not in RETRY_MODES:
            raise CollectError(
                f"{ENV_RETRY_MODE} must be one of {', '.join(RETRY_MODES)}, not {self.retry_mode!r}"
            )
        # Adaptive mode is standard retries plus a rate limiter; the limiter is kept
        # per account (new_rate_limiter), so the shared clients retry in standard mode.
        self.config = Config(
            retries={
                "mode": "standard" if self.retry_mode == "adaptive" else self.retry_mode,
                "total_max_attempts": self.max_attempts,
            },
            connect_timeout=_setting(
                connect_timeout, env, ENV_CONNECT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, float
            ),
            read_timeout=_setting(read_timeout, env, ENV_READ_TIMEOUT, DEFAULT_READ_TIMEOUT, float),
            max_pool_connections=max_pool_connections,
            # cfgmon's own requests are well-formed; botocore's check costs CPU on every call
            parameter_validation=False,
            user_agent_extra="cfgmon",
        )
        # A boto3 Session is not thread-safe; clients, once made, are.
        self._lock = threading.Lock()
        self._shared: dict[tuple[int, str, str], tuple[Any, Any]] = {}
        self._limiters: dict[tuple[int, str, str], Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        # Another process gets the settings, not the clients, limiters and lock.
        state = dict(self.__dict__)
        for name in ("_lock", "_shared", "_limiters"):
            del state[name]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._shared = {}
        self._limiters = {}

    def client(
        self,
        session: Any,
        service: str,
        region: str,
        counter: ApiCallCounter | None = None,
        stop: threading.Event | None = None,
    ) -> BoundClient:
        """A client of `service` in `region` acting with `session`'s credentials.

        `session` is a boto3 Session or one that delegates to one (an assumed role's:
        it has `root_session` and `current_credentials`). Calls are counted in
        `counter`; once `stop` is set, every further request raises CollectionStopped.
        """
        root = getattr(session, "root_session", session)
        shared = self._shared_client(root, service, region)
        delegated = root is not session
        return BoundClient(shared, Acting(
            credentials=session.current_credentials if delegated else None,
            counter=counter,
            stop=stop,
            limiter=self._limiter(session, service, region),
            role_arn=getattr(session, "role_arn", None) if delegated else None,
        ))

    def _limiter(self, session: Any, service: str, region: str) -> Any:
        if self.retry_mode != "adaptive":
            return None
        own = getattr(session, "rate_limiters", None)
        limiters = own if own is not None else self._limiters
        key = (service, region) if own is not None else (id(session), service, region)
        with self._lock:
            if key not in limiters:
                limiters[key] = new_rate_limiter()
            return limiters[key]

    def _shared_client(self, root: Any, service: str, region: str) -> Any:
        key = (id(root), service, region)
        with self._lock:
            made = self._shared.get(key)
            if made is not None:
                return made[0]
            try:
                client = self._new_client(root, service, region)
            except ValueError as exc:
                # An endpoint from the AWS config file or AWS_ENDPOINT_URL_<SERVICE>.
                prefix = "Invalid endpoint: "
                if not str(exc).startswith(prefix):
                    raise
                raise CollectError(
                    f"the {service} endpoint {str(exc).removeprefix(prefix)!r} (from an "
                    f"{ENV_ENDPOINT_URL}_<SERVICE> variable or the AWS config file) is not "
                    f"an endpoint URL; expected a form like {ENDPOINT_EXAMPLE}"
                ) from None
            events = client.meta.events
            events.register("before-parse", reject_malformed_response)
            events.register("before-parameter-build", _count_call)
            events.register("before-sign", _sign_as_acting)
            events.register("before-send", _before_send)
            events.register("needs-retry", _after_attempt)
            # the session is kept with its client: its id() must not be reused meanwhile
            self._shared[key] = (client, root)
            return client

    def _new_client(self, session: boto3.Session, service: str, region: str) -> Any:
        """The one place clients are made; tests override it to inject faults."""
        return session.client(
            service, region_name=region, endpoint_url=self.endpoint_url, config=self.config
        )


def _setting(value, env: Mapping[str, str], name: str, default, kind: type):
    if value is None:
        text = env.get(name, "").strip()
        if not text:
            return default
        try:
            value = kind(text)
        except ValueError:
            raise CollectError(f"{name} must be a number, not {text!r}") from None
    if kind is not str and not value > 0:
        raise CollectError(f"{name} must be greater than 0, not {value!r}")
    return value


def reject_malformed_response(operation_model, response_dict, **_kwargs) -> None:
    """botocore `before-parse` handler: raise MalformedResponseError for a body the
    operation's protocol cannot parse, answer or error.

    An error body that is not the protocol's (a web server's HTML page, a wrong URL
    path) makes botocore's XML parser raise an exception of no botocore family, and
    its JSON parser keep the whole page as the error message.
    """
    status = response_dict["status_code"]
    body = response_dict["body"]
    if 200 <= status < 300:
        if operation_model.output_shape is None:
            return
        if not body and not operation_model.output_shape.members:
            return
    elif not body.strip() or (status >= 500 and body.strip().startswith(b"<html>")):
        # botocore reads these as the status alone, and retries the 5xx among them.
        return
    protocol = operation_model.service_model.resolved_protocol
    check, name = _BODY_CHECKS.get(protocol, (None, protocol))
    if check is None:
        return
    # A web page is never an AWS answer, even one that happens to be well-formed XML.
    page = _html_page(body)
    if page is not None:
        raise MalformedResponseError(
            operation=operation_model.name, status=status, body=f"{page} instead of {name}"
        )
    try:
        document = check(body)
    except Exception as exc:  # each parser fails in its own way; all of them mean "malformed"
        raise MalformedResponseError(
            operation=operation_model.name, status=status,
            body=f"a body that is not valid {name}: {_describe(exc)}",
        ) from None
    shape = operation_model.output_shape
    wrapper = shape.serialization.get("resultWrapper") if shape is not None and shape.members else None
    if protocol == "query" and status < 300 and wrapper and not _has_child(document, wrapper):
        # botocore's query parser fails on a missing result element with a bare KeyError.
        raise MalformedResponseError(
            operation=operation_model.name, status=status, body=f"XML that has no <{wrapper}>"
        )


def _check_json(body: bytes) -> None:
    if not isinstance(json.loads(body), dict):
        raise ValueError("not a JSON object")


def _check_xml(body: bytes) -> ElementTree.Element:
    return ElementTree.fromstring(body)


def _has_child(root: ElementTree.Element, name: str) -> bool:
    """Whether the XML document's root has a child element `name` (in any namespace)."""
    return any(child.tag.rpartition("}")[2] == name for child in root)


def _check_cbor(body: bytes) -> None:
    # botocore's own CBOR reader, asked for exactly one complete data item.
    parser = RpcV2CBORParser()
    stream = parser.get_peekable_stream_from_bytes(body)
    if not isinstance(parser.parse_data_item(stream), dict):
        raise ValueError("not a CBOR map")
    if stream.read(1):
        raise ValueError("trailing bytes after the CBOR map")


_BODY_CHECKS = {
    "json": (_check_json, "JSON"),
    "rest-json": (_check_json, "JSON"),
    "smithy-rpc-v2-cbor": (_check_cbor, "CBOR"),
    "query": (_check_xml, "XML"),
    "ec2": (_check_xml, "XML"),
}


_HTML_START = re.compile(rb"\s*<(?:!doctype\s+html|html)[\s>]", re.IGNORECASE)
_HTML_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)


def _html_page(body: bytes) -> str | None:
    """A web page by its title, an HTML page ('404 Not Found'), which says more than
    where parsing stopped; None when the body is not an HTML page."""
    if not _HTML_START.match(body):
        return None
    title = _HTML_TITLE.search(body)
    if title is None:
        return "an HTML page"
    text = " ".join(title.group(1).decode("utf-8", "replace").split())[:80]
    return f"an HTML page ({text!r})"


def _describe(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text or type(exc).__name__
