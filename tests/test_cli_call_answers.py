"""What `sigv4 call` and `sigv4 send` make of what a server answers, as a user sees it: one readable line
and the documented exit status, whatever the server sends (local servers on loopback only)."""

from __future__ import annotations

import contextlib
import io
import socket
import threading
from collections.abc import Iterator

import h11
import pytest

import wire
from cli_run import run_cli
from local_http import http_server

ENV = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1", "HOME": "/nonexistent",
       "AWS_EC2_METADATA_DISABLED": "true"}

# moto's answer to a Query call (STS, IAM) whose signature does not verify: `Errors` around the `Error`.
MOTO_REFUSAL = (b'<?xml version="1.0" encoding="utf-8"?>\n<ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch'
                b"</Code><Message>The request signature we calculated does not match the signature you provided."
                b"</Message><Type>Sender</Type></Error></Errors></ErrorResponse>")


def _answering(status: int, body: bytes):  # type: ignore[no-untyped-def]
    def respond(request: h11.Request, _: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        return status, [("Content-Type", "text/html; charset=utf-8")], body
    return respond


@pytest.mark.parametrize("service,operation", [("sts", "GetCallerIdentity"), ("iam", "ListUsers")])
def test_a_query_error_inside_errors_is_read(service: str, operation: str) -> None:
    with http_server(_answering(403, MOTO_REFUSAL)) as (url, _):
        code, out, err = run_cli(["call", service, operation, "--endpoint-url", url], ENV)
    assert (code, out) == (1, b"")
    assert err == ("SignatureDoesNotMatch: The request signature we calculated does not match the signature you "
                   "provided.\n")
    with pytest.raises(wire.ServiceError) as caught:
        wire.parse_response(wire.load_model(service), operation, 403, [], MOTO_REFUSAL)
    assert (caught.value.code, caught.value.status) == ("SignatureDoesNotMatch", 403)


@contextlib.contextmanager
def _raw_server(answer: bytes) -> Iterator[str]:
    """A server that reads a request and writes `answer` (any bytes, or none), then closes."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            with sock:
                sock.settimeout(5)
                sock.recv(65536)
                sock.sendall(answer)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        with contextlib.suppress(OSError):  # else the blocked accept keeps it listening (see local_http)
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()


@pytest.mark.parametrize("answer", [b"", b"HTTP/1.1 200 OK\r\nContent-"])
@pytest.mark.parametrize("command", [["call", "sqs", "ListQueues", "--endpoint-url"], ["send", "-", "--endpoint"]])
def test_a_server_that_closes_without_a_response_is_a_network_error(answer: bytes, command: list[str],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"GET / HTTP/1.1\nHost: example.com\n\n")))
    with _raw_server(answer) as url:
        code, out, err = run_cli([*command, url], ENV)
    assert (code, out, err) == (3, b"", "sigv4: network error: the server closed the connection without a response\n")


S3_ERROR_IN_200 = (b'<?xml version="1.0" encoding="UTF-8"?>\n\n<Error><Code>InternalError</Code><Message>We encountered '
                   b"an internal error. Please try again.</Message><RequestId>656c76696e67</RequestId></Error>")


@pytest.mark.parametrize(("args", "body"), [
    (["CopyObject", "Bucket=b", "Key=k", "CopySource=src/k"], S3_ERROR_IN_200),
    (["CompleteMultipartUpload", "Bucket=b", "Key=k", "UploadId=u"], S3_ERROR_IN_200),
    (["UploadPartCopy", "Bucket=b", "Key=k", "CopySource=src/k", "PartNumber=1", "UploadId=u"],
     S3_ERROR_IN_200[:-20]),  # cut off mid-way: botocore reads it as an error too
])
def test_an_s3_error_inside_200_ok_is_an_error(args: list[str], body: bytes) -> None:
    """S3 sends `200 OK` before a copy or CompleteMultipartUpload is done and an `<Error>` if it then fails."""
    with http_server(lambda request, _: (200, [("Content-Type", "application/xml")], body)) as (url, _):
        code, out, err = run_cli(["call", "s3", *args, "--endpoint-url", url], ENV)
    assert (code, out) == (1, b"")
    assert err.startswith("InternalError: We encountered an internal error." if b"</Error>" in body else "500: ")


def test_an_error_document_as_a_200_payload_is_the_payload(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """GetObject's body is the object, whatever it holds: an object that is an `<Error>` document downloads."""
    with http_server(lambda request, _: (200, [("Content-Type", "application/xml")], S3_ERROR_IN_200)) as (url, _):
        code, _, err = run_cli(["call", "s3", "GetObject", "Bucket=b", "Key=k", "--endpoint-url", url,
                                "-o", str(tmp_path / "got")], ENV)
    assert code == 0, err
    assert (tmp_path / "got").read_bytes() == S3_ERROR_IN_200


def test_another_operations_answer_to_a_query_call_is_not_an_empty_result() -> None:
    """moto answers a call it cannot route (a SigV2 one) with S3's bucket list: not `{}` and exit 0."""
    body = (b'<?xml version="1.0" encoding="utf-8"?>\n<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/'
            b'2006-03-01/"><Buckets><Bucket><Name>b</Name></Bucket></Buckets></ListAllMyBucketsResult>')
    with http_server(lambda request, _: (200, [("Content-Type", "application/xml")], body)) as (url, _):
        code, out, err = run_cli(["call", "sts", "GetCallerIdentity", "--endpoint-url", url], ENV)
    assert (code, out) == (3, b"")
    assert "expected <GetCallerIdentityResponse>, got <ListAllMyBucketsResult>" in err


def test_a_query_answer_without_its_result_element_is_empty() -> None:
    body = (b'<DeleteUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata><RequestId>r'
            b'</RequestId></ResponseMetadata></DeleteUserResponse>')
    with http_server(lambda request, _: (200, [("Content-Type", "text/xml")], body)) as (url, _):
        code, out, err = run_cli(["call", "iam", "DeleteUser", "UserName=u", "--endpoint-url", url], ENV)
    assert (code, out, err) == (0, b"{}\n", "")


def test_route53_invalid_change_batch_says_why() -> None:
    """Route 53 answers a refused change batch with the error as the root and its reasons in `<Messages>`
    (aws-sdk-go's route53 unmarshal_error.go reads it so); botocore reads neither code nor message."""
    body = (b'<?xml version="1.0"?>\n<InvalidChangeBatch xmlns="https://route53.amazonaws.com/doc/2013-04-01/">'
            b"<Messages><Message>Tried to create resource record set [name='a.example.com.', type='A'] but it "
            b"already exists</Message><Message>second</Message></Messages><RequestId>b25f48e8</RequestId>"
            b"</InvalidChangeBatch>")
    change = '{"Changes":[{"Action":"CREATE","ResourceRecordSet":{"Name":"a.example.com","Type":"A"}}]}'
    with http_server(lambda request, _: (400, [("Content-Type", "text/xml")], body)) as (url, _):
        code, out, err = run_cli(["call", "route53", "ChangeResourceRecordSets", "HostedZoneId=Z1",
                                  f"ChangeBatch={change}", "--endpoint-url", url], ENV)
    assert (code, out) == (1, b"")
    assert err == ("InvalidChangeBatch: Tried to create resource record set [name='a.example.com.', type='A'] but it "
                   "already exists; second\n")


@pytest.mark.parametrize("args", [
    ["s3", "SelectObjectContent", "Bucket=b", "Key=d.csv", "Expression=select * from s3object", "ExpressionType=SQL",
     "InputSerialization={CSV={FileHeaderInfo=USE}}", "OutputSerialization={JSON={}}"],
    ["lambda", "InvokeWithResponseStream", "FunctionName=f"],
])
def test_an_operation_answering_an_event_stream_is_refused_before_it_runs(args: list[str]) -> None:
    """Its answer cannot be decoded, so the call is not made (and billed) only to fail afterwards."""
    with http_server() as (url, recorder):
        code, out, err = run_cli(["call", *args, "--endpoint-url", url], ENV)
        assert (code, out, recorder.requests) == (2, b"", [])
        assert err == (f"sigv4: error: {args[1]} answers with an event stream, which call does not decode: --dry-run "
                       "writes the signed request, `sigv4 send FILE -o OUT` saves the stream\n")
        code, out, err = run_cli(["call", *args, "--endpoint-url", url, "--dry-run"], ENV)
        assert code == 0 and out.startswith(b"POST /"), err
