"""S3's Signature Version 2: `Authorization: AWS AKID:signature` and `?AWSAccessKeyId=&Expires=&Signature=` URLs.

Strategy: what botocore's `HmacV1Auth` and `HmacV1QueryAuth` sign (and what
boto3 presigns with unless told `signature_version="s3v4"`), as S3's
documentation defines it (the REST authentication of the S3 developer guide):

    StringToSign = METHOD \\n Content-MD5 \\n Content-Type \\n Date \\n
                   CanonicalizedAmzHeaders CanonicalizedResource

base64(HMAC-SHA1(secret, UTF-8 of it)). `Date` is the Date header, empty when
an `x-amz-date` header gives the time instead; a presigned URL puts its
`Expires` (Unix seconds) there. CanonicalizedAmzHeaders: each `x-amz-*`
header (and, in a presigned URL, each `x-amz-*` query parameter, which S3
reads as a header: the session token travels so), lowercase, its values
trimmed and joined with `,`, sorted, one `name:value\\n` line each.
CanonicalizedResource: `/bucket` when the Host names the bucket (an S3
virtual-hosted host name, `sigv4.s3hosts`), then the path exactly as sent
(a bucket alone ends in `/`: `/bucket` is `/bucket/`), then the
sub-resources of the query (`SUBRESOURCES`, botocore's list) sorted by name,
their values percent-decoded.

What SigV2 does not sign, and S3 does not either: the Host beyond the bucket
it names, every header other than those above, the query parameters that are
not sub-resources (`prefix`, `max-keys`...), and the body unless a
Content-MD5 is sent (S3 checks the body against it; `sigv4.verify` does).
Two readings of one signed text are refused instead of accepted either way:
a sub-resource name sent escaped (`%61cl`, a server reads `acl`, the
signature never covered it), a sub-resource value whose decoded text holds
`&` (`acl=x%26versionId=1` signs as `acl=x&versionId=1`), repeated
Content-MD5, Content-Type or Date headers.

Pure: the time (or the expiry) and credentials are arguments.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from urllib.parse import quote

from .bounded import decimal
from .canonical import check_header, check_one_host, query_component, wire_bytes
from .errors import InvalidHeaderError, InvalidParameterError, InvalidTimestampError
from .s3hosts import s3_bucket_of
from .types import Credentials, Request

#: The Authorization scheme: `AWS <access key id>:<signature>`.
SCHEME = "AWS"
#: The sub-resources a canonical resource keeps from the query (botocore's `HmacV1Auth.QSAOfInterest`).
SUBRESOURCES = frozenset({
    "accelerate", "acl", "cors", "defaultObjectAcl", "location", "logging", "partNumber", "policy",
    "requestPayment", "torrent", "versioning", "versionId", "versions", "website", "uploads", "uploadId",
    "response-content-type", "response-content-language", "response-expires", "response-cache-control",
    "response-content-disposition", "response-content-encoding", "delete", "lifecycle", "tagging", "restore",
    "storageClass", "notification", "replication", "analytics", "metrics", "inventory", "select", "select-type",
    "object-lock",
})
#: The query parameters of a presigned URL that are its signature (the token compares case-insensitively).
QUERY_AUTH = ("AWSAccessKeyId", "Expires", "Signature")
TOKEN = "x-amz-security-token"


@dataclass(frozen=True, slots=True)
class S3SigV2Result:
    """An S3 SigV2-signed request (header-signed or presigned) and what went into its signature."""

    request: Request
    string_to_sign: str = field(repr=False)  # holds the session token, when there is one
    signature: str  # base64
    #: A presigned URL's expiry, Unix seconds; None for a header signature.
    expires: int | None

    @property
    def url(self) -> str:
        return self.request.url

    @property
    def signed_headers(self) -> tuple[str, ...]:
        """The names (lowercase, sorted) of the request's headers its signature covers: Content-MD5, Content-Type,
        `x-amz-*`, and Date for a header signature (a presigned URL signs its `Expires` instead)."""
        names = {name.lower() for name, _ in self.request.headers}
        signed = {"content-md5", "content-type"} | (set() if self.expires is not None else {"date"})
        return tuple(sorted(name for name in names if name in signed or name.startswith("x-amz-")))


def header_claim(value: str) -> tuple[str, str]:
    """(access key id, signature) of an `AWS AKID:signature` Authorization value.

    Raises InvalidHeaderError naming the rule when it is not of that form."""
    scheme, _, credential = value.strip().partition(" ")
    key, colon, signature = credential.strip().partition(":")
    if scheme != SCHEME or not colon or not key or not signature or " " in credential.strip():
        raise InvalidHeaderError(f"Authorization header: {value[:80]!r} is not of the form "
                                 "'AWS <access key id>:<signature>'")
    return key, signature


def expiry(text: str) -> datetime:
    """The time of a presigned URL's `Expires` (Unix seconds). Raises InvalidTimestampError."""
    seconds = decimal(text, 11)
    if seconds is None or seconds > 253402300799:  # 9999-12-31T23:59:59Z
        raise InvalidTimestampError(f"Expires query parameter: {text[:80]!r} is not Unix seconds within years "
                                    "1970..9999")
    return datetime.fromtimestamp(seconds, timezone.utc)


def _single(headers: Iterable[tuple[str, str]], name: str) -> str:
    values = [value for key, value in headers if key.lower() == name]
    if len(values) > 1:
        raise InvalidHeaderError(f"{name} header: sent {len(values)} times; S3's SigV2 signs one")
    return values[0].strip(" \t") if values else ""


def amz_headers(request: Request, presigned: bool) -> list[tuple[str, str]]:
    """(lowercase name, value) of every `x-amz-*` header, and of a presigned URL's `x-amz-*` query parameters
    (decoded), values trimmed of spaces and tabs, request order. Raises InvalidHeaderError for a control byte
    or a name sent both as a header and as a query parameter."""
    found: list[tuple[str, str]] = []
    for name, value in request.headers:
        if name.lower().startswith("x-amz-"):
            check_header(name, value)
            found.append((name.lower(), value.strip(" \t")))
    if presigned:
        in_headers = {name for name, _ in found}
        for name, raw in _query_parts(request.query):
            lower = query_component(name).lower()
            if lower.startswith("x-amz-"):
                if lower != name.lower():  # a server reads it as the header; the signer did not
                    raise InvalidParameterError(f"query: parameter {name!r} is {lower!r} escaped; send its name as is")
                if lower in in_headers:
                    raise InvalidHeaderError(f"{lower}: sent both as a header and as a query parameter")
                text = query_component(raw or "")
                check_header(lower, text)
                found.append((lower, text.strip(" \t")))
    return found


def canonical_amz_headers(pairs: Iterable[tuple[str, str]]) -> str:
    """The CanonicalizedAmzHeaders block: `name:v1,v2\\n` per name, sorted by name."""
    joined: dict[str, list[str]] = {}
    for name, value in pairs:
        joined.setdefault(name, []).append(value)
    return "".join(f"{name}:{','.join(joined[name])}\n" for name in sorted(joined))


def _query_parts(query: str) -> list[tuple[str, str | None]]:
    """(raw name, raw value or None for a part without `=`) of each non-empty `&` part."""
    parts: list[tuple[str, str | None]] = []
    for part in query.split("&"):
        if part:
            name, eq, value = part.partition("=")
            parts.append((name, value if eq else None))
    return parts


def subresources(query: str, plus_is_space: bool = False) -> list[tuple[str, str | None]]:
    """The sub-resources of a raw query, (name, decoded value or None), sorted by name (repeats in their order).

    Raises InvalidParameterError for what one signed text would leave two readings of: a sub-resource name
    sent escaped, or a value whose decoded text holds `&`."""
    found: list[tuple[str, str | None]] = []
    for name, raw in _query_parts(query):
        if name not in SUBRESOURCES:
            if query_component(name) in SUBRESOURCES:
                raise InvalidParameterError(f"query: parameter {name!r} is the sub-resource {query_component(name)!r} "
                                            "escaped, which S3's SigV2 does not sign; send its name as is")
            continue
        value = None if raw is None else query_component(raw, plus_is_space=plus_is_space)
        if value is not None and "&" in value:
            raise InvalidParameterError(f"query: sub-resource {name} has '&' in its decoded value, which S3's "
                                        "SigV2 signs as a separator of sub-resources")
        found.append((name, value))
    return sorted(found, key=lambda pair: pair[0])


def canonical_resource(path: str, query: str, bucket: str | None, plus_is_space: bool = False) -> str:
    """`[/bucket]path[?sub-resources]`, the path as sent (see `subresources` for what it raises)."""
    resource = (f"/{bucket}" if bucket else "") + (path or "/")
    if resource.count("/") == 1 and resource != "/":  # a bucket alone is `/bucket/` to S3 (and botocore)
        resource += "/"
    kept = subresources(query, plus_is_space)
    if kept:
        resource += "?" + "&".join(name if value is None else f"{name}={value}" for name, value in kept)
    return resource


def string_to_sign(request: Request, *, presigned: bool, bucket: str | None = None,
                   plus_is_space: bool = False) -> str:
    """What the request's S3 SigV2 signature signs (presigned: the query's `Expires` is the date line).

    `bucket`: the bucket the Host names, by default read from an S3 virtual-hosted Host (else path-style).
    Raises InvalidHeaderError, InvalidParameterError naming the header or parameter at fault."""
    headers = request.headers
    check_one_host([name.lower() for name, _ in headers])
    amz = amz_headers(request, presigned)
    if presigned:
        date = next((query_component(value or "") for name, value in _query_parts(request.query) if name == "Expires"), "")
    else:
        date = "" if any(name == "x-amz-date" for name, _ in amz) else _single(headers, "date")
    md5, content_type = _single(headers, "content-md5"), _single(headers, "content-type")
    for name, value in (("Content-MD5", md5), ("Content-Type", content_type), ("Date", date)):
        check_header(name, value)
    if bucket is None:
        bucket = s3_bucket_of(request.header("host") or request.authority)
    resource = canonical_resource(request.path, request.query, bucket, plus_is_space)
    return f"{request.method}\n{md5}\n{content_type}\n{date}\n{canonical_amz_headers(amz)}{resource}"


def signature(secret_access_key: str, text: str) -> str:
    """base64(HMAC-SHA1) of a string-to-sign (its bytes as a server reads them, see `wire_bytes`)."""
    digest = hmac.new(secret_access_key.encode("utf-8"), wire_bytes(text, "S3 SigV2 string-to-sign"), hashlib.sha1)
    return base64.b64encode(digest.digest()).decode("ascii")


def matches(secret_access_key: str, text: str, sent: str) -> bool:
    """Whether `sent` is the signature of `text`, compared in constant time."""
    expected = signature(secret_access_key, text).encode("ascii")
    return hmac.compare_digest(expected, sent.encode("utf-8", "surrogateescape"))


def session_token(request: Request, presigned: bool) -> str | None:
    """The session token the request carries: its `x-amz-security-token` header, or in a presigned URL
    that query parameter (decoded)."""
    token = request.header(TOKEN)
    if token is None and presigned:
        token = next((query_component(value or "") for name, value in _query_parts(request.query)
                      if name.lower() == TOKEN), None)
    return token


def body_md5_problem(request: Request) -> str | None:
    """What is wrong with a Content-MD5 header for the body at hand (S3 checks it, and SigV2 signs the body
    only through it); None when it matches, is absent, or the body streams."""
    sent = request.header("content-md5")
    body = request.body
    if sent is None or not isinstance(body, (bytes, bytearray, memoryview)):
        return None
    actual = base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode("ascii")
    if hmac.compare_digest(actual.encode("ascii"), sent.strip(" \t").encode("utf-8", "surrogateescape")):
        return None
    return f"Content-MD5 header: {sent[:40]!r} does not match the body's MD5 {actual} ({len(body)} bytes)"


def without_auth(url: str) -> str:
    """`url` without an S3 SigV2 signature's query parameters (`QUERY_AUTH`, the session token)."""
    base, mark, query = url.partition("?")
    kept = [part for part in query.split("&") if part
            and part.partition("=")[0] not in QUERY_AUTH and part.partition("=")[0].lower() != TOKEN]
    return base + ("?" + "&".join(kept) if kept else "")


def _checked(credentials: Credentials) -> None:
    if not credentials.access_key_id or not credentials.secret_access_key:
        raise InvalidParameterError("credentials: access key id and secret access key must not be empty")
    if ":" in credentials.access_key_id or " " in credentials.access_key_id:
        raise InvalidParameterError("credentials: an access key id with ':' or a space cannot be sent as "
                                    "'AWS <access key id>:<signature>'")


def sign(request: Request, credentials: Credentials, *, timestamp: datetime,
         bucket: str | None = None) -> S3SigV2Result:
    """`request` signed by its Authorization header: a `Date` of `timestamp` (replacing any), the session token
    as `x-amz-security-token`. `bucket`: see `string_to_sign`.

    Raises InvalidTimestampError for a naive timestamp, InvalidParameterError for empty credentials, and what
    `string_to_sign` raises."""
    _checked(credentials)
    if timestamp.tzinfo is None or timestamp.utcoffset() is None:
        raise InvalidTimestampError("timestamp: naive datetime; pass a timezone-aware one (e.g. tzinfo=timezone.utc)")
    sets = [("Date", format_datetime(timestamp.astimezone(timezone.utc), usegmt=True))]
    if credentials.session_token:
        sets.append((TOKEN, credentials.session_token))
    dated = request.edit_headers(sets, drops=("authorization", "x-amz-date") + (() if credentials.session_token
                                                                               else (TOKEN,)))
    text = string_to_sign(dated, presigned=False, bucket=bucket)
    sig = signature(credentials.secret_access_key, text)
    return S3SigV2Result(dated.with_header("Authorization", f"{SCHEME} {credentials.access_key_id}:{sig}"), text,
                         sig, None)


def presign(request: Request, credentials: Credentials, *, expires: int,
            bucket: str | None = None) -> S3SigV2Result:
    """`request`'s URL presigned until `expires` (Unix seconds): `AWSAccessKeyId`, `Expires`, `Signature` and the
    session token as `x-amz-security-token` appended to its query (old ones dropped). Its headers are signed
    as they are (Content-MD5, Content-Type, `x-amz-*`) and must be sent with the URL. `bucket`: see
    `string_to_sign`.

    Raises InvalidParameterError for empty credentials or a negative `expires`, and what `string_to_sign`
    raises."""
    _checked(credentials)
    if not isinstance(expires, int) or expires < 0:
        raise InvalidParameterError(f"expires: {expires!r} is not Unix seconds (a non-negative integer)")
    base = without_auth(request.url.partition("#")[0])
    added = [("AWSAccessKeyId", credentials.access_key_id), ("Expires", str(expires))]
    if credentials.session_token:
        added.append((TOKEN, credentials.session_token))
    encoded = "&".join(f"{name}={quote(value, safe='-_.~')}" for name, value in added)
    unsigned = request.without_headers(("authorization",)).with_url(base + ("&" if "?" in base else "?") + encoded)
    text = string_to_sign(unsigned, presigned=True, bucket=bucket)
    sig = signature(credentials.secret_access_key, text)
    return S3SigV2Result(unsigned.with_url(f"{unsigned.url}&Signature={quote(sig, safe='-_.~')}"), text, sig, expires)
