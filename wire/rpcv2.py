"""Smithy RPCv2 CBOR (`smithy-rpc-v2-cbor`): CBOR documents POSTed to
`/service/{ServiceName}/operation/{Operation}`.

Strategy: the body is `wire.values`' shape-directed conversion with
`CBOR_RULES` (blobs as byte strings, timestamps as tag-1 epoch seconds,
`float` members in single and `double` members in double precision as the
Smithy cases and the typed SDKs send them, any number width accepted on
input), then `wire.cbor`.
Requests carry `smithy-protocol: rpc-v2-cbor` and `Accept: application/cbor`;
`Content-Type: application/cbor` only with a body (an operation without
input sends none). The service name in the path is the model's
`targetPrefix`, as botocore sends it. Error codes are botocore's: the body's
`__type` (else the HTTP status), what follows `#`, without what follows
`:`; then the query-compatible rule (`x-amzn-query-error`) shared with
awsJson.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wire import cbor, values
from wire.errors import DecodeError
from wire.http import Codec, Encoded, Headers, Params, Response, request_id_header
from wire.jsonproto import query_mode_header, service_error
from wire.model import Model, Operation, Shape
from wire.scalars import parse_float, parse_int, parse_timestamp, to_bytes, to_datetime
from wire.values import expect, structure_members

CONTENT_TYPE = "application/cbor"
_PROTOCOL_HEADER = ("smithy-protocol", "rpc-v2-cbor")


def _timestamp(shape: Shape) -> Any:
    # Tag 1 arrives as a datetime (cbor.decode); a bare number is read as epoch seconds.
    return lambda v: v if isinstance(v, datetime) else parse_timestamp(expect((int, float), v, shape))


def _integer(shape: Shape) -> Any:
    # CBOR types its items: text or a float is not an integer here (parse_int refuses booleans).
    return lambda v: parse_int(expect(int, v, shape))


def _number(shape: Shape) -> Any:
    # Any width of float, or an integer, is read as a float (Smithy's upcasting rule).
    return lambda v: parse_float(expect((int, float), v, shape))


#: How CBOR carries scalars. Integers, strings and booleans travel as they are.
CBOR_RULES = values.Rules(
    encoders={
        "timestamp": lambda shape, fmt: to_datetime,
        "blob": lambda shape, fmt: to_bytes,
        "float": lambda shape, fmt: cbor.Float32,
        "double": lambda shape, fmt: cbor.Float64,
    },
    decoders={
        "string": lambda shape: lambda v: expect(str, v, shape),
        "timestamp": _timestamp,
        "blob": lambda shape: lambda v: expect(bytes, v, shape),
        "boolean": lambda shape: lambda v: expect(bool, v, shape),
        "integer": _integer,
        "long": _integer,
        "short": _integer,
        "byte": _integer,
        "float": _number,
        "double": _number,
    },
    decoded_as_is={
        "string": str,
        "boolean": bool,
        "integer": int,
        "long": int,
        "short": int,
        "byte": int,
        "blob": bytes,
        "timestamp": datetime,
        "float": float,
        "double": float,
    },
)


def path(model: Model, op: Operation) -> str:
    """The request path of `op`."""
    return f"/service/{model.target_prefix}/operation/{op.name}"


def dumps(shape: Shape, value: Params) -> bytes:
    """The CBOR body of structure `shape` holding `value`."""
    return cbor.encode(values.members_encoder(CBOR_RULES, structure_members(shape))(value))


def loads(body: bytes) -> dict[str, Any]:
    """A CBOR body as a map; an empty body is an empty map. Raises `DecodeError`."""
    if not body:
        return {}
    data = cbor.decode(body)
    if not isinstance(data, dict):
        raise DecodeError(f"expected a CBOR map, got {type(data).__name__}")
    return data


def _decode_members(shape: Shape, data: dict[str, Any]) -> dict[str, Any]:
    return values.members_decoder(CBOR_RULES, structure_members(shape))(data)


def _encode_request(model: Model, op: Operation, params: Params, method: str | None) -> Encoded:
    headers = (_PROTOCOL_HEADER, ("Accept", CONTENT_TYPE)) + query_mode_header(model)
    if op.input is None:
        return Encoded("POST", path(model, op), (), headers, b"")
    return Encoded("POST", path(model, op), (), headers + (("Content-Type", CONTENT_TYPE),), dumps(op.input, params))


def _error_code(status: int, body: dict[str, Any]) -> str:
    code = body.get("__type")
    return code if isinstance(code, str) else str(status)


def _decode_response(model: Model, op: Operation, status: int, headers: Headers, body: bytes) -> dict[str, Any]:
    data = loads(body)
    if status >= 300:
        raise service_error(model, status, headers, data, lambda shape: _decode_members(shape, data), _error_code(status, data))
    return _decode_members(op.output, data) if op.output is not None else {}


def _decode_request(model: Model, method: str, target: str, headers: Headers, body: bytes) -> tuple[str, dict[str, Any]]:
    parts = target.split("?", 1)[0].split("/")
    op = model.operations.get(parts[-1]) if len(parts) == 5 else None
    if op is None or parts[:4] != ["", "service", model.target_prefix, "operation"] or method != "POST":
        raise DecodeError(f"not an RPCv2 operation of this service: {method} {target!r}")
    return op.name, (_decode_members(op.input, loads(body)) if op.input is not None else {})


def _encode_response(model: Model, op: Operation, output: Params, request_id: str | None) -> Response:
    headers = (_PROTOCOL_HEADER,) + request_id_header(request_id)
    if op.output is None:
        return 200, headers, b""
    return 200, headers + (("Content-Type", CONTENT_TYPE),), dumps(op.output, output)


def _encode_error(model: Model, code: str, message: str, status: int, extra: Params, request_id: str | None) -> Response:
    shape = model.error_shapes.get(code)
    members = values.members_encoder(CBOR_RULES, structure_members(shape))(extra) if shape is not None else dict(extra)
    body = cbor.encode({"__type": code, "message": message, **members})
    return status, (_PROTOCOL_HEADER, ("Content-Type", CONTENT_TYPE)) + request_id_header(request_id), body


CODEC = Codec(_encode_request, _decode_response, _decode_request, _encode_response, _encode_error)
