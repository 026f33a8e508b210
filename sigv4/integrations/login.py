"""`aws login` sessions: the credentials the AWS CLI caches for a profile's `login_session`, read and refreshed
as botocore does.

Strategy: `aws login` (console sign-in) writes its session to AWS_LOGIN_CACHE_DIRECTORY, else
~/.aws/login/cache, as `<sha256 of the session name>.json`: `accessToken` holds the credentials (15 minutes)
and their `expiresAt`, beside a refresh token, the client id and a DPoP key (a P-256 key, PEM). Credentials
within `REFRESH_WITHIN` of their expiry are refreshed as botocore does: the sign-in service's CreateOAuth2Token
(`wire/models/signin-token.json`: botocore's Sign-In model cut to that operation, Apache-2.0 like botocore),
unsigned, with a DPoP header (RFC 9449: a JWT signed ES256 by that key, naming the method and URL), and the
cache is written back with the new credentials and refresh token. The sign-in endpoint is
`https://REGION.signin.aws.amazon.com` for the profile's region, unless one is configured (AWS_ENDPOINT_URL_SIGNIN...).
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

import wire
from wire.endpoints import EndpointConfig, service_endpoint

from ..bounded import json_loads
from ..types import Request
from .http import call_operation
from .resolved import CredentialsError, ResolvedCredentials, from_json_fields
from .shared_files import expanded
from .sso import write_cache

MODEL_NAME = "signin-token"
#: Credentials expiring sooner than this are refreshed first (botocore's threshold).
REFRESH_WITHIN = timedelta(minutes=5)
TIMEOUT_SECONDS = 10.0
_FIELDS = ("accessKeyId", "secretAccessKey", "sessionToken", "expiresAt")


@lru_cache(maxsize=1)
def model() -> wire.Model:
    """The shipped Sign-In model subset (CreateOAuth2Token)."""
    return wire.load_model(MODEL_NAME)


def cache_path(session: str, env: Mapping[str, str], home: Path) -> Path:
    """Where `aws login` caches session `session` (AWS_LOGIN_CACHE_DIRECTORY, `~` and `$VARIABLES` expanded)."""
    configured = env.get("AWS_LOGIN_CACHE_DIRECTORY")
    directory = expanded(configured, env) if configured is not None else home / ".aws" / "login" / "cache"
    return directory / (hashlib.sha256(session.encode("utf-8")).hexdigest() + ".json")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def dpop_proof(key_pem: str, url: str, now: datetime, jti: str) -> str:
    """The DPoP header of a POST to `url` at `now`: a compact JWT (`dpop+jwt`, ES256, the public key as its
    `jwk`), as botocore builds it. Raises CredentialsError when `key_pem` is not a P-256 private key."""
    try:
        key = serialization.load_pem_private_key(key_pem.encode("utf-8"), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        key = None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise CredentialsError("aws login cache: dpopKey is not a P-256 private key in PEM")
    public = key.public_key().public_numbers()
    jwk = {"kty": "EC", "x": _b64(public.x.to_bytes(32, "big")), "y": _b64(public.y.to_bytes(32, "big")),
           "crv": "P-256"}
    parts = ({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk},
             {"htm": "POST", "htu": url, "iat": int(now.timestamp()), "jti": jti})
    signing_input = ".".join(_b64(json.dumps(part, separators=(",", ":")).encode()) for part in parts)
    r, s = decode_dss_signature(key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def _endpoint(region: str, env: Mapping[str, str], endpoints: EndpointConfig | None) -> str:
    configured = service_endpoint("signin", "signin", region, env, None, endpoints)[0]
    if configured != service_endpoint("signin", "signin", region, {}, None, None)[0]:
        return configured
    # Sign-In's own host names, not the signin.REGION.amazonaws.com pattern (botocore's endpoint rules)
    return f"https://{region}.signin.{'amazonaws.cn' if region.startswith('cn-') else 'aws.amazon.com'}"


def refresh(cached: Mapping[str, Any], *, region: str, env: Mapping[str, str], now: datetime,
            endpoints: EndpointConfig | None = None, hint: str = "aws login") -> dict[str, Any]:
    """CreateOAuth2Token with the cache entry's refresh token: the entry to write back (new credentials expiring
    `expiresIn` from `now`, the account id kept, the new refresh token).

    Raises CredentialsError (the service's error code and message, and `hint`, the command that signs in again)
    when the call fails or the answer lacks the credentials, `expiresIn` or the refresh token. An answer that
    lacks the rest but rotates the refresh token raises `RotatedOnly`, whose `entry` (the cached one with only
    that token replaced) is still to be written back: Sign-In may have spent the old token."""
    where = "aws login refresh (Sign-In CreateOAuth2Token)"
    if not all(isinstance(cached.get(name), str) and cached[name] for name in ("refreshToken", "clientId", "dpopKey")):
        raise CredentialsError(f"{where}: the cache lacks refreshToken, clientId or dpopKey; run {hint}")
    key = str(cached["dpopKey"])
    try:
        output = call_operation(
            model(), "CreateOAuth2Token", {"tokenInput": {"clientId": cached["clientId"], "grantType": "refresh_token",
                                                          "refreshToken": cached["refreshToken"]}},
            endpoint=_endpoint(region, env, endpoints), env=env, timeout=TIMEOUT_SECONDS, where=where,
            signer=lambda request: _with_proof(request, key, now))
    except CredentialsError as err:
        raise CredentialsError(f"{err}; run {hint}") from None
    answer = output.get("tokenOutput") or {}
    rotated, expires_in = answer.get("refreshToken"), answer.get("expiresIn")
    credentials = answer.get("accessToken") or {}
    fresh = {name: credentials.get(name) for name in _FIELDS[:3]}
    fresh.update(accountId=(cached.get("accessToken") or {}).get("accountId"))
    try:
        if not isinstance(expires_in, int) or not 0 < expires_in < 2**31 or not isinstance(rotated, str) or not rotated:
            raise CredentialsError(f"{where}: the answer lacks expiresIn (1..2**31-1 seconds) and refreshToken")
        fresh["expiresAt"] = (now + timedelta(seconds=expires_in)).strftime("%Y-%m-%dT%H:%M:%SZ")
        from_json_fields(fresh, _FIELDS, where, "")
    except CredentialsError as err:
        if isinstance(rotated, str) and rotated and rotated != cached["refreshToken"]:
            raise RotatedOnly(f"{err}; run {hint}", {**cached, "refreshToken": rotated}) from None
        raise CredentialsError(f"{err}; run {hint}") from None
    return {**cached, "accessToken": fresh, "refreshToken": rotated}


class RotatedOnly(CredentialsError):
    """A Sign-In answer that rotated the refresh token but lacks credentials: `entry` is the cache entry to
    write back (its old credentials, the new refresh token) before the error reaches the caller."""

    def __init__(self, message: str, entry: dict[str, Any]) -> None:
        super().__init__(message)
        self.entry = entry


def _with_proof(request: Request, key_pem: str, now: datetime) -> Request:
    return request.with_header("DPoP", dpop_proof(key_pem, request.url, now, str(uuid.uuid4())))


def login_credentials(profile: str, session: str, env: Mapping[str, str], home: Path, now: datetime, *,
                      region: str | None = None, endpoints: EndpointConfig | None = None) -> ResolvedCredentials:
    """The credentials of profile `profile`'s `login_session` `session` at `now`, refreshed first (and written
    back to the cache) when they expire within `REFRESH_WITHIN`; `region` is where Sign-In is called (default
    us-east-1), `endpoints` the profile's endpoint settings.

    Raises CredentialsError (never with a value of the cache) when there is no such cache, it lacks the
    credentials, or they need a refresh that fails."""
    path, hint = cache_path(session, env, home), f"aws login --profile {profile}"
    try:
        data = json_loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CredentialsError(f"profile {profile!r}: no `aws login` session {session!r} cached at {path}; "
                               f"run {hint}") from None
    except (OSError, ValueError) as err:
        raise CredentialsError(f"aws login cache {path}: unreadable ({err.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise CredentialsError(f"aws login cache {path}: not a JSON object")
    where, source = f"aws login cache {path}", f"login (profile {profile})"
    found = from_json_fields(data.get("accessToken"), _FIELDS, where, source)
    if found.expiry is not None and found.expiry - now <= REFRESH_WITHIN:
        try:
            data = refresh(data, region=region or "us-east-1", env=env, now=now, endpoints=endpoints, hint=hint)
        except RotatedOnly as err:
            write_cache(path, err.entry)
            # Raised without the entry (its DPoP private key and refresh token): errors are logged and pickled.
            raise CredentialsError(str(err)) from None
        # written only once the answer is known to hold credentials, so the entry always reads back
        write_cache(path, data)
        found = from_json_fields(data["accessToken"], _FIELDS, "aws login refresh", source)
    return found
