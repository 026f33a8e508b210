"""Error answers of every protocol read as botocore reads them (differential: `botocore.parsers` on the same
status, headers and bytes): the code, message and request id a user sees.

Kept apart on purpose (not generated here): awsJson reads `x-amzn-ErrorType` and `code` when `__type` is absent
(botocore gives the status); an error that names no code (an empty body, a load balancer's HTML page) has the status
as its code but no message (botocore: the reason phrase of a 5xx, the page itself of a JSON protocol's 4xx), so that
`sigv4 call` prints the status, request id and the body's start; a request id only in the body or only in a header
is read where botocore reads none."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import botocore.parsers
import botocore.session
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wire

SERVICES = {"json": "dynamodb", "rest-json": "lambda", "query": "sts", "ec2": "ec2", "rest-xml": "route53",
            "s3": "s3", "smithy-rpc-v2-cbor": "cloudwatch"}
OPERATIONS = {"dynamodb": "ListTables", "lambda": "ListFunctions", "sts": "GetCallerIdentity",
              "ec2": "DescribeRegions", "route53": "ListHostedZones", "s3": "ListBuckets", "cloudwatch": "ListMetrics"}
_session = botocore.session.Session()

names = st.from_regex(r"[A-Za-z][A-Za-z0-9.]{0,15}", fullmatch=True)
texts = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 ,.'()-]{0,30}[A-Za-z0-9.]", fullmatch=True)
ids = st.from_regex(r"[a-f0-9-]{8,36}", fullmatch=True)
statuses = st.sampled_from([400, 403, 404, 409, 429, 500, 502, 503])
namespaces = st.sampled_from(["", ' xmlns="https://sts.amazonaws.com/doc/2011-06-15/"',
                              ' xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"'])


@lru_cache(maxsize=None)
def _botocore_parser(service: str) -> tuple[Any, Any]:
    model = _session.get_service_model(service)  # CloudWatch: botocore's parser of the CBOR it lists first
    protocol = "smithy-rpc-v2-cbor" if service == "cloudwatch" else model.metadata["protocol"]
    return botocore.parsers.create_parser(protocol), model.operation_model(OPERATIONS[service]).output_shape


def botocore_error(service: str, status: int, headers: dict[str, str], body: bytes) -> tuple[str, str, str | None]:
    parser, shape = _botocore_parser(service)
    parsed = parser.parse({"status_code": status, "headers": headers, "body": body}, shape)
    # botocore leaves out a message the body does not say; ClientError reads it as ""
    return parsed["Error"]["Code"], parsed["Error"].get("Message", ""), parsed["ResponseMetadata"].get("RequestId")


@lru_cache(maxsize=None)
def _our_model(service: str) -> wire.Model:
    return wire.load_model(service, protocol="smithy-rpc-v2-cbor" if service == "cloudwatch" else None)


def our_error(service: str, status: int, headers: dict[str, str], body: bytes) -> tuple[str, str, str | None]:
    with pytest.raises(wire.ServiceError) as caught:
        wire.parse_response(_our_model(service), OPERATIONS[service], status, headers, body)
    assert caught.value.status == status
    return caught.value.code, caught.value.message, caught.value.request_id


@st.composite
def json_errors(draw: st.DrawFn, rest: bool, encode: Any = lambda body: json.dumps(body).encode()
                ) -> tuple[int, dict[str, str], bytes]:
    body: dict[str, Any] = {}
    if draw(st.booleans()):
        prefix = draw(st.sampled_from(["", "com.amazonaws.dynamodb.v20120810#", "com.amazon.coral.validate#"]))
        suffix = draw(st.sampled_from(["", ":http://internal.amazon.com/coral/com.amazon.coral.validate/"]))
        body["__type"] = prefix + draw(names) + suffix
    if rest and draw(st.booleans()):
        body[draw(st.sampled_from(["code", "Code"]))] = draw(names)
    if draw(st.booleans()):
        body[draw(st.sampled_from(["message", "Message"]))] = draw(texts)
    body.update(draw(st.dictionaries(st.sampled_from(["Reason", "Type", "extra"]), texts, max_size=2)))
    headers = {"x-amzn-requestid": draw(ids)} if draw(st.booleans()) else {}
    # awsJson reads the header where `__type` is absent, botocore does not (kept apart).
    if (rest or "__type" in body) and draw(st.booleans()):
        headers["x-amzn-errortype"] = draw(names) + draw(st.sampled_from(["", ":http://internal.amazon.com/"]))
    status = draw(statuses)
    # An empty body answers a HEAD request (botocore says the reason phrase of an empty 5xx: kept apart).
    empty = not body and draw(st.booleans()) and status < 500
    return status, headers, b"" if empty else encode(body)


@st.composite
def xml_errors(draw: st.DrawFn, style: str) -> tuple[int, dict[str, str], bytes]:
    fields = f"<Code>{draw(names)}</Code>"
    if draw(st.booleans()):
        fields = "<Type>Sender</Type>" + fields
    if draw(st.booleans()):
        fields += f"<Message>{draw(texts)}</Message>"
    fields += "".join(f"<{name}>{text}</{name}>" for name, text in
                      draw(st.dictionaries(st.sampled_from(["Detail", "Resource", "BucketName"]), texts,
                                           max_size=2)).items())
    request_id, headers = draw(ids), {}
    if style == "s3":  # S3 says the id in a header, again in the body; botocore reads the header
        headers = {"x-amz-request-id": request_id}
        return draw(statuses), headers, f"<Error>{fields}<RequestId>{request_id}</RequestId></Error>".encode()
    ns = draw(namespaces)
    if style == "ec2":
        tag = draw(st.sampled_from(["RequestID", "RequestId"]))
        body = f"<Response{ns}><Errors><Error>{fields}</Error></Errors><{tag}>{request_id}</{tag}></Response>"
    else:
        body = f"<ErrorResponse{ns}><Error>{fields}</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    return draw(statuses), headers, body.encode()


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["json", "rest-json"]).flatmap(lambda p: st.tuples(st.just(p), json_errors(p == "rest-json")))
       # an empty body: botocore's CBOR parser fails on it (see below)
       | st.tuples(st.just("smithy-rpc-v2-cbor"), json_errors(False, wire.cbor.encode).filter(lambda c: c[2] != b"")))
def test_json_and_cbor_errors_read_as_botocore_reads_them(case: tuple[str, tuple[int, dict[str, str], bytes]]) -> None:
    protocol, (status, headers, body) = case
    service = SERVICES[protocol]
    assert our_error(service, status, headers, body) == botocore_error(service, status, headers, body)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["query", "ec2", "rest-xml", "s3"]).flatmap(lambda s: st.tuples(st.just(s), xml_errors(s))))
def test_xml_errors_read_as_botocore_reads_them(case: tuple[str, tuple[int, dict[str, str], bytes]]) -> None:
    style, (status, headers, body) = case
    service = SERVICES[style]
    assert our_error(service, status, headers, body) == botocore_error(service, status, headers, body)


@pytest.mark.parametrize("protocol", sorted(SERVICES))
@pytest.mark.parametrize("status", [403, 404, 500])
def test_a_head_requests_empty_error_answer_is_its_status(protocol: str, status: int) -> None:
    service = SERVICES[protocol]
    headers = {"x-amzn-requestid": "r-1", "x-amz-request-id": "r-1"}
    code, _, request_id = our_error(service, status, headers, b"")
    assert code == str(status) and request_id == "r-1"
    # botocore's Query and CBOR parsers fail on an empty 4xx body (its CBOR one calls `b"".get`)
    if protocol not in ("query", "ec2", "smithy-rpc-v2-cbor") or status >= 500:
        assert code == botocore_error(service, status, headers, b"")[0]


@pytest.mark.parametrize("protocol", sorted(SERVICES))
def test_a_load_balancers_html_502_keeps_its_status(protocol: str) -> None:
    page = b"<html><head><title>502 Bad Gateway</title></head><body><center>502 Bad Gateway</center></body></html>"
    code, message, _ = our_error(SERVICES[protocol], 502, {"content-type": "text/html"}, page)
    assert code == "502" == botocore_error(SERVICES[protocol], 502, {"content-type": "text/html"}, page)[0]
    assert page.decode() not in message
