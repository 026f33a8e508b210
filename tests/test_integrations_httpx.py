"""`sigv4.integrations.httpx.SigV4Auth` (sync and async clients) and `headers_for` (urllib3, http.client),
each against a loopback server that verifies with `sigv4.verify`."""

from __future__ import annotations

import asyncio
import hashlib
import http.client
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from urllib.parse import quote, urlsplit

import httpx
import pytest
import urllib3

import sigv4
from sigv4.integrations import headers_for
from sigv4.integrations.httpx import SigV4Auth
from verifying_server import Server, verifying_server

KEY = sigv4.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "token")
KEYS = {"AKIDEXAMPLE": KEY}
DATA = bytes(range(256)) * 300


@pytest.fixture
def server() -> Iterator[Server]:
    with verifying_server(KEYS, s3=True) as srv:
        yield srv


def auth(**options: object) -> SigV4Auth:
    return SigV4Auth(KEY, **{"region": "us-east-1", "service": "s3", "s3": True, **options})  # type: ignore[arg-type]


def ok(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def pieces() -> Iterator[bytes]:
    for start in range(0, len(DATA), 7000):
        yield DATA[start:start + 7000]


async def apieces() -> AsyncIterator[bytes]:
    for piece in pieces():
        yield piece


@pytest.mark.parametrize("options", [{}, {"presign": True}, {"algorithm": "v4a"}, {"algorithm": "v4a", "presign": True}])
@pytest.mark.parametrize("target", ["/b/k", "/b/a b+c?list-type=2&prefix=x%2Fy"])
def test_sync_client(server, options, target) -> None:
    with httpx.Client(auth=auth(**options)) as client:
        record = ok(client.get(server.url + target))
        assert record["presigned"] is options.get("presign", False)
        record = ok(client.put(server.url + "/b/k", content=b"hello"))
        # S3 presigned URLs sign UNSIGNED-PAYLOAD, as S3 and botocore do.
        expected = "UNSIGNED-PAYLOAD" if options.get("presign") else hashlib.sha256(b"hello").hexdigest()
        assert record["payload_hash"] == expected


@pytest.mark.parametrize("options", [{}, {"presign": True}, {"algorithm": "v4a"}])
def test_async_client(server, options) -> None:
    async def run() -> None:
        async with httpx.AsyncClient(auth=auth(**options)) as client:
            ok(await client.get(server.url + "/b/k?x=1"))
            assert ok(await client.put(server.url + "/b/k", content=DATA))["body"].encode("latin-1") == DATA

    asyncio.run(run())


@pytest.mark.parametrize("payload", ["STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"])
def test_streamed_upload_is_aws_chunked_lazily(server, payload) -> None:
    options = {"trailer_checksum": "sha256"} if payload.endswith("TRAILER") else {}
    headers = {"X-Amz-Decoded-Content-Length": str(len(DATA))}
    with httpx.Client(auth=auth(payload=payload, chunk_size=8192, **options)) as client:
        record = ok(client.put(server.url + "/b/k", content=pieces(), headers=headers))
    assert record["payload_hash"] == payload and record["body"].encode("latin-1") == DATA


def test_aws_chunked_bytes_body_on_the_async_client(server) -> None:
    async def run() -> dict[str, object]:
        async with httpx.AsyncClient(auth=auth(payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")) as client:
            return ok(await client.put(server.url + "/b/k", content=DATA))

    assert asyncio.run(run())["body"].encode("latin-1") == DATA  # type: ignore[union-attr]


def test_async_stream_unsigned(server) -> None:
    async def run() -> dict[str, object]:
        async with httpx.AsyncClient(auth=auth(payload=sigv4.UNSIGNED_PAYLOAD)) as client:
            return ok(await client.put(server.url + "/b/k", content=apieces()))

    record = asyncio.run(run())
    assert record["payload_hash"] == "UNSIGNED-PAYLOAD" and record["body"].encode("latin-1") == DATA  # type: ignore[union-attr]


def test_streams_need_a_payload_option(server) -> None:
    with httpx.Client(auth=auth()) as client, pytest.raises(sigv4.InvalidParameterError, match="payload"):
        client.put(server.url + "/b/k", content=pieces())

    async def run() -> None:
        async with httpx.AsyncClient(auth=auth(payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")) as client:
            await client.put(server.url + "/b/k", content=apieces(), headers={"X-Amz-Decoded-Content-Length": "1"})

    with pytest.raises(sigv4.InvalidParameterError, match="async stream"):
        asyncio.run(run())


def test_redirects(server) -> None:
    with verifying_server(KEYS, s3=True) as other:
        location = "/redirect/?to=" + other.url + "/b/elsewhere"
        with httpx.Client(auth=auth()) as client:
            assert client.get(server.url + location).status_code == 307  # httpx's default: not followed
        with httpx.Client(auth=auth(resign_redirects=True)) as client:
            response = client.get(server.url + location)
            assert ok(response)["path"] == "/b/elsewhere" and [r.status_code for r in response.history] == [307]


def test_a_307_of_a_stream_is_refused_not_sent_empty(server) -> None:
    # Followed, the spent stream went as an empty body signed UNSIGNED-PAYLOAD: S3 would store an empty object.
    with httpx.Client(auth=auth(resign_redirects=True, payload=sigv4.UNSIGNED_PAYLOAD)) as client:
        with pytest.raises(sigv4.InvalidParameterError, match="stream cannot be sent again to follow the 307"):
            client.put(server.url + "/redirect/?to=/b/k", content=iter([b"a", b"b"]))
        assert ok(client.put(server.url + "/redirect/?to=/b/k", content=b"ab"))["body"] == "ab"  # bytes: followed
    assert [r.target for r in server.received] == ["/redirect/?to=/b/k"] * 2 + ["/b/k"]


# -- headers_for ----------------------------------------------------------------

def test_headers_for_urllib3(server) -> None:
    url = server.url + "/b/some key?acl"
    url = url.replace(" ", "%20")
    headers = headers_for("PUT", url, {"Content-Type": "text/plain"}, b"body", KEY,
                          region="us-east-1", service="s3", s3=True)
    response = urllib3.request("PUT", url, body=b"body", headers=headers)
    assert response.status == 200, response.data
    assert set(headers) == {"Content-Type", "Host", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-SHA256",
                            "Authorization"}


def test_headers_for_http_client_with_a_file_body(server, tmp_path) -> None:
    path = tmp_path / "body"
    path.write_bytes(DATA)
    parts = urlsplit(server.url)
    with path.open("rb") as body:
        headers = headers_for("PUT", server.url + "/b/k", [("Content-Length", str(len(DATA)))], body, KEY,
                              region="us-east-1", service="s3", s3=True)
        assert body.tell() == 0  # hashed in pieces and rewound
        conn = http.client.HTTPConnection(parts.hostname, parts.port)
        conn.request("PUT", "/b/k", body=body, headers=headers)
        response = conn.getresponse()
        assert response.status == 200, response.read()
        conn.close()


@pytest.mark.parametrize("s3", [False, True], ids=["svc", "s3"])
@pytest.mark.parametrize("path, sent", [
    ("/b/ключ a", "/b/%D0%BA%D0%BB%D1%8E%D1%87%20a"),  # urllib3 percent-encodes: a double-encoding service
    ('/b/a"{b}', "/b/a%22%7Bb%7D"),                        # would have signed one encoding only
    ("/b/%c3%a9 %", "/b/%C3%A9%20%25"),                    # urllib3 upper-cases escapes: S3 too would differ
])
def test_headers_for_refuses_a_path_urllib3_would_change(s3, path, sent) -> None:
    with verifying_server(KEYS, s3=s3) as server:
        service = "s3" if s3 else "svc"
        with pytest.raises(sigv4.InvalidParameterError, match="url: the path .* percent-encoded") as refused:
            headers_for("GET", server.url + path + "?q=é", {}, b"", KEY, region="us-east-1", service=service)
        fixed = str(refused.value).rsplit(": ", 1)[1].strip("'")
        assert fixed == server.url + sent + "?q=é"
        # the URL it gives is signed as urllib3 and http.client send it (a query needs no care: its canonical form
        # is decoded first)
        headers = headers_for("GET", fixed, {}, b"", KEY, region="us-east-1", service=service)
        assert urllib3.request("GET", fixed, headers=headers).status == 200
        parts = urlsplit(fixed)
        conn = http.client.HTTPConnection(parts.hostname, parts.port)
        conn.request("GET", f"{parts.path}?{quote(parts.query, safe='=&')}", headers=headers)
        assert conn.getresponse().status == 200
        conn.close()


def test_headers_for_refuses_dot_segments_urllib3_removes() -> None:
    with pytest.raises(sigv4.InvalidParameterError, match="'..' segment"):
        headers_for("GET", "https://b.s3.amazonaws.com/a/../k", {}, b"", KEY, region="us-east-1", service="s3")


def test_headers_for_fixed_timestamp_is_deterministic() -> None:
    when = datetime(2015, 8, 30, 12, 36, tzinfo=timezone.utc)
    one = headers_for("GET", "https://example.amazonaws.com/", {}, b"", KEY, region="us-east-1", service="service",
                      timestamp=when)
    assert one == headers_for("GET", "https://example.amazonaws.com/", {}, b"", KEY, region="us-east-1",
                              service="service", timestamp=when)
    assert one["X-Amz-Date"] == "20150830T123600Z"


def test_headers_for_refuses_a_header_given_twice() -> None:
    with pytest.raises(sigv4.InvalidParameterError, match="a name appears twice"):
        headers_for("GET", "https://h/", [("X-Amz-Meta-A", "1"), ("x-amz-meta-a", "2")], b"", KEY,
                    region="us-east-1", service="s3")


def test_headers_for_refuses_aws_chunked() -> None:
    with pytest.raises(sigv4.InvalidParameterError, match="aws-chunked"):
        headers_for("PUT", "https://h/", {}, b"x", KEY, region="us-east-1", service="s3",
                    payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
