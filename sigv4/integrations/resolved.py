"""What a credential provider returns, and the error every provider raises.

Its own module so that the providers that call out (STS, SSO, the container
and instance metadata endpoints) and the chain that walks them share these
values without importing each other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Union

from ..bounded import utc
from ..errors import SigningError
from ..types import Credentials


class CredentialsError(SigningError):
    """No usable credentials: a source is missing, malformed, or its command failed.

    A SigningError, so callers that catch signing failures (the CLI's one-line
    errors among them) catch this too. Messages name the source, never a secret.
    """


class NoCredentialsError(CredentialsError):
    """No source is configured at all (as opposed to a configured source that failed)."""


@dataclass(frozen=True, slots=True)
class ResolvedCredentials:
    """Credentials with where they came from, when they expire (None: never) and the profile's region."""

    credentials: Credentials
    source: str  # "static", "env", "profile <name> (<file>)", "credential_process (profile <name>)"
    expiry: datetime | None = None
    region: str | None = None

    @property
    def expiration(self) -> str | None:
        """The expiry as ISO 8601 UTC text (`2030-01-01T00:00:00Z`), as credential_process writes it."""
        return None if self.expiry is None else self.expiry.strftime("%Y-%m-%dT%H:%M:%SZ")


#: What a provider may return; `resolved()` turns either into ResolvedCredentials.
ProviderResult = Union[Credentials, ResolvedCredentials]
CredentialProvider = Callable[[], ProviderResult]


def resolved(result: ProviderResult) -> ResolvedCredentials:
    """A provider's result as ResolvedCredentials (plain Credentials never expire)."""
    if isinstance(result, ResolvedCredentials):
        return result
    if isinstance(result, Credentials):
        return ResolvedCredentials(result, "static")
    raise CredentialsError(f"credential provider: returned {type(result).__name__}, expected Credentials "
                           "or ResolvedCredentials")


def parse_expiry(text: str, where: str) -> datetime:
    """An ISO 8601 expiry (`2030-01-01T00:00:00Z`) as an aware UTC datetime."""
    try:
        # An expiry without an offset is UTC, as the AWS SDKs read it.
        return utc(datetime.fromisoformat(text.strip()))
    except ValueError:
        # The text is not repeated: it comes from an answer that holds secrets.
        raise CredentialsError(f"{where}: the expiration is not an ISO 8601 time within years 1..9999") from None


def from_json_fields(data: Any, names: tuple[str, str, str, str], where: str, source: str,
                     region: str | None = None) -> ResolvedCredentials:
    """Credentials from a decoded JSON object whose key id, secret, token and expiry fields are `names`.

    The expiry may be a datetime (decoded by `wire`), ISO 8601 text, or epoch milliseconds (SSO). Raises
    CredentialsError naming `where` (never a value) when a field is missing or not text.
    """
    key_name, secret_name, token_name, expiry_name = names
    if not isinstance(data, Mapping):
        raise CredentialsError(f"{where}: the answer is not a JSON object")
    key_id, secret, token = data.get(key_name), data.get(secret_name), data.get(token_name)
    if not (isinstance(key_id, str) and key_id and isinstance(secret, str) and secret
            and isinstance(token, (str, type(None)))):
        raise CredentialsError(f"{where}: the answer lacks {key_name} and {secret_name} as strings")
    expiry_value = data.get(expiry_name)
    if isinstance(expiry_value, datetime):
        expiry: datetime | None = expiry_value.astimezone(timezone.utc)
    elif isinstance(expiry_value, int) and not isinstance(expiry_value, bool):
        try:
            expiry = datetime.fromtimestamp(expiry_value / 1000, timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise CredentialsError(f"{where}: the expiration (epoch milliseconds) is not a time within years "
                                   "1..9999") from None
    elif isinstance(expiry_value, str):
        expiry = parse_expiry(expiry_value, where)
    else:
        expiry = None
    return ResolvedCredentials(Credentials(key_id, secret, token or None), source, expiry, region)
