"""IAM Roles Anywhere as a credential source: CreateSession signed with an X.509 certificate, sent by our client.

Strategy: the settings are the AWS signing helper's (`aws_signing_helper
credential-process --certificate ... --private-key ... --trust-anchor-arn ...
--profile-arn ... --role-arn ...`), read from command-line flags or from a
profile, where each key is the flag's name with `rolesanywhere_` before it and
`_` for `-` (`rolesanywhere_certificate`, `rolesanywhere_private_key`, ...):
`SETTINGS` is that one table. The files are read at every call (certificates
are rotated on disk), the request is built and signed by `sigv4.x509`, sent by
`.http.fetch` to the regional endpoint (the trust anchor's region unless
`region` says otherwise; `endpoint`, AWS_ENDPOINT_URL_ROLESANYWHERE or
AWS_ENDPOINT_URL move it), and the first credential set of the answer comes
back with its expiry, so that `CachingProvider` (the chain's cache) refreshes it
before it runs out. `credential_process_output` is the JSON the
`credential_process` protocol expects (`sigv4 credential-process rolesanywhere`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from wire.endpoints import service_endpoint

from ..bounded import decimal, json_loads
from ..errors import SigningError
from .. import x509
from .http import fetch
from .resolved import CredentialsError, ResolvedCredentials, from_json_fields

#: Seconds CreateSession may take to connect or between reads.
TIMEOUT_SECONDS = 10.0
PROFILE_PREFIX = "rolesanywhere_"

#: The settings, by the signing helper's flag name -> (required, help). A profile key is
#: PROFILE_PREFIX + the flag with `_` for `-`.
SETTINGS: dict[str, tuple[bool, str]] = {
    "certificate": (True, "PEM file of the end-entity certificate"),
    "private-key": (True, "PEM file of its private key (RSA or EC; PKCS#1, SEC 1 or PKCS#8, unencrypted)"),
    "intermediates": (False, "PEM file of intermediate certificates, sent as X-Amz-X509-Chain"),
    "trust-anchor-arn": (True, "ARN of the trust anchor"),
    "profile-arn": (True, "ARN of the Roles Anywhere profile"),
    "role-arn": (True, "ARN of the role to assume"),
    "session-duration": (False, f"seconds, {x509.MIN_DURATION}..{x509.MAX_DURATION} (default 3600)"),
    "region": (False, "signing region (default: the trust anchor ARN's)"),
    "endpoint": (False, "scheme://host[:port] of the Roles Anywhere endpoint (default: the regional one)"),
    "role-session-name": (False, "the role session's name (the profile must accept one)"),
}


def profile_key(flag: str) -> str:
    """`rolesanywhere_private_key` for `private-key`."""
    return PROFILE_PREFIX + flag.replace("-", "_")


@dataclass(frozen=True, slots=True)
class RolesAnywhereSettings:
    """One Roles Anywhere source: the helper's flags, by their names with `_` for `-`."""

    certificate: str
    private_key: str
    trust_anchor_arn: str
    profile_arn: str
    role_arn: str
    intermediates: str | None = None
    session_duration: int = 3600
    region: str | None = None
    endpoint: str | None = None
    role_session_name: str | None = None

    @classmethod
    def from_values(cls, values: Mapping[str, str | None], where: str) -> RolesAnywhereSettings:
        """From flag name -> value (`None`/empty: not given). Raises CredentialsError naming `where` and the
        setting when a required one is missing or the duration is not a whole number."""
        given = {flag: value for flag, value in values.items() if flag in SETTINGS and value}
        if missing := [flag for flag, (required, _) in SETTINGS.items() if required and flag not in given]:
            raise CredentialsError(f"{where}: {', '.join(missing)} missing (Roles Anywhere needs "
                                   f"{', '.join(f for f, (required, _) in SETTINGS.items() if required)})")
        duration = given.pop("session-duration", "3600")
        seconds = decimal(str(duration).strip())
        if seconds is None:
            raise CredentialsError(f"{where}: session-duration {str(duration)[:40]!r} is not a whole number of seconds")
        return cls(**{flag.replace("-", "_"): value for flag, value in given.items()}, session_duration=seconds)

    @classmethod
    def from_profile(cls, section: Mapping[str, str], profile: str) -> RolesAnywhereSettings | None:
        """The settings of a profile section, or None when it has no `rolesanywhere_certificate`."""
        if not section.get(profile_key("certificate")):
            return None
        values = {flag: section.get(profile_key(flag)) for flag in SETTINGS}
        return cls.from_values(values, f"profile {profile!r} (rolesanywhere_* keys)")

    def signing_region(self) -> str:
        """`region`, else the trust anchor ARN's (arn:partition:rolesanywhere:<region>:account:trust-anchor/id)."""
        parts = self.trust_anchor_arn.split(":")
        region = self.region or (parts[3] if len(parts) > 4 else "")
        if not region:
            raise CredentialsError(f"Roles Anywhere: trust-anchor-arn {self.trust_anchor_arn!r} names no region; "
                                   "give region")
        return region


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).expanduser().read_bytes()
    except OSError as err:
        raise CredentialsError(f"Roles Anywhere {what} {path}: unreadable ({err.strerror or err})") from None


def _error_message(body: bytes) -> str:
    """The service's message (JSON `message`), else a short start of the body: never credentials (an error
    answer holds none)."""
    try:
        document = json_loads(body)
        if isinstance(document, dict):
            return str(document.get("message") or document.get("Message") or document.get("__type") or "")
    except ValueError:
        pass
    return body[:200].decode("utf-8", "replace").strip()


def from_rolesanywhere(settings: RolesAnywhereSettings, env: Mapping[str, str], *, source: str = "rolesanywhere",
                       now: datetime | None = None) -> ResolvedCredentials:
    """Temporary credentials from CreateSession, signed with the settings' certificate and key at `now`
    (default: the clock). Raises CredentialsError naming the file, setting or the service's answer."""
    region = settings.signing_region()
    try:
        signer = x509.SigningCertificate.from_pem(
            _read(settings.certificate, "certificate"), _read(settings.private_key, "private key"),
            _read(settings.intermediates, "intermediates") if settings.intermediates else None)
        endpoint = service_endpoint("rolesanywhere", x509.SERVICE, region, env, settings.endpoint, None)[0]
        request = x509.create_session_request(
            endpoint, profile_arn=settings.profile_arn, role_arn=settings.role_arn,
            trust_anchor_arn=settings.trust_anchor_arn, duration_seconds=settings.session_duration,
            role_session_name=settings.role_session_name)
        signed = x509.sign(request, signer, region=region, timestamp=now or datetime.now(timezone.utc)).request
    except CredentialsError:
        raise
    except SigningError as err:
        raise CredentialsError(f"Roles Anywhere: {err}") from None
    where = "Roles Anywhere CreateSession"
    reply = fetch(signed, env, timeout=TIMEOUT_SECONDS, where=where)
    if not 200 <= reply.status < 300:
        raise CredentialsError(f"{where}: HTTP {reply.status}: {_error_message(reply.body) or '(no message)'}")
    try:
        document: Any = json_loads(reply.body)
        credentials = document["credentialSet"][0]["credentials"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise CredentialsError(f"{where}: the answer has no credentialSet[0].credentials") from None
    return from_json_fields(credentials, ("accessKeyId", "secretAccessKey", "sessionToken", "expiration"), where,
                            source, region)


def credential_process_output(found: ResolvedCredentials) -> str:
    """The JSON a `credential_process` prints (Version 1, AccessKeyId, SecretAccessKey, SessionToken,
    Expiration), as the signing helper prints it. It holds the secret key: it is the artifact asked for."""
    creds = found.credentials
    record: dict[str, object] = {"Version": 1, "AccessKeyId": creds.access_key_id,
                                 "SecretAccessKey": creds.secret_access_key}
    if creds.session_token:
        record["SessionToken"] = creds.session_token
    if found.expiration is not None:
        record["Expiration"] = found.expiration
    return json.dumps(record)
