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
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache, partial
from typing import Literal, NamedTuple, overload

from .canonical import (
    DEFAULT_UNSIGNED_HEADERS,
    CanonicalRequest,
    CanonicalRules,
    canonical_headers,
    canonical_query_string,
    canonical_uri,
    check_method,
    check_one_host,
    query_pairs,
    render_canonical,
    uri_encode,
    with_text,
)
from . import chunked, v2, v4a
from .checksums import ChecksumAlgorithm
from .errors import InvalidHeaderError, InvalidParameterError, InvalidTimestampError
from .keys import hmac_signer, signing_key
from .payload import UNSIGNED_PAYLOAD, resolve_payload
from .plan import DATE, PAYLOAD, HeaderPlan, PlanCache, make_plan
from .types import Credentials, Request, request_of

ALGORITHM = "AWS4-HMAC-SHA256"
#: `v4`: HMAC-SHA256 with a regional scope; `v4a`: ECDSA P-256 valid for a region set.
Algorithm = Literal["v4", "v4a"]
MAX_EXPIRES = 7 * 24 * 3600
#: Query parameters a presigned URL carries; stale ones are dropped before re-signing.
PRESIGN_PARAMS = (
    "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
    "X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Signature", "X-Amz-Region-Set",
)
#: scheme -> the port a Host header leaves out; WebSocket URLs (RFC 6455 section 3) as their HTTP twins.
DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}
_KEY_ID = re.compile(r"[!-.0-~]+\Z")  # printable ASCII except space and '/'
_TOKEN_TEXT = re.compile(r"[ -~]*\Z")


# A NamedTuple rather than a frozen dataclass: one is built per signature, and
# a tuple is built in C where a frozen dataclass pays one object.__setattr__
# per field; it is as immutable, with the same attributes and repr.
class SigningResult(NamedTuple):
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


#: SigningResult from a tuple of its fields, in C: the generated __new__ is a Python call with keywords.
_signing_result: Callable[[tuple[object, ...]], SigningResult] = partial(tuple.__new__, SigningResult)


def amz_date(timestamp: datetime) -> str:
    """`YYYYMMDDTHHMMSSZ` in UTC; a naive datetime is refused rather than guessed."""
    if not isinstance(timestamp, datetime):
        raise InvalidTimestampError(f"timestamp: expected a timezone-aware datetime, got {type(timestamp).__name__}")
    return _amz_date(timestamp)


@lru_cache(maxsize=64)
def _amz_date(timestamp: datetime) -> str:
    if timestamp.tzinfo is None or timestamp.utcoffset() is None:
        raise InvalidTimestampError("timestamp: naive datetime; pass a timezone-aware one (e.g. tzinfo=timezone.utc)")
    t = timestamp.astimezone(timezone.utc)
    # %-formatting: about half the time of the same six fields in an f-string (a miss once a second per client).
    return "%04d%02d%02dT%02d%02d%02dZ" % (t.year, t.month, t.day, t.hour, t.minute, t.second)


def _check_scope_part(field: str, value: str) -> None:
    if not isinstance(value, str):
        raise InvalidParameterError(f"{field}: expected a str, got {type(value).__name__}")
    if not value:
        raise InvalidParameterError(f"{field}: must not be empty")
    if "/" in value or any(c.isspace() for c in value):
        raise InvalidParameterError(f"{field}: {value!r} must not contain '/' or whitespace (it is part of the credential scope)")


def host_from_url(request: Request) -> str:
    """The Host value for an absolute URL, default port dropped."""
    return _host_value(request.scheme, request.authority)


def _host_value(scheme: str, authority: str) -> str:
    authority = authority.rpartition("@")[2]
    host, sep, port = authority.rpartition(":")
    if sep and "]" not in port and DEFAULT_PORTS.get(scheme) == port:
        return host
    return authority


def _header_names(headers: Iterable[tuple[str, str]]) -> frozenset[str]:
    """The header names, lowercase: one pass answers every "has it a ... header?" (InvalidHeaderError for a Host
    sent twice, see `check_one_host`)."""
    names = [name.lower() for name, _ in headers]
    check_one_host(names)
    return frozenset(names)


def _host_header(scheme: str, authority: str, names: frozenset[str]) -> list[tuple[str, str]]:
    """The Host header to add: none when the request has one (`names`: its header names, lowercase), else one from the URL."""
    if "host" in names:
        return []
    if not scheme:
        raise InvalidHeaderError("Host: the request has no Host header and its URL is not absolute")
    return [("Host", _host_value(scheme, authority))]


def _with_host(request: Request) -> Request:
    return request.edit_headers(_host_header(request.scheme, request.authority, _header_names(request.headers)))


def without_query_params(request: Request, names: Iterable[str]) -> Request:
    """`request` without the query parameters named `names` (e.g. a stale signature's `PRESIGN_PARAMS`),
    every other part's raw text kept."""
    drop = set(names)
    target = request.target
    path, sep, query = target.partition("?")
    if not sep:
        return request
    kept = [p for p in query.split("&") if p and query_pairs(p)[0][0] not in drop]
    new_target = path + ("?" + "&".join(kept) if kept else "")
    return request.with_url(f"{request.scheme}://{request.authority}{new_target}" if request.scheme else new_target)


def _query_params(params: Iterable[tuple[str, str]]) -> str:
    """Presigning parameters as query text; the names are unreserved, so only the values are encoded (`%20`, never `+`)."""
    return "&".join([f"{name}={uri_encode(value, keep_slash=False)}" for name, value in params])


def _with_query(url: str, encoded: str) -> str:
    """`url` with the encoded parameters appended to its query (before any fragment)."""
    url, _, fragment = url.partition("#")
    joiner = "&" if "?" in url and not url.endswith(("?", "&")) else ("" if url.endswith(("?", "&")) else "?")
    return url + joiner + encoded + ("#" + fragment if fragment else "")


# Compared by identity: `_settled_options` hands out one per distinct settings, and
# plans are cached by it, so hashing it must not walk its thirteen fields.
@dataclass(frozen=True, slots=True, eq=False)
class _Options:
    algorithm: Algorithm
    deterministic: bool
    region: str  # for SigV4a, the region set as sent in X-Amz-Region-Set
    service: str
    date: str  # YYYYMMDD: the scope's day (the full time is per call, not an option)
    rules: CanonicalRules
    s3: bool
    payload: str | None
    omit_session_token: bool
    content_sha256_header: bool
    unsigned: frozenset[str]
    scheme: _Scheme
    #: The credential scope, computed once: the Authorization header, the string-to-sign and chunk signatures share it.
    scope: str


def _hmac_signer(creds: Credentials, opts: _Options) -> chunked.Signer:
    return _hmac_signer_for(creds.secret_access_key, opts)


@lru_cache(maxsize=512)
def _hmac_signer_for(secret: str, opts: _Options) -> chunked.Signer:
    return hmac_signer(signing_key(secret, opts.date, opts.region, opts.service))


def _ecdsa_signer(creds: Credentials, opts: _Options) -> chunked.Signer:
    return partial(v4a.sign_string, creds, deterministic=opts.deterministic)


@dataclass(frozen=True, slots=True)
class _Scheme:
    name: str  # the algorithm line of the string-to-sign and Authorization header
    #: The string-to-sign -> signature function for one scope; aws-chunked uploads sign every chunk with it.
    signer: Callable[[Credentials, _Options], chunked.Signer]


_SCHEMES: dict[str, _Scheme] = {
    "v4": _Scheme(ALGORITHM, _hmac_signer),
    "v4a": _Scheme(v4a.ALGORITHM, _ecdsa_signer),
}


def _options(
    algorithm: Algorithm, deterministic: bool, region: str | Sequence[str], service: str, date: str, s3: bool,
    normalize_path: bool | None, double_encode: bool | None, payload: str | None, omit_session_token: bool,
    content_sha256_header: bool, unsigned_headers: Iterable[str] | None, plus_is_space: bool,
) -> _Options:
    """The checked options of one call: arguments made hashable here, the rest built once by `_settled_options`.

    Positional, in `_settled_options`' order: this runs on every signature, and keywords cost more to pass.
    """
    if unsigned_headers is None and isinstance(region, str):  # the usual call: nothing to convert
        return _settled_options(algorithm, deterministic, region, service, date, s3, normalize_path,
                                double_encode, payload, omit_session_token, content_sha256_header, None, plus_is_space)
    if not isinstance(region, str):
        if not isinstance(region, Iterable):
            raise InvalidParameterError(f"region: expected a str (or a SigV4a region set), got {type(region).__name__}")
        if algorithm != "v4a":
            raise InvalidParameterError("region: a list of regions is a SigV4a region set; pass algorithm='v4a'")
        region = v4a.region_set(region)
    unsigned = None if unsigned_headers is None else _unsigned_set(unsigned_headers)
    return _settled_options(algorithm, deterministic, region, service, date, s3, normalize_path,
                            double_encode, payload, omit_session_token, content_sha256_header, unsigned, plus_is_space)


def _unsigned_set(names: Iterable[str]) -> frozenset[str]:
    """`unsigned_headers`, lowercase; a str is one name (it is an Iterable[str] of its letters too)."""
    if isinstance(names, str):
        names = (names,)
    elif not isinstance(names, Iterable):
        raise InvalidParameterError(f"unsigned_headers: expected header names (str), got {type(names).__name__}")
    lowered = []
    for name in names:
        if not isinstance(name, str):
            raise InvalidParameterError(f"unsigned_headers: header names must be str, not {type(name).__name__}")
        lowered.append(name.lower())
    return frozenset(lowered)


# A client signs call after call with the same settings on the same day: the
# options, their checks and the credential scope are computed once per
# distinct argument tuple (the day included), which fully determines them.
@lru_cache(maxsize=256)
def _settled_options(
    algorithm: Algorithm, deterministic: bool, region: str, service: str, date: str, s3: bool,
    normalize_path: bool | None, double_encode: bool | None, payload: str | None, omit_session_token: bool,
    content_sha256_header: bool, unsigned: frozenset[str] | None, plus_is_space: bool,
) -> _Options:
    if algorithm not in _SCHEMES:
        raise InvalidParameterError(f"algorithm: {algorithm!r} is not one of {', '.join(map(repr, _SCHEMES))}")
    if algorithm == "v4a":
        region = v4a.region_set(region)
    _check_scope_part("region", region)
    _check_scope_part("service", service)
    rules = CanonicalRules((not s3) if normalize_path is None else normalize_path,
                           (not s3) if double_encode is None else double_encode, plus_is_space)
    scope = (v4a.credential_scope(date, service) if algorithm == "v4a"
             else f"{date}/{region}/{service}/aws4_request")
    return _Options(algorithm, deterministic, region, service, date, rules, s3, payload, omit_session_token,
                    content_sha256_header, DEFAULT_UNSIGNED_HEADERS if unsigned is None else unsigned,
                    _SCHEMES[algorithm], scope)


def string_to_sign(algorithm: str, amz_date: str, scope: str, canonical: CanonicalRequest | str) -> str:
    """The four-line string-to-sign: algorithm, date, credential scope, hex SHA-256 of the canonical request
    (or of its text, as rendered)."""
    text = canonical if isinstance(canonical, str) else canonical.render()
    # surrogateescape: a header value byte that is not UTF-8 (read so by a server) is hashed as that byte.
    digest = hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
    return f"{algorithm}\n{amz_date}\n{scope}\n{digest}"


def canonicalize(
    request: Request, rules: CanonicalRules, payload_hash: str, unsigned: frozenset[str] = DEFAULT_UNSIGNED_HEADERS,
) -> CanonicalRequest:
    """The canonical request of `request` as it stands, every header not in `unsigned` signed.

    A verifier passes only the headers the client listed, with `unsigned` empty.
    """
    path, _, query = request.target.partition("?")
    return CanonicalRequest(request.method, canonical_uri(path, rules), canonical_query_string(query, rules.plus_is_space),
                            *canonical_headers(request.headers, unsigned), payload_hash)


def _sign_plan(scheme: str, authority: str, headers: tuple[tuple[str, str], ...], opts: _Options, token: str | None,
               upload_headers: tuple[tuple[str, str], ...], values: tuple[str, str] | None) -> HeaderPlan:
    """What `sign` does to headers of this shape: Host from the URL when missing, the time, the region set
    (SigV4a), the session token, the aws-chunked headers, and the payload hash where S3 or the caller wants it.

    A stale Authorization and token are dropped; an unsigned token (`omit_session_token`) goes after the signed headers.
    `values` (date, payload hash) are put in, or with None left as holes (see `PlanCache`).
    """
    names = _header_names(headers)
    date, payload_hash = values or ("", "")
    holes = {} if values else {"x-amz-date": DATE}
    sets = [*_host_header(scheme, authority, names), ("X-Amz-Date", date)]
    if opts.algorithm == "v4a":
        sets.append((v4a.REGION_SET_HEADER, opts.region))
    signs_token = bool(token) and not opts.omit_session_token
    if signs_token and token:  # `and token` narrows the type; signs_token already implies it
        sets.append(("X-Amz-Security-Token", token))
    if upload_headers:
        sets.extend(upload_headers)  # x-amz-content-sha256 among them
    elif opts.s3 or opts.content_sha256_header or "x-amz-content-sha256" in names:
        sets.append(("X-Amz-Content-SHA256", payload_hash))
        if not values:
            holes["x-amz-content-sha256"] = PAYLOAD
    unsigned_token = (("X-Amz-Security-Token", token),) if token and opts.omit_session_token else ()
    drops = ("authorization",) if signs_token else ("authorization", "x-amz-security-token")
    return make_plan(headers, sets, holes, drops, opts.unsigned, unsigned_token)


def _presign_plan(scheme: str, authority: str, headers: tuple[tuple[str, str], ...], opts: _Options,
                  values: tuple[str, str] | None) -> HeaderPlan:
    """What `presign` does to headers of this shape: Host from the URL when missing, and the payload hash if
    asked; the signature, time and token go into the query, so any in the headers are dropped."""
    sets = _host_header(scheme, authority, _header_names(headers))
    holes = {}
    if opts.content_sha256_header:
        sets.append(("X-Amz-Content-SHA256", values[1] if values else ""))
        if not values:
            holes["x-amz-content-sha256"] = PAYLOAD
    return make_plan(headers, sets, holes, ("authorization", "x-amz-date", "x-amz-security-token"), opts.unsigned)


_SIGN_PLANS = PlanCache(_sign_plan)
_PRESIGN_PLANS = PlanCache(_presign_plan)


def _canonical(request: Request, rules: CanonicalRules, plan: HeaderPlan, when: str,
               payload_hash: str) -> tuple[tuple[tuple[str, str], ...], CanonicalRequest]:
    """The signed request's headers (before Authorization) and its canonical request."""
    check_method(request.method)
    headers, pairs = plan.fill(when, payload_hash)
    path, _, query = request.target.partition("?")
    return headers, CanonicalRequest(request.method, canonical_uri(path, rules),
                                     canonical_query_string(query, rules.plus_is_space), pairs,
                                     plan.signed_headers, payload_hash)


class _Prepared(NamedTuple):
    """Everything in one signature of a request shape at one second (`when`) but the payload hash (see `_PREPARED`)."""

    name: str  # the algorithm line
    when: str
    scope: str
    plan: HeaderPlan
    #: The headers (before Authorization) and canonical pairs, the date put in; None when the payload hash goes in
    #: a header too (S3's x-amz-content-sha256): then they are filled per call.
    filled: tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]] | None
    method: str
    uri: str
    query: str
    #: The canonical request's text with marks where the date and the payload hash go (see `_redated`).
    template: str
    #: The canonical request's text, split where the payload hash goes: its last line, and any header it fills.
    pieces: list[str]
    to_sign_head: str  # the string-to-sign up to the hash of the canonical request
    signer: chunked.Signer
    authorization_head: str  # the Authorization header up to the signature


# Stand for the date and the payload hash in the canonical text: control bytes, which no canonical value holds
# (header values with one are refused; the URI and query are percent-encoded; the method is a token).
_DATE_MARK, _PAYLOAD_MARK = "\x00", "\x01"


def _prepare(request: Request, credentials: Credentials, opts: _Options, when: str, payload_hash: str,
             upload: chunked.ChunkedUpload | None) -> _Prepared:
    """The header plan, canonical text and signer of `request` at `when` (InvalidHeaderError or
    InvalidParameterError for a header or method that cannot be signed)."""
    scheme, authority, target = request._parts
    plan = _SIGN_PLANS.get((scheme, authority, request.headers, opts, credentials.session_token,
                            () if upload is None else upload.headers), when, payload_hash)
    check_method(request.method)
    path, _, query = target.partition("?")
    uri, query = canonical_uri(path, opts.rules), canonical_query_string(query, opts.rules.plus_is_space)
    marked = plan.fill(_DATE_MARK, _PAYLOAD_MARK)[1]  # a one-off plan has this call's values in already
    template = render_canonical(request.method, uri, query, map(":".join, marked), plan.signed_headers,
                                _PAYLOAD_MARK)
    filled = None if any(kind == PAYLOAD for _, kind in plan.header_holes) else plan.fill(when, _PAYLOAD_MARK)
    name, scope = opts.scheme.name, opts.scope
    return _Prepared(name, when, scope, plan, filled, request.method, uri, query, template,
                     template.replace(_DATE_MARK, when).split(_PAYLOAD_MARK), f"{name}\n{when}\n{scope}\n",
                     opts.scheme.signer(credentials, opts),
                     f"{name} Credential={credentials.access_key_id}/{scope}, SignedHeaders={plan.signed_headers}, "
                     "Signature=")


def _redated(prepared: _Prepared, when: str) -> _Prepared:
    """`prepared` at another second of its day: the date goes into the headers, the canonical text and the
    string-to-sign; the scope, the signing key and the rest stay."""
    name, _, scope, plan, filled, method, uri, query, template, _, _, signer, authorization_head = prepared
    return _Prepared(name, when, scope, plan, None if filled is None else plan.fill(when, _PAYLOAD_MARK), method,
                     uri, query, template, template.replace(_DATE_MARK, when).split(_PAYLOAD_MARK),
                     f"{name}\n{when}\n{scope}\n", signer, authorization_head)


# A client signs request after request of the same shape (method, URL, headers, credentials, options): all of
# a signature but the date and the body's hash is prepared once per shape and day, and kept here, the date put
# in once a second (`_redated`). Only shapes whose header plan is kept (seen before, see `PlanCache`) are, so
# that one-off shapes do not push out the others; emptied when full.
_PREPARED: dict[tuple[object, ...], _Prepared] = {}
_PREPARED_SIZE = 512


def _check_inputs(request: Request, creds: Credentials) -> None:
    """Refuse by name what is not a Request of a str method and URL (rather than fail deep in canonicalization),
    and credentials `_check_credentials` refuses."""
    if not isinstance(request, Request):
        raise InvalidParameterError(f"request: expected a sigv4.Request, got {type(request).__name__}")
    if not (isinstance(request.method, str) and isinstance(request.url, str)):
        raise InvalidParameterError(f"request: the method and URL must be str, not {type(request.method).__name__} "
                                    f"and {type(request.url).__name__}")
    _check_credentials(creds)


def _check_credentials(creds: Credentials) -> None:
    """Credentials of text; the key id and token go into headers and URLs: refuse what would break or inject
    into them."""
    if creds is _last_checked[0]:  # a client signs with one Credentials object call after call; it is frozen
        return
    if not isinstance(creds, Credentials):
        raise InvalidParameterError(f"credentials: expected a sigv4.Credentials, got {type(creds).__name__}")
    if not (isinstance(creds.access_key_id, str) and isinstance(creds.secret_access_key, str)
            and isinstance(creds.session_token, (str, type(None)))):
        raise InvalidParameterError("credentials: the access key id and secret access key must be str, the session "
                                    "token str or None")
    if not creds.access_key_id or not creds.secret_access_key:
        raise InvalidParameterError("credentials: access key id and secret access key must not be empty")
    if not _KEY_ID.match(creds.access_key_id):
        raise InvalidParameterError("credentials: the access key id must be printable ASCII without spaces or '/'")
    if creds.session_token is not None and not _TOKEN_TEXT.match(creds.session_token):
        raise InvalidParameterError("credentials: the session token must be printable ASCII without control bytes")
    _last_checked[0] = creds


_last_checked: list[Credentials | None] = [None]


# The v2 overload exists because SigV2 has no canonical request or scope: it
# returns its own result type and takes only the options that apply to it.
@overload
def sign(
    request: Request, credentials: Credentials, *, region: str | Sequence[str], service: str, timestamp: datetime,
    algorithm: Algorithm = ..., deterministic: bool = ..., s3: bool = ...,
    normalize_path: bool | None = ..., double_encode: bool | None = ...,
    payload: str | None = ..., omit_session_token: bool = ..., content_sha256_header: bool = ...,
    unsigned_headers: Iterable[str] | None = ..., plus_is_space: bool = ...,
    chunk_size: int = ..., trailer_checksum: str | ChecksumAlgorithm | None = ...,
) -> SigningResult: ...


@overload
def sign(
    request: Request, credentials: Credentials, *, region: str | Sequence[str], service: str, timestamp: datetime,
    algorithm: Literal["v2"], signature_method: v2.SignatureMethod = ..., plus_is_space: bool = ...,
) -> v2.SigV2Result: ...


def sign(
    request: Request, credentials: Credentials, *, region: str | Sequence[str], service: str, timestamp: datetime,
    algorithm: Algorithm | Literal["v2"] = "v4", deterministic: bool = False, s3: bool = False,
    normalize_path: bool | None = None, double_encode: bool | None = None,
    payload: str | None = None, omit_session_token: bool = False, content_sha256_header: bool = False,
    unsigned_headers: Iterable[str] | None = None, plus_is_space: bool = False,
    chunk_size: int = chunked.DEFAULT_CHUNK_SIZE, trailer_checksum: str | ChecksumAlgorithm | None = None,
    signature_method: v2.SignatureMethod = "HmacSHA256",
) -> SigningResult | v2.SigV2Result:
    """Sign `request` with an Authorization header; return the signed copy and its intermediates.

    `algorithm="v4"` (SigV4, one region) or `"v4a"` (SigV4a: `region` is a
    region set, as "us-east-1,us-west-2", a list, or "*"; `deterministic=True`
    uses RFC 6979 nonces so the signature is the same on every run).
    `algorithm="v2"` signs the query (GET) or form body (POST) with SigV2
    parameters instead (`signature_method` HmacSHA256 or HmacSHA1; region and
    service are not part of a SigV2 signature) and returns a `v2.SigV2Result`.
    An aws-chunked `payload` (`STREAMING-*-PAYLOAD[-TRAILER]`, see `sigv4.chunked`)
    makes `.signature` the seed signature and `.request.body` a lazy iterator of
    the encoded body in `chunk_size` chunks, with a `trailer_checksum` trailer
    (crc32, crc32c, sha1, sha256, or a `ChecksumAlgorithm` computing it) for the -TRAILER forms.
    Raises a `SigningError` subclass naming the field and rule for unusable input.
    """
    if algorithm == "v2" or request.__class__ is not Request or credentials.__class__ is not Credentials:
        _check_inputs(request, credentials)  # refused by name before a field of theirs is read
    if algorithm == "v2":
        return v2.sign(_with_host(request), credentials, timestamp=timestamp, signature_method=signature_method,
                       plus_is_space=plus_is_space)
    when = amz_date(timestamp)
    body = request.body
    # What decides the preparation, when it can be kept: not for a region list (unhashable), unsigned headers
    # (any iterable) or an aws-chunked upload (signed chunk by chunk), nor for a payload hash the caller passes,
    # which would make every call a shape of its own.
    key = ((request.method, request.url, request.headers, region, service, credentials.access_key_id,
            credentials.secret_access_key, credentials.session_token, algorithm, deterministic, s3, normalize_path,
            double_encode, payload, omit_session_token, content_sha256_header, plus_is_space)
           if region.__class__ is str and unsigned_headers is None and trailer_checksum is None
           and (payload is None or payload == UNSIGNED_PAYLOAD) else None)
    prepared = None
    if key is not None:
        prepared = _PREPARED.get(key)
        if prepared is not None and prepared.when != when:
            # Another day is another scope and signing key: prepared anew.
            prepared = _redated(prepared, when) if prepared.when[:8] == when[:8] else None
            if prepared is not None:
                _PREPARED[key] = prepared
    upload = None
    if prepared is None:
        _check_inputs(request, credentials)  # a kept preparation was made with equal inputs, checked then
        opts = _options(algorithm, deterministic, region, service, when[:8], s3, normalize_path, double_encode,
                        payload, omit_session_token, content_sha256_header, unsigned_headers, plus_is_space)
        if payload is not None or trailer_checksum is not None:
            upload = chunked.prepare_upload(request, payload, algorithm=opts.scheme.name, chunk_size=chunk_size,
                                            trailer_checksum=trailer_checksum)
        payload_hash = resolve_payload(body, payload)
        prepared = _prepare(request, credentials, opts, when, payload_hash, upload)
        if key is not None and prepared.plan.header_holes:  # a kept plan (see `_PREPARED`)
            if len(_PREPARED) >= _PREPARED_SIZE:
                _PREPARED.clear()
            _PREPARED[key] = prepared
    else:  # `resolve_payload`, its usual case spared the call
        payload_hash = (hashlib.sha256(body).hexdigest() if payload is None and body.__class__ is bytes
                        else resolve_payload(body, payload))
    name, _, scope, plan, filled, method, uri, query, _, pieces, to_sign_head, signer, authorization_head = prepared
    headers, pairs = plan.fill(when, payload_hash) if filled is None else filled
    text = payload_hash.join(pieces)
    # `string_to_sign`, its head prepared
    to_sign = to_sign_head + hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
    signature = signer(to_sign)
    authorization = authorization_head + signature
    canonical = with_text((method, uri, query, pairs, plan.signed_headers, payload_hash, text))
    if upload is not None:
        body = upload.encode(chunked.ChunkScope(name, when, scope), signer, signature)
    req = request_of((method, request.url, headers + (("Authorization", authorization),), body))
    return _signing_result((req, name, when, scope, canonical, to_sign, signature, authorization))


def presign(
    request: Request, credentials: Credentials, *, region: str | Sequence[str], service: str, timestamp: datetime,
    expires: int | None = 3600, algorithm: Algorithm = "v4", deterministic: bool = False, s3: bool = False,
    normalize_path: bool | None = None, double_encode: bool | None = None,
    payload: str | None = None, omit_session_token: bool = False, content_sha256_header: bool = False,
    unsigned_headers: Iterable[str] | None = None, plus_is_space: bool = False,
) -> SigningResult:
    """Presign `request`: the signature goes into the URL's query (`.url` of the result).

    Existing query parameters, repeated ones included, are kept in place. S3
    presigning signs `UNSIGNED-PAYLOAD` unless `payload` says otherwise.
    `algorithm` and `deterministic` are as for `sign`; SigV4a puts the region
    set in `X-Amz-Region-Set`. `expires=None` leaves `X-Amz-Expires` out, as
    AWS IoT's WebSocket handshake wants (the service then bounds the URL's life itself).
    Raises a `SigningError` subclass naming the field and rule for unusable input.
    """
    _check_inputs(request, credentials)
    if expires is not None and (isinstance(expires, bool) or not isinstance(expires, int)
                                or not 1 <= expires <= MAX_EXPIRES):
        raise InvalidParameterError(f"expires: {expires!r} is out of range; must be an integer 1..{MAX_EXPIRES} seconds")
    when = amz_date(timestamp)
    opts = _options(algorithm, deterministic, region, service, when[:8], s3, normalize_path, double_encode, payload,
                    omit_session_token, content_sha256_header, unsigned_headers, plus_is_space)
    req = without_query_params(request, PRESIGN_PARAMS)
    payload_hash = resolve_payload(req.body, UNSIGNED_PAYLOAD if s3 and payload is None else payload)
    scheme, authority, _ = req._parts
    plan = _PRESIGN_PLANS.get((scheme, authority, req.headers, opts), when, payload_hash)
    token = credentials.session_token
    params = [
        ("X-Amz-Algorithm", opts.scheme.name),
        ("X-Amz-Credential", f"{credentials.access_key_id}/{opts.scope}"),
        ("X-Amz-Date", when),
        *([] if expires is None else [("X-Amz-Expires", str(expires))]),
        ("X-Amz-SignedHeaders", plan.signed_headers),
    ]
    if token and not omit_session_token:
        params.append(("X-Amz-Security-Token", token))
    if algorithm == "v4a":
        params.append((v4a.REGION_SET_HEADER, opts.region))
    req = req.with_url(_with_query(req.url, _query_params(params)))
    headers, canonical = _canonical(req, opts.rules, plan, when, payload_hash)
    to_sign = string_to_sign(opts.scheme.name, when, opts.scope, canonical)
    signature = opts.scheme.signer(credentials, opts)(to_sign)
    tail = [("X-Amz-Security-Token", token)] if token and omit_session_token else []
    req = req._copy(url=_with_query(req.url, _query_params([*tail, ("X-Amz-Signature", signature)])), headers=headers)
    return SigningResult(req, opts.scheme.name, when, opts.scope, canonical, to_sign, signature,
                         None)
