"""Differential tests; the oracle is the installed botocore.

For the shipped Account model (restJson1) and real models of each protocol
(organizations: awsJson1_1, dynamodb: awsJson1_0, sqs: awsJson1_0 with
awsQueryCompatible, sts and sns: awsQuery, ec2: ec2Query, cloudwatch and
gamelift: Smithy RPCv2 CBOR, cloudwatch with awsQueryCompatible), hypothesis draws
an operation and valid params; `wire.serialize` and botocore's serializer
must produce the same request (method, URL path, query and form values as
multisets, JSON and CBOR bodies as values, headers), and a response built by
`wire.serialize_response` must decode to the same value with
`wire.parse_response` and with botocore's parser.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from botocore.awsrequest import HeadersDict, prepare_request_dict
from botocore.loaders import Loader
from botocore.model import OperationModel, ServiceModel
from botocore.parsers import create_parser
from botocore.serialize import create_serializer
from botocore.utils import percent_encode_sequence
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wire_strategies import structures

import wire
from wire import cbor

ENDPOINT = "https://service.us-east-1.amazonaws.com"
TOKEN = "00000000-0000-4000-8000-000000000000"
SERVICES = ("account", "organizations", "dynamodb", "sqs", "sts", "sns", "ec2", "cloudwatch", "gamelift")
#: ec2 has 765 operations; every 15th keeps the run short and still varied.
SAMPLE_EVERY = {"ec2": 15}


def _usable(model: wire.Model, name: str) -> bool:
    """Operations without streaming or document shapes (outside this test's scope)."""
    op = model.operations[name]
    seen: set[int] = set()

    def plain(shape: Any) -> bool:
        if id(shape) in seen:
            return True
        seen.add(id(shape))
        if shape.streaming or shape.document:
            return False
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


def _body_value(body: bytes, content_type: str) -> Any:
    if not body:
        return None
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
    assert our_headers == their_headers
    content_type = our_headers.get("content-type", "")
    assert _body_value(ours.body, content_type) == _body_value(theirs["body"], content_type)  # type: ignore[arg-type]


def _without_metadata(parsed: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in parsed.items() if k != "ResponseMetadata"}


@pytest.mark.parametrize("name", SERVICES)
@_SETTINGS
@given(data=st.data())
def test_parse_response_matches_botocore(name: str, data: st.DataObject) -> None:
    service = _service(name)
    operation, output = data.draw(_outputs(service))
    status, headers, body = wire.serialize_response(service.model, operation, output)
    ours = wire.parse_response(service.model, operation, status, headers, body)
    assert ours == output
    response = {"status_code": status, "headers": HeadersDict(dict(headers)), "body": body}
    theirs = service.parser.parse(response, service.operation_model(operation).output_shape)
    assert ours == _without_metadata(theirs)


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
