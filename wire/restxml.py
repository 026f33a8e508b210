"""restXml (S3, S3 Control, Route 53, CloudFront): HTTP bindings around an XML body.

Strategy: the HTTP bindings (URI labels with greedy `{Key+}`, query string,
headers and `x-amz-meta-*` prefix headers, status code) are restJson1's, so
they come from `wire.restjson`; only the body differs. The body is either the
payload member (a blob or string travels as is, a stream included; a
structure is the document's root element) or the unbound members inside a
root element named after the input. Values <-> elements follow the XML
traits in `wire.xmlshapes` (flattened and named lists and maps, attributes,
namespaces); timestamps are RFC 822 in headers and ISO 8601 in the body and
query string unless `timestampFormat` says otherwise.

Errors come in two envelopes: S3's bare `<Error><Code/><Message/>...</Error>`
and the generic `<ErrorResponse><Error>...</Error><RequestId/></ErrorResponse>`.
A body that is not XML (a HEAD response has none) leaves the status code as
the error code.
"""

from __future__ import annotations

from functools import lru_cache
from http import HTTPStatus
from typing import Any

from wire import xml, xmlshapes
from wire.errors import DecodeError, ServiceError
from wire.http import Codec, Encoded, Headers, Params, Response
from wire.model import Member, Model, Operation, Shape
from wire.restjson import (_bindings, _header_fields, _query_pairs, _read_headers, _render_uri, decode_bound_request,
                           read_bound)

_XML = "application/xml"
_PHRASES = {status.value: status.phrase for status in HTTPStatus}

#: Payload types sent as they are, not as XML.
_RAW_PAYLOADS = frozenset({"blob", "string"})


def _payload_root(member: Member) -> str:
    """The root element's name for a structure bound to the payload.

    The reference's `locationName` when it renames the member; then the
    structure's own `locationName`; then the reference's, when the reference
    carries its own XML traits (every AWS model writes its payload
    members so: S3's `CompleteMultipartUpload` targets `CompletedMultipartUpload`);
    else the shape's name. A bare reference `locationName` equal to the member
    name is what botocore's model conversion writes for any payload member, and
    Smithy then names the root after the target (the protocol cases'
    `HttpPayloadWithXmlNamespace`).
    """
    shape, name = member.shape, member.ref_location_name
    if name and name != member.name:
        return name
    if shape.location_name:
        return shape.location_name
    if name and member.xml_namespace is not None and member.xml_namespace != shape.xml_namespace:
        return name
    return shape.name


def _input_root(op: Operation, shape: Shape) -> tuple[str, Member]:
    """The root element's name and the member carrying its namespace, for unbound input members."""
    member = op.input_member or Member("", shape)
    return shape.location_name or member.location_name or shape.name, member


def _body(op: Operation | None, shape: Shape, values: Params) -> tuple[Any, str | None]:
    """The body (bytes, or the caller's stream for a streaming payload) and its default Content-Type."""
    if shape.payload is not None:
        member = shape.members[shape.payload]
        value = values.get(member.name)
        if value is None:
            return b"", None
        if member.shape.type in _RAW_PAYLOADS:
            return (value.encode("utf-8") if isinstance(value, str) else value), None
        return xmlshapes.write(member, value, _payload_root(member)).encode("utf-8"), _XML
    body = {m.name: values[m.name] for m in _bindings(shape).body if values.get(m.name) is not None}
    if not body:
        return b"", None
    if op is None:
        name, root = shape.location_name or shape.name, Member("", shape)
    else:
        name, root = _input_root(op, shape)
    return xmlshapes.write(root, body, name).encode("utf-8"), _XML


def _with_content_type(headers: list[tuple[str, str]], content_type: str | None) -> tuple[tuple[str, str], ...]:
    # A Content-Type member the caller set replaces the default.
    if content_type is not None and not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", content_type))
    return tuple(headers)


def _encode_request(model: Model, op: Operation, params: Params, method: str | None) -> Encoded:
    shape = op.input
    if shape is None:
        return Encoded(op.method, op.request_uri)
    bindings = _bindings(shape)
    path = _render_uri(op.request_uri, bindings.labels, params)
    query = _query_pairs(bindings.query, params)
    headers = _header_fields(bindings.headers, params)
    body, content_type = _body(op, shape, params)
    return Encoded(op.method, path, tuple(query), _with_content_type(headers, content_type), body)


# -- responses -----------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _response_body_members(shape: Shape) -> tuple[Member, ...]:
    """Members read from a response body: a URI or query binding means nothing in a response."""
    return tuple(m for m in shape.members.values() if m.location in (None, "uri", "querystring"))


def _read_body(shape: Shape, body: bytes) -> dict[str, Any]:
    if shape.payload is not None:
        member = shape.members[shape.payload]
        if member.shape.type == "blob":
            # A streaming body is always there, if empty; an unset plain blob is absent.
            return {member.name: body} if body or member.streaming else {}
        if member.shape.type == "string":
            return {member.name: body.decode("utf-8", "replace")}
        if not body:
            # An empty body holds an empty structure (botocore reads it so), but no union member.
            return {member.name: {}} if not member.shape.union else {}
        return {member.name: xmlshapes.read(member, [xml.parse(body)])}
    members = _response_body_members(shape)
    if not members or not body.strip():
        return {}
    root = xml.parse(body)
    if not root.children and root.tag in {xmlshapes.element_name(m) for m in members}:
        # S3's GetBucketLocation: the document is the member's element itself.
        root = xml.Node("", "", (root,))
    return xmlshapes.read_members(members, root)


def _read_header_bindings(shape: Shape, headers: Headers) -> dict[str, Any]:
    # A prefix-header map is there even when empty (S3's `Metadata`), as botocore has it.
    return {**{m.name: {} for m in _bindings(shape).headers if m.location == "headers"}, **_read_headers(shape, headers)}




def _text(node: xml.Node | None) -> str | None:
    return None if node is None else node.text


def error_envelope(body: bytes) -> tuple[xml.Node, xml.Node] | None:
    """(root, `<Error>` element) of a restXml error body: S3's bare `<Error>`
    is both, else the `<Error>` inside `<ErrorResponse>`. None when the body
    is not such XML."""
    try:
        root = xml.parse(body)
    except DecodeError:
        return None
    return _envelope_of(root)


def _envelope_of(root: xml.Node) -> tuple[xml.Node, xml.Node] | None:
    error = root if root.tag == "Error" else root.child("Error")
    return None if error is None else (root, error)


def _named_error(model: Model, root: xml.Node) -> tuple[xml.Node, xml.Node] | None:
    """A body whose root is a modelled error itself (Route 53's `<InvalidChangeBatch>`), as (root, root)."""
    return (root, root) if root.tag in model.error_shapes else None


def _messages(error: xml.Node) -> str:
    """The `<Messages><Message>` list of an error such as Route 53's InvalidChangeBatch, as one line."""
    listed = error.child("Messages")
    return "; ".join(m.text for m in listed.all("Message")) if listed is not None else ""


def _service_error(model: Model, status: int, headers: Headers, body: bytes) -> ServiceError:
    request_id = headers.get("x-amz-request-id") or headers.get("x-amzn-requestid")
    try:
        root: xml.Node | None = xml.parse(body)
    except xml.RefusedXmlError as err:
        # The status tells what failed; the message says why its body was not read.
        return ServiceError(str(status), f"error response body not read: {err}", status, request_id)
    except DecodeError:
        root = None
    envelope = None if root is None else _envelope_of(root) or _named_error(model, root)
    if envelope is None:
        # HEAD responses and front ends' HTML pages: the status is all there is.
        return ServiceError(str(status), _PHRASES.get(status, ""), status, request_id)
    root, error = envelope
    code = _text(error.child("Code")) or (error.tag if error is root else str(status))
    message = _text(error.child("Message")) or _messages(error)
    shape = model.error_shapes.get(code)
    data: dict[str, Any] = {}
    if shape is not None:
        data = _read_header_bindings(shape, headers)
        data.update(xmlshapes.read_members(_response_body_members(shape), error))
    return ServiceError(code, message, status, _text(root.child("RequestId")) or request_id, data)


def _decode_response(model: Model, op: Operation, status: int, headers: Headers, body: bytes) -> dict[str, Any]:
    if status >= 300:
        raise _service_error(model, status, headers, body)
    return read_bound(op.output, status, headers, body, _read_header_bindings, _read_body)


# -- server side ----------------------------------------------------------------------


def _decode_request(model: Model, method: str, target: str, headers: Headers, body: bytes) -> tuple[str, dict[str, Any]]:
    return decode_bound_request(model, method, target, headers, body, _read_body)


def _encode_bound(shape: Shape | None, values: Params, status: int) -> Response:
    if shape is None:
        return status, (), b""
    bindings = _bindings(shape)
    for member in bindings.status:
        if values.get(member.name) is not None:
            status = int(values[member.name])
    headers = _header_fields(bindings.headers, values)
    body, content_type = _body(None, shape, values)
    return status, _with_content_type(headers, content_type), bytes(body)


def _request_id_headers(request_id: str | None) -> tuple[tuple[str, str], ...]:
    return (("x-amz-request-id", request_id),) if request_id else ()


def _encode_response(model: Model, op: Operation, output: Params, request_id: str | None) -> Response:
    status, headers, body = _encode_bound(op.output, output, op.response_code)
    return status, headers + _request_id_headers(request_id), body


def _encode_error(model: Model, code: str, message: str, status: int, extra: Params, request_id: str | None) -> Response:
    shape = model.error_shapes.get(code)
    headers: tuple[tuple[str, str], ...] = ()
    members = ""
    if shape is not None:
        headers = tuple(_header_fields(_bindings(shape).headers, extra))
        body_values = {m.name: extra[m.name] for m in _bindings(shape).body if extra.get(m.name) is not None}
        members = xmlshapes.structure_content(shape, body_values)
    fault = "Sender" if shape is None or shape.sender_fault else "Receiver"
    error = xml.element(
        "Error",
        xml.element("Type", fault) + xml.element("Code", xml.text(code)) + xml.element("Message", xml.text(message)) + members,
    )
    request_id_xml = xml.element("RequestId", xml.text(request_id)) if request_id else ""
    body = xml.element("ErrorResponse", error + request_id_xml).encode("utf-8")
    return status, headers + (("Content-Type", _XML),) + _request_id_headers(request_id), body


CODEC = Codec(_encode_request, _decode_response, _decode_request, _encode_response, _encode_error)
