"""awsJson1_0 / awsJson1_1: JSON documents POSTed to `/`, and the JSON value
rules restJson1 shares.

Strategy: the shape-directed conversions are `wire.values`' compiled
closures with `JSON_RULES`, the table of how JSON carries scalars (base64
blobs, formatted timestamps, non-finite floats as strings). Error codes
follow the Smithy rules: take the `X-Amzn-Errortype` header, else the
body's `code`, else `__type`; drop whatever follows `:`, keep whatever
follows `#`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from collections.abc import Callable, Mapping
from typing import Any

from sigv4.bounded import json_loads
from wire import values
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
from wire.values import expect, structure_members

#: How JSON carries scalars: blobs as base64 text, timestamps formatted per
#: member (epoch seconds by default), non-finite floats as strings.
JSON_RULES = values.Rules(
    encoders={
        "timestamp": lambda shape, fmt: lambda value: format_timestamp(value, fmt or "unixTimestamp"),
        "blob": lambda shape, fmt: encode_blob,
        "float": lambda shape, fmt: encode_float,
        "double": lambda shape, fmt: encode_float,
    },
    decoders={
        "string": lambda shape: lambda v: expect(str, v, shape),
        "timestamp": lambda shape: lambda v: parse_timestamp(expect((int, float, str), v, shape)),
        "blob": lambda shape: lambda v: decode_blob(expect(str, v, shape)),
        "boolean": lambda shape: lambda v: parse_bool(expect(bool, v, shape)),
        "integer": lambda shape: parse_int,
        "long": lambda shape: parse_int,
        "short": lambda shape: parse_int,
        "byte": lambda shape: parse_int,
        "float": lambda shape: parse_float,
        "double": lambda shape: parse_float,
    },
    decoded_as_is={"string": str, "boolean": bool, "integer": int, "long": int, "short": int, "byte": int},
)


def members_encoder(members: tuple[Member, ...]) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """The encoder of a JSON object holding those of `members` set in a value, built once."""
    return values.members_encoder(JSON_RULES, members)


def members_decoder(members: tuple[Member, ...]) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """The decoder of those of `members` present (and not null) in a JSON object, built once."""
    return values.members_decoder(JSON_RULES, members)


def encode_value(shape: Shape, value: Any, fmt: str | None = None) -> Any:
    """`value` as a JSON-ready Python value for `shape` (timestamp format `fmt`)."""
    encoder = values.value_encoder(JSON_RULES, shape, fmt)
    return value if encoder is None else encoder(value)


def decode_members(members: tuple[Member, ...], data: Mapping[str, Any]) -> dict[str, Any]:
    """Those of `members` present (and not null) in JSON object `data`, decoded."""
    return members_decoder(members)(data)


def decode_value(shape: Shape, data: Any, fmt: str | None = None) -> Any:
    """A JSON value decoded with `shape`: timestamps become aware datetimes,
    blobs bytes, special float strings floats. Raises `DecodeError`."""
    decoder = values.value_decoder(JSON_RULES, shape)
    return data if decoder is None else decoder(data)


def compact_encoder(*, ensure_ascii: bool, allow_nan: bool) -> Callable[[Any], str]:
    """`json.dumps(value, separators=(",", ":"), ensure_ascii=..., allow_nan=...)` as a function built once:
    `JSONEncoder.encode` builds its C encoder on every call, a third of a small value's cost. The
    pure-Python encoder stands in where the C accelerator is missing."""
    encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=ensure_ascii, allow_nan=allow_nan)
    make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if make_encoder is None:
        return encoder.encode
    quote = json.encoder.encode_basestring_ascii if ensure_ascii else json.encoder.encode_basestring
    iterencode = make_encoder(None, encoder.default, quote, None, ":", ",", False, False, allow_nan)
    return lambda value: "".join(iterencode(value, 0))


_DUMPS = compact_encoder(ensure_ascii=True, allow_nan=False)


def dumps(value: Any) -> bytes:
    return _DUMPS(value).encode("utf-8")


def loads(body: bytes) -> Any:
    """Parse a JSON body; an empty body is an empty object."""
    if not body or body.isspace():  # as `not body.strip()`, without copying the body
        return {}
    try:
        return json_loads(body)
    except ValueError as err:
        raise DecodeError(f"invalid JSON body: {err}") from err


def loads_object(body: bytes) -> dict[str, Any]:
    data = loads(body)
    if not isinstance(data, dict):
        raise DecodeError(f"expected a JSON object, got {type(data).__name__}")
    return data


def sanitize_error_code(raw: str) -> str:
    """Smithy's rule: drop what follows `:`, keep what follows `#`."""
    return raw.split(":", 1)[0].rsplit("#", 1)[-1].strip()


def error_code(headers: Headers, body: Mapping[str, Any], status: int) -> str:
    """The code of a JSON error: botocore's restJson rule (the `x-amzn-ErrorType` header, the body's `code` or
    `Code`, its `__type`), sanitized; else, as botocore says, the HTTP status (an empty body: a HEAD request's)."""
    for raw in (headers.get("x-amzn-errortype"), body.get("code"), body.get("Code"), body.get("__type")):
        if isinstance(raw, str) and raw:
            return sanitize_error_code(raw)
    return str(status)


def error_message(body: Mapping[str, Any]) -> str:
    for key in ("message", "Message", "errorMessage"):
        value = body.get(key)
        if isinstance(value, str):
            return value
    return ""


def query_error_code(headers: Headers, code: str) -> str:
    """The code an `x-amzn-query-error: Code;Type` header gives a query-compatible
    service's error (botocore's rule: exactly two parts, the first not empty), else `code`."""
    parts = headers.get("x-amzn-query-error", "").split(";")
    return parts[0] if len(parts) == 2 and parts[0] else code


def query_mode_header(model: Model) -> tuple[tuple[str, str], ...]:
    """Smithy awsQueryCompatible: a request asks for Query-style error codes."""
    return (("x-amzn-query-mode", "true"),) if model.query_compatible else ()


def service_error(
    model: Model,
    status: int,
    headers: Headers,
    body: Mapping[str, Any],
    decode_data: Callable[[Shape], dict[str, Any]],
    code: str | None = None,
) -> ServiceError:
    """The `ServiceError` a JSON or CBOR error response describes; `decode_data`
    decodes the modelled error shape's members (protocols bind them
    differently). `code` is the raw error code, by default (None or "") the restJson rule's."""
    code = query_error_code(headers, sanitize_error_code(code) if code else error_code(headers, body, status))
    shape = model.error_shapes.get(code)
    data = decode_data(shape) if shape is not None else {}
    request_id = headers.get("x-amzn-requestid") or headers.get("x-amz-request-id")
    return ServiceError(code, error_message(body), status, request_id, data)


# -- awsJson1_0 / awsJson1_1 -------------------------------------------------


def _content_type(model: Model) -> str:
    return f"application/x-amz-json-{model.json_version}"


def _encode_request(model: Model, op: Operation, params: Params, method: str | None) -> Encoded:
    headers, encode_input = _request_plan(model, op)
    return Encoded("POST", "/", (), headers, dumps(encode_input(params)))


# The same for every call of an operation: built once (models and operations hash by identity).
@lru_cache(maxsize=1024)
def _request_plan(model: Model, op: Operation) -> tuple[tuple[tuple[str, str], ...], Callable[[Params], Any]]:
    """An operation's request headers and the encoder of its input."""
    headers = (("X-Amz-Target", f"{model.target_prefix}.{op.name}"),
               ("Content-Type", _content_type(model))) + query_mode_header(model)
    if op.input is None:
        return headers, lambda params: {}
    encoder = values.value_encoder(JSON_RULES, op.input, None)
    return headers, (lambda params: params) if encoder is None else encoder


def _decode_response(model: Model, op: Operation, status: int, headers: Headers, body: bytes) -> dict[str, Any]:
    data = loads_object(body)
    if status >= 300:
        # botocore's awsJson rule reads `__type` before the header and `code`.
        code = data.get("__type")
        raise service_error(model, status, headers, data, lambda shape: decode_members(structure_members(shape), data),
                            code if isinstance(code, str) else None)
    return _output_decoder(op)(data)


@lru_cache(maxsize=1024)
def _output_decoder(op: Operation) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """The decoder of an operation's output object, looked up once per operation (a call decodes many answers)."""
    return members_decoder(structure_members(op.output)) if op.output is not None else lambda data: {}


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
