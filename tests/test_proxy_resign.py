"""`sigv4 proxy --resign`: a credential boundary, proved with real clients against moto checking signatures.

moto checks every signature once `INITIAL_NO_AUTH_ACTION_COUNT` actions have
run: the fixture creates a user with an allow-all policy and its access key
(the real credentials, known only to the proxy), then turns the checks on.
The clients (boto3, `python3 -m awscli`) hold only the placeholder key; what
reaches moto carries the real key's signatures, or is refused by moto.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

import sigv4
from local_http import get_through_https_proxy
from sigv4.integrations import static
from wire.transport.intercept import CertificateAuthority
from wire.transport.resign import Placeholder, ResigningProxy
from wire.transport.server import LocalServer, ServeLimits
from verifying_server import verifying_server

pytest.importorskip("moto.server", reason="moto is in the test extra")
boto3 = pytest.importorskip("boto3", reason="boto3 is in the test extra")
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from moto_checking import moto_checking_signatures  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = sigv4.Credentials("PLACEHOLDERKEY", "placeholder-secret")
ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


@pytest.fixture(scope="module")
def moto_checked() -> Iterator[tuple[str, sigv4.Credentials]]:
    """moto's server checking signatures, and the real credentials it knows."""
    with moto_checking_signatures(3) as url:
        iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIDSETUP",
                           aws_secret_access_key="unchecked")
        iam.create_user(UserName="real")
        iam.put_user_policy(UserName="real", PolicyName="all", PolicyDocument=ALLOW_ALL)
        key = iam.create_access_key(UserName="real")["AccessKey"]
        yield url, sigv4.Credentials(key["AccessKeyId"], key["SecretAccessKey"])


@contextmanager
def resigning(upstream: str | None, real: sigv4.Credentials, *accept: Placeholder, allow: tuple[str, ...] = (),
              env: dict[str, str] | None = None, **extra: Any) -> Iterator[tuple[str, list[str]]]:
    log: list[str] = []
    app = ResigningProxy({p.access_key_id: p for p in accept or (Placeholder(PLACEHOLDER.access_key_id),)},
                         allow, upstream, None, None, static(real), env or {}, log.append, **extra)
    server = LocalServer(app, "127.0.0.1", 0, ServeLimits()).start()
    try:
        yield server.url, log
    finally:
        server.stop()


def client(service: str, url: str, creds: sigv4.Credentials = PLACEHOLDER, **config: Any) -> Any:
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id=creds.access_key_id,
                        aws_secret_access_key=creds.secret_access_key,
                        config=Config(retries={"max_attempts": 1}, **config))


def test_moto_refuses_the_placeholder_itself(moto_checked: tuple[str, sigv4.Credentials]) -> None:
    """The premise: without the proxy, the placeholder gets nowhere."""
    url, _ = moto_checked
    with pytest.raises(ClientError) as refused:
        client("sts", url).get_caller_identity()
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_boto3_with_placeholders_reaches_sqs_dynamodb_sts_through_the_proxy(
        moto_checked: tuple[str, sigv4.Credentials]) -> None:
    upstream, real = moto_checked
    with resigning(upstream, real) as (url, log):
        assert client("sts", url).get_caller_identity()["Arn"].endswith(":user/real")
        sqs = client("sqs", url)
        queue = sqs.create_queue(QueueName="boundary")["QueueUrl"]
        sqs.send_message(QueueUrl=queue, MessageBody="hello")
        assert sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"] == "hello"
        dynamodb = client("dynamodb", url)
        dynamodb.create_table(TableName="t", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                              BillingMode="PAY_PER_REQUEST")
        dynamodb.put_item(TableName="t", Item={"k": {"S": "v"}})
        assert dynamodb.get_item(TableName="t", Key={"k": {"S": "v"}})["Item"] == {"k": {"S": "v"}}
    assert all(real.secret_access_key not in line and real.access_key_id not in line for line in log)


def awscli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "awscli", *args], capture_output=True, text=True, timeout=300,
                          env={"PATH": os.environ.get("PATH", ""), "HOME": env.get("HOME", "/nonexistent"),
                               "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                               "AWS_ACCESS_KEY_ID": PLACEHOLDER.access_key_id,
                               "AWS_SECRET_ACCESS_KEY": PLACEHOLDER.secret_access_key,
                               "AWS_DEFAULT_REGION": "us-east-1", **env})


def test_aws_cli_copies_64_mib_up_and_down(
        moto_checked: tuple[str, sigv4.Credentials], tmp_path: Path) -> None:
    upstream, real = moto_checked
    data = os.urandom(1 << 20) * 64
    (tmp_path / "up.bin").write_bytes(data)
    with resigning(upstream, real) as (url, log):
        client("s3", url).create_bucket(Bucket="boundary")
        env = {"HOME": str(tmp_path)}
        done = awscli("s3", "cp", str(tmp_path / "up.bin"), "s3://boundary/big.bin", "--endpoint-url", url, env=env)
        assert done.returncode == 0, done.stderr
        done = awscli("s3", "cp", "s3://boundary/big.bin", str(tmp_path / "down.bin"), "--endpoint-url", url, env=env)
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "down.bin").read_bytes() == data
    assert any("UploadPart" in line or "partNumber=" in line for line in log), log


@pytest.mark.parametrize("mode", ["reverse", "https-proxy"])
def test_a_presigned_get_is_presigned_again_with_the_same_expiry(mode: str, tmp_path: Path) -> None:
    """moto cannot check presigned URLs (its checker reads only the Authorization header): the upstream is the
    verifying server, which knows only the real key."""
    real = sigv4.Credentials("AKIDREALREALREAL", "real-secret-real-secret")
    authority = CertificateAuthority(tmp_path, lambda: datetime.now(timezone.utc)) if mode == "https-proxy" else None
    with verifying_server({real.access_key_id: real}, s3=True) as upstream, \
            resigning(upstream.url, real, authority=authority) as (url, log):
        s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=None if authority else url,
                          aws_access_key_id=PLACEHOLDER.access_key_id,
                          aws_secret_access_key=PLACEHOLDER.secret_access_key,
                          config=Config(signature_version="s3v4"))
        presigned = s3.generate_presigned_url("get_object", Params={"Bucket": "boundary", "Key": "small.txt"},
                                              ExpiresIn=300)
        if authority is None:
            status, body = send(sigv4.Request("GET", presigned))
        else:
            assert presigned.startswith("https://boundary.s3.amazonaws.com/small.txt?")
            status, body = get_through_https_proxy(presigned, url, authority.certificate_path)
        assert status == 200, (body, log)
        assert json.loads(body)["key"] == "*" * len(real.access_key_id)  # the echo of the real key: masked
        sent = dict(parse_qsl(urlsplit(presigned).query))
        target = urlsplit(upstream.received[-1].target)
        received = dict(parse_qsl(target.query))
        assert target.path == "/boundary/small.txt"
        assert received["X-Amz-Credential"].startswith(real.access_key_id + "/")
        assert (received["X-Amz-Date"], received["X-Amz-Expires"]) == (sent["X-Amz-Date"], "300")


def test_a_chunk_signed_upload_with_a_trailer_is_rechunked_with_new_signatures(
        moto_checked: tuple[str, sigv4.Credentials]) -> None:
    upstream, real = moto_checked
    data = os.urandom(300_000)
    secret = Placeholder(PLACEHOLDER.access_key_id, PLACEHOLDER.secret_access_key)
    with resigning(upstream, real, secret) as (url, _):
        client("s3", url).create_bucket(Bucket="chunked")
        for payload in ("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                        "STREAMING-UNSIGNED-PAYLOAD-TRAILER"):
            request = sigv4.Request("PUT", f"{url}/chunked/{payload}", [("Content-Type", "application/octet-stream")],
                                    data)
            signed = sigv4.sign(request, PLACEHOLDER, region="us-east-1", service="s3", s3=True, payload=payload,
                                timestamp=datetime.now(timezone.utc), chunk_size=16 * 1024,
                                trailer_checksum="crc32" if payload.endswith("TRAILER") else None).request
            status, body = send(signed)
            assert status == 200, body
            assert client("s3", url).get_object(Bucket="chunked", Key=payload)["Body"].read() == data
        # A chunk whose signature the placeholder's secret does not give is refused, not re-signed.
        signed = sigv4.sign(sigv4.Request("PUT", f"{url}/chunked/forged", [], data), PLACEHOLDER, region="us-east-1",
                            service="s3", s3=True, payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                            timestamp=datetime.now(timezone.utc), chunk_size=16 * 1024).request
        encoded = b"".join(sigv4.types.iter_body(signed.body))
        forged = encoded.replace(encoded[encoded.index(b"\r\n") + 2:][:8], b"XXXXXXXX", 1)
        status, body = send(signed.with_body(forged))
        assert (status, b"<Code>SignatureDoesNotMatch</Code>" in body) == (403, True)
        with pytest.raises(ClientError):
            client("s3", url).head_object(Bucket="chunked", Key="forged")


@pytest.mark.parametrize("payload", ["UNSIGNED-PAYLOAD", "sha256"])
def test_an_upload_sent_chunked_without_a_length_is_resigned_and_arrives(
        moto_checked: tuple[str, sigv4.Credentials], payload: str) -> None:
    """A body of unknown length (`Transfer-Encoding: chunked`: a stream, as the JavaScript SDK and urllib send
    one) whose SHA-256 or UNSIGNED-PAYLOAD is signed: the proxy streamed it to the upstream with neither a
    Content-Length nor chunked framing, and the client got 502 "Too much data for declared Content-Length"."""
    upstream, real = moto_checked
    data = os.urandom(300_000)
    with resigning(upstream, real) as (url, log):
        client("s3", url).create_bucket(Bucket="streamed")
        request = sigv4.Request("PUT", f"{url}/streamed/{payload}", [("Content-Type", "application/octet-stream")],
                                data)
        signed = sigv4.sign(request, PLACEHOLDER, region="us-east-1", service="s3", s3=True,
                            payload="UNSIGNED-PAYLOAD" if payload == "UNSIGNED-PAYLOAD" else None,
                            content_sha256_header=True, timestamp=datetime.now(timezone.utc)).request
        pieces = iter([data[:100_000], data[100_000:]])  # no length: urllib sends it chunked
        sent = urllib.request.Request(signed.url, data=pieces, method="PUT",
                                      headers={n: v for n, v in signed.headers if n.lower() != "host"})
        with urllib.request.urlopen(sent) as answer:
            assert answer.status == 200, log
        assert client("s3", url).get_object(Bucket="streamed", Key=payload)["Body"].read() == data


def test_a_query_call_with_its_body_hash_declared_is_read_for_its_action(
        moto_checked: tuple[str, sigv4.Credentials]) -> None:
    """The JavaScript SDK v3 sends `x-amz-content-sha256` with its Query calls (@aws-sdk/client-sts 3.1177 as
    captured: a form body and its hash). The proxy streamed such a body unread, so it named the action by the
    routes of the model, which all match POST /: GetCallerIdentity was taken for AssumeRole (refused, "the answer
    holds credentials the proxy cannot replace"), and IAM's CreateAccessKey for another action: it went through
    the credential boundary, whose answer carries a new secret key unmasked."""
    upstream, real = moto_checked
    secret = Placeholder(PLACEHOLDER.access_key_id, PLACEHOLDER.secret_access_key)

    def query(url: str, service: str, form: str, content_type: str = "application/x-www-form-urlencoded") -> bytes:
        request = sigv4.Request("POST", url + "/", [("Content-Type", f"{content_type}; charset=utf-8")], form.encode())
        signed = sigv4.sign(request, PLACEHOLDER, region="us-east-1", service=service, content_sha256_header=True,
                            timestamp=datetime.now(timezone.utc)).request
        status, body = send(signed)
        return f"{status} ".encode() + body

    with resigning(upstream, real, secret, allow=("sts:GetCallerIdentity", "iam:List*")) as (url, log):
        assert query(url, "sts", "Action=GetCallerIdentity&Version=2011-06-15").startswith(b"200 "), log
    with resigning(upstream, real, secret) as (url, log):
        answer = query(url, "iam", "Action=CreateAccessKey&Version=2010-05-08&UserName=real")
        assert answer.startswith(b"403 ") and b"iam:CreateAccessKey: its answer carries credentials" in answer
        # A Query call whose Action the proxy cannot read (not a form) is refused, not guessed.
        answer = query(url, "iam", "Action=CreateAccessKey&Version=2010-05-08&UserName=real", "text/plain")
        assert answer.startswith(b"403 ") and b"iam:?: the request names no action" in answer
    keys = boto3.client("iam", endpoint_url=upstream, region_name="us-east-1", aws_access_key_id=real.access_key_id,
                        aws_secret_access_key=real.secret_access_key).list_access_keys(UserName="real")
    assert len(keys["AccessKeyMetadata"]) == 1  # the fixture's own: none was created through the boundary


def test_an_upload_to_a_presigned_url_over_the_body_limit_is_presigned_again_and_streams() -> None:
    """A presigned PutObject URL of the placeholder's, its 3 MiB body sent by requests: the proxy held the body
    whole (no x-amz-content-sha256 header) and answered 413 over the server's 1 MiB body limit. The upstream
    (moto cannot check presigned URLs) verifies the URL presigned again with the real key, its Content-Length
    unsigned as the client left it."""
    real = sigv4.Credentials("AKIDREALREALREAL", "real-secret-real-secret")
    data = os.urandom(3 << 20)
    with verifying_server({real.access_key_id: real}, s3=True) as upstream, \
            resigning(upstream.url, real) as (url, log):
        s3 = client("s3", url, signature_version="s3v4", s3={"addressing_style": "path"})
        presigned = s3.generate_presigned_url("put_object", Params={"Bucket": "up", "Key": "big"}, ExpiresIn=60)
        answer = requests.put(presigned, data=data, timeout=60)
        assert answer.status_code == 200, (answer.text, log)
        assert json.loads(answer.text)["presigned"] is True
    received = upstream.received[-1]
    assert received.body == data and ("Content-Length", str(len(data))) in received.headers


@pytest.mark.parametrize("disguise", ["query", "target", "twice"])
def test_a_query_call_naming_two_actions_is_refused_not_checked_by_the_harmless_one(
        moto_checked: tuple[str, sigv4.Credentials], disguise: str) -> None:
    """A form naming IAM's CreateAccessKey, with `?Action=ListUsers` in its URL, an `X-Amz-Target` naming
    ListUsers, or `Action=ListUsers` first in the form itself: the proxy checked the harmless name against its
    --allow list and the credential boundary, but a Query service (moto as AWS's front end) reads the form, so
    the new secret key went through the boundary unmasked."""
    upstream, real = moto_checked
    form, target, headers = "Action=CreateAccessKey&Version=2010-05-08&UserName=real", "/", [
        ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")]
    if disguise == "query":
        target = "/?Action=ListUsers&Version=2010-05-08"
    elif disguise == "target":
        headers.append(("X-Amz-Target", "AWSIdentityManagementV20100508.ListUsers"))
    else:
        form = "Action=ListUsers&" + form
    before = len(boto3.client("iam", endpoint_url=upstream, region_name="us-east-1",
                              aws_access_key_id=real.access_key_id, aws_secret_access_key=real.secret_access_key
                              ).list_access_keys(UserName="real")["AccessKeyMetadata"])
    with resigning(upstream, real, allow=("iam:List*",)) as (url, log):
        signed = sigv4.sign(sigv4.Request("POST", url + target, headers, form.encode()), PLACEHOLDER,
                            region="us-east-1", service="iam", timestamp=datetime.now(timezone.utc)).request
        status, body = send(signed)
    assert status == 403 and b"SecretAccessKey" not in body, (body, log)
    keys = boto3.client("iam", endpoint_url=upstream, region_name="us-east-1", aws_access_key_id=real.access_key_id,
                        aws_secret_access_key=real.secret_access_key).list_access_keys(UserName="real")
    assert len(keys["AccessKeyMetadata"]) == before


def test_a_request_without_a_body_is_sent_on_without_one() -> None:
    """boto3's GetObject declares its (empty) body's hash and sends neither Content-Length nor Transfer-Encoding:
    the proxy took it for a body to stream and sent the GET on `Transfer-Encoding: chunked`, a framing S3
    refuses (501 NotImplemented) on a request that has no body."""
    real = sigv4.Credentials("AKIDREALREALREAL", "real-secret-real-secret")
    with verifying_server({real.access_key_id: real}, s3=True) as upstream, \
            resigning(upstream.url, real) as (url, log):
        s3 = client("s3", url, s3={"addressing_style": "path"})
        s3.get_object(Bucket="up", Key="small")
    received = upstream.received[-1]
    framing = {name.lower() for name, _ in received.headers} & {"transfer-encoding", "content-length"}
    assert (received.method, framing, received.body) == ("GET", set(), b""), log


def send(request: sigv4.Request) -> tuple[int, bytes]:
    sent = urllib.request.Request(request.url, data=b"".join(sigv4.types.iter_body(request.body)) or None,
                                  method=request.method,
                                  headers={n: v for n, v in request.headers if n.lower() != "host"})
    try:
        with urllib.request.urlopen(sent) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_a_request_signed_with_another_key_is_refused_in_the_services_protocol(
        moto_checked: tuple[str, sigv4.Credentials]) -> None:
    upstream, real = moto_checked
    other = sigv4.Credentials("SOMEONEELSE", "whatever")
    with resigning(upstream, real, Placeholder(PLACEHOLDER.access_key_id, PLACEHOLDER.secret_access_key)) \
            as (url, log):
        cases = [("sts", lambda c: c.get_caller_identity(), "InvalidClientTokenId", 403),
                 ("dynamodb", lambda c: c.list_tables(), "UnrecognizedClientException", 400),
                 ("s3", lambda c: c.list_buckets(), "InvalidAccessKeyId", 403)]
        for service, call, code, status in cases:
            with pytest.raises(ClientError) as refused:
                call(client(service, url, other))
            assert refused.value.response["Error"]["Code"] == code
            assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
        # The placeholder's key with a wrong secret: its signature does not verify, nothing is re-signed.
        with pytest.raises(ClientError) as refused:
            client("sts", url, sigv4.Credentials(PLACEHOLDER.access_key_id, "not-the-secret")).get_caller_identity()
        assert refused.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
        with pytest.raises(ClientError) as refused:
            client("dynamodb", url, sigv4.Credentials(PLACEHOLDER.access_key_id, "wrong")).list_tables()
        assert refused.value.response["Error"]["Code"] == "InvalidSignatureException"
        # Not signed at all: refused as AWS refuses it.
        status, body = send(sigv4.Request("POST", url + "/", [("Content-Type", "application/x-www-form-urlencoded")],
                                          b"Action=GetCallerIdentity&Version=2011-06-15"))
        assert (status, b"<Code>MissingAuthenticationToken</Code>" in body) == (403, True)
    assert sum("refused" in line for line in log) == 6, log


def test_an_assume_role_answer_never_reaches_the_client(moto_checked: tuple[str, sigv4.Credentials]) -> None:
    """STS's temporary credentials come back as placeholders the proxy maps back; other credential-bearing
    calls are refused."""
    upstream, real = moto_checked
    with resigning(upstream, real) as (url, log):
        sts = client("sts", url)
        role = sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/boundary", RoleSessionName="ss")
        given = role["Credentials"]
        session = sigv4.Credentials(given["AccessKeyId"], given["SecretAccessKey"], given["SessionToken"])
        # Through the proxy the placeholder session works: re-signed with the real temporary credentials.
        assumed = boto3.client("sts", endpoint_url=url, region_name="us-east-1",
                               aws_access_key_id=session.access_key_id,
                               aws_secret_access_key=session.secret_access_key,
                               aws_session_token=session.session_token).get_caller_identity()
        assert assumed["Arn"] == role["AssumedRoleUser"]["Arn"]
        # Straight to moto it is nothing: it is not what STS issued.
        with pytest.raises(ClientError) as refused:
            boto3.client("sts", endpoint_url=upstream, region_name="us-east-1",
                         aws_access_key_id=session.access_key_id, aws_secret_access_key=session.secret_access_key,
                         aws_session_token=session.session_token).get_caller_identity()
        assert refused.value.response["Error"]["Code"] == "InvalidClientTokenId"
        # The placeholder session's secret is checked: a client that only saw its key id gets nowhere.
        with pytest.raises(ClientError) as refused:
            boto3.client("sts", endpoint_url=url, region_name="us-east-1", aws_access_key_id=session.access_key_id,
                         aws_secret_access_key="guessed", aws_session_token=session.session_token
                         ).get_caller_identity()
        assert refused.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
        assert client("sts", url).get_session_token()["Credentials"]["AccessKeyId"].startswith("ASIA")
        with pytest.raises(ClientError) as refused:
            client("iam", url).create_access_key(UserName="real")
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
        assert "carries credentials" in refused.value.response["Error"]["Message"]
    assert sum("swapped for placeholder" in line for line in log) == 2, log


def test_the_allow_list_is_checked_before_signing(moto_checked: tuple[str, sigv4.Credentials]) -> None:
    upstream, real = moto_checked
    with resigning(upstream, real, allow=("sts:GetCallerIdentity", "s3:Get*", "s3:ListBuckets", "sqs:*")) \
            as (url, log):
        assert client("sts", url).get_caller_identity()["Account"]
        client("s3", url).list_buckets()
        client("sqs", url).list_queues()
        refusals = [("dynamodb", lambda c: c.list_tables(), "AccessDeniedException", "dynamodb:ListTables"),
                    ("s3", lambda c: c.put_object(Bucket="boundary", Key="x", Body=b"x"), "AccessDenied",
                     "s3:PutObject"),
                    ("iam", lambda c: c.list_users(), "AccessDenied", "iam:ListUsers")]
        for service, call, code, action in refusals:
            with pytest.raises(ClientError) as refused:
                call(client(service, url))
            assert refused.value.response["Error"]["Code"] == code
            assert action in refused.value.response["Error"]["Message"]


@pytest.fixture()
def intercepting(moto_checked: tuple[str, sigv4.Credentials], tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[dict[str, str], list[str]]]:
    """The proxy in HTTPS_PROXY mode, every AWS host mapped to moto; the environment a client needs."""
    upstream, real = moto_checked
    authority = CertificateAuthority(tmp_path / "ca", lambda: datetime.now(timezone.utc))
    with resigning(upstream, real, authority=authority) as (url, log):
        env = {"HTTPS_PROXY": url, "AWS_CA_BUNDLE": str(authority.certificate_path)}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        for name in ("NO_PROXY", "no_proxy", "https_proxy", "AWS_ENDPOINT_URL"):
            monkeypatch.delenv(name, raising=False)
        yield env, log


def test_https_proxy_mode_with_boto3_and_the_aws_cli(intercepting: tuple[dict[str, str], list[str]],
                                                     tmp_path: Path) -> None:
    env, log = intercepting
    aws = {"region_name": "us-east-1", "aws_access_key_id": PLACEHOLDER.access_key_id,
           "aws_secret_access_key": PLACEHOLDER.secret_access_key}
    assert boto3.client("sts", **aws).get_caller_identity()["Arn"].endswith(":user/real")
    queue = boto3.client("sqs", **aws).create_queue(QueueName="intercepted")["QueueUrl"]
    assert boto3.client("sqs", **aws).get_queue_url(QueueName="intercepted")["QueueUrl"] == queue
    assert "TableNames" in boto3.client("dynamodb", **aws).list_tables()
    s3 = boto3.client("s3", **aws)
    s3.create_bucket(Bucket="intercepted")  # virtual-hosted: intercepted.s3.amazonaws.com, path-style to moto
    data = os.urandom(1 << 20) * 64
    (tmp_path / "up.bin").write_bytes(data)
    done = awscli("s3", "cp", str(tmp_path / "up.bin"), "s3://intercepted/big.bin", env=env)
    assert done.returncode == 0, done.stderr
    done = awscli("s3", "cp", "s3://intercepted/big.bin", str(tmp_path / "down.bin"), env=env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "down.bin").read_bytes() == data
    for host in ("sts.us-east-1.amazonaws.com", "sqs.us-east-1.amazonaws.com", "dynamodb.us-east-1.amazonaws.com",
                 "intercepted.s3.amazonaws.com"):
        assert any(line.startswith(f"CONNECT {host}:443 200") for line in log), host


def test_https_proxy_mode_refuses_other_hosts_and_tunnels_nothing(
        intercepting: tuple[dict[str, str], list[str]]) -> None:
    env, log = intercepting
    proxy = urlsplit(env["HTTPS_PROXY"])
    for target in ("example.com:443", "sqs.us-east-1.amazonaws.com:22", "amazonaws.com.example.org:443"):
        connection = http.client.HTTPConnection(proxy.hostname, proxy.port, timeout=10)
        connection.request("CONNECT", target)
        answer = connection.getresponse()
        assert answer.status == 403, target
        assert b"tunnels nothing blind" in answer.read()
        connection.close()


def test_sigv4a_and_sigv2_are_resigned_as_they_came_and_every_chunk_verifies_upstream() -> None:
    """The verifying server (sigv4.verify, and every chunk and trailer signature of an aws-chunked body)
    knows only the real key: what it accepts was re-signed with it, in the algorithm the client chose."""
    real = sigv4.Credentials("AKIDREALREALREAL", "real-secret-real-secret")
    now = datetime.now(timezone.utc)
    data = os.urandom(100_000)
    with verifying_server({real.access_key_id: real}, s3=True) as upstream, \
            resigning(upstream.url, real) as (url, log):
        for payload in ("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER", "UNSIGNED-PAYLOAD"):
            signed = sigv4.sign(sigv4.Request("PUT", f"{url}/b/{payload}", [], data), PLACEHOLDER, region="*",
                                service="s3", s3=True, algorithm="v4a", payload=payload, timestamp=now,
                                chunk_size=16 * 1024, trailer_checksum="crc32c" if "TRAILER" in payload else None)
            status, body = send(signed.request)
            assert status == 200, (body, log)
            verdict = json.loads(body)
            assert (verdict["algorithm"], verdict["payload_hash"]) == ("AWS4-ECDSA-P256-SHA256", payload)
            # Sent in 16 KiB chunks, re-chunked in chunks of the same size: 7 with the data, the final empty one.
            assert upstream.received[-1].body.count(b"chunk-signature=") == (8 if "STREAMING" in payload else 0)
    with verifying_server({real.access_key_id: real}) as upstream, resigning(upstream.url, real) as (url, log):
        form = sigv4.Request("POST", url + "/", [("Content-Type", "application/x-www-form-urlencoded")],
                             b"Action=ListQueues&Version=2012-11-05")
        status, body = send(sigv4.v2.sign(form, PLACEHOLDER, timestamp=now, signature_method="HmacSHA1").request)
        assert status == 200, (body, log)
        assert json.loads(body)["algorithm"] == "HmacSHA1"


def test_sigv4_proxy_resign_on_the_command_line(moto_checked: tuple[str, sigv4.Credentials], tmp_path: Path) -> None:
    upstream, real = moto_checked
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "HOME": str(tmp_path),
           "XDG_STATE_HOME": str(tmp_path / "state"), "AWS_ACCESS_KEY_ID": real.access_key_id,
           "AWS_SECRET_ACCESS_KEY": real.secret_access_key, "AWS_EC2_METADATA_DISABLED": "true"}
    process = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "proxy", "--resign", "--accept",
                                f"{PLACEHOLDER.access_key_id}:{PLACEHOLDER.secret_access_key}", "--allow", "sts:Get*",
                                "--intercept", "--upstream", upstream], env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        banner = process.stderr.readline()
        assert banner.startswith("sigv4 proxy --resign: http://127.0.0.1:"), banner
        assert "re-signing requests signed by PLACEHOLDERKEY with credentials from env; allowed: sts:Get*" in banner
        ca = process.stderr.readline().split("CA certificate ")[1].split()[0]
        assert ca == str(tmp_path / "state" / "sigv4-toolkit" / "proxy-ca" / "ca.pem") and Path(ca).is_file()
        url = banner.split()[3].rstrip(";")
        assert client("sts", url).get_caller_identity()["Arn"].endswith(":user/real")
        assert process.stderr.readline().startswith("POST / 200 ")
        with pytest.raises(ClientError):
            client("sqs", url).list_queues()
        refusal = process.stderr.readline()
        assert "refused AccessDeniedException: sqs:ListQueues: not in the proxy's --allow list" in refusal
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    assert oct((Path(ca).parent / "ca-key.pem").stat().st_mode & 0o777) == "0o600"


def test_a_client_that_fails_its_tls_handshake_costs_only_its_own_connection(
        intercepting: tuple[dict[str, str], list[str]]) -> None:
    env, _ = intercepting
    proxy = urlsplit(env["HTTPS_PROXY"])
    with socket.create_connection((proxy.hostname, proxy.port), timeout=10) as broken:
        broken.sendall(b"CONNECT sts.us-east-1.amazonaws.com:443 HTTP/1.1\r\nHost: sts.us-east-1.amazonaws.com\r\n\r\n")
        assert broken.recv(1024).startswith(b"HTTP/1.1 200 ")
        broken.sendall(b"GET / HTTP/1.1\r\n\r\n")  # plain HTTP where TLS was due
        try:
            assert broken.recv(1024) == b""  # the proxy closed it ...
        except ConnectionResetError:
            pass  # ... or reset it (our request unread)
    aws = {"region_name": "us-east-1", "aws_access_key_id": PLACEHOLDER.access_key_id,
           "aws_secret_access_key": PLACEHOLDER.secret_access_key}
    assert boto3.client("sts", **aws).get_caller_identity()["Arn"].endswith(":user/real")


def test_the_local_ca_is_created_once_and_kept(tmp_path: Path) -> None:
    now = lambda: datetime.now(timezone.utc)  # noqa: E731
    first = CertificateAuthority(tmp_path / "ca", now)
    pem = first.certificate_path.read_bytes()
    again = CertificateAuthority(tmp_path / "ca", now)
    assert again.certificate_path.read_bytes() == pem
    # A leaf minted by the second one verifies under the first one's certificate.
    context = ssl.create_default_context(cafile=first.certificate_path)
    left, right = socket.socketpair()
    with left, right:
        accepted = threading.Thread(target=lambda: again.wrap(right, "s3.amazonaws.com", 10).close())
        accepted.start()
        with context.wrap_socket(left, server_hostname="s3.amazonaws.com") as tls:
            assert tls.getpeercert()["subject"] == ((("commonName", "s3.amazonaws.com"),),)
        accepted.join()


def test_the_aws_cli_through_https_proxy_sends_its_trailer_form_and_it_arrives_resigned(tmp_path: Path) -> None:
    """Over TLS the CLI uploads `STREAMING-UNSIGNED-PAYLOAD-TRAILER` (a CRC trailer after the data); it arrives
    at the upstream in that form, signed with the real key, its trailer checksum checked by the verifier."""
    real = sigv4.Credentials("AKIDREALREALREAL", "real-secret-real-secret")
    authority = CertificateAuthority(tmp_path / "ca", lambda: datetime.now(timezone.utc))
    data = os.urandom(3 << 20)
    (tmp_path / "up.bin").write_bytes(data)
    with verifying_server({real.access_key_id: real}, s3=True, empty_ok=True) as upstream, \
            resigning(upstream.url, real, authority=authority) as (url, log):
        done = awscli("s3", "cp", str(tmp_path / "up.bin"), "s3://boundary/up.bin",
                      env={"HOME": str(tmp_path), "HTTPS_PROXY": url, "AWS_CA_BUNDLE": str(authority.certificate_path)})
        assert done.returncode == 0, (done.stderr, log)
        put = upstream.received[-1]
        headers = {name.lower(): value for name, value in put.headers}
        assert (put.method, put.target) == ("PUT", "/boundary/up.bin")
        assert headers["x-amz-content-sha256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
        assert f"Credential={real.access_key_id}/" in headers["authorization"]
        assert upstream.verdicts[-1]["payload_hash"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
        assert data[:1000] in put.body and put.body.count(b"\r\n") > 3  # aws-chunked, the data in it


@pytest.mark.parametrize("payload", ["STREAMING-UNSIGNED-PAYLOAD-TRAILER", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"])
def test_a_trailer_checksum_that_does_not_match_the_data_is_refused_not_resent_as_correct(payload: str) -> None:
    """The re-encoded trailer carries the checksum the proxy verified (no second pass over the data): a body whose
    bytes do not give the sender's checksum is refused, and the upstream never gets a whole body, nor one with a
    checksum computed anew from the corrupt bytes."""
    real = sigv4.Credentials("AKIDREALREALREAL", "real-secret-real-secret")
    data = os.urandom(50_000)
    with verifying_server({real.access_key_id: real}, s3=True) as upstream, \
            resigning(upstream.url, real) as (url, log):
        signed = sigv4.sign(sigv4.Request("PUT", f"{url}/b/k", [], data), PLACEHOLDER, region="us-east-1",
                            service="s3", s3=True, payload=payload, timestamp=datetime.now(timezone.utc),
                            chunk_size=16 * 1024, trailer_checksum="crc32").request
        encoded = b"".join(sigv4.types.iter_body(signed.body))
        assert send(signed.with_body(encoded))[0] == 200, log
        assert upstream.verdicts[-1]["payload_hash"] == payload
        at = encoded.index(data[20_000:20_008])  # a data byte changed: the chunk signatures no longer hold either
        status, body = send(signed.with_body(encoded[:at] + bytes([encoded[at] ^ 1]) + encoded[at + 1:]))
        assert status in (400, 403), body
        assert len(upstream.received) == 1, log


def test_a_verified_chunk_is_hashed_once_for_its_check_and_its_new_signature(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the placeholder's secret, each chunk's SHA-256 serves both the check of its signature and the new
    one (`sigv4.chunked.HashedChunk`): the bytes hashed are the data once, and the re-signed body verifies."""
    import hashlib
    import sigv4.chunked
    import sigv4.chunked_decode
    from sigv4.chunked_decode import decoder_for
    from sigv4.resign import resign
    real = sigv4.Credentials("AKIDREALREALREAL", "real-secret-real-secret")
    data, now = os.urandom(200_000), datetime.now(timezone.utc)
    signed = sigv4.sign(sigv4.Request("PUT", "http://127.0.0.1:1/b/k", [], data), PLACEHOLDER, region="us-east-1",
                        service="s3", s3=True, payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", timestamp=now,
                        chunk_size=16 * 1024, trailer_checksum="crc32").request
    received = signed.with_body(iter([b"".join(sigv4.types.iter_body(signed.body))]))
    hashed = []

    class Counting:
        @staticmethod
        def sha256(piece: bytes = b"") -> Any:
            hashed.append(len(piece))
            return hashlib.sha256(piece)
    for module in (sigv4.chunked, sigv4.chunked_decode):
        monkeypatch.setattr(module, "hashlib", Counting)
    identity = sigv4.verify(received, {PLACEHOLDER.access_key_id: PLACEHOLDER}.get, now=now, s3=True)
    out = resign(received, sigv4.parse_auth(received), real, url="http://127.0.0.1:1/b/k", service="s3",
                 region="us-east-1", now=now, decoder=decoder_for(identity, received))
    encoded = b"".join(sigv4.types.iter_body(out.body))
    assert sum(n for n in hashed if n > 1000) == len(data)  # the data once (the rest: strings to sign)
    check = decoder_for(sigv4.verify(out.with_body(encoded), {real.access_key_id: real}.get, now=now, s3=True), out)
    assert b"".join(e.data for e in check.feed(encoded) if hasattr(e, "data")) == data


def test_stopping_the_proxy_closes_an_idle_intercepted_connection_at_once(tmp_path: Path) -> None:
    """stop() wakes a connection waiting for its next request by shutting its socket down: an intercepted
    (TLS-terminated) one's too, not left to its idle timeout."""
    authority = CertificateAuthority(tmp_path / "ca", lambda: datetime.now(timezone.utc))
    app = ResigningProxy({PLACEHOLDER.access_key_id: Placeholder(PLACEHOLDER.access_key_id)}, (), None, None, None,
                         static(PLACEHOLDER), {}, lambda line: None, authority=authority)
    server = LocalServer(app, "127.0.0.1", 0, ServeLimits(client_timeout=600)).start()
    context = ssl.create_default_context(cafile=authority.certificate_path)
    with socket.create_connection((server.host, server.port), timeout=30) as raw:
        raw.sendall(b"CONNECT sts.amazonaws.com:443 HTTP/1.1\r\nHost: sts.amazonaws.com:443\r\n\r\n")
        assert raw.recv(1024).startswith(b"HTTP/1.1 200 ")
        with context.wrap_socket(raw, server_hostname="sts.amazonaws.com") as tls:
            tls.sendall(b"GET / HTTP/1.1\r\nHost: sts.amazonaws.com\r\n\r\n")  # answered: TLS is the proxy's now
            assert tls.recv(1024).startswith(b"HTTP/1.1 403 ")
            stopping = threading.Thread(target=server.stop, daemon=True)
            stopping.start()
            stopping.join(30)  # without the wake-up: the 600 s idle timeout
            assert not stopping.is_alive()
            try:
                assert tls.recv(1024) == b""  # closed by the proxy ...
            except OSError:
                pass  # ... after a TLS alert (its read ended mid-record), or reset
