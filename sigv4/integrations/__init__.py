"""Embedding the signer in HTTP clients: adapters, `headers_for`, credential providers.

Strategy: this subpackage is the toolkit's edge for embedding. Unlike the
pure core it may read the clock (the default signing time), the environment,
the shared AWS files and run `credential_process` (see `.credentials`). The
core never imports it; the library adapters import their library only when
their own module is imported:

- `sigv4.integrations.requests.SigV4Auth`: a `requests` auth (extra `requests`)
- `sigv4.integrations.httpx.SigV4Auth`: an `httpx.Auth` for sync and async clients (extra `httpx`)
- `sigv4.integrations.aiohttp.SigV4Auth`: an aiohttp client middleware (extra `aiohttp`)
- `headers_for(...)`: every header to send, signed, for urllib3, `http.client` or anything else

Example (urllib3), retrying once when the server says our clock is off:

    skew = ClockSkew()  # keep it: the offset serves every later request too
    for attempt in range(2):
        headers = headers_for("GET", url, {}, b"", credentials, region="us-east-1", service="sts", clock_skew=skew)
        response = urllib3.request("GET", url, headers=headers)
        if not skew.learn(response.status, response.headers.items(), response.data):
            break
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from ..errors import InvalidParameterError
from ..types import Body, Request
from .auth import ClockSkew, CredentialsOrProvider, RequestSigner
from .credentials import (
    CachingProvider,
    CredentialProvider,
    CredentialsError,
    NoCredentialsError,
    ResolvedCredentials,
    default_chain,
    from_container,
    from_environment,
    from_imds,
    from_process,
    from_profile,
    resolve_credentials,
    static,
)

__all__ = [
    "CachingProvider", "ClockSkew", "CredentialProvider", "CredentialsError", "NoCredentialsError",
    "ResolvedCredentials", "default_chain", "from_container", "from_environment", "from_imds", "from_process",
    "from_profile", "headers_for", "resolve_credentials", "static",
]


#: A path as urllib3 sends it as written (RFC 3986's unreserved characters and sub-delimiters, ':', '@', '/', and
#: upper-case percent-escapes): it percent-encodes anything else, and http.client sends what it is given, so only
#: such a path is sent alike by both, and as signed. (The query needs no such care: its canonical form decodes it.)
_PATH_AS_SENT = re.compile(r"(?:[A-Za-z0-9._~!$&'()*+,;=:@/-]|%[0-9A-F]{2})*\Z")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


def _percent_encoded(path: str) -> str:
    """`path` with every character `_PATH_AS_SENT` does not allow percent-encoded (UTF-8), escapes in upper case."""
    path = _ESCAPE.sub(lambda escape: escape[0].upper(), path)
    return "".join(c if _PATH_AS_SENT.match(c) or (c == "%" and _ESCAPE.match(path, i)) else quote(c, safe="")
                   for i, c in enumerate(path))


def _check_sent_as_written(url: str) -> None:
    """Raise InvalidParameterError when urllib3 would send another path than `url`'s (see `_PATH_AS_SENT`; it also
    removes `.` and `..` segments), naming the URL to give instead."""
    parts = urlsplit(url)
    if not _PATH_AS_SENT.match(parts.path):
        fixed = parts._replace(path=_percent_encoded(parts.path)).geturl()
        raise InvalidParameterError(f"url: the path {parts.path[:80]!r} is not sent as written (urllib3 would "
                                    "percent-encode it, http.client would not), so its signature would not match; "
                                    f"give it percent-encoded: {fixed[:200]!r}")
    if {".", ".."} & set(parts.path.split("/")):
        raise InvalidParameterError(f"url: the path {parts.path[:80]!r} has a '.' or '..' segment, which urllib3 "
                                    "removes before sending; give the path it names")


def headers_for(
    method: str, url: str, headers: Mapping[str, str] | Iterable[tuple[str, str]], body: Body,
    credentials: CredentialsOrProvider, *, region: str | list[str], service: str,
    timestamp: datetime | None = None, clock_skew: ClockSkew | None = None, **sign_options: Any,
) -> dict[str, str]:
    """Every header to send with the request, signed: `headers` as given plus Host, X-Amz-Date,
    Authorization (and X-Amz-Security-Token, X-Amz-Content-SHA256 when they apply), in order.

    Send the result as the request's headers, whole: it is the complete set, so a header given here
    cannot be left out of what goes on the wire (a signed Content-Type that is not sent fails the
    signature). `url` is absolute; `headers` are the ones the request will carry (as a mapping, or
    pairs with each name once); `body` is bytes or a seekable file
    (hashed in pieces and rewound; for a one-shot stream pass
    `payload="UNSIGNED-PAYLOAD"` or its precomputed SHA-256). `credentials`
    are Credentials or a provider. `timestamp` defaults to now (UTC),
    corrected by `clock_skew` when given (a `ClockSkew` the caller keeps and
    shows each answer to: its `learn` says when to re-sign and retry once).
    `signed_headers` and `sign_options` are as for the adapters: by default
    `host`, `content-type`, `content-md5` and `x-amz-*` are signed, and
    `service="s3"` implies `s3=True`.
    Raises a SigningError subclass; InvalidParameterError for a header name given twice (a dict result
    cannot hold both), for aws-chunked payloads, whose re-encoded body a headers-only result cannot carry, and for
    a `url` whose path urllib3 would not send as written (a space, a non-ASCII character, a lower-case
    percent-escape, a `..` segment): the message gives the percent-encoded URL to sign and send instead.
    """
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    if len({name.lower() for name, _ in pairs}) < len(pairs):
        raise InvalidParameterError("headers: a name appears twice; join the values with ', ' into one header")
    _check_sent_as_written(url)
    signer = RequestSigner(credentials, region=region, service=service, **sign_options)
    if timestamp is None and clock_skew is not None:
        timestamp = clock_skew.now()
    if signer.streaming:
        raise InvalidParameterError("payload: aws-chunked (STREAMING-*) uploads re-encode the body; use "
                                    "sigv4.sign() and send its .request.body")
    return dict(signer.sign(Request(method, url, pairs, body), timestamp).headers)
