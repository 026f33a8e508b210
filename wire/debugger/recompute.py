"""Our canonical request and string-to-sign, rebuilt from the captured request.

Strategy: the signed request declares everything our side needs (algorithm,
credential scope, signed-header list, request time, payload hash), so
`our_view` turns it and its `SignatureParams` into a `wire.debugger.mistakes.View`
that renders our canonical request without any secret; `string_to_sign` adds
the scope and hash. The query is read as `sigv4.verify` reads it (without the
signature, and without a token the service reads unsigned). With a secret,
`signature_test` is the predicate "this string-to-sign gives the signature
sent": an HMAC compare for SigV4, a public-key verification for SigV4a.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from urllib.parse import unquote

from sigv4 import v4a
from sigv4.canonical import S3_SERVICES, CanonicalRules
from sigv4.keys import signature_hex, signing_key
from sigv4.payload import UNSIGNED_PAYLOAD, payload_hash
from sigv4.types import Credentials, Request
from sigv4.verify import UNSIGNED_TOKEN_SERVICES
from wire.debugger.mistakes import View
from wire.debugger.signature_params import SignatureParams


def _signed_query(query: str, service: str) -> str:
    """The query the signature covers: without X-Amz-Signature, and without the session token for a service
    that reads it unsigned (AWS IoT: the client appends it after signing), as `sigv4.verify` reads them."""
    dropped = {"X-Amz-Signature", "X-Amz-Security-Token"} if service in UNSIGNED_TOKEN_SERVICES else {"X-Amz-Signature"}
    return "&".join(p for p in query.split("&") if p and unquote(p.partition("=")[0]) not in dropped)


def our_payload_hash(request: Request, params: SignatureParams, body_known: bool) -> str | None:
    """The payload line our side signs; None when the capture does not show the body and nothing declares it."""
    declared = request.header("x-amz-content-sha256")
    if declared:
        return declared
    if params.presigned and params.service in S3_SERVICES:
        return UNSIGNED_PAYLOAD
    if not body_known:
        return None
    return payload_hash(request.body)


#: Stands for a payload hash the capture cannot give (never equal to a real one).
_UNKNOWN_PAYLOAD = "<body not in the capture>"


def our_view(request: Request, params: SignatureParams, payload: str | None, body_known: bool = True) -> View:
    """Our view of `request`: what SigV4 canonicalizes, with `payload` as its payload line (a placeholder when None)
    and its body only when the capture shows it (`body_known`)."""
    s3 = params.service in S3_SERVICES
    return View(
        method=request.method, path=request.path, query=_signed_query(request.query, params.service),
        headers=tuple((n.lower(), v) for n, v in request.headers), signed=params.signed_headers,
        payload_hash=payload or _UNKNOWN_PAYLOAD,
        rules=CanonicalRules(normalize_path=not s3, double_encode=not s3),
        body=request.body if isinstance(request.body, bytes) and payload is not None and body_known else None,
    )


def string_to_sign(params: SignatureParams, canonical: str, scope: str | None = None) -> str:
    """Our string-to-sign over `canonical`, for the declared scope or `scope`."""
    # surrogateescape: a query byte that is not UTF-8 decodes to a lone surrogate (sigv4.canonical.query_pairs).
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogateescape")).hexdigest()
    return f"{params.algorithm}\n{params.amz_date}\n{scope or params.scope}\n{digest}"


def sha256_hex(text: str) -> str:
    """The hex SHA-256 of a canonical request, encoded as `string_to_sign` encodes it."""
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()  # see string_to_sign


def _same_signature(computed: str, sent: str) -> bool:
    """Constant-time. Compared as bytes: a captured signature may hold any text, and
    compare_digest raises on a non-ASCII str."""
    return hmac.compare_digest(computed.encode("utf-8"), sent.encode("utf-8"))


SignatureTest = Callable[[str], bool]


def signature_test(secret: str, params: SignatureParams, date: str | None = None, region: str | None = None,
                    service: str | None = None) -> SignatureTest:
    """A predicate: does this string-to-sign, signed with the secret, give the signature sent?

    SigV4 derives its key from the scope (overridable, for the scope mistakes);
    SigV4a signatures are random, so they are verified with the derived public key.
    """
    if params.v4a:
        key_pair = v4a.key_pair(Credentials(params.access_key_id, secret))
        return lambda text: v4a.verify_string(key_pair, text, params.signature)
    key = signing_key(secret, date or params.scope_date, region or params.region, service or params.service)
    return lambda text: _same_signature(signature_hex(key, text), params.signature)
