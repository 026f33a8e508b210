"""IAM Identity Center (SSO) credentials: the cached access token, then GetRoleCredentials.

Strategy: `aws sso login` leaves an access token in
`~/.aws/sso/cache/<sha1>.json`, keyed by the `sso_session` name (or, for
profiles written before sso-session sections, by `sso_start_url`). This module
reads that token and trades it for role credentials with GetRoleCredentials: a
restJson1 `GET /federation/credentials` carrying the token in
`x-amz-sso_bearer_token`, unsigned, built and decoded by `wire` from the
shipped SSO model subset.

For an `[sso-session NAME]` profile the token is refreshed as botocore's
`SSOTokenProvider` does: when it expires within 15 minutes and the cache holds
a refresh token and a client registration that has not expired, SSO OIDC
CreateToken (unsigned `POST /token`, from the shipped `sso-oidc-token` subset)
trades the refresh token for a new access token, written back to the same cache
file. A failed refresh leaves the old token in use while it is valid. Legacy
profiles (no sso_session) are never refreshed, as in botocore.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import wire
from wire.endpoints import EndpointConfig, service_endpoint

from ..bounded import json_loads
from .http import call_operation
from .resolved import CredentialsError, ResolvedCredentials, from_json_fields, parse_expiry

SSO_TIMEOUT_SECONDS = 10.0
MODEL_NAME = "sso-credentials"
OIDC_MODEL_NAME = "sso-oidc-token"
#: botocore's SSOTokenProvider._REFRESH_WINDOW: a token expiring sooner than this is refreshed.
REFRESH_WINDOW = timedelta(minutes=15)
#: The cache fields a refresh needs (botocore's list); `aws sso login` writes them for sso-session profiles.
REFRESH_FIELDS = ("refreshToken", "clientId", "clientSecret", "registrationExpiresAt")
#: Profile keys of the legacy form (no sso_session): all four are needed.
LEGACY_KEYS = ("sso_start_url", "sso_region", "sso_account_id", "sso_role_name")


@lru_cache(maxsize=1)
def model() -> wire.Model:
    """The shipped SSO portal model subset (GetRoleCredentials)."""
    return wire.load_model(MODEL_NAME)


@lru_cache(maxsize=1)
def oidc_model() -> wire.Model:
    """The shipped SSO OIDC model subset (CreateToken)."""
    return wire.load_model(OIDC_MODEL_NAME)


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


#: Trades a cache entry (with REFRESH_FIELDS) for the entry to write back; raises CredentialsError on failure.
Refresher = Callable[[Mapping[str, Any]], dict[str, Any]]


def _read_cache(path: Path, login_hint: str) -> dict[str, Any]:
    """The cache entry at `path`, checked to hold an accessToken and an expiresAt as text."""
    try:
        data = json_loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CredentialsError(f"SSO token cache {path}: not found; run {login_hint}") from None
    except (OSError, ValueError) as err:
        raise CredentialsError(f"SSO token cache {path}: unreadable ({err.__class__.__name__})") from None
    token, expires = (data.get("accessToken"), data.get("expiresAt")) if isinstance(data, dict) else (None, None)
    if not isinstance(token, str) or not token or not isinstance(expires, str):
        raise CredentialsError(f"SSO token cache {path}: no accessToken and expiresAt")
    return dict(data)


def write_cache(path: Path, data: Mapping[str, Any]) -> None:
    """Replace the cache file whole (temp file + rename), so a reader never sees half a token, as botocore does
    (for `aws login`'s cache too). Raises CredentialsError when it cannot be written."""
    fd, temp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(json.dumps(data))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except OSError as err:
        Path(temp).unlink(missing_ok=True)
        raise CredentialsError(f"token cache {path}: the refreshed token cannot be written "
                               f"({err.__class__.__name__})") from None


def _refreshable(data: Mapping[str, Any], path: Path, now: datetime) -> bool:
    """Whether the entry carries a refresh token and a client registration still valid at `now`."""
    if not all(isinstance(data.get(name), str) and data[name] for name in REFRESH_FIELDS):
        return False
    return parse_expiry(data["registrationExpiresAt"], f"SSO token cache {path} registration") > now


def access_token(path: Path, now: datetime, login_hint: str, refresh: Refresher | None = None) -> str:
    """The cached SSO access token at `path`, checked for expiry at `now`.

    With `refresh` (sso-session profiles), a token expiring within
    REFRESH_WINDOW is refreshed when the cache allows it and the new entry is
    written back to `path`; if the refresh fails, the old token serves while it
    is valid. Raises CredentialsError (missing, unreadable or expired cache; the
    message says which `aws sso login` to run), never showing a token or secret.
    """
    data = _read_cache(path, login_hint)
    expires: str = data["expiresAt"]
    expiry = parse_expiry(expires, f"SSO token cache {path}")
    failure = ""
    if refresh is not None and expiry - now < REFRESH_WINDOW and _refreshable(data, path, now):
        try:
            fresh = refresh(data)
        except CredentialsError as err:
            failure = f" and refreshing it failed ({err})"
        else:
            write_cache(path, fresh)
            return str(fresh["accessToken"])
    if expiry <= now:
        raise CredentialsError(f"SSO token cache {path}: the SSO session expired at {expires}{failure}; "
                               f"run {login_hint}")
    return str(data["accessToken"])


def create_token(cached: Mapping[str, Any], *, session_name: str, sso_region: str, start_url: str,
                 env: Mapping[str, str], now: datetime, endpoints: EndpointConfig | None = None) -> dict[str, Any]:
    """SSO OIDC CreateToken with the cached refresh token: the cache entry botocore writes for the answer.

    The entry holds botocore's fields in its order (startUrl, region,
    accessToken, expiresAt = `now` + expiresIn, the client registration, and the
    refresh token when the answer has a new one). `endpoints`: the active profile's endpoint settings, which
    botocore's SSO OIDC client reads too. Raises CredentialsError.
    """
    where = f"SSO OIDC CreateToken (sso-session {session_name})"
    # OIDC is oidc.<region>; AWS_ENDPOINT_URL_SSO_OIDC or AWS_ENDPOINT_URL override it.
    endpoint = service_endpoint("sso-oidc", "oidc", sso_region, env, None, endpoints)[0]
    output = call_operation(oidc_model(), "CreateToken",
                            {"grantType": "refresh_token", "clientId": cached["clientId"],
                             "clientSecret": cached["clientSecret"], "refreshToken": cached["refreshToken"]},
                            endpoint=endpoint, env=env, timeout=SSO_TIMEOUT_SECONDS, where=where)
    token, expires_in = output.get("accessToken"), output.get("expiresIn")
    # expiresIn is an int32 of seconds: a larger one would not be a time at all (OverflowError past year 9999).
    if not isinstance(token, str) or not token or not isinstance(expires_in, int) or not 0 < expires_in < 2**31:
        raise CredentialsError(f"{where}: the answer lacks accessToken and expiresIn (1..2**31-1 seconds)")
    fresh = {"startUrl": start_url, "region": sso_region, "accessToken": token,
             "expiresAt": (now + timedelta(seconds=expires_in)).strftime("%Y-%m-%dT%H:%M:%SZ"),
             **{name: cached[name] for name in ("clientId", "clientSecret", "registrationExpiresAt")}}
    if isinstance(output.get("refreshToken"), str):
        fresh["refreshToken"] = output["refreshToken"]
    return fresh


def sso_credentials(profile: str, section: Mapping[str, str], session: Mapping[str, str] | None,
                    env: Mapping[str, str], home: Path, region: str | None = None, *,
                    now: datetime, endpoints: EndpointConfig | None = None) -> ResolvedCredentials:
    """Role credentials for an SSO profile, at time `now`.

    `section` is the profile's config section; `session` its `[sso-session
    NAME]` section when it names one (None for the legacy form; only that form's
    token is refreshed); `endpoints` the active profile's endpoint settings (its `[services]` section, its
    `endpoint_url`), which botocore's SSO clients read too. Raises CredentialsError for missing settings, a missing
    or expired token that could not be refreshed, or an SSO error.
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
    # As botocore: only sso-session tokens are refreshed; a legacy profile keeps needing `aws sso login`.
    refresh: Refresher | None = partial(create_token, session_name=session_name, sso_region=sso_region,
                                        start_url=start_url, env=env, now=now, endpoints=endpoints) if session_name else None
    token = access_token(cache_path(home, key), now, hint, refresh)
    where = f"SSO GetRoleCredentials ({account}/{role})"
    # The portal is portal.sso.<region>; AWS_ENDPOINT_URL_SSO or AWS_ENDPOINT_URL override it.
    endpoint = service_endpoint("sso", "portal.sso", sso_region, env, None, endpoints)[0]
    output = call_operation(model(), "GetRoleCredentials",
                            {"roleName": role, "accountId": account, "accessToken": token},
                            endpoint=endpoint, env=env, timeout=SSO_TIMEOUT_SECONDS, where=where)
    return from_json_fields(output.get("roleCredentials"),
                            ("accessKeyId", "secretAccessKey", "sessionToken", "expiration"),
                            where, f"sso (profile {profile})", region)
