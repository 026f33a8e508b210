"""The signature guard behind `sigv4 proxy --verify`: AWS's signature checks in front of a local emulator.

Strategy: a streaming app for the edge's server (`wire.transport.server`, as
the signing proxy is). Each request is verified now with `sigv4.verify`
against the identities of an accounts file (15 minutes of skew, presigned
expiry, session tokens, S3's rules for S3's scopes), exactly as AWS would;
a refusal is answered in the envelope of the request's protocol with AWS's
code, status and words (`wire.auth_refusal`), and logged with the
debugger's first cause (`wire.debugger.diagnose`, given the identity's
secret, so the cause is proved where the search can prove it). A verified
request goes to the upstream unchanged (its signature, Host and body as
sent, hop-by-hop headers dropped), its answer relayed as it arrives. What
the head decides (`screen`, `sigv4.verify.verify_head`) is refused before
the body is asked for or read, as S3 answers `Expect: 100-continue`.

Bodies: the upstream never receives the whole of a body that fails. A body
without `x-amz-content-sha256` is held whole (the server's body limit bounds
it) and verified with the request. One with it and a Content-Length is
relayed as it arrives (`relays_body`): a hashed one (`hashed_body`) with its
last piece held back until its SHA-256 and checksum headers match; an
aws-chunked one (`verified_chunks`) with a chunk's raw bytes going on only
once its signature verified and the next chunk began, the last data chunk
only once the final chunk and the trailer (signature, checksum) verified;
`UNSIGNED-PAYLOAD` as it is (nothing in it is signed). At the first fault
the upstream connection is closed mid-body (HTTP has no other way to
withdraw a request, and a server cannot act on a body that never ended) and
the client gets S3's refusal. Memory is at most two chunks. An edge module:
the clock, entropy (request ids) and sockets.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from datetime import datetime, timezone

import sigv4
from sigv4.checksums import ChecksumAlgorithm, checksum_for_header, encoded
from sigv4.chunked_decode import ChunkData, ChunkedDecoder, decoder_for
from sigv4.errors import InvalidParameterError, StreamDecodeError, VerificationError
from sigv4.payload import UNSIGNED_PAYLOAD
from sigv4.types import iter_body
from sigv4.resign import resign
from sigv4.verify import Identity, parse_auth, verify, verify_head
from wire.auth_refusal import (
    MAX_SKEW, Envelope, bad_digest, chunk_fault, envelope_for, expired_token, fault_for, render, sha256_mismatch,
    too_large,
)
from wire.debugger.refusal_cause import refusal_cause
from wire.errors import ServiceError
from wire.service.app import load_accounts
from wire.service.identities import ConfigError, Directory
from wire.transport.client import Connection, NetworkError, RequestError, TransportOptions
from wire.transport.framing import UNREAD, Refusal
from wire.transport.proxy import (HOP_BY_HOP, ProxyReply, UpstreamError, forwarded_headers, has_body, log_line,
                                  presigned_s3)
from wire.transport.signing import FlagError
from wire.transport.upstream import Upstreams


def add_guard_flags(parser: argparse.ArgumentParser) -> None:
    """`sigv4 proxy`'s flags of the guard mode."""
    group = parser.add_argument_group("signature guard: verify every request as AWS does, forward it unchanged")
    group.add_argument("--verify", action="store_true", help="verify each request's signature against --accounts; "
                       "refuse failures with AWS's own error (--service: only the envelope of unsigned requests)")
    group.add_argument("--accounts", metavar="FILE", help="identities: `sigv4 serve`'s accounts file, or "
                       '{"ACCESS_KEY_ID": "SECRET" | ["SECRET", "SESSION_TOKEN"]}')
    group.add_argument("--resign-for", metavar="KEY_ID:SECRET[:TOKEN]", help="re-sign verified requests with "
                       "these credentials (an upstream that checks signatures with keys of its own), instead of "
                       "forwarding them unchanged")


def guard_for(args: argparse.Namespace, log: Callable[[str], None],
              options: TransportOptions) -> tuple[SignatureGuard, Callable[[str], str]]:
    """(the guard, its start line given the server's URL) for `sigv4 proxy --verify`'s flags. Raises `FlagError`
    (no or a bad --accounts, a bad --upstream)."""
    if not args.accounts:
        raise FlagError("--verify needs --accounts FILE (the identities whose signatures pass)")
    try:
        guard = SignatureGuard(args.upstream, load_accounts(args.accounts), log, options, args.service,
                               _credentials(args.resign_for))
    except ConfigError as err:
        raise FlagError(f"--accounts {err}") from None
    except UpstreamError as err:
        raise FlagError(str(err)) from None
    return guard, lambda url: (
        f"sigv4 proxy --verify: {url} -> {args.upstream} ({len(guard.directory.principals)} identities from "
        f"{args.accounts}; bodies up to {args.max_body_bytes} bytes, --max-body-bytes, except those with "
        "x-amz-content-sha256, streamed)")


def _credentials(text: str | None) -> sigv4.Credentials | None:
    """--resign-for's KEY_ID:SECRET[:TOKEN] (a secret holds no `:`), or None. Raises `FlagError`."""
    if text is None:
        return None
    parts = text.split(":", 2)
    if len(parts) < 2 or not all(parts):
        raise FlagError("--resign-for: expected KEY_ID:SECRET or KEY_ID:SECRET:SESSION_TOKEN")
    return sigv4.Credentials(*parts)




class _Refused(Exception):
    """A request the guard answers itself: the AWS error, in the envelope of the request's protocol."""

    def __init__(self, error: ServiceError, envelope: Envelope, cause: str) -> None:
        super().__init__(error.code)
        self.error, self.envelope, self.cause = error, envelope, cause


def _payload(headers: Iterable[tuple[str, str]]) -> str:
    return next((value.strip() for name, value in headers if name.lower() == "x-amz-content-sha256"), "")


def verified_chunks(raw: Iterable[bytes], decoder: ChunkedDecoder) -> Iterator[bytes]:
    """The raw bytes of an aws-chunked body, each chunk's frame released once `decoder` has verified it and the
    one after it began, the rest once the whole body (final chunk, trailer) verified. Raises
    `StreamDecodeError` at the first fault: what was released before is the body's verified beginning."""
    held, start = bytearray(), 0  # `held` begins at offset `start` of the encoded body
    for piece in raw:
        held += piece
        for event in decoder.feed(piece):
            if isinstance(event, ChunkData) and event.offset > start:  # the frames before it are verified
                yield bytes(held[:event.offset - start])
                del held[:event.offset - start]
                start = event.offset
    decoder.close()
    if held:
        yield bytes(held)


def hashed_body(raw: Iterable[bytes], declared: str, checksums: Sequence[tuple[ChecksumAlgorithm, str]]) -> Iterator[bytes]:
    """The pieces of a body whose SHA-256 `declared` was signed, the last held back until the whole body's
    SHA-256 and its `checksums` (algorithm, base64 value from its header) match. Raises `_Refused` (S3's
    XAmzContentSHA256Mismatch, BadDigest) when one does not: what was released is not the whole body."""
    sha256, summers = hashlib.sha256(), [(algorithm, value, algorithm.new()) for algorithm, value in checksums]
    last = b""
    for piece in raw:
        if last:
            yield last
        sha256.update(piece)
        for _, _, summer in summers:
            summer.update(piece)
        last = piece
    if not hmac.compare_digest(sha256.hexdigest(), declared):
        raise _Refused(sha256_mismatch(declared, sha256.hexdigest()), "s3", "payload-hash: the body's SHA-256 is "
                       "not the signed x-amz-content-sha256")
    for algorithm, value, summer in summers:
        if not hmac.compare_digest(encoded(summer), value.strip()):
            raise _Refused(bad_digest(algorithm.name), "s3", f"checksum: {algorithm.header} does not match the body")
    if last:
        yield last


@dataclass
class SignatureGuard:
    """The app: `respond(request, peer)` verifies one request, then forwards it or answers AWS's refusal."""

    upstream: str  # scheme://host[:port][/base path]
    directory: Directory
    log: Callable[[str], None]
    options: TransportOptions = field(default_factory=TransportOptions)
    #: The service whose envelope answers a request that names none (no readable credential scope).
    service: str | None = None
    #: Credentials to re-sign verified requests with (None: forwarded unchanged).
    resign_for: sigv4.Credentials | None = None
    streaming: bool = True
    _upstreams: Upstreams = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._upstreams = Upstreams(self.options, {}, self.log)
        target = sigv4.Request("GET", self.upstream)
        if target.scheme not in ("http", "https") or not target.authority:
            raise UpstreamError(f"--upstream {self.upstream!r}: expected http(s)://host[:port][/path]")

    def relays_body(self, headers: Sequence[tuple[str, str]], target: str = "") -> bool:
        """Whether the body streams through as it arrives (see the module's strategy): one whose
        x-amz-content-sha256 (S3's, aws-chunked's) says how to check it on the way, or sent to an S3 presigned
        URL (`target`: S3 signs none of it), with a Content-Length or `Transfer-Encoding: chunked` (the
        JavaScript SDK's aws-chunked uploads)."""
        return (bool(_payload(headers)) or presigned_s3(target)) and has_body(headers)

    def respond(self, request: sigv4.Request, source_ip: str) -> ProxyReply:
        started = time.perf_counter()
        unread = request.body is UNREAD
        if not unread and not self.relays_body(request.headers, request.target):
            request = sigv4.Request(request.method, request.target, request.headers, b"".join(iter_body(request.body)))
        try:
            if unread:
                self._unread(request)
            identity, body, decoder = self._admit(request, datetime.now(timezone.utc))
            return self._forward(request, identity, body, decoder, started)
        except _Refused as refused:
            request_id = os.urandom(8).hex().upper()
            status, headers, data = render(refused.error, refused.envelope, request_id, os.urandom(24).hex())
            self.log(log_line(request, status, started, f"refused {refused.error.code}: {refused.cause}"))
            return ProxyReply(status, headers, data)

    def _unread(self, request: sigv4.Request) -> None:
        """Raise `_Refused` for a request answered from its head (`screen`), its body never read: the head's
        refusal, or, when the head passes by now (its date came within the skew since), IncompleteBody; such a
        request is never forwarded, its body being none of what the client signed and sent."""
        identity = self._verified(request, datetime.now(timezone.utc), verify_head)
        envelope = envelope_for(request, identity.service if identity is not None else self.service)
        raise _Refused(ServiceError("IncompleteBody", "The request was answered from its head, its body unread; "
                                    "send it again.", 400), envelope, "body-unread: the head was refused before the "
                       "body was sent, and passes only now")

    def screen(self, request: sigv4.Request) -> bool:
        """Whether `request`'s head alone is refused (its body unread: `verify_head`), as S3 answers an
        `Expect: 100-continue` before the body is sent; `respond` then answers the refusal."""
        try:
            # The refusal itself is answered by `respond`, which diagnoses it then: no cause needed here.
            self._verified(request, datetime.now(timezone.utc), verify_head, diagnose=False)
        except _Refused:
            return True
        return False

    def too_large(self, request: sigv4.Request, message: str) -> ProxyReply:
        """The server's 413 for `request`'s body, in its protocol's envelope (S3's EntityTooLarge)."""
        try:
            service = parse_auth(request).service or self.service
        except VerificationError:
            service = self.service
        envelope = envelope_for(request, service)
        status, headers, data = render(too_large(envelope, message), envelope, os.urandom(8).hex().upper(),
                                       os.urandom(24).hex())
        return ProxyReply(status, headers, data)

    def _verified(self, request: sigv4.Request, now: datetime, check: Callable[..., Identity | None] = verify,
                  diagnose: bool = True) -> Identity | None:
        """Who signed `request`, as it claims (None: `check`, `verify_head`, needs the body); raises `_Refused`,
        whose cause is the debugger's diagnosis when `diagnose`, else left empty."""
        try:
            identity = check(request, self.directory.lookup, now=now, max_skew=MAX_SKEW)
        except VerificationError as err:
            envelope = envelope_for(request, err.auth.service if err.auth else self.service)
            error = fault_for(err, request, envelope, now)
            secret = self.directory.lookup(err.auth.access_key_id) if err.auth else None
            cause = refusal_cause(request, err, error, envelope, secret, "--accounts") if diagnose else ""
            raise _Refused(error, envelope, cause) from None
        if identity is not None and self.directory.principals[identity.access_key_id].expired(now):
            envelope = envelope_for(request, identity.service)
            raise _Refused(expired_token(envelope), envelope, "token-expired: the identity's session token is past "
                           "its expiration")
        return identity

    def _admit(self, request: sigv4.Request, now: datetime) -> tuple[Identity, bytes | Iterable[bytes],
                                                                     ChunkedDecoder | None]:
        """Who signed `request` (the signature it claims), the body to forward (verified, or verifying as it goes)
        and, for an aws-chunked body to re-sign, its decoder (the body then its raw bytes); raises `_Refused`."""
        identity = self._verified(request, now)
        assert identity is not None  # `verify` returns one or raises
        envelope = envelope_for(request, identity.service)
        body = request.body
        if isinstance(body, bytes):  # held whole (see `respond`) and verified with the request
            return identity, body, None
        if not identity.payload_hash.startswith("STREAMING-"):
            if identity.payload_hash == UNSIGNED_PAYLOAD:
                return identity, iter_body(body), None
            checksums = [(algorithm, value) for name, value in request.headers
                         if (algorithm := checksum_for_header(name)) is not None]
            return identity, hashed_body(iter_body(body), identity.payload_hash, checksums), None
        try:
            decoder = decoder_for(identity, request)
        except InvalidParameterError as err:
            raise _Refused(ServiceError("InvalidRequest", f"{err}.", 400), envelope, str(err)) from None
        if self.resign_for is not None:  # re-signed: `sigv4.resign` decodes it (verifying) and encodes it anew
            return identity, body, decoder
        return identity, verified_chunks(iter_body(body), decoder), None

    def _forward(self, request: sigv4.Request, identity: Identity,
                 body: bytes | Iterable[bytes], decoder: ChunkedDecoder | None, started: float) -> ProxyReply:
        outgoing = sigv4.Request(request.method, self.upstream.rstrip("/") + request.target,
                                 forwarded_headers(request.headers, HOP_BY_HOP), body)
        connection: Connection | None = None
        try:
            if self.resign_for is not None:  # as the client signed it (`sigv4.resign`; a presigned URL by its header)
                region = identity.regions if identity.version == "v4a" else (identity.regions or ("us-east-1",))[0]
                outgoing = resign(outgoing, identity, self.resign_for, url=outgoing.url, service=identity.service,
                                  region=region, now=datetime.now(timezone.utc), decoder=decoder, presigned=False)
            connection = self._upstreams.connection(outgoing)
            response = self._upstreams.stream(connection, outgoing)
        except StreamDecodeError as err:
            if connection is not None:
                connection.close()  # the upstream saw a body that never ended: it cannot act on it
            raise _Refused(chunk_fault(err, identity.access_key_id), "s3", str(err)) from None
        except _Refused:
            if connection is not None:
                connection.close()
            raise
        except sigv4.SigningError as err:  # nothing was sent: the request cannot be signed as the client signed it
            raise _Refused(ServiceError("InvalidRequest", f"{err}.", 400), envelope_for(request, identity.service),
                           str(err)) from None
        except Refusal:  # the client's body broke off: the upstream must not wait for the rest (the server logs it)
            if connection is not None:
                connection.close()
            raise
        except (NetworkError, RequestError) as err:
            if connection is not None:
                connection.close()
            self.log(log_line(request, 502, started, f"upstream {self.upstream}: {err}"))
            return ProxyReply(502, (("Content-Type", "text/plain; charset=utf-8"),),
                              f"upstream {self.upstream}: {err}\n".encode("utf-8"))
        headers = tuple(forwarded_headers(tuple(response.headers), HOP_BY_HOP | {"date"}))
        logged = partial(self._logged, request, response.status, started)
        return ProxyReply(response.status, headers, self._upstreams.relay(response.chunks, connection, logged))

    def _logged(self, request: sigv4.Request, status: int, started: float) -> None:
        self.log(log_line(request, status, started))
