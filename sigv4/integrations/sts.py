"""STS calls of the credential chain: AssumeRole and AssumeRoleWithWebIdentity, built by `wire`, signed by `sigv4`.

Strategy: the request comes from the shipped STS model subset
(`wire/models/sts-credentials.json`: botocore's STS model cut to the three
operations used here, Apache-2.0 like botocore), goes to the regional STS
endpoint or the one configured (`AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`,
the active profile's `[services]` section or `endpoint_url`: `wire.endpoints.service_endpoint`), signed with the source credentials (web
identity calls are unsigned: the token is the proof), and the answer is
decoded by the same model. A service error becomes a CredentialsError with
STS's code and message; the new credentials never appear in one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from functools import lru_cache, partial
from typing import Any

import wire
from wire.endpoints import EndpointConfig, service_endpoint

from ..signer import sign
from ..types import Credentials, Request
from .http import call_operation
from .resolved import ResolvedCredentials, from_json_fields

#: Seconds an STS call may take to connect or between reads.
STS_TIMEOUT_SECONDS = 10.0
MODEL_NAME = "sts-credentials"


@lru_cache(maxsize=1)
def model() -> wire.Model:
    """The shipped STS model subset (AssumeRole, AssumeRoleWithWebIdentity, GetCallerIdentity)."""
    return wire.load_model(MODEL_NAME)


def call(operation: str, params: Mapping[str, Any], credentials: Credentials | None, *, region: str,
         env: Mapping[str, str], endpoints: EndpointConfig | None = None) -> dict[str, Any]:
    """Call an STS operation and return its decoded output.

    `credentials=None` sends the call unsigned. Raises CredentialsError on a
    transport failure, an STS error (its code and message) or an answer that
    does not fit the model.
    """
    endpoint = service_endpoint("sts", "sts", region, env, None, endpoints)[0]
    signer = None if credentials is None else partial(_signed, credentials, region)
    return call_operation(model(), operation, params, endpoint=endpoint, env=env, timeout=STS_TIMEOUT_SECONDS,
                          where=f"STS {operation}", signer=signer)


def _signed(credentials: Credentials, region: str, request: Request) -> Request:
    return sign(request, credentials, region=region, service="sts", timestamp=datetime.now(timezone.utc)).request


def _issued(output: Mapping[str, Any], where: str, source: str, region: str | None) -> ResolvedCredentials:
    return from_json_fields(output.get("Credentials"), ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"),
                            where, source, region)


def _session_params(role_arn: str, session_name: str, duration_seconds: int | None) -> dict[str, Any]:
    params: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": session_name}
    if duration_seconds is not None:
        params["DurationSeconds"] = duration_seconds
    return params


def assume_role(source: Credentials, role_arn: str, session_name: str, *, region: str, env: Mapping[str, str],
                endpoints: EndpointConfig | None = None, external_id: str | None = None,
                duration_seconds: int | None = None, label: str = "assume-role") -> ResolvedCredentials:
    """AssumeRole with `source` credentials; the result's `source` is `label`.

    Raises CredentialsError (see `call`).
    """
    params = _session_params(role_arn, session_name, duration_seconds)
    if external_id is not None:
        params["ExternalId"] = external_id
    output = call("AssumeRole", params, source, region=region, env=env, endpoints=endpoints)
    return _issued(output, f"STS AssumeRole {role_arn}", label, region)


def assume_role_with_web_identity(token: str, role_arn: str, session_name: str, *, region: str,
                                  env: Mapping[str, str], endpoints: EndpointConfig | None = None,
                                  duration_seconds: int | None = None,
                                  label: str = "assume-role-with-web-identity") -> ResolvedCredentials:
    """AssumeRoleWithWebIdentity (unsigned; `token` is the OIDC token). Raises CredentialsError (see `call`)."""
    params = {**_session_params(role_arn, session_name, duration_seconds), "WebIdentityToken": token}
    output = call("AssumeRoleWithWebIdentity", params, None, region=region, env=env,
                  endpoints=endpoints)
    return _issued(output, f"STS AssumeRoleWithWebIdentity {role_arn}", label, region)
