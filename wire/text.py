"""Scalars as text: header values, query-string and form values, URI labels, XML text.

Strategy: two tables keyed by shape type, one per direction; the rendering
side builds a one-argument function per member once (`renderer`), so
compiled encoders call it without looking anything up. The caller
passes the location's default timestamp format (HTTP date for headers,
ISO 8601 elsewhere); a member's own `timestampFormat` wins over it. A
`jsonvalue` string (Smithy `mediaType`) travels base64-encoded.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from functools import lru_cache
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


def _string_renderer(member: Member, default_fmt: str) -> Callable[[Any], str]:
    if not member.json_value:
        return str

    def render(value: Any) -> str:
        text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        return base64.b64encode(text.encode("utf-8")).decode("ascii")

    return render


def _timestamp_renderer(member: Member, default_fmt: str) -> Callable[[Any], str]:
    fmt = member.timestamp_format or default_fmt
    return lambda value: format_timestamp_text(value, fmt)


#: shape type -> builder of (value -> text) for a member; other types use `str`.
_RENDERERS: dict[str, Callable[[Member, str], Callable[[Any], str]]] = {
    "string": _string_renderer,
    "timestamp": _timestamp_renderer,
    "boolean": lambda m, fmt: bool_text,
    "float": lambda m, fmt: float_text,
    "double": lambda m, fmt: float_text,
    "blob": lambda m, fmt: encode_blob,
}


@lru_cache(maxsize=8192)
def renderer(member: Member, default_fmt: str) -> Callable[[Any], str]:
    """`member`'s scalar -> text function, built once; `default_fmt` is the
    location's default timestamp format."""
    build = _RENDERERS.get(member.shape.type)
    return str if build is None else build(member, default_fmt)


def to_text(member: Member, value: Any, default_fmt: str) -> str:
    """A scalar as text; `default_fmt` is the location's default timestamp format."""
    return renderer(member, default_fmt)(value)


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
