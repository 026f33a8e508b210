"""What a server acts on once `verify` has accepted a request: the request decoded as bytes.

Strategy: `verified_request(request, identity)` gathers what the signature covers, decoded as a server
decodes it: the query or form by `canonical.query_bytes` (the one reading of a query, which the verifier
canonicalizes and the Account endpoint acts on through `wire.http.decode_query`), the path by RFC 3986
percent-decoding to bytes, header values trimmed of spaces and tabs. A canonical request must be a
one-to-one function of this value, so that a mutant `verify` accepts has the signed request's value
(`tests/test_verify_exact.py`, `benchmarks/fuzz_false_accept.py`). What SigV4 leaves unsigned on purpose
is left out: the order of query pairs (the canonical query sorts them), header name case and order, runs
of spaces and tabs inside a header value, `.`, `..` and empty path segments where the rules normalize
the path, the body under UNSIGNED-PAYLOAD or a streaming payload (`chunked_decode` verifies that one
chunk by chunk), and for SigV2 all but the method, Host, path and parameters. S3's SigV2 signs less: the
method, Content-MD5, Content-Type, the date (Date, or a presigned URL's Expires) and `x-amz-*` headers
(a presigned URL's `x-amz-*` parameters too) by their values trimmed, the bucket the Host names and the
path (here `/bucket/path`), the query's sub-resources, and the body only where a Content-MD5 is sent.
Repeated headers are joined with `,`, as HTTP combines field lines.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from . import canonical, v2
from .canonical import S3_SERVICES, query_bytes, wire_bytes
from .s3hosts import s3_bucket_of
from .s3v2 import SUBRESOURCES
from .payload import UNSIGNED_PAYLOAD
from .types import Request
from .verify import UNSIGNED_TOKEN_SERVICES, Identity

_RUNS = re.compile(rb"[ \t]+")


@dataclass(frozen=True, slots=True)
class VerifiedRequest:
    """The decoded request a server acts on, as far as a signature covers it (see the module docstring)."""

    method: str
    #: The path's bytes, percent-escapes decoded (normalized first where the rules normalize).
    path: bytes
    #: (name, value) bytes, sorted; SigV2: its parameters, from the query or the form body, Signature left out.
    query: tuple[tuple[bytes, bytes], ...]
    #: The signed headers: (lowercase name, value bytes as `_header_values` reads them), sorted. SigV2: Host,
    #: lowercased.
    headers: tuple[tuple[str, bytes], ...]
    #: The body, or None when the signature does not cover it.
    body: bytes | None


def verified_request(request: Request, identity: Identity, *, s3: bool | None = None,
                     normalize_path: bool | None = None, plus_is_space: bool = False,
                     omit_session_token: bool = False) -> VerifiedRequest:
    """The `VerifiedRequest` of a request `verify` accepted as `identity`, read with the options `verify` was
    given (the same defaults). Raises SigningError for a lone surrogate that stands for no byte.
    """
    if identity.version == "v2":
        return _v2(request)
    if identity.version == "s3v2":
        return _s3v2(request, identity.presigned, plus_is_space)
    s3 = identity.service in S3_SERVICES if s3 is None else s3
    path, _, query = request.target.partition("?")
    if (not s3) if normalize_path is None else normalize_path:
        path = canonical.normalize_path(path)
    unsigned_token = omit_session_token or identity.service in UNSIGNED_TOKEN_SERVICES  # as verify reads it
    dropped = {b"X-Amz-Signature", b"X-Amz-Security-Token"} if unsigned_token else {b"X-Amz-Signature"}
    pairs = [p for p in query_bytes(query, plus_is_space=plus_is_space) if not (identity.presigned and p[0] in dropped)]
    headers = request.headers
    if request.header("host") is None and request.scheme:
        headers = (*headers, ("Host", request.authority))
    signed = {name.lower() for name in identity.signed_headers}
    body = request.body
    # The payload line verify returned is a body hash unless it says the body is unsigned or streamed.
    hashed = identity.payload_hash != UNSIGNED_PAYLOAD and not identity.payload_hash.startswith("STREAMING-")
    signed_body = bytes(body) if hashed and isinstance(body, (bytes, bytearray, memoryview)) else None
    return VerifiedRequest(request.method, _path_bytes(path), tuple(sorted(pairs)), _header_values(headers, signed),
                           signed_body)


def _header_values(headers: Iterable[tuple[str, str]], names: Collection[str]) -> tuple[tuple[str, bytes], ...]:
    """(lowercase name, value) of the headers named in `names`: each value trimmed of spaces and tabs and
    their inner runs made one space, repeats joined with `,`, sorted by name."""
    values: dict[str, list[bytes]] = {}
    for name, value in headers:
        if name.lower() in names:
            values.setdefault(name.lower(), []).append(_RUNS.sub(b" ", wire_bytes(value, name).strip(b" \t")))
    return tuple(sorted((name, b",".join(parts)) for name, parts in values.items()))


def _v2(request: Request) -> VerifiedRequest:
    if v2.params_in_body(request):
        body = request.body
        form = bytes(body) if isinstance(body, (bytes, bytearray, memoryview)) else b""
        params = query_bytes(form.decode("utf-8", "surrogateescape"), plus_is_space=True)
    else:
        params = query_bytes(request.query)
    signed = tuple(sorted(p for p in params if p[0] != b"Signature"))
    hosts = tuple([(name, value.lower()) for name, value in _header_values(request.headers, {"host"})])
    return VerifiedRequest(request.method, _path_bytes(request.path), signed, hosts, None)


def _s3v2(request: Request, presigned: bool, plus_is_space: bool) -> VerifiedRequest:
    bucket = s3_bucket_of(request.header("host") or request.authority)
    path = (f"/{bucket}".encode() if bucket else b"") + _path_bytes(request.path)
    if path.count(b"/") == 1 and path != b"/":  # the bucket alone: S3 reads `/bucket` as `/bucket/`
        path += b"/"
    pairs = query_bytes(request.query, plus_is_space=plus_is_space)
    lines = [(name.lower(), value) for name, value in request.headers
             if name.lower() in ("content-md5", "content-type", "date") or name.lower().startswith("x-amz-")]
    if presigned:
        lines = [(name, value) for name, value in lines if name != "date"]
        lines += [(name.decode("utf-8", "surrogateescape").lower(), value.decode("utf-8", "surrogateescape"))
                  for name, value in pairs if name.lower().startswith(b"x-amz-") or name == b"Expires"]
    elif any(name == "x-amz-date" for name, _ in lines):  # the Date header is then not signed
        lines = [(name, value) for name, value in lines if name != "date"]
    values: dict[str, list[bytes]] = {}
    for name, value in lines:
        values.setdefault(name, []).append(wire_bytes(value, name).strip(b" \t"))
    headers = tuple(sorted((name, b",".join(parts)) for name, parts in values.items()))
    subresources = tuple(sorted(p for p in pairs if p[0].decode("utf-8", "surrogateescape") in SUBRESOURCES))
    body = request.body if request.header("content-md5") is not None else None
    return VerifiedRequest(request.method, path, subresources, headers,
                           bytes(body) if isinstance(body, (bytes, bytearray, memoryview)) else None)


def _path_bytes(path: str) -> bytes:
    return unquote_to_bytes(wire_bytes(path or "/", "path"))
