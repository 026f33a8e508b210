"""What every HTTP-library adapter shares: credentials, clock, options, and the redirect rule.

Strategy: an adapter turns its library's request into a `sigv4.Request`,
hands it to one `RequestSigner`, and copies the signed headers (or the
presigned URL) back. The signer holds a credential provider (plain
credentials become a static one; any other callable is wrapped in a
`CachingProvider` so it is asked again only near expiry), reads the clock
for the signing time, and checks the sign options once, at construction,
against the signature of `sigv4.sign` or `sigv4.presign`, so a misspelt
option fails when the adapter is built rather than on the first request.

Signed headers: by default an adapter signs `host`, `content-type`,
`content-md5`, every `x-amz-*` header and the headers the caller names
(`signed_headers=`), and leaves the rest unsigned: proxies and the HTTP
library itself rewrite `accept-encoding`, `connection`, `user-agent`...,
and a signed header that changes on the way is a `SignatureDoesNotMatch`.
`unsigned_headers=` (a `sigv4.sign` option) replaces this rule with its own
list. `service="s3"` (and S3's `s3-object-lambda`, `s3-outposts`) implies
S3's canonicalization unless `s3=False` is passed.

Clock skew: each signer signs with its clock corrected by a `ClockSkew`
offset. When a server answers a clock-skew error (see `sigv4.clock_skew`), the
adapter has it `learn` the server's time, re-signs and retries once; the
offset stays for later requests.

Redirects: a signature is only ever sent to the origin (scheme, host, port)
it was made for, or to another origin when the caller opted in. When a
redirect leaves the origin, `SIGNATURE_HEADERS` (and with them the session
token) are removed from what the library will copy.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from typing import Any, Union
from urllib.parse import urlsplit

from ..canonical import S3_SERVICES
from ..clock_skew import SKEW_STATUSES, clock_offset, correction
from ..errors import InvalidParameterError
from ..signer import DEFAULT_PORTS, presign as presign_request, sign as sign_request
from ..types import Credentials, Request
from .credentials import CachingProvider, CredentialProvider, ResolvedCredentials, static

#: Headers a signature adds; none of them may follow a redirect to another origin.
SIGNATURE_HEADERS = frozenset({
    "authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256", "x-amz-region-set",
})
#: Arguments the signer fills in itself; everything else in `sign`/`presign` is a sign option.
_FIXED = frozenset({"request", "credentials", "region", "service", "timestamp"})
#: Headers an adapter signs by default, besides `x-amz-*` and the ones the caller names.
SIGNED_BY_DEFAULT = frozenset({"host", "content-type", "content-md5"})

CredentialsOrProvider = Union[Credentials, CredentialProvider]


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _default_port(scheme: str) -> int | None:
    port = DEFAULT_PORTS.get(scheme)
    return None if port is None else int(port)


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of an absolute URL, the default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or _default_port(scheme)


def as_provider(credentials_or_provider: CredentialsOrProvider) -> CredentialProvider:
    """Plain credentials as a static provider; a callable cached unless it already is a CachingProvider."""
    if isinstance(credentials_or_provider, Credentials):
        return static(credentials_or_provider)
    if isinstance(credentials_or_provider, CachingProvider):
        return credentials_or_provider
    if callable(credentials_or_provider):
        return CachingProvider(credentials_or_provider)
    raise InvalidParameterError(f"credentials_or_provider: {type(credentials_or_provider).__name__} is neither "
                                "Credentials nor a callable returning them")


class ClockSkew:
    """Our clock corrected by the offset a server's clock-skew errors revealed.

    `now()` is the signing time. Shared by the requests one signer makes;
    the offset is one attribute, replaced whole, so threads may share it.
    """

    def __init__(self, clock: Callable[[], datetime] = _utc_now) -> None:
        self.clock = clock
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return self.clock() + self.offset

    def learn(self, status: int, headers: Iterable[tuple[str, str]], body: bytes) -> bool:
        """Whether the response was a clock-skew error that moved the offset (then re-sign and
        retry, once); the new offset is kept for the requests that follow."""
        if status not in SKEW_STATUSES:
            return False
        new = correction(self.offset, clock_offset(status, headers, body, self.clock()))
        if new is None:
            return False
        self.offset = new
        return True


def unsigned_names(headers: Iterable[tuple[str, str]], signed: frozenset[str]) -> frozenset[str]:
    """The names (lowercase) of `headers` left unsigned by the adapters' rule: all but `x-amz-*`,
    `SIGNED_BY_DEFAULT` and `signed`."""
    names = {name.lower() for name, _ in headers}
    return frozenset(n for n in names if not n.startswith("x-amz-") and n not in SIGNED_BY_DEFAULT and n not in signed)


def _refuse_non_ascii_values(headers: Iterable[tuple[str, str]]) -> None:
    """Raise InvalidParameterError naming the first header whose value is not ASCII: the signature hashes it as
    UTF-8, while requests and urllib3 send it as Latin-1, aiohttp as UTF-8 and httpx not at all, so what the
    server hashes depends on the library (S3 answers SignatureDoesNotMatch; botocore refuses such metadata)."""
    for name, value in headers:
        if not value.isascii():
            raise InvalidParameterError(f"headers: {name}'s value holds a non-ASCII character "
                                        f"{next(c for c in value if not c.isascii())!r}, which HTTP libraries send in "
                                        "different encodings; encode it first (RFC 2047 or percent-encoding)")


class RequestSigner:
    """Signs `sigv4.Request`s for an adapter: header signing, or presigning when `presign=True`.

    `sign_options` are the keyword options of `sigv4.sign` (or of
    `sigv4.presign`, `expires` included): `algorithm`, `s3`, `payload`,
    `unsigned_headers`... Raises InvalidParameterError for an unknown one.
    `signed_headers` names headers to sign besides the default ones (see the
    module docstring); `service` in `S3_SERVICES` implies `s3=True`.
    """

    def __init__(self, credentials_or_provider: CredentialsOrProvider, *, region: str | list[str], service: str,
                 presign: bool = False, clock: Callable[[], datetime] = _utc_now,
                 signed_headers: Iterable[str] = (), **sign_options: Any) -> None:
        target = presign_request if presign else sign_request
        allowed = set(inspect.signature(target).parameters) - _FIXED
        if unknown := sorted(set(sign_options) - allowed):
            raise InvalidParameterError(
                f"sign option(s) {', '.join(unknown)}: not options of sigv4.{target.__name__}; "
                f"expected some of {', '.join(sorted(allowed))}")
        if service in S3_SERVICES:
            sign_options.setdefault("s3", True)
        self.provider = as_provider(credentials_or_provider)
        self.region = region
        self.service = service
        self.presign = presign
        self.skew = ClockSkew(clock)
        self.signed_headers = frozenset(name.lower() for name in signed_headers)
        self.options = sign_options

    @property
    def refresh_due(self) -> bool:
        """Whether the next signature asks the credential source (I/O): async adapters ask it in a worker thread
        first, so that the event loop is not blocked meanwhile."""
        return isinstance(self.provider, CachingProvider) and self.provider.cached() is None

    def credentials(self) -> Credentials:
        found = self.provider()
        return found.credentials if isinstance(found, ResolvedCredentials) else found

    @property
    def streaming(self) -> bool:
        """Whether the payload is an aws-chunked form, whose body the signer re-encodes."""
        return str(self.options.get("payload") or "").startswith("STREAMING-")

    def sign(self, request: Request, timestamp: datetime | None = None) -> Request:
        """The signed copy of `request`, at `timestamp` (default: the clock, corrected for skew); an aws-chunked
        one without its Transfer-Encoding, sent with the encoded Content-Length the signer adds instead.
        Raises the signer's SigningError subclasses; InvalidParameterError for a header value that is not ASCII."""
        sign = presign_request if self.presign else sign_request
        _refuse_non_ascii_values(request.headers)
        if self.streaming:  # not chunked by HTTP as well: a message with both framings is refused (RFC 9112 6.2)
            request = request.without_headers(("transfer-encoding",))
        options = self.options
        if "unsigned_headers" not in options:
            options = {**options, "unsigned_headers": unsigned_names(request.headers, self.signed_headers)}
        result = sign(request, self.credentials(), region=self.region, service=self.service,
                      timestamp=self.skew.now() if timestamp is None else timestamp, **options)
        return result.request


class AdapterSettings:
    """The constructor the requests and httpx adapters share: their signer and redirect policy."""

    def __init__(self, credentials_or_provider: CredentialsOrProvider, *, region: str | list[str], service: str,
                 presign: bool = False, resign_redirects: bool = False,
                 clock: Callable[[], datetime] = _utc_now, signed_headers: Iterable[str] = (),
                 **sign_options: Any) -> None:
        self.signer = RequestSigner(credentials_or_provider, region=region, service=service, presign=presign,
                                    clock=clock, signed_headers=signed_headers, **sign_options)
        self.resign_redirects = resign_redirects
