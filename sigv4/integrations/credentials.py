"""Credential providers: plain callables that find credentials, the chain that walks them, and a thread-safe cache.

Strategy: a provider is any zero-argument callable returning `Credentials`
or a `ResolvedCredentials` (credentials plus where they came from, when they
expire and the profile's region). `resolve_credentials` walks botocore's
chain, with its environment variables and config keys:

1. the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
   AWS_SESSION_TOKEN or the older AWS_SECURITY_TOKEN, AWS_CREDENTIAL_EXPIRATION),
   unless a profile is named;
2. the profile (AWS_DEFAULT_PROFILE, else AWS_PROFILE, else `default`) of the
   shared files (`.shared_files`): `role_arn` with `source_profile` or
   `credential_source` (AssumeRole, chained; `external_id`,
   `duration_seconds`, `role_session_name`; `mfa_serial` refused, there is
   no prompt), web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, or
   the profile's `web_identity_token_file`), SSO (`sso_session` or the legacy
   keys), the credentials file's keys, `aws login`'s cached session,
   refreshed (`login_session`: `.login`), IAM Roles Anywhere (`rolesanywhere_*` keys:
   `.rolesanywhere`), `credential_process`, the config file's keys;
3. container credentials (`.container`), then EC2 instance metadata (`.imds`).

The STS and SSO calls (`.sts`, `.sso`) are built and decoded by `wire`, signed
by `sigv4` and sent by the project's client (`.http`). `CachingProvider` calls
a provider once and again only when its credentials come within
`refresh_ahead` of their expiry; while they are still valid, a failed refresh
keeps serving them rather than failing requests.

This module is I/O by design (environment, files, subprocess, network, the
clock); it lives in `sigv4.integrations`, which the pure core never imports.
The environment is a `Mapping` argument where it matters, so tests pass a dict.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path

from wire.endpoints import EndpointConfig

from ..bounded import decimal, json_loads
from ..errors import SigningError
from ..types import Credentials
from . import container, sso, sts
from .container import from_container
from .http import is_true
from .imds import from_imds
from .login import login_credentials
from .rolesanywhere import RolesAnywhereSettings, from_rolesanywhere
from .resolved import (
    CredentialProvider,
    CredentialsError,
    NoCredentialsError,
    ProviderResult,
    ResolvedCredentials,
    parse_expiry,
    resolved,
)
from .shared_files import SharedFiles, named_profile, profile_name

#: How long a `credential_process` may run before it is abandoned.
PROCESS_TIMEOUT_SECONDS = 60
#: The most a `credential_process` may print: its JSON is a few hundred bytes; more is refused, never buffered.
MAX_PROCESS_OUTPUT = 1 << 20


# -- sources ----------------------------------------------------------------

def static(credentials: Credentials) -> CredentialProvider:
    """A provider that always returns `credentials`."""
    result = ResolvedCredentials(credentials, "static")
    return lambda: result


def _environ(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def from_environment(env: Mapping[str, str] | None = None) -> ResolvedCredentials:
    """Credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN, or AWS_SECURITY_TOKEN
    which botocore reads first, and AWS_CREDENTIAL_EXPIRATION); `env` defaults to `os.environ`, read at each call.

    Raises CredentialsError naming the variable of the pair that is missing (botocore's partial credentials).
    """
    env = _environ(env)
    key_id, secret, security_token, token = (_env_credential(env, name) for name in (
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN"))
    if not key_id or not secret:
        raise CredentialsError("partial credentials found in the environment, missing: "
                               + ", ".join(name for name, value in (("AWS_ACCESS_KEY_ID", key_id),
                                                                   ("AWS_SECRET_ACCESS_KEY", secret)) if not value))
    expiration = env.get("AWS_CREDENTIAL_EXPIRATION")
    return ResolvedCredentials(
        Credentials(key_id, secret, security_token or token or None), "env",
        parse_expiry(expiration, "AWS_CREDENTIAL_EXPIRATION") if expiration else None,
        env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
    )


def _env_credential(env: Mapping[str, str], name: str) -> str | None:
    """The variable `name` of `env`; raises CredentialsError, naming the variable but never its value, when it
    holds a control character or starts or ends in whitespace: AWS issues none, and a line end that came with
    `export AWS_SECRET_ACCESS_KEY=$(cat key.txt)` from a CRLF file would be signed into every signature."""
    value = env.get(name)
    if value and (value != value.strip() or not value.isprintable()):
        bad = next(c for c in (value[-1], value[0], *value) if not c.isprintable() or c.isspace())
        where = "ends in" if value[-1] == bad else "starts with" if value[0] == bad else "holds"
        raise CredentialsError(f"{name} {where} {bad!r}: no AWS credential holds whitespace or control characters "
                               "(a line end copied from a file?); remove it")
    return value


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
    except ValueError as err:
        raise CredentialsError(f"{where}: the command cannot be split into arguments ({err})") from None
    if not argv:
        raise CredentialsError(f"{where}: the command is empty")
    output = _process_output(argv, where)
    try:
        data = json_loads(output)
        key_id, secret, token = data["AccessKeyId"], data["SecretAccessKey"], data.get("SessionToken")
        if not (isinstance(key_id, str) and isinstance(secret, str) and isinstance(token, (str, type(None)))):
            raise TypeError("credential fields must be strings")
        creds = Credentials(key_id, secret, token)
        expiration = data.get("Expiration")
    except (ValueError, KeyError, TypeError, AttributeError):
        raise CredentialsError(f"{where}: output is not JSON with AccessKeyId and SecretAccessKey") from None
    expiry = parse_expiry(expiration, where) if isinstance(expiration, str) else None
    return ResolvedCredentials(creds, f"credential_process (profile {profile})", expiry)


def _process_output(argv: list[str], where: str) -> bytes:
    """What `argv` prints on stdout (stderr is dropped), once it exits with status 0 within
    PROCESS_TIMEOUT_SECONDS having printed at most MAX_PROCESS_OUTPUT bytes; else CredentialsError."""
    deadline = time.monotonic() + PROCESS_TIMEOUT_SECONDS
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    except OSError as err:
        raise CredentialsError(f"{where}: cannot run {argv[0]!r} ({err.strerror or err})") from None
    with proc:
        assert proc.stdout is not None
        stdout, output = proc.stdout, []
        # A thread reads, so that the timeout holds while the process prints nothing, portably (no select on pipes).
        reader = threading.Thread(target=lambda: output.append(stdout.read(MAX_PROCESS_OUTPUT + 1)), daemon=True)
        reader.start()
        reader.join(PROCESS_TIMEOUT_SECONDS)
        problem = None
        if reader.is_alive():
            problem = f"timed out after {PROCESS_TIMEOUT_SECONDS} s"
        elif len(output[0]) > MAX_PROCESS_OUTPUT:
            problem = f"printed more than {MAX_PROCESS_OUTPUT} bytes (credentials JSON is a few hundred)"
        else:
            try:
                status = proc.wait(max(deadline - time.monotonic(), 0))
            except subprocess.TimeoutExpired:
                problem = f"timed out after {PROCESS_TIMEOUT_SECONDS} s"
            else:
                problem = f"exited with status {status}" if status else None
        if problem is not None:
            proc.kill()
            raise CredentialsError(f"{where}: {problem}")
    return output[0]


def _keys(section: Mapping[str, str], source: str, region: str | None) -> ResolvedCredentials | None:
    """The section's keys; None when it has no key id; CredentialsError when it has a key id but no secret (botocore's
    partial credentials: a half-edited file is an error to show, not a reason to try the instance's metadata)."""
    if section.get("aws_access_key_id") and not section.get("aws_secret_access_key"):
        raise CredentialsError(f"{source}: partial credentials, aws_access_key_id without aws_secret_access_key")
    if section.get("aws_access_key_id") and section.get("aws_secret_access_key"):
        return ResolvedCredentials(Credentials(section["aws_access_key_id"], section["aws_secret_access_key"],
                                               section.get("aws_session_token") or None), source, None, region)
    return None


def _session_name(configured: str | None) -> str:
    # botocore names its sessions botocore-session-<epoch seconds>; ours say who made them.
    return configured or f"sigv4-toolkit-{int(datetime.now(timezone.utc).timestamp())}"


def _duration(section: Mapping[str, str], profile: str) -> int | None:
    text = section.get("duration_seconds")
    if not text:
        return None
    seconds = decimal(text.strip())
    if seconds is None:
        raise CredentialsError(f"profile {profile!r}: duration_seconds {text[:40]!r} is not a whole number of seconds")
    return seconds


def _sts_region(env: Mapping[str, str], section: Mapping[str, str]) -> str:
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or section.get("region") or "us-east-1"


#: `credential_source` values of a role profile -> where its source credentials come from.
CREDENTIAL_SOURCES: dict[str, Callable[[Mapping[str, str], Mapping[str, str]], ResolvedCredentials]] = {
    "Environment": lambda env, section: from_environment(env),
    "Ec2InstanceMetadata": lambda env, section: from_imds(env, section),
    "EcsContainer": lambda env, section: from_container(env),
}


class _Resolution:
    """One walk of botocore's chain over one reading of the files (profiles may refer to each other)."""

    def __init__(self, env: Mapping[str, str], files: SharedFiles, active: str) -> None:
        self.env, self.files, self.active = env, files, active

    def endpoints(self) -> EndpointConfig:
        """Where STS and SSO are called: as botocore's, the active profile's endpoint settings, for every role it
        chains."""
        return self.files.endpoints(self.active)

    def assume_role(self, name: str, section: Mapping[str, str], seen: tuple[str, ...]) -> ResolvedCredentials:
        """A role profile: its source credentials, then AssumeRole (chained through role source profiles)."""
        role_arn = section["role_arn"]
        if section.get("mfa_serial"):
            raise CredentialsError(
                f"profile {name!r}: role {role_arn} requires an MFA code (mfa_serial {section['mfa_serial']}), and "
                "this tool cannot prompt for one; get session credentials with `aws sts get-session-token "
                "--serial-number ... --token-code ...` or `aws configure export-credentials`, and use those")
        source_profile, credential_source = section.get("source_profile"), section.get("credential_source")
        if bool(source_profile) == bool(credential_source):
            raise CredentialsError(f"profile {name!r}: a role profile needs exactly one of source_profile and "
                                   "credential_source")
        if credential_source:
            if credential_source not in CREDENTIAL_SOURCES:
                raise CredentialsError(f"profile {name!r}: credential_source {credential_source!r} is not one of "
                                       f"{', '.join(CREDENTIAL_SOURCES)}")
            source = CREDENTIAL_SOURCES[credential_source](self.env, section)
        elif source_profile == name:
            # A profile may name itself: its own keys are the source of its role.
            found = _keys(self.files.merged(name), f"profile {name}", None)
            if found is None:
                raise CredentialsError(f"profile {name!r}: source_profile is itself, but it has no keys")
            source = found
        else:
            source = self.profile(str(source_profile), seen + (name,), source=True)
        region = _sts_region(self.env, section)
        return sts.assume_role(source.credentials, role_arn, _session_name(section.get("role_session_name")),
                               region=region, env=self.env, endpoints=self.endpoints(),
                               external_id=section.get("external_id"), duration_seconds=_duration(section, name),
                               label=f"assume-role (profile {name})")

    def web_identity(self, section: Mapping[str, str], env: Mapping[str, str]) -> ResolvedCredentials | None:
        """AssumeRoleWithWebIdentity when `env` (the environment, or none) or the profile names a token file and
        a role."""
        token_file = env.get("AWS_WEB_IDENTITY_TOKEN_FILE") or section.get("web_identity_token_file")
        role_arn = env.get("AWS_ROLE_ARN") or section.get("role_arn")
        if not token_file or not role_arn:
            return None
        try:
            # Read at every call: the token is rotated on disk (EKS IRSA, GitHub Actions).
            token = Path(token_file).expanduser().read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as err:
            raise CredentialsError(f"web identity token file {token_file}: unreadable "
                                   f"({err.__class__.__name__})") from None
        session = env.get("AWS_ROLE_SESSION_NAME") or section.get("role_session_name")
        return sts.assume_role_with_web_identity(token, role_arn, _session_name(session),
                                                 region=_sts_region(self.env, section), env=self.env,
                                                 endpoints=self.endpoints())

    def profile(self, name: str, seen: tuple[str, ...] = (), *, source: bool = False) -> ResolvedCredentials:
        """A profile's credentials, by botocore's profile providers in order: assume-role, web identity, SSO,
        the credentials file's keys, `aws login`'s session, (ours) Roles Anywhere, credential_process, the config
        file's keys.

        As a role's `source`, as botocore's, a profile with keys gives its keys even when it names a role too,
        and the environment's web identity variables are not read."""
        if name in seen:
            raise CredentialsError(f"profile {name!r}: source_profile loops ({' -> '.join(seen + (name,))})")
        section, shared = self.files.merged(name), self.files.shared(name)
        has_keys = "aws_access_key_id" in section or "aws_secret_access_key" in section
        if section.get("role_arn") and not section.get("web_identity_token_file") and not (source and has_keys):
            return self.assume_role(name, section, seen)
        found = self.web_identity(section, {} if source else self.env)
        if found is None and sso.is_sso_profile(section):
            session = section.get("sso_session")
            found = sso.sso_credentials(name, section, self.files.sso_session(session) if session else None,
                                        self.env, self.files.home, now=datetime.now(timezone.utc),
                                        endpoints=self.endpoints())
        found = found or _keys(shared, f"profile {name} ({self.files.credentials_path})", None)
        if found is None and section.get("login_session"):
            found = login_credentials(name, section["login_session"], self.env, self.files.home,
                                      datetime.now(timezone.utc), region=_region(self.env, self.files, self.active),
                                      endpoints=self.endpoints())
        if found is None and (anywhere := RolesAnywhereSettings.from_profile(section, name)) is not None:
            found = from_rolesanywhere(anywhere, self.env, source=f"rolesanywhere (profile {name})")
        if found is None and section.get("credential_process"):
            found = from_process(section["credential_process"], profile=name)
        found = found or _keys(self.files.profile(name), f"profile {name} ({self.files.config_path})", None)
        if found is None:
            raise NoCredentialsError(
                f"no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give a profile in "
                f"{self.files.credentials_path} / {self.files.config_path} (profile {name!r} has none)")
        return found


def _with_region(found: ResolvedCredentials, region: str | None) -> ResolvedCredentials:
    return ResolvedCredentials(found.credentials, found.source, found.expiry, region)


def _region(env: Mapping[str, str], files: SharedFiles, name: str) -> str | None:
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or files.merged(name).get("region")


def from_profile(profile: str | None = None, env: Mapping[str, str] | None = None) -> ResolvedCredentials:
    """Credentials of a profile in the shared files, by botocore's profile providers in order:
    role_arn (AssumeRole, chained), web identity, SSO, the credentials file's
    keys, credential_process, the config file's keys.

    The profile is `profile`, else AWS_DEFAULT_PROFILE, else AWS_PROFILE, else `default`. Raises
    CredentialsError when the profile yields none.
    """
    env = _environ(env)
    name = profile_name(profile, env)
    files = SharedFiles.read(env)
    return _with_region(_Resolution(env, files, name).profile(name), _region(env, files, name))


#: Sources after the profile, in botocore's order, and when each applies.
_AFTER_PROFILE: tuple[tuple[Callable[[Mapping[str, str]], bool],
                            Callable[[Mapping[str, str], Mapping[str, str]], ResolvedCredentials]], ...] = (
    (container.is_configured, lambda env, section: from_container(env)),
    (lambda env: not is_true(env.get("AWS_EC2_METADATA_DISABLED")), from_imds),
)


def resolve_credentials(profile: str | None, env: Mapping[str, str] | None = None) -> ResolvedCredentials:
    """Find credentials in botocore's order.

    Environment (unless a profile is named), then the profile (`profile`,
    AWS_DEFAULT_PROFILE, AWS_PROFILE or `default`: assume-role, web identity from
    AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN or the profile, SSO, keys,
    credential_process), then container credentials, then EC2 instance
    metadata. A source that is configured but fails raises its error (AWS_ACCESS_KEY_ID without
    AWS_SECRET_ACCESS_KEY: partial credentials, as botocore); when none is configured, raises the
    profile's "no credentials" error. A profile named (`profile`, else AWS_DEFAULT_PROFILE or AWS_PROFILE when the
    environment has no keys) that neither file has raises CredentialsError, as do credentials that have already expired (a
    `credential_process` helper's stale cache, an old AWS_CREDENTIAL_EXPIRATION), which botocore refuses too.
    """
    return _unexpired(_resolve(profile, _environ(env)), _utc_now())


def _unexpired(found: ResolvedCredentials, now: datetime) -> ResolvedCredentials:
    """`found`, unless its credentials expired by `now` (CredentialsError): signed, they would only be refused."""
    if found.expiry is not None and found.expiry <= now:
        # Not when: nothing a source answered reaches a message (a process's output may hold secrets).
        raise CredentialsError(f"{found.source}: the credentials it gave have already expired")
    return found


def _resolve(profile: str | None, env: Mapping[str, str]) -> ResolvedCredentials:
    if profile is None and env.get("AWS_ACCESS_KEY_ID"):  # as botocore: a key id set means the environment's
        found = from_environment(env)
        # ...keys, and still the region of the active profile's config, as botocore reads it
        return found if found.region else _with_region(found, _region(env, SharedFiles.read(env),
                                                                      profile_name(None, env)))
    name = profile_name(profile, env)
    files = SharedFiles.read(env)
    region = _region(env, files, name)
    if named_profile(profile, env) and not files.exists(name):  # as botocore's ProfileNotFound:
        # a named profile that is not there is a typo to report, not a reason to try the instance's metadata
        raise CredentialsError(f"profile {name!r}: not found in {files.config_path} or {files.credentials_path}")
    try:
        return _with_region(_Resolution(env, files, name).profile(name), region)
    except NoCredentialsError as err:
        missing = err
    section = files.profile(name)
    for applies, source in _AFTER_PROFILE:
        if applies(env):
            try:
                return _with_region(source(env, section), region)
            except CredentialsError as err:
                if source is not from_imds:  # a configured container endpoint that fails is an error to show
                    raise
                raise NoCredentialsError(f"{missing}; {err}") from None
    raise missing


def default_chain(profile: str | None = None, env: Mapping[str, str] | None = None) -> CachingProvider:
    """`resolve_credentials(profile, env)` as a provider, cached until shortly before expiry (thread-safe)."""
    return CachingProvider(lambda: resolve_credentials(profile, env))


def profile_setting(profile: str | None, key: str, env: Mapping[str, str] | None = None) -> str | None:
    """One setting (e.g. `region`, `endpoint_url`) of the active profile (`profile`, else the environment's, else
    `default`), the shared files merged as botocore merges them."""
    env = _environ(env)
    return SharedFiles.read(env).merged(profile_name(profile, env)).get(key)


def configured_endpoints(profile: str | None, env: Mapping[str, str] | None = None) -> EndpointConfig:
    """What the active profile says of endpoints (`SharedFiles.endpoints`), for `wire.endpoints.service_endpoint`.

    Raises CredentialsError for a `services` setting whose section is missing or unreadable."""
    env = _environ(env)
    return SharedFiles.read(env).endpoints(profile_name(profile, env))


# -- caching ----------------------------------------------------------------

def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class CachingProvider:
    """A provider that calls `provider` once and again only near expiry; safe to share between threads.

    Credentials are refreshed when they expire within `refresh_ahead`. If that
    refresh raises, or gives credentials that have already expired, while the
    cached credentials have not yet expired, the cached ones are returned (the
    next call tries again); once they have expired, the error propagates. While one thread refreshes credentials
    that are still valid, the others are given those rather than wait; only without valid ones do they wait. Credentials without an expiry are kept
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

    def cached(self) -> ResolvedCredentials | None:
        """The credentials a call returns without asking the source, or None when it would ask (a refresh:
        network I/O or a process, which an async caller runs off its event loop first)."""
        return self._fresh(self._clock())

    def __call__(self) -> ResolvedCredentials:
        now = self._clock()
        fresh = self._fresh(now)
        if fresh is not None:
            return fresh
        current = self._current
        if current is not None and (current.expiry is None or current.expiry > now):
            # Still valid: one thread refreshes ahead of expiry while the others sign with these rather than queue
            # behind it, each to try the source again when it fails (botocore's advisory refresh).
            if not self._lock.acquire(blocking=False):
                return current
        else:
            self._lock.acquire()
        try:
            # Another thread may have refreshed while this one waited for the lock.
            now = self._clock()
            fresh, current = self._fresh(now), self._current
            if fresh is not None:
                return fresh
            try:
                refreshed = _unexpired(resolved(self._provider()), now)
            except SigningError:
                if current is None or (current.expiry is not None and current.expiry <= now):
                    raise
                return current
            self._current = refreshed
            return refreshed
        finally:
            self._lock.release()


__all__ = [
    "CREDENTIAL_SOURCES", "CachingProvider", "CredentialProvider", "CredentialsError", "NoCredentialsError",
    "ProviderResult", "ResolvedCredentials", "SharedFiles", "configured_endpoints", "default_chain", "from_container",
    "from_environment", "from_imds", "from_process", "from_profile", "parse_expiry", "profile_setting",
    "resolve_credentials", "resolved", "static",
]
