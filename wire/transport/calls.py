"""`sigv4 call` at the edge: an operation's request built from its model, parameters, credentials and endpoint,
then signed at our clock.

Strategy: `prepare_call` gathers what the world supplies (the model file or
botocore's, `@file` parameters, a streaming payload named as a file, which is
opened and streamed rather than read, credentials and `endpoint_url` from the
profile and environment) and hands plain values to the pure `wire.serialize`
(and `wire.s3.prepare` for S3's bucket addressing); the `OperationCall` it
returns signs the same request again for any clock skew
(`wire.transport.resend` asks for that once, on a skew error).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sigv4
import wire
from sigv4.integrations.credentials import profile_setting, resolve_credentials
from wire import s3
from wire.endpoints import service_endpoint
from wire.params import read_params
from wire.service.queryform import load_call_model
from wire.transport import signing
from wire.transport.files import open_file, read_input
from wire.transport.resend import with_body_file


@dataclass(frozen=True)
class OperationCall:
    """An operation's unsigned request and what signs it."""

    model: wire.Model
    operation: str
    request: sigv4.Request
    credentials: sigv4.Credentials
    signing_region: str
    service: str
    #: `sigv4.sign` keywords beyond the scope: the algorithm, and S3's rules for S3.
    options: Mapping[str, Any] = field(default_factory=dict)
    #: The streamed payload's file (S3's Body=@path), read again by every signing.
    body_file: Any = None

    def signed(self, skew: timedelta = timedelta(0)) -> sigv4.Request:
        """The request signed at our clock plus `skew` (the server's clock minus ours)."""
        if self.body_file is not None:
            self.body_file.seek(0)  # a retry streams the file again
        sign: Any = sigv4.sign  # the overload (SigV4 or SigV2) is chosen by --sigv2, at run time
        signed: sigv4.Request = sign(self.request, self.credentials, region=self.signing_region, service=self.service,
                                     timestamp=signing.now() + skew, **self.options).request
        return signed


def prepare_call(flags: Any, env: Mapping[str, str], files: ExitStack) -> OperationCall:
    """The call `sigv4 call` flags describe (service, operation, params, --input, --model, --protocol, --profile,
    --region, --endpoint-url, --method, --sigv2); a streamed payload's file is opened on `files`.

    Raises `wire.WireError` for the model, the parameters or the endpoint, `InputError` for a file,
    `sigv4.SigningError` when no credentials are found.
    """
    model = load_call_model(flags.model or flags.service, flags.protocol)
    operation = model.operation(flags.operation)
    # A streaming payload named as a file (S3's Body=@path) is streamed from disk, not read.
    streamed = s3.streamed_file(operation, dict(p.partition("=")[::2] for p in flags.params))
    items = [p for p in flags.params if p.partition("=")[0] != streamed[0]] if streamed else flags.params
    params = read_params(model, flags.operation, items, read_input, flags.input)
    params = {**params, streamed[0]: b""} if streamed else params
    wire.validate(model, flags.operation, params)
    resolved = resolve_credentials(flags.profile, env)
    region = flags.region or resolved.region or "us-east-1"
    endpoint, signing_region = service_endpoint(flags.service, model.signing_name, region, env, flags.endpoint_url,
                                                profile_setting(flags.profile, "endpoint_url", env))
    request = wire.serialize(model, flags.operation, params, endpoint=endpoint, method=flags.method)
    body_file = files.enter_context(open_file(streamed[1], "rb")) if streamed else None
    if body_file is not None:
        request = with_body_file(request, body_file, chunked=True)
    if model.service_id == "S3":  # not S3 Control: its host carries the account id
        path_style = endpoint != service_endpoint(flags.service, "s3", region, {}, None, None)[0]
        request = s3.prepare(operation, request, params.get("Bucket"), path_style=path_style)
    options: dict[str, Any] = {"algorithm": "v2" if flags.sigv2 else "v4"}
    if model.signing_name == "s3":
        options.update(s3=True, payload=s3.STREAMING_PAYLOAD if streamed else None,
                       trailer_checksum=s3.DEFAULT_CHECKSUM if streamed else None)
    return OperationCall(model, flags.operation, request, resolved.credentials, signing_region,
                         model.signing_name or flags.service, options, body_file)
