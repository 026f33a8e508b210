"""awsJson1_0 / awsJson1_1: JSON documents POSTed to `/`, and the JSON value
rules restJson1 shares.

Strategy: `encode_value` / `decode_value` walk a shape and a value with
encoder and decoder tables keyed by shape type; a timestamp's format travels
down as an argument because it is a trait of the member reference, not of the
shape. Absent and `None` members are omitted on output; JSON `null` is
skipped on input. Error codes follow the Smithy rules: take the
`X-Amzn-Errortype` header, else the body's `code`, else `__type`; drop
whatever follows `:`, keep whatever follows `#`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

from wire.errors import DecodeError, ServiceError
from wire.http import Codec, Encoded, Headers, Params, Response, request_id_header
from wire.model import Member, Model, Operation, Shape
from wire.scalars import (
    decode_blob,
    encode_blob,
    encode_float,
    format_timestamp,
    parse_bool,
    parse_float,
    parse_int,
    parse_timestamp,
)

_Encoder = Callable[[Shape, "str | None", Any], Any]
_Decoder = Callable[[Shape, "str | None", Any], Any]


_Plan = tuple[tuple[str, str, Shape, "str | None", "_Encoder | None"], ...]


@lru_cache(maxsize=4096)
def _plan(members: tuple[Member, ...]) -> _Plan:
    """Per member, looked up once: (name, wire name, shape, timestamp format,
    encoder, None for a value JSON carries as it is)."""
    return tuple((m.name, m.wire_name, m.shape, m.timestamp_format, _ENCODERS.get(m.shape.type)) for m in members)


def encode_members(members: Iterable[Member], value: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON object holding those of `members` set in `value`."""
    out: dict[str, Any] = {}
    for name, wire_name, shape, fmt, encoder in _plan(tuple(members)):
        item = value.get(name)
        if item is not None:
            out[wire_name] = item if encoder is None else encoder(shape, fmt, item)
    return out


def _encode_structure(shape: Shape, fmt: str | None, value: Mapping[str, Any]) -> Any:
    return value if shape.document else encode_members(shape.members.values(), value)


def _encode_list(shape: Shape, fmt: str | None, value: list[Any]) -> Any:
    member = shape.member
    encoder = _ENCODERS.get(member.shape.type)
    if encoder is None:
        return list(value)
    return [encoder(member.shape, member.timestamp_format, item) for item in value]


def _encode_map(shape: Shape, fmt: str | None, value: Mapping[str, Any]) -> Any:
    member = shape.members["value"]
    encoder = _ENCODERS.get(member.shape.type)
    if encoder is None:
        return dict(value)
    return {key: encoder(member.shape, member.timestamp_format, item) for key, item in value.items()}


_ENCODERS: dict[str, _Encoder] = {
    "structure": _encode_structure,
    "list": _encode_list,
    "map": _encode_map,
    "timestamp": lambda shape, fmt, v: format_timestamp(v, fmt or shape.timestamp_format or "unixTimestamp"),
    "blob": lambda shape, fmt, v: encode_blob(v),
    "float": lambda shape, fmt, v: encode_float(v),
    "double": lambda shape, fmt, v: encode_float(v),
}


def encode_value(shape: Shape, value: Any, fmt: str | None = None) -> Any:
    """`value` as a JSON-ready Python value for `shape` (timestamp format `fmt`)."""
    encoder = _ENCODERS.get(shape.type)
    return value if encoder is None else encoder(shape, fmt, value)


def _expect(kind: type | tuple[type, ...], value: Any, shape: Shape) -> Any:
    if not isinstance(value, kind):
        raise DecodeError(f"{shape.name}: expected {shape.type}, got {type(value).__name__}")
    return value


def decode_members(members: Iterable[Member], data: Mapping[str, Any]) -> dict[str, Any]:
    """Those of `members` present (and not null) in JSON object `data`, decoded."""
    out: dict[str, Any] = {}
    for member in members:
        item = data.get(member.wire_name)
        if item is not None:
            out[member.name] = decode_value(member.shape, item, member.timestamp_format)
    return out


def _decode_structure(shape: Shape, fmt: str | None, data: Any) -> Any:
    if shape.document:
        return data
    return decode_members(shape.members.values(), _expect(dict, data, shape))


def _decode_list(shape: Shape, fmt: str | None, data: Any) -> Any:
    member = shape.member
    return [decode_value(member.shape, item, member.timestamp_format) for item in _expect(list, data, shape) if item is not None]


def _decode_map(shape: Shape, fmt: str | None, data: Any) -> Any:
    member = shape.members["value"]
    return {
        key: decode_value(member.shape, item, member.timestamp_format)
        for key, item in _expect(dict, data, shape).items()
        if item is not None
    }


def _decode_string(shape: Shape, fmt: str | None, data: Any) -> Any:
    return _expect(str, data, shape)


_DECODERS: dict[str, _Decoder] = {
    "structure": _decode_structure,
    "list": _decode_list,
    "map": _decode_map,
    "string": _decode_string,
    "timestamp": lambda shape, fmt, v: parse_timestamp(_expect((int, float, str), v, shape)),
    "blob": lambda shape, fmt, v: decode_blob(_expect(str, v, shape)),
    "boolean": lambda shape, fmt, v: parse_bool(_expect(bool, v, shape)),
    "integer": lambda shape, fmt, v: parse_int(v),
    "long": lambda shape, fmt, v: parse_int(v),
    "short": lambda shape, fmt, v: parse_int(v),
    "byte": lambda shape, fmt, v: parse_int(v),
    "float": lambda shape, fmt, v: parse_float(v),
    "double": lambda shape, fmt, v: parse_float(v),
}


def decode_value(shape: Shape, data: Any, fmt: str | None = None) -> Any:
    """A JSON value decoded with `shape`: timestamps become aware datetimes,
    blobs bytes, special float strings floats. Raises `DecodeError`."""
    decoder = _DECODERS.get(shape.type)
    return data if decoder is None else decoder(shape, fmt, data)


_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


def dumps(value: Any) -> bytes:
    return _ENCODER.encode(value).encode("utf-8")


def loads(body: bytes) -> Any:
    """Parse a JSON body; an empty body is an empty object."""
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as err:
        raise DecodeError(f"invalid JSON body: {err}") from err


def loads_object(body: bytes) -> dict[str, Any]:
    data = loads(body)
    if not isinstance(data, dict):
        raise DecodeError(f"expected a JSON object, got {type(data).__name__}")
    return data


def sanitize_error_code(raw: str) -> str:
    """Smithy's rule: drop what follows `:`, keep what follows `#`."""
    return raw.split(":", 1)[0].rsplit("#", 1)[-1].strip()


def error_code(headers: Headers, body: Mapping[str, Any]) -> str:
    for raw in (headers.get("x-amzn-errortype"), body.get("code"), body.get("__type")):
        if isinstance(raw, str) and raw:
            return sanitize_error_code(raw)
    return ""


def error_message(body: Mapping[str, Any]) -> str:
    for key in ("message", "Message", "errorMessage"):
        value = body.get(key)
        if isinstance(value, str):
            return value
    return ""


def service_error(
    model: Model,
    status: int,
    headers: Headers,
    body: Mapping[str, Any],
    decode_data: Callable[[Shape], dict[str, Any]],
) -> ServiceError:
    """The `ServiceError` a JSON error response describes; `decode_data`
    decodes the modelled error shape's members (protocols bind them differently)."""
    code = error_code(headers, body)
    if model.query_compatible and "x-amzn-query-error" in headers:
        code = headers["x-amzn-query-error"].split(";", 1)[0] or code
    shape = model.error_shapes.get(code)
    data = decode_data(shape) if shape is not None else {}
    request_id = headers.get("x-amzn-requestid") or headers.get("x-amz-request-id")
    return ServiceError(code, error_message(body), status, request_id, data)


# -- awsJson1_0 / awsJson1_1 -------------------------------------------------


def _content_type(model: Model) -> str:
    return f"application/x-amz-json-{model.json_version}"


def _encode_request(model: Model, op: Operation, params: Params, method: str | None) -> Encoded:
    body = encode_value(op.input, params) if op.input is not None else {}
    headers: tuple[tuple[str, str], ...] = (
        ("X-Amz-Target", f"{model.target_prefix}.{op.name}"),
        ("Content-Type", _content_type(model)),
    )
    if model.query_compatible:
        # Smithy awsQueryCompatible: ask for Query-style error codes.
        headers += (("x-amzn-query-mode", "true"),)
    return Encoded("POST", "/", (), headers, dumps(body))


def _decode_response(model: Model, op: Operation, status: int, headers: Headers, body: bytes) -> dict[str, Any]:
    data = loads_object(body)
    if status >= 300:
        raise service_error(model, status, headers, data, lambda shape: decode_members(shape.members.values(), data))
    return decode_members(op.output.members.values(), data) if op.output is not None else {}


def _decode_request(model: Model, method: str, target: str, headers: Headers, body: bytes) -> tuple[str, dict[str, Any]]:
    prefix, _, name = headers.get("x-amz-target", "").rpartition(".")
    op = model.operations.get(name)
    if op is None or prefix != model.target_prefix:
        raise DecodeError(f"unknown X-Amz-Target {headers.get('x-amz-target')!r}")
    data = loads_object(body)
    return name, (decode_members(op.input.members.values(), data) if op.input is not None else {})


def _encode_response(model: Model, op: Operation, output: Params, request_id: str | None) -> Response:
    body = encode_value(op.output, output) if op.output is not None else {}
    return 200, (("Content-Type", _content_type(model)),) + request_id_header(request_id), dumps(body)


def _encode_error(model: Model, code: str, message: str, status: int, extra: Params, request_id: str | None) -> Response:
    shape = model.error_shapes.get(code)
    members = encode_value(shape, extra) if shape is not None else dict(extra)
    body = {"__type": code, "message": message, **members}
    return status, (("Content-Type", _content_type(model)),) + request_id_header(request_id), dumps(body)


CODEC = Codec(_encode_request, _decode_response, _decode_request, _encode_response, _encode_error)
