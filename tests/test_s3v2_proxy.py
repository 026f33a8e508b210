"""S3's SigV2 end to end with boto3 (`signature_version="s3"` clients, and its presigned URLs, SigV2 when not
told `s3v4`), fetched with urllib: through `sigv4 proxy --verify` (the guard) in front of moto (which checks
no SigV2 signature itself), and through `sigv4 proxy --resign` with placeholder keys, re-signed with the real
ones, into that same guard (which knows only the real key) or into the verifying server (which records
what arrived)."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

import sigv4
from local_http import get_through_https_proxy
from sigv4.integrations import static
from verifying_server import verifying_server
from wire.debugger.complaint import read_error
from wire.service.app import load_accounts
from wire.transport.intercept import CertificateAuthority
from wire.transport.guard import SignatureGuard
from wire.transport.resign import Placeholder, ResigningProxy
from wire.transport.server import LocalServer, ServeLimits

boto3 = pytest.importorskip("boto3", reason="boto3 is in the test extra")
moto_server = pytest.importorskip("moto.server", reason="moto is in the test extra")
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

REAL = sigv4.Credentials("AKIDS3V2REALKEY00001", "real/s3v2/secret+EXAMPLE")
PLACEHOLDER = sigv4.Credentials("PLACEHOLDERKEY", "placeholder-secret")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(app: Any) -> Iterator[str]:
    server = LocalServer(app, "127.0.0.1", 0, ServeLimits()).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    """(URL, log) of the guard in front of moto, knowing only the real key."""
    accounts = tmp_path_factory.mktemp("s3v2") / "accounts.json"
    accounts.write_text(json.dumps({REAL.access_key_id: REAL.secret_access_key}))
    moto = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    moto.start()
    log: list[str] = []
    try:
        with serving(SignatureGuard(f"http://127.0.0.1:{moto._port}", load_accounts(str(accounts)), log.append)) as url:
            s3(url, REAL).create_bucket(Bucket="sigv2")
            yield url, log
    finally:
        moto.stop()


def s3(url: str, creds: sigv4.Credentials, signature_version: str = "s3") -> Any:
    return boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id=creds.access_key_id,
                        aws_secret_access_key=creds.secret_access_key, aws_session_token=creds.session_token,
                        config=Config(signature_version=signature_version, retries={"max_attempts": 1},
                                      s3={"addressing_style": "path"}))


def fetch(url: str, method: str = "GET") -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_boto3_sigv2_passes_the_guard_and_a_wrong_secret_gets_s3s_answer(guard: tuple[str, list[str]]) -> None:
    url, log = guard
    client = s3(url, REAL)
    client.put_object(Bucket="sigv2", Key="a b+c.txt", Body=b"signed by SigV2", ContentType="text/plain",
                      Metadata={"who": "boto3"}, ACL="private")
    got = client.get_object(Bucket="sigv2", Key="a b+c.txt", ResponseContentType="text/x-sigv2")
    assert got["Body"].read() == b"signed by SigV2" and got["Metadata"] == {"who": "boto3"}
    assert client.get_object_acl(Bucket="sigv2", Key="a b+c.txt")["Grants"]
    with pytest.raises(ClientError) as caught:
        s3(url, sigv4.Credentials(REAL.access_key_id, "wrong")).get_object(Bucket="sigv2", Key="a b+c.txt")
    error = caught.value.response["Error"]
    assert (error["Code"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]) == \
        ("SignatureDoesNotMatch", 403)
    assert error["StringToSign"].endswith("\n/sigv2/a%20b%2Bc.txt") and "CanonicalRequest" not in error
    assert error["SignatureProvided"] and error["StringToSignBytes"].startswith("47 45 54 0a")  # "GET\n"
    assert "refused SignatureDoesNotMatch: secret (proved)" in log[-1]  # the debugger's first cause
    with pytest.raises(ClientError) as caught:
        s3(url, sigv4.Credentials("AKIDNOTKNOWN", "x")).list_objects(Bucket="sigv2")
    assert caught.value.response["Error"]["Code"] == "InvalidAccessKeyId"


def test_a_boto3_sigv2_presigned_url_passes_the_guard_tampered_or_expired_it_does_not(
        guard: tuple[str, list[str]]) -> None:
    url, log = guard
    client = s3(url, REAL)
    client.put_object(Bucket="sigv2", Key="shared.txt", Body=b"presigned")
    presigned = s3(url, REAL, signature_version=None).generate_presigned_url(  # boto3's default: SigV2
        "get_object", Params={"Bucket": "sigv2", "Key": "shared.txt"}, ExpiresIn=300)
    assert {"AWSAccessKeyId", "Expires", "Signature"} <= dict(parse_qsl(urlsplit(presigned).query)).keys()
    assert fetch(presigned) == (200, b"presigned")
    status, body = fetch(presigned.replace("shared.txt", "other.txt"))
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body and b"<StringToSign>GET\n\n\n" in body
    assert read_error(status, (), body).kind == "signature-mismatch"
    expires = dict(parse_qsl(urlsplit(presigned).query))["Expires"]
    status, body = fetch(presigned.replace(f"Expires={expires}", f"Expires={int(expires) + 1}"))
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body  # the expiry is signed
    stale = client.generate_presigned_url("get_object", Params={"Bucket": "sigv2", "Key": "shared.txt"},
                                          ExpiresIn=-10)
    status, body = fetch(stale)
    assert status == 403 and b"<Message>Request has expired</Message><Expires>" in body
    assert b"X-Amz-Expires" not in body and "refused AccessDenied" in log[-1]


@contextmanager
def resigning(upstream: str, authority: CertificateAuthority | None = None) -> Iterator[tuple[str, list[str]]]:
    log: list[str] = []
    placeholder = Placeholder(PLACEHOLDER.access_key_id, PLACEHOLDER.secret_access_key)
    with serving(ResigningProxy({placeholder.access_key_id: placeholder}, (), upstream, None, None, static(REAL), {},
                                log.append, authority=authority)) as url:
        yield url, log


def test_boto3_with_placeholders_signs_sigv2_and_the_proxy_resigns_it_with_the_real_key(
        guard: tuple[str, list[str]]) -> None:
    """The guard knows only the real key: what it lets through to moto was re-signed with it, as SigV2."""
    upstream, guard_log = guard
    with resigning(upstream) as (url, log):
        client = s3(url, PLACEHOLDER)
        data = b"x" * 10_000
        client.put_object(Bucket="sigv2", Key="boundary.txt", Body=data,
                          ContentMD5=base64.b64encode(hashlib.md5(data).digest()).decode())
        assert client.get_object(Bucket="sigv2", Key="boundary.txt")["Body"].read() == data
        presigned = s3(url, PLACEHOLDER, signature_version=None).generate_presigned_url(
            "get_object", Params={"Bucket": "sigv2", "Key": "boundary.txt"}, ExpiresIn=300)
        assert fetch(presigned) == (200, data)
        # Signed with another key, or the placeholder's with a wrong secret: refused before anything is signed.
        with pytest.raises(ClientError) as caught:
            s3(url, sigv4.Credentials("SOMEONEELSE", "whatever")).get_object(Bucket="sigv2", Key="boundary.txt")
        assert caught.value.response["Error"]["Code"] == "InvalidAccessKeyId"
        forged = presigned.replace("boundary.txt", "other.txt")
        status, body = fetch(forged)
        assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body
    assert all(REAL.secret_access_key not in line for line in log + guard_log)
    assert sum("refused" in line for line in log) == 2, log


@pytest.mark.parametrize("mode", ["reverse", "https-proxy"])
def test_a_sigv2_presigned_url_is_presigned_again_with_the_same_expires(mode: str, tmp_path: Path) -> None:
    """Through HTTPS_PROXY the URL names the bucket by its host (`bkt.s3.amazonaws.com`), which the proxy
    moves into the path for the upstream: the same resource, `/bkt/k.txt`, signed again."""
    authority = CertificateAuthority(tmp_path, lambda: datetime.now(timezone.utc)) if mode == "https-proxy" else None
    with verifying_server({REAL.access_key_id: REAL}, s3=True) as upstream, \
            resigning(upstream.url, authority) as (url, log):
        client = s3(url, PLACEHOLDER, signature_version=None) if authority is None else boto3.client(
            "s3", region_name="us-east-1", aws_access_key_id=PLACEHOLDER.access_key_id,
            aws_secret_access_key=PLACEHOLDER.secret_access_key)
        presigned = client.generate_presigned_url("get_object", Params={"Bucket": "bkt", "Key": "k.txt"},
                                                  ExpiresIn=300)
        if authority is None:
            status, body = fetch(presigned)
        else:
            assert presigned.startswith("https://bkt.s3.amazonaws.com/k.txt?AWSAccessKeyId=")
            status, body = get_through_https_proxy(presigned, url, authority.certificate_path)
        assert status == 200, (body, log)
        verdict = json.loads(body)
        assert (verdict["algorithm"], verdict["presigned"]) == ("HmacSHA1", True)
        sent = dict(parse_qsl(urlsplit(presigned).query))
        target = urlsplit(upstream.received[-1].target)
        received = dict(parse_qsl(target.query))
        assert received["AWSAccessKeyId"] == REAL.access_key_id and received["Expires"] == sent["Expires"]
        assert target.path == "/bkt/k.txt"
