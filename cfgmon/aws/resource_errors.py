"""Errors of a call about one resource: a refusal for that resource, or a failure of the scope.

A per-resource call (a trail's status, a topic's attributes, a key's policy) that is
refused for that one resource leaves that part unknown and says why in a column of
its own, so a verdict can say INSUFFICIENT_DATA; throttling that outlasted the
retries and server errors propagate and fail the whole scope, which keeps its
earlier rows.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

FATAL_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
    "TooManyRequestsException", "RequestThrottled", "RequestThrottledException",
    "SlowDown", "InternalFailure", "InternalError", "ServiceUnavailable",
})


def tolerated(exc: ClientError) -> str:
    """`Operation: Code: message` for a refusal of one resource; raises `exc` when it is fatal."""
    error = exc.response.get("Error", {})
    code = error.get("Code", "")
    http_status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if code in FATAL_CODES or http_status >= 500:
        raise exc
    return f"{exc.operation_name}: {code}: {error.get('Message', '')}".rstrip(": ")
