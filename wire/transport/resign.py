"""`sigv4 proxy --resign`: a credential boundary that re-signs placeholder-signed requests with real credentials.

Strategy: code that must not hold credentials signs with placeholders
(`--accept KEY_ID[:SECRET]`); this app, outside its sandbox, checks each
request in a fixed order and only then signs it with the proxy's credentials
(the default chain, refreshed before they expire):
1. the claim (`sigv4.parse_auth`): a request signed with a key that is not a
   placeholder, or with a placeholder's secret that does not verify
   (`sigv4.verify`, and each chunk of an aws-chunked body as it streams), is
   refused: the proxy is no signing oracle for whoever can reach it;
2. the action (`wire.actions`): calls whose answers carry credentials are
   refused, except STS's, whose temporary credentials are swapped for a
   placeholder minted here (`wire.credential_swap`) and kept: what that
   placeholder signs is re-signed with them; with `--allow` anything the
   allow-list does not name is refused; refusals are AWS's errors in the
   request's protocol (`wire.auth_refusal`);
3. the route: service and region from `--service`/`--region`, else from the
   request's credential scope; the upstream from `--upstream`, else
   `AWS_ENDPOINT_URL_<SERVICE>`/`AWS_ENDPOINT_URL`, else the AWS host the
   request names (an intercepted one, see `wire.transport.intercept`), else
   the service's standard endpoint (`wire.endpoints`);
4. the re-signing itself (`sigv4.resign`: same algorithm, payload mode,
   presigned expiry), then `SigningProxy.forward` of the route's upstream
   (`wire.transport.proxy`): kept-alive upstream connections, the answer
   relayed as it arrives with the proxy's credentials masked.
Bodies that stream (a declared hash, UNSIGNED-PAYLOAD, aws-chunked) are not
held (`relays_body`); the others are bounded by the server's body limit.
"""

from __future__ import annotations

import argparse
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import sigv4
from sigv4.chunked import ChunkScope
from sigv4.chunked_decode import ChunkedDecoder, decoder_for, unchecked
from sigv4.integrations.credentials import default_chain
from sigv4.integrations.resolved import CredentialProvider, ResolvedCredentials, resolved
from sigv4.errors import StreamDecodeError, VerificationError
from sigv4.resign import payload_mode, resign
from sigv4.redact import redact
from sigv4.s3hosts import s3_bucket_of
from sigv4.v2 import FORM_CONTENT_TYPE
from sigv4.types import iter_body
from wire.actions import AmbiguousActionError, allowed, is_credential_action, operation_name, rest_routes, Route
from wire.endpoints import infer_scope, is_aws_host, service_endpoint
from wire.errors import ModelError
from wire.model import load_model
from wire.auth_refusal import chunk_fault, envelope_for, fault_for, render
from wire.credential_swap import SWAPPED_ACTIONS, swap
from wire.debugger.refusal_cause import refusal_cause
from wire.errors import ServiceError
from wire.transport.client import TransportOptions
from wire.transport.intercept import CertificateAuthority, connect_host
from wire.transport.proxy import (HOP_BY_HOP, ProxyReply, SigningProxy, _ms, _upstream_url, forwarded_headers, has_body,
                                  log_line, presigned_s3, tunnel_refusal)

__all__ = ["Placeholder", "ResigningProxy", "parse_accept", "resigning_proxy"]

_ROUTES_KEPT = 64  # upstream hosts with a route (their kept-alive connections) at once
_SESSIONS_KEPT = 4096  # swapped STS sessions kept at once (the oldest go first)
#: The code of an action the boundary does not allow, by protocol envelope (the rest: `AccessDenied`).
_ACCESS_DENIED = {"json": "AccessDeniedException", "rest-json": "AccessDeniedException", "ec2": "UnauthorizedOperation"}


@dataclass(frozen=True, slots=True)
class Placeholder:
    """A placeholder identity: requests signed with its key id are re-signed; with a `secret`, only once
    their signature verifies with it."""

    access_key_id: str
    secret: str | None = field(default=None, repr=False)
    #: The session token its requests must carry (a placeholder minted for swapped STS credentials).
    token: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class _Session:
    """Temporary credentials an STS answer held (`real`), and the placeholder the client got in their place."""

    placeholder: Placeholder
    real: sigv4.Credentials = field(repr=False)
    expires_at: datetime


def parse_accept(text: str) -> Placeholder:
    """`KEY_ID[:SECRET]` as given to `--accept`; raises ValueError naming the rule."""
    key, _, secret = text.partition(":")
    if not key or not key.isalnum():
        raise ValueError(f"--accept {key!r}: a placeholder key id is letters and digits (KEY_ID[:SECRET])")
    return Placeholder(key, secret or None)


@dataclass(frozen=True, slots=True)
class _TunnelReply:
    """CONNECT accepted: the server answers 200 and hands the connection to `upgrade` (TLS terminated)."""

    upgrade: Callable[[Any], Any]
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


@lru_cache(maxsize=32)
def _load_routes(service: str) -> tuple[Route, ...] | None:
    try:
        model = load_model(service)
    except ModelError:
        return ()
    # Query, EC2 and JSON requests name their operation themselves (Action=, X-Amz-Target): their routes all
    # match POST /, so a route would name an arbitrary operation (AssumeRole for GetCallerIdentity).
    return rest_routes(model) if model.protocol.startswith("rest-") else None


# lru_cache lets concurrent misses each compute: a burst of first requests would load one model per client.
_ROUTES_LOCK = threading.Lock()


def _routes(service: str) -> tuple[Route, ...] | None:
    """The REST routes of `service`'s botocore model (none for an unknown service; None for a protocol that names
    the operation in the request), loaded once."""
    with _ROUTES_LOCK:
        return _load_routes(service)


@dataclass
class ResigningProxy:
    """The app: `respond(request, peer)` checks, re-signs and forwards one request (see the strategy)."""

    accept: Mapping[str, Placeholder]
    allow: tuple[str, ...]
    upstream: str | None
    service: str | None
    region: str | None
    credentials: CredentialProvider
    env: Mapping[str, str]
    log: Callable[[str], None]
    options: TransportOptions = field(default_factory=TransportOptions)
    authority: CertificateAuthority | None = None  # --intercept
    client_timeout: float = 60.0
    streaming: bool = True
    _routes: dict[str, SigningProxy] = field(default_factory=dict, init=False, repr=False)
    _sessions: dict[str, _Session] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.upstream is not None:
            SigningProxy(self.upstream, "", "", self.credentials, self.env, self.log)  # raises UpstreamError

    def relays_body(self, headers: Iterable[tuple[str, str]], target: str = "") -> bool:
        """Whether a request's body streams through unheld: a body (`has_body`) with a declared hash,
        UNSIGNED-PAYLOAD or aws-chunked, not a form (a Query call's Action is read from it, whatever hash the
        client declared), or an upload to an S3 presigned URL (`target`)."""
        try:
            return has_body(headers) and (payload_mode(headers) != "whole" and not _is_form(headers)
                                          or presigned_s3(target))
        except sigv4.SigningError:
            return False

    def respond(self, request: sigv4.Request, source_ip: str) -> ProxyReply | _TunnelReply:
        """The answer to one request: checked, re-signed and forwarded (the upstream's answer relayed), or
        refused as AWS refuses; a CONNECT accepted for TLS termination (`--intercept`) or refused."""
        started = time.perf_counter()
        if request.method == "CONNECT":
            return self._connect(request, started)
        try:
            mode = payload_mode(request.headers)
            if not self.relays_body(request.headers, request.target):  # bounded by the server's body limit; SigV2 signs a form body
                request = request.with_body(b"".join(iter_body(request.body)))
            auth = sigv4.parse_auth(request)
        except sigv4.SigningError as err:  # an x-amz-content-sha256 that is no payload hash
            return self._refuse(request, started, self.service, VerificationError("payload_hash", str(err)))
        except VerificationError as err:  # no signature, or a malformed one
            return self._refuse(request, started, self.service, err)
        service = self.service or auth.service or infer_scope(request.header("host"))[0] or ""
        session = self._session(auth.access_key_id)
        placeholder = self.accept.get(auth.access_key_id) or (session.placeholder if session else None)
        if placeholder is None:
            return self._refuse(request, started, service, VerificationError(
                "unknown_key", f"access key id {auth.access_key_id!r} is not a placeholder this proxy accepts",
                auth=auth))
        signer = _signer(request, placeholder)
        try:
            decoder = self._check(request, auth, signer, service, mode)
        except VerificationError as err:
            return self._refuse(request, started, service, err, signer)
        except sigv4.SigningError as err:  # an aws-chunked body without its decoded length
            return self._refuse(request, started, service, VerificationError("malformed_request", str(err)), signer)
        path, _, query = request.target.partition("?")
        host = request.header("host") or ""
        if bucket := s3_bucket_of(host):
            path = f"/{bucket}{path}"
        # Any body held is read for an Action, whatever its Content-Type: moto takes one from a JSON body too, so a
        # body that names a second action is refused (`AmbiguousActionError`), not passed by the harmless name.
        form = request.body if isinstance(request.body, bytes) else None
        routes = _routes(service) if service else ()
        try:
            operation = operation_name(request.method, path, query, request.headers, form, routes or ())
        except AmbiguousActionError as err:
            return self._refuse(request, started, service, f"{service}:?: {err}")
        if operation is None and routes is None:  # nothing to check the action against: refused, not guessed
            return self._refuse(request, started, service, f"{service}:?: the request names no action the proxy can "
                                "read (Action= in the query or a form body, X-Amz-Target)")
        action = f"{service}:{operation or '?'}"
        swapping = action in SWAPPED_ACTIONS
        if is_credential_action(action) and not swapping:
            return self._refuse(request, started, service,
                                f"{action}: its answer carries credentials; the credential boundary does not pass it")
        if self.allow and not allowed(self.allow, action):
            return self._refuse(request, started, service, f"{action}: not in the proxy's --allow list")
        # SigV2 names no region: the AWS host's, else us-east-1.
        region: str | tuple[str, ...] = self.region or (auth.regions if auth.version == "v4a" else
                                                        (auth.regions or (infer_scope(host)[1] or "us-east-1",))[0])
        try:
            # SigV4a's region set may be "*": the endpoint of a set is its first named region's.
            named = region if isinstance(region, str) else next((r for r in region if "*" not in r), "us-east-1")
            url = self._url(request, service, named, bucket)
            credentials = session.real if session else resolved(self.credentials()).credentials
            # Hop-by-hop headers stay on this hop; an answer that echoes the credentials comes uncompressed
            # to be masked (as `SigningProxy.sign` does).
            headers = forwarded_headers(request.headers, HOP_BY_HOP | {"accept-encoding"})
            outgoing = sigv4.Request(request.method, request.target, [*headers, ("Accept-Encoding", "identity")],
                                     request.body)
            signed = resign(outgoing, auth, credentials, url=url, service=service, region=region,
                            now=datetime.now(timezone.utc), decoder=decoder)
            reply = self._route(signed).forward(request, signed, credentials, started)
        except sigv4.SigningError as err:
            return self._plain(request, started, 400, f"the proxy cannot re-sign this request: {err}")
        except StreamDecodeError as err:  # a chunk failed: the upstream never got the body's end, so never acts
            return self._refuse(request, started, service, err, signer, auth.access_key_id)
        return self._swapped(request, started, reply) if swapping and reply.status == 200 else reply

    def _check(self, request: sigv4.Request, auth: sigv4.SignedAuth, creds: sigv4.Credentials | None,
               service: str, mode: str) -> ChunkedDecoder | None:
        """Verify the placeholder's signature with `creds` (`_signer`: None when its secret is not known); the
        decoder of an aws-chunked body (checking each chunk's signature with the secret, else only its framing)."""
        if creds is not None:
            identity = sigv4.verify(request, lambda key: creds if key == creds.access_key_id else None,
                                    now=datetime.now(timezone.utc), s3=service == "s3" or None)
            return decoder_for(identity, request) if mode == "chunked" else None
        if mode != "chunked":
            return None
        declared = (request.header("x-amz-decoded-content-length") or "").strip()
        return ChunkedDecoder((request.header("x-amz-content-sha256") or "").strip(), seed_signature=auth.signature,
                              scope=ChunkScope(auth.algorithm, auth.amz_date, auth.credential_scope),
                              verify=unchecked, trailer=request.header("x-amz-trailer"),
                              decoded_length=int(declared) if declared.isdigit() else None)

    def _session(self, access_key_id: str) -> _Session | None:
        """The swapped session whose placeholder key is `access_key_id`, while its credentials are valid."""
        with self._lock:
            session = self._sessions.get(access_key_id)
            if session is not None and session.expires_at <= datetime.now(timezone.utc):
                del self._sessions[access_key_id]
                session = None
        return session

    def _swapped(self, request: sigv4.Request, started: float, reply: ProxyReply) -> ProxyReply:
        """An STS answer with its temporary credentials replaced by a placeholder minted now and kept with
        them (requests the placeholder signs are re-signed with them); refused when they cannot be found."""
        minted = sigv4.Credentials("ASIA" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30),
                                   secrets.token_urlsafe(96))
        body = reply.body if isinstance(reply.body, bytes) else b"".join(reply.body)
        swapped = swap(body, minted)
        try:
            expires_at = datetime.fromisoformat(swapped.expiration.replace("Z", "+00:00")) if swapped else None
        except ValueError:
            expires_at = None
        if swapped is None or expires_at is None or expires_at.tzinfo is None:
            return self._refuse(request, started, "sts", "the answer holds credentials the proxy cannot replace")
        with self._lock:
            while len(self._sessions) >= _SESSIONS_KEPT:
                self._sessions.pop(next(iter(self._sessions)))
            self._sessions[minted.access_key_id] = _Session(
                Placeholder(minted.access_key_id, minted.secret_access_key, minted.session_token), swapped.real,
                expires_at)
        self.log(redact(f"{request.method} {request.target}: temporary credentials swapped for placeholder "
                        f"{minted.access_key_id} (until {swapped.expiration})"))
        return ProxyReply(reply.status, tuple(h for h in reply.headers if h[0].lower() != "content-length"),
                          swapped.body)

    def _url(self, request: sigv4.Request, service: str, region: str, bucket: str | None) -> str:
        """Where the request goes (see the strategy, step 3), its target included."""
        host = (request.header("host") or "").split(":")[0]
        endpoint = service_endpoint(service, service, region, self.env, self.upstream, None)[0]
        if is_aws_host(host) and endpoint == service_endpoint(service, service, region, {}, None, None)[0]:
            return _upstream_url(f"https://{host}", request.target)  # the AWS host the request names
        # Path-style at an endpoint of the operator's: a virtual-hosted bucket goes into the path.
        return _upstream_url(endpoint, f"/{bucket}{request.target}" if bucket else request.target)

    def _route(self, signed: sigv4.Request) -> SigningProxy:
        """The forwarding half for `signed`'s host: one per upstream host, each with its kept-alive connections."""
        key = f"{signed.scheme}://{signed.authority}"
        with self._lock:
            route = self._routes.get(key)
            if route is None:
                if len(self._routes) >= _ROUTES_KEPT:
                    self._routes.pop(next(iter(self._routes)))
                route = self._routes[key] = SigningProxy(key, "", "", self.credentials, self.env, self.log,
                                                         self.options)
        return route

    def _connect(self, request: sigv4.Request, started: float) -> ProxyReply | _TunnelReply:
        if self.authority is None:
            return self._plain(request, started, 501, tunnel_refusal(self.upstream or "AWS", request.target)
                               + " (or run it with --intercept)")
        host = connect_host(request.target)
        if host is None:
            return self._plain(request, started, 403, f"CONNECT {request.target}: not an AWS host name on port 443; "
                                                      "sigv4 proxy --intercept tunnels nothing blind")
        authority, timeout = self.authority, self.client_timeout
        self.log(f"CONNECT {request.target} 200 {_ms(started)} ms: TLS terminated as {host}")
        return _TunnelReply(lambda sock: authority.wrap(sock, host, timeout))

    def _refuse(self, request: sigv4.Request, started: float, service: str | None,
                why: VerificationError | StreamDecodeError | str, signer: sigv4.Credentials | None = None,
                key_id: str = "") -> ProxyReply:
        """AWS's answer, in the request's protocol, to a request refused `why`: a failed check of the placeholder
        identity (`signer`, when its secret is known; an aws-chunked body's, signed by `key_id`), logged with the
        debugger's first cause as the guard logs it, or (text) an action the boundary does not allow
        (`AccessDenied`)."""
        envelope = envelope_for(request, service or None)
        if isinstance(why, VerificationError):
            error = fault_for(why, request, envelope, datetime.now(timezone.utc))
            cause = refusal_cause(request, why, error, envelope, signer, "--accept")
        elif isinstance(why, StreamDecodeError):
            error, cause = chunk_fault(why, key_id), str(why)
        else:
            error, cause = ServiceError(_ACCESS_DENIED.get(envelope, "AccessDenied"), why, 403), why
        status, headers, body = render(error, envelope, str(uuid.uuid4()))
        self.log(log_line(request, status, started, f"refused {error.code}: {cause}", signer))
        return ProxyReply(status, headers, body)

    def _plain(self, request: sigv4.Request, started: float, status: int, message: str) -> ProxyReply:
        self.log(log_line(request, status, started, message))
        return ProxyReply(status, (("Content-Type", "text/plain; charset=utf-8"),), message.encode("utf-8") + b"\n")


def _is_form(headers: Iterable[tuple[str, str]]) -> bool:
    return any(name.lower() == "content-type" and value.split(";")[0].strip().lower() == FORM_CONTENT_TYPE
               for name, value in headers)


def _signer(request: sigv4.Request, placeholder: Placeholder) -> sigv4.Credentials | None:
    """The credentials a placeholder with a secret signs with (the token its request carries, unless the
    placeholder has its own), or None: without a secret, its signatures are not checked."""
    if placeholder.secret is None:
        return None
    token = request.header("x-amz-security-token") or next(  # S3's SigV2 URL writes it lowercase
        (v for k, v in parse_qsl(request.query) if k.lower() == "x-amz-security-token"), None)
    return sigv4.Credentials(placeholder.access_key_id, placeholder.secret, placeholder.token or token)


def resigning_proxy(args: argparse.Namespace, env: Mapping[str, str], log: Callable[[str], None],
                    options: TransportOptions) -> tuple[ResigningProxy, ResolvedCredentials, list[str]]:
    """The `--resign` app from the parsed flags, its starting credentials (resolved now, so that a missing
    chain fails at start) and the lines to print at start. Raises ValueError (a bad flag; UpstreamError is one),
    `sigv4.SigningError` (no credentials)."""
    if not args.accept:
        raise ValueError("--resign: name the placeholder identities with --accept KEY_ID[:SECRET] (at least one)")
    accept = {p.access_key_id: p for p in map(parse_accept, args.accept)}
    provider = default_chain(args.profile, env)
    first = provider()
    authority = None
    if args.intercept:
        from wire.service.app import state_dir
        authority = CertificateAuthority(Path(args.ca_dir) if args.ca_dir else state_dir(env) / "proxy-ca",
                                         lambda: datetime.now(timezone.utc))
    app = ResigningProxy(accept, tuple(args.allow), args.upstream, args.service, args.region, provider, env, log,
                         options, authority, args.client_timeout)
    lines = [f"re-signing requests signed by {', '.join(accept)} with credentials from {first.source}"
             + (f"; allowed: {', '.join(args.allow)}" if args.allow else "")
             + f"; upstream {args.upstream or 'the standard AWS endpoint of each request'}"]
    if authority is not None:
        lines.append(f"HTTPS_PROXY mode: CA certificate {authority.certificate_path} (set AWS_CA_BUNDLE to it)")
    return app, first, lines
