"""A small HTTP proxy between cfgmon and the moto server that injects faults for real.

Each request is classified by the AWS operation it calls (X-Amz-Target for the
JSON protocol, the URL path for Smithy RPC v2 CBOR, the Action= form field for the
query and EC2 protocols), its signing service and its region (both from the
credential scope of the SigV4 Authorization header). A `Fault` that matches answers
in its own way; everything else is forwarded to the upstream server untouched.

    with FaultProxy(aws.endpoint) as proxy:
        proxy.add(Fault("access_denied", service="logs", region="eu-west-1"))
        ... point cfgmon at proxy.url ...
        assert proxy.count(operation="DescribeLogGroups") == 1
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import json
import re
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KINDS = ("access_denied", "throttle", "http500", "drop", "timeout", "malformed", "delay", "hold")

_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_CBOR_PATH = re.compile(r"/service/[^/]+/operation/([^/?]+)")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "te",
               "trailer", "upgrade", "proxy-authenticate", "proxy-authorization"}

# What AWS calls these faults, per signing service (AccessDenied differs by service).
_DENIED_CODES = {"logs": "AccessDeniedException", "cloudtrail": "AccessDeniedException",
                 "sns": "AuthorizationError", "ec2": "UnauthorizedOperation"}
_THROTTLE_CODES = {"logs": "ThrottlingException", "cloudtrail": "ThrottlingException"}


@dataclass
class Fault:
    """How to answer the requests it matches; None matches anything.

    kind: access_denied | throttle | http500 | drop | timeout | malformed | delay | hold.
    `times` limits the fault to the first N matching requests (then they pass);
    `seconds` is how long timeout holds the request and delay waits before forwarding;
    hold keeps the request until `FaultProxy.release()`, then forwards it.
    `message` may name {access_key} and {security_token}: the request's own, echoed
    as some AWS errors (SignatureDoesNotMatch's canonical request) do.
    """

    kind: str
    operation: str | None = None
    service: str | None = None   # signing name: logs, cloudtrail, monitoring, sns, ec2, sts
    region: str | None = None
    access_key: str | None = None  # one account's (or session's) requests only
    times: int | None = None
    seconds: float = 0.0
    code: str | None = None
    message: str | None = None
    hits: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {KINDS}")

    def matches(self, request: Request) -> bool:
        return all(
            want is None or want == got
            for want, got in ((self.operation, request.operation), (self.service, request.service),
                              (self.region, request.region), (self.access_key, request.access_key))
        )


@dataclass(frozen=True)
class Request:
    """What the proxy saw: the call, and what it did with it (forwarded or a fault kind)."""

    operation: str | None
    service: str | None
    region: str | None
    protocol: str  # json | cbor | query | ec2
    access_key: str | None = None
    security_token: str | None = None
    outcome: str = "forwarded"


@dataclass
class _State:
    upstream: tuple[str, int]
    faults: list[Fault] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)


class FaultProxy:
    """A threaded HTTP proxy on 127.0.0.1 and a free port; a context manager."""

    def __init__(self, upstream: str) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        self._state = _State(upstream=(parsed.hostname, parsed.port or 80))
        handler = type("BoundHandler", (_Handler,), {"state": self._state})
        self._server = _Server(("127.0.0.1", 0), handler)
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="fault-proxy")
        self._thread.start()

    def add(self, fault: Fault) -> Fault:
        with self._state.lock:
            self._state.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._state.lock:
            self._state.faults.clear()
            self._state.requests.clear()

    @property
    def requests(self) -> list[Request]:
        with self._state.lock:
            return list(self._state.requests)

    def count(self, **where: str) -> int:
        """Requests seen whose fields equal `where` (operation=, service=, region=, outcome=)."""
        return sum(all(getattr(r, k) == v for k, v in where.items()) for r in self.requests)

    def release(self) -> None:
        """Let the requests held by hold faults, and those still to come, through."""
        self._state.released.set()

    def stop(self) -> None:
        self._state.stopping.set()  # releases requests held by timeout or delay faults
        self._state.released.set()  # and by hold faults
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request, client_address) -> None:
        # A client that gave up (its read timeout, a dropped connection) is expected here.
        return


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: _State

    def log_message(self, format, *args) -> None:  # quiet, like the moto simulation
        return

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        request = self._classify(body)
        fault = self._pick_fault(request)
        with self.state.lock:
            self.state.requests.append(
                dataclasses.replace(request, outcome=fault.kind if fault else "forwarded"))
        if fault is None:
            self._reply(*self._forward(body))
        else:
            ANSWERS[fault.kind](self, request, fault, body)

    # -- classification ----------------------------------------------------------------

    def _classify(self, body: bytes) -> Request:
        scope = _SCOPE.search(self.headers.get("Authorization", ""))
        key, region, service = scope.groups() if scope else (None, None, None)
        token = self.headers.get("X-Amz-Security-Token")
        target = self.headers.get("X-Amz-Target")
        cbor = _CBOR_PATH.search(self.path)
        if target:
            operation, protocol = target.rsplit(".", 1)[-1], "json"
        elif cbor:
            operation, protocol = cbor.group(1), "cbor"
        else:
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            operation = (form.get("Action") or [None])[0]
            protocol = "ec2" if service == "ec2" else "query"
        return Request(operation, service, region, protocol, key, token)

    def _pick_fault(self, request: Request) -> Fault | None:
        with self.state.lock:
            for fault in self.state.faults:
                if fault.matches(request) and (fault.times is None or fault.hits < fault.times):
                    fault.hits += 1
                    return fault
        return None

    # -- answers -------------------------------------------------------------------------

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(*self.state.upstream, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            return response.status, response.getheaders(), payload
        finally:
            connection.close()

    def _reply(self, status: int, headers, body: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, request: Request, status: int, code: str, message: str) -> None:
        message = message.format(access_key=request.access_key or "",
                                 security_token=request.security_token or "")
        body, content_type = _error_body(request, code, message)
        headers = [("Content-Type", content_type), ("x-amzn-RequestId", "fault-proxy")]
        if request.protocol == "cbor":
            headers.append(("smithy-protocol", "rpc-v2-cbor"))
        self._reply(status, headers, body)

    def _drop(self) -> None:
        """Close the connection without a byte of response."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def _access_denied(handler: _Handler, request: Request, fault: Fault, body: bytes) -> None:
    code = fault.code or _DENIED_CODES.get(request.service or "", "AccessDenied")
    message = fault.message or (
        f"User: arn:aws:sts::123456789012:assumed-role/audit/cfgmon is not authorized to "
        f"perform: {request.service}:{request.operation} because no identity-based policy "
        f"allows the {request.service}:{request.operation} action")
    handler._error(request, 400 if request.protocol != "ec2" else 403, code, message)


def _throttle(handler: _Handler, request: Request, fault: Fault, body: bytes) -> None:
    code = fault.code or _THROTTLE_CODES.get(request.service or "", "Throttling")
    handler._error(request, 400, code, fault.message or "Rate exceeded")


def _http500(handler: _Handler, request: Request, fault: Fault, body: bytes) -> None:
    handler._error(request, 500, fault.code or "InternalFailure",
                   fault.message or "We encountered an internal error. Please try again.")


def _drop(handler: _Handler, request: Request, fault: Fault, body: bytes) -> None:
    handler._drop()


def _timeout(handler: _Handler, request: Request, fault: Fault, body: bytes) -> None:
    """Hold the request without answering (the client's read timeout fires), then drop it."""
    handler.state.stopping.wait(fault.seconds or 30)
    handler._drop()


def _malformed(handler: _Handler, request: Request, fault: Fault, body: bytes) -> None:
    """The real answer, cut off half-way: a 200 whose body cannot be parsed."""
    status, headers, payload = handler._forward(body)
    handler._reply(status, headers, payload[: len(payload) // 2] or b"\x00garbage")


def _delay(handler: _Handler, request: Request, fault: Fault, body: bytes) -> None:
    started = time.monotonic()
    handler.state.stopping.wait(fault.seconds)
    if time.monotonic() - started < fault.seconds:  # the proxy is stopping
        handler._drop()
        return
    handler._reply(*handler._forward(body))


def _hold(handler: _Handler, request: Request, fault: Fault, body: bytes) -> None:
    handler.state.released.wait()
    if handler.state.stopping.is_set():
        handler._drop()
        return
    handler._reply(*handler._forward(body))


ANSWERS = {
    "access_denied": _access_denied,
    "throttle": _throttle,
    "http500": _http500,
    "drop": _drop,
    "timeout": _timeout,
    "malformed": _malformed,
    "delay": _delay,
    "hold": _hold,
}


def _error_body(request: Request, code: str, message: str) -> tuple[bytes, str]:
    if request.protocol == "json":
        return (json.dumps({"__type": code, "message": message}).encode(),
                "application/x-amz-json-1.1")
    if request.protocol == "cbor":
        return cbor_text_map({"__type": code, "message": message}), "application/cbor"
    code, message = _xml_escape(code), _xml_escape(message)
    if request.protocol == "ec2":
        return (f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message>"
                f"</Error></Errors><RequestID>fault-proxy</RequestID></Response>").encode(), "text/xml"
    return (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>fault-proxy</RequestId>"
            f"</ErrorResponse>").encode(), "text/xml"


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cbor_text_map(items: dict[str, str]) -> bytes:
    """A CBOR map of text strings (RFC 8949), enough for a Smithy RPC v2 error body."""
    return _cbor_head(5, len(items)) + b"".join(
        _cbor_text(key) + _cbor_text(value) for key, value in items.items()
    )


def _cbor_text(text: str) -> bytes:
    data = text.encode()
    return _cbor_head(3, len(data)) + data


def _cbor_head(major: int, length: int) -> bytes:
    if length < 24:
        return bytes([major << 5 | length])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if length < 1 << (8 * size):
            return bytes([major << 5 | info]) + length.to_bytes(size, "big")
    raise ValueError("too long for CBOR")
