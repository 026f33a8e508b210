"""Codec behaviour outside the official suites: the decode-error invariant
(fuzzed), XML safety, purity, Query GET requests, host prefixes,
compression, and model loading errors."""

from __future__ import annotations

import builtins
import gzip
import math
import socket
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wire
from local_http import http_server

MODELS = {name: wire.load_model(name) for name in ("account", "sts", "ec2", "dynamodb", "sqs")}
FUZZ_TARGETS = [
    ("account", "GetAlternateContact"),
    ("account", "ListRegions"),
    ("sts", "AssumeRole"),
    ("ec2", "DescribeInstances"),
    ("dynamodb", "Query"),
    ("sqs", "ReceiveMessage"),
]

_HEADER_NAMES = st.sampled_from(
    ["Content-Type", "x-amzn-ErrorType", "x-amzn-query-error", "x-amzn-RequestId", "X-Foo", "Content-Length"]
)
_XMLISH = st.sampled_from(
    [
        b"<AssumeRoleResponse><AssumeRoleResult><Credentials><Expiration>x</Expiration></Credentials>",
        b"<ErrorResponse><Error><Code>",
        b"<Response><Errors><Error><Code>X</Code></Error></Errors></Response>",
        b'{"__type": "a#B:c", "message": 1}',
        b'{"Items": [{"a": {"N": "x"}}], "Count": "many"}',
        b'{"Regions": [{"RegionName": 5}], "NextToken": null}',
        b"<!DOCTYPE x>",
    ]
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    target=st.sampled_from(FUZZ_TARGETS),
    status=st.sampled_from([200, 201, 400, 403, 500]) | st.integers(0, 999),
    headers=st.lists(st.tuples(_HEADER_NAMES | st.text(max_size=8), st.text(max_size=30))),
    body=st.binary(max_size=200) | _XMLISH | st.tuples(_XMLISH, st.binary(max_size=40)).map(lambda t: t[0] + t[1]),
)
def test_parse_response_decodes_or_raises_only_our_errors(
    target: tuple[str, str], status: int, headers: list[tuple[str, str]], body: bytes
) -> None:
    name, operation = target
    try:
        result = wire.parse_response(MODELS[name], operation, status, headers, body)
    except (wire.ServiceError, wire.DecodeError):
        return
    assert isinstance(result, dict)


@pytest.mark.parametrize("split", [1, 7])
def test_round_trip_survives_truncation(split: int) -> None:
    model = MODELS["sts"]
    status, headers, body = wire.serialize_response(model, "GetCallerIdentity", {"Account": "123456789012"})
    assert wire.parse_response(model, "GetCallerIdentity", status, headers, body) == {"Account": "123456789012"}
    with pytest.raises(wire.DecodeError):
        wire.parse_response(model, "GetCallerIdentity", status, headers, body[:-split])


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><r>&a;</r>',
        b'<!DOCTYPE r SYSTEM "http://example.com/evil.dtd"><r/>',
        b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
        b"<r>&undefined;</r>",
    ],
)
def test_xml_with_dtd_or_entities_is_refused(body: bytes) -> None:
    with pytest.raises(wire.DecodeError):
        wire.parse_response(MODELS["sts"], "GetCallerIdentity", 200, {}, body)


@pytest.mark.parametrize("status", [400, 503])
def test_an_error_response_with_a_dtd_says_why_it_was_not_read(status: int) -> None:
    body = (b'<?xml version="1.0"?><!DOCTYPE ErrorResponse [<!ENTITY x "SignatureDoesNotMatch">]>'
            b"<ErrorResponse><Error><Code>&x;</Code><Message>m</Message></Error></ErrorResponse>")
    with pytest.raises(wire.ServiceError) as raised:
        wire.parse_response(MODELS["sts"], "GetCallerIdentity", status, {}, body)
    assert raised.value.status == status
    assert "DTD or entity declarations is refused" in raised.value.message  # before the fix: an empty message


def test_codecs_are_pure(monkeypatch: pytest.MonkeyPatch) -> None:
    models = {name: wire.load_model(name) for name in ("account", "sts")}

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("wire touched I/O or the clock")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(time, "time", refuse)
    monkeypatch.setattr(builtins, "open", refuse)
    request = wire.serialize(models["account"], "ListRegions", {"MaxResults": 5}, endpoint="https://a.example")
    assert request.body == b'{"MaxResults":5}'
    status, headers, body = wire.serialize_response(models["sts"], "GetCallerIdentity", {"UserId": "u"})
    assert wire.parse_response(models["sts"], "GetCallerIdentity", status, headers, body) == {"UserId": "u"}


def test_query_get_puts_params_in_the_url() -> None:
    request = wire.serialize(
        MODELS["sts"], "GetAccessKeyInfo", {"AccessKeyId": "AKIDEXAMPLE1234567"}, endpoint="https://sts.amazonaws.com", method="GET"
    )
    assert (request.method, request.body, request.header("Content-Type")) == ("GET", b"", None)
    assert request.url == "https://sts.amazonaws.com/?Action=GetAccessKeyInfo&Version=2011-06-15&AccessKeyId=AKIDEXAMPLE1234567"
    assert wire.parse_request(MODELS["sts"], "GET", request.target, request.headers, b"") == (
        "GetAccessKeyInfo",
        {"AccessKeyId": "AKIDEXAMPLE1234567"},
    )


def test_query_get_over_8_kib_is_refused() -> None:
    with pytest.raises(wire.SerializationError, match="8192"):
        wire.serialize(MODELS["sts"], "DecodeAuthorizationMessage", {"EncodedMessage": "x" * 9000}, endpoint="https://sts.amazonaws.com", method="GET")


def test_get_is_for_query_protocols_only() -> None:
    with pytest.raises(wire.SerializationError):
        wire.serialize(MODELS["account"], "ListRegions", {}, endpoint="https://a.example", method="GET")


def test_host_prefix_labels_are_validated() -> None:
    model = wire.load_model(
        {
            "metadata": {"protocol": "json", "apiVersion": "1", "targetPrefix": "T", "jsonVersion": "1.1"},
            "operations": {"Op": {"name": "Op", "input": {"shape": "In"}, "endpoint": {"hostPrefix": "{label}."}}},
            "shapes": {"In": {"type": "structure", "members": {"label": {"shape": "S", "hostLabel": True}}}, "S": {"type": "string"}},
        }
    )
    assert wire.serialize(model, "Op", {"label": "abc"}, endpoint="https://example.com").authority == "abc.example.com"
    with pytest.raises(wire.SerializationError, match="host label"):
        wire.serialize(model, "Op", {"label": "a/b"}, endpoint="https://example.com")


def test_gzip_applies_above_the_minimum_size() -> None:
    model = wire.load_model(
        {
            "metadata": {"protocol": "rest-json", "apiVersion": "1"},
            "operations": {
                "Put": {"name": "Put", "http": {"method": "POST", "requestUri": "/"}, "input": {"shape": "In"}, "requestcompression": {"encodings": ["gzip"]}}
            },
            "shapes": {"In": {"type": "structure", "members": {"data": {"shape": "S"}}}, "S": {"type": "string"}},
        }
    )
    small = wire.serialize(model, "Put", {"data": "x"}, endpoint="https://example.com")
    assert small.header("Content-Encoding") is None
    big = wire.serialize(model, "Put", {"data": "x" * 20000}, endpoint="https://example.com")
    assert big.header("Content-Encoding") == "gzip"
    assert isinstance(big.body, bytes) and gzip.decompress(big.body) == b'{"data":"' + b"x" * 20000 + b'"}'
    again = wire.serialize(model, "Put", {"data": "x" * 20000}, endpoint="https://example.com")
    assert again.body == big.body


def test_idempotency_tokens_come_from_the_factory() -> None:
    model = wire.load_model("organizations")
    shape = model.operation("CreateAccount").input
    assert shape is not None
    token_members = [m.name for m in shape.members.values() if m.idempotency_token]
    params = {"Email": "a@example.com", "AccountName": "a"}
    if token_members:
        request = wire.serialize(model, "CreateAccount", params, endpoint="https://o.example", token_factory=lambda: "T")
        assert b'"T"' in request.body  # type: ignore[operator]


def test_timestamp_inputs_and_special_floats() -> None:
    model = wire.load_model(
        {
            "metadata": {"protocol": "json", "apiVersion": "1", "targetPrefix": "T", "jsonVersion": "1.0"},
            "operations": {"Op": {"name": "Op", "input": {"shape": "In"}, "output": {"shape": "In"}}},
            "shapes": {
                "In": {"type": "structure", "members": {"t": {"shape": "Ts"}, "f": {"shape": "D"}}},
                "Ts": {"type": "timestamp"},
                "D": {"type": "double"},
            },
        }
    )
    moment = datetime(2014, 4, 29, 18, 30, 38, tzinfo=timezone.utc)
    for value in (moment, 1398796238, "2014-04-29T18:30:38Z"):
        request = wire.serialize(model, "Op", {"t": value, "f": math.inf}, endpoint="https://example.com")
        assert request.body == b'{"t":1398796238,"f":"Infinity"}'
    out = wire.parse_response(model, "Op", 200, {}, b'{"t": 1398796238.5, "f": "NaN"}')
    assert out["t"] == datetime(2014, 4, 29, 18, 30, 38, 500000, tzinfo=timezone.utc) and math.isnan(out["f"])
    with pytest.raises(wire.ValidationError, match="timezone-aware"):
        wire.serialize(model, "Op", {"t": datetime(2014, 1, 1)}, endpoint="https://example.com")


def test_none_means_absent() -> None:
    request = wire.serialize(MODELS["account"], "ListRegions", {"MaxResults": None, "NextToken": "n"}, endpoint="https://a.example")
    assert request.body == b'{"NextToken":"n"}'


def test_query_error_response_and_request_id() -> None:
    status, headers, body = wire.serialize_error(MODELS["sts"], "ExpiredTokenException", "old", 400)
    assert b"<ErrorResponse><Error><Type>Sender</Type><Code>ExpiredTokenException</Code><Message>old</Message>" in body
    with pytest.raises(wire.ServiceError) as caught:
        wire.parse_response(MODELS["sts"], "GetCallerIdentity", status, headers, body)
    assert (caught.value.code, caught.value.message, caught.value.status) == ("ExpiredTokenException", "old", 400)


@pytest.mark.parametrize("service,operation,params", [
    ("sts", "AssumeRole", {"RoleArn": "arn:aws:iam::1:role/r", "RoleSessionName": "s\udcff"}),  # Query
    ("ec2", "DescribeInstances", {"InstanceIds": ["i-\ud800"]}),  # EC2 Query
    ("s3", "GetObject", {"Bucket": "b", "Key": "k\udcff"}),  # restXml, the path
    ("lambda", "GetFunction", {"FunctionName": "f\udcff"}),  # restJson, the path
])
def test_serialize_refuses_a_lone_surrogate_as_a_serialization_error(service: str, operation: str,
                                                                     params: dict[str, Any]) -> None:
    model = MODELS.get(service) or wire.load_model(service)
    with pytest.raises(wire.SerializationError, match="is a lone surrogate, not Unicode text"):
        wire.serialize(model, operation, params, endpoint="https://example.com")


def test_parse_response_takes_urllibs_headers_as_they_come() -> None:
    # `urlopen(...).headers` is an HTTPMessage, not a Mapping: iterated it gives names alone (a ValueError before).
    body = b'{"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "gone"}'
    answer = (400, [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-RequestId", "req-7"),
                    ("x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender")], body)
    with http_server(lambda request, _: answer) as (url, _):
        try:
            urllib.request.urlopen(url + "/")
        except urllib.error.HTTPError as err:
            status, headers, data = err.code, err.headers, err.read()
    with pytest.raises(wire.ServiceError) as caught:
        wire.parse_response(MODELS["sqs"], "GetQueueUrl", status, headers, data)
    assert (caught.value.code, caught.value.request_id) == ("AWS.SimpleQueueService.NonExistentQueue", "req-7")


def test_load_model_reports_problems_by_name(tmp_path: Path) -> None:
    with pytest.raises(wire.ModelError, match="Op.input -> 'Missing'"):
        wire.load_model({"metadata": {"protocol": "json"}, "operations": {"Op": {"input": {"shape": "Missing"}}}, "shapes": {}})
    with pytest.raises(wire.ModelError, match="unsupported protocol"):
        wire.load_model({"metadata": {"protocol": "carrier-pigeon"}, "operations": {}, "shapes": {}})
    with pytest.raises(wire.ModelError, match="unknown operation 'Nope'"):
        MODELS["account"].operation("Nope")
    path = tmp_path / "account.json.gz"
    path.write_bytes(gzip.compress((Path(wire.__file__).parent / "models" / "account.json").read_bytes()))
    assert sorted(wire.load_model(path).operations) == sorted(MODELS["account"].operations)


@pytest.mark.parametrize("name", ["account", "sts", "ec2", "dynamodb"])
def test_request_ids_round_trip(name: str) -> None:
    model = MODELS[name]
    operation = sorted(model.operations)[0]
    status, headers, body = wire.serialize_error(model, "Oops", "bad", 400, request_id="req-1")
    with pytest.raises(wire.ServiceError) as caught:
        wire.parse_response(model, operation, status, headers, body)
    assert (caught.value.code, caught.value.request_id) == ("Oops", "req-1")


def test_query_response_metadata() -> None:
    _, _, body = wire.serialize_response(MODELS["sts"], "GetCallerIdentity", {"Account": "1"}, request_id="r-9")
    assert body.endswith(
        b"<GetCallerIdentityResult><Account>1</Account></GetCallerIdentityResult>"
        b"<ResponseMetadata><RequestId>r-9</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
    )


#: awsJson: a union of two strings, and a leaf structure of plain members, one of them renamed on the wire.
_SMALL = wire.load_model({
    "metadata": {"protocol": "json", "jsonVersion": "1.0", "apiVersion": "1", "targetPrefix": "T"},
    "operations": {"Op": {"name": "Op", "input": {"shape": "In"}, "output": {"shape": "Out"}}},
    "shapes": {
        "In": {"type": "structure", "members": {"U": {"shape": "U"}, "Leaf": {"shape": "Leaf"}}},
        "Out": {"type": "structure", "members": {"Leaves": {"shape": "Leaves"}, "Renamed": {"shape": "Renamed"}}},
        "U": {"type": "structure", "union": True, "members": {"A": {"shape": "S"}, "B": {"shape": "S"}}},
        "Leaf": {"type": "structure", "members": {"Name": {"shape": "S"}, "Size": {"shape": "I"}}},
        "Leaves": {"type": "list", "member": {"shape": "Leaf"}},
        "Renamed": {"type": "structure", "members": {"Name": {"shape": "S", "locationName": "name"}}},
        "S": {"type": "string"},
        "I": {"type": "integer"},
    },
})


@pytest.mark.parametrize("union, expected", [
    ({"A": "x"}, []),
    ({"A": "x", "B": None}, []),
    ({"A": "x", "B": "y"}, ["U: a union needs exactly one member set, got 2"]),
    ({}, ["U: a union needs exactly one member set, got 0"]),
    # An unknown key is refused as such, and is not counted as a member set.
    ({"A": "x", "C": "y"}, ["U.C: is not a member of U (members: A, B)"]),
])
def test_a_union_counts_its_members_set(union: dict[str, Any], expected: list[str]) -> None:
    try:
        wire.serialize(_SMALL, "Op", {"U": union}, endpoint="https://t.example.com")
    except wire.ValidationError as err:
        assert [str(v) for v in err.violations] == expected
    else:
        assert expected == []


def test_a_leaf_structure_drops_its_unset_members_in_the_callers_order() -> None:
    request = wire.serialize(_SMALL, "Op", {"Leaf": {"Size": 3, "Name": None}}, endpoint="https://t.example.com")
    assert request.body == b'{"Leaf":{"Size":3}}'
    request = wire.serialize(_SMALL, "Op", {"Leaf": {"Size": 3, "Name": "n"}}, endpoint="https://t.example.com")
    assert request.body == b'{"Leaf":{"Size":3,"Name":"n"}}'


@pytest.mark.parametrize("body, expected", [
    (b'{"Leaves": [{"Name": "a", "Size": 1}]}', {"Leaves": [{"Name": "a", "Size": 1}]}),
    # A null is no value; a key the model does not know (a newer service's) is ignored.
    (b'{"Leaves": [{"Name": "a", "Size": null, "Later": 1}, {}]}', {"Leaves": [{"Name": "a"}, {}]}),
    (b'{"Leaves": [{"Name": "a"}, null]}', {"Leaves": [{"Name": "a"}]}),
    # An integer sent as text or as a whole float reads as the integer, not as what the document holds.
    (b'{"Leaves": [{"Size": "5"}, {"Size": 5.0}]}', {"Leaves": [{"Size": 5}, {"Size": 5}]}),
    (b'{"Renamed": {"name": "a"}}', {"Renamed": {"Name": "a"}}),
    (b'{"Renamed": {"Name": "a"}}', {"Renamed": {}}),
])
def test_a_leaf_structure_decodes_its_members_only(body: bytes, expected: dict[str, Any]) -> None:
    assert wire.parse_response(_SMALL, "Op", 200, {}, body) == expected


@pytest.mark.parametrize("leaf", [b'{"Name": 5}', b'{"Size": "x"}', b'{"Size": true}', b'["Name"]'])
def test_a_leaf_structure_refuses_a_value_of_another_type(leaf: bytes) -> None:
    with pytest.raises(wire.DecodeError):
        wire.parse_response(_SMALL, "Op", 200, {}, b'{"Leaves": [' + leaf + b"]}")
