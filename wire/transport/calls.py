"""`sigv4 call` at the edge: an operation's request built from its model, parameters, credentials and endpoint,
then signed at our clock.

Strategy: `prepare_call` gathers what the world supplies (the model file or
botocore's, `@file` parameters, a streaming payload named as a file, which is
opened and streamed rather than read, credentials and `endpoint_url` from the
profile and environment) and hands plain values to the pure `wire.serialize`
(and `wire.s3.prepare` for S3's bucket addressing); the `OperationCall` it
returns signs the same request again for any clock skew
(`wire.transport.resend` asks for that once, on a skew error).

A directory bucket (S3 Express One Zone) is addressed on its zonal endpoint
and signed with a session, as boto3 does: `ExpressSession` sends CreateSession
(signed for `s3express` with the caller's credentials) the first time the
operation is signed, keeps the session it returns in a small per-process cache
(by bucket, endpoint and caller) until shortly before it expires, and the
operation is signed with it (`sigv4.s3express.sign_directory_request`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sigv4
import wire
from sigv4.integrations.credentials import configured_endpoints, resolve_credentials
from wire import s3
from wire.endpoints import service_endpoint
from wire.params import read_params
from sigv4.s3express import create_session, sign_directory_request
from wire.customizations import customized, customized_headers
from wire.errors import ParamError
from wire.service.queryform import load_call_model
from wire.transport import signing
from wire.transport.client import NetworkError, TransportOptions
from wire.transport.files import open_body, read_input
from wire.transport.resend import send_signed, with_body_file

#: At most this many sessions are kept per process (botocore's S3ExpressIdentityCache keeps 100); oldest go first.
SESSION_CACHE_SIZE = 100
#: Sessions by (bucket, region, endpoint URL or None, caller's credentials): (session credentials, expiry).
_SESSIONS: dict[tuple[str, str, str | None, sigv4.Credentials], tuple[sigv4.Credentials, datetime]] = {}


def _ignore(_: str) -> None:
    """A `warn` that says nothing."""


@dataclass(frozen=True)
class ExpressSession:
    """Where and how a directory bucket's session is asked for: CreateSession on the bucket's zonal endpoint,
    or on `url` (`<endpoint URL>/<bucket>`, path style) when an endpoint URL is given."""

    bucket: str
    region: str
    url: str | None
    model: wire.Model
    transport: TransportOptions
    env: Mapping[str, str]
    warn: Callable[[str], None] = _ignore

    def create_request(self, caller: sigv4.Credentials, skew: timedelta = timedelta(0)) -> sigv4.Request:
        """The CreateSession request, signed for `s3express` with `caller`'s credentials at our clock + `skew`."""
        return create_session(self.bucket, caller, region=self.region, timestamp=signing.now() + skew,
                              url=self.url).request

    def credentials(self, caller: sigv4.Credentials) -> sigv4.Credentials:
        """The session that signs requests to the bucket: the cached one while fresh, else a new one from
        CreateSession (sent once more, signed for the server's clock, on a skew error).

        Raises `NetworkError` when CreateSession cannot be sent or is refused, or its answer does not decode.
        """
        key = (self.bucket, self.region, self.url, caller)
        cached = _SESSIONS.get(key)
        if cached is not None and s3.session_fresh(cached[1], signing.now()):
            return cached[0]
        _, exchange = send_signed(self.create_request(caller), self.transport, self.env, self.warn,
                                  resign=lambda skew: self.create_request(caller, skew))
        try:
            output = wire.parse_response(self.model, "CreateSession", exchange.status, exchange.headers,
                                         exchange.body)
            session = s3.session_credentials(output)
        except wire.WireError as err:  # a ServiceError (refused) or a DecodeError (an answer that is not one)
            raise NetworkError(f"CreateSession on {self.bucket} failed: {err}") from None
        _SESSIONS.pop(key, None)
        while len(_SESSIONS) >= SESSION_CACHE_SIZE:
            del _SESSIONS[next(iter(_SESSIONS))]
        _SESSIONS[key] = session
        return session[0]


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
    #: A directory bucket's session (S3 Express One Zone), which signs the request instead of `credentials`.
    express: ExpressSession | None = None

    def signed(self, skew: timedelta = timedelta(0)) -> sigv4.Request:
        """The request signed at our clock plus `skew` (the server's clock minus ours); for a directory
        bucket, with its session (CreateSession is sent first unless a fresh session is cached)."""
        if self.body_file is not None:
            self.body_file.seek(0)  # a retry streams the file again
        if self.express is not None:
            session = self.express.credentials(self.credentials)
            return sign_directory_request(self.request, session, region=self.signing_region,
                                          timestamp=signing.now() + skew, **self.options).request
        sign: Any = sigv4.sign  # the overload (SigV4 or SigV2) is chosen by --sigv2, at run time
        signed: sigv4.Request = sign(self.request, self.credentials, region=self.signing_region, service=self.service,
                                     timestamp=signing.now() + skew, **self.options).request
        return signed

    def parse_response(self, status: int, headers: list[tuple[str, str]], body: bytes) -> dict[str, Any]:
        """The answer's output members (`wire.parse_response`); S3's error inside a `200 OK` is read as the
        error it is (`s3.answer_status`). Raises `wire.ServiceError` or `wire.DecodeError`."""
        if self.model.service_id == "S3":
            status = s3.answer_status(self.model.operation(self.operation), status, body)
        return wire.parse_response(self.model, self.operation, status, headers, body)

    def preview(self) -> sigv4.Request:
        """What `--dry-run` shows: the signed request, or for a directory bucket the signed CreateSession request
        (the operation cannot be signed before CreateSession answers)."""
        return self.signed() if self.express is None else self.express.create_request(self.credentials)


def _writes_a_blob(operation: wire.model.Operation) -> bool:
    """Whether `operation`'s output is a blob payload (S3 GetObject's Body, Lambda Invoke's Payload), what `-o`
    writes to a file; the other members come from the headers."""
    shape = operation.output
    return shape is not None and shape.payload is not None and shape.members[shape.payload].shape.type == "blob"


def _answers_events(operation: wire.model.Operation) -> bool:
    """Whether `operation`'s output payload is an event stream (S3 SelectObjectContent, Bedrock's *Stream)."""
    shape = operation.output
    return shape is not None and shape.payload is not None and \
        shape.members[shape.payload].shape.type == "structure" and shape.members[shape.payload].shape.streaming


def prepare_call(flags: Any, env: Mapping[str, str], files: ExitStack,
                 transport: TransportOptions | None = None, warn: Callable[[str], None] = _ignore,
                 ) -> OperationCall:
    """The call `sigv4 call` flags describe (service, operation, params, --input, --model, --protocol, --profile,
    --region, --endpoint-url, --method, --sigv2); a streamed payload's file is opened on `files`.
    A directory bucket's CreateSession is sent over `transport`, its progress said on `warn`.

    Raises `wire.WireError` for the model, the parameters or the endpoint, `InputError` for a file,
    `sigv4.SigningError` when no credentials are found.
    """
    model = load_call_model(flags.model or flags.service, flags.protocol)
    operation = model.operation(flags.operation)
    op_name = operation.name  # the API name, also when typed as the aws CLI spells it (`list-objects-v2`)
    if flags.output and not _writes_a_blob(operation):  # else the answer went to the file and `{}` was printed
        raise ParamError(f"-o: {op_name}'s answer has no blob payload to write to a file; it is printed")
    if _answers_events(operation) and not flags.dry_run:  # refused before it runs (and is billed), not after
        raise ParamError(f"{op_name} answers with an event stream, which call does not decode: --dry-run writes the "
                         "signed request, `sigv4 send FILE -o OUT` saves the stream")
    # A streaming payload named as a file (S3's Body=@path) is streamed from disk, not read.
    streamed = s3.streamed_file(operation, dict(p.partition("=")[::2] for p in flags.params))
    items = [p for p in flags.params if p.partition("=")[0] != streamed[0]] if streamed else flags.params
    params = read_params(model, op_name, items, read_input, flags.input)
    params = customized(model, op_name, {**params, streamed[0]: b""} if streamed else params)
    wire.validate(model, op_name, params)
    resolved = resolve_credentials(flags.profile, env)
    region = flags.region or resolved.region or "us-east-1"
    endpoint, signing_region = service_endpoint(flags.service, model.signing_name, region, env, flags.endpoint_url,
                                                configured_endpoints(flags.profile, env), service_id=model.service_id)
    bucket = params.get("Bucket") if model.service_id == "S3" else None
    default_endpoint = service_endpoint(flags.service, "s3", region, {}, None, None)[0]
    express = None
    if s3.directory_bucket(bucket):
        if flags.sigv2:
            raise ParamError(f"Bucket: {bucket} is a directory bucket, signed with SigV4 only (drop --sigv2)")
        zonal = endpoint == default_endpoint
        endpoint = s3.zonal_endpoint(bucket, region) if zonal else endpoint
        express = ExpressSession(bucket, signing_region, None if zonal else f"{endpoint.rstrip('/')}/{bucket}",
                                 model, transport or TransportOptions(), env, warn)
    if flags.sigv2 and model.protocol not in ("query", "ec2"):  # SigV2's signature goes in a Query form
        raise ParamError(f"--sigv2: signs Query and EC2 Query calls; {model.service_id}'s protocol is {model.protocol}")
    request = customized_headers(model, wire.serialize(model, op_name, params, endpoint=endpoint, method=flags.method))
    body_file = files.enter_context(open_body(streamed[1])) if streamed else None
    if body_file is not None:
        request = with_body_file(request, body_file, chunked=True)
    if model.service_id == "S3":  # not S3 Control: its host carries the account id
        path_style = endpoint != default_endpoint and not (express and express.url is None)
        request = s3.prepare(operation, request, bucket, path_style=path_style)
    options: dict[str, Any] = {"algorithm": "v2" if flags.sigv2 else "v4"}
    if model.signing_name == "s3":
        options.update(s3=True, payload=s3.STREAMING_PAYLOAD if streamed else None,
                       trailer_checksum=s3.chosen_checksum(request) if streamed else None)
    if express is not None:  # sign_directory_request knows the algorithm and S3's rules
        options = {name: options[name] for name in ("payload", "trailer_checksum")}
    return OperationCall(model, op_name, request, resolved.credentials, signing_region,
                         model.signing_name or flags.service, options, body_file, express)
