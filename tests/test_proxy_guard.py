"""`sigv4 proxy --verify`: the signature guard in front of moto's server (its own checks off, as by default).

Clients as users run them: boto3 (its clock moved with `botocore.auth.get_current_datetime` for skew and
expiry), the aws CLI (`s3 cp` over TLS, so that it sends aws-chunked with a trailing checksum), aws-chunked
uploads signed chunk by chunk by `sigv4.sign`, and `sigv4 proxy --verify` itself in a subprocess. What a
refused client sees is compared with AWS's envelopes in tests/fixtures/errors and read back by botocore's
parsers (`e.response['Error']`); what the upstream committed is asked of moto directly.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

import sigv4
from local_http import counting_relay, self_signed, silent_upstream, wait_for
from proxy_process import line_with, proxy_process
from sigv4.types import iter_body
from wire.auth_refusal import MAX_SKEW, envelope_for
from wire.debugger.complaint import read_error
from wire.service.app import load_accounts
from wire.transport.framing import UNREAD
from wire.transport.guard import SignatureGuard
from wire.transport.server import LocalServer, ServeLimits, serve_connection

boto3 = pytest.importorskip("boto3", reason="boto3 is in the test extra")
moto_server = pytest.importorskip("moto.server", reason="moto is in the test extra")
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ERRORS = ROOT / "tests" / "fixtures" / "errors"
KEY, SECRET = "AKIDGUARDEXAMPLE0001", "guard/secret+key/EXAMPLE0123456789abcdef"
TEMP_KEY, TEMP_SECRET, TOKEN = "ASIAGUARDEXAMPLE0002", "temporary/secret/EXAMPLE0123456789abcd", "FwoGZXIvYXdzEXAMPLEtoken"
OLD_KEY, OLD_TOKEN = "ASIAGUARDEXAMPLE0003", "FwoGZXIvYXdzEXPIREDtoken"
ACCOUNTS = {"accounts": [
    {"access_key_id": KEY, "secret_access_key": SECRET, "account_id": "123456789012"},
    {"access_key_id": TEMP_KEY, "secret_access_key": TEMP_SECRET, "session_token": TOKEN, "account_id": "123456789012",
     "arn": "arn:aws:sts::123456789012:assumed-role/dev/guard"},
    {"access_key_id": OLD_KEY, "secret_access_key": TEMP_SECRET, "session_token": OLD_TOKEN,
     "account_id": "123456789012", "arn": "arn:aws:sts::123456789012:assumed-role/dev/old",
     "expiration": "2020-01-01T00:00:00Z"},
]}
MISMATCH = "The request signature we calculated does not match the signature you provided."


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def moto() -> Iterator[str]:
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{server._port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def accounts_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("guard") / "accounts.json"
    path.write_text(json.dumps(ACCOUNTS))
    return path


@pytest.fixture(scope="module")
def guarded(moto: str, accounts_file: Path) -> Iterator[tuple[str, list[str], SignatureGuard]]:
    log: list[str] = []
    app = SignatureGuard(moto, load_accounts(str(accounts_file)), log.append)
    server = LocalServer(app, "127.0.0.1", 0, ServeLimits()).start()
    try:
        yield server.url, log, app
    finally:
        server.stop()


def client(service: str, url: str, *, key: str = KEY, secret: str = SECRET, token: str | None = None) -> Any:
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret, aws_session_token=token,
                        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"},
                                      signature_version="s3v4" if service == "s3" else None))


def refused(call: Callable[[], Any]) -> dict[str, Any]:
    """The botocore error response of a call that must fail."""
    with pytest.raises(ClientError) as caught:
        call()
    response: dict[str, Any] = caught.value.response
    return response


CALLS: dict[str, Callable[[Any], Any]] = {
    "s3": lambda c: c.list_buckets(),
    "dynamodb": lambda c: c.list_tables(),
    "sts": lambda c: c.get_caller_identity(),
    "iam": lambda c: c.list_users(),
    "sqs": lambda c: c.list_queues(),
    "ec2": lambda c: c.describe_vpcs(),
    "lambda": lambda c: c.list_functions(),
}


@pytest.mark.parametrize(("service", "status", "code", "message"), [
    ("s3", 403, "SignatureDoesNotMatch", MISMATCH + " Check your key and signing method."),
    ("dynamodb", 400, "InvalidSignatureException", MISMATCH),  # awsJson
    ("sts", 403, "SignatureDoesNotMatch", MISMATCH),  # Query
    ("iam", 403, "SignatureDoesNotMatch", MISMATCH),
    ("sqs", 400, "InvalidSignatureException", MISMATCH),  # boto3 speaks SQS's JSON protocol
    ("ec2", 403, "SignatureDoesNotMatch", MISMATCH + " Check your AWS Secret Access Key and signing method. "
     "Consult the service documentation for details."),  # tests/fixtures/errors/ec2-signature-does-not-match.xml
    ("lambda", 403, "InvalidSignatureException", MISMATCH),  # restJson: x-amzn-ErrorType
])
def test_a_wrong_secret_gets_aws_error_and_the_log_names_the_cause(
        guarded: tuple[str, list[str], SignatureGuard], service: str, status: int, code: str, message: str) -> None:
    url, log, _ = guarded
    error = refused(lambda: CALLS[service](client(service, url, secret="not-the-secret")))
    assert error["ResponseMetadata"]["HTTPStatusCode"] == status
    assert error["Error"]["Code"] == code
    assert error["Error"]["Message"].startswith(message)
    line = log[-1]
    assert f" {status} " in line and f"refused {code}: secret (" in line  # the debugger's first cause
    assert SECRET not in line and "not-the-secret" not in line


def test_a_wrong_secret_on_a_streamed_upload_is_not_blamed_on_the_body(
        guarded: tuple[str, list[str], SignatureGuard]) -> None:
    """boto3's PutObject with a wrong secret: the guard streams the body (x-amz-content-sha256 and a
    Content-Length), so its diagnosis does not see it; the log said "payload-hash (proved): ... the body the
    capture holds hashes to e3b0c442..." (the empty body's hash), first."""
    url, log, _ = guarded
    s3 = client("s3", url, secret="not-the-secret")
    refused(lambda: s3.put_object(Bucket="guarded-upload", Key="k.txt", Body=b"hello"))
    assert "refused SignatureDoesNotMatch: secret (" in log[-1] and "payload-hash" not in log[-1], log[-1]


def test_an_upload_its_client_abandons_is_logged_and_its_upstream_connection_closed(accounts_file: Path) -> None:
    """A verified S3 upload whose client closes half-way: the guard neither logged it nor closed its connection
    to the upstream, which was left holding half a request."""
    with silent_upstream() as (upstream, ended, log):
        server = LocalServer(SignatureGuard(upstream, load_accounts(str(accounts_file)), log.append), "127.0.0.1", 0,
                             ServeLimits()).start()
        try:
            signed = sigv4.sign(sigv4.Request("PUT", server.url + "/bucket/cut", [("Content-Length", "100000")]),
                                sigv4.Credentials(KEY, SECRET), region="us-east-1", service="s3", s3=True,
                                payload=sigv4.UNSIGNED_PAYLOAD, timestamp=datetime.now(timezone.utc)).request
            head = "".join(f"{n}: {v}\r\n" for n, v in signed.headers)
            parts = urlsplit(server.url)
            with socket.create_connection((parts.hostname, parts.port)) as client:
                client.sendall(f"PUT /bucket/cut HTTP/1.1\r\n{head}\r\n".encode() + b"z" * 1000)
            assert ended.wait(30), "the upstream connection was left open"
            line = wait_for(log)[0]
        finally:
            server.stop()
    assert line.startswith("PUT /bucket/cut 400 ") and "peer closed connection" in line, log


def _tags(xml_text: str) -> list[str]:
    return re.findall(r"<([A-Za-z-]+)[ >]", xml_text)


def test_s3_mismatch_is_s3s_envelope_with_the_strings_it_computed(guarded: tuple[str, list[str], SignatureGuard]) -> None:
    url, _, _ = guarded
    wrong = client("s3", url, secret="not-the-secret")
    seen: dict[str, bytes] = {}
    wrong.meta.events.register("after-call.s3", lambda http_response, **_: seen.update(body=http_response.content))
    refused(lambda: wrong.list_buckets())
    body = seen["body"].decode()
    assert _tags(body) == _tags((ERRORS / "s3-signature-does-not-match.xml").read_text())  # element for element
    complaint = read_error(403, (), seen["body"])
    assert complaint.kind == "signature-mismatch" and complaint.access_key_id == KEY
    sts = complaint.string_to_sign or ""
    assert sts.startswith("AWS4-HMAC-SHA256\n") and sts.split("\n")[2].endswith("/us-east-1/s3/aws4_request")
    assert complaint.canonical_request and complaint.canonical_request.startswith("GET\n/\n")
    assert re.search(r"<StringToSignBytes>41 57 53 34 2d", body)  # "AWS4-" as S3 dumps it


def test_a_json_mismatch_carries_the_canonical_string_as_aws_writes_it(
        guarded: tuple[str, list[str], SignatureGuard]) -> None:
    url, _, _ = guarded
    wrong = client("dynamodb", url, secret="not-the-secret")
    seen: dict[str, bytes] = {}
    wrong.meta.events.register("after-call.dynamodb", lambda http_response, **_: seen.update(body=http_response.content))
    refused(lambda: wrong.list_tables())
    data = json.loads(seen["body"])
    fixture = json.loads((ERRORS / "json-invalid-signature.json").read_text().replace("$", ""))
    assert data["__type"] == fixture["__type"] == "com.amazon.coral.service#InvalidSignatureException"
    assert data["message"].split("\n")[0] == fixture["message"].split("\n")[0]
    assert "x-amz-target:DynamoDB_20120810.ListTables" in data["message"]


def test_a_query_mismatch_is_the_query_envelope(guarded: tuple[str, list[str], SignatureGuard]) -> None:
    """SQS by its Query protocol (a form POST, as older SDKs send it), signed by sigv4 with a wrong secret."""
    url, _, _ = guarded
    form = sigv4.Request("POST", url + "/", [("Content-Type", "application/x-www-form-urlencoded")],
                         b"Action=ListQueues&Version=2012-11-05")
    signed = sigv4.sign(form, sigv4.Credentials(KEY, "not-the-secret"), region="us-east-1", service="sqs",
                        timestamp=datetime.now(timezone.utc)).request
    status, body = _send(signed)
    assert status == 403
    assert _tags(body.decode()) == ["ErrorResponse", "Error", "Type", "Code", "Message", "RequestId"]
    assert _tags((ERRORS / "query-signature-does-not-match.xml").read_text()) == _tags(body.decode())
    complaint = read_error(status, (), body)
    assert complaint.code == "SignatureDoesNotMatch" and complaint.envelope == "query-xml"
    assert complaint.canonical_request is not None and "Action=ListQueues" not in complaint.canonical_request


def _send(request: sigv4.Request, body: bytes | None = None) -> tuple[int, bytes]:
    parts = urlsplit(request.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    payload = body if body is not None else b"".join(iter_body(request.body))
    connection.request(request.method, request.target, payload, dict(request.headers))
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data


def test_a_correct_client_passes_every_call(guarded: tuple[str, list[str], SignatureGuard], moto: str) -> None:
    url, log, _ = guarded
    before = len(log)
    s3 = client("s3", url)
    s3.create_bucket(Bucket="guarded-bucket")
    s3.put_object(Bucket="guarded-bucket", Key="a/b c+d.txt", Body=b"hello guard")
    assert s3.get_object(Bucket="guarded-bucket", Key="a/b c+d.txt")["Body"].read() == b"hello guard"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="guarded-bucket")["Contents"]] == ["a/b c+d.txt"]
    dynamodb = client("dynamodb", url)
    dynamodb.create_table(TableName="guarded", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                          BillingMode="PAY_PER_REQUEST")
    dynamodb.put_item(TableName="guarded", Item={"id": {"S": "1"}, "v": {"S": "ü"}})
    assert dynamodb.get_item(TableName="guarded", Key={"id": {"S": "1"}})["Item"]["v"] == {"S": "ü"}
    sqs = client("sqs", url)
    queue = sqs.create_queue(QueueName="guarded")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody="m")
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=queue)["Messages"]] == ["m"]
    assert client("sts", url).get_caller_identity()["Account"] == "123456789012"
    client("iam", url).create_user(UserName="guarded")
    client("ec2", url).describe_vpcs()
    assert client("sts", url, key=TEMP_KEY, secret=TEMP_SECRET, token=TOKEN).get_caller_identity()["Account"]
    presigned = s3.generate_presigned_url("get_object", Params={"Bucket": "guarded-bucket", "Key": "a/b c+d.txt"})
    with urllib.request.urlopen(presigned, timeout=30) as response:
        assert response.read() == b"hello guard"
    # The calls reached moto: it holds what they made.
    assert client("s3", moto).get_object(Bucket="guarded-bucket", Key="a/b c+d.txt")["Body"].read() == b"hello guard"
    assert "guarded" in client("dynamodb", moto).list_tables()["TableNames"]
    assert not any("refused" in line for line in log[before:])


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[timedelta], None]:
    """Move botocore's signing clock by an offset (its own signers' and, awscrt installed, the CRT ones')."""
    import botocore.auth
    import botocore.crt.auth

    def move(offset: timedelta) -> None:
        def now(remove_tzinfo: bool = True) -> datetime:
            moved = datetime.now(timezone.utc) + offset
            return moved.replace(tzinfo=None) if remove_tzinfo else moved
        for module in (botocore.auth, botocore.crt.auth):
            monkeypatch.setattr(module, "get_current_datetime", now)
    return move


SKEWED = timedelta(minutes=-20)


@pytest.mark.parametrize(("service", "status", "code", "pattern"), [
    ("s3", 403, "RequestTimeTooSkewed", r"The difference between the request time and the current time is too large\.\Z"),
    ("dynamodb", 400, "InvalidSignatureException",
     r"Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)\Z"),
    ("sts", 403, "SignatureDoesNotMatch",
     r"Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)\Z"),
])
def test_a_skewed_request_gets_aws_answer(guarded: tuple[str, list[str], SignatureGuard],
                                          clock: Callable[[timedelta], None], service: str, status: int, code: str,
                                          pattern: str) -> None:
    url, log, _ = guarded
    clock(SKEWED)
    error = refused(lambda: CALLS[service](client(service, url)))
    assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == (status, code)
    assert re.match(pattern, error["Error"]["Message"])
    if service == "s3":
        assert error["Error"]["MaxAllowedSkewMilliseconds"] == "900000"
        assert set(error["Error"]) >= {"RequestTime", "ServerTime"}
    assert "clock-skew (proved)" in log[-1]


def test_a_request_from_the_future_is_not_yet_current(guarded: tuple[str, list[str], SignatureGuard],
                                                      clock: Callable[[timedelta], None]) -> None:
    url, _, _ = guarded
    clock(timedelta(minutes=20))
    error = refused(lambda: client("dynamodb", url).list_tables())
    assert re.match(r"Signature not yet current: \d{8}T\d{6}Z is still later than \d{8}T\d{6}Z "
                    r"\(\d{8}T\d{6}Z \+ 15 min\.\)\Z", error["Error"]["Message"])


def test_an_expired_presigned_url_is_access_denied(guarded: tuple[str, list[str], SignatureGuard],
                                                   clock: Callable[[timedelta], None]) -> None:
    url, log, _ = guarded
    s3 = client("s3", url)
    clock(timedelta(hours=-2))
    stale = s3.generate_presigned_url("list_buckets", ExpiresIn=60)
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(stale, timeout=30)
    body = caught.value.read().decode()
    assert caught.value.code == 403
    assert _tags(body) == _tags((ERRORS / "s3-request-expired.xml").read_text())
    assert "<Code>AccessDenied</Code><Message>Request has expired</Message><X-Amz-Expires>60</X-Amz-Expires>" in body
    assert read_error(403, (), body.encode()).kind == "request-expired"
    assert "refused AccessDenied: expired (proved)" in log[-1]


@pytest.mark.parametrize(("service", "status", "code"), [
    ("s3", 403, "InvalidAccessKeyId"), ("sts", 403, "InvalidClientTokenId"),
    ("dynamodb", 400, "UnrecognizedClientException"),
])
def test_an_unknown_key_is_refused(guarded: tuple[str, list[str], SignatureGuard], service: str, status: int,
                                   code: str) -> None:
    url, _, _ = guarded
    error = refused(lambda: CALLS[service](client(service, url, key="AKIDNOBODYKNOWS00000")))
    assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == (status, code)
    if service == "s3":
        assert error["Error"]["AWSAccessKeyId"] == "AKIDNOBODYKNOWS00000"


def test_an_unknown_key_sent_with_a_token_is_logged_as_the_unknown_key(
        guarded: tuple[str, list[str], SignatureGuard]) -> None:
    """The log said "token (likely): the session token is invalid for this key"; the guard knows the key is none
    of its identities."""
    url, log, _ = guarded
    error = refused(lambda: client("sts", url, key="ASIANOBODYKNOWS00000", token="FwoGZXIvYXdzTOKEN0123456789")
                    .get_caller_identity())
    assert error["Error"]["Code"] == "InvalidClientTokenId"
    assert "refused InvalidClientTokenId: access-key (proved): the access key id ASIANOBO… is not an identity of " \
           "--accounts" in log[-1]


def test_session_tokens_are_checked(guarded: tuple[str, list[str], SignatureGuard]) -> None:
    url, log, _ = guarded
    wrong = refused(lambda: client("sts", url, key=TEMP_KEY, secret=TEMP_SECRET, token="WRONGtoken0123").get_caller_identity())
    assert wrong["Error"]["Code"] == "InvalidClientTokenId"
    assert "WRONGtoken0123" not in log[-1]
    old = refused(lambda: client("sts", url, key=OLD_KEY, secret=TEMP_SECRET, token=OLD_TOKEN).get_caller_identity())
    assert old["Error"]["Code"] == "ExpiredToken"
    assert client("sts", url, key=TEMP_KEY, secret=TEMP_SECRET, token=TOKEN).get_caller_identity()["Account"]


# -- streamed uploads ------------------------------------------------------------------------------------------

CHUNK = 64 * 1024
DATA = os.urandom(3 * CHUNK + 1000)


def _chunked_upload(url: str, key: str, payload: str, trailer: str | None = "crc32") -> tuple[sigv4.Request, bytes]:
    """A PUT of DATA to guarded-chunks/`key`, aws-chunked and signed by sigv4; the request and its encoded body."""
    request = sigv4.Request("PUT", f"{url}/guarded-chunks/{key}", [("Content-Type", "application/octet-stream")], DATA)
    signed = sigv4.sign(request, sigv4.Credentials(KEY, SECRET), region="us-east-1", service="s3", s3=True,
                        timestamp=datetime.now(timezone.utc), payload=payload, chunk_size=CHUNK,
                        trailer_checksum=trailer).request
    return signed, b"".join(iter_body(signed.body))


def _flip_signature(body: bytes, index: int) -> bytes:
    """`body` with the `index`-th chunk (or trailer) signature's first hex digit changed."""
    at = [m.end() for m in re.finditer(rb"(chunk|trailer)-signature[=:]", body)][index]
    return body[:at] + (b"0" if body[at:at + 1] != b"0" else b"1") + body[at + 1:]


def _committed(moto: str, key: str) -> bytes | None:
    try:
        return bytes(client("s3", moto).get_object(Bucket="guarded-chunks", Key=key)["Body"].read())
    except ClientError as err:
        assert err.response["Error"]["Code"] == "NoSuchKey"
        return None


@pytest.fixture(scope="module")
def chunks_bucket(moto: str) -> None:
    client("s3", moto).create_bucket(Bucket="guarded-chunks")


@pytest.mark.parametrize("bad", [None, 0, 2, 3, 4, 5], ids=["verified", "first-chunk", "third-chunk", "last-data-chunk",
                                                            "final-chunk", "trailer"])
def test_a_bad_chunk_signature_is_refused_and_never_committed(guarded: tuple[str, list[str], SignatureGuard], moto: str,
                                                             chunks_bucket: None, bad: int | None) -> None:
    """Four data chunks, the final (empty) one and the trailer: each signature is checked before the upstream may
    see the whole body; a bad one closes the upstream connection mid-body."""
    url, log, _ = guarded
    key = f"signed-{bad}"
    request, body = _chunked_upload(url, key, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER")
    status, answer = _send(request, body if bad is None else _flip_signature(body, bad))
    if bad is None:
        assert status == 200 and _committed(moto, key) == DATA
        return
    assert status == 403
    complaint = read_error(status, (), answer)
    assert complaint.code == "SignatureDoesNotMatch" and complaint.access_key_id == KEY
    assert (complaint.string_to_sign or "").startswith("AWS4-HMAC-SHA256-" + ("TRAILER" if bad == 5 else "PAYLOAD"))
    assert f"refused SignatureDoesNotMatch: aws-chunked body, {'trailer' if bad == 5 else 'chunk'} {min(bad, 4)} " \
        in log[-1]
    assert _committed(moto, key) is None


def test_a_bad_trailing_checksum_is_refused_and_never_committed(guarded: tuple[str, list[str], SignatureGuard],
                                                               moto: str, chunks_bucket: None) -> None:
    url, _, _ = guarded
    request, body = _chunked_upload(url, "crc", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    tampered = re.sub(rb"x-amz-checksum-crc32:[A-Za-z0-9+/=]+", b"x-amz-checksum-crc32:AAAAAA==", body)
    status, answer = _send(request, tampered)
    assert (status, read_error(status, (), answer).code) == (400, "BadDigest")
    assert _committed(moto, "crc") is None


def test_a_body_that_is_not_its_signed_hash_is_refused_and_never_committed(
        guarded: tuple[str, list[str], SignatureGuard], moto: str, chunks_bucket: None) -> None:
    """A hashed S3 body streams through (over the body limit too); the last bytes wait for the hash."""
    url, _, _ = guarded
    request = sigv4.Request("PUT", f"{url}/guarded-chunks/hashed", [], DATA)
    signed = sigv4.sign(request, sigv4.Credentials(KEY, SECRET), region="us-east-1", service="s3", s3=True,
                        timestamp=datetime.now(timezone.utc), content_sha256_header=True).request
    status, answer = _send(signed, DATA[:-1] + bytes([DATA[-1] ^ 1]))
    complaint = read_error(status, (), answer)
    assert (status, complaint.code) == (400, "XAmzContentSHA256Mismatch")
    assert complaint.client_sha256 != complaint.server_sha256
    assert _committed(moto, "hashed") is None
    assert _send(signed, DATA)[0] == 200 and _committed(moto, "hashed") == DATA


def test_a_chunked_transfer_whose_body_is_not_its_signed_hash_is_never_committed(
        guarded: tuple[str, list[str], SignatureGuard], moto: str, chunks_bucket: None) -> None:
    """The same, sent `Transfer-Encoding: chunked` (a stream of unknown length, as the JavaScript SDK sends one):
    streamed through since it may be, the tampered body must still never reach the upstream whole."""
    url, _, _ = guarded
    request = sigv4.Request("PUT", f"{url}/guarded-chunks/te-hashed", [], DATA)
    signed = sigv4.sign(request, sigv4.Credentials(KEY, SECRET), region="us-east-1", service="s3", s3=True,
                        timestamp=datetime.now(timezone.utc), content_sha256_header=True).request
    headers = {name: value for name, value in signed.headers if name.lower() != "content-length"}
    parts = urlsplit(url)
    tampered = DATA[:-1] + bytes([DATA[-1] ^ 1])
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.request("PUT", signed.target, iter([tampered[:CHUNK], tampered[CHUNK:]]),
                       {**headers, "Transfer-Encoding": "chunked"}, encode_chunked=True)
    response = connection.getresponse()
    status, answer = response.status, response.read()
    connection.close()
    assert (status, read_error(status, (), answer).code) == (400, "XAmzContentSHA256Mismatch")
    assert _committed(moto, "te-hashed") is None


@pytest.mark.parametrize("payload", ["STREAMING-UNSIGNED-PAYLOAD-TRAILER", "sha256"])
def test_a_chunked_upload_over_the_body_limit_streams_through(moto: str, accounts_file: Path, chunks_bucket: None,
                                                              payload: str) -> None:
    """The JavaScript SDK v3's PutObject of a stream over http (@aws-sdk/client-s3 3.1177 as captured):
    `Transfer-Encoding: chunked`, `Expect: 100-continue`, no Content-Length, aws-chunked with a CRC32 trailer.
    The guard held any body without a Content-Length whole, so an upload over --max-body-bytes got 413 (and
    no log line); a chunked one with its SHA-256 signed had the same fate."""
    chunked, key = payload.startswith("STREAMING-"), "js-" + payload[:9]
    with proxy_process(["--verify", "--accounts", str(accounts_file), "--upstream", moto,
                        "--max-body-bytes", str(CHUNK)], {}) as guard:
        request = sigv4.Request("PUT", f"{guard.url}/guarded-chunks/{key}",
                                [("Content-Type", "application/octet-stream")], DATA)
        signed = sigv4.sign(request, sigv4.Credentials(KEY, SECRET), region="us-east-1", service="s3", s3=True,
                            timestamp=datetime.now(timezone.utc), payload=payload if chunked else None,
                            content_sha256_header=not chunked, chunk_size=CHUNK,
                            trailer_checksum="crc32" if chunked else None,
                            unsigned_headers=sigv4.DEFAULT_UNSIGNED_HEADERS | {"content-length"}).request
        headers = {name: value for name, value in signed.headers if name.lower() != "content-length"}
        parts = urlsplit(guard.url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        connection.request("PUT", signed.target, iter([b"".join(iter_body(signed.body))]),
                           {**headers, "Expect": "100-continue", "Transfer-Encoding": "chunked"}, encode_chunked=True)
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, b"")
        connection.close()
        assert f"PUT {signed.target} 200 " in line_with(guard, f"PUT {signed.target}")
    assert _committed(moto, key) == DATA


@pytest.mark.parametrize("signature_version", ["s3v4", "s3", "s3v4a"])
def test_an_upload_to_a_presigned_url_over_the_body_limit_streams_through(
        moto: str, accounts_file: Path, chunks_bucket: None, signature_version: str) -> None:
    """boto3's presigned PutObject URL (SigV4, SigV4a, and S3's SigV2 that boto3 makes for a custom endpoint), the
    body sent by requests: S3 signs no body of a presigned URL, but the guard held it whole, so an upload over
    --max-body-bytes got 413 (SigV4a's too, after the fix for SigV4: its scope has no region, so its service was
    looked for in the wrong place)."""
    key = f"presigned-{signature_version}"
    with proxy_process(["--verify", "--accounts", str(accounts_file), "--upstream", moto,
                        "--max-body-bytes", str(CHUNK)], {}) as guard:
        s3 = boto3.client("s3", endpoint_url=guard.url, region_name="us-east-1", aws_access_key_id=KEY,
                          aws_secret_access_key=SECRET, config=Config(signature_version=signature_version,
                                                                      s3={"addressing_style": "path"}))
        url = s3.generate_presigned_url("put_object", Params={"Bucket": "guarded-chunks", "Key": key}, ExpiresIn=60)
        # requests sends no Content-Type (SigV2 signs it: boto3 signed none); urllib's, a form, hangs moto's server.
        assert requests.put(url, data=DATA, timeout=30).status_code == 200
        assert requests.put(url.replace("Signature=", "Signature=A", 1), data=DATA[::-1], timeout=30).status_code == 403
    assert _committed(moto, key) == DATA


@pytest.fixture
def tls_guard(guarded: tuple[str, list[str], SignatureGuard], tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The same guard app behind TLS (the aws CLI sends aws-chunked only over https): each accepted connection
    wrapped and served by the edge's `serve_connection`."""
    _, _, app = guarded
    context, ca = self_signed(tmp_path, "127.0.0.1")
    listener = socket.create_server(("127.0.0.1", 0))
    stopping = threading.Event()

    def accept() -> None:
        while not stopping.is_set():
            try:
                sock, peer = listener.accept()
                wrapped = context.wrap_socket(sock, server_side=True)
            except (OSError, ssl.SSLError):
                continue
            threading.Thread(target=serve_connection, args=(wrapped, peer[0], app, ServeLimits(), stopping),
                             daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{listener.getsockname()[1]}", ca
    finally:
        stopping.set()
        listener.close()


def test_aws_cli_s3_cp_streams_aws_chunked_through_the_guard(tls_guard: tuple[str, Path], moto: str,
                                                              chunks_bucket: None, tmp_path: Path) -> None:
    url, ca = tls_guard
    source = tmp_path / "upload.bin"
    source.write_bytes(DATA * 4)
    env = {**os.environ, "AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_CA_BUNDLE": str(ca), "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    done = subprocess.run([sys.executable, "-m", "awscli", "s3", "cp", str(source), "s3://guarded-chunks/cli.bin",
                           "--endpoint-url", url, "--debug"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "STREAMING-UNSIGNED-PAYLOAD-TRAILER" in done.stderr  # aws-chunked, as the CLI sends it over TLS
    assert _committed(moto, "cli.bin") == DATA * 4


# -- the command and the pure pieces ----------------------------------------------------------------------------


def test_sigv4_proxy_verify_as_a_user_runs_it(moto: str, tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({KEY: SECRET}))  # the short form
    port = _free_port()
    process = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "proxy", "--verify", "--accounts", str(keys),
                                "--upstream", moto, "--port", str(port)], stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        assert process.stderr.readline().startswith(f"sigv4 proxy --verify: http://127.0.0.1:{port} -> {moto}")
        url = f"http://127.0.0.1:{port}"
        assert client("sts", url).get_caller_identity()["Account"] == "123456789012"
        error = refused(lambda: client("sts", url, secret="wrong").get_caller_identity())
        assert error["Error"]["Code"] == "SignatureDoesNotMatch"
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0
    assert re.search(r"POST / 403 \d+ ms: refused SignatureDoesNotMatch: secret", err)
    assert SECRET not in err


@pytest.mark.parametrize(("flags", "message"), [
    ([], "--verify needs --accounts FILE (the identities whose signatures pass)"),
    (["--accounts", "ACCOUNTS", "--resign-for", "AKIDONLY"],
     "--resign-for: expected KEY_ID:SECRET or KEY_ID:SECRET:SESSION_TOKEN"),
    (["--accounts", "ACCOUNTS", "--upstream", "ftp://x"], "--upstream 'ftp://x': expected http(s)://host[:port][/path]"),
])
def test_bad_guard_flags_are_one_line_usage_errors(accounts_file: Path, flags: list[str], message: str) -> None:
    flags = [str(accounts_file) if flag == "ACCOUNTS" else flag for flag in flags]
    upstream = [] if "--upstream" in flags else ["--upstream", "http://127.0.0.1:9"]
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), "proxy", "--verify", *upstream, *flags],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"sigv4: error: {message}"]


def test_the_envelope_follows_botocores_protocol_for_each_service() -> None:
    """Oracle: botocore's models. A request made by botocore's serializer for the service is answered in the
    envelope of the model's protocol."""
    import botocore.session
    session = botocore.session.get_session()
    expected = {"json": "json", "rest-json": "rest-json", "query": "query", "ec2": "ec2", "rest-xml": "query"}
    for name, operation in [("s3", "ListBuckets"), ("s3control", "ListJobs"), ("ec2", "DescribeVpcs"),
                            ("dynamodb", "ListTables"), ("sts", "GetCallerIdentity"), ("iam", "ListUsers"),
                            ("lambda", "ListFunctions"), ("route53", "ListHostedZones"), ("kms", "ListKeys"),
                            ("cloudfront", "ListDistributions"), ("sns", "ListTopics"), ("apigateway", "GetRestApis")]:
        model = session.get_service_model(name)
        signing = model.metadata.get("signingName", model.endpoint_prefix)
        client_ = session.create_client(name, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
        params = {"AccountId": "123456789012"} if name == "s3control" else {}
        request = client_._serializer.serialize_to_request(params, model.operation_model(operation))
        headers = [(k, v.decode() if isinstance(v, bytes) else v) for k, v in request["headers"].items()]
        query = "&".join(f"{k}={v}" for k, v in request["query_string"].items()) if request["query_string"] else ""
        built = sigv4.Request(request["method"], "https://h" + request["url_path"] + ("?" + query if query else ""),
                              headers, request["body"] if isinstance(request["body"], bytes) else b"")
        protocol = model.metadata["protocol"]
        wanted = "s3" if signing == "s3" else expected[protocol]
        assert envelope_for(built, signing) == wanted, (name, protocol)


def test_resign_for_an_upstream_that_checks_signatures(accounts_file: Path, tmp_path: Path) -> None:
    """moto with its checks on knows only its own key: verified requests re-signed with it (`--resign-for`) pass,
    an aws-chunked upload going on as its verified data; forwarded unchanged they are refused by moto."""
    port = _free_port()
    moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3"})
    try:
        upstream = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                threading.Event().wait(0.1)
        iam = client("iam", upstream)  # the three calls moto lets through unchecked
        iam.create_user(UserName="emulator")
        made = iam.create_access_key(UserName="emulator")["AccessKey"]
        iam.put_user_policy(UserName="emulator", PolicyName="all", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        directory = load_accounts(str(accounts_file))
        for resign_for in (None, sigv4.Credentials(made["AccessKeyId"], made["SecretAccessKey"])):
            app = SignatureGuard(upstream, directory, [].append, resign_for=resign_for)
            server = LocalServer(app, "127.0.0.1", 0, ServeLimits()).start()
            try:
                if resign_for is None:
                    error = refused(lambda: client("sts", server.url).get_caller_identity())
                    assert error["Error"]["Code"] == "InvalidClientTokenId"  # moto's refusal: it knows no KEY
                    continue
                assert client("sts", server.url).get_caller_identity()["Arn"].endswith(":user/emulator")
                s3 = client("s3", server.url)
                s3.create_bucket(Bucket="guarded-chunks")
                request, body = _chunked_upload(server.url, "resigned", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER")
                assert _send(request, body)[0] == 200
                assert s3.get_object(Bucket="guarded-chunks", Key="resigned")["Body"].read() == DATA
                presigned = s3.generate_presigned_url("get_object", Params={"Bucket": "guarded-chunks",
                                                                            "Key": "resigned"})
                with urllib.request.urlopen(presigned, timeout=30) as response:
                    assert response.read() == DATA
                assert "TableNames" in client("dynamodb", server.url).list_tables()
            finally:
                server.stop()
    finally:
        moto.terminate()
        moto.wait(timeout=30)


BIG = os.urandom(2 * 1024 * 1024 + 7)  # over the default --max-body-bytes (1 MiB), over curl's Expect threshold


def test_a_wrong_secret_is_refused_before_the_body_is_sent(
        guarded: tuple[str, list[str], SignatureGuard], moto: str) -> None:
    """boto3's PutObject sends `Expect: 100-continue`; the guard answered 100 Continue before checking the
    signature, so a client with a wrong secret uploaded its whole body to be refused. S3 refuses from the head."""
    url, log, _ = guarded
    port = urlsplit(url).port or 80
    with counting_relay(port) as (relayed, sent):
        error = refused(lambda: client("s3", relayed, secret="not-the-secret").put_object(
            Bucket="guarded-expect", Key="big.bin", Body=BIG))
        assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("SignatureDoesNotMatch", 403)
        assert sum(sent) < 64 * 1024, sent  # the head, not the body
        assert "refused SignatureDoesNotMatch: secret (" in log[-1]
        s3 = client("s3", relayed)  # the right secret: 100 Continue, and the body goes through
        s3.create_bucket(Bucket="guarded-expect")
        before = sum(sent)
        s3.put_object(Bucket="guarded-expect", Key="big.bin", Body=BIG)
        assert sum(sent) - before > len(BIG)
    assert client("s3", moto).get_object(Bucket="guarded-expect", Key="big.bin")["Body"].read() == BIG


def _curl_upload(url: str, secret: str, path: Path) -> tuple[str, str, int]:
    """curl --aws-sigv4 -T `path` with `Expect: 100-continue`: (status, body, bytes of the body it uploaded).
    curl 7.88 sends no x-amz-content-sha256 (S3 requires it): given, curl signs it as the payload hash."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    out = subprocess.run(["curl", "-sS", "--aws-sigv4", "aws:amz:us-east-1:s3", "--user", f"{KEY}:{secret}",
                          "-H", "Expect: 100-continue", "-H", f"x-amz-content-sha256: {digest}", "--expect100-timeout", "30", "-T", str(path),
                          "-w", "\n%{http_code} %{size_upload}", url],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    body, _, tail = out.rpartition("\n")
    status, uploaded = tail.split()
    return status, body, int(uploaded)


def test_curl_with_a_wrong_secret_uploads_nothing(guarded: tuple[str, list[str], SignatureGuard], moto: str,
                                                  tmp_path: Path) -> None:
    url, _, _ = guarded
    client("s3", moto).create_bucket(Bucket="guarded-curl")
    path = tmp_path / "big.bin"
    path.write_bytes(BIG)
    status, body, uploaded = _curl_upload(f"{url}/guarded-curl/big.bin", "not-the-secret", path)
    assert (status, uploaded) == ("403", 0) and "<Code>SignatureDoesNotMatch</Code>" in body, body
    assert _curl_upload(f"{url}/guarded-curl/big.bin", SECRET, path)[::2] == ("200", len(BIG))
    assert client("s3", moto).get_object(Bucket="guarded-curl", Key="big.bin")["Body"].read() == BIG


@pytest.fixture(scope="module")
def small_guard(moto: str, accounts_file: Path) -> Iterator[str]:
    """A guard whose body limit (--max-body-bytes) is 1000 bytes."""
    server = LocalServer(SignatureGuard(moto, load_accounts(str(accounts_file)), lambda line: None), "127.0.0.1", 0,
                         ServeLimits(max_body_bytes=1000)).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.mark.parametrize("expect", [False, True])
def test_an_anonymous_upload_over_the_body_limit_is_access_denied(small_guard: str, expect: bool) -> None:
    """An anonymous PUT over --max-body-bytes got the HTTP layer's 413 (JSON) where S3 answers AccessDenied."""
    response = requests.put(f"{small_guard}/guarded-anon/k", data=BIG[:5000], timeout=30,
                            headers={"Expect": "100-continue"} if expect else {})
    assert response.status_code == 403 and read_error(403, (), response.content).code == "AccessDenied"


def test_a_body_over_the_limit_is_refused_in_the_calls_protocol(small_guard: str) -> None:
    """The guard's 413 was `{"message": ...}` whatever the call: boto3 read no error code from it."""
    s3v2 = boto3.client("s3", endpoint_url=small_guard, region_name="us-east-1", aws_access_key_id=KEY,
                        aws_secret_access_key=SECRET, config=Config(signature_version="s3", retries={"max_attempts": 1},
                                                                    s3={"addressing_style": "path"}))
    error = refused(lambda: s3v2.put_object(Bucket="guarded-anon", Key="k", Body=BIG[:5000]))  # SigV2: held whole
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("EntityTooLarge", 400)
    error = refused(lambda: client("dynamodb", small_guard).put_item(TableName="t", Item={"v": {"S": "x" * 5000}}))
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("RequestEntityTooLarge", 413)
    error = refused(lambda: client("sqs", small_guard, key="AKIDUNKNOWN000000000").send_message(
        QueueUrl=f"{small_guard}/123456789012/q", MessageBody="x" * 5000))
    assert error["Error"]["Code"] == "UnrecognizedClientException"  # decided from the head: before the size


def test_a_request_refused_from_its_head_is_never_forwarded(
        guarded: tuple[str, list[str], SignatureGuard], moto: str) -> None:
    """The guard refuses a head (`screen`, before 100 Continue) at one instant and `respond` answers it, its
    body never read, at the next: a PUT dated just over the skew ahead passed the second check and went
    upstream with its Content-Length and no body."""
    url, log, guard = guarded
    client("s3", moto).create_bucket(Bucket="guarded-race")
    request = sigv4.Request("PUT", f"{url}/guarded-race/k", [("Content-Length", "5"), ("Expect", "100-continue")],
                            b"hello")
    signed = sigv4.sign(request, sigv4.Credentials(KEY, SECRET), service="s3", region="us-east-1", s3=True,
                        payload=sigv4.UNSIGNED_PAYLOAD, content_sha256_header=True,
                        timestamp=datetime.now(timezone.utc) + MAX_SKEW + timedelta(seconds=2.5)).request
    unread = signed.with_body(UNREAD)  # as the server hands over a request it answers from its head
    assert guard.screen(unread)  # too far ahead: refused before the body is asked for
    time.sleep(3)  # the date is within the skew now
    reply = guard.respond(unread, "127.0.0.1")
    assert reply.status == 400 and b"<Code>IncompleteBody</Code>" in bytes(reply.body), reply
    assert "refused IncompleteBody" in log[-1]
    assert "Contents" not in client("s3", moto).list_objects_v2(Bucket="guarded-race")
