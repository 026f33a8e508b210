"""Credential providers: plain callables that find credentials, and a thread-safe cache.

Strategy: a provider is any zero-argument callable returning `Credentials`
or a `ResolvedCredentials` (credentials plus where they came from, when they
expire and the profile's region). The sources are the AWS CLI's: a static
pair, the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN, AWS_CREDENTIAL_EXPIRATION), the shared files
(~/.aws/credentials and ~/.aws/config, moved by AWS_SHARED_CREDENTIALS_FILE
and AWS_CONFIG_FILE, profile chosen by AWS_PROFILE) and a profile's
`credential_process`. `resolve_credentials` walks them in the CLI's order.
`CachingProvider` calls a provider once and again only when its credentials
come within `refresh_ahead` of their expiry; while they are still valid, a
failed refresh keeps serving them rather than failing requests.

This module is I/O by design (environment, files, subprocess, the clock in
`CachingProvider`); it lives in `sigv4.integrations`, which the pure core
never imports. The environment is a `Mapping` argument where it matters, so
tests pass a dict.
"""

from __future__ import annotations

import configparser
import json
import os
import shlex
import subprocess
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Union

from ..errors import SigningError
from ..types import Credentials

#: How long a `credential_process` may run before it is abandoned.
PROCESS_TIMEOUT_SECONDS = 60


class CredentialsError(SigningError):
    """No usable credentials: a source is missing, malformed, or its command failed.

    A SigningError, so callers that catch signing failures (the CLI's one-line
    errors among them) catch this too. Messages name the source, never a secret.
    """


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
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CredentialsError(f"{where}: expiration {text!r} is not an ISO 8601 time") from None
    # An expiry without an offset is UTC, as the AWS SDKs read it.
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


# -- sources ----------------------------------------------------------------

def static(credentials: Credentials) -> CredentialProvider:
    """A provider that always returns `credentials`."""
    result = ResolvedCredentials(credentials, "static")
    return lambda: result


def _environ(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def from_environment(env: Mapping[str, str] | None = None) -> ResolvedCredentials:
    """Credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN,
    AWS_CREDENTIAL_EXPIRATION); `env` defaults to `os.environ`, read at each call.

    Raises CredentialsError when the key pair is not set.
    """
    env = _environ(env)
    key_id, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
    if not key_id or not secret:
        raise CredentialsError("environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set")
    expiration = env.get("AWS_CREDENTIAL_EXPIRATION")
    return ResolvedCredentials(
        Credentials(key_id, secret, env.get("AWS_SESSION_TOKEN") or None), "env",
        parse_expiry(expiration, "AWS_CREDENTIAL_EXPIRATION") if expiration else None,
        env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
    )


def _aws_file(env: Mapping[str, str], var: str, default: str) -> Path:
    if env.get(var):
        return Path(env[var]).expanduser()
    # An injected environment's HOME wins over the process's, so tests stay hermetic.
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    return home / ".aws" / default


def _read_ini(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as err:
        raise CredentialsError(f"{path}: not a valid AWS config file ({err.__class__.__name__})") from None
    return parser


def _profile_section(config: configparser.RawConfigParser, profile: str) -> dict[str, str]:
    # ~/.aws/credentials names sections `name`; ~/.aws/config names them `profile name` (except default).
    for name in (profile, f"profile {profile}"):
        if config.has_section(name):
            return dict(config.items(name))
    return {}


def _profile_name(profile: str | None, env: Mapping[str, str]) -> str:
    return profile or env.get("AWS_PROFILE") or "default"


def from_process(command: str, *, profile: str = "(none)") -> ResolvedCredentials:
    """Run a `credential_process` command and read its JSON (AccessKeyId, SecretAccessKey,
    SessionToken, Expiration).

    Raises CredentialsError on a timeout, a non-zero exit or unusable output;
    the message never includes the output, which may hold secrets.
    """
    where = f"credential_process of profile {profile!r}"
    try:
        # As the AWS SDKs do: split like a POSIX shell, but run without one.
        argv = shlex.split(command)
        done = subprocess.run(argv, capture_output=True, text=True, timeout=PROCESS_TIMEOUT_SECONDS)
    except ValueError as err:
        raise CredentialsError(f"{where}: the command cannot be split into arguments ({err})") from None
    except subprocess.TimeoutExpired:
        raise CredentialsError(f"{where}: timed out after {PROCESS_TIMEOUT_SECONDS} s") from None
    except OSError as err:
        raise CredentialsError(f"{where}: cannot run {argv[0] if argv else command!r} ({err.strerror or err})") from None
    if done.returncode != 0:
        raise CredentialsError(f"{where}: exited with status {done.returncode}")
    try:
        data = json.loads(done.stdout)
        key_id, secret, token = data["AccessKeyId"], data["SecretAccessKey"], data.get("SessionToken")
        if not (isinstance(key_id, str) and isinstance(secret, str) and isinstance(token, (str, type(None)))):
            raise TypeError("credential fields must be strings")
        creds = Credentials(key_id, secret, token)
        expiration = data.get("Expiration")
    except (ValueError, KeyError, TypeError, AttributeError):
        raise CredentialsError(f"{where}: output is not JSON with AccessKeyId and SecretAccessKey") from None
    expiry = parse_expiry(expiration, where) if isinstance(expiration, str) else None
    return ResolvedCredentials(creds, f"credential_process (profile {profile})", expiry)


def from_profile(profile: str | None = None, env: Mapping[str, str] | None = None) -> ResolvedCredentials:
    """Credentials of a profile in the shared files: its key pair (credentials file
    first, then config file), else its `credential_process`.

    The profile is `profile`, else AWS_PROFILE, else `default`. Raises
    CredentialsError when the profile has neither.
    """
    env = _environ(env)
    name = _profile_name(profile, env)
    cred_file = _aws_file(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials")
    conf_file = _aws_file(env, "AWS_CONFIG_FILE", "config")
    config = _profile_section(_read_ini(conf_file), name)
    shared = _profile_section(_read_ini(cred_file), name)
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or config.get("region")
    for section, path in ((shared, cred_file), (config, conf_file)):
        if section.get("aws_access_key_id") and section.get("aws_secret_access_key"):
            creds = Credentials(section["aws_access_key_id"], section["aws_secret_access_key"],
                                section.get("aws_session_token") or None)
            return ResolvedCredentials(creds, f"profile {name} ({path})", None, region)
    command = config.get("credential_process") or shared.get("credential_process")
    if command:
        found = from_process(command, profile=name)
        return ResolvedCredentials(found.credentials, found.source, found.expiry, region)
    raise CredentialsError(
        f"no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give a profile in "
        f"{cred_file} / {conf_file} (profile {name!r} has none)"
    )


def resolve_credentials(profile: str | None, env: Mapping[str, str] | None = None) -> ResolvedCredentials:
    """Find credentials as the AWS CLI does: an explicit profile, else the
    environment, else the AWS_PROFILE or default profile of the shared files."""
    env = _environ(env)
    if profile is None and env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        return from_environment(env)
    return from_profile(profile, env)


def default_chain(profile: str | None = None, env: Mapping[str, str] | None = None) -> CredentialProvider:
    """A provider running `resolve_credentials(profile, env)` at each call (wrap it in CachingProvider)."""
    return lambda: resolve_credentials(profile, env)


def profile_setting(profile: str | None, key: str, env: Mapping[str, str] | None = None) -> str | None:
    """One setting (e.g. `region`, `endpoint_url`) of the active profile in the config file."""
    env = _environ(env)
    return _profile_section(_read_ini(_aws_file(env, "AWS_CONFIG_FILE", "config")), _profile_name(profile, env)).get(key)


# -- caching ----------------------------------------------------------------

def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class CachingProvider:
    """A provider that calls `provider` once and again only near expiry; safe to share between threads.

    Credentials are refreshed when they expire within `refresh_ahead`. If that
    refresh raises while the cached credentials have not yet expired, the
    cached ones are returned (the next call tries again); once they have
    expired, the error propagates. Credentials without an expiry are kept
    for the provider's lifetime. `clock` returns the current aware time.
    """

    def __init__(self, provider: CredentialProvider, *, refresh_ahead: timedelta = timedelta(minutes=5),
                 clock: Callable[[], datetime] = _utc_now) -> None:
        self._provider = provider
        self._refresh_ahead = refresh_ahead
        self._clock = clock
        self._lock = threading.Lock()
        self._current: ResolvedCredentials | None = None

    def _fresh(self, now: datetime) -> ResolvedCredentials | None:
        """The cached credentials if they need no refresh at `now`, else None."""
        current = self._current
        if current is not None and (current.expiry is None or current.expiry - now > self._refresh_ahead):
            return current
        return None

    def __call__(self) -> ResolvedCredentials:
        fresh = self._fresh(self._clock())
        if fresh is not None:
            return fresh
        with self._lock:
            # Another thread may have refreshed while this one waited for the lock.
            now = self._clock()
            fresh, current = self._fresh(now), self._current
            if fresh is not None:
                return fresh
            try:
                refreshed = resolved(self._provider())
            except SigningError:
                if current is None or (current.expiry is not None and current.expiry <= now):
                    raise
                return current
            self._current = refreshed
            return refreshed
