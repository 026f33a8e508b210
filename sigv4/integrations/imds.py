"""EC2 instance metadata (IMDSv2) credentials: a session token first, then the role's credentials.

Strategy: as botocore's InstanceMetadataProvider. `PUT /latest/api/token`
gets a session token (6 hours); every GET carries it. The endpoint is
`AWS_EC2_METADATA_SERVICE_ENDPOINT` (or the profile's
`ec2_metadata_service_endpoint`), else 169.254.169.254, or [fd00:ec2::254]
when the endpoint mode is IPv6. `AWS_EC2_METADATA_DISABLED=true` turns the
provider off. The token answer is an IP packet with a hop limit (the
instance's `HttpPutResponseHopLimit`, 1 by default): from inside a container
it is dropped one hop short and the PUT times out. botocore then falls back
to IMDSv1 (plain GETs); so does this module, unless IMDSv1 is disabled
(`AWS_EC2_METADATA_V1_DISABLED` or `ec2_metadata_v1_disabled`), in which
case the error says to raise the hop limit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..types import Request
from ..bounded import json_loads
from .http import Reply, fetch, is_true
from .resolved import CredentialsError, ResolvedCredentials, from_json_fields

DEFAULT_ENDPOINT = "http://169.254.169.254"
IPV6_ENDPOINT = "http://[fd00:ec2::254]"
TOKEN_PATH = "/latest/api/token"
ROLES_PATH = "/latest/meta-data/iam/security-credentials/"
TOKEN_TTL_SECONDS = 21600
#: Token PUT statuses after which botocore falls back to IMDSv1 (an IMDS that predates tokens, or a proxy).
_NO_TOKEN_SERVICE = frozenset({403, 404, 405})
_FIELDS = ("AccessKeyId", "SecretAccessKey", "Token", "Expiration")
WHERE = "instance metadata"


def endpoint(env: Mapping[str, str], config: Mapping[str, str]) -> str:
    """The IMDS base URL, as configured (no trailing slash)."""
    configured = env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT") or config.get("ec2_metadata_service_endpoint")
    if configured:
        return configured.rstrip("/")
    mode = env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE") or config.get("ec2_metadata_service_endpoint_mode")
    return IPV6_ENDPOINT if (mode or "").lower() == "ipv6" else DEFAULT_ENDPOINT


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name)
    try:
        value = float(text) if text else default
    except ValueError:
        raise CredentialsError(f"{name}: {text!r} is not a number") from None
    if not 0 < value < math.inf:  # NaN fails both comparisons
        raise CredentialsError(f"{name}: {text!r} must be a positive number of seconds")
    return value


class _Client:
    """The GETs and the PUT of one credential lookup, with its timeout and attempts."""

    def __init__(self, env: Mapping[str, str], base: str) -> None:
        self.env, self.base = env, base
        self.timeout = _number(env, "AWS_METADATA_SERVICE_TIMEOUT", 1.0)
        self.attempts = int(_number(env, "AWS_METADATA_SERVICE_NUM_ATTEMPTS", 1))

    def send(self, method: str, path: str, headers: list[tuple[str, str]]) -> Reply:
        return fetch(Request(method, self.base + path, headers), self.env, timeout=self.timeout,
                     where=f"{WHERE} {method} {path}", proxies=False, attempts=self.attempts)


def _session_token(client: _Client, v1_allowed: bool) -> str | None:
    """An IMDSv2 token, or None when IMDSv1 is to be used instead."""
    try:
        reply = client.send("PUT", TOKEN_PATH, [("X-aws-ec2-metadata-token-ttl-seconds", str(TOKEN_TTL_SECONDS))])
    except CredentialsError as err:
        if v1_allowed:
            return None
        raise CredentialsError(f"{err}; no IMDSv2 token. Inside a container, the instance's metadata hop limit "
                               "(HttpPutResponseHopLimit) must be at least 2 for the answer to arrive") from None
    if reply.status == 200 and reply.body:
        return reply.body.decode("ascii", "replace").strip()
    if reply.status in _NO_TOKEN_SERVICE and v1_allowed:
        return None
    raise CredentialsError(f"{WHERE}: PUT {TOKEN_PATH} answered HTTP {reply.status}; no IMDSv2 token")


def _get(client: _Client, path: str, token: str | None) -> Reply:
    reply = client.send("GET", path, [("X-aws-ec2-metadata-token", token)] if token else [])
    if reply.status == 404 and path == ROLES_PATH:
        raise CredentialsError(f"{WHERE}: no IAM role is attached to this instance")
    if reply.status != 200:
        raise CredentialsError(f"{WHERE}: GET {path} answered HTTP {reply.status}")
    return reply


def from_imds(env: Mapping[str, str], config: Mapping[str, str] | None = None) -> ResolvedCredentials:
    """The instance role's credentials from IMDS (`config`: the active profile's config section).

    Raises CredentialsError when disabled, unreachable, or when no role is attached.
    """
    config = config or {}
    if is_true(env.get("AWS_EC2_METADATA_DISABLED")):
        raise CredentialsError(f"{WHERE}: disabled by AWS_EC2_METADATA_DISABLED")
    client = _Client(env, endpoint(env, config))
    v1_allowed = not (is_true(env.get("AWS_EC2_METADATA_V1_DISABLED"))
                      or is_true(config.get("ec2_metadata_v1_disabled")))
    token = _session_token(client, v1_allowed)
    role = _get(client, ROLES_PATH, token).body.decode("utf-8", "replace").strip().splitlines()
    if not role or not role[0].strip():
        raise CredentialsError(f"{WHERE}: no IAM role is attached to this instance")
    name = role[0].strip()
    reply = _get(client, ROLES_PATH + name, token)
    try:
        data = json_loads(reply.body)
    except ValueError:
        raise CredentialsError(f"{WHERE}: the credentials of role {name!r} are not JSON") from None
    if isinstance(data, dict) and data.get("Code", "Success") != "Success":
        raise CredentialsError(f"{WHERE}: role {name!r}: {data.get('Code')}")
    return from_json_fields(data, _FIELDS, f"{WHERE} (role {name})", f"iam-role ({name})")
