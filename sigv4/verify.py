"""Verification of signed requests: the server side of SigV4, SigV4a and SigV2.

Strategy: verification runs in the order a server can afford to fail:
parse the authorization (header or presigned query; SigV2 parameters) into a
`SignedAuth` without any secret, check its scope against what this server
serves, check the time, look the key up, check the session token, then
recompute. The recomputation uses the request's own `SignedHeaders` list,
never the signer's defaults, and the payload line the client declared in
`x-amz-content-sha256` (checked against the body when the body is at hand).
Every failure is a `VerificationError` whose `.reason` is one word of
`REASONS`; a signature mismatch carries the canonical request and
string-to-sign the verifier computed. Signatures are compared in constant
time (SigV4a: verified with the public key derived from the credentials).

Servers that map scope errors to their own messages can call `parse_auth`
first; every `VerificationError` raised after parsing also carries `.auth`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from fnmatch import fnmatchcase
from functools import lru_cache
from itertools import product
from operator import attrgetter, itemgetter
from typing import Any, Literal, NamedTuple, TypeVar

from . import s3v2, v2, v4a
from .canonical import (
    S3_SERVICES, CanonicalRules, canonical_header, canonical_headers, canonical_query_string, canonical_query_without,
    canonical_uri, query_pairs, render_canonical,
)
from .bounded import decimal, http_date, utc
from .checksums import ChecksumAlgorithm, checksum_for_header, encoded
from .errors import InvalidParameterError, InvalidTimestampError, SigningError, VerificationError
from .keys import hmac_signer, signing_key
from .payload import UNSIGNED_PAYLOAD, resolve_payload
from .signed_auth import FIELD_NAMES, SignedAuth, Version, set_fields
from .signer import ALGORITHM, MAX_EXPIRES, host_from_url, string_to_sign
from .types import Body, Credentials, Request

#: The `.reason` vocabulary of VerificationError: reason -> what it means.
REASONS: dict[str, str] = {
    "missing_auth": "the request carries no signature (no Authorization header, presigned query or SigV2 parameters)",
    "malformed_auth": "the authorization is present but unparseable: a part is missing, duplicated or ill-formed",
    "unknown_key": "lookup() knows no credentials for the access key id",
    "scope": "the credential scope's date, region or service does not match the request or this server",
    "skew": "the request time is further from the server's clock than max_skew",
    "expired": "the presigned URL (or SigV2 Expires) is past its expiry",
    "not_yet_valid": "the presigned URL's signing time lies in the future beyond max_skew",
    "missing_signed_header": "a header named in SignedHeaders is absent from the request",
    "unsigned_header": "a header that must be signed (host, the date header, x-amz-region-set; for S3 every x-amz-* "
                      "header) is not in SignedHeaders",
    "token": "the session token is missing, unexpected, or not the one issued with the key",
    "payload_hash": "x-amz-content-sha256 is missing where required, ill-formed, or does not match the body",
    "checksum": "an x-amz-checksum-<algorithm> header (crc32, crc32c, crc64nvme, sha1, sha256) does not match the body",
    "malformed_request": "the request itself cannot be canonicalized (bad header bytes, unreadable body)",
    "signature_mismatch": "the signature does not match what the verifier computed",
    "condition_not_met": "a POST upload form breaks a condition of its policy, or has a field no condition covers",
}
Reason = Literal[
    "missing_auth", "malformed_auth", "unknown_key", "scope", "skew", "expired", "not_yet_valid",
    "missing_signed_header", "unsigned_header", "token", "payload_hash", "checksum", "malformed_request",
    "signature_mismatch", "condition_not_met",
]

_VERSIONS: dict[str, Version] = {ALGORITHM: "v4", v4a.ALGORITHM: "v4a"}
_AMZ_DATE = re.compile(r"\d{8}T\d{6}Z\Z", re.ASCII)
_SCOPE_DATE = re.compile(r"\d{8}\Z", re.ASCII)
_HEX_SHA256 = re.compile(r"[0-9a-f]{64}\Z")
_SIGNATURE_HEX = re.compile(r"[0-9a-f]+\Z")
# SigV2 timestamps are ISO 8601, with or without `Z`, fraction or offset.
_V2_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?\Z", re.ASCII)
_AUTH_PART = re.compile(r"\s*([A-Za-z]+)=([^,\s]*)\s*\Z")
# `<scheme> Credential=..., SignedHeaders=...` exactly, before `, Signature=...`: what `_authorization_parts` would
# read from it.
_COMMON_AUTHORIZATION = re.compile(r"(AWS4-HMAC-SHA256|AWS4-ECDSA-P256-SHA256) Credential=([^,\s]+), ?"
                                   r"SignedHeaders=([^,\s]+)\Z")
_PLAIN_VALUE = re.compile(r"[^,\s]+\Z")


@dataclass(frozen=True, init=False)
class Identity(SignedAuth):
    """A verified request: who signed it, with what scope, and the payload line it signed.

    `signature` is the seed signature a chunked-upload decoder chains from.
    """

    credentials: Credentials
    # UNSIGNED-PAYLOAD, a STREAMING-* value, the hex SHA-256 that was signed; "" for SigV2; S3's SigV2 signs none:
    # its x-amz-content-sha256 (checked against a body at hand), else UNSIGNED-PAYLOAD.
    payload_hash: str

    def __init__(self, version: Version, algorithm: str, presigned: bool, access_key_id: str, scope_date: str,
                 regions: tuple[str, ...], service: str, signed_headers: tuple[str, ...], signature: str,
                 signing_time: datetime, expires_at: datetime | None, credential_scope: str, amz_date: str,
                 credentials: Credentials, payload_hash: str) -> None:
        SignedAuth.__init__(self, version, algorithm, presigned, access_key_id, scope_date, regions, service,
                            signed_headers, signature, signing_time, expires_at, credential_scope, amz_date)
        _complete(self, credentials, payload_hash)


def _complete(identity: Identity, credentials: Credentials, payload_hash: str) -> None:
    """Set the two fields an Identity adds to its claim's (see `set_fields`)."""
    fields_set = identity.__dict__
    fields_set["credentials"] = credentials
    fields_set["payload_hash"] = payload_hash


def _fail(reason: Reason, message: str, auth: SignedAuth | None = None) -> VerificationError:
    return VerificationError(reason, message, auth=_reported(auth))


#: A claim's fields, in SignedAuth's field order.
_Fields = tuple[Version, str, bool, str, str, tuple[str, ...], str, tuple[str, ...], str, datetime, datetime | None,
                str, str]
_fields_of: Callable[[SignedAuth], _Fields] = attrgetter(*FIELD_NAMES)
_Auth = TypeVar("_Auth", bound=SignedAuth)


def _auth_of(kind: type[_Auth], values: _Fields) -> _Auth:
    """A `kind` with SignedAuth's fields set: a SignedAuth, or in `verify` the Identity the claim becomes once
    verified (its own two fields set last), so that its thirteen fields are not copied into a new one then."""
    auth = object.__new__(kind)
    SignedAuth.__init__(auth, *values)
    return auth


def _reported(auth: SignedAuth | None) -> SignedAuth | None:
    """The `.auth` of a failure: the claim, never an Identity that `verify` has not completed."""
    return _auth_of(SignedAuth, _fields_of(auth)) if type(auth) is Identity else auth


# -- parsing ----------------------------------------------------------------

def _first_values(request: Request) -> dict[str, str]:
    """Each header's first value by lowercase name: one pass answers every lookup verification makes."""
    first: dict[str, str] = {}
    for name, value in request.headers:  # a plain loop: half the time of building every pair and a dict of them
        key = name.lower()
        if key not in first:
            first[key] = value
    return first


# A client signs many requests within one second; the parse of each time text is kept (bounded).
@lru_cache(maxsize=256)
def _parse_amz_date(text: str, where: str) -> datetime:
    if not _AMZ_DATE.match(text):
        raise _fail("malformed_auth", f"{where}: {text!r} is not a date of the form YYYYMMDDTHHMMSSZ")
    try:  # slicing, not strptime: this runs on every request and strptime costs more than the HMAC
        return datetime(int(text[:4]), int(text[4:6]), int(text[6:8]), int(text[9:11]), int(text[11:13]),
                        int(text[13:15]), tzinfo=timezone.utc)
    except ValueError:
        raise _fail("malformed_auth", f"{where}: {text!r} is not a valid calendar date and time") from None


def _date_header_time(first: dict[str, str]) -> tuple[str, datetime]:
    """(amz date, time) from an RFC 7231 Date header, for a request without X-Amz-Date (`first`: see
    `_first_values`)."""
    date = first.get("date")
    if date is None:
        raise _fail("malformed_auth", "X-Amz-Date header: missing (and no Date header either)")
    try:
        when = http_date(date)
    except ValueError as err:
        raise _fail("malformed_auth", f"Date header: {err}") from None
    # The string-to-sign always carries the time as YYYYMMDDTHHMMSSZ, whichever header held it.
    return when.strftime("%Y%m%dT%H%M%SZ"), when


def _split_credential(credential: str, version: Version, where: str) -> tuple[str, str, tuple[str, ...], str, str]:
    """(key id, date, regions, service, scope) from `AKID/date[/region]/service/aws4_request`."""
    parts = 3 if version == "v4a" else 4
    if not credential.isascii():  # the key is derived from the scope's UTF-8; a byte that is not cannot sign
        raise _fail("malformed_auth", f"{where}: {credential!r} is not ASCII")
    pieces = credential.rsplit("/", parts)
    shape = "<key id>/<YYYYMMDD>/" + ("" if version == "v4a" else "<region>/") + "<service>/aws4_request"
    if len(pieces) != parts + 1 or not all(pieces):
        raise _fail("malformed_auth", f"{where}: {credential!r} is not of the form {shape}")
    if pieces[-1] != "aws4_request":
        raise _fail("malformed_auth", f"{where}: the scope must end in 'aws4_request', not {pieces[-1]!r}")
    if not _SCOPE_DATE.match(pieces[1]):
        raise _fail("malformed_auth", f"{where}: scope date {pieces[1]!r} is not YYYYMMDD")
    regions = () if version == "v4a" else (pieces[2],)
    return pieces[0], pieces[1], regions, pieces[-2], "/".join(pieces[1:])


def _region_set(value: str | None, where: str) -> tuple[str, ...]:
    if value is None:
        raise _fail("malformed_auth", f"{where}: missing (SigV4a carries its regions there)")
    regions = tuple(r.strip() for r in value.split(","))
    if not all(regions):
        raise _fail("malformed_auth", f"{where}: {value!r} has an empty region")
    return regions


def _parse_authorization_header(first: dict[str, str], header: str, kind: type[_Auth]) -> _Auth:
    head, sep, signature = header.rpartition(", Signature=")
    claim = _common_claim(head) if sep and _is_plain(signature) else None
    if claim is None:
        scheme, version, credential, signed_headers, signature = _authorization_parts(header)
        claim = _claim(scheme, version, credential, signed_headers)
    text = first.get("x-amz-date")
    if text is not None:
        when = _parse_amz_date(text, "X-Amz-Date header")
    else:
        text, when = _date_header_time(first)
    regions = (_region_set(first.get(v4a.REGION_SET_HEADER.lower()), "X-Amz-Region-Set header")
               if claim["version"] == "v4a" else None)
    return _completed(kind, claim, signature, when, text, regions)


def _completed(kind: type[_Auth], claim: _Claim, signature: str, when: datetime, text: str,
               regions: tuple[str, ...] | None = None) -> _Auth:
    """A `kind` of an Authorization header's `claim` with the request's signature, time and date text (and a
    SigV4a region set)."""
    # The claim's fields but these are the same for every request of a client: they are copied, not rebuilt.
    values = claim.copy()
    values["signature"] = signature
    values["signing_time"] = when
    values["amz_date"] = text
    if regions is not None:
        values["regions"] = regions
    auth = object.__new__(kind)
    set_fields(auth, values)
    return auth


def _is_plain(signature: str) -> bool:
    """Whether an Authorization header's text after its last `, Signature=` holds no comma or white space: then
    the header splits there exactly as `_authorization_parts` splits it. A signature (ASCII letters and digits) is
    told so first by bytes.isalnum, a table lookup per byte, where str.isalnum or the regex cost several times more."""
    return (signature.isascii() and signature.encode().isalnum()) or _PLAIN_VALUE.match(signature) is not None


#: A SignedAuth's fields as an Authorization header fixes them up to its signature (its signature, time and
#: date, and a SigV4a region set, are to be set; never changed in place: it is kept, see `_common_claim`).
_Claim = dict[str, object]


# Every request of a client repeats the Authorization header up to its signature: that part is parsed once.
@lru_cache(maxsize=256)
def _common_claim(head: str) -> _Claim | None:
    """The claim of `<scheme> Credential=..., SignedHeaders=...` exactly (what `_authorization_parts` reads
    from it), or None for any other form."""
    common = _COMMON_AUTHORIZATION.match(head)
    if common is None:
        return None
    scheme, credential, signed_headers = common.groups()
    return _claim(scheme, _VERSIONS[scheme], credential, signed_headers)


def _claim(scheme: str, version: Version, credential: str, signed_headers: str) -> _Claim:
    """The fields of `<scheme> Credential=<credential>, SignedHeaders=<signed_headers>` (see `_Claim`)."""
    key_id, date, regions, service, scope = _split_credential(credential, version, "Authorization Credential")
    return {"version": version, "algorithm": scheme, "presigned": False, "access_key_id": key_id, "scope_date": date,
            "regions": regions, "service": service, "signed_headers": tuple(signed_headers.split(";")),
            "signature": "", "signing_time": None, "expires_at": None, "credential_scope": scope, "amz_date": ""}


def _authorization_parts(header: str) -> tuple[str, Version, str, str, str]:
    """(scheme, version, Credential, SignedHeaders, Signature) of any Authorization header the parts rules allow."""
    scheme, _, rest = header.strip().partition(" ")
    version = _VERSIONS.get(scheme)
    if version is None:
        raise _fail("malformed_auth", f"Authorization header: unsupported scheme {scheme!r}; expected "
                                      f"{' or '.join(_VERSIONS)}")
    parts: dict[str, str] = {}
    for item in rest.split(","):
        match = _AUTH_PART.match(item)
        if not match:
            raise _fail("malformed_auth", f"Authorization header: {item.strip()!r} is not a Name=value part")
        name, value = match.groups()
        if name in parts:
            raise _fail("malformed_auth", f"Authorization header: {name} appears twice")
        parts[name] = value
    for name in ("Credential", "SignedHeaders", "Signature"):
        if not parts.get(name):
            raise _fail("malformed_auth", f"Authorization header: the {name}= part is missing or empty")
    if unknown := set(parts) - {"Credential", "SignedHeaders", "Signature"}:
        raise _fail("malformed_auth", f"Authorization header: unknown part(s) {', '.join(sorted(unknown))}")
    return scheme, version, parts["Credential"], parts["SignedHeaders"], parts["Signature"]


def _single(params: dict[str, list[str]], name: str) -> str:
    values = params.get(name, [])
    if len(values) != 1 or not values[0]:
        problem = "missing or empty" if not values or not values[0] else f"given {len(values)} times"
        raise _fail("malformed_auth", f"{name} query parameter: {problem}")
    return values[0]


def _parse_presigned(params: dict[str, list[str]], kind: type[_Auth]) -> _Auth:
    algorithm = _single(params, "X-Amz-Algorithm")
    version = _VERSIONS.get(algorithm)
    if version is None:
        raise _fail("malformed_auth", f"X-Amz-Algorithm query parameter: unsupported {algorithm!r}; expected "
                                      f"{' or '.join(_VERSIONS)}")
    key_id, date, regions, service, scope = _split_credential(
        _single(params, "X-Amz-Credential"), version, "X-Amz-Credential query parameter")
    text = _single(params, "X-Amz-Date")
    when = _parse_amz_date(text, "X-Amz-Date query parameter")
    # AWS IoT's WebSocket handshake is presigned without X-Amz-Expires: such a URL is held to max_skew, as a header is.
    expires = _single(params, "X-Amz-Expires") if "X-Amz-Expires" in params else None
    seconds = None if expires is None else decimal(expires)
    if expires is not None and (seconds is None or not 1 <= seconds <= MAX_EXPIRES):
        raise _fail("malformed_auth", f"X-Amz-Expires query parameter: {expires!r} is not 1..{MAX_EXPIRES} seconds")
    try:
        expires_at = None if seconds is None else when + timedelta(seconds=seconds)
    except OverflowError:
        raise _fail("malformed_auth", f"X-Amz-Date query parameter: {text} plus X-Amz-Expires={seconds} seconds is "
                                      "past year 9999") from None
    if version == "v4a":
        regions = _region_set(_single(params, v4a.REGION_SET_HEADER), "X-Amz-Region-Set query parameter")
    return _auth_of(kind, (version, algorithm, True, key_id, date, regions, service,
                         tuple(_single(params, "X-Amz-SignedHeaders").split(";")), _single(params, "X-Amz-Signature"),
                         when, expires_at, scope, text))


def _parse_v2_time(name: str, text: str) -> datetime:
    if not _V2_TIME.match(text):
        raise _fail("malformed_auth", f"{name} parameter: {text!r} is not an ISO 8601 time (YYYY-MM-DDTHH:MM:SSZ)")
    try:
        # A time without an offset is UTC, as AWS's own documented example writes it.
        return utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise _fail("malformed_auth", f"{name} parameter: {text!r} is not a valid calendar time within years "
                                      "1..9999") from None


def _parse_v2(params: dict[str, list[str]], kind: type[_Auth]) -> _Auth:
    version = _single(params, "SignatureVersion")
    if version != "2":
        raise _fail("malformed_auth", f"SignatureVersion parameter: {version!r} is not supported; only 2 is")
    method = _single(params, "SignatureMethod")
    if method not in v2.SIGNATURE_METHODS:
        raise _fail("malformed_auth", f"SignatureMethod parameter: {method!r} is not one of "
                                      f"{', '.join(v2.SIGNATURE_METHODS)}")
    key_id, signature = _single(params, "AWSAccessKeyId"), _single(params, "Signature")
    if "Timestamp" in params:
        text = _single(params, "Timestamp")
        return _auth_of(kind, ("v2", method, False, key_id, "", (), "", (), signature,
                             _parse_v2_time("Timestamp", text), None, "", text))
    text = _single(params, "Expires")
    expires = _parse_v2_time("Expires", text)
    return _auth_of(kind, ("v2", method, False, key_id, "", (), "", (), signature, expires, expires, "", text))


def _parse_s3v2(first: dict[str, str], header: str | None, query: dict[str, list[str]], kind: type[_Auth]) -> _Auth:
    """S3's SigV2 claim (`sigv4.s3v2`): `AWS AKID:signature` timed by x-amz-date or Date, or a presigned URL's
    AWSAccessKeyId, Expires and Signature."""
    try:
        if header is None:
            key, text, signature = (_single(query, name) for name in s3v2.QUERY_AUTH)
            when = expires = s3v2.expiry(text)
        else:
            key, signature = s3v2.header_claim(header)
            name = "x-amz-date" if "x-amz-date" in first else "date"
            text = first.get(name, "")
            if not text:
                raise _fail("malformed_auth", "Date header: missing (and no x-amz-date either); S3's SigV2 signs "
                                              "the request time")
            try:
                when, expires = http_date(text), None
            except ValueError as err:
                raise _fail("malformed_auth", f"{name} header: {err}") from None
    except SigningError as err:
        raise _fail("malformed_auth", str(err)) from None
    # The headers whose values it signs (a URL's time is its Expires; x-amz-date's presence empties Date's line).
    signed = tuple([name for name in first if name in ("content-md5", "content-type") or name.startswith("x-amz-")
                    or (name == "date" and header is not None and "x-amz-date" not in first)])
    return _auth_of(kind, ("s3v2", "HmacSHA1", header is None, key, "", (), "s3", signed, signature, when, expires,
                           "", text))


#: A query's (name, value) pairs, decoded (see `_request_query`).
_Pairs = tuple[tuple[str, str], ...]


def _grouped(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped


def parse_auth(request: Request, *, plus_is_space: bool = False) -> SignedAuth:
    """Parse how `request` claims to be signed, without looking up any key.

    Raises VerificationError (`missing_auth` or `malformed_auth`).
    """
    return _parse_auth(request, _first_values(request), _request_query(request, plus_is_space), plus_is_space,
                       SignedAuth)


def _request_query(request: Request, plus_is_space: bool) -> _Pairs:
    """The request's query as decoded (name, value) pairs, read once per request: by the parse, then by the
    recomputation (the decoding of a presigned query is most of its verification's cost)."""
    # A URL without "?" has no query: its parts are not looked up (see `Request._parts`).
    return _target_query(request._parts.target, plus_is_space) if "?" in request.url else ()


# A server parses a request's claim (`parse_auth`) before it verifies it (`verify(claimed=...)`): the second
# reading of the same target is this cache's. Keyed on the target itself, whose hash Python keeps with it.
@lru_cache(maxsize=64)
def _target_query(target: str, plus_is_space: bool) -> _Pairs:
    try:
        return tuple(query_pairs(target.partition("?")[2], plus_is_space=plus_is_space))
    except SigningError as err:
        raise _fail("malformed_request", str(err)) from None


def _parse_auth(request: Request, first: dict[str, str], pairs: _Pairs, plus_is_space: bool,
                kind: type[_Auth]) -> _Auth:
    """`pairs`: the query, as `_request_query` decodes it with `plus_is_space`."""
    header = first.get("authorization")
    query = _grouped(pairs)
    presigned = "X-Amz-Algorithm" in query or "X-Amz-Signature" in query or "X-Amz-Credential" in query
    if header is not None:
        if presigned:
            raise _fail("malformed_auth", "request: signed twice, with an Authorization header and a presigned query")
        if header.startswith("AWS "):
            return _parse_s3v2(first, header, query, kind)
        return _parse_authorization_header(first, header, kind)
    if presigned:
        return _parse_presigned(query, kind)
    if "AWSAccessKeyId" in query and "SignatureVersion" not in query:  # S3's SigV2 URL; the Query APIs' name it
        return _parse_s3v2(first, None, query, kind)
    params = _grouped(_v2_params(request, pairs))
    if "Signature" in params or "AWSAccessKeyId" in params or "SignatureVersion" in params:
        return _parse_v2(params, kind)
    raise _fail("missing_auth", "request: no Authorization header, presigned query (X-Amz-Signature) "
                                "or SigV2 Signature parameter")


# -- checks -----------------------------------------------------------------

def _check_claim(auth: SignedAuth, expected_service: str | None, allowed_regions: Collection[str] | None,
                 now: datetime | None = None, max_skew: timedelta = timedelta(0)) -> None:
    """The claim's credential scope against the request date and this server; then, given `now`, its time
    (skew, or a presigned URL's and SigV2's expiry): the checks that need no key, in one pass over the claim."""
    version = auth.version
    if version == "s3v2":  # no credential scope: S3's alone
        if expected_service is not None and expected_service != auth.service:
            raise _fail("scope", f"S3's SigV2: signs for service 's3', not {expected_service!r}", auth)
    elif version != "v2":
        if auth.scope_date != auth.amz_date[:8]:  # amz_date is YYYYMMDDTHHMMSSZ, whichever header held the time
            raise _fail("scope", f"credential scope: date {auth.scope_date} is not the request date "
                                 f"{auth.signing_time:%Y%m%d} ({auth.amz_date})", auth)
        if expected_service is not None and auth.service != expected_service:
            raise _fail("scope", f"credential scope: service {auth.service!r} is not {expected_service!r}", auth)
        # SigV4a region sets may hold patterns (`*`, `us-*`); SigV4 names exactly one region.
        if allowed_regions is not None and not any(fnmatchcase(region, pattern) for pattern in auth.regions
                                                   for region in allowed_regions):
            where = "region set" if version == "v4a" else "region"
            raise _fail("scope", f"credential scope: {where} {','.join(auth.regions)!r} does not include any of "
                                 f"{', '.join(sorted(allowed_regions))}", auth)
    if now is None:
        return
    # S3's SigV2 URL says only when it expires.
    if auth.presigned and auth.signing_time - now > max_skew and version != "s3v2":
        raise _fail("not_yet_valid", f"presigned URL: signed for {auth.amz_date}, which is more than "
                                     f"{max_skew} after the server time {now:%Y%m%dT%H%M%SZ}", auth)
    if auth.expires_at is not None:
        # Presigned URLs and SigV2 `Expires` are bounded by their expiry, not by clock skew.
        if now > auth.expires_at:
            raise _fail("expired", f"{'presigned URL' if auth.presigned else 'Expires parameter'}: expired at "
                                   f"{auth.expires_at:%Y-%m-%dT%H:%M:%SZ}; server time is {now:%Y-%m-%dT%H:%M:%SZ}",
                        auth)
        return
    if abs(now - auth.signing_time) > max_skew:
        raise _fail("skew", f"request time {auth.amz_date} is {abs(now - auth.signing_time)} away from the server "
                            f"time {now:%Y%m%dT%H%M%SZ}; at most {max_skew} is allowed", auth)


def _check_token(presented: str | None, creds: Credentials, where: str, auth: SignedAuth) -> None:
    if creds.session_token is None:
        if presented is not None:
            raise _fail("token", f"{where}: present, but the access key {auth.access_key_id} has no session token",
                        auth)
        return
    if presented is None:
        raise _fail("token", f"{where}: missing; the access key {auth.access_key_id} is temporary and needs its "
                             "session token", auth)
    # surrogateescape: a token byte that is not UTF-8 (read so by a server) cannot match, but must not raise.
    if not hmac.compare_digest(presented.encode("utf-8", "surrogateescape"), creds.session_token.encode("utf-8")):
        raise _fail("token", f"{where}: not the session token issued with the access key {auth.access_key_id}", auth)


def _payload_line(request: Request, declared: str | None, auth: SignedAuth, s3: bool) -> str:
    """The payload line signed: `declared` (the x-amz-content-sha256 header, or None) checked against the body."""
    if declared is None:
        if s3:
            if auth.presigned:
                return UNSIGNED_PAYLOAD
            raise _fail("payload_hash", "x-amz-content-sha256 header: missing; S3 requires it on header-signed "
                                        "requests", auth)
        body = request.body
        if body.__class__ is bytes:  # `resolve_payload`'s usual case, spared the call
            return hashlib.sha256(body).hexdigest()
        try:
            return resolve_payload(body, None)
        except SigningError as err:
            raise _fail("malformed_request", str(err), auth) from None
    if declared == UNSIGNED_PAYLOAD or declared.startswith("STREAMING-"):
        return declared
    if not _HEX_SHA256.match(declared):
        raise _fail("payload_hash", f"x-amz-content-sha256 header: {declared[:80]!r} is not a lowercase hex SHA-256, "
                                    "UNSIGNED-PAYLOAD or STREAMING-*", auth)
    if isinstance(request.body, (bytes, bytearray, memoryview)):
        actual = hashlib.sha256(request.body).hexdigest()
        if not hmac.compare_digest(actual, declared):
            raise _fail("payload_hash", f"x-amz-content-sha256 header: {declared} does not match the body's "
                                        f"SHA-256 {actual} ({len(request.body)} bytes)", auth)
    return declared


def _check_checksum_headers(headers: tuple[tuple[str, str], ...], body: Body, checksums: _Checksums,
                            auth: SignedAuth, payload: str) -> None:
    """S3 flexible checksums sent as headers (`checksums`: which, see `_signed_pick`), checked against a body
    at hand (an aws-chunked body carries its checksum in the trailer instead, which the chunk decoder checks)."""
    if not checksums or payload.startswith("STREAMING-") or not isinstance(body, (bytes, bytearray, memoryview)):
        return
    for index, algorithm in checksums:
        value = headers[index][1]
        summer = algorithm.new()
        summer.update(body)
        value = value.strip(" \t")  # HTTP's optional whitespace; str.strip() also took U+00A0, a byte of the value
        if value != (actual := encoded(summer)):
            raise _fail("checksum", f"{algorithm.header} header: {value[:80]!r} does not match the body's "
                                    f"{algorithm.name} {actual} ({len(body)} bytes)", auth)


def _mismatch(auth: SignedAuth, canonical_request: str | None, text: str) -> VerificationError:
    """`canonical_request` is None for SigV2, which signs its string-to-sign directly."""
    return VerificationError(
        "signature_mismatch",
        f"signature: {auth.signature[:16]}... does not match the one computed for the request "
        "(compare .canonical_request and .string_to_sign with the client's)",
        auth=_reported(auth), canonical_request=canonical_request, string_to_sign=text)


def _hmac_matches(auth: SignedAuth, creds: Credentials, text: str) -> bool:
    expected = _scope_signer(creds.secret_access_key, auth.credential_scope)(text)
    try:  # str against str, spared encoding both; compare_digest refuses a non-ASCII one, which cannot match
        return hmac.compare_digest(expected, auth.signature)
    except TypeError:
        return False


@lru_cache(maxsize=512)
def _scope_signer(secret: str, scope: str) -> Callable[[str], str]:
    """The signer of a SigV4 credential scope, `date/region/service/aws4_request`."""
    date, region, service, _ = scope.split("/")
    return hmac_signer(signing_key(secret, date, region, service))


def _ecdsa_matches(auth: SignedAuth, creds: Credentials, text: str) -> bool:
    key = v4a.key_pair(creds)
    return _SIGNATURE_HEX.match(auth.signature) is not None and v4a.verify_string(key, text, auth.signature)


_SIGNATURE_CHECKS: dict[str, Callable[[SignedAuth, Credentials, str], bool]] = {
    "v4": _hmac_matches, "v4a": _ecdsa_matches,
}


_ALL_SIGNED: frozenset[str] = frozenset()  # no header is left unsigned: the client's list is taken as it stands

#: Signing name -> (query parameter, header) of a session token of its own: S3 Express One Zone requests to a
#: directory bucket carry the CreateSession token there (CreateSession itself carries X-Amz-Security-Token).
_SESSION_TOKEN_NAMES: dict[str, tuple[str, str]] = {"s3express": ("X-Amz-S3session-Token", "x-amz-s3session-token")}


_SECURITY_TOKEN = ("X-Amz-Security-Token", "x-amz-security-token")

#: Signing names whose presigned URLs carry X-Amz-Security-Token added after signing, never signed: AWS IoT's
#: WebSocket handshake (as awsiotsdk and the IoT device SDKs sign it). The token is still checked.
UNSIGNED_TOKEN_SERVICES = frozenset({"iotdevicegateway"})


def _token_names(first: dict[str, str], auth: SignedAuth, pairs: _Pairs,
                 names: tuple[str, str]) -> tuple[str, str]:
    """(query parameter, header) that carry the session token of a request whose service has `names` of its own."""
    if any(n == names[0] for n, _ in pairs) or names[1] in first:
        if "x-amz-security-token" in first or any(n == "X-Amz-Security-Token" for n, _ in pairs):
            raise _fail("token", f"{names[1]}: sent together with X-Amz-Security-Token; a directory bucket request "
                                 "carries its session token in one place only", auth)
        return names
    return _SECURITY_TOKEN


def _verify_v4(request: Request, first: dict[str, str], auth: SignedAuth, creds: Credentials, rules: CanonicalRules,
               s3: bool, omit_session_token: bool, pairs: _Pairs) -> str:
    """Recompute a SigV4/SigV4a signature; return the signed payload line (`pairs`: the query, see
    `_request_query`)."""
    presigned = auth.presigned
    target = request._parts.target
    own_token = _SESSION_TOKEN_NAMES.get(auth.service)
    param, header = _SECURITY_TOKEN if own_token is None else _token_names(first, auth, pairs, own_token)
    if presigned:
        tokens = [v for n, v in pairs if n == param]
        _check_token(tokens[0] if tokens else None, creds, f"{param} query parameter", auth)
    else:
        _check_header_token(first.get(header), creds, header, auth)
    headers, pick = _picked(request, first, auth, s3)
    payload = _payload_line(request, first.get("x-amz-content-sha256"), auth, s3)
    if "#" in target:  # only an origin-form target can hold one: an absolute URL's fragment is split off
        # A server routes by the whole path; canonicalizing only what precedes `#` let `/a#anything` verify as `/a`.
        raise _fail("malformed_request", "request target: holds '#', which no request target may (RFC 9112 3.2)",
                    auth)
    if pick.undated is not None and headers[pick.date_index][1] == auth.amz_date:
        _check_head(auth, creds, _kept_head(request, headers, pick, rules, auth.amz_date), payload)
    else:
        canonical = _canonical_text(request, headers, pick, rules, auth, omit_session_token, payload)
        text = string_to_sign(auth.algorithm, auth.amz_date, auth.credential_scope, canonical)
        if not _SIGNATURE_CHECKS[auth.version](auth, creds, text):
            raise _mismatch(auth, canonical, text)
    if pick.checksums:
        _check_checksum_headers(headers, request.body, pick.checksums, auth, payload)
    return payload


def _check_header_token(token: str | None, creds: Credentials, header: str, auth: SignedAuth) -> None:
    """A header-signed request's session token (`token`: its header's value, or None) against the key's."""
    if token is not None or creds.session_token is not None:  # else nothing to compare
        _check_token(token, creds, f"{header} header", auth)


def _picked(request: Request, first: dict[str, str], auth: SignedAuth,
            s3: bool) -> tuple[tuple[tuple[str, str], ...], _SignedPick]:
    """(headers, pick): the request's headers (with the Host an absolute URL implies when none is sent) and which
    of them are signed (`s3`: by S3's rule, every x-amz-* header); raises the pick's problem."""
    headers = request.headers
    # The lowercase names, in order: the keys of `first` unless a name repeats.
    names = tuple(first) if len(first) == len(headers) else _repeated_names(headers, auth)
    if "host" not in first and request.scheme:
        headers = (*headers, ("Host", host_from_url(request)))
        names = (*names, "host")
    pick = _signed_pick(names, auth.signed_headers, auth.presigned, auth.version == "v4a", s3)
    if pick.problem is not None:
        raise _fail(*pick.problem, auth)
    return headers, pick


def _kept_head(request: Request, headers: tuple[tuple[str, str], ...], pick: _SignedPick, rules: CanonicalRules,
               amz_date: str) -> _CanonicalHead:
    """The canonical request up to the payload line, kept per exact shape (see `_CANONICAL_HEADS`)."""
    assert pick.undated is not None
    key = (request.method, request._parts.target, rules, pick.signed_text, pick.undated(headers))
    head = _CANONICAL_HEADS.get(key)
    if head is None:
        head = _canonical_head(request, headers, pick, rules, amz_date)
        if len(_CANONICAL_HEADS) >= _CANONICAL_HEADS_SIZE:
            _CANONICAL_HEADS.clear()
        _CANONICAL_HEADS[key] = head
    return head


def _check_head(auth: SignedAuth, creds: Credentials, head: _CanonicalHead, payload: str) -> None:
    """Check the signature over the canonical request `head` completes with the date and `payload` lines."""
    before, after, hashed_before = head
    hashed = hashed_before.copy()
    # surrogateescape: a header value byte that is not UTF-8 (read so by a server) is hashed as that byte.
    hashed.update((auth.amz_date + after + payload).encode("utf-8", "surrogateescape"))
    text = f"{auth.algorithm}\n{auth.amz_date}\n{auth.credential_scope}\n{hashed.hexdigest()}"
    if not _SIGNATURE_CHECKS[auth.version](auth, creds, text):
        raise _mismatch(auth, before + auth.amz_date + after + payload, text)


# A client sends request after request that differ, within what is signed, only in the date and the payload:
# the canonical request's text around the X-Amz-Date value, up to the payload line, is kept here, keyed on
# everything else that enters it, exactly as sent: the method, the request target, the canonicalization
# rules, the signed header names (SignedHeaders as the canonical request lists them) and each signed header
# (name, value) but X-Amz-Date's, in canonical order. Identical keys render identical text; emptied when full.
_CANONICAL_HEADS: dict[tuple[object, ...], _CanonicalHead] = {}
_CANONICAL_HEADS_SIZE = 512


class _CanonicalHead(NamedTuple):
    """A canonical request's text around its X-Amz-Date value, up to the payload line (see `_CANONICAL_HEADS`)."""

    before: str  # up to `x-amz-date:`
    after: str  # from the end of that line to the payload line
    #: The SHA-256 state after `before`: a request hashes only the rest, as HMAC's key pads are hashed once per key.
    hashed_before: hashlib._Hash


def _canonical_head(request: Request, headers: tuple[tuple[str, str], ...], pick: _SignedPick,
                    rules: CanonicalRules, amz_date: str) -> _CanonicalHead:
    """The canonical text of a header-signed request with distinct header names, up to the payload line, as
    the two pieces before and after its X-Amz-Date value (the line `x-amz-date:<amz_date>`)."""
    uri, query, lines, signed_text = _canonical_parts(request, headers, pick, rules, None, False)
    at = pick.date_at
    before = "\n".join((request.method, uri, query, *lines[:at], "x-amz-date:"))
    return _CanonicalHead(before, "\n".join(("", *lines[at + 1:], "", signed_text, "")),
                          hashlib.sha256(before.encode("utf-8", "surrogateescape")))


def _canonical_text(request: Request, headers: tuple[tuple[str, str], ...], pick: _SignedPick, rules: CanonicalRules,
                    auth: SignedAuth, omit_session_token: bool, payload: str) -> str:
    """The canonical request the client must have signed."""
    uri, query, lines, signed_text = _canonical_parts(request, headers, pick, rules, auth, omit_session_token)
    # The text alone: a CanonicalRequest would be built only to be rendered once.
    return render_canonical(request.method, uri, query, lines, signed_text, payload)


def _canonical_parts(request: Request, headers: tuple[tuple[str, str], ...], pick: _SignedPick,
                     rules: CanonicalRules, auth: SignedAuth | None,
                     omit_session_token: bool) -> tuple[str, str, list[str], str]:
    """(URI, query, header lines, signed header names) of the canonical request (`auth`: None for a header-signed
    request)."""
    path, _, raw_query = request._parts.target.partition("?")
    try:
        # Only the headers the client listed are canonicalized, and with its own names; all of them are signed.
        if pick.order is not None:  # no name repeats: each header canonicalized alone, in the planned order
            lines = [_header_line(*headers[index]) for index in pick.order]
            signed_text = pick.signed_text
        else:
            header_pairs, signed_text = canonical_headers([headers[index] for index in pick.indices], _ALL_SIGNED)
            lines = list(map(":".join, header_pairs))
        uri = canonical_uri(path, rules)
        if auth is not None and auth.presigned:
            # Header signing shows an unsigned token by SignedHeaders; a presigned query cannot, hence the option.
            unsigned_token = omit_session_token or auth.service in UNSIGNED_TOKEN_SERVICES
            dropped = _SIGNATURE_AND_TOKEN if unsigned_token else _SIGNATURE
            query = canonical_query_without(raw_query, rules.plus_is_space, dropped)
        else:
            query = canonical_query_string(raw_query, rules.plus_is_space)
    except SigningError as err:
        raise _fail("malformed_request", str(err), auth) from None
    return uri, query, lines, signed_text


#: The query parameters a presigned URL's signature does not cover: itself, and a token added after signing.
_SIGNATURE, _SIGNATURE_AND_TOKEN = frozenset({"X-Amz-Signature"}), frozenset({"X-Amz-Signature", "X-Amz-Security-Token"})

_Problem = tuple[Reason, str]


def _repeated_names(headers: tuple[tuple[str, str], ...], auth: SignedAuth) -> tuple[str, ...]:
    """The lowercase names of headers among which a name repeats; two Host headers are refused (RFC 9112
    3.2: a server answers 400), as the one a server routes by would be a guess."""
    names = tuple([name.lower() for name, _ in headers])
    if names.count("host") > 1:
        raise _fail("malformed_request", "Host header: sent more than once", auth)
    return names


# Each (name, value) is checked and canonicalized once (`canonical_header`, which caches the same way), and kept
# as the line it is in the canonical request.
@lru_cache(maxsize=1024)
def _header_line(name: str, value: str) -> str:
    return ":".join(canonical_header(name, value))


#: (index, algorithm) of each flexible-checksum header (`x-amz-checksum-*`) among a request's headers.
_Checksums = tuple[tuple[int, ChecksumAlgorithm], ...]


class _SignedPick(NamedTuple):
    """Which of a header shape's headers are signed, and how they canonicalize (see `_signed_pick`)."""

    #: Indices of the signed headers, in request order.
    indices: tuple[int, ...]
    #: The same, in canonical (sorted by lowercase name) order; None when a name repeats (values are merged).
    order: tuple[int, ...] | None
    signed_text: str
    #: The reason and message to refuse the list, or None.
    problem: _Problem | None
    #: The checksum headers to check against the body, signed or not.
    checksums: _Checksums = ()
    #: For a header-signed request with distinct names and an X-Amz-Date header: that header's index, its line's
    #: position among the canonical header lines, and what picks every other signed (name, value) in canonical
    #: order (the key of `_CANONICAL_HEADS`); None otherwise.
    date_index: int = -1
    date_at: int = -1
    undated: Callable[[tuple[tuple[str, str], ...]], object] | None = None


# A client sends the same header names in the same order, signing the same list, request after request:
# which headers to canonicalize, in what order, and whether the list is acceptable at all, is worked out once
# per such shape.
@lru_cache(maxsize=256)
def _signed_pick(lower: tuple[str, ...], signed_names: tuple[str, ...], presigned: bool,
                 v4a_header: bool, s3: bool) -> _SignedPick:
    """`lower`: the request's header names, lowercase."""
    signed = {name.lower() for name in signed_names}
    required = {"host"} if presigned else {"host", "x-amz-date" if "x-amz-date" in lower else "date"}
    if v4a_header and not presigned:
        required.add("x-amz-region-set")
    if s3:  # S3 refuses an x-amz-* header sent unsigned (HeadersNotSigned): a relay could add `x-amz-acl`. A
        # checksum header is checked against the body instead, signed or not.
        required.update(name for name in lower if name.startswith("x-amz-") and checksum_for_header(name) is None)
    if unsigned := sorted(required - signed):
        return _SignedPick((), None, "", ("unsigned_header", f"SignedHeaders: {', '.join(unsigned)} must be signed"))
    if missing := [name for name in signed_names if name.lower() not in lower]:
        return _SignedPick((), None, "", ("missing_signed_header",
                                          f"SignedHeaders: {', '.join(missing)} listed but absent from the request"))
    indices = tuple([index for index, name in enumerate(lower) if name in signed])
    picked = [lower[index] for index in indices]
    checksums = tuple([(index, algorithm) for index, name in enumerate(lower)
                       if (algorithm := checksum_for_header(name)) is not None])
    if len(set(picked)) < len(picked):
        return _SignedPick(indices, None, "", None, checksums)
    order = tuple(sorted(indices, key=lower.__getitem__))
    signed_text = ";".join([lower[index] for index in order])
    if presigned or "x-amz-date" not in lower:
        return _SignedPick(indices, order, signed_text, None, checksums)
    date_index = lower.index("x-amz-date")
    # Host is always signed too, so at least one index is left; `signed_text` in the key tells a lone pair,
    # which itemgetter returns bare, from a tuple of them.
    undated = itemgetter(*[index for index in order if index != date_index])
    return _SignedPick(indices, order, signed_text, None, checksums, date_index, order.index(date_index), undated)


def _v2_params(request: Request, pairs: _Pairs, auth: SignedAuth | None = None) -> Sequence[tuple[str, str]]:
    """SigV2's parameters, decoded: `pairs` (the query as `_request_query` read it) where they travel in the query,
    else its form body's (as `v2.decode_params` reads them, `+` a space)."""
    if not v2.params_in_body(request):
        return pairs
    try:
        body = request.body
        cached = body.__class__ is bytes and len(body) <= _CACHED_FORM_BYTES
        return _form_params(request) if cached else v2.decode_params(request)
    except SigningError as err:
        raise _fail("malformed_request", str(err), auth) from None


# As `_target_query`, for a form body: the parse reads it, then the verifier. Keyed on the whole request (its body
# hashable bytes), which the cache keeps: only small bodies, so that it holds no more than a few hundred KiB after
# a server has let go of them (its body budget counts a body only while it holds it).
_CACHED_FORM_BYTES = 64 * 1024
@lru_cache(maxsize=8)
def _form_params(request: Request) -> _Pairs:
    return tuple(v2.decode_params(request))


def _verify_v2(request: Request, first: dict[str, str], auth: SignedAuth, creds: Credentials, rules: CanonicalRules, s3: bool,
               omit_session_token: bool, pairs: _Pairs) -> str:
    params = _v2_params(request, pairs, auth)
    tokens = [v for n, v in params if n == "SecurityToken"]
    _check_token(tokens[0] if tokens else None, creds, "SecurityToken parameter", auth)
    try:
        text = v2.string_to_sign(request.method, v2.request_host(request), request.path, params)
        expected = v2.signature(creds.secret_access_key, text, auth.algorithm)
    except SigningError as err:
        raise _fail("malformed_request", str(err), auth) from None
    if not hmac.compare_digest(expected.encode(), auth.signature.encode("utf-8", "surrogateescape")):
        raise _mismatch(auth, None, text)
    return ""  # SigV2 signs the parameters themselves, not a payload hash


def _verify_s3v2(request: Request, first: dict[str, str], auth: SignedAuth, creds: Credentials, rules: CanonicalRules,
                 s3: bool, omit_session_token: bool, pairs: _Pairs) -> str:
    """S3's SigV2: the session token, the signature over `s3v2.string_to_sign`, a Content-MD5 against the body."""
    where = f"{s3v2.TOKEN} {'query parameter' if auth.presigned else 'header'}"
    try:
        token = s3v2.session_token(request, auth.presigned)
        text = s3v2.string_to_sign(request, presigned=auth.presigned, plus_is_space=rules.plus_is_space)
    except SigningError as err:
        raise _fail("malformed_request", str(err), auth) from None
    _check_token(token, creds, where, auth)
    if not s3v2.matches(creds.secret_access_key, text, auth.signature):
        raise _mismatch(auth, None, text)
    if (problem := s3v2.body_md5_problem(request)) is not None:
        raise _fail("checksum", problem, auth)
    # No payload line is signed (a body only through its Content-MD5); S3 still checks an x-amz-content-sha256.
    declared = first.get("x-amz-content-sha256")
    return UNSIGNED_PAYLOAD if declared is None else _payload_line(request, declared, auth, s3)


# -- the planned path ---------------------------------------------------------
#
# A client sends request after request of one shape: the same method, URL and headers, the same Authorization
# header up to its signature, differing only in the X-Amz-Date value and the signature (and the body). Everything
# verification works out from the rest (the claim's scope and signed-header list, which headers are signed, the
# canonical request around the date line, the token and payload headers) is kept per such shape, keyed on every
# byte it was worked out from, as sent: identical keys give identical plans, so a plan is exact by construction.
# Only header-signed SigV4 with an X-Amz-Date header is planned; the date is still parsed on every call, and
# `verify` runs the same checks on a planned claim as on a parsed one, in the same order and by the same code: the
# scope, time and key, then the token, payload and signature against what the plan kept. Nothing here depends on a
# secret or on the clock.


class _NameShape(NamedTuple):
    """Where, among headers with these exact names, the Authorization and X-Amz-Date headers are (first of each
    by lowercase name, as `_first_values` reads them), and what picks every other header."""

    authorization: int
    date: int
    others: Callable[[tuple[tuple[str, str], ...]], object]


class _Plan(NamedTuple):
    """What verification works out from a request but its date and signature (see above)."""

    claim: _Claim
    s3: bool
    rules: CanonicalRules
    token: str | None  # the x-amz-security-token header's value
    declared: str | None  # the x-amz-content-sha256 header's value
    head: _CanonicalHead


#: verify's plus_is_space, s3, normalize_path and double_encode.
_Knobs = tuple[bool, bool | None, bool | None, bool | None]
_NAME_SHAPES: dict[tuple[str, ...], _NameShape | None] = {}
_PLANS: dict[tuple[object, ...], _Plan | None] = {}
_PLANS_SIZE = 512  # each bound: emptied when full, as a server verifies many clients' shapes


def _name_shape(names: tuple[str, ...]) -> _NameShape | None:
    """The `_NameShape` of headers named `names`, or None when they hold no Authorization or X-Amz-Date."""
    lower = [name.lower() for name in names]
    if "authorization" not in lower or "x-amz-date" not in lower:
        return None
    at, date = lower.index("authorization"), lower.index("x-amz-date")
    others = [index for index in range(len(names)) if index not in (at, date)]
    # (itemgetter of one index gives that pair bare; the names in the key tell it from a tuple.) None: `headers[:0]`.
    return _NameShape(at, date, itemgetter(*others) if others else itemgetter(slice(0)))


def _planned(request: Request, plus_is_space: bool, s3: bool | None, normalize_path: bool | None,
             double_encode: bool | None) -> _Plan | None:
    """The plan of `request`'s shape (worked out at its first request, by the general path's own steps), or
    None where only the general path applies: another kind of signature, or one the general path refuses for
    what the shape holds (it reports that itself). A shape whose first request is refused for its date alone is
    left unplanned too: verified by the general path, more slowly, never otherwise."""
    try:
        first = _first_values(request)
        auth = _parse_auth(request, first, _request_query(request, plus_is_space), plus_is_space, SignedAuth)
        head = first["authorization"].rpartition(", Signature=")[0]
        claim = _common_claim(head)
        if (claim is None or auth.version != "v4" or auth.presigned or auth.service in _SESSION_TOKEN_NAMES
                or "#" in request._parts.target):
            return None
        if s3 is None:
            s3 = auth.service in S3_SERVICES
        headers, pick = _picked(request, first, auth, s3)
        if pick.undated is None or pick.checksums:
            return None
        rules = _rules(s3, normalize_path, double_encode, plus_is_space)
        return _Plan(claim, s3, rules, first.get("x-amz-security-token"), first.get("x-amz-content-sha256"),
                     _kept_head(request, headers, pick, rules, auth.amz_date))
    except VerificationError:
        return None


def _planned_claim(request: Request, knobs: _Knobs) -> tuple[_Plan, Identity] | None:
    """The plan of `request`'s shape and its claim, completed with its signature and date (`knobs`: plus_is_space,
    s3, normalize_path, double_encode); None where the shape has no plan."""
    headers = request.headers
    if not headers:
        return None
    names = next(zip(*headers))  # the names alone: the values are read from the pairs, half the cost of both
    try:
        shape = _NAME_SHAPES[names]
    except KeyError:
        if len(_NAME_SHAPES) >= _PLANS_SIZE:
            _NAME_SHAPES.clear()
        shape = _NAME_SHAPES[names] = _name_shape(names)
    if shape is None:
        return None
    head, sep, signature = headers[shape.authorization][1].rpartition(", Signature=")
    if not (sep and _is_plain(signature)):  # the general path reads the header by its full rules
        return None
    # Every byte of the request but its body, the date value and the signature; and every option it is read by.
    key = (request.method, request.url, names, shape.others(headers), head, knobs)
    try:
        plan = _PLANS[key]
    except KeyError:
        if len(_PLANS) >= _PLANS_SIZE:
            _PLANS.clear()
        plan = _PLANS[key] = _planned(request, *knobs)
    if plan is None:
        return None
    text = headers[shape.date][1]
    return plan, _completed(Identity, plan.claim, signature, _parse_amz_date(text, "X-Amz-Date header"), text)


_VERIFIERS: dict[str, Callable[[Request, dict[str, str], SignedAuth, Credentials, CanonicalRules, bool, bool,
                                 _Pairs], str]] = {
    "v4": _verify_v4, "v4a": _verify_v4, "v2": _verify_v2, "s3v2": _verify_s3v2,
}


def verify(
    request: Request, lookup: Callable[[str], Credentials | None], *, now: datetime,
    max_skew: timedelta = timedelta(minutes=15), expected_service: str | None = None,
    allowed_regions: Collection[str] | None = None, s3: bool | None = None, normalize_path: bool | None = None,
    double_encode: bool | None = None, plus_is_space: bool = False, omit_session_token: bool = False,
    claimed: SignedAuth | None = None,
) -> Identity:
    """Verify a received request signed with SigV4, SigV4a (header or presigned) or SigV2.

    `lookup(access_key_id)` returns the key's Credentials or None.
    `expected_service` and `allowed_regions` (None: any) restrict the credential
    scope; `s3=True` canonicalizes as S3 does (no path normalization, single
    URI encoding) and requires `x-amz-content-sha256` on header-signed requests;
    `s3=None` does so when the scope's service is one of `S3_SERVICES` (S3 itself
    never signs by the other rules).
    `omit_session_token=True` accepts presigned URLs whose X-Amz-Security-Token
    was added after signing (as `presign(omit_session_token=True)` does); the
    token is still checked against the credentials. A presigned URL for a service
    in `UNSIGNED_TOKEN_SERVICES` (AWS IoT's `iotdevicegateway`) is always read so.
    `claimed`: what `parse_auth(request, plus_is_space=...)` returned for this same request, when the
    caller has it already (a server that checks the claimed scope first); it is not parsed again.
    A str `allowed_regions` is one region (not a collection of its letters).
    Returns the verified Identity; raises VerificationError whose `.reason` is
    one of REASONS (InvalidTimestampError for a `now` that is not an aware datetime, InvalidParameterError for a
    `max_skew` that is not a timedelta).
    """
    if now.__class__ is not datetime or now.tzinfo is not timezone.utc:  # the usual `now` skips both
        if not isinstance(now, datetime):
            raise InvalidTimestampError(f"now: expected a timezone-aware datetime, got {type(now).__name__}")
        if now.tzinfo is None or now.utcoffset() is None:
            raise InvalidTimestampError("now: naive datetime; pass a timezone-aware one (e.g. tzinfo=timezone.utc)")
        now = now.astimezone(timezone.utc)
    if isinstance(allowed_regions, str):
        allowed_regions = (allowed_regions,)
    if max_skew.__class__ is not timedelta and not isinstance(max_skew, timedelta):
        raise InvalidParameterError(f"max_skew: expected a timedelta, got {type(max_skew).__name__}")
    planned = None if claimed is not None else _planned_claim(request, (plus_is_space, s3, normalize_path,
                                                                           double_encode))
    if planned is not None:
        plan, auth = planned
    else:
        first = _first_values(request)
        pairs = _request_query(request, plus_is_space)
        if claimed is None:
            auth = _parse_auth(request, first, pairs, plus_is_space, Identity)
        else:
            auth = _auth_of(Identity, _fields_of(claimed))
    _check_claim(auth, expected_service, allowed_regions, now, max_skew)
    creds = lookup(auth.access_key_id)
    if creds is None:
        raise _fail("unknown_key", f"access key id {auth.access_key_id!r}: not known to this server", auth)
    if planned is not None:  # `_verify_v4`'s checks that remain once the plan fixed the rest
        _check_header_token(plan.token, creds, "x-amz-security-token", auth)
        payload = _payload_line(request, plan.declared, auth, plan.s3)
        _check_head(auth, creds, plan.head, payload)
    else:
        if s3 is None:
            s3 = auth.service in S3_SERVICES
        rules = _rules(s3, normalize_path, double_encode, plus_is_space)
        payload = _VERIFIERS[auth.version](request, first, auth, creds, rules, s3, omit_session_token, pairs)
    _complete(auth, creds, payload)
    return auth


def verify_head(request: Request, lookup: Callable[[str], Credentials | None], *, now: datetime,
                **options: Any) -> Identity | None:
    """`verify` of what `request`'s head decides, its body not read (`request.body` is never looked at): how a
    server answers `Expect: 100-continue` before the body is sent. Returns the Identity when the head's signature
    verifies (its payload line declared in x-amz-content-sha256, or none signed); None when checking it needs the
    body (a payload line that is the body's SHA-256, a SigV2 form body; a malformed request is decided with the
    body too). `options`: `verify`'s. Raises VerificationError for what the head alone refuses (no or a malformed
    authorization, scope, skew, expiry, unknown key, token, a signature over a declared payload line)."""
    try:
        return verify(request.with_body(iter(())), lookup, now=now, **options)
    except VerificationError as err:
        if err.reason == "malformed_request":  # the body is what verification reads next (or is unreadable)
            return None
        raise


def _rules(s3: bool, normalize_path: bool | None, double_encode: bool | None, plus_is_space: bool) -> CanonicalRules:
    """`verify`'s canonicalization rules: S3's (no path normalization, single encoding) unless the knobs say."""
    return _RULES[(not s3) if normalize_path is None else normalize_path,
                  (not s3) if double_encode is None else double_encode, plus_is_space]


#: Every CanonicalRules by its three knobs, built once.
_RULES = {tuple(knobs): CanonicalRules(*knobs) for knobs in product((False, True), repeat=3)}
