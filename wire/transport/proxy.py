"""The signing proxy behind `sigv4 proxy`: a local reverse proxy that re-signs every request for one upstream.

Strategy: the proxy is a streaming app for the edge's server
(`wire.transport.server`: its accept loop, connection handling and limits,
the same as `sigv4 serve`). Each request it is handed loses what must not
cross (hop-by-hop headers, any old signature, the client's Host), is pointed
at the upstream, signed now with the credentials the provider gives (cached
until shortly before they expire), and sent with the edge's client
(`wire.transport.upstream`: one kept-alive connection to the upstream per
client connection, a request on a connection the upstream had closed while
idle sent once more); the answer goes back without its
hop-by-hop headers, its body relayed as it arrives, the proxy's credentials
masked in both (`wire.transport.masking`; the upstream is asked for
uncompressed answers so that an echo is never hidden in gzip). Bodies: S3
(`service="s3"`) is signed by S3's rules with `UNSIGNED-PAYLOAD`, so a body
with a Content-Length streams through unhashed; every other service signs the
body's SHA-256, which needs the whole body first (it is bounded by the
server's body limit; a streamed S3 body is not, see `relays_body`). One line per request goes to `log` (method, path,
status, milliseconds until the answer was relayed); when the upstream refuses
the signature, `wire.debugger.diagnose`'s analysis of the request we sent (checked with
the proxy's credentials) follows it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from urllib.parse import parse_qsl
from datetime import datetime, timezone

import sigv4
from sigv4.integrations.credentials import ResolvedCredentials, default_chain
from sigv4.integrations.resolved import CredentialProvider, resolved
from sigv4.redact import redact
from sigv4.types import iter_body
from wire.debugger.complaint import read_error
from wire.debugger.diagnose import diagnose
from wire.debugger.diagnosis_text import render_text
from wire.endpoints import infer_scope
from wire.transport.client import NetworkError, RequestError, TransportOptions
from wire.transport.framing import Refusal
from wire.transport.masking import CredentialMask
from wire.transport.upstream import Upstreams

#: Headers that belong to one hop (RFC 9110 section 7.6.1) and never cross the proxy.
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "transfer-encoding", "upgrade", "expect",
})
#: Headers the proxy replaces: the old signature, the client's Host (the upstream's goes out), the framing, and
#: Accept-Encoding (identity: an answer that echoes the credentials must come uncompressed to be masked).
REPLACED = frozenset({"authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256", "host",
                      "content-length", "accept-encoding"})
#: Complaint kinds (see `wire.debugger.complaint.KIND_RULES`) for which the log shows the signature diagnosis.
SIGNATURE_KINDS = frozenset({
    "signature-mismatch", "signature-expired", "signature-not-yet-current", "clock-skew", "request-expired",
    "wrong-region", "wrong-scope", "payload-hash", "incomplete-signature",
})


class UpstreamError(ValueError):
    """The upstream is not an http(s)://host[:port][/path] URL."""


@dataclass(frozen=True, slots=True)
class ProxyReply:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes | Iterator[bytes]


def _upstream_url(upstream: str, target: str) -> str:
    """The upstream URL for `target`, a `+` in its query written `%2B`.

    `sigv4.sign` reads a raw `+` as the literal plus (RFC 3986) and signs `%2B`;
    servers that read the query form-style (moto, AWS's front ends) would take
    it for a space and compute another signature, so it goes out as signed.
    """
    base = upstream.rstrip("/")
    path, mark, query = target.partition("?")
    return base + (path if path.startswith("/") else "/" + path) + mark + query.replace("+", "%2B")


def forwarded_headers(headers: tuple[tuple[str, str], ...], dropped: frozenset[str]) -> list[tuple[str, str]]:
    """`headers` without the `dropped` names and without the ones the Connection header names."""
    named = {n.strip().lower() for name, value in headers if name.lower() == "connection" for n in value.split(",")}
    return [(name, value) for name, value in headers if name.lower() not in dropped and name.lower() not in named]


@dataclass
class SigningProxy:
    """The app: `respond(request, peer)` forwards one request, signed, and relays the upstream's answer."""

    upstream: str  # scheme://host[:port][/base path]
    service: str
    region: str
    credentials: CredentialProvider
    env: Mapping[str, str]
    log: Callable[[str], None]
    options: TransportOptions = field(default_factory=TransportOptions)
    #: The server hands the request body over as it arrives (see `wire.transport.server.App`).
    streaming: bool = True
    _upstreams: Upstreams = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._upstreams = Upstreams(self.options, self.env, self.log)
        target = sigv4.Request("GET", self.upstream)
        if target.scheme not in ("http", "https") or not target.authority:
            raise UpstreamError(f"--upstream {self.upstream!r}: expected http(s)://host[:port][/path]")

    def relays_body(self, headers: Sequence[tuple[str, str]], target: str = "") -> bool:
        """Whether a request with `headers` has its body streamed through as it arrives, none of it held (so
        the server's body limits do not bound it): S3's, signed UNSIGNED-PAYLOAD, with a Content-Length."""
        return self.service == "s3" and any(name.lower() == "content-length" for name, _ in headers)

    def sign(self, request: sigv4.Request, credentials: sigv4.Credentials | None = None) -> sigv4.Request:
        """`request` (as received) pointed at the upstream and signed now, with `credentials` (default: the
        provider's now)."""
        headers = forwarded_headers(request.headers, HOP_BY_HOP | REPLACED)
        headers.append(("Accept-Encoding", "identity"))
        s3, length = self.service == "s3", request.header("content-length")
        body: sigv4.types.Body
        if self.relays_body(request.headers) and length is not None:
            # UNSIGNED-PAYLOAD: the body streams through, unread until the head has gone out.
            body = iter_body(request.body)
            headers.append(("Content-Length", length))
        else:
            body = b"".join(iter_body(request.body))
        outgoing = sigv4.Request(request.method, _upstream_url(self.upstream, request.target), headers, body)
        return sigv4.sign(outgoing, credentials or resolved(self.credentials()).credentials, region=self.region,
                          service=self.service, timestamp=datetime.now(timezone.utc), s3=s3,
                          payload=sigv4.UNSIGNED_PAYLOAD if s3 else None, content_sha256_header=s3).request

    def respond(self, request: sigv4.Request, source_ip: str) -> ProxyReply:
        started = time.perf_counter()
        if request.method == "CONNECT":
            return self._failed(request, started, 501, tunnel_refusal(self.upstream, request.target))
        try:
            credentials = resolved(self.credentials()).credentials
            signed = self.sign(request, credentials)
        except sigv4.SigningError as err:
            return self._failed(request, started, 400, f"the proxy cannot sign this request: {err}")
        return self.forward(request, signed, credentials, started)

    def forward(self, request: sigv4.Request, signed: sigv4.Request, credentials: sigv4.Credentials,
                started: float) -> ProxyReply:
        """Send `signed` (`request` as the proxy signed it with `credentials`) on this thread's connection to its
        host and relay the answer, `credentials` masked in it; a refused signature's diagnosis is logged."""
        mask = _mask_of(credentials)  # the client never sees the proxy's credentials echoed
        connection = self._upstreams.connection(signed)
        try:
            response = self._upstreams.stream(connection, signed)
            headers = mask.headers(forwarded_headers(tuple(response.headers), HOP_BY_HOP | {"date"}))
            if response.status not in (400, 401, 403):
                logged = partial(self._logged, request, response.status, started)
                return ProxyReply(response.status, headers,
                                  self._upstreams.relay(mask.stream(response.chunks), connection, logged))
            body = b"".join(response.chunks)  # an error: small, and read whole for the diagnosis
        except (NetworkError, RequestError) as err:
            connection.close()
            return self._failed(request, started, 502, f"upstream {signed.scheme}://{signed.authority}: {err}")
        except Refusal:  # the client's streamed body broke off: the upstream must not wait for the rest
            connection.close()  # (the server logs the refusal)
            raise
        self._logged(request, response.status, started)
        complaint = read_error(response.status, response.headers, body)
        if complaint.kind in SIGNATURE_KINDS:
            # The proxy signed with these credentials: the diagnosis checks the signature rather than guessing.
            self.log(render_text(diagnose(signed, complaint, secret=credentials)))
        # Masking by place may change the body's length: the server sends the new one.
        return ProxyReply(response.status, tuple(h for h in headers if h[0].lower() != "content-length"),
                          mask.body(body))

    def _logged(self, request: sigv4.Request, status: int, started: float) -> None:
        self.log(log_line(request, status, started))

    def _failed(self, request: sigv4.Request, started: float, status: int, message: str) -> ProxyReply:
        self.log(log_line(request, status, started, message))
        return ProxyReply(status, (("Content-Type", "text/plain; charset=utf-8"),), message.encode("utf-8") + b"\n")


#: The mask of the credentials signing now (they change only on a refresh): built once, not per request.
_mask_of = lru_cache(maxsize=4)(CredentialMask.of)


def tunnel_refusal(upstream: str, target: str) -> str:
    """What CONNECT is answered (501): the proxy forwards requests to one upstream; it opens no tunnels (a
    tunnel's 2xx would leave nothing for the proxy to sign, and the connection no longer HTTP)."""
    return (f"CONNECT {target}: sigv4 proxy opens no tunnels; it is a reverse proxy that signs requests for "
            f"{upstream}: use its URL as the client's endpoint (e.g. --endpoint-url), not as HTTPS_PROXY")


def proxy_for(upstream: str, service: str, region: str | None, profile: str | None, env: Mapping[str, str],
              log: Callable[[str], None], options: TransportOptions) -> tuple[SigningProxy, ResolvedCredentials]:
    """The proxy `sigv4 proxy` runs, and the credentials it starts with: from the default chain, resolved now
    so that none fail at start rather than on the first request. The region is `region`, else the upstream
    host's, the credentials', us-east-1. Raises `sigv4.SigningError` (no credentials), `UpstreamError`.
    """
    provider = default_chain(profile, env)
    first = provider()
    region = region or infer_scope(sigv4.Request("GET", upstream).authority)[1] or first.region or "us-east-1"
    return SigningProxy(upstream, service, region, provider, env, log, options), first


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def has_body(headers: Iterable[tuple[str, str]]) -> bool:
    """Whether a request with `headers` has a body to stream: a Content-Length or `Transfer-Encoding: chunked`.
    A request with neither has none (RFC 9112 6.3): streamed on, it would go with a framing of its own (a GET
    sent chunked, which S3 refuses)."""
    return any(name.lower() == "content-length" or (name.lower() == "transfer-encoding" and
                                                    value.strip().lower() == "chunked") for name, value in headers)


def presigned_s3(target: str) -> bool:
    """Whether `target` is an S3 presigned URL's (SigV4 or SigV4a scoped to S3, or S3's SigV2): S3 signs no body of
    one (UNSIGNED-PAYLOAD), so a proxy can pass an upload to it on as it arrives, as it does a body whose
    `x-amz-content-sha256` says how to check it."""
    query = target.partition("?")[2]
    if "Signature=" not in query:  # X-Amz-Signature or SigV2's Signature: the common case costs no parsing
        return False
    params = dict(parse_qsl(query))
    credential = params.get("X-Amz-Credential")
    if credential is None:  # S3's SigV2 URL (the Query APIs' SigV2 names its SignatureVersion; its form is signed)
        return "AWSAccessKeyId" in params and "SignatureVersion" not in params
    # KEY/DATE/REGION/SERVICE/aws4_request, or SigV4a's KEY/DATE/SERVICE/aws4_request: the service is next to last
    return credential.split("/")[-2:-1] == ["s3"]


def log_line(request: sigv4.Request, status: int, started: float, message: str = "",
             credentials: sigv4.Credentials | None = None) -> str:
    """The proxies' log line of one request: method, target, status, milliseconds since `started` (a
    `time.perf_counter()`) and what happened, with session tokens (a presigned URL's target holds one) and the
    secrets of `credentials` masked."""
    return redact(f"{request.method} {request.target} {status} {_ms(started)} ms" + (f": {message}" if message else ""),
                  credentials)
