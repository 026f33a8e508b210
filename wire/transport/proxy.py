"""The signing proxy behind `sigv4 proxy`: a local reverse proxy that re-signs every request for one upstream.

Strategy: the proxy is an app for the edge's server (`wire.transport.server`:
its accept loop, connection handling and limits, the same as `sigv4 serve`).
Each request it is handed loses what must not cross (hop-by-hop headers, any
old signature, the client's Host), is pointed at the upstream, signed now with
the credentials the provider gives (cached until shortly before they expire),
and sent with the edge's client (`wire.transport.client`); the answer goes back
without its hop-by-hop headers. S3 (`service="s3"`) is signed by S3's rules
with `UNSIGNED-PAYLOAD`, so a body is never hashed twice; other services get
the body's SHA-256. One line per request goes to `log`; when the upstream
refuses the signature, `wire.diagnose`'s analysis of the request we sent
follows it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone

import sigv4
from sigv4.integrations.resolved import CredentialProvider, resolved
from wire.complaint import read_error
from wire.diagnose import diagnose, render_text
from wire.transport.client import NetworkError, RequestError, TransportOptions, send_request

#: Headers that belong to one hop (RFC 9110 section 7.6.1) and never cross the proxy.
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "transfer-encoding", "upgrade", "expect",
})
#: Headers the proxy replaces: the old signature, the client's Host (the upstream's goes out) and the framing.
REPLACED = frozenset({"authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256", "host",
                      "content-length"})
#: Complaint kinds (see `wire.complaint.KIND_RULES`) for which the log shows the signature diagnosis.
SIGNATURE_KINDS = frozenset({
    "signature-mismatch", "signature-expired", "signature-not-yet-current", "clock-skew", "request-expired",
    "wrong-region", "wrong-scope", "payload-hash", "incomplete-signature",
})


@dataclass(frozen=True, slots=True)
class ProxyReply:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def _upstream_url(upstream: str, target: str) -> str:
    base = upstream.rstrip("/")
    return base + (target if target.startswith("/") else "/" + target)


def forwarded_headers(headers: tuple[tuple[str, str], ...], dropped: frozenset[str]) -> list[tuple[str, str]]:
    """`headers` without the `dropped` names and without the ones the Connection header names."""
    named = {n.strip().lower() for name, value in headers if name.lower() == "connection" for n in value.split(",")}
    return [(name, value) for name, value in headers if name.lower() not in dropped and name.lower() not in named]


@dataclass
class SigningProxy:
    """The app: `respond(request, peer)` forwards one request, signed, and returns the upstream's answer."""

    upstream: str  # scheme://host[:port][/base path]
    service: str
    region: str
    credentials: CredentialProvider
    env: Mapping[str, str]
    log: Callable[[str], None]
    options: TransportOptions = field(default_factory=TransportOptions)

    def __post_init__(self) -> None:
        target = sigv4.Request("GET", self.upstream)
        if target.scheme not in ("http", "https") or not target.authority:
            raise ValueError(f"--upstream {self.upstream!r}: expected http(s)://host[:port][/path]")

    def sign(self, request: sigv4.Request) -> sigv4.Request:
        """`request` (as received) pointed at the upstream and signed now."""
        outgoing = sigv4.Request(request.method, _upstream_url(self.upstream, request.target),
                                 forwarded_headers(request.headers, HOP_BY_HOP | REPLACED), request.body)
        s3 = self.service == "s3"
        return sigv4.sign(outgoing, resolved(self.credentials()).credentials, region=self.region,
                          service=self.service, timestamp=datetime.now(timezone.utc), s3=s3,
                          payload=sigv4.UNSIGNED_PAYLOAD if s3 else None, content_sha256_header=s3).request

    def respond(self, request: sigv4.Request, source_ip: str) -> ProxyReply:
        started = time.perf_counter()
        try:
            signed = self.sign(request)
        except sigv4.SigningError as err:
            return self._failed(request, started, 400, f"the proxy cannot sign this request: {err}")
        try:
            exchange = send_request(signed, self.options, self.env, self.log)
        except (NetworkError, RequestError) as err:
            return self._failed(request, started, 502, f"upstream {self.upstream}: {err}")
        self.log(f"{request.method} {request.target} {exchange.status} {_ms(started)} ms")
        if exchange.status in (400, 401, 403):
            complaint = read_error(exchange.status, exchange.headers, exchange.body)
            if complaint.kind in SIGNATURE_KINDS:
                self.log(render_text(diagnose(signed, complaint)))
        return ProxyReply(exchange.status, tuple(forwarded_headers(
            tuple(exchange.headers), HOP_BY_HOP | {"content-length", "date"})), exchange.body)

    def _failed(self, request: sigv4.Request, started: float, status: int, message: str) -> ProxyReply:
        self.log(f"{request.method} {request.target} {status} {_ms(started)} ms: {message}")
        return ProxyReply(status, (("Content-Type", "text/plain; charset=utf-8"),), message.encode("utf-8") + b"\n")


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
