"""Payload hashes: the last line of every canonical request.

Strategy: bytes are hashed directly; a stream is hashed incrementally in
fixed-size reads, so memory stays flat whatever the body size. A seekable
file is rewound to where it started, so the same object can be sent after
signing; a one-shot iterator cannot be, so the caller hashes it with
`payload_hash()` first (or signs it unsigned or as a STREAMING-* payload).
"""

from __future__ import annotations

import hashlib
import re

from .errors import InvalidParameterError
from .types import Body, check_body, iter_body

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}\Z")
# The STREAMING-* names AWS defines are capitals, digits and dashes; anything
# else would reach a header value and the canonical request unchecked.
_STREAMING = re.compile(r"STREAMING-[A-Z0-9-]+\Z")
_READ_SIZE = 1 << 20


def payload_hash(body: Body) -> str:
    """SHA-256 hex of a body; streams are read in 1 MiB pieces."""
    if isinstance(body, (bytes, bytearray, memoryview)):
        return hashlib.sha256(body).hexdigest()
    digest = hashlib.sha256()
    for chunk in iter_body(body, _READ_SIZE):
        digest.update(chunk)
    return digest.hexdigest()


def resolve_payload(body: Body, payload: str | None) -> str:
    """The payload-hash line for a request: given, or computed from the body.

    `payload` may be None (hash the body), `UNSIGNED-PAYLOAD`, a `STREAMING-*`
    constant, or a lowercase hex SHA-256 the caller computed.
    """
    if payload is not None:
        if not isinstance(payload, str):
            raise InvalidParameterError(f"payload: expected a str or None, got {type(payload).__name__}")
        if payload == UNSIGNED_PAYLOAD or _STREAMING.match(payload) or _HEX_DIGEST.match(payload):
            return payload
        raise InvalidParameterError(
            f"payload: {payload!r} is neither None, 'UNSIGNED-PAYLOAD', a STREAMING-* value (capitals, digits, '-') "
            "nor a lowercase hex SHA-256 digest"
        )
    if isinstance(body, (bytes, bytearray, memoryview)):
        return hashlib.sha256(body).hexdigest()
    check_body(body)
    seek, tell = getattr(body, "seek", None), getattr(body, "tell", None)
    seekable = getattr(body, "seekable", lambda: False)()
    if seek is None or tell is None or not seekable:
        raise InvalidParameterError(
            "payload: the body is a one-shot stream the signer cannot rewind; pass "
            "payload=sigv4.payload_hash(...) computed beforehand, 'UNSIGNED-PAYLOAD', or a STREAMING-* payload"
        )
    start = tell()
    digest = payload_hash(body)
    seek(start)
    return digest
