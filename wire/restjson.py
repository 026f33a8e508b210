"""restJson1: HTTP bindings (URI labels, query string, headers, status code,
payload) around a JSON body.

Strategy: a structure's members are partitioned by `location` once per call;
each binding has a small writer (request/response side) and reader, and the
scalar <-> text conversions for headers, query strings and labels come from
one table keyed by shape type. Whatever is not bound travels in the JSON
body using `wire.jsonproto`'s value rules. The server-side functions
(`decode_request`, `encode_response`, `encode_error`) reuse the same
writers and readers in the other direction, so a round trip is exact.

Spec rules enforced here (Smithy restJson1): labels are percent-encoded,
greedy labels keep `/`; header timestamps default to HTTP dates, query and
label timestamps to ISO 8601; named query members win over a query map with
the same key; list headers are comma-separated with strings quoted when they
contain `,` or `"`; an unset payload is an empty body without Content-Type; a
structure with body members always sends at least `{}`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, unquote

from wire.errors import DecodeError, SerializationError
from wire.http import Codec, Encoded, Headers, Params, Response, decode_query, percent_encode, request_id_header
from wire.jsonproto import (
    decode_value,
    dumps,
    members_decoder,
    members_encoder,
    encode_value,
    loads,
    loads_object,
    service_error,
)
from wire.model import Member, Model, Operation, Shape
from wire.text import from_text, to_text

# -- header lists ----------------------------------------------------------------

_NEEDS_QUOTES = re.compile(r'[,"]')


def _header_item(member: Member, value: Any) -> str:
    text = to_text(member, value, "rfc822")
    if member.shape.type == "string" and _NEEDS_QUOTES.search(text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def split_header_list(text: str) -> list[str]:
    """Split a comma-separated header value, honouring double-quoted items."""
    items: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    items.append("".join(current).strip())
    return items


def _header_list(member: Member, text: str) -> list[Any]:
    element = member.shape.member
    items = split_header_list(text)
    if element.shape.type == "timestamp" and (element.timestamp_format or "rfc822") == "rfc822":
        # HTTP dates contain a comma ("Mon, 16 Dec 2019 ..."): rejoin the halves.
        items = [f"{a}, {b}" for a, b in zip(items[::2], items[1::2])]
    return [from_text(element, item) for item in items]


# -- writers ----------------------------------------------------------------------


def _header_fields(members: Iterable[Member], values: Params) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    for member in members:
        value = values.get(member.name)
        if value is None:
            continue
        if member.location == "headers":
            value_member = member.shape.members["value"]
            fields.extend((member.wire_name + key, to_text(value_member, item, "rfc822")) for key, item in value.items())
        elif member.shape.type == "list":
            fields.append((member.wire_name, ",".join(_header_item(member.shape.member, item) for item in value)))
        else:
            fields.append((member.wire_name, to_text(member, value, "rfc822")))
    return fields


def _query_pairs(members: tuple[Member, ...], values: Params) -> list[tuple[str, str]]:
    if not members:  # most operations bind nothing to the query
        return []
    named: list[tuple[str, str]] = []
    mapped: list[tuple[str, str]] = []
    for member in members:
        value = values.get(member.name)
        if value is None:
            continue
        if member.shape.type == "map":
            value_member = member.shape.members["value"]
            for key, item in value.items():
                items = item if value_member.shape.type == "list" else [item]
                element = value_member.shape.member if value_member.shape.type == "list" else value_member
                mapped.extend((key, to_text(element, one, "iso8601")) for one in items)
        elif member.shape.type == "list":
            named.extend((member.wire_name, to_text(member.shape.member, item, "iso8601")) for item in value)
        else:
            named.append((member.wire_name, to_text(member, value, "iso8601")))
    taken = {key for key, _ in named}
    return named + [pair for pair in mapped if pair[0] not in taken]


_LABEL = re.compile(r"\{([^}+]+)(\+?)\}")


@lru_cache(maxsize=1024)
def _uri_parts(template: str) -> tuple[tuple[str, str, bool], ...]:
    """The template cut once into (literal text before, label name, greedy); the last has no label."""
    parts: list[tuple[str, str, bool]] = []
    position = 0
    for match in _LABEL.finditer(template):
        parts.append((template[position:match.start()], match.group(1), bool(match.group(2))))
        position = match.end()
    parts.append((template[position:], "", False))
    return tuple(parts)


def _render_uri(template: str, labels: Mapping[str, Member], values: Params) -> str:
    parts = _uri_parts(template)
    if len(parts) == 1:  # a template without labels is the path itself
        return template
    pieces: list[str] = []
    for literal, name, greedy in parts:
        pieces.append(literal)
        if not name:
            continue
        member = labels.get(name)
        value = values.get(member.name) if member else None
        if member is None or value is None or value == "":
            raise SerializationError(f"URI label {name!r} needs a non-empty value")
        pieces.append(percent_encode(to_text(member, value, "iso8601"), safe="/" if greedy else ""))
    return "".join(pieces)


_PAYLOAD_TYPES = {"blob": "application/octet-stream", "string": "text/plain"}


def _body(shape: Shape, values: Params) -> tuple[bytes, str | None]:
    """The body and its Content-Type (None when there is no body)."""
    if shape.payload is not None:
        member = shape.members[shape.payload]
        value = values.get(member.name)
        if value is None and member.shape.type == "structure" and not (member.shape.union or member.shape.document):
            value = {}
        if value is None:
            return b"", None
        if member.shape.type in _PAYLOAD_TYPES:
            raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
            return raw, _PAYLOAD_TYPES[member.shape.type]
        return dumps(encode_value(member.shape, value)), "application/json"
    bindings = _bindings(shape)
    if not bindings.body:
        return b"", None
    return dumps(bindings.encode_body(values)), "application/json"


def _add_content_type(headers: list[tuple[str, str]], content_type: str | None) -> None:
    """The body's default Content-Type, unless a member bound to the header set one (it wins)."""
    if content_type is not None and not (headers and any(name.lower() == "content-type" for name, _ in headers)):
        headers.append(("Content-Type", content_type))


@dataclass(frozen=True, slots=True)
class _Bindings:
    """A structure's members grouped by where they travel, with its body encoder and decoder."""

    labels: Mapping[str, Member]  # by label name
    query: tuple[Member, ...]
    headers: tuple[Member, ...]  # `header` and `headers` (prefixed map) members
    status: tuple[Member, ...]
    body: tuple[Member, ...]
    encode_body: Callable[[Params], dict[str, Any]]
    decode_body: Callable[[Mapping[str, Any]], dict[str, Any]]


@lru_cache(maxsize=4096)
def _bindings(shape: Shape | None) -> _Bindings:
    """Computed once per shape, so encoding a request costs one cache lookup."""
    groups: dict[str | None, list[Member]] = {}
    for member in shape.members.values() if shape is not None else ():
        groups.setdefault(member.location, []).append(member)
    body = tuple(groups.get(None, ()))
    return _Bindings(
        labels={m.wire_name: m for m in groups.get("uri", ())},
        query=tuple(groups.get("querystring", ())),
        headers=tuple(groups.get("header", []) + groups.get("headers", [])),
        status=tuple(groups.get("statusCode", ())),
        body=body,
        encode_body=members_encoder(body),
        decode_body=members_decoder(body),
    )


def _encode_request(model: Model, op: Operation, params: Params, method: str | None) -> Encoded:
    shape = op.input
    bindings = _bindings(shape)
    path = _render_uri(op.request_uri, bindings.labels, params)
    query = _query_pairs(bindings.query, params)
    headers = _header_fields(bindings.headers, params)
    body, content_type = _body(shape, params) if shape is not None else (b"", None)
    _add_content_type(headers, content_type)
    return Encoded(op.method, path, tuple(query), tuple(headers), body)


def _encode_bound(shape: Shape | None, values: Params, status: int) -> Response:
    bindings = _bindings(shape)
    for member in bindings.status:
        if values.get(member.name) is not None:
            status = int(values[member.name])
    headers = _header_fields(bindings.headers, values)
    body, content_type = _body(shape, values) if shape is not None else (b"", None)
    _add_content_type(headers, content_type)
    return status, tuple(headers), body


def _encode_response(model: Model, op: Operation, output: Params, request_id: str | None) -> Response:
    status, headers, body = _encode_bound(op.output, output, op.response_code)
    return status, headers + request_id_header(request_id), body


def _encode_error(model: Model, code: str, message: str, status: int, extra: Params, request_id: str | None) -> Response:
    shape = model.error_shapes.get(code)
    if shape is None:
        body = dumps({"code": code, "message": message, **extra})
        headers: tuple[tuple[str, str], ...] = (("X-Amzn-ErrorType", code), ("Content-Type", "application/json"))
    else:
        message_member = next((m for m in shape.members if m.lower() == "message"), "message")
        status, headers, body = _encode_bound(shape, {message_member: message, **extra}, status)
        if "x-amzn-errortype" not in {name.lower() for name, _ in headers}:
            headers = (("X-Amzn-ErrorType", code),) + headers
    return status, headers + request_id_header(request_id), body


# -- readers ------------------------------------------------------------------------


def _read_headers(shape: Shape, headers: Headers) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for member in _bindings(shape).headers:
        name = member.wire_name.lower()
        if member.location == "headers":
            value_member = member.shape.members["value"]
            found = {k[len(name):]: from_text(value_member, v) for k, v in headers.items() if k.startswith(name)}
            if found:
                out[member.name] = found
        elif name in headers:
            text = headers[name]
            out[member.name] = _header_list(member, text) if member.shape.type == "list" else from_text(member, text)
    return out


def _read_body(shape: Shape, body: bytes) -> dict[str, Any]:
    if shape.payload is not None:
        member = shape.members[shape.payload]
        if not body:
            return {}
        if member.shape.type == "blob":
            return {member.name: body}
        if member.shape.type == "string":
            return {member.name: body.decode("utf-8", "replace")}
        data = loads(body)
        return {member.name: decode_value(member.shape, data)} if data is not None else {}
    bindings = _bindings(shape)
    if not bindings.body:
        return {}
    return bindings.decode_body(loads_object(body))


#: Reads a structure's header bindings, or its body.
_Reader = Callable[[Shape, Any], dict[str, Any]]


def read_bound(shape: Shape | None, status: int, headers: Headers, body: bytes,
               read_headers: _Reader, read_body: _Reader) -> dict[str, Any]:
    """A response's members: headers and status code as bound, the body as `read_body` reads it."""
    if shape is None:
        return {}
    out = read_headers(shape, headers)
    for member in _bindings(shape).status:  # rarely any
        out[member.name] = status
    out.update(read_body(shape, body))
    return out


def _read_bound(shape: Shape | None, status: int, headers: Headers, body: bytes) -> dict[str, Any]:
    return read_bound(shape, status, headers, body, _read_headers, _read_body)


def _error_body(headers: Headers, body: bytes) -> dict[str, Any]:
    # An empty body (a HEAD request's) or another JSON value: the status and headers still describe the error.
    # One that is not JSON without an `x-amzn-ErrorType` raises DecodeError, read by `wire.api.foreign_error`
    # (a front end's XML `<Error>`; a load balancer's HTML: the status).
    try:
        data = loads(body)
    except DecodeError:
        if "x-amzn-errortype" not in headers:
            raise
        return {}
    return data if isinstance(data, dict) else {}


def _decode_response(model: Model, op: Operation, status: int, headers: Headers, body: bytes) -> dict[str, Any]:
    if status >= 300:
        data = _error_body(headers, body)
        raise service_error(model, status, headers, data, lambda shape: _read_bound(shape, status, headers, body))
    return _read_bound(op.output, status, headers, body)


# -- server side: which operation a request is for --------------------------------


@lru_cache(maxsize=1024)
def _path_pattern(template: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """The pattern of the paths `template` fits, and its label names in order."""
    path = template.partition("?")[0]
    names: list[str] = []
    parts: list[str] = []
    position = 0
    for match in _LABEL.finditer(path):
        parts.append(re.escape(path[position:match.start()]))
        names.append(match.group(1))
        parts.append(f"(?P<g{len(names)}>.+)" if match.group(2) else f"(?P<g{len(names)}>[^/]+)")
        position = match.end()
    parts.append(re.escape(path[position:]))
    return re.compile("".join(parts) + "/?"), tuple(names)


@lru_cache(maxsize=1024)
def _query_literals(template: str) -> tuple[tuple[str, str], ...]:
    """The query a template fixes (S3's `/{Bucket}?delete`, `?list-type=2`): (name, value or "")."""
    return tuple(parse_qsl(template.partition("?")[2], keep_blank_values=True))


@lru_cache(maxsize=4096)
def _required_bindings(op: Operation) -> tuple[tuple[str, str], ...]:
    """(location, lower-cased wire name) of the required header and query members."""
    shape = op.input
    if shape is None:
        return ()
    return tuple(
        (m.location, m.wire_name.lower()) for name, m in shape.members.items()
        if name in shape.required and m.location in ("header", "querystring")
    )


@dataclass(frozen=True, slots=True)
class _Route:
    """What `_match` checks of one operation, computed once per model."""

    op: Operation
    query_literals: tuple[tuple[str, str], ...]
    required: tuple[tuple[str, str], ...]
    #: The template's text before its first label: a path that does not start with it cannot match, and
    #: `startswith` rules most routes out at a fraction of a regex match's cost.
    prefix: str
    pattern: re.Pattern[str]
    names: tuple[str, ...]
    #: The template's literal characters: the most literal template wins.
    literal: int


@dataclass(frozen=True, slots=True)
class _RouteTable:
    """The routes of one model's operations called with one method, computed once."""

    #: The most literal template first (equally literal ones in the model's order): the first that fits wins.
    routes: tuple[_Route, ...]
    #: A path that picks its operation outright: the path of a template with no labels, query or required
    #: members (so it fits whatever the query and headers) when no route ahead of it could fit that path.
    exact: Mapping[str, Operation]


@lru_cache(maxsize=64)
def _route_table(model: Model, method: str) -> _RouteTable:
    """The routes of the operations of `model` called with the (upper-case) `method`."""
    routes = []
    for op in model.operations.values():
        if op.method == method:
            pattern, names = _path_pattern(op.request_uri)
            prefix = _uri_parts(op.request_uri.partition("?")[0])[0][0]
            routes.append(_Route(op, _query_literals(op.request_uri), _required_bindings(op), prefix, pattern, names,
                                 len(op.request_uri) - sum(len(name) + 2 for name in names)))
    routes.sort(key=lambda route: -route.literal)
    exact: dict[str, Operation] = {}
    for index, route in enumerate(routes):
        path = route.op.request_uri
        if not (route.names or "?" in path or route.required or any(r.pattern.fullmatch(path) for r in routes[:index])):
            exact[path] = route.op
    return _RouteTable(tuple(routes), exact)


def _match(model: Model, method: str, path: str, query: str = "", headers: Headers | None = None) -> tuple[Operation, dict[str, str]]:
    """The operation a request calls: method, path template and the query it fixes
    must fit, and its required header and query members be there (S3's PutObject,
    CopyObject and UploadPart share `PUT /{Bucket}/{Key+}`); the most literal template wins."""
    table = _route_table(model, method.upper())
    op = table.exact.get(path)
    if op is not None:
        return op, {}
    given = dict(decode_query(query)) if query else {}
    for route in table.routes:
        if not path.startswith(route.prefix):
            continue
        found = route.pattern.fullmatch(path)
        if found is None:
            continue
        if route.query_literals and any(name not in given or (value and given[name] != value)
                                        for name, value in route.query_literals):
            continue
        if route.required:
            present = {"header": set(headers or {}), "querystring": {name.lower() for name in given}}
            if any(name not in present[location] for location, name in route.required):
                continue
        return route.op, {name: unquote(found.group(f"g{i}")) for i, name in enumerate(route.names, 1)}
    raise DecodeError(f"no operation matches {method} {path}")


def _read_query(members: Iterable[Member], query: str) -> dict[str, Any]:
    pairs = decode_query(query)
    out: dict[str, Any] = {}
    named: set[str] = set()
    maps: list[Member] = []
    for member in members:
        if member.shape.type == "map":
            maps.append(member)
            continue
        named.add(member.wire_name)
        values = [v for k, v in pairs if k == member.wire_name]
        if not values:
            continue
        if member.shape.type == "list":
            out[member.name] = [from_text(member.shape.member, v) for v in values]
        else:
            out[member.name] = from_text(member, values[0])
    for member in maps:
        value_member = member.shape.members["value"]
        found: dict[str, Any] = {}
        for key, text in pairs:
            if key in named:
                continue
            if value_member.shape.type == "list":
                found.setdefault(key, []).append(from_text(value_member.shape.member, text))
            else:
                found.setdefault(key, from_text(value_member, text))
        if found:
            out[member.name] = found
    return out


def decode_bound_request(
    model: Model, method: str, target: str, headers: Headers, body: bytes, read_body: Callable[[Shape, bytes], dict[str, Any]]
) -> tuple[str, dict[str, Any]]:
    """Server side of an HTTP-bound protocol: (operation, params) from the
    labels, query string, headers, and the body as `read_body` reads it."""
    path, _, query = target.partition("?")
    op, labels = _match(model, method, path, query, headers)
    shape = op.input
    if shape is None:
        return op.name, {}
    bindings = _bindings(shape)
    # Most operations bind nothing to the URI, query or headers: their readers are not called.
    params = ({m.name: from_text(m, label) for name, m in bindings.labels.items() if (label := labels.get(name)) is not None}
              if bindings.labels else {})
    if bindings.query:
        params.update(_read_query(bindings.query, query))
    if bindings.headers:
        params.update(_read_headers(shape, headers))
    params.update(read_body(shape, body))
    return op.name, params


def _decode_request(model: Model, method: str, target: str, headers: Headers, body: bytes) -> tuple[str, dict[str, Any]]:
    return decode_bound_request(model, method, target, headers, body, _read_body)


CODEC = Codec(_encode_request, _decode_response, _decode_request, _encode_response, _encode_error)
