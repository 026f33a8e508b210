"""Differential tests; the oracle is the installed botocore.

For the shipped Account model (restJson1) and real models of each protocol
(organizations: awsJson1_1, dynamodb: awsJson1_0, sqs: awsJson1_0 with
awsQueryCompatible, sts and sns: awsQuery, ec2: ec2Query, s3, route53 and
cloudfront: restXml, cloudwatch and gamelift: Smithy RPCv2 CBOR, cloudwatch
with awsQueryCompatible), hypothesis draws an operation and valid params;
`wire.serialize` and botocore's serializer must produce the same request
(method, URL path, query and form values as multisets, JSON and CBOR bodies
as values, XML bodies canonicalized with differently named siblings in name
order, headers), and a response built by
`wire.serialize_response` must decode to the same value with
`wire.parse_response` and with botocore's parser. Where restXml as Smithy
specifies it and botocore part (a protocol case decides), the test says so
next to the one line that accounts for it.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from botocore.awsrequest import HeadersDict, prepare_request_dict
from botocore.loaders import Loader
from botocore.model import OperationModel, ServiceModel
from botocore.parsers import create_parser
from botocore.serialize import create_serializer
from botocore.utils import percent_encode_sequence
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from wire_strategies import structures

import wire
from wire import cbor

ENDPOINT = "https://service.us-east-1.amazonaws.com"
TOKEN = "00000000-0000-4000-8000-000000000000"
SERVICES = ("account", "organizations", "dynamodb", "sqs", "sts", "sns", "ec2", "s3", "route53", "cloudfront", "cloudwatch",
            "gamelift")
#: ec2 has 765 operations; every 15th keeps the run short and still varied.
SAMPLE_EVERY = {"ec2": 15}


def _usable(model: wire.Model, name: str) -> bool:
    """Operations without streaming or document shapes (outside this test's scope), nor
    structures whose members share a name on the wire (no format can round-trip those)."""
    op = model.operations[name]
    seen: set[int] = set()

    def plain(shape: Any) -> bool:
        if id(shape) in seen:
            return True
        seen.add(id(shape))
        if shape.streaming or shape.document or any(m.streaming for m in shape.members.values()):
            return False
        names = [m.location_name or m.name for m in shape.members.values() if m.location is None]
        if len(names) != len(set(names)):
            return False  # two members, one element name (S3's deprecated notification configuration)
        return all(plain(m.shape) for m in shape.members.values())

    return all(plain(s) for s in (op.input, op.output) if s is not None)


class Service:
    def __init__(self, name: str) -> None:
        raw = Loader().load_service_model(name, "service-2")
        self.botocore = ServiceModel(raw, name)
        protocol = self.botocore.metadata["protocol"]
        # The protocol botocore's serializer is built for below (CloudWatch: CBOR, which a client would not pick).
        self.model = wire.load_model(raw, protocol=protocol)
        self.serializer = create_serializer(protocol, include_validation=False)
        self.parser = create_parser(protocol)
        usable = sorted(n for n in self.model.operations if _usable(self.model, n))
        self.operations = usable[:: SAMPLE_EVERY.get(name, 1)]

    def operation_model(self, name: str) -> OperationModel:
        return self.botocore.operation_model(name)


_SERVICES: dict[str, Service] = {}


def _service(name: str) -> Service:
    if name not in _SERVICES:
        _SERVICES[name] = Service(name)
    return _SERVICES[name]


def _with_tokens(model: wire.Model, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    # botocore fills idempotency tokens in a handler, not in its serializer.
    shape = model.operations[operation].input
    tokens = {m.name: TOKEN for m in shape.members.values() if m.idempotency_token} if shape else {}
    return {**tokens, **params}


def _params(service: Service) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    def for_operation(name: str) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
        shape = service.model.operations[name].input
        params = structures(shape) if shape is not None else st.just({})
        return params.map(lambda p: (name, _with_tokens(service.model, name, p)))

    return st.sampled_from(service.operations).flatmap(for_operation)


def _outputs(service: Service) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    def for_operation(name: str) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
        shape = service.model.operations[name].output
        output = structures(shape) if shape is not None else st.just({})
        return output.map(lambda o: (name, o))

    return st.sampled_from(service.operations).flatmap(for_operation)


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _well_formed(body: bytes) -> bool:
    try:
        ET.fromstring(body)
    except ET.ParseError:
        return False
    return True


def _empty_list_headers(model: wire.Model, operation: str, params: dict[str, Any]) -> list[str]:
    shape = model.operations[operation].input
    members = shape.members.values() if shape is not None else ()
    return [
        m.wire_name.lower() for m in members if m.location == "header" and m.shape.type == "list" and params.get(m.name) == []
    ]


def _xml_value(body: bytes) -> str:
    """Canonical XML (C14N 2.0) with siblings of different names in name order.

    botocore's document starts with an XML declaration (ours has none) and
    writes members in the order of the params dict; ours follows the model's
    order, which schema-checking services (Route 53) require. Items of a
    list (siblings of one name) keep their order.
    """
    def by_name(element: ET.Element) -> None:
        children = sorted(element, key=lambda child: child.tag)
        for child in list(element):
            element.remove(child)
        element.extend(children)
        for child in children:
            by_name(child)

    root = ET.fromstring(body)
    by_name(root)
    return ET.canonicalize(ET.tostring(root, encoding="unicode"))


def _body_value(body: bytes, content_type: str) -> Any:
    if not body:
        return None
    if "xml" in content_type:
        return _xml_value(body)
    if "json" in content_type:
        return json.loads(body)
    if content_type == "application/cbor":
        return cbor.decode(body)
    if "x-www-form-urlencoded" in content_type:
        return sorted(parse_qsl(body.decode(), keep_blank_values=True))
    return body


def _botocore_request(service: Service, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    request = service.serializer.serialize_to_request(params, service.operation_model(operation))
    if isinstance(request["body"], dict):
        request["body"] = percent_encode_sequence(request["body"]).encode()
    host_prefix = request.get("host_prefix") or ""
    prepare_request_dict(request, endpoint_url=ENDPOINT)
    request["host"] = host_prefix + urlsplit(ENDPOINT).netloc
    return request


_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@pytest.mark.parametrize("name", SERVICES)
@_SETTINGS
@given(data=st.data())
def test_serialize_matches_botocore(name: str, data: st.DataObject) -> None:
    service = _service(name)
    operation, params = data.draw(_params(service))
    ours = wire.serialize(service.model, operation, params, endpoint=ENDPOINT)
    theirs = _botocore_request(service, operation, params)
    url = urlsplit(theirs["url"])
    assert ours.method == theirs["method"]
    assert ours.authority == theirs["host"]
    assert ours.path == url.path
    assert sorted(parse_qsl(ours.query, keep_blank_values=True)) == sorted(parse_qsl(url.query, keep_blank_values=True))
    their_headers = {k.lower(): str(v) for k, v in theirs["headers"].items()}
    our_headers = {k.lower(): v for k, v in ours.headers}
    if service.model.protocol == "rest-xml":
        if ours.body.startswith(b"<"):
            # restXml's Content-Type (Smithy); botocore's serializer leaves it out.
            their_headers.setdefault("content-type", "application/xml")
            # botocore writes characters XML 1.0 cannot carry as they are (no longer XML); ours, U+FFFD.
            assume(_well_formed(theirs["body"]))
        # An empty header-bound list: Smithy sends the header empty (NullAndEmptyHeaders), botocore drops it.
        for name in _empty_list_headers(service.model, operation, params):
            assert our_headers.pop(name) == ""
    assert our_headers == their_headers
    content_type = our_headers.get("content-type", "")
    assert _body_value(ours.body, content_type) == _body_value(theirs["body"], content_type)  # type: ignore[arg-type]


#: Characters XML 1.0 cannot carry (restXml writes U+FFFD for them).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_can_carry(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_xml_can_carry(k) and _xml_can_carry(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_xml_can_carry(v) for v in value)
    return not (isinstance(value, str) and _NOT_XML.search(value))


def _without_empty_flattened(shape: Any, value: Any) -> Any:
    """`value` as restXml can carry it: an empty flattened list or map is no element at all,
    and a prefix-header map's keys come back lower-cased (header names have no case)."""
    if shape.type == "structure" and isinstance(value, dict):
        out = {}
        for name, item in value.items():
            member = shape.members[name]
            if member.flattened and member.shape.type in ("list", "map") and not item:
                continue
            if member.location == "headers":
                item = {key.lower(): text for key, text in item.items()}
            out[name] = _without_empty_flattened(member.shape, item)
        return out
    if shape.type == "list":
        return [_without_empty_flattened(shape.member.shape, item) for item in value]
    if shape.type == "map":
        return {key: _without_empty_flattened(shape.members["value"].shape, item) for key, item in value.items()}
    return value


def _header_keys_collide(shape: Any, output: dict[str, Any]) -> bool:
    """Two prefix-header keys that differ only by case are one header on the wire."""
    maps = [output.get(m.name) or {} for m in shape.members.values() if m.location == "headers"] if shape else []
    return any(len({key.lower() for key in keys}) != len(keys) for keys in maps)


def _read_when_absent(model: wire.Model, operation: str) -> dict[str, Any]:
    """restXml reads an absent prefix-header map or structure payload as empty (as botocore does)."""
    shape = model.operations[operation].output
    if model.protocol != "rest-xml" or shape is None:
        return {}
    empty = {m.name: {} for m in shape.members.values() if m.location == "headers"}
    payload = shape.members.get(shape.payload or "")
    if payload is not None and payload.shape.type == "structure" and not payload.shape.union:
        empty[payload.name] = {}
    if payload is not None and payload.shape.type == "string":
        empty[payload.name] = ""
    return empty


def _without_metadata(parsed: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in parsed.items() if k != "ResponseMetadata"}


@pytest.mark.parametrize("name", SERVICES)
@_SETTINGS
@given(data=st.data())
def test_parse_response_matches_botocore(name: str, data: st.DataObject) -> None:
    service = _service(name)
    operation, output = data.draw(_outputs(service))
    shape = service.model.operations[operation].output
    status, headers, body = wire.serialize_response(service.model, operation, output)
    ours = wire.parse_response(service.model, operation, status, headers, body)
    expected = output
    if service.model.protocol == "rest-xml":
        assume(_xml_can_carry(output) and not _header_keys_collide(shape, output))
        expected = {**_read_when_absent(service.model, operation), **_without_empty_flattened(shape, output)} if shape else {}
    assert ours == expected
    response = {"status_code": status, "headers": HeadersDict(dict(headers)), "body": body}
    payload = shape.members.get(shape.payload or "") if shape is not None else None
    if payload is not None and payload.shape.type == "blob":
        # botocore hands a blob payload back as text (and fails on bytes that are not UTF-8);
        # an empty one it reads as "", Smithy as nothing (HttpPayloadTraitsWithNoBlobBody).
        assume(_is_utf8(body))
        ours = {**ours, payload.name: ours.get(payload.name, b"").decode("utf-8")}
    theirs = service.parser.parse(response, service.operation_model(operation).output_shape)
    theirs = _without_metadata(theirs)
    if service.model.protocol == "rest-xml" and shape is not None:
        theirs = _without_empty_flattened(shape, theirs)  # botocore keeps a prefix header's case as sent
    assert ours == theirs


@pytest.mark.parametrize("name", SERVICES)
def test_errors_match_botocore(name: str) -> None:
    service = _service(name)
    operation = service.operations[0]
    for code in list(service.model.error_shapes)[:5] + ["SomethingUnmodelled"]:
        status, headers, body = wire.serialize_error(service.model, code, "went wrong", 400)
        with pytest.raises(wire.ServiceError) as caught:
            wire.parse_response(service.model, operation, status, headers, body)
        response = {"status_code": status, "headers": HeadersDict(dict(headers)), "body": body}
        theirs = service.parser.parse(response, service.operation_model(operation).output_shape)["Error"]
        assert (caught.value.code, caught.value.message) == (theirs["Code"], theirs["Message"]) == (code, "went wrong")
