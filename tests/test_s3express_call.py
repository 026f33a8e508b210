"""`sigv4 call s3 OP Bucket=<directory bucket>` as boto3 does it: the zonal endpoint, CreateSession first, the
operation signed for `s3express` with the session and `x-amz-s3session-token`.

Oracles: boto3's own requests for the same calls at a frozen time, captured by a `before-send` hook that answers
them (as tests/test_s3express.py does), compared with ours (host, path, signed headers, scope, token header and
the signature itself); and the CLI end to end against a tiny local S3 Express server (`http.server`) that answers
CreateSession with XML credentials and checks every request with `sigv4.verify`: the caller's keys on
CreateSession, the session's keys and token on the operation, the cached session reused by the next call.
"""

from __future__ import annotations

import io
import threading
from contextlib import ExitStack, redirect_stderr, redirect_stdout
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
from freezegun import freeze_time

import cli
from sigv4 import Credentials, Request, verify
from sigv4.s3express import SESSION_TOKEN_HEADER
from tests.test_s3express import _CREATE_SESSION, BASE, REGION, SESSION, T, boto3_exchange
from wire import s3
from wire.transport import calls
from wire.transport.client import Exchange
from wire.transport.calls import ExpressSession, prepare_call

BUCKET = "mybucket--usw2-az1--x-s3"
ENV = {"AWS_ACCESS_KEY_ID": BASE.access_key_id, "AWS_SECRET_ACCESS_KEY": BASE.secret_access_key,
       "AWS_SESSION_TOKEN": BASE.session_token or "", "AWS_CONFIG_FILE": "/nonexistent",
       "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}
KEYS = {c.access_key_id: c for c in (BASE, SESSION)}


def _exchange(status: int, body: bytes) -> Exchange:
    return Exchange(status, "OK", [("Content-Type", "application/xml")], body, bytearray(), bytearray(), {}, [])


def ours(monkeypatch: pytest.MonkeyPatch, *argv: str) -> list[Request]:
    """The requests our `sigv4 call s3 ...` sends at T: CreateSession (answered with SESSION), then the operation."""
    sent: list[Request] = []

    def fake_send(request: Request, *_: Any, **__: Any) -> tuple[Request, Exchange]:
        sent.append(request)
        return request, _exchange(200, _CREATE_SESSION)

    monkeypatch.setattr(calls, "send_signed", fake_send)
    monkeypatch.setattr(calls, "_SESSIONS", {})
    with ExitStack() as files, freeze_time(T):
        call = prepare_call(cli.parse_args(["call", "s3", *argv, "--region", REGION]), ENV, files)
        sent.append(call.signed())
    return sent


def _auth(headers: Any) -> tuple[str, list[str], str]:
    """(scope, signed header names, signature) of an Authorization header."""
    auth = dict(headers)["Authorization"] if not hasattr(headers, "header") else headers.header("authorization")
    credential = auth.split("Credential=")[1].split(",")[0]
    signed = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
    return credential.partition("/")[2], signed, auth.rpartition("Signature=")[2]


#: (boto3 method, its parameters, our command line, whether the operation's signature must be boto3's byte for byte)
CASES = [
    # boto3 asks for encoding-type=url on its own (and decodes the keys): named here on both sides
    ("list_objects_v2", {"Prefix": "a/", "EncodingType": "url"}, ["ListObjectsV2", "Prefix=a/", "EncodingType=url"],
     True),
    # boto3 sends x-amz-checksum-mode: ENABLED on its own (to check the response's checksum): named on both sides
    ("get_object", {"Key": "dir/photo 1.jpg", "ChecksumMode": "ENABLED"},
     ["GetObject", "Key=dir/photo 1.jpg", "ChecksumMode=ENABLED"], True),
    ("head_object", {"Key": "k"}, ["HeadObject", "Key=k"], True),
    ("delete_object", {"Key": "k"}, ["DeleteObject", "Key=k"], True),
    # boto3 streams a bytes body as an unsigned aws-chunked upload with a crc32 trailer; we sign the payload and
    # send the crc32 as a header (as `sigv4 call s3 PutObject` does for every bucket): same session, other headers
    ("put_object", {"Key": "k", "Body": b"hello"}, ["PutObject", "Key=k", "Body=hello"], False),
]


@pytest.mark.parametrize(("method", "params", "argv", "same_signature"), CASES, ids=[c[2][0] for c in CASES])
def test_same_requests_as_boto3(monkeypatch: pytest.MonkeyPatch, method: str, params: dict[str, Any],
                                argv: list[str], same_signature: bool) -> None:
    theirs, _ = boto3_exchange(method, Bucket=BUCKET, **params)
    mine = ours(monkeypatch, argv[0], f"Bucket={BUCKET}", *argv[1:])
    assert len(theirs) == len(mine) == 2  # CreateSession, then the operation
    for index, ((their_method, their_url, their_headers), request) in enumerate(zip(theirs, mine)):
        assert request.method == their_method
        assert urlsplit(request.url)[:3] == urlsplit(their_url)[:3]  # scheme, zonal host, path
        assert sorted(urlsplit(request.url).query.split("&")) == sorted(urlsplit(their_url).query.split("&"))
        their_scope, their_signed, their_signature = _auth(their_headers)
        scope, signed, signature = _auth(request)
        assert scope == their_scope == f"{T:%Y%m%d}/{REGION}/s3express/aws4_request"
        if index == 0 or same_signature:  # CreateSession always
            assert (signed, signature) == (their_signed, their_signature)
    create, operation = mine
    assert create.url == f"https://{BUCKET}.s3express-usw2-az1.{REGION}.amazonaws.com/?session"
    assert create.header("x-amz-security-token") == BASE.session_token
    assert create.header(SESSION_TOKEN_HEADER) is None
    assert operation.header(SESSION_TOKEN_HEADER) == theirs[1][2][SESSION_TOKEN_HEADER] == SESSION.session_token
    assert operation.header("x-amz-security-token") is None
    assert SESSION_TOKEN_HEADER in _auth(operation)[1]
    assert verify(create, KEYS.get, now=T, s3=True).credentials == BASE
    assert verify(operation, KEYS.get, now=T, s3=True).credentials == SESSION


def test_a_streamed_upload_is_signed_with_the_session(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Body=@file: signed aws-chunked with a crc32 trailer, for s3express, with the session and its token."""
    (tmp_path / "f").write_bytes(b"x" * 100)
    _, put = ours(monkeypatch, "PutObject", f"Bucket={BUCKET}", "Key=k", f"Body=@{tmp_path / 'f'}")
    assert put.header("x-amz-content-sha256") == s3.STREAMING_PAYLOAD
    assert put.header(SESSION_TOKEN_HEADER) == SESSION.session_token
    assert _auth(put)[0].endswith("/s3express/aws4_request") and "ASIASESSION/" in put.header("authorization")


def test_pure_parts() -> None:
    assert s3.directory_bucket(BUCKET) and not s3.directory_bucket("mybucket") and not s3.directory_bucket(None)
    assert not s3.directory_bucket("--usw2-az1--x-s3")
    assert s3.zonal_endpoint(BUCKET, REGION) == "https://s3express-usw2-az1.us-west-2.amazonaws.com"
    expiry = datetime(2030, 1, 1, tzinfo=timezone.utc)
    creds, when = s3.session_credentials({"Credentials": {"AccessKeyId": "A", "SecretAccessKey": "S",
                                                          "SessionToken": "T", "Expiration": expiry}})
    assert (creds, when) == (Credentials("A", "S", "T"), expiry)
    with pytest.raises(s3.DecodeError, match="Credentials"):
        s3.session_credentials({"Credentials": {"AccessKeyId": "A"}})
    assert s3.session_fresh(expiry, expiry - timedelta(seconds=46))
    assert not s3.session_fresh(expiry, expiry - timedelta(seconds=45))


def test_dry_run_prints_create_session_and_refuses_sigv2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["call", "s3", "ListObjectsV2", f"Bucket={BUCKET}", "--region", REGION, "--dry-run"], ENV) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"GET /?session HTTP/1.1\r\nHost: {BUCKET}.s3express-usw2-az1.{REGION}.amazonaws.com\r\n")
    # The dry run is a signed request to send: it carries the token.
    assert "/s3express/aws4_request" in out and f"X-Amz-Security-Token: {BASE.session_token}\r\n" in out
    assert err.count("\n") == 1 and "CreateSession" in err
    assert cli.main(["call", "s3", "ListObjectsV2", f"Bucket={BUCKET}", "--sigv2", "--dry-run"], ENV) == 2
    assert capsys.readouterr().err == f"sigv4: error: Bucket: {BUCKET} is a directory bucket, signed with SigV4 " \
                                      "only (drop --sigv2)\n"


class FakeExpress(BaseHTTPRequestHandler):
    """S3 Express in a few lines: CreateSession for the caller's keys, then requests signed with the session."""

    log: list[str] = []
    lifetime = timedelta(minutes=5)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        url = f"http://{self.headers['Host']}{self.path}"
        request = Request(self.command, url, list(self.headers.items()), body)
        now = datetime.now(timezone.utc)
        identity = verify(request, KEYS.get, now=now, s3=True, expected_service="s3express")
        if self.path.endswith("?session"):
            assert identity.credentials == BASE and request.header(SESSION_TOKEN_HEADER) is None
            expiry = (now + self.lifetime).strftime("%Y-%m-%dT%H:%M:%SZ")
            body = _CREATE_SESSION.replace(b"2030-01-01T00:00:00Z", expiry.encode())
            self.log.append("CreateSession")
        else:
            assert identity.credentials == SESSION
            assert request.header(SESSION_TOKEN_HEADER) == SESSION.session_token
            assert request.header("x-amz-security-token") is None
            body = (b'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>' + BUCKET.encode()
                    + b"</Name><KeyCount>0</KeyCount></ListBucketResult>")
            self.log.append(f"{self.command} {self.path}")
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_PUT = do_GET  # noqa: N815 - http.server's name

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(calls, "_SESSIONS", {})
    FakeExpress.log = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeExpress)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _call(url: str, *argv: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(["call", "s3", *(argv or ("ListObjectsV2", "Prefix=p")), f"Bucket={BUCKET}",
                         "--endpoint-url", url, "--region", REGION], ENV)
    assert (code, err.getvalue()) == (0, "")
    return out.getvalue()


def test_end_to_end_against_a_fake_s3_express(server: str) -> None:
    assert '"Name": "mybucket--usw2-az1--x-s3"' in _call(server)
    assert '"KeyCount": 0' in _call(server)  # the session is cached: no second CreateSession
    _call(server, "PutObject", "Key=a b", "Body=hello")  # a body, checked by the server's verify too
    listing = f"GET /{BUCKET}?list-type=2&prefix=p"
    assert FakeExpress.log == ["CreateSession", listing, listing, f"PUT /{BUCKET}/a%20b"]


def test_a_session_about_to_expire_is_asked_for_again(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FakeExpress, "lifetime", timedelta(seconds=30))  # inside the 45 s refresh window
    _call(server)
    _call(server)
    assert FakeExpress.log.count("CreateSession") == 2


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calls, "_SESSIONS", {})
    monkeypatch.setattr(calls, "SESSION_CACHE_SIZE", 2)
    answer = _exchange(200, _CREATE_SESSION)
    monkeypatch.setattr(calls, "send_signed", lambda request, *_, **__: (request, answer))
    model = prepare_call(cli.parse_args(["call", "s3", "ListObjectsV2", f"Bucket={BUCKET}"]), ENV, ExitStack()).model
    for zone in ("a", "b", "c"):
        ExpressSession(f"b--usw2-az{zone}--x-s3", REGION, None, model, calls.TransportOptions(), ENV).credentials(BASE)
    assert [bucket for bucket, *_ in calls._SESSIONS] == ["b--usw2-azb--x-s3", "b--usw2-azc--x-s3"]


def test_a_refused_create_session_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    denied = (b"<Error><Code>AccessDenied</Code><Message>no</Message></Error>")
    monkeypatch.setattr(calls, "_SESSIONS", {})
    monkeypatch.setattr(calls, "send_signed", lambda request, *_, **__: (request, _exchange(403, denied)))
    err = io.StringIO()
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        assert cli.main(["call", "s3", "ListObjectsV2", f"Bucket={BUCKET}"], ENV) != 0
    assert err.getvalue().startswith(f"sigv4: network error: CreateSession on {BUCKET} failed:")
    assert err.getvalue().count("\n") == 1 and "AccessDenied" in err.getvalue()
