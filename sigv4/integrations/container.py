"""Container credentials: the ECS task role and EKS Pod Identity endpoints.

Strategy: as botocore's ContainerProvider. `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`
is a path on the ECS agent (`http://169.254.170.2`); `..._FULL_URI` is a whole
URL, accepted only over https or to a host that cannot be a stranger
(loopback, the ECS agent, the EKS Pod Identity agent at 169.254.170.23 or
fd00:ec2::23), since the answer is a set of credentials. The request carries
`Authorization` from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (read at every
call: the agent rotates it) or `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from ..types import Request
from ..bounded import json_loads
from .http import fetch
from .resolved import CredentialsError, ResolvedCredentials, from_json_fields

ECS_AGENT = "http://169.254.170.2"
#: Hosts a plain-http FULL_URI may name, besides loopback addresses.
AGENT_HOSTS = frozenset({"169.254.170.2", "169.254.170.23", "fd00:ec2::23"})
TIMEOUT_SECONDS = 2.0
ATTEMPTS = 3
_FIELDS = ("AccessKeyId", "SecretAccessKey", "Token", "Expiration")


def is_configured(env: Mapping[str, str]) -> bool:
    return bool(env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") or env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI"))


def _allowed_host(host: str) -> bool:
    if host == "localhost" or host in AGENT_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def credentials_url(env: Mapping[str, str]) -> str:
    """The container credentials URL; raises CredentialsError when none is set or FULL_URI's host is refused."""
    relative = env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
    if relative:
        return ECS_AGENT + (relative if relative.startswith("/") else "/" + relative)
    full = env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    if not full:
        raise CredentialsError("container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI are not set")
    parts = urlsplit(full)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CredentialsError(f"AWS_CONTAINER_CREDENTIALS_FULL_URI: {full!r} is not an http(s) URL")
    if parts.scheme == "http" and not _allowed_host(parts.hostname):
        raise CredentialsError(f"AWS_CONTAINER_CREDENTIALS_FULL_URI: plain http only to loopback or "
                               f"{', '.join(sorted(AGENT_HOSTS))}, not {parts.hostname!r}; use https")
    return full


def authorization(env: Mapping[str, str]) -> str | None:
    """The Authorization header value, from the token file (read now) or the variable; None when neither is set."""
    path = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
    if path:
        try:
            token = Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as err:
            raise CredentialsError(f"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {path}: unreadable "
                                   f"({err.__class__.__name__})") from None
        where = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
    else:
        token, where = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN", ""), "AWS_CONTAINER_AUTHORIZATION_TOKEN"
    if any(c in token for c in "\r\n\0") or not token.isascii():
        raise CredentialsError(f"{where}: the token contains CR, LF, NUL or a non-ASCII character, which a header "
                               "value cannot carry")
    return token or None


def from_container(env: Mapping[str, str]) -> ResolvedCredentials:
    """Credentials from the container credentials endpoint.

    Raises CredentialsError when it is not configured, unreachable after
    `ATTEMPTS` tries, or answers anything but 200 with credentials JSON.
    """
    url = credentials_url(env)
    headers = [("Accept", "application/json")]
    token = authorization(env)
    if token:
        headers.append(("Authorization", token))
    request = Request("GET", url, headers)
    where = f"container credentials ({urlsplit(url).netloc})"
    reply = fetch(request, env, timeout=TIMEOUT_SECONDS, where=where, proxies=False, attempts=ATTEMPTS)
    if reply.status != 200:
        # Only the status: the body of a credentials endpoint may hold secrets, and errors reach terminals and logs.
        raise CredentialsError(f"{where}: HTTP {reply.status}")
    try:
        data = json_loads(reply.body)
    except ValueError:
        raise CredentialsError(f"{where}: the answer is not JSON") from None
    return from_json_fields(data, _FIELDS, where, "container-role")
