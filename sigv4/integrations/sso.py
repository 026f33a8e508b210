"""IAM Identity Center (SSO) credentials: the cached access token, then GetRoleCredentials.

Strategy: `aws sso login` leaves an access token in
`~/.aws/sso/cache/<sha1>.json`, keyed by the `sso_session` name (or, for
profiles written before sso-session sections, by `sso_start_url`). This module
reads that token, refuses it when expired (refreshing it is `aws sso login`'s
job), and trades it for role credentials with GetRoleCredentials: a restJson1
`GET /federation/credentials` carrying the token in `x-amz-sso_bearer_token`,
unsigned, built and decoded by `wire` from the shipped SSO model subset.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import wire
from wire.endpoints import service_endpoint

from .http import call_operation
from .resolved import CredentialsError, ResolvedCredentials, from_json_fields, parse_expiry

SSO_TIMEOUT_SECONDS = 10.0
MODEL_NAME = "sso-credentials"
#: Profile keys of the legacy form (no sso_session): all four are needed.
LEGACY_KEYS = ("sso_start_url", "sso_region", "sso_account_id", "sso_role_name")


@lru_cache(maxsize=1)
def model() -> wire.Model:
    """The shipped SSO portal model subset (GetRoleCredentials)."""
    return wire.load_model(MODEL_NAME)


def is_sso_profile(section: Mapping[str, str]) -> bool:
    """Whether a profile section asks for SSO credentials."""
    return bool(section.get("sso_session") or section.get("sso_start_url"))


def cache_path(home: Path, key: str) -> Path:
    """Where `aws sso login` caches the token for `key` (the sso_session name, or the legacy start URL)."""
    return home / ".aws" / "sso" / "cache" / (hashlib.sha1(key.encode("utf-8")).hexdigest() + ".json")


def _setting(name: str, profile: str, section: Mapping[str, str], session: Mapping[str, str] | None) -> str:
    value = (session or {}).get(name) or section.get(name)
    if not value:
        where = "its sso-session section" if session is not None and name in ("sso_region", "sso_start_url") else \
            "the profile"
        raise CredentialsError(f"SSO profile {profile!r}: {name} is missing in {where}")
    return value


def access_token(path: Path, now: datetime, login_hint: str) -> str:
    """The cached SSO access token at `path`, checked for expiry at `now`.

    Raises CredentialsError (missing, unreadable or expired cache; the message
    says which `aws sso login` to run), never showing the token.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CredentialsError(f"SSO token cache {path}: not found; run {login_hint}") from None
    except (OSError, ValueError) as err:
        raise CredentialsError(f"SSO token cache {path}: unreadable ({err.__class__.__name__})") from None
    token, expires = (data.get("accessToken"), data.get("expiresAt")) if isinstance(data, dict) else (None, None)
    if not isinstance(token, str) or not token or not isinstance(expires, str):
        raise CredentialsError(f"SSO token cache {path}: no accessToken and expiresAt")
    if parse_expiry(expires, f"SSO token cache {path}") <= now:
        raise CredentialsError(f"SSO token cache {path}: the SSO session expired at {expires}; run {login_hint}")
    return token


def sso_credentials(profile: str, section: Mapping[str, str], session: Mapping[str, str] | None,
                    env: Mapping[str, str], home: Path, region: str | None = None) -> ResolvedCredentials:
    """Role credentials for an SSO profile.

    `section` is the profile's config section; `session` its `[sso-session
    NAME]` section when it names one (None for the legacy form). Raises
    CredentialsError for missing settings, a missing or expired token, or an
    SSO error.
    """
    session_name = section.get("sso_session")
    if session_name and session is None:
        raise CredentialsError(f"SSO profile {profile!r}: sso_session {session_name!r} has no [sso-session "
                               f"{session_name}] section in the config file")
    sso_region = _setting("sso_region", profile, section, session)
    start_url = _setting("sso_start_url", profile, section, session)
    account = _setting("sso_account_id", profile, section, None)
    role = _setting("sso_role_name", profile, section, None)
    key = session_name or start_url
    hint = f"aws sso login {f'--sso-session {session_name}' if session_name else f'--profile {profile}'}"
    token = access_token(cache_path(home, key), datetime.now(timezone.utc), hint)
    where = f"SSO GetRoleCredentials ({account}/{role})"
    # The portal is portal.sso.<region>; AWS_ENDPOINT_URL_SSO or AWS_ENDPOINT_URL override it.
    endpoint = service_endpoint("sso", "portal.sso", sso_region, env, None, None)[0]
    output = call_operation(model(), "GetRoleCredentials",
                            {"roleName": role, "accountId": account, "accessToken": token},
                            endpoint=endpoint, env=env, timeout=SSO_TIMEOUT_SECONDS, where=where)
    return from_json_fields(output.get("roleCredentials"),
                            ("accessKeyId", "secretAccessKey", "sessionToken", "expiration"),
                            where, f"sso (profile {profile})", region)
