"""`sigv4 call --protocol NAME`: a model that lists several protocols is called over the one asked for."""

from __future__ import annotations

import cbor2
import pytest

from cli_run import run_cli

ENV = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1", "HOME": "/nonexistent"}


def split(message: bytes) -> tuple[list[str], bytes]:
    head, _, body = message.partition(b"\r\n\r\n")
    return head.decode("latin-1").split("\r\n"), body


@pytest.mark.parametrize("args", [
    ["call", "cloudwatch", "ListMetrics", "Namespace=AWS/EC2", "--protocol", "smithy-rpc-v2-cbor", "--dry-run"],
    ["call", "--protocol", "smithy-rpc-v2-cbor", "cloudwatch", "--dry-run", "ListMetrics", "Namespace=AWS/EC2"],
])
def test_cloudwatch_over_rpc_v2_cbor(args: list[str]) -> None:
    code, out, err = run_cli(args, ENV)
    assert code == 0 and err == "", err
    head, body = split(out)
    assert head[0] == "POST /service/GraniteServiceVersion20100801/operation/ListMetrics HTTP/1.1"
    headers = {line.partition(":")[0].lower(): line.partition(":")[2].strip() for line in head[1:]}
    assert headers["smithy-protocol"] == "rpc-v2-cbor"
    assert headers["content-type"] == "application/cbor"
    assert "x-amz-target" not in headers
    assert cbor2.loads(body) == {"Namespace": "AWS/EC2"}  # cbor2 is the oracle for the body


def test_without_the_flag_botocores_choice_json() -> None:
    code, out, err = run_cli(["call", "cloudwatch", "ListMetrics", "Namespace=AWS/EC2", "--dry-run"], ENV)
    head, body = split(out)
    assert code == 0 and head[0] == "POST / HTTP/1.1", err
    assert "Content-Type: application/x-amz-json-1.0" in head and b'"Namespace":"AWS/EC2"' in body


@pytest.mark.parametrize("service,protocol,offered", [
    ("cloudwatch", "bogus", "['smithy-rpc-v2-cbor', 'json', 'query']"),  # unknown
    ("kms", "smithy-rpc-v2-cbor", "['json']"),  # known, but not listed by the model
])
def test_an_unknown_or_unlisted_protocol_is_one_line(service: str, protocol: str, offered: str) -> None:
    code, out, err = run_cli(["call", service, "ListKeys" if service == "kms" else "ListMetrics",
                              "--protocol", protocol, "--dry-run"], ENV)
    assert code == 2 and out == b""
    assert err == f"sigv4: error: protocol {protocol!r} is not one the model offers ({offered}) and we support\n"


def test_query_still_gives_the_account_apis_query_form() -> None:
    code, out, err = run_cli(["call", "account", "ListRegions", "--protocol", "query", "--dry-run"], ENV)
    head, body = split(out)
    assert code == 0, err
    assert "Content-Type: application/x-www-form-urlencoded; charset=utf-8" in head
    assert body.startswith(b"Action=ListRegions&Version=2021-02-01")


@pytest.mark.parametrize("service,operation", [("sqs", "ListQueues"), ("kms", "ListKeys"), ("dynamodb", "ListTables")])
def test_query_asked_of_another_model_that_does_not_list_it_is_an_error(service: str, operation: str) -> None:
    # It was sent, and SQS's Query answer read with the JSON model's shapes: `{}`, every queue lost, exit 0.
    code, out, err = run_cli(["call", service, operation, "--protocol", "query", "--dry-run"], ENV)
    assert (code, out) == (2, b"")
    assert err == "sigv4: error: protocol 'query' is not one the model offers (['json']) and we support\n"


@pytest.mark.parametrize("service,operation,named", [("sqs", "ListQueues", "SQS's protocol is json"),
                                                    ("s3", "ListBuckets", "S3's protocol is rest-xml"),
                                                    ("lambda", "ListFunctions", "Lambda's protocol is rest-json")])
def test_sigv2_asked_of_a_protocol_it_cannot_sign_is_an_error(service: str, operation: str, named: str) -> None:
    # It signed a JSON or REST request with a Query form's SigV2 parameters in the URL, which no such service reads.
    code, out, err = run_cli(["call", service, operation, "--sigv2", "--dry-run"], ENV)
    assert (code, out, err) == (2, b"", f"sigv4: error: --sigv2: signs Query and EC2 Query calls; {named}\n")
    code, out, err = run_cli(["call", "sts", "GetCallerIdentity", "--sigv2", "--dry-run"], ENV)
    assert code == 0 and b"SignatureVersion=2" in out, err
