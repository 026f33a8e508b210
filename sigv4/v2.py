"""SigV2: the query-parameter signatures of the older AWS Query APIs (EC2, SQS, SDB, EMR...).

Strategy: a SigV2 request carries its authentication as ordinary parameters,
in the URL query for GET and in the `application/x-www-form-urlencoded`
body for POST. Signing collects the request's parameters, drops stale
authentication ones, adds `AWSAccessKeyId`, `SignatureVersion=2`,
`SignatureMethod`, a `Timestamp` (unless the user wrote `Timestamp` or
`Expires`) and `SecurityToken`, then HMACs the string-to-sign

    METHOD \\n lowercase host \\n path \\n sorted, encoded parameters

and appends `Signature` (base64). The user's own parameters keep their raw
text; only the added ones are encoded here (`%20` for a space, RFC 3986).
Parameters sort by name, then value, in UTF-8 byte order before encoding, as
the SigV2 documentation says (and botocore does).

Spec: https://docs.aws.amazon.com/AmazonS3/latest/API/sigv2-auth.html (the
"Query string" form, also https://docs.aws.amazon.com/general/latest/gr/signature-version-2.html).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Literal

from .canonical import check_header, check_one_host, query_pairs, uri_encode, wire_bytes
from .errors import InvalidHeaderError, InvalidParameterError, InvalidTimestampError
from .types import Credentials, Request

SignatureMethod = Literal["HmacSHA256", "HmacSHA1"]
#: SignatureMethod -> the hash HMAC runs on.
SIGNATURE_METHODS: dict[str, Callable[[], hashlib._Hash]] = {"HmacSHA256": hashlib.sha256, "HmacSHA1": hashlib.sha1}
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
#: Parameters signing owns: an old value of any of them is dropped before re-signing.
AUTH_PARAMS = frozenset({"AWSAccessKeyId", "SignatureVersion", "SignatureMethod", "SecurityToken", "Signature"})


@dataclass(frozen=True, slots=True)
class SigV2Result:
    """A SigV2-signed request and what went into its signature."""

    request: Request
    signature_method: str
    # Both hold a SecurityToken when there is one: kept out of repr.
    params: tuple[tuple[str, str], ...] = field(repr=False)  # every signed parameter, decoded, sent order
    string_to_sign: str = field(repr=False)
    signature: str  # base64
    in_body: bool  # True when the parameters travel in a form body (POST)

    @property
    def algorithm(self) -> str:
        return self.signature_method

    @property
    def url(self) -> str:
        return self.request.url


def params_in_body(request: Request) -> bool:
    """True when the request's parameters travel in a form body (POST with a form content type)."""
    content_type = (request.header("content-type") or "").partition(";")[0].strip().lower()
    return request.method.upper() == "POST" and content_type == FORM_CONTENT_TYPE


def raw_params(request: Request) -> str:
    """The raw `name=value&...` text holding the request's parameters (query or form body)."""
    if not params_in_body(request):
        return request.query
    if not isinstance(request.body, (bytes, bytearray, memoryview)):
        raise InvalidParameterError("body: a SigV2 form body must be bytes (its parameters are signed)")
    try:
        return bytes(request.body).decode("utf-8")
    except UnicodeDecodeError as err:
        raise InvalidParameterError(f"body: the form body is not UTF-8 (byte offset {err.start})") from None


def decode_params(request: Request, *, plus_is_space: bool = False) -> list[tuple[str, str]]:
    """The request's parameters, decoded; a form body always reads `+` as a space."""
    return query_pairs(raw_params(request), plus_is_space=plus_is_space or params_in_body(request))


def request_host(request: Request) -> str:
    """The host line of the string-to-sign: the Host header, else the URL authority, lowercased.

    Raises InvalidHeaderError when there is neither, when Host is sent twice (which one a server routes by
    would be a guess, so RFC 9112 3.2 has it refused) or holds control bytes or non-ASCII characters (whose
    lowercase may be ASCII: `\u212a`.lower() is `k`).
    """
    check_one_host([name.lower() for name, _ in request.headers])
    host = request.header("host") or request.authority
    if not host:
        raise InvalidHeaderError("Host: the request has no Host header and its URL is not absolute")
    check_header("Host", host)
    if not host.isascii():
        raise InvalidHeaderError(f"Host: {host[:80]!r} is not ASCII (write an international name in punycode)")
    return host.lower()


def string_to_sign(method: str, host: str, path: str, params: Iterable[tuple[str, str]]) -> str:
    """`METHOD\\nhost\\npath\\nquery`, the query sorted by raw name then value and encoded (Signature left out).

    The method is signed as sent: HTTP methods are case-sensitive, so `get` never verifies for `GET`.
    """
    query = _encode(sorted((n, v) for n, v in params if n != "Signature"))
    return f"{method}\n{host}\n{path or '/'}\n{query}"


def signature(secret_access_key: str, text: str, signature_method: str) -> str:
    """The base64 HMAC of a string-to-sign (its path bytes as a server reads them, see `wire_bytes`).

    Raises InvalidParameterError for a lone surrogate that stands for no byte."""
    digest = hmac.new(secret_access_key.encode("utf-8"), wire_bytes(text, "SigV2 string-to-sign"),
                      SIGNATURE_METHODS[signature_method])
    return base64.b64encode(digest.digest()).decode("ascii")


def _encode(params: Sequence[tuple[str, str]]) -> str:
    return "&".join(f"{uri_encode(n, keep_slash=False)}={uri_encode(v, keep_slash=False)}" for n, v in params)


def _rewrite(raw: str, added: Sequence[tuple[str, str]], plus_is_space: bool) -> str:
    """`raw` without stale auth parameters, then `added` (encoded): untouched parts keep their exact text."""
    kept = [part for part in raw.split("&")
            if part and query_pairs(part, plus_is_space=plus_is_space)[0][0] not in AUTH_PARAMS]
    return "&".join([*kept, _encode(added)])


def _apply(request: Request, text: str, in_body: bool) -> Request:
    if in_body:
        body = text.encode("utf-8")
        signed = request.with_body(body)
        return signed.with_header("Content-Length", str(len(body))) if request.header("content-length") else signed
    base = request.url.partition("#")[0].partition("?")[0]
    return request.with_url(f"{base}?{text}" if text else base)


def sign(
    request: Request, credentials: Credentials, *, timestamp: datetime,
    signature_method: SignatureMethod = "HmacSHA256", plus_is_space: bool = False,
) -> SigV2Result:
    """Sign `request` with SigV2 parameters; GET signs the query, a form POST its body.

    A `Timestamp` or `Expires` already among the parameters is kept as written;
    otherwise `Timestamp` is `timestamp` as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
    Raises InvalidParameterError for an unknown signature method, empty
    credentials or a form body that is not UTF-8 bytes.
    """
    if signature_method not in SIGNATURE_METHODS:
        raise InvalidParameterError(
            f"signature_method: {signature_method!r} is not one of {', '.join(SIGNATURE_METHODS)}")
    if not credentials.access_key_id or not credentials.secret_access_key:
        raise InvalidParameterError("credentials: access key id and secret access key must not be empty")
    if timestamp.tzinfo is None or timestamp.utcoffset() is None:
        raise InvalidTimestampError("timestamp: naive datetime; pass a timezone-aware one (e.g. tzinfo=timezone.utc)")
    in_body = params_in_body(request)
    raw = raw_params(request)
    plus = plus_is_space or in_body
    existing = [(n, v) for n, v in query_pairs(raw, plus_is_space=plus) if n not in AUTH_PARAMS]
    added: list[tuple[str, str]] = [
        ("AWSAccessKeyId", credentials.access_key_id),
        ("SignatureVersion", "2"),
        ("SignatureMethod", signature_method),
    ]
    if not any(n in ("Timestamp", "Expires") for n, _ in existing):
        added.append(("Timestamp", timestamp.astimezone(timezone.utc).strftime(TIMESTAMP_FORMAT)))
    if credentials.session_token:
        added.append(("SecurityToken", credentials.session_token))
    params = (*existing, *added)
    text = string_to_sign(request.method, request_host(request), request.path, params)
    sig = signature(credentials.secret_access_key, text, signature_method)
    signed = _apply(request, _rewrite(raw, [*added, ("Signature", sig)], plus), in_body)
    return SigV2Result(signed, signature_method, params, text, sig, in_body)

