"""`sigv4.integrations.requests.SigV4Auth` against a loopback server that verifies with `sigv4.verify`.

Each case sends a real request through requests and urllib3; the server
rebuilds it from the received bytes and verifies it (aws-chunked bodies
chunk by chunk), so a pass means the signature is right on the wire.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
import requests

import sigv4
from sigv4.integrations import CachingProvider, CredentialsError, ResolvedCredentials
from sigv4.integrations.requests import SigV4Auth
from verifying_server import Server, verifying_server

KEY = sigv4.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
TEMP = sigv4.Credentials("ASIATEMP", "temporarysecret", "session-token-value")
KEYS = {"AKIDEXAMPLE": KEY, "ASIATEMP": TEMP}


@pytest.fixture
def server() -> Iterator[Server]:
    with verifying_server(KEYS) as srv:
        yield srv


@pytest.fixture
def s3_server() -> Iterator[Server]:
    with verifying_server(KEYS, s3=True) as srv:
        yield srv


def auth(**options: object) -> SigV4Auth:
    options = {"region": "us-east-1", "service": "svc", **options}
    return SigV4Auth(options.pop("credentials", KEY), **options)  # type: ignore[arg-type]


def ok(response: requests.Response) -> dict[str, object]:
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("target", ["/", "/a b/c", "/p?x=1&y=a%20b&x=0", "/%E2%82%AC/./x/../y", "/k?a=&b"])
@pytest.mark.parametrize("presign", [False, True])
def test_get_is_verified(server, target, presign) -> None:
    record = ok(requests.get(server.url + target, auth=auth(presign=presign)))
    assert record["key"] == "AKIDEXAMPLE" and record["presigned"] is presign


@pytest.mark.parametrize("data", [b"bytes body", "str body h\u00e9", b"", {"form": "v a/l"}])
def test_bodies_are_hashed_as_sent(server, data) -> None:
    record = ok(requests.post(server.url + "/post", data=data, auth=auth()))
    sent = server.received[-1].body
    assert record["payload_hash"] == hashlib.sha256(sent).hexdigest()
    if isinstance(data, str):
        assert sent == data.encode("utf-8")


def test_json_body_and_session_token(server) -> None:
    record = ok(requests.post(server.url + "/j", json={"a": 1}, auth=auth(credentials=TEMP)))
    assert record["key"] == "ASIATEMP"
    assert dict(server.received[-1].headers)["X-Amz-Security-Token"] == "session-token-value"


@pytest.mark.parametrize("presign", [False, True])
def test_sigv4a(server, presign) -> None:
    record = ok(requests.get(server.url + "/a?b=c", auth=auth(algorithm="v4a", region=["us-east-1", "eu-*"],
                                                           presign=presign)))
    assert record["algorithm"] == "AWS4-ECDSA-P256-SHA256" and record["presigned"] is presign


def test_s3_rules_file_body_is_streamed_from_the_file(s3_server, tmp_path) -> None:
    path = tmp_path / "object.bin"
    path.write_bytes(bytes(range(256)) * 4096)  # 1 MiB
    with path.open("rb") as body:
        record = ok(requests.put(s3_server.url + "/bucket/a%2Fb/key with space", data=body,
                                 auth=auth(s3=True)))
    assert record["payload_hash"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert s3_server.received[-1].body == path.read_bytes()


def test_unsigned_payload_with_a_one_shot_iterator(s3_server) -> None:
    record = ok(requests.put(s3_server.url + "/b/k", data=iter([b"ab", b"cd"]),
                             auth=auth(s3=True, payload=sigv4.UNSIGNED_PAYLOAD)))
    assert record["payload_hash"] == "UNSIGNED-PAYLOAD" and s3_server.received[-1].body == b"abcd"


def test_a_one_shot_iterator_without_a_payload_option_is_refused(server) -> None:
    with pytest.raises(sigv4.InvalidParameterError, match="one-shot stream"):
        requests.put(server.url + "/b/k", data=iter([b"ab"]), auth=auth())


@pytest.mark.parametrize("payload", ["STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"])
@pytest.mark.parametrize("algorithm", ["v4", "v4a"])
def test_aws_chunked_upload_of_a_file(s3_server, payload, algorithm) -> None:
    data = bytes(range(256)) * 1000
    options = {"trailer_checksum": "crc32c"} if payload.endswith("TRAILER") else {}
    if payload.startswith("STREAMING-AWS4-HMAC") and algorithm == "v4a":
        payload = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"
    record = ok(requests.put(s3_server.url + "/b/k", data=io.BytesIO(data),
                             auth=auth(s3=True, algorithm=algorithm, payload=payload, chunk_size=65536, **options)))
    assert record["payload_hash"] == payload and record["body"].encode("latin-1") == data


def test_aws_chunked_upload_of_a_generator(s3_server) -> None:
    # requests sends a generator with Transfer-Encoding: chunked; signed aws-chunked, it goes with the encoded
    # Content-Length instead, never both (RFC 9112 6.2).
    data = bytes(range(256)) * 100
    pieces = (data[i:i + 1000] for i in range(0, len(data), 1000))
    record = ok(requests.put(s3_server.url + "/b/k", data=pieces, headers={"X-Amz-Decoded-Content-Length": str(len(data))},
                             auth=auth(s3=True, payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD", chunk_size=8192)))
    assert record["payload_hash"] == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" and record["body"].encode("latin-1") == data


def test_unknown_sign_option_fails_at_construction() -> None:
    with pytest.raises(sigv4.InvalidParameterError, match="sign option.*paylod"):
        SigV4Auth(KEY, region="us-east-1", service="svc", paylod="UNSIGNED-PAYLOAD")
    with pytest.raises(sigv4.InvalidParameterError, match="expires"):
        SigV4Auth(KEY, region="us-east-1", service="svc", expires=60)  # only presigning has an expiry
    SigV4Auth(KEY, region="us-east-1", service="svc", presign=True, expires=60)


# -- redirects ----------------------------------------------------------------

def test_same_origin_redirect_is_resigned(server) -> None:
    response = requests.post(server.url + "/redirect/?to=/target", data=b"payload", auth=auth(credentials=TEMP))
    assert ok(response)["path"] == "/target" and [r.status_code for r in response.history] == [307]
    assert server.received[-1].body == b"payload"


def test_allow_redirects_false_is_obeyed(server) -> None:
    # requests takes allow_redirects out before its hooks run (False is requests.head's default); the hook
    # followed same-origin redirects regardless
    with requests.Session() as session:
        for response in (requests.post(server.url + "/redirect/?to=/target", auth=auth(), allow_redirects=False),
                         session.get(server.url + "/redirect/?to=/target", auth=auth(), allow_redirects=False)):
            assert response.status_code == 307 and not response.history
        assert [r.target for r in server.received] == ["/redirect/?to=/target"] * 2
        assert ok(session.get(server.url + "/redirect/?to=/target", auth=auth()))["path"] == "/target"  # followed


def test_nothing_is_signed_for_the_other_origin_after_leaving(server) -> None:
    # requests follows the hop to the other origin unsigned; that origin's own redirect (or a clock-skew answer)
    # was then signed by the hook, and the other server got the signature and the session token.
    with verifying_server(KEYS) as other:
        response = requests.get(server.url + "/redirect/?to=" + other.url + "/redirect/%3Fto%3D/elsewhere",
                                auth=auth(credentials=TEMP))
        assert [r.status_code for r in response.history] == [307, 307] and response.status_code == 403
        assert [r.target for r in other.received] == ["/redirect/?to=/elsewhere", "/elsewhere"]
        for received in other.received:
            assert not {name.lower() for name, _ in received.headers} & {"authorization", "x-amz-security-token"}


def test_a_307_of_a_one_shot_body_is_refused_not_sent_empty(s3_server) -> None:
    # Followed, the spent iterator went as an empty body signed UNSIGNED-PAYLOAD: S3 would store an empty object.
    with pytest.raises(sigv4.InvalidParameterError, match="one-shot stream cannot be sent again to follow the 307"):
        requests.put(s3_server.url + "/redirect/?to=/b/k", data=iter([b"a", b"b"]),
                     auth=auth(service="s3", payload=sigv4.UNSIGNED_PAYLOAD))
    assert [r.target for r in s3_server.received] == ["/redirect/?to=/b/k"]


def test_a_307_of_a_file_body_sends_the_file_again(s3_server, tmp_path) -> None:
    (tmp_path / "body").write_bytes(b"file body")
    with (tmp_path / "body").open("rb") as body:
        response = requests.put(s3_server.url + "/redirect/?to=/b/k", data=body,
                                auth=auth(service="s3", payload=sigv4.UNSIGNED_PAYLOAD))
    assert ok(response)["body"] == "file body"


def test_cross_origin_redirect_carries_no_signature_unless_configured(server) -> None:
    with verifying_server(KEYS) as other:
        response = requests.get(server.url + "/redirect/?to=" + other.url + "/elsewhere", auth=auth(credentials=TEMP))
        assert response.status_code == 403 and response.json()["reason"] == "missing_auth"
        names = {name.lower() for name, _ in other.received[-1].headers}
        assert not names & {"authorization", "x-amz-security-token", "x-amz-date"}

        response = requests.get(server.url + "/redirect/?to=" + other.url + "/elsewhere",
                                auth=auth(credentials=TEMP, resign_redirects=True))
        assert ok(response)["path"] == "/elsewhere"
        assert dict(other.received[-1].headers)["Host"] == other.url.removeprefix("http://")


# -- credential providers -----------------------------------------------------

def test_provider_is_asked_again_before_expiry(server) -> None:
    now = datetime(2030, 1, 1, tzinfo=timezone.utc)
    issued: list[sigv4.Credentials] = []

    def provider() -> ResolvedCredentials:
        creds = [KEY, TEMP][len(issued) % 2]
        issued.append(creds)
        return ResolvedCredentials(creds, "test", expiry=clock[0] + timedelta(minutes=10))

    clock = [now]
    cached = CachingProvider(provider, refresh_ahead=timedelta(minutes=5), clock=lambda: clock[0])
    adapter = SigV4Auth(cached, region="us-east-1", service="svc")
    assert ok(requests.get(server.url + "/1", auth=adapter))["key"] == "AKIDEXAMPLE"
    clock[0] = now + timedelta(minutes=4)
    assert ok(requests.get(server.url + "/2", auth=adapter))["key"] == "AKIDEXAMPLE"
    clock[0] = now + timedelta(minutes=6)  # within 5 minutes of expiry: refreshed
    assert ok(requests.get(server.url + "/3", auth=adapter))["key"] == "ASIATEMP"
    assert len(issued) == 2


def test_plain_callable_provider(server) -> None:
    calls = []
    adapter = SigV4Auth(lambda: calls.append(1) or KEY, region="us-east-1", service="svc")
    for _ in range(3):
        ok(requests.get(server.url + "/x", auth=adapter))
    assert calls == [1]  # no expiry: asked once


def test_expired_credentials_from_a_provider_are_not_signed(server) -> None:
    """A provider handing out credentials that already expired (a stale vault or helper cache) fails the request
    before it is sent, as botocore does, rather than having every server answer ExpiredToken."""
    past = datetime.now(timezone.utc) - timedelta(minutes=1)
    adapter = SigV4Auth(lambda: ResolvedCredentials(TEMP, "my-vault", expiry=past), region="us-east-1", service="svc")
    with pytest.raises(CredentialsError, match="my-vault: the credentials it gave have already expired"):
        requests.get(server.url + "/x", auth=adapter)
    assert server.received == []


def test_an_expired_refresh_keeps_the_cached_credentials_while_they_last(server) -> None:
    now = datetime(2030, 1, 1, tzinfo=timezone.utc)
    answers = iter([ResolvedCredentials(KEY, "first", expiry=now + timedelta(minutes=10)),
                    ResolvedCredentials(TEMP, "stale", expiry=now - timedelta(minutes=1))])
    clock = [now]
    adapter = SigV4Auth(CachingProvider(lambda: next(answers), clock=lambda: clock[0]), region="us-east-1",
                        service="svc")
    assert ok(requests.get(server.url + "/1", auth=adapter))["key"] == "AKIDEXAMPLE"
    clock[0] = now + timedelta(minutes=6)  # refresh due; the refreshed credentials are stale: the first still serve
    assert ok(requests.get(server.url + "/2", auth=adapter))["key"] == "AKIDEXAMPLE"


def test_the_core_never_imports_the_integrations() -> None:
    code = ("import sys, sigv4, wire; loaded = [m for m in sys.modules if m.startswith('sigv4.integrations') "
            "or m in ('requests', 'httpx')]; assert not loaded, loaded")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
