"""`sigv4.integrations.aiohttp.SigV4Auth` (a client middleware) against a loopback server that verifies
every request with `sigv4.verify`: a pass means the signature is right on the wire."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest

import sigv4
from sigv4.integrations.aiohttp import SigV4Auth
from verifying_server import Server, verifying_server

KEY = sigv4.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
TEMP = sigv4.Credentials("ASIATEMP", "temporarysecret", "session-token-value")
KEYS = {"AKIDEXAMPLE": KEY, "ASIATEMP": TEMP}
DATA = bytes(range(256)) * 100


@pytest.fixture
def server() -> Iterator[Server]:
    with verifying_server(KEYS, s3=True) as srv:
        yield srv


def auth(**options: Any) -> SigV4Auth:
    options = {"region": "us-east-1", "service": "s3", **options}
    return SigV4Auth(options.pop("credentials", TEMP), **options)


async def call(middleware: SigV4Auth, method: str, url: str, **kwargs: Any) -> tuple[int, Any, list[int]]:
    async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
        async with session.request(method, url, **kwargs) as response:
            record = await response.json(content_type=None)
            return response.status, record, [r.status for r in response.history]


def ok(middleware: SigV4Auth, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
    status, record, _ = asyncio.run(call(middleware, method, url, **kwargs))
    assert status == 200, record
    return record  # type: ignore[no-any-return]


@pytest.mark.parametrize("options", [{}, {"presign": True}, {"algorithm": "v4a"}, {"algorithm": "v4a", "presign": True},
                                     {"credentials": KEY}])
@pytest.mark.parametrize("target", ["/b/k", "/b/a%20b+c?list-type=2&prefix=x%2Fy", "/b/%E2%82%AC?a=&b"])
def test_get_is_verified(server, options, target) -> None:
    record = ok(auth(**options), "GET", server.url + target)
    assert record["presigned"] is options.get("presign", False)
    assert record["key"] == options.get("credentials", TEMP).access_key_id


@pytest.mark.parametrize("data", [b"hello", "str body h\u00e9", {"form": "v a/l"}, b""])
def test_bodies_in_memory_are_hashed_as_sent(server, data) -> None:
    record = ok(auth(), "PUT", server.url + "/b/k", data=data)
    sent = server.received[-1].body
    assert record["payload_hash"] == hashlib.sha256(sent).hexdigest()


def test_json_body_outside_s3() -> None:
    with verifying_server(KEYS) as plain:
        record = ok(auth(service="svc"), "POST", plain.url + "/", json={"a": [1, 2]})
    assert record["body"] == '{"a": [1, 2]}'


async def pieces() -> AsyncIterator[bytes]:
    for start in range(0, len(DATA), 7000):
        yield DATA[start:start + 7000]


def test_streams_need_a_payload_option(server) -> None:
    with pytest.raises(sigv4.InvalidParameterError, match="payload"):
        asyncio.run(call(auth(), "PUT", server.url + "/b/k", data=pieces()))
    record = ok(auth(payload=sigv4.UNSIGNED_PAYLOAD), "PUT", server.url + "/b/k", data=pieces())
    assert record["payload_hash"] == "UNSIGNED-PAYLOAD" and record["body"].encode("latin-1") == DATA


def test_aws_chunked_is_refused_clearly(server) -> None:
    with pytest.raises(sigv4.InvalidParameterError, match="aws-chunked"):
        asyncio.run(call(auth(payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD"), "PUT", server.url + "/b/k", data=b"x"))


def test_redirects_are_signed_only_within_the_origin(server) -> None:
    same = "/redirect/?to=" + server.url + "/b/moved"
    status, record, history = asyncio.run(call(auth(), "GET", server.url + same))
    assert status == 200 and record["path"] == "/b/moved" and history == [307]
    with verifying_server(KEYS, s3=True) as other:
        away = "/redirect/?to=" + other.url + "/b/elsewhere"
        status, record, history = asyncio.run(call(auth(), "GET", server.url + away))
        assert status == 403 and record["reason"] == "missing_auth" and history == [307]
        assert not any(name.lower() in ("authorization", "x-amz-security-token") for name, _ in other.received[-1].headers)
        status, record, _ = asyncio.run(call(auth(resign_redirects=True), "GET", server.url + away))
        assert status == 200 and record["path"] == "/b/elsewhere"
    # A later, unrelated request is signed again.
    assert ok(auth(), "GET", server.url + "/b/k")["key"] == "ASIATEMP"


def test_a_location_the_caller_asks_for_itself_is_signed(server) -> None:
    """With allow_redirects=False the caller follows the redirect itself (S3's 307 to the bucket's region: signed
    for that region); that request is the caller's own, not a hop to send unsigned."""
    async def follow_by_hand() -> tuple[int, Any]:
        with verifying_server(KEYS, s3=True) as other:
            async with aiohttp.ClientSession(middlewares=(auth(),)) as session:
                async with session.get(server.url + "/redirect/?to=" + other.url + "/b/k",
                                       allow_redirects=False) as first:
                    assert first.status == 307
                    location = first.headers["Location"]
                async with session.get(location, middlewares=(auth(region="us-west-2"),)) as second:
                    return second.status, await second.json(content_type=None)

    status, record = asyncio.run(follow_by_hand())
    assert status == 200 and record["key"] == "ASIATEMP", record
