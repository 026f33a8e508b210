"""`sigv4 call` at the edge: an operation's request built from its model, parameters, credentials and endpoint,
then signed at our clock.

Strategy: `prepare_call` gathers what the world supplies (the model file or
botocore's, `@file` parameters, credentials and `endpoint_url` from the
profile and environment) and hands plain values to the pure `wire.serialize`;
the `OperationCall` it returns signs the same request again for any clock
skew (`wire.transport.resend` asks for that once, on a skew error).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sigv4
import wire
from sigv4.integrations.credentials import profile_setting, resolve_credentials
from wire.endpoints import service_endpoint
from wire.params import read_params
from wire.service.queryform import load_call_model
from wire.transport import signing
from wire.transport.files import read_input


@dataclass(frozen=True)
class OperationCall:
    """An operation's unsigned request and what signs it."""

    model: wire.Model
    operation: str
    request: sigv4.Request
    credentials: sigv4.Credentials
    signing_region: str
    service: str
    sigv2: bool

    def signed(self, skew: timedelta = timedelta(0)) -> sigv4.Request:
        """The request signed (SigV4, or SigV2 for `--sigv2`) at our clock plus `skew` (the server's clock minus ours)."""
        sign: Any = sigv4.sign  # one call for both versions: the overload is chosen by --sigv2, at run time
        signed: sigv4.Request = sign(self.request, self.credentials, region=self.signing_region, service=self.service,
                                     timestamp=signing.now() + skew, algorithm="v2" if self.sigv2 else "v4").request
        return signed


def prepare_call(flags: Any, env: Mapping[str, str]) -> OperationCall:
    """The call `sigv4 call` flags describe (service, operation, params, --input, --model, --protocol, --profile,
    --region, --endpoint-url, --method, --sigv2).

    Raises `wire.WireError` for the model, the parameters or the endpoint, `InputError` for a file,
    `sigv4.SigningError` when no credentials are found.
    """
    model = load_call_model(flags.model or flags.service, flags.protocol)
    params = read_params(model, flags.operation, flags.params, read_input, flags.input)
    wire.validate(model, flags.operation, params)
    resolved = resolve_credentials(flags.profile, env)
    region = flags.region or resolved.region or "us-east-1"
    endpoint, signing_region = service_endpoint(flags.service, model.signing_name, region, env, flags.endpoint_url,
                                                profile_setting(flags.profile, "endpoint_url", env))
    request = wire.serialize(model, flags.operation, params, endpoint=endpoint, method=flags.method)
    return OperationCall(model, flags.operation, request, resolved.credentials, signing_region,
                         model.signing_name or flags.service, flags.sigv2)
