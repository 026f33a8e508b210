"""SigV4 signing with headers (`sign`) and presigned URLs (`presign`).

Strategy: both entry points share one pipeline: prepare the request (drop
stale auth, add Host, date, token, content hash), canonicalize it, build the
string-to-sign, HMAC it with the cached signing key, then apply the result
(an Authorization header, or query parameters) to a copy of the request.
Time comes in as an argument; nothing here reads a clock, a file or a socket.
The returned `SigningResult` keeps every intermediate for inspection.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from .canonical import (
    DEFAULT_UNSIGNED_HEADERS,
    CanonicalRequest,
    CanonicalRules,
    canonical_headers,
    canonical_query,
    canonical_uri,
    query_pairs,
    uri_encode,
)
from .errors import InvalidHeaderError, InvalidParameterError, InvalidTimestampError
from .keys import signing_key
from .payload import UNSIGNED_PAYLOAD, resolve_payload
from .types import Credentials, Request

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_EXPIRES = 7 * 24 * 3600
#: Query parameters a presigned URL carries; stale ones are dropped before re-signing.
PRESIGN_PARAMS = (
    "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
    "X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Signature",
)
_DEFAULT_PORTS = {"http": "80", "https": "443"}


@dataclass(frozen=True, slots=True)
class SigningResult:
    """A signed request and every value that went into its signature."""

    request: Request
    algorithm: str
    amz_date: str
    credential_scope: str
    canonical: CanonicalRequest
    string_to_sign: str
    signature: str
    authorization: str | None  # None for presigned URLs

    @property
    def canonical_request(self) -> str:
        return self.canonical.render()

    @property
    def signed_headers(self) -> tuple[str, ...]:
        return tuple(self.canonical.signed_headers.split(";"))

    @property
    def payload_hash(self) -> str:
        return self.canonical.payload_hash

    @property
    def url(self) -> str:
        return self.request.url


def amz_date(timestamp: datetime) -> str:
    """`YYYYMMDDTHHMMSSZ` in UTC; a naive datetime is refused rather than guessed."""
    if not isinstance(timestamp, datetime):
        raise InvalidTimestampError(f"timestamp: expected a timezone-aware datetime, got {type(timestamp).__name__}")
    if timestamp.tzinfo is None or timestamp.utcoffset() is None:
        raise InvalidTimestampError("timestamp: naive datetime; pass a timezone-aware one (e.g. tzinfo=timezone.utc)")
    return timestamp.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _check_scope_part(field: str, value: str) -> None:
    if not value:
        raise InvalidParameterError(f"{field}: must not be empty")
    if "/" in value or any(c.isspace() for c in value):
        raise InvalidParameterError(f"{field}: {value!r} must not contain '/' or whitespace (it is part of the credential scope)")


def host_from_url(request: Request) -> str:
    """The Host value for an absolute URL, default port dropped."""
    authority = request.authority.rpartition("@")[2]
    host, sep, port = authority.rpartition(":")
    if sep and "]" not in port and _DEFAULT_PORTS.get(request.scheme) == port:
        return host
    return authority


def _with_host(request: Request) -> Request:
    if request.header("host") is not None:
        return request
    if not request.scheme:
        raise InvalidHeaderError("Host: the request has no Host header and its URL is not absolute")
    return request.with_header("Host", host_from_url(request))


def _drop_query_params(request: Request, names: Iterable[str]) -> Request:
    """Remove query parameters by name, keeping every other part's raw text."""
    drop = set(names)
    target = request.target
    path, sep, query = target.partition("?")
    if not sep:
        return request
    kept = [p for p in query.split("&") if p and query_pairs(p)[0][0] not in drop]
    new_target = path + ("?" + "&".join(kept) if kept else "")
    return request.with_url(request.url[: len(request.url) - len(target)] + new_target
                            if request.url.endswith(target) else new_target)


def _add_query_params(request: Request, params: Iterable[tuple[str, str]]) -> Request:
    """Append encoded parameters to the URL (`%20` for a space, never `+`)."""
    encoded = "&".join(f"{uri_encode(n, keep_slash=False)}={uri_encode(v, keep_slash=False)}" for n, v in params)
    if not encoded:
        return request
    url, _, fragment = request.url.partition("#")
    joiner = "&" if "?" in url and not url.endswith(("?", "&")) else ("" if url.endswith(("?", "&")) else "?")
    return request.with_url(url + joiner + encoded + ("#" + fragment if fragment else ""))


@dataclass(frozen=True, slots=True)
class _Options:
    region: str
    service: str
    amz_date: str
    rules: CanonicalRules
    s3: bool
    payload: str | None
    omit_session_token: bool
    content_sha256_header: bool
    unsigned: frozenset[str]

    @property
    def scope(self) -> str:
        return f"{self.amz_date[:8]}/{self.region}/{self.service}/aws4_request"


def _options(
    region: str, service: str, timestamp: datetime, *, s3: bool, normalize_path: bool | None,
    double_encode: bool | None, payload: str | None, omit_session_token: bool,
    content_sha256_header: bool, unsigned_headers: Iterable[str] | None, plus_is_space: bool,
) -> _Options:
    _check_scope_part("region", region)
    _check_scope_part("service", service)
    rules = CanonicalRules(
        normalize_path=(not s3) if normalize_path is None else normalize_path,
        double_encode=(not s3) if double_encode is None else double_encode,
        plus_is_space=plus_is_space,
    )
    unsigned = DEFAULT_UNSIGNED_HEADERS if unsigned_headers is None else frozenset(h.lower() for h in unsigned_headers)
    return _Options(region, service, amz_date(timestamp), rules, s3, payload, omit_session_token,
                    content_sha256_header, unsigned)


def _signature(creds: Credentials, opts: _Options, canonical: CanonicalRequest) -> tuple[str, str]:
    digest = hashlib.sha256(canonical.render().encode("utf-8")).hexdigest()
    string_to_sign = f"{ALGORITHM}\n{opts.amz_date}\n{opts.scope}\n{digest}"
    key = signing_key(creds.secret_access_key, opts.amz_date[:8], opts.region, opts.service)
    return string_to_sign, hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def _canonicalize(request: Request, opts: _Options, payload_hash: str) -> CanonicalRequest:
    headers, signed = canonical_headers(request.headers, opts.unsigned)
    return CanonicalRequest(
        method=request.method,
        uri=canonical_uri(request.path, opts.rules),
        query=canonical_query(query_pairs(request.query, plus_is_space=opts.rules.plus_is_space)),
        headers=headers,
        signed_headers=signed,
        payload_hash=payload_hash,
    )


def _check_credentials(creds: Credentials) -> None:
    if not creds.access_key_id or not creds.secret_access_key:
        raise InvalidParameterError("credentials: access key id and secret access key must not be empty")


def sign(
    request: Request, credentials: Credentials, *, region: str, service: str, timestamp: datetime,
    s3: bool = False, normalize_path: bool | None = None, double_encode: bool | None = None,
    payload: str | None = None, omit_session_token: bool = False, content_sha256_header: bool = False,
    unsigned_headers: Iterable[str] | None = None, plus_is_space: bool = False,
) -> SigningResult:
    """Sign `request` with an Authorization header (SigV4); return the signed copy and its intermediates.

    Raises a `SigningError` subclass naming the field and rule for unusable input.
    """
    _check_credentials(credentials)
    opts = _options(region, service, timestamp, s3=s3, normalize_path=normalize_path, double_encode=double_encode,
                    payload=payload, omit_session_token=omit_session_token,
                    content_sha256_header=content_sha256_header, unsigned_headers=unsigned_headers,
                    plus_is_space=plus_is_space)
    req = _with_host(request.without_headers(["authorization"]))
    token = credentials.session_token
    req = req.with_header("X-Amz-Date", opts.amz_date)
    req = req.with_header("X-Amz-Security-Token", token) if token and not omit_session_token \
        else req.without_headers(["x-amz-security-token"])
    payload_hash = resolve_payload(req.body, payload)
    if s3 or content_sha256_header or req.header("x-amz-content-sha256") is not None:
        req = req.with_header("X-Amz-Content-SHA256", payload_hash)
    canonical = _canonicalize(req, opts, payload_hash)
    string_to_sign, signature = _signature(credentials, opts, canonical)
    if token and omit_session_token:
        req = req.with_header("X-Amz-Security-Token", token)
    authorization = (f"{ALGORITHM} Credential={credentials.access_key_id}/{opts.scope}, "
                     f"SignedHeaders={canonical.signed_headers}, Signature={signature}")
    req = req.with_header("Authorization", authorization)
    return SigningResult(req, ALGORITHM, opts.amz_date, opts.scope, canonical, string_to_sign, signature,
                         authorization)


def presign(
    request: Request, credentials: Credentials, *, region: str, service: str, timestamp: datetime,
    expires: int = 3600, s3: bool = False, normalize_path: bool | None = None, double_encode: bool | None = None,
    payload: str | None = None, omit_session_token: bool = False, content_sha256_header: bool = False,
    unsigned_headers: Iterable[str] | None = None, plus_is_space: bool = False,
) -> SigningResult:
    """Presign `request`: the signature goes into the URL's query (`.url` of the result).

    Existing query parameters, repeated ones included, are kept in place. S3
    presigning signs `UNSIGNED-PAYLOAD` unless `payload` says otherwise.
    """
    _check_credentials(credentials)
    if isinstance(expires, bool) or not isinstance(expires, int) or not 1 <= expires <= MAX_EXPIRES:
        raise InvalidParameterError(f"expires: {expires!r} is out of range; must be an integer 1..{MAX_EXPIRES} seconds")
    opts = _options(region, service, timestamp, s3=s3, normalize_path=normalize_path, double_encode=double_encode,
                    payload=payload, omit_session_token=omit_session_token,
                    content_sha256_header=content_sha256_header, unsigned_headers=unsigned_headers,
                    plus_is_space=plus_is_space)
    req = request.without_headers(["authorization", "x-amz-date", "x-amz-security-token"])
    req = _with_host(_drop_query_params(req, PRESIGN_PARAMS))
    payload_hash = resolve_payload(req.body, UNSIGNED_PAYLOAD if s3 and payload is None else payload)
    if content_sha256_header:
        req = req.with_header("X-Amz-Content-SHA256", payload_hash)
    _, signed_names = canonical_headers(req.headers, opts.unsigned)
    token = credentials.session_token
    params = [
        ("X-Amz-Algorithm", ALGORITHM),
        ("X-Amz-Credential", f"{credentials.access_key_id}/{opts.scope}"),
        ("X-Amz-Date", opts.amz_date),
        ("X-Amz-Expires", str(expires)),
        ("X-Amz-SignedHeaders", signed_names),
    ]
    if token and not omit_session_token:
        params.append(("X-Amz-Security-Token", token))
    req = _add_query_params(req, params)
    canonical = _canonicalize(req, opts, payload_hash)
    string_to_sign, signature = _signature(credentials, opts, canonical)
    tail = [("X-Amz-Security-Token", token)] if token and omit_session_token else []
    req = _add_query_params(req, [*tail, ("X-Amz-Signature", signature)])
    return SigningResult(req, ALGORITHM, opts.amz_date, opts.scope, canonical, string_to_sign, signature, None)
