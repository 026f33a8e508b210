"""awsJson1_0 / awsJson1_1: JSON documents POSTed to `/`, and the JSON value
rules restJson1 shares.

Strategy: each shape's encoder and decoder is compiled once into a closure
(cached per shape identity) from builder tables keyed by shape type; a
structure's closure holds its members' conversions directly, and values JSON
carries unchanged (strings, integers, booleans) skip the call. A timestamp's
format is a trait of the member reference, not of the shape, so it is fixed
when the member's encoder is built. Absent and `None` members are omitted on output; JSON `null` is
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
from wire.model import CompileMemo, Member, Model, Operation, Shape, compile_once
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

#: A compiled conversion of one shape's values; None where JSON carries the value as it is.
_Convert = Callable[[Any], Any]
_Memo = CompileMemo


def _compile(shape: Shape, memo: _Memo, build: Callable[[Shape, _Memo], _Convert | None]) -> _Convert | None:
    converter: _Convert | None = compile_once(shape, memo, lambda: build(shape, memo))
    return converter


# -- encoding: params -> JSON-ready values ----------------------------------------


def _member_encoder(member: Member, memo: _Memo) -> _Convert | None:
    shape = member.shape
    if shape.type == "timestamp":
        # The format is a trait of the member reference, so it is not memoized with the shape.
        fmt = member.timestamp_format or shape.timestamp_format or "unixTimestamp"
        return lambda value: format_timestamp(value, fmt)
    return _compile(shape, memo, _build_encoder)


def _members_encoder(members: Iterable[Member], memo: _Memo) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    plan = {m.name: (m.wire_name, _member_encoder(m, memo)) for m in members}

    def encode(value: Mapping[str, Any]) -> dict[str, Any]:
        # Walk the keys the caller set, not every member (a union such as
        # DynamoDB's AttributeValue has ten, one set), so keys keep the caller's
        # order. Keys that are not members (bound elsewhere, or unknown and
        # already refused by validation) are skipped.
        out: dict[str, Any] = {}
        for name, item in value.items():
            entry = plan.get(name)
            if entry is not None and item is not None:
                encoder = entry[1]
                out[entry[0]] = item if encoder is None else encoder(item)
        return out

    return encode


def _encode_list(shape: Shape, memo: _Memo) -> _Convert:
    encoder = _member_encoder(shape.member, memo)
    if encoder is None:
        return list
    return lambda value: [encoder(item) for item in value]


def _encode_map(shape: Shape, memo: _Memo) -> _Convert:
    encoder = _member_encoder(shape.members["value"], memo)
    if encoder is None:
        return dict
    return lambda value: {key: encoder(item) for key, item in value.items()}


_ENCODER_BUILDERS: dict[str, Callable[[Shape, _Memo], _Convert]] = {
    "structure": lambda shape, memo: _members_encoder(shape.members.values(), memo),
    "list": _encode_list,
    "map": _encode_map,
    "timestamp": lambda shape, memo: lambda value: format_timestamp(value, shape.timestamp_format or "unixTimestamp"),
    "blob": lambda shape, memo: encode_blob,
    "float": lambda shape, memo: encode_float,
    "double": lambda shape, memo: encode_float,
}


def _build_encoder(shape: Shape, memo: _Memo) -> _Convert | None:
    if shape.document:
        return None
    builder = _ENCODER_BUILDERS.get(shape.type)
    return None if builder is None else builder(shape, memo)


@lru_cache(maxsize=4096)
def members_encoder(members: tuple[Member, ...]) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """The encoder of a JSON object holding those of `members` set in a value, built once."""
    return _members_encoder(members, {})


@lru_cache(maxsize=4096)
def _value_encoder(shape: Shape, fmt: str | None) -> _Convert | None:
    return _member_encoder(Member("", shape, timestamp_format=fmt), {})


def encode_value(shape: Shape, value: Any, fmt: str | None = None) -> Any:
    """`value` as a JSON-ready Python value for `shape` (timestamp format `fmt`)."""
    encoder = _value_encoder(shape, fmt)
    return value if encoder is None else encoder(value)


# -- decoding: JSON values -> values ---------------------------------------------


def _expect(kind: type | tuple[type, ...], value: Any, shape: Shape) -> Any:
    if not isinstance(value, kind):
        raise DecodeError(f"{shape.name}: expected {shape.type}, got {type(value).__name__}")
    return value


#: The exact JSON type a decoder returns unchanged: a structure skips the call for it.
_DECODED_AS_IS: dict[str, type] = {
    "string": str,
    "boolean": bool,
    "integer": int,
    "long": int,
    "short": int,
    "byte": int,
}


def _members_decoder(members: Iterable[Member], memo: _Memo) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    plan = tuple(
        (m.wire_name, m.name, _DECODED_AS_IS.get(m.shape.type), _compile(m.shape, memo, _build_decoder)) for m in members
    )

    def decode(data: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for wire_name, name, as_is, decoder in plan:
            item = data.get(wire_name)
            if item is not None:
                out[name] = item if type(item) is as_is or decoder is None else decoder(item)
        return out

    return decode


def _decode_structure(shape: Shape, memo: _Memo) -> _Convert:
    decode = _members_decoder(shape.members.values(), memo)
    return lambda data: decode(_expect(dict, data, shape))


def _decode_list(shape: Shape, memo: _Memo) -> _Convert:
    decoder = _compile(shape.member.shape, memo, _build_decoder) or (lambda item: item)
    return lambda data: [decoder(item) for item in _expect(list, data, shape) if item is not None]


def _decode_map(shape: Shape, memo: _Memo) -> _Convert:
    decoder = _compile(shape.members["value"].shape, memo, _build_decoder) or (lambda item: item)
    return lambda data: {key: decoder(item) for key, item in _expect(dict, data, shape).items() if item is not None}


_DECODER_BUILDERS: dict[str, Callable[[Shape, _Memo], _Convert]] = {
    "structure": _decode_structure,
    "list": _decode_list,
    "map": _decode_map,
    "string": lambda shape, memo: lambda v: _expect(str, v, shape),
    "timestamp": lambda shape, memo: lambda v: parse_timestamp(_expect((int, float, str), v, shape)),
    "blob": lambda shape, memo: lambda v: decode_blob(_expect(str, v, shape)),
    "boolean": lambda shape, memo: lambda v: parse_bool(_expect(bool, v, shape)),
    "integer": lambda shape, memo: parse_int,
    "long": lambda shape, memo: parse_int,
    "short": lambda shape, memo: parse_int,
    "byte": lambda shape, memo: parse_int,
    "float": lambda shape, memo: parse_float,
    "double": lambda shape, memo: parse_float,
}


def _build_decoder(shape: Shape, memo: _Memo) -> _Convert | None:
    if shape.document:
        return None
    builder = _DECODER_BUILDERS.get(shape.type)
    return None if builder is None else builder(shape, memo)


@lru_cache(maxsize=4096)
def members_decoder(members: tuple[Member, ...]) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """The decoder of those of `members` present (and not null) in a JSON object, built once."""
    return _members_decoder(members, {})


def decode_members(members: tuple[Member, ...], data: Mapping[str, Any]) -> dict[str, Any]:
    """Those of `members` present (and not null) in JSON object `data`, decoded."""
    return members_decoder(members)(data)


@lru_cache(maxsize=4096)
def structure_members(shape: Shape) -> tuple[Member, ...]:
    """A structure's members as the hashable key `members_encoder` / `members_decoder` are built for."""
    return tuple(shape.members.values())


@lru_cache(maxsize=4096)
def _value_decoder(shape: Shape) -> _Convert | None:
    return _compile(shape, {}, _build_decoder)


def decode_value(shape: Shape, data: Any, fmt: str | None = None) -> Any:
    """A JSON value decoded with `shape`: timestamps become aware datetimes,
    blobs bytes, special float strings floats. Raises `DecodeError`."""
    decoder = _value_decoder(shape)
    return data if decoder is None else decoder(data)


_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
#: `_ENCODER`'s one-shot C encoder, built once: `JSONEncoder.encode` builds it
#: on every call, a third of a small body's cost. The pure-Python
#: `iterencode` stands in where the C accelerator is missing.
_C_MAKE_ENCODER = getattr(json.encoder, "c_make_encoder", None)
_ITERENCODE: Callable[[Any, int], Iterable[str]] = (
    _C_MAKE_ENCODER(None, _ENCODER.default, json.encoder.encode_basestring_ascii, None, ":", ",", False, False, False)
    if _C_MAKE_ENCODER is not None
    else lambda value, level: _ENCODER.iterencode(value)
)


def dumps(value: Any) -> bytes:
    return "".join(_ITERENCODE(value, 0)).encode("utf-8")


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
        raise service_error(model, status, headers, data, lambda shape: decode_members(structure_members(shape), data))
    return decode_members(structure_members(op.output), data) if op.output is not None else {}


def _decode_request(model: Model, method: str, target: str, headers: Headers, body: bytes) -> tuple[str, dict[str, Any]]:
    prefix, _, name = headers.get("x-amz-target", "").rpartition(".")
    op = model.operations.get(name)
    if op is None or prefix != model.target_prefix:
        raise DecodeError(f"unknown X-Amz-Target {headers.get('x-amz-target')!r}")
    data = loads_object(body)
    return name, (decode_members(structure_members(op.input), data) if op.input is not None else {})


def _encode_response(model: Model, op: Operation, output: Params, request_id: str | None) -> Response:
    body = encode_value(op.output, output) if op.output is not None else {}
    return 200, (("Content-Type", _content_type(model)),) + request_id_header(request_id), dumps(body)


def _encode_error(model: Model, code: str, message: str, status: int, extra: Params, request_id: str | None) -> Response:
    shape = model.error_shapes.get(code)
    members = encode_value(shape, extra) if shape is not None else dict(extra)
    body = {"__type": code, "message": message, **members}
    return status, (("Content-Type", _content_type(model)),) + request_id_header(request_id), dumps(body)


CODEC = Codec(_encode_request, _decode_response, _decode_request, _encode_response, _encode_error)
