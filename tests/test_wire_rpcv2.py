"""wire/rpcv2.py beyond the official cases: the protocol chosen from a
model's list, the query-compatible error code rule (shared with awsJson),
the server-side mirror images, and the error boundary (any response bytes
give a value, a `ServiceError` or a `DecodeError`)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wire
from wire import cbor
from wire.jsonproto import query_error_code

ENDPOINT = "https://monitoring.us-east-1.amazonaws.com"


@pytest.fixture(scope="module")
def cloudwatch() -> wire.Model:
    return wire.load_model("cloudwatch", protocol="smithy-rpc-v2-cbor")


def _model(protocols: list[str], **metadata: Any) -> wire.Model:
    return wire.load_model(
        {
            "metadata": {"protocol": protocols[0], "protocols": protocols, "targetPrefix": "Svc", **metadata},
            "operations": {"Op": {"name": "Op", "input": {"shape": "In"}, "output": {"shape": "In"}}},
            "shapes": {
                "In": {"type": "structure", "members": {"F": {"shape": "F"}, "T": {"shape": "T"}, "B": {"shape": "B"}}},
                "F": {"type": "float"},
                "T": {"type": "timestamp"},
                "B": {"type": "blob"},
                "Bad": {"type": "structure", "members": {"message": {"shape": "S"}}, "exception": True},
                "S": {"type": "string"},
            },
        }
    )


def test_the_protocol_is_chosen_as_botocore_clients_choose(cloudwatch: wire.Model) -> None:
    # botocore's priority order, whatever the model's list order: json, rest-json, (rest-xml,) CBOR, query, ec2.
    assert wire.load_model("cloudwatch").protocol == "json"  # protocols: [smithy-rpc-v2-cbor, json, query]
    assert _model(["smithy-rpc-v2-cbor", "json"]).protocol == "json"
    assert _model(["query", "smithy-rpc-v2-cbor"]).protocol == "smithy-rpc-v2-cbor"
    assert cloudwatch.protocol == "smithy-rpc-v2-cbor"
    assert wire.load_model("cloudwatch", protocol="query").protocol == "query"
    with pytest.raises(wire.ModelError, match="unsupported protocol"):
        _model(["smithy-rpc-v3"])
    with pytest.raises(wire.ModelError, match="not one the model offers"):
        wire.load_model("cloudwatch", protocol="rest-json")


def test_request_layout(cloudwatch: wire.Model) -> None:
    moment = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    params = {"Namespace": "App", "MetricData": [{"MetricName": "Latency", "Value": 1.5, "Timestamp": moment}]}
    request = wire.serialize(cloudwatch, "PutMetricData", params, endpoint=ENDPOINT)
    assert request.method == "POST"
    assert request.url == f"{ENDPOINT}/service/GraniteServiceVersion20100801/operation/PutMetricData"
    assert dict(request.headers) == {
        "smithy-protocol": "rpc-v2-cbor",
        "Accept": "application/cbor",
        "Content-Type": "application/cbor",
        "x-amzn-query-mode": "true",  # CloudWatch is awsQueryCompatible
    }
    body = cbor.decode(request.body)
    assert body == {"Namespace": "App", "MetricData": [{"MetricName": "Latency", "Value": 1.5, "Timestamp": moment}]}
    assert b"\xc1\x1a" + int(moment.timestamp()).to_bytes(4, "big") in request.body  # tag 1, integer seconds
    assert b"\xfb" + cbor.encode(cbor.Float64(1.5))[1:] in request.body  # a double member: 64 bits


def test_server_side_round_trip(cloudwatch: wire.Model) -> None:
    params = {"Namespace": "App", "MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "a"}]}
    request = wire.serialize(cloudwatch, "ListMetrics", params, endpoint=ENDPOINT)
    assert wire.parse_request(cloudwatch, "POST", request.target, request.headers, request.body) == ("ListMetrics", params)
    output = {"Metrics": [{"Namespace": "App", "MetricName": "Latency"}], "NextToken": "n"}
    status, headers, body = wire.serialize_response(cloudwatch, "ListMetrics", output, request_id="rid")
    assert (status, dict(headers)["smithy-protocol"]) == (200, "rpc-v2-cbor")
    assert wire.parse_response(cloudwatch, "ListMetrics", status, headers, body) == output


@pytest.mark.parametrize("target", ["/service/Other/operation/ListMetrics", "/service/GraniteServiceVersion20100801/operation/Nope", "/"])
def test_requests_for_another_service_or_operation_are_refused(cloudwatch: wire.Model, target: str) -> None:
    with pytest.raises(wire.DecodeError, match="not an RPCv2 operation"):
        wire.parse_request(cloudwatch, "POST", target, {}, b"")


def test_errors_round_trip_with_request_id() -> None:
    model = _model(["smithy-rpc-v2-cbor"])
    status, headers, body = wire.serialize_error(model, "Bad", "went wrong", 400, request_id="rid")
    with pytest.raises(wire.ServiceError) as caught:
        wire.parse_response(model, "Op", status, headers, body)
    error = caught.value
    assert (error.code, error.message, error.status, error.request_id, error.data) == ("Bad", "went wrong", 400, "rid", {"message": "went wrong"})


@pytest.mark.parametrize(
    "type_, header, code",
    [
        ("ns#Bad", None, "Bad"),
        ("Bad:http://internal/", None, "Bad"),
        ("ns#Bad", "Customized;Sender", "Customized"),
        ("ns#Bad", "Customized;Sender;Extra", "Bad"),  # botocore's rule: exactly two parts
        ("ns#Bad", ";Sender", "Bad"),
        (None, None, "503"),  # no __type: the HTTP status
    ],
)
def test_error_codes(type_: str | None, header: str | None, code: str) -> None:
    model = _model(["smithy-rpc-v2-cbor"], awsQueryCompatible={})
    body = cbor.encode({"message": "m"} if type_ is None else {"__type": type_, "message": "m"})
    headers = {"x-amzn-query-error": header} if header else {}
    with pytest.raises(wire.ServiceError) as caught:
        wire.parse_response(model, "Op", 503, headers, body)
    assert (caught.value.code, caught.value.message) == (code, "m")


def test_query_error_code_rule_is_shared() -> None:
    assert query_error_code({"x-amzn-query-error": "A;Sender"}, "B") == "A"
    assert query_error_code({}, "B") == "B"


def test_numbers_are_upcast_and_timestamps_read_from_numbers() -> None:
    model = _model(["smithy-rpc-v2-cbor"])
    body = bytes.fromhex("a3") + cbor.encode("F") + bytes.fromhex("01") + cbor.encode("T") + cbor.encode(0) + cbor.encode("B") + cbor.encode(b"x")
    assert wire.parse_response(model, "Op", 200, {}, body) == {"F": 1.0, "T": datetime(1970, 1, 1, tzinfo=timezone.utc), "B": b"x"}


@pytest.mark.parametrize("body", [b"\x80", b"\x01", b"\xa1\x61F\x631.5", b"\xa1\x61F\xf5", b"\xa1\x61B\x61x", b"\xff", b"\xa1"])
def test_bodies_that_do_not_fit_raise_decode_error(body: bytes) -> None:
    with pytest.raises(wire.DecodeError):
        wire.parse_response(_model(["smithy-rpc-v2-cbor"]), "Op", 200, {}, body)


@settings(max_examples=300, deadline=None)
@given(status=st.sampled_from([200, 400, 500]), body=st.binary(max_size=40))
def test_any_response_bytes_give_a_value_a_service_error_or_a_decode_error(status: int, body: bytes) -> None:
    model = _model(["smithy-rpc-v2-cbor"])
    try:
        wire.parse_response(model, "Op", status, {}, b"\xa1\x61F" + body)
        wire.parse_response(model, "Op", status, {}, body)
    except (wire.ServiceError, wire.DecodeError):
        pass


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **kwargs: Any) -> Any:
        yield self.body


def test_boto3_client_against_our_server_side(cloudwatch: wire.Model, tmp_path: Path) -> None:
    """A real client: boto3's CloudWatch client, given the model with RPCv2 CBOR
    as its only protocol (it picks awsJson1_0 otherwise), sends its request to
    our `parse_request` and reads the response our `serialize_response` builds."""
    import boto3
    import botocore.session
    from botocore.awsrequest import AWSResponse
    from botocore.loaders import Loader

    raw = Loader().load_service_model("cloudwatch", "service-2")
    raw["metadata"]["protocols"] = ["smithy-rpc-v2-cbor"]
    folder = tmp_path / "cloudwatch" / raw["metadata"]["apiVersion"]
    folder.mkdir(parents=True)
    (folder / "service-2.json").write_text(json.dumps(raw))
    core = botocore.session.get_session()
    core.get_component("data_loader").search_paths.insert(0, str(tmp_path))
    client = boto3.Session(botocore_session=core).client(
        "cloudwatch", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test", endpoint_url=ENDPOINT
    )
    received: list[tuple[str, dict[str, Any]]] = []
    moment = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    output = {"MetricDataResults": [{"Id": "q", "Timestamps": [moment], "Values": [0.5], "StatusCode": "Complete"}]}

    def reply(request: Any, **kwargs: Any) -> AWSResponse:
        headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        received.append(wire.parse_request(cloudwatch, request.method, request.url[len(ENDPOINT):], headers, request.body))
        status, response_headers, body = wire.serialize_response(cloudwatch, "GetMetricData", output, request_id="rid")
        return AWSResponse(request.url, status, dict(response_headers), _Raw(body))

    client.meta.events.register("before-send", reply)
    query = {"Id": "q", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "Latency"}, "Period": 60, "Stat": "Average"}}
    answer = client.get_metric_data(MetricDataQueries=[query], StartTime=moment, EndTime=moment)
    assert received == [("GetMetricData", {"MetricDataQueries": [query], "StartTime": moment, "EndTime": moment})]
    assert answer["MetricDataResults"] == output["MetricDataResults"]
    assert answer["ResponseMetadata"]["RequestId"] == "rid"
