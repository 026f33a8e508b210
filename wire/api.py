"""The public functions: params -> `Request`, response bytes -> dict, and the
server-side mirror images.

Strategy: every function looks the protocol's `Codec` up in `CODECS` and
adds only what is common to all protocols: type checking before encoding,
idempotency tokens, the endpoint (scheme, host, `hostPrefix`, path prefix),
request compression, the GET URL limit, and the error boundary that turns any
low-level failure while reading bytes into `DecodeError`.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any, NamedTuple

from sigv4.types import Request
from wire import jsonproto, query, restjson, restxml, rpcv2, xml
from wire.errors import DecodeError, SerializationError, ServiceError, ValidationError, Violation
from wire.http import Codec, Encoded, Params, Response, encode_query, normalize_headers
from wire.model import Model, Operation
from wire.validate import Check, input_checker

CODECS: dict[str, Codec] = {
    "json": jsonproto.CODEC,
    "rest-json": restjson.CODEC,
    "query": query.QUERY_CODEC,
    "ec2": query.EC2_CODEC,
    "rest-xml": restxml.CODEC,
    "smithy-rpc-v2-cbor": rpcv2.CODEC,
}

#: Protocols whose requests may be sent as POST or GET.
METHOD_CHOICE = frozenset({"query", "ec2"})

#: AWS's Query API accepts GET, but URLs beyond this are refused by front ends.
MAX_GET_URL = 8192

#: Smithy's default `requestMinCompressionSizeBytes`.
MIN_COMPRESSION_SIZE = 10240

_HOST_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_ENDPOINT = re.compile(r"(?P<scheme>https?)://(?P<authority>[^/?#]+)(?P<path>/[^?#]*)?")


def uuid4_token() -> str:
    """The default idempotency-token factory."""
    return str(uuid.uuid4())


class _RequestPlan(NamedTuple):
    """What `serialize` needs of an operation."""

    op: Operation
    check: Check  # of the params, without constraints (see wire.validate)
    tokens: tuple[str, ...]  # the idempotency-token members
    encode: Callable[[Model, Operation, Params, str | None], Encoded]  # the protocol's


# Looked up once per operation: a client sends many requests of one (models hash by identity).
@lru_cache(maxsize=1024)
def _request_plan(model: Model, operation: str) -> _RequestPlan:
    op = model.operation(operation)
    tokens = tuple(m.name for m in op.input.members.values() if m.idempotency_token) if op.input is not None else ()
    return _RequestPlan(op, input_checker(op.input, False), tokens, CODECS[model.protocol].encode_request)


def _fill_tokens(tokens: tuple[str, ...], params: Params, token_factory: Callable[[], str]) -> Params:
    missing = [name for name in tokens if params.get(name) is None]
    return {**params, **{name: token_factory() for name in missing}} if missing else params


def _host_prefix(op: Operation, params: Params) -> str:
    if not op.host_prefix:
        return ""
    prefix = op.host_prefix
    for member in op.input.members.values() if op.input else ():
        if member.host_label:
            prefix = prefix.replace("{" + member.name + "}", str(params.get(member.name, "")))
    for label in prefix.rstrip(".").split("."):
        if not _HOST_LABEL.fullmatch(label):
            raise SerializationError(f"host prefix {op.host_prefix!r} gives an invalid host label {label!r}")
    return prefix


def _compress(op: Operation, encoded: Encoded, min_size: int) -> Encoded:
    if "gzip" not in op.compression or len(encoded.body) < min_size:
        return encoded
    # mtime=0 keeps the output a pure function of the input.
    body = gzip.compress(encoded.body, mtime=0)
    headers = list(encoded.headers)
    for index, (name, value) in enumerate(headers):
        if name.lower() == "content-encoding":
            headers[index] = (name, f"{value}, gzip")
            break
    else:
        headers.append(("Content-Encoding", "gzip"))
    return encoded._replace(headers=tuple(headers), body=body)


@lru_cache(maxsize=256)
def _endpoint_parts(endpoint: str) -> tuple[str, str, str]:
    """(scheme, authority, base path without trailing `/`) of an endpoint; a client reuses one endpoint."""
    match = _ENDPOINT.fullmatch(endpoint) if isinstance(endpoint, str) else None
    if match is None:
        raise SerializationError(f"endpoint {endpoint!r} is not an http(s) URL without query")
    return match.group("scheme"), match.group("authority"), (match.group("path") or "").rstrip("/")


def _url(endpoint: str, host_prefix: str, encoded: Encoded) -> str:
    scheme, authority, base_path = _endpoint_parts(endpoint)
    url = f"{scheme}://{host_prefix}{authority}{base_path}{encoded.path}"
    if encoded.query:
        url += ("&" if "?" in encoded.path else "?") + encode_query(encoded.query)
    return url


def serialize(
    model: Model,
    operation: str,
    params: Mapping[str, Any],
    *,
    endpoint: str,
    method: str | None = None,
    token_factory: Callable[[], str] = uuid4_token,
    min_compression_size: int = MIN_COMPRESSION_SIZE,
) -> Request:
    """Encode `params` for `operation` as a `Request` ready to sign.

    `endpoint` is `scheme://host[:port][/path-prefix]`. `method="GET"` asks a
    Query or EC2 Query codec for a GET with the parameters in the URL (other
    protocols raise). Idempotency-token members left unset are filled from
    `token_factory`. Raises `ValidationError` (wrong types, missing required
    or unknown members) or `SerializationError`.
    """
    op, check, tokens, encode = _request_plan(model, operation)
    if method is not None and model.protocol not in METHOD_CHOICE:
        raise SerializationError(f"{model.protocol} requests use the model's method; method= is for Query and EC2 Query")
    found: list[Violation] = []
    check(params, (), found)
    if found:
        raise ValidationError(tuple(found))
    if tokens:  # most operations have none
        params = _fill_tokens(tokens, params, token_factory)
    encoded = encode(model, op, params, method)
    if op.compression:  # few operations compress; the rest are spared the call
        encoded = _compress(op, encoded, min_compression_size)
    if op.checksum_required and isinstance(encoded.body, bytes) and encoded.body:  # a stream: see wire.s3
        digest = base64.b64encode(hashlib.md5(encoded.body).digest()).decode("ascii")
        encoded = encoded._replace(headers=encoded.headers + (("Content-MD5", digest),))
    url = _url(endpoint, _host_prefix(op, params) if op.host_prefix else "", encoded)
    if encoded.method == "GET" and method == "GET" and len(url) > MAX_GET_URL:
        raise SerializationError(f"GET URL is {len(url)} bytes, over the {MAX_GET_URL}-byte limit; use POST")
    return Request(encoded.method, url, encoded.headers, encoded.body)


Headers = Mapping[str, str] | Iterable[tuple[str, str]]


# An operation and its protocol's decoder, looked up once per operation (a client reads many answers of one).
@lru_cache(maxsize=1024)
def _response_plan(
    model: Model, operation: str
) -> tuple[Operation, Callable[[Model, Operation, int, Mapping[str, str], bytes], dict[str, Any]]]:
    return model.operation(operation), CODECS[model.protocol].decode_response


def parse_response(model: Model, operation: str, status: int, headers: Headers, body: bytes) -> dict[str, Any]:
    """Decode a response to `operation`.

    Returns the output members as a dict (timestamps as aware datetimes, blobs
    as bytes). Raises `ServiceError` for an error response (status 300 and
    up), whatever its body, and `DecodeError` when a success's bytes do not
    fit the model; never anything else (but TypeError for a `status` that is not an int).
    """
    if not isinstance(status, int) or isinstance(status, bool):
        raise TypeError(f"status: expected the HTTP status as an int, got {type(status).__name__}")
    op, decode = _response_plan(model, operation)
    headers = normalize_headers(headers)
    try:
        try:
            return decode(model, op, status, headers, bytes(body))
        except (ServiceError, DecodeError):
            raise
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, RecursionError) as err:
            raise DecodeError(f"cannot decode {operation} response: {err!r}") from err
    except DecodeError:
        if status < 300:
            raise
        # A front end (a gateway, an auth layer) answered in another protocol's envelope, or in none.
        raise foreign_error(status, headers, bytes(body)) from None


def foreign_error(status: int, headers: Mapping[str, str], body: bytes) -> ServiceError:
    """The `ServiceError` of an error response whose body its protocol's codec could not read: the code and
    message of another protocol's envelope (XML `<Error>`, `<ErrorResponse><Error>`, EC2's `<Response><Errors>
    <Error>`; a JSON object's code by `jsonproto.error_code` and its `message`), else the status as its code
    (botocore's rule), no message, and the request id (`headers` lower-cased). Never raises."""
    request_id = headers.get("x-amzn-requestid") or headers.get("x-amz-request-id")
    try:
        root = xml.parse(body)
    except DecodeError:
        try:
            data = jsonproto.loads_object(body)
        except DecodeError:  # not JSON either: the status is the code, as botocore says (no message: see export)
            return ServiceError(str(status), "", status, request_id)
        return ServiceError(jsonproto.error_code(headers, data, status), jsonproto.error_message(data), status,
                            request_id)
    errors = root.child("Errors")
    error = root if root.tag == "Error" else root.child("Error") or (errors and errors.child("Error"))
    code = _text(error and error.child("Code"))
    request_id = _text(root.child("RequestId") or root.child("RequestID")) or request_id
    return ServiceError(code or str(status), _text(error and error.child("Message")) if code else "", status,
                        request_id or None)


def _text(node: xml.Node | None) -> str:
    return node.text if node is not None else ""


def parse_request(
    model: Model, method: str, target: str, headers: Headers, body: bytes
) -> tuple[str, dict[str, Any]]:
    """Server side: which operation a request calls, and its params.

    `target` is the request target (path and query). Returns
    `(operation name, params)`; raises `DecodeError`.
    """
    try:
        return CODECS[model.protocol].decode_request(model, method, target, normalize_headers(headers), bytes(body))
    except DecodeError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, RecursionError) as err:
        raise DecodeError(f"cannot decode request {method} {target}: {err!r}") from err


def serialize_response(
    model: Model, operation: str, output: Mapping[str, Any], *, request_id: str | None = None
) -> Response:
    """Server side: `(status, headers, body)` of a successful response to
    `operation`, carrying `request_id` where the protocol puts one."""
    return CODECS[model.protocol].encode_response(model, model.operation(operation), output, request_id)


def serialize_error(
    model: Model,
    code: str,
    message: str,
    status: int = 400,
    extra_members: Mapping[str, Any] | None = None,
    *,
    request_id: str | None = None,
) -> Response:
    """Server side: `(status, headers, body)` of an error response that
    `parse_response` reads back as `ServiceError(code, message, status, request_id, data)`."""
    return CODECS[model.protocol].encode_error(model, code, message, status, extra_members or {}, request_id)
