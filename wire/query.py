"""awsQuery and ec2Query: form-encoded requests, XML responses.

Strategy: the two protocols differ only by a `QueryStyle` row (how a member
is named on the wire, whether lists are always flattened, whether an empty
list is sent as `Name=`, where the result and the errors sit in the XML), so
one set of functions serves both. Requests are a list of (dotted name, text)
pairs: `Action`, `Version`, then members (`Name.member.N`, `Name.N` when
flattened, `Name.entry.N.key/value` for maps), as a POST form body or, on
request, in the URL of a GET. Each input shape's pairs come from closures
compiled once per shape and style, holding wire names and text functions. Responses are read from the safe XML tree of
`wire.xml` by `wire.xmlshapes`: `{Operation}Result` inside `{Operation}Response` for awsQuery,
the root itself for ec2Query; errors from `ErrorResponse/Error` (or
`ErrorResponse/Errors/Error`) or `Response/Errors/Error`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from wire import xml, xmlshapes
from wire.errors import DecodeError, SerializationError, ServiceError
from wire.http import Codec, Encoded, Headers, Params, Response, decode_query, encode_query
from wire.model import CompileMemo, Member, Model, Operation, Shape, compile_once
from wire.text import from_text, renderer

_FORM = "application/x-www-form-urlencoded; charset=utf-8"


def _capitalize(name: str) -> str:
    return name[:1].upper() + name[1:]


@dataclass(frozen=True, slots=True)
class QueryStyle:
    member_name: Callable[[Member], str]
    always_flattened: bool
    send_empty_lists: bool
    #: where a successful result sits: (response) -> the node holding the members
    result: Callable[[xml.Node, Operation], xml.Node]
    #: where an error sits: (root) -> the `<Error>` node, or None
    error: Callable[[xml.Node], xml.Node | None]
    request_id_tag: str


def _query_result(root: xml.Node, op: Operation) -> xml.Node:
    wrapper = op.result_wrapper or f"{op.name}Result"
    found = root.child(wrapper)
    if found is not None:
        return found
    # Another operation's answer (a front end routing the call elsewhere: moto answers an unsigned one with
    # S3's ListAllMyBucketsResult) is not an empty result; botocore fails on it too.
    if root.tag not in (f"{op.name}Response", wrapper):
        raise DecodeError(f"expected <{op.name}Response>, got <{root.tag}>")
    return root


def _query_error(root: xml.Node) -> xml.Node | None:
    # `ErrorResponse/Errors/Error` too, as botocore reads it: moto's signature refusals for STS and IAM.
    error = root.child("Error")
    return error if error is not None else _ec2_error(root)


def _ec2_error(root: xml.Node) -> xml.Node | None:
    errors = root.child("Errors")
    return errors.child("Error") if errors is not None else None


QUERY = QueryStyle(
    member_name=lambda m: m.location_name or m.name,
    always_flattened=False,
    send_empty_lists=True,
    result=_query_result,
    error=_query_error,
    request_id_tag="RequestId",
)
EC2 = QueryStyle(
    member_name=lambda m: m.query_name or _capitalize(m.location_name or m.name),
    always_flattened=True,
    send_empty_lists=False,
    result=lambda root, op: root,
    error=_ec2_error,
    request_id_tag="RequestID",
)


# -- request: params -> form pairs ---------------------------------------------


#: A compiled member: appends the form pairs of a value under a dotted prefix.
_Emit = Callable[[Any, str, list[tuple[str, str]]], None]
_Memo = CompileMemo


def _emit_structure(shape: Shape, style: QueryStyle, memo: _Memo) -> _Emit:
    emitter: _Emit = compile_once(shape, memo, lambda: _build_structure_emitter(shape, style, memo))
    return emitter


def _build_structure_emitter(shape: Shape, style: QueryStyle, memo: _Memo) -> _Emit:
    # Scalars carry their text function (appended inline), the rest their emitter.
    plan: dict[str, tuple[str, Callable[[Any], str] | None, _Emit | None]] = {}
    for name, child in shape.members.items():
        scalar = child.shape.type not in _COLLECTIONS
        plan[name] = (
            style.member_name(child),
            renderer(child, "iso8601") if scalar else None,
            None if scalar else _emitter(child, style, memo),
        )

    def emit(value: Any, prefix: str, out: list[tuple[str, str]]) -> None:
        for name, item in value.items():
            if item is not None:
                wire_name, render, emit_child = plan[name]
                key = f"{prefix}.{wire_name}" if prefix else wire_name
                if render is not None:
                    out.append((key, render(item)))
                else:
                    emit_child(item, key, out)  # type: ignore[misc]

    return emit


def _emit_list(member: Member, style: QueryStyle, memo: _Memo) -> _Emit:
    emit_item = _emitter(member.shape.member, style, memo)
    flattened = style.always_flattened or member.flattened
    # Where items go: `prefix.member.N`, or `prefix.N` when flattened.
    item_suffix = "" if flattened else "." + (member.shape.member.location_name or "member")
    send_empty = style.send_empty_lists

    def emit(value: Any, prefix: str, out: list[tuple[str, str]]) -> None:
        if not value:
            if send_empty:
                out.append((prefix, ""))
            return
        item_prefix = prefix + item_suffix
        for index, item in enumerate(value, 1):
            emit_item(item, f"{item_prefix}.{index}", out)

    return emit


def _emit_map(member: Member, style: QueryStyle, memo: _Memo) -> _Emit:
    key_member, value_member = member.shape.members["key"], member.shape.members["value"]
    emit_value = _emitter(value_member, style, memo)
    entry_suffix = "" if member.flattened or style.always_flattened else ".entry"
    key_name, value_name = key_member.location_name or "key", value_member.location_name or "value"

    def emit(value: Any, prefix: str, out: list[tuple[str, str]]) -> None:
        entry = prefix + entry_suffix
        for index, (key, item) in enumerate(value.items(), 1):
            out.append((f"{entry}.{index}.{key_name}", str(key)))
            emit_value(item, f"{entry}.{index}.{value_name}", out)

    return emit


def _emit_scalar(member: Member, style: QueryStyle, memo: _Memo) -> _Emit:
    render = renderer(member, "iso8601")

    def emit(value: Any, prefix: str, out: list[tuple[str, str]]) -> None:
        out.append((prefix, render(value)))

    return emit


#: shape type -> builder of a member's emitter; other types are scalars.
_EMITTERS: dict[str, Callable[[Member, QueryStyle, _Memo], _Emit]] = {
    "structure": lambda member, style, memo: _emit_structure(member.shape, style, memo),
    "list": _emit_list,
    "map": _emit_map,
}
_COLLECTIONS = frozenset(_EMITTERS)


def _emitter(member: Member, style: QueryStyle, memo: _Memo) -> _Emit:
    return _EMITTERS.get(member.shape.type, _emit_scalar)(member, style, memo)


def _encoder(style: QueryStyle) -> Callable[[Model, Operation, Params, str | None], Encoded]:
    @lru_cache(maxsize=4096)
    def input_emitter(shape: Shape) -> _Emit:
        """The form pairs of an operation's input, compiled once per shape."""
        return _emit_structure(shape, style, {})

    def encode(model: Model, op: Operation, params: Params, method: str | None) -> Encoded:
        pairs = [("Action", op.name), ("Version", model.api_version)]
        if op.input is not None:
            input_emitter(op.input)(params, "", pairs)
        if method is None or method.upper() == "POST":
            return Encoded("POST", "/", (), (("Content-Type", _FORM),), encode_query(pairs).encode("ascii"))
        if method.upper() == "GET":
            return Encoded("GET", "/", tuple(pairs))
        raise SerializationError(f"Query requests are POST or GET, not {method!r}")

    return encode


# -- XML -> values ----------------------------------------------------------------


def _service_error(model: Model, status: int, headers: Headers, body: bytes, style: QueryStyle) -> ServiceError:
    # AWS also says the request id in a header: all there is of it when the body is empty or unreadable.
    header_id = headers.get("x-amzn-requestid")
    try:
        root = xml.parse(body)
    except xml.RefusedXmlError as err:
        # The status tells what failed; the message says why its body was not read.
        return ServiceError(str(status), f"error response body not read: {err}", status, header_id)
    except DecodeError:
        # A front end's HTML or empty error page: the status still tells.
        return ServiceError(str(status), "", status, header_id)
    error = style.error(root)
    if error is None:
        return ServiceError(str(status), "", status, header_id)
    code = getattr(error.child("Code"), "text", "")
    message = getattr(error.child("Message"), "text", "")
    shape = model.error_shapes.get(code)
    data = xmlshapes.read_structure(shape, error) if shape is not None else {}
    # EC2 documents `<RequestID>`, yet some of its errors say `<RequestId>`: botocore reads both.
    request_id = getattr(root.child(style.request_id_tag) or root.child("RequestId"), "text", None) or header_id
    return ServiceError(code, message, status, request_id, data)


def _decoder(style: QueryStyle) -> Callable[[Model, Operation, int, Headers, bytes], dict[str, Any]]:
    def decode(model: Model, op: Operation, status: int, headers: Headers, body: bytes) -> dict[str, Any]:
        if status >= 300:
            raise _service_error(model, status, headers, body, style)
        if op.output is None or not op.output.members:
            return {}
        return xmlshapes.read_structure(op.output, style.result(xml.parse(body), op))

    return decode


# -- server side: form -> params, values -> XML -----------------------------------

#: A form's dotted names as a tree: "A.member.1" -> {"A": {"member": {"1": text}}}.
_Tree = dict[str, Any]


def _tree(pairs: list[tuple[str, str]]) -> _Tree:
    root: _Tree = {}
    for name, value in pairs:
        node = root
        *parents, leaf = name.split(".")
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise DecodeError(f"form field {name!r} conflicts with a scalar")
            node = child
        node[leaf] = value
    return root


def _indexed(tree: Any) -> list[Any]:
    if tree == "":
        return []
    if not isinstance(tree, dict):
        raise DecodeError("expected numbered form fields")
    return [tree[k] for k in sorted(tree, key=lambda k: int(k) if k.isdigit() else -1) if k.isdigit()]


def _from_tree(member: Member, tree: Any, style: QueryStyle, name: str) -> Any:
    kind = member.shape.type
    if kind == "structure":
        if not isinstance(tree, dict):
            raise DecodeError(f"form field {name!r} is not a structure")
        out: dict[str, Any] = {}
        for child in member.shape.members.values():
            key = style.member_name(child)
            if key in tree:
                out[child.name] = _from_tree(child, tree[key], style, f"{name}.{key}")
        return out
    if kind in ("list", "map") and not isinstance(tree, dict) and tree != "":
        # `Name=a&Name=b` (how HTML forms and `requests` write several values) is no Query list.
        field_name = name.lstrip(".")
        numbered = "" if style.always_flattened or member.flattened else (
            ".entry" if kind == "map" else f".{member.shape.member.location_name or 'member'}")
        raise DecodeError(f"form field {field_name!r} is a {kind}: write it {field_name}{numbered}.1=..., "
                          f"{field_name}{numbered}.2=...")
    if kind == "list":
        element = member.shape.member
        flat = style.always_flattened or member.flattened
        items = _indexed(tree if flat or tree == "" else tree.get(element.location_name or "member", {}))
        return [_from_tree(element, item, style, name) for item in items]
    if kind == "map":
        key_member, value_member = member.shape.members["key"], member.shape.members["value"]
        flat = style.always_flattened or member.flattened
        entries = _indexed(tree if flat else tree.get("entry", {}))
        return {
            entry[key_member.location_name or "key"]: _from_tree(value_member, entry[value_member.location_name or "value"], style, name)
            for entry in entries
        }
    if not isinstance(tree, str):
        raise DecodeError(f"form field {name!r} is not a scalar")
    return from_text(member, tree)


def form_pairs(method: str, target: str, body: bytes) -> list[tuple[str, str]]:
    """A Query request's parameters, in order: the URL query of a GET (`+` a literal plus, as SigV4 and SigV2
    sign a query), else the form body (`+` a space, as forms write it and SigV2 signs a form body).

    Read by `wire.http.decode_query`: the reading verification canonicalizes. A name given twice is refused:
    a signature covers the pairs sorted, not the order a first-wins or last-wins reader would pick by. Raises
    DecodeError for that, and for a body, name or value that is not UTF-8.
    """
    if method.upper() == "GET":
        pairs = decode_query(target.partition("?")[2])
    else:
        try:
            pairs = decode_query(body.decode("utf-8"), plus_is_space=True)
        except UnicodeDecodeError as err:
            raise DecodeError(f"form body: byte 0x{body[err.start]:02x} at offset {err.start} is not UTF-8") from None
    names = [name for name, _ in pairs]
    if len(set(names)) < len(names):
        repeated = next(name for name in names if names.count(name) > 1)
        raise DecodeError(f"form field {repeated!r}: given more than once; a list is written {repeated}.member.1=..., "
                          f"{repeated}.member.2=... ({repeated}.1=... when flattened)")
    return pairs


def _request_decoder(style: QueryStyle) -> Callable[[Model, str, str, Headers, bytes], tuple[str, dict[str, Any]]]:
    def decode(model: Model, method: str, target: str, headers: Headers, body: bytes) -> tuple[str, dict[str, Any]]:
        tree = _tree(form_pairs(method, target, body))
        op = model.operations.get(str(tree.pop("Action", "")))
        if op is None:
            raise DecodeError("missing or unknown Action")
        tree.pop("Version", None)
        return op.name, (_from_tree(Member("", op.input), tree, style, "") if op.input is not None else {})

    return decode


def _namespace(model: Model) -> str:
    return f"https://{model.signing_name}.amazonaws.com/doc/{model.api_version}/"


def _request_id_xml(tag: str, request_id: str | None) -> str:
    return xml.element(tag, xml.text(request_id)) if request_id else ""


def _response_encoder(style: QueryStyle) -> Callable[[Model, Operation, Params, str | None], Response]:
    def encode(model: Model, op: Operation, output: Params, request_id: str | None) -> Response:
        members = xmlshapes.structure_content(op.output, output) if op.output is not None else ""
        if style is QUERY:
            members = xml.element(op.result_wrapper or f"{op.name}Result", members)
            if request_id:
                members += xml.element("ResponseMetadata", _request_id_xml("RequestId", request_id))
        else:
            members += _request_id_xml("requestId", request_id)
        body = f'<{op.name}Response xmlns="{_namespace(model)}">{members}</{op.name}Response>'
        return 200, (("Content-Type", "text/xml"),), body.encode("utf-8")

    return encode


def _error_encoder(style: QueryStyle) -> Callable[[Model, str, str, int, Params, str | None], Response]:
    def encode(model: Model, code: str, message: str, status: int, extra: Params, request_id: str | None) -> Response:
        shape = model.error_shapes.get(code)
        fault = "Sender" if shape is None or shape.sender_fault else "Receiver"
        members = xmlshapes.structure_content(shape, extra) if shape is not None else ""
        error = xml.element(
            "Error",
            xml.element("Type", fault) + xml.element("Code", xml.text(code)) + xml.element("Message", xml.text(message)) + members,
        )
        request_id_xml = _request_id_xml(style.request_id_tag, request_id)
        if style is QUERY:
            body = xml.element("ErrorResponse", error + request_id_xml)
        else:
            body = xml.element("Response", xml.element("Errors", error) + request_id_xml)
        return status, (("Content-Type", "text/xml"),), body.encode("utf-8")

    return encode


def _codec(style: QueryStyle) -> Codec:
    return Codec(_encoder(style), _decoder(style), _request_decoder(style), _response_encoder(style), _error_encoder(style))


QUERY_CODEC = _codec(QUERY)
EC2_CODEC = _codec(EC2)
