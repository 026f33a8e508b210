"""`aws login` sessions: the credentials the AWS CLI caches for a profile's `login_session`, read as botocore does.

Strategy: `aws login` (console sign-in) writes its session to AWS_LOGIN_CACHE_DIRECTORY, else
~/.aws/login/cache, as `<sha256 of the session name>.json`: `accessToken` holds the credentials and their
`expiresAt` (minutes away), beside a refresh token and a DPoP key. botocore refreshes expired credentials with
that key (the sign-in service's CreateOAuth2Token, each call carrying a DPoP proof); this module reads them only,
and when they have expired says how to have the AWS CLI refresh them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from ..bounded import json_loads
from .resolved import CredentialsError, ResolvedCredentials, from_json_fields
from .shared_files import expanded

_FIELDS = ("accessKeyId", "secretAccessKey", "sessionToken", "expiresAt")


def cache_path(session: str, env: Mapping[str, str], home: Path) -> Path:
    """Where `aws login` caches session `session` (AWS_LOGIN_CACHE_DIRECTORY, `~` and `$VARIABLES` expanded)."""
    configured = env.get("AWS_LOGIN_CACHE_DIRECTORY")
    directory = expanded(configured, env) if configured is not None else home / ".aws" / "login" / "cache"
    return directory / (hashlib.sha256(session.encode("utf-8")).hexdigest() + ".json")


def login_credentials(profile: str, session: str, env: Mapping[str, str], home: Path,
                      now: datetime) -> ResolvedCredentials:
    """The cached credentials of profile `profile`'s `login_session` `session`, unexpired at `now`.

    Raises CredentialsError (never with a value of the cache) when there is no such cache, it lacks the
    credentials, or they have expired (this module does not refresh them: the message says what does)."""
    path, hint = cache_path(session, env, home), f"aws login --profile {profile}"
    try:
        data = json_loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CredentialsError(f"profile {profile!r}: no `aws login` session {session!r} cached at {path}; "
                               f"run {hint}") from None
    except (OSError, ValueError) as err:
        raise CredentialsError(f"aws login cache {path}: unreadable ({err.__class__.__name__})") from None
    found = from_json_fields(data.get("accessToken") if isinstance(data, dict) else None, _FIELDS,
                             f"aws login cache {path}", f"login (profile {profile})")
    if found.expiry is not None and found.expiry <= now:
        raise CredentialsError(f"profile {profile!r}: the `aws login` credentials expired at {found.expiration}; "
                               "this tool reads them but does not refresh them (botocore does, with the session's "
                               f"DPoP key): run any aws CLI command with --profile {profile} to refresh them, or "
                               f"{hint}")
    return found
