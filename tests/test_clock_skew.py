"""Clock-skew correction: `sigv4.clock_skew` reads the server's time from its answer; the adapters re-sign and retry once.

The adapters run against the loopback verifying server, which answers a request signed more than 15
minutes off its clock as AWS does (S3's XML `RequestTimeTooSkewed` with `ServerTime`, JSON
`InvalidSignatureException` "Signature expired" / "not yet current", with a `Date` header).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import aiohttp
import httpx
import pytest
import requests
import urllib3
from hypothesis import given, settings
from hypothesis import strategies as st

import sigv4
from sigv4.integrations import ClockSkew, headers_for
from sigv4.integrations.aiohttp import SigV4Auth as AiohttpAuth
from sigv4.integrations.httpx import SigV4Auth as HttpxAuth
from sigv4.integrations.requests import SigV4Auth as RequestsAuth
from verifying_server import verifying_server
from sigv4.clock_skew import MIN_CORRECTION, clock_offset, correction
from wire.debugger import skew as debugger_skew

KEY = sigv4.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
KEYS = {"AKIDEXAMPLE": KEY}
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
SERVER = NOW + timedelta(minutes=20)


def _http_date(when: datetime) -> str:
    return format_datetime(when, usegmt=True)


# -- reading the offset (pure) ----------------------------------------------------

S3_SKEW = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>RequestTimeTooSkewed</Code><Message>The difference "
           b"between the request time and the current time is too large.</Message><RequestTime>20240501T120000Z"
           b"</RequestTime><ServerTime>2024-05-01T12:20:00Z</ServerTime><MaxAllowedSkewMilliseconds>900000"
           b"</MaxAllowedSkewMilliseconds></Error>")
JSON_EXPIRED = (b'{"__type":"InvalidSignatureException","message":"Signature expired: 20240501T120000Z is now earlier '
                b'than 20240501T121500Z (20240501T122000Z - 5 min.)"}')
QUERY_EXPIRED = (b"<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>Signature "
                 b"expired: 20240501T120000Z is now earlier than 20240501T121500Z (20240501T122000Z - 15 min.)"
                 b"</Message></Error></ErrorResponse>")
EC2_EXPIRED = (b"<Response><Errors><Error><Code>RequestExpired</Code><Message>Request has expired.</Message></Error>"
               b"</Errors><RequestID>r</RequestID></Response>")
NOT_YET = (b'{"__type":"InvalidSignatureException","message":"Signature not yet current: 20240501T124000Z is still '
           b'later than 20240501T122500Z (20240501T122000Z + 5 min.)"}')


@pytest.mark.parametrize("status, headers, body", [
    (403, [], S3_SKEW),  # S3: ServerTime in the body
    (400, [], JSON_EXPIRED),  # the server's time in the message
    (403, [("Date", _http_date(SERVER))], QUERY_EXPIRED),
    (400, [("Date", _http_date(SERVER))], EC2_EXPIRED),  # only the Date header says the time
    (400, [("x-amzn-ErrorType", "InvalidSignatureException:http://internal.amazon.com/")], NOT_YET),
    (403, [("Date", _http_date(SERVER))], b"<Error><Code>RequestTimeTooSkewed</Code><Message>m</Message></Error>"),
    # `sigv4 send -o FILE` measures the raw response when the body went to the file
    (403, [], b"HTTP/1.1 403 Forbidden\r\nContent-Type: application/xml\r\n\r\n" + S3_SKEW),
], ids=["s3-servertime", "json-message", "query-date", "ec2-date", "json-not-yet", "s3-date", "raw-response"])
def test_offset_from_each_form(status, headers, body) -> None:
    assert clock_offset(status, headers, body, NOW) == timedelta(minutes=20)


def test_the_debugger_reads_the_same_measure() -> None:
    assert (debugger_skew.clock_offset, debugger_skew.retry_offset) == (clock_offset, sigv4.clock_skew.retry_offset)


def test_a_cached_answer_is_not_used() -> None:
    assert clock_offset(403, [("Date", _http_date(SERVER)), ("Age", "30")], S3_SKEW, NOW) is None


@pytest.mark.parametrize("status, body", [
    (200, S3_SKEW),
    (403, b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"),
    (403, b'{"__type":"InvalidSignatureException","message":"The request signature we calculated does not match"}'),
])
def test_other_answers_have_no_offset(status, body) -> None:
    assert clock_offset(status, [("Date", _http_date(SERVER))], body, NOW) is None


def test_no_server_time_no_offset() -> None:
    assert clock_offset(400, [], EC2_EXPIRED, NOW) is None


def test_an_expired_presigned_url_is_not_a_skew_to_correct() -> None:
    body = (b'{"__type":"InvalidSignatureException","message":"Signature expired: 20240501T115000Z is now earlier '
            b'than 20240501T120000Z (X-Amz-Date 20240501T114000Z + X-Amz-Expires)."}')
    offset = clock_offset(400, [("Date", _http_date(NOW + timedelta(seconds=2)))], body, NOW)
    assert offset == timedelta(seconds=2) and correction(timedelta(0), offset) is None


def test_correction() -> None:
    assert correction(timedelta(0), None) is None
    assert correction(timedelta(0), timedelta(minutes=20)) == timedelta(minutes=20)
    # Already corrected: the same offset again means the error has another cause.
    assert correction(timedelta(minutes=20), timedelta(minutes=20, seconds=3)) is None
    # The clock was fixed meanwhile: back to no offset.
    assert correction(timedelta(minutes=20), timedelta(seconds=1)) == timedelta(seconds=1)
    assert MIN_CORRECTION == timedelta(minutes=1)


@settings(max_examples=300, deadline=None)
@given(st.integers(100, 599), st.lists(st.tuples(st.sampled_from(["Date", "Age", "x-amzn-ErrorType", "X"]), st.text())),
       st.binary() | st.sampled_from([S3_SKEW, JSON_EXPIRED, QUERY_EXPIRED]).map(lambda b: b[: len(b) // 2]))
def test_any_answer_reads_without_raising(status, headers, body) -> None:
    offset = clock_offset(status, headers, body, NOW)
    assert offset is None or isinstance(offset, timedelta)


# -- the adapters, against the verifying server ------------------------------------

def _skewed(minutes: int) -> Callable[[], datetime]:
    return lambda: datetime.now(timezone.utc) + timedelta(minutes=minutes)


@pytest.fixture(params=[False, True], ids=["json", "s3"])
def s3(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.mark.parametrize("minutes", [-20, 20])
def test_requests_retries_once_and_keeps_the_offset(s3, minutes) -> None:
    with verifying_server(KEYS, s3=s3) as server:
        auth = RequestsAuth(KEY, region="us-east-1", service="s3" if s3 else "svc", clock=_skewed(minutes))
        with requests.Session() as session:
            first = session.put(server.url + "/b/k", data=b"body", auth=auth)
            assert first.status_code == 200, first.text
            assert [r.status_code for r in first.history] == [403 if s3 else 400]
            assert abs(auth.signer.skew.offset + timedelta(minutes=minutes)) < MIN_CORRECTION
            sent = len(server.received)
            assert session.get(server.url + "/b/k", auth=auth).status_code == 200
            assert len(server.received) == sent + 1  # no second skew error: the offset was kept


def test_requests_with_a_file_body_rewinds_it(tmp_path) -> None:
    path = tmp_path / "body"
    path.write_bytes(b"file body")
    with verifying_server(KEYS, s3=True) as server, path.open("rb") as body:
        auth = RequestsAuth(KEY, region="us-east-1", service="s3", clock=_skewed(-30))
        response = requests.put(server.url + "/b/k", data=body, auth=auth)
        assert response.status_code == 200 and response.json()["body"] == "file body"


def test_a_one_shot_body_is_not_resent_but_the_offset_is_learnt() -> None:
    with verifying_server(KEYS, s3=True) as server:
        auth = RequestsAuth(KEY, region="us-east-1", service="s3", payload=sigv4.UNSIGNED_PAYLOAD, clock=_skewed(-30))
        response = requests.put(server.url + "/b/k", data=iter([b"a", b"b"]), auth=auth)
        assert response.status_code == 403 and not response.history
        assert requests.put(server.url + "/b/k", data=iter([b"a", b"b"]), auth=auth).status_code == 200


def test_a_cached_skew_answer_is_not_acted_on() -> None:
    with verifying_server(KEYS, s3=True) as server:
        server.age = 10
        auth = RequestsAuth(KEY, region="us-east-1", service="s3", clock=_skewed(-30))
        assert requests.get(server.url + "/b/k", auth=auth).status_code == 403
        assert auth.signer.skew.offset == timedelta(0) and len(server.received) == 1


def test_presigned_requests_are_corrected_too() -> None:
    with verifying_server(KEYS, s3=True) as server:
        auth = RequestsAuth(KEY, region="us-east-1", service="s3", presign=True, clock=_skewed(30))
        response = requests.get(server.url + "/b/k", auth=auth)
        assert response.status_code == 200 and response.json()["presigned"] is True


@pytest.mark.parametrize("minutes", [-20, 20])
def test_httpx_sync_and_async(s3, minutes) -> None:
    with verifying_server(KEYS, s3=s3) as server:
        auth = HttpxAuth(KEY, region="us-east-1", service="s3" if s3 else "svc", clock=_skewed(minutes))
        with httpx.Client(auth=auth) as client:
            response = client.put(server.url + "/b/k", content=b"body")
            assert response.status_code == 200, response.text
            assert [r.status_code for r in response.history] == [403 if s3 else 400]
            assert client.get(server.url + "/b/k").status_code == 200 and len(server.received) == 3

        async def run() -> httpx.Response:
            async with httpx.AsyncClient(auth=HttpxAuth(KEY, region="us-east-1", service="s3" if s3 else "svc",
                                                        clock=_skewed(minutes))) as client:
                return await client.put(server.url + "/b/k", content=b"body")

        response = asyncio.run(run())
        assert response.status_code == 200 and len(response.history) == 1


@pytest.mark.parametrize("minutes", [-20, 20])
def test_aiohttp(s3, minutes) -> None:
    async def run() -> tuple[int, int]:
        auth = AiohttpAuth(KEY, region="us-east-1", service="s3" if s3 else "svc", clock=_skewed(minutes))
        async with aiohttp.ClientSession(middlewares=(auth,)) as session:
            async with session.put(server.url + "/b/k", data=b"body") as first:
                await first.read()
            async with session.get(server.url + "/b/k") as second:
                await second.read()
            return first.status, second.status

    with verifying_server(KEYS, s3=s3) as server:
        assert asyncio.run(run()) == (200, 200)
        assert len(server.received) == 3  # one skew answer, its retry, then a request right the first time


def test_headers_for_with_a_clock_skew(s3) -> None:
    with verifying_server(KEYS, s3=s3) as server:
        skew = ClockSkew(_skewed(-20))
        url = server.url + "/b/k"
        statuses = []
        for _ in range(2):
            headers = headers_for("GET", url, {}, b"", KEY, region="us-east-1", service="s3" if s3 else "svc",
                                  clock_skew=skew)
            response = urllib3.request("GET", url, headers=headers)
            statuses.append(response.status)
            if not skew.learn(response.status, response.headers.items(), response.data):
                break
        assert statuses == [403 if s3 else 400, 200]
