"""What every HTTP-library adapter shares: credentials, clock, options, and the redirect rule.

Strategy: an adapter turns its library's request into a `sigv4.Request`,
hands it to one `RequestSigner`, and copies the signed headers (or the
presigned URL) back. The signer holds a credential provider (plain
credentials become a static one; any other callable is wrapped in a
`CachingProvider` so it is asked again only near expiry), reads the clock
for the signing time, and checks the sign options once, at construction,
against the signature of `sigv4.sign` or `sigv4.presign`, so a misspelt
option fails when the adapter is built rather than on the first request.

Redirects: a signature is only ever sent to the origin (scheme, host, port)
it was made for, or to another origin when the caller opted in. When a
redirect leaves the origin, `SIGNATURE_HEADERS` (and with them the session
token) are removed from what the library will copy.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, Union
from urllib.parse import urlsplit

from ..errors import InvalidParameterError
from ..signer import presign as presign_request, sign as sign_request
from ..types import Credentials, Request
from .credentials import CachingProvider, CredentialProvider, ResolvedCredentials, static

#: Headers a signature adds; none of them may follow a redirect to another origin.
SIGNATURE_HEADERS = frozenset({
    "authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256", "x-amz-region-set",
})
#: Arguments the signer fills in itself; everything else in `sign`/`presign` is a sign option.
_FIXED = frozenset({"request", "credentials", "region", "service", "timestamp"})
_DEFAULT_PORTS = {"http": 80, "https": 443}

CredentialsOrProvider = Union[Credentials, CredentialProvider]


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of an absolute URL, the default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme)


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


class RequestSigner:
    """Signs `sigv4.Request`s for an adapter: header signing, or presigning when `presign=True`.

    `sign_options` are the keyword options of `sigv4.sign` (or of
    `sigv4.presign`, `expires` included): `algorithm`, `s3`, `payload`,
    `unsigned_headers`... Raises InvalidParameterError for an unknown one.
    """

    def __init__(self, credentials_or_provider: CredentialsOrProvider, *, region: str | list[str], service: str,
                 presign: bool = False, clock: Callable[[], datetime] = _utc_now, **sign_options: Any) -> None:
        target = presign_request if presign else sign_request
        allowed = set(inspect.signature(target).parameters) - _FIXED
        if unknown := sorted(set(sign_options) - allowed):
            raise InvalidParameterError(
                f"sign option(s) {', '.join(unknown)}: not options of sigv4.{target.__name__}; "
                f"expected some of {', '.join(sorted(allowed))}")
        self.provider = as_provider(credentials_or_provider)
        self.region = region
        self.service = service
        self.presign = presign
        self.clock = clock
        self.options = sign_options

    def credentials(self) -> Credentials:
        found = self.provider()
        return found.credentials if isinstance(found, ResolvedCredentials) else found

    @property
    def streaming(self) -> bool:
        """Whether the payload is an aws-chunked form, whose body the signer re-encodes."""
        return str(self.options.get("payload") or "").startswith("STREAMING-")

    def sign(self, request: Request, timestamp: datetime | None = None) -> Request:
        """The signed copy of `request`, at `timestamp` (default: the clock);
        raises the signer's SigningError subclasses."""
        sign = presign_request if self.presign else sign_request
        result = sign(request, self.credentials(), region=self.region, service=self.service,
                      timestamp=self.clock() if timestamp is None else timestamp, **self.options)
        return result.request


class AdapterSettings:
    """The constructor the requests and httpx adapters share: their signer and redirect policy."""

    def __init__(self, credentials_or_provider: CredentialsOrProvider, *, region: str | list[str], service: str,
                 presign: bool = False, resign_redirects: bool = False,
                 clock: Callable[[], datetime] = _utc_now, **sign_options: Any) -> None:
        self.signer = RequestSigner(credentials_or_provider, region=region, service=service, presign=presign,
                                    clock=clock, **sign_options)
        self.resign_redirects = resign_redirects
