"""Re-signing: a request signed with one identity, signed again with another, as its sender signed it.

Strategy: what the sender chose is read from the request itself and kept;
only the credentials (and the time, for header signatures) change. The
parsed claim (`sigv4.parse_auth`) says the algorithm (SigV4, SigV4a with its
region set, SigV2 with its signature method) and where the signature sits
(a header, or the query of a presigned URL, which is presigned again with the
same signing time and `X-Amz-Expires`, so it expires when it did). The
`x-amz-content-sha256` the sender declared says the payload mode, one row of
`PayloadMode`:
- a SHA-256 in hex or `UNSIGNED-PAYLOAD`: signed as declared, the body passed
  through unread (the upstream checks a hash against the bytes);
- an aws-chunked form (`STREAMING-...`): the body is decoded as it streams
  (`sigv4.chunked_decode`, one chunk held, its frames checked with the
  decoder's verifier) and encoded again by `sigv4.sign` in the same form, new
  seed, chunk and trailer signatures, the trailer's checksum the one the
  decoder verified against the data (not computed twice). The
  new chunks have the size of the sender's first one (read before the
  request is signed: the encoded Content-Length depends on it), so a sender's
  chunks of one size pass uncopied, one frame for one, and a chunk whose
  signature the decoder verified brings its SHA-256 along (`HashedChunk`):
  one hash per byte serves the check and the new chunk signature;
- none (services other than S3): the body's SHA-256, from the whole body.
S3's SigV2 (`sigv4.s3v2`) is signed as S3's SigV2: a presigned URL presigned
again with the same `Expires`, a header signature with a new Date; its body
(signed only through a Content-MD5 it keeps) passes as it is.
The identity that signed is not checked here: the caller decides which
placeholders it accepts (and verifies their signatures) before re-signing.

Pure: time, credentials and bytes are arguments.
"""

from __future__ import annotations

import re
import base64
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from itertools import chain
from datetime import datetime
from typing import Literal

from .canonical import DEFAULT_UNSIGNED_HEADERS, S3_SERVICES
from .chunked import FRAMINGS, MIN_CHUNK_SIZE
from .chunked_decode import ChunkData, ChunkedDecoder, Trailer
from .checksums import checksum_for_header
from .errors import InvalidParameterError
from .signed_auth import SignedAuth
from .signer import Algorithm, presign, sign
from .types import Body, Credentials, Request, iter_body
from . import s3v2, v2

__all__ = ["PayloadMode", "decoded_body", "payload_mode", "resign", "RESIGNED_HEADERS"]

#: What the sender's `x-amz-content-sha256` says about its body (see the strategy above).
PayloadMode = Literal["hash", "unsigned", "chunked", "whole"]
#: Headers the re-signed request does not keep: the old signature and what the signer sets anew (Host: the
#: URL's).
RESIGNED_HEADERS = frozenset({"host", "authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256",
                              "x-amz-region-set", "x-amz-decoded-content-length", "x-amz-trailer",
                              "content-length", "content-encoding"})
#: Query parameters of a presigned URL that belong to its signature.
_PRESIGN_PARAMS = frozenset({"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
                             "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token", "X-Amz-Region-Set"})
_HEX_SHA256 = re.compile(r"[0-9a-f]{64}\Z")


def payload_mode(headers: Iterable[tuple[str, str]]) -> PayloadMode:
    """The payload mode of a request with `headers` (its declared `x-amz-content-sha256`)."""
    declared = next((value.strip() for name, value in headers if name.lower() == "x-amz-content-sha256"), None)
    if declared is None:
        return "whole"
    if declared in FRAMINGS:
        return "chunked"
    if declared == "UNSIGNED-PAYLOAD":
        return "unsigned"
    if _HEX_SHA256.match(declared):
        return "hash"
    raise InvalidParameterError(f"x-amz-content-sha256: {declared[:80]!r} is not a SHA-256, UNSIGNED-PAYLOAD or "
                                "an aws-chunked form")


def decoded_body(chunks: Iterable[bytes], decoder: ChunkedDecoder,
                 trailer: Callable[[Trailer], None] = lambda _: None) -> Iterator[bytes]:
    """The data of an aws-chunked body as `decoder` releases it, chunk by chunk, its verified trailer given to
    `trailer`; raises `StreamDecodeError` (from the decoder) on a bad frame, signature, checksum, or a body cut
    short."""
    for piece in chunks:
        for event in decoder.feed(piece):
            if isinstance(event, ChunkData) and event.data:
                yield event.data
            elif isinstance(event, Trailer):
                trailer(event)
    decoder.close()


class _Verified:
    """A trailing checksum already verified against the data (by the decoder): its value, no second pass."""

    def __init__(self) -> None:
        self.value = b""

    def update(self, data: object) -> None:
        pass

    def digest(self) -> bytes:
        return self.value

    def take(self, trailer: Trailer) -> None:
        self.value = base64.b64decode(trailer.headers[0][1])


def _without_presign(target: str) -> str:
    path, mark, query = target.partition("?")
    kept = [part for part in query.split("&") if part and part.split("=", 1)[0] not in _PRESIGN_PARAMS]
    return path + ("?" + "&".join(kept) if kept else "")


def resign(request: Request, auth: SignedAuth, credentials: Credentials, *, url: str, service: str,
           region: str | tuple[str, ...], now: datetime, decoder: ChunkedDecoder | None = None,
           presigned: bool = True) -> Request:
    """`request` (as received, signed as `auth` says) at `url` (the upstream's scheme://host/path?query,
    the presigned parameters dropped), signed with `credentials` the same way: same algorithm and payload
    mode; a presigned URL with the same signing time and expiry; a header signature at `now`. `region` is
    a region, or (SigV4a) a region set; `presigned=False` signs a presigned URL's request by its header
    instead (for an emulator that reads only the Authorization header). An aws-chunked body is decoded by `decoder` (required then), its
    first chunk read here. Returns the signed request, its body lazy where the mode streams. Raises
    `SigningError` subclasses; `StreamDecodeError` (from the decoder) when the first chunk is at fault.
    """
    headers = [(n, v) for n, v in request.headers if n.lower() not in RESIGNED_HEADERS]
    kept_encoding = [c.strip() for c in (request.header("content-encoding") or "").split(",")
                     if c.strip() and c.strip().lower() != "aws-chunked"]
    if kept_encoding:
        headers.append(("Content-Encoding", ",".join(kept_encoding)))
    s3 = service in S3_SERVICES
    algorithm: Algorithm = "v4a" if auth.version == "v4a" else "v4"
    regions = region if isinstance(region, str) else ",".join(region)
    if auth.version == "s3v2":
        return _resign_s3v2(request, auth, credentials, url, headers, now, presigned)
    if auth.version == "v2":
        body = b"".join(iter_body(request.body))
        unsigned = Request(request.method, url, [*headers, ("Content-Length", str(len(body)))] if body else headers,
                           body)
        method: v2.SignatureMethod = "HmacSHA1" if auth.algorithm == "HmacSHA1" else "HmacSHA256"
        return v2.sign(unsigned, credentials, timestamp=now, signature_method=method).request
    if auth.presigned and not presigned:
        url = _without_presign(url)
    elif auth.presigned:
        expires = int((auth.expires_at - auth.signing_time).total_seconds()) if auth.expires_at else None
        length = request.header("content-length")  # a streamed upload's framing, as sent (S3 refuses chunked)
        if length is not None:
            headers.append(("Content-Length", length))
        outgoing = Request(request.method, _without_presign(url), headers, request.body)
        # The headers the sender left unsigned stay unsigned (a URL is presigned for whoever fetches it).
        left_unsigned = DEFAULT_UNSIGNED_HEADERS | {n.lower() for n, _ in headers if n.lower() not in auth.signed_headers}
        return presign(outgoing, credentials, region=regions, service=service, timestamp=auth.signing_time,
                       expires=expires, algorithm=algorithm, s3=s3, unsigned_headers=left_unsigned).request
    mode = payload_mode(request.headers)
    length = request.header("content-length")
    if mode == "chunked":
        if decoder is None:
            raise InvalidParameterError("decoder: required to re-sign an aws-chunked body")
        declared = request.header("x-amz-content-sha256") or ""
        framing = FRAMINGS[declared.strip()]
        payload = framing.payload
        if framing.signed:  # the chunks are signed by the new seed's algorithm
            payload = payload.replace("ECDSA-P256-SHA256" if algorithm == "v4" else "HMAC-SHA256",
                                      "HMAC-SHA256" if algorithm == "v4" else "ECDSA-P256-SHA256")
        trailer = checksum_for_header(request.header("x-amz-trailer") or "")
        headers.append(("X-Amz-Decoded-Content-Length", request.header("x-amz-decoded-content-length") or ""))
        verified = _Verified()
        data = decoded_body(iter_body(request.body), decoder, verified.take)
        first = next(data, b"")  # the sender's chunk size (its frames verified; a frame fault raises here)
        outgoing = Request(request.method, url, headers, chain((first,) if first else (), data))
        return sign(outgoing, credentials, region=regions, service=service, timestamp=now, algorithm=algorithm,
                    s3=s3, payload=payload, chunk_size=max(len(first), MIN_CHUNK_SIZE),
                    trailer_checksum=replace(trailer, new=lambda: verified) if framing.trailer and trailer else None
                    ).request
    if mode == "whole":
        whole: Body = b"".join(iter_body(request.body))
        payload_hash = None
    else:
        whole = request.body
        payload_hash = "UNSIGNED-PAYLOAD" if mode == "unsigned" else (request.header("x-amz-content-sha256") or "")
    if length is not None:
        headers.append(("Content-Length", length))
    outgoing = Request(request.method, url, headers, whole)
    return sign(outgoing, credentials, region=regions, service=service, timestamp=now, algorithm=algorithm, s3=s3,
                payload=payload_hash, content_sha256_header=mode != "whole" or s3).request


def _resign_s3v2(request: Request, auth: SignedAuth, credentials: Credentials, url: str,
                 headers: list[tuple[str, str]], now: datetime, presigned: bool) -> Request:
    """S3's SigV2 again (see `resign`): the URL without the old signature's parameters, the headers without
    its Date (a header signature is dated anew)."""
    length = request.header("content-length")
    kept = [(n, v) for n, v in headers if n.lower() != "date"]
    outgoing = Request(request.method, s3v2.without_auth(url), kept + [("Content-Length", length)] if length else kept,
                       request.body)
    if auth.presigned and presigned and auth.expires_at is not None:
        return s3v2.presign(outgoing, credentials, expires=int(auth.expires_at.timestamp())).request
    return s3v2.sign(outgoing, credentials, timestamp=now).request
