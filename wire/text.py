"""Scalars as text: header values, query-string and form values, URI labels, XML text.

Strategy: two tables keyed by shape type, one per direction. The caller
passes the location's default timestamp format (HTTP date for headers,
ISO 8601 elsewhere); a member's own `timestampFormat` wins over it. A
`jsonvalue` string (Smithy `mediaType`) travels base64-encoded.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from wire.model import Member
from wire.scalars import (
    bool_text,
    decode_blob,
    encode_blob,
    float_text,
    format_timestamp_text,
    parse_bool,
    parse_float,
    parse_int,
    parse_timestamp,
)


def _string_text(member: Member, value: Any, default_fmt: str) -> str:
    if member.json_value:
        text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        return base64.b64encode(text.encode("utf-8")).decode("ascii")
    return str(value)


_TO_TEXT: dict[str, Callable[[Member, Any, str], str]] = {
    "string": _string_text,
    "timestamp": lambda m, v, fmt: format_timestamp_text(v, m.timestamp_format or fmt),
    "boolean": lambda m, v, fmt: bool_text(v),
    "float": lambda m, v, fmt: float_text(v),
    "double": lambda m, v, fmt: float_text(v),
    "blob": lambda m, v, fmt: encode_blob(v),
}


def to_text(member: Member, value: Any, default_fmt: str) -> str:
    """A scalar as text; `default_fmt` is the location's default timestamp format."""
    render = _TO_TEXT.get(member.shape.type)
    return str(value) if render is None else render(member, value, default_fmt)


def _string_value(member: Member, text: str) -> Any:
    return decode_blob(text).decode("utf-8", "replace") if member.json_value else text


_FROM_TEXT: dict[str, Callable[[Member, str], Any]] = {
    "string": _string_value,
    "timestamp": lambda m, t: parse_timestamp(t),
    "boolean": lambda m, t: parse_bool(t),
    "integer": lambda m, t: parse_int(t),
    "long": lambda m, t: parse_int(t),
    "short": lambda m, t: parse_int(t),
    "byte": lambda m, t: parse_int(t),
    "float": lambda m, t: parse_float(t),
    "double": lambda m, t: parse_float(t),
    "blob": lambda m, t: decode_blob(t),
}


def from_text(member: Member, text: str) -> Any:
    """Text decoded as `member`'s scalar type; raises `DecodeError`."""
    parse = _FROM_TEXT.get(member.shape.type)
    return text if parse is None else parse(member, text)
