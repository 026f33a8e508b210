"""Adapter defaults: `service="s3"` implies S3 rules, and WebSocket URLs drop their default port from the signed host.

Oracles: the loopback verifying server (S3 rules on), and botocore's `SigV4QueryAuth` for the presigned
host (botocore drops the default port of http/https only, so it presigns the `https://` twin of the URL).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
import requests
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from freezegun import freeze_time

import sigv4
from sigv4.integrations import headers_for
from sigv4.integrations.aiohttp import SigV4Auth as AiohttpAuth
from sigv4.integrations.requests import SigV4Auth
from verifying_server import verifying_server

KEY = sigv4.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
T = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def test_service_s3_implies_s3_rules() -> None:
    with verifying_server({"AKIDEXAMPLE": KEY}, s3=True) as server:
        response = requests.get(server.url + "/bucket/a//b", auth=SigV4Auth(KEY, region="us-east-1", service="s3"))
        assert response.status_code == 200, response.text
        refused = requests.get(server.url + "/bucket/k", auth=SigV4Auth(KEY, region="us-east-1", service="s3", s3=False))
        assert refused.status_code == 403 and refused.json()["reason"] == "payload_hash"
    headers = headers_for("GET", "https://b.s3.amazonaws.com/k", {}, b"", KEY, region="us-east-1", service="s3",
                          timestamp=T)
    assert headers["X-Amz-Content-SHA256"] == sigv4.payload_hash(b"")


def _presigned_signature(url: str) -> str:
    result = sigv4.presign(sigv4.Request("GET", url), KEY, region="us-east-1", service="execute-api", timestamp=T)
    return parse_qs(urlsplit(result.url).query)["X-Amz-Signature"][0]


def _botocore_signature(url: str) -> str:
    request = AWSRequest("GET", url)
    with freeze_time(T):
        SigV4QueryAuth(BotoCredentials(KEY.access_key_id, KEY.secret_access_key), "execute-api", "us-east-1",
                       expires=3600).add_auth(request)
    return parse_qs(urlsplit(request.url).query)["X-Amz-Signature"][0]


@pytest.mark.parametrize("url, twin", [
    ("wss://abc.execute-api.us-east-1.amazonaws.com:443/prod", "https://abc.execute-api.us-east-1.amazonaws.com/prod"),
    ("ws://abc.execute-api.us-east-1.amazonaws.com:80/prod", "https://abc.execute-api.us-east-1.amazonaws.com/prod"),
    ("wss://abc.execute-api.us-east-1.amazonaws.com/prod", "https://abc.execute-api.us-east-1.amazonaws.com/prod"),
    ("wss://abc.execute-api.us-east-1.amazonaws.com:8443/prod",
     "https://abc.execute-api.us-east-1.amazonaws.com:8443/prod"),
    ("ws://abc.execute-api.us-east-1.amazonaws.com:443/prod", "http://abc.execute-api.us-east-1.amazonaws.com:443/prod"),
])
def test_websocket_presign_drops_the_default_port(url, twin) -> None:
    assert _presigned_signature(url) == _botocore_signature(twin)


def test_websocket_signed_host() -> None:
    result = sigv4.presign(sigv4.Request("GET", "wss://h.example.com:443/p"), KEY, region="us-east-1",
                           service="execute-api", timestamp=T)
    assert "\nhost:h.example.com\n" in result.canonical_request
    result = sigv4.presign(sigv4.Request("GET", "ws://h.example.com:443/p"), KEY, region="us-east-1",
                           service="execute-api", timestamp=T)
    assert "\nhost:h.example.com:443\n" in result.canonical_request


def test_a_non_ascii_header_value_is_refused_before_sending() -> None:
    """The signature hashes a value as UTF-8; requests sends it as Latin-1 and aiohttp as UTF-8, so whether a server
    agrees depended on the library (S3 refuses such metadata's signature; botocore refuses the metadata)."""
    headers = {"X-Amz-Meta-Name": "café"}
    refused = pytest.raises(sigv4.InvalidParameterError, match="X-Amz-Meta-Name's value holds a non-ASCII character")
    with verifying_server({"AKIDEXAMPLE": KEY}, s3=True) as server:
        with refused:
            requests.put(server.url + "/b/k", data=b"x", headers=headers,
                         auth=SigV4Auth(KEY, region="us-east-1", service="s3"))

        async def put() -> None:
            async with aiohttp.ClientSession(middlewares=(AiohttpAuth(KEY, region="us-east-1", service="s3"),)) as s:
                async with s.put(server.url + "/b/k", data=b"x", headers=headers):
                    pass
        with refused:
            asyncio.run(put())
        assert server.received == []
    with refused:
        headers_for("PUT", "https://b.s3.amazonaws.com/k", headers, b"x", KEY, region="us-east-1", service="s3")
