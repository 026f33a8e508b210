"""The codec contract: what a protocol produces and consumes, as plain values.

Strategy: a protocol codec is a `Codec` value holding five pure functions,
and `wire.api` picks one from a dict keyed by the model's protocol. The
request side produces `Encoded` (method, path, query pairs, headers, body);
`wire.api` alone turns that into a `sigv4.types.Request` (endpoint, host
prefix, compression, URL limits), so those rules exist once for every
protocol. Headers arriving from a peer are normalized once into `Headers`:
lower-cased names, repeated fields joined with ", " as RFC 9110 allows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import quote

from sigv4.canonical import query_bytes
from sigv4.errors import SigningError
from wire.errors import DecodeError, SerializationError
from wire.model import Model, Operation

#: Lower-cased header name -> value.
Headers = Mapping[str, str]
Params = Mapping[str, Any]
#: (status, headers, body) of a response built by the server side.
Response = tuple[int, tuple[tuple[str, str], ...], bytes]


# A NamedTuple: one is built per request, and a tuple is built in C where a frozen dataclass sets each field
# through object.__setattr__.
class Encoded(NamedTuple):
    """A request as a protocol lays it out, before the endpoint is applied."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class Codec:
    """One protocol's pure functions (see `wire.api` for the contracts)."""

    encode_request: Callable[[Model, Operation, Params, str | None], Encoded]
    decode_response: Callable[[Model, Operation, int, Headers, bytes], dict[str, Any]]
    decode_request: Callable[[Model, str, str, Headers, bytes], tuple[str, dict[str, Any]]]
    encode_response: Callable[[Model, Operation, Params, str | None], Response]
    encode_error: Callable[[Model, str, str, int, Params, str | None], Response]


def request_id_header(request_id: str | None) -> tuple[tuple[str, str], ...]:
    """The JSON protocols' request-id field, when there is an id."""
    return (("x-amzn-RequestId", request_id),) if request_id else ()


def normalize_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-case names; join repeated fields with ", ". `headers` are pairs, or anything with `items()`: a dict,
    requests' and httpx's headers, urllib's `HTTPMessage` (not a Mapping: iterated, it gives names alone)."""
    # The usual tuple or list of pairs is told apart first: isinstance against the Mapping ABC is slow.
    pairs = headers if isinstance(headers, (tuple, list)) else headers.items() if hasattr(headers, "items") else headers
    out: dict[str, str] = {}
    for name, value in pairs:
        key = str(name).lower()
        out[key] = f"{out[key]}, {value}" if key in out else str(value)
    return out


_UNRESERVED_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.~-"
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")
#: `safe` -> str.translate table escaping every other ASCII character; ASCII
#: text (ARNs, paths) escapes in C this way at half the cost of `quote`.
_ASCII_ESCAPES = {
    safe: {code: f"%{code:02X}" for code in range(128) if chr(code) not in _UNRESERVED_CHARS + safe} for safe in ("", "/")
}


def percent_encode(text: str, safe: str = "") -> str:
    """RFC 3986 percent-encoding: everything but unreserved characters (and `safe`) of the UTF-8 bytes.
    Raises SerializationError for text that has no UTF-8 form (a lone surrogate)."""
    # Most names and values need no escaping; skipping the escaping for them halves encode time.
    if _UNRESERVED.fullmatch(text):
        return text
    table = _ASCII_ESCAPES.get(safe)
    if table is not None and text.isascii():
        return text.translate(table)
    try:
        return quote(text, safe=safe)
    except UnicodeEncodeError as err:  # a lone surrogate: what Python makes of bytes that are not UTF-8
        raise SerializationError(f"{text[err.start]!r} at offset {err.start} of a string is a lone surrogate, not "
                                 "Unicode text: it cannot be sent as UTF-8") from None


#: Query names come from the model (member names, list indexes) and repeat on
#: every call, so their encoding is remembered; values are not (they may be secret).
_encode_name = lru_cache(maxsize=4096)(percent_encode)


def encode_query(pairs: Iterable[tuple[str, str]]) -> str:
    return "&".join([f"{_encode_name(k)}={percent_encode(v)}" for k, v in pairs])


def decode_query(text: str, *, plus_is_space: bool = False) -> list[tuple[str, str]]:
    """The (name, value) pairs of a received query or form, in order, read by `sigv4.canonical.query_bytes`:
    the reading the verifier canonicalizes (`parse_qsl` read `+` as a space where a query's signature reads
    a plus, and every invalid byte as one U+FFFD, so a server acted on what the client had not signed).

    `plus_is_space`: a form body's `+` (SigV2 signs a form so); a URL query's `+` is a plus. Raises DecodeError
    for a name or value that is not UTF-8 (refused, never replaced).
    """
    try:
        return [(_utf8(name, "name"), _utf8(value, f"value of {name.decode('utf-8', 'replace')!r}"))
                for name, value in query_bytes(text, plus_is_space=plus_is_space)]
    except SigningError as err:
        raise DecodeError(str(err)) from None


def _utf8(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DecodeError(f"query {what}: byte 0x{data[err.start]:02x} at offset {err.start} is not UTF-8") from None
