"""Keeping credentials out of everything cfgmon stores or prints.

Error messages come from AWS, botocore and other libraries; some echo what they were
given (an endpoint URL with user-info, an access key id, a canonical request with the
session token). Every message that cfgmon records or prints passes through `redact`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

MASK = "****"

# Access key ids: AKIA (long-term) and ASIA (temporary). Other IAM unique ids
# (AIDA, AROA ...) name principals and are not credentials.
ACCESS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")
URL = re.compile(r"\bhttps?://[^\s\"'<>]+", re.IGNORECASE)
SHORTEST_SECRET = 8  # shorter "secrets" would blank out ordinary words


def redact(text: str | None, secrets: Iterable[str | None] = ()) -> str | None:
    """`text` with the given secret values, access key ids and URL secrets masked.

    URLs keep scheme, host, port and path; user-info, query and fragment become
    '****' (as subscription endpoints are stored). Access key ids keep their
    four-letter prefix, which says what kind of key it was.
    """
    if not text:
        return text
    for secret in sorted({s for s in secrets if s and len(s) >= SHORTEST_SECRET},
                         key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = ACCESS_KEY_ID.sub(lambda m: m.group(0)[:4] + MASK, text)
    return URL.sub(lambda m: mask_endpoint(m.group(0)) or "", text)


def mask_endpoint(endpoint: str | None) -> str | None:
    """Hide the secrets an http(s) subscription endpoint may carry.

    User-info, query string and fragment are each replaced by '****', so
    'https://user:pw@hooks.example.com/x?token=t' becomes
    'https://****@hooks.example.com/x?****'. Scheme, host, port and path stay, so
    a reader still sees where notifications go. Other endpoints (emails, ARNs,
    phone numbers) are returned unchanged.
    """
    if not endpoint:
        return endpoint
    try:
        parts = urlsplit(endpoint)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https"):
        if endpoint.lower().startswith(("http:", "https:")):
            # Not parseable as a URL, yet http(s): keep only the scheme.
            return endpoint.split(":", 1)[0] + ":" + MASK
        return endpoint
    netloc = parts.netloc
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rsplit("@", 1)[1]
    query = MASK if parts.query else ""
    fragment = MASK if parts.fragment else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))
