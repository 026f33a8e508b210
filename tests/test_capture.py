"""Reading signed requests out of captures. The curl and aws --debug fixtures are real
captures against a loopback server (tests/fixtures/capture/); their signatures
were made by curl's signer, botocore's Python signer and botocore's CRT signer,
so verifying them with our recomputation is a differential test against three
other implementations."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigv4 import Credentials, Request, sign
from sigv4.raw import render_request
from wire.capture import CaptureError, parse_capture, response_date
from wire.diagnose import diagnose, read_error

FIXTURES = Path(__file__).parent / "fixtures" / "capture"
CREDS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
WHEN = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
STS_BODY = b"Action=GetCallerIdentity&Version=2011-06-15"


@pytest.mark.parametrize(("fixture", "secret", "url", "body"), [
    ("aws-debug-account.log", CREDS.secret_access_key, "http://127.0.0.1:18471/getAlternateContact",
     b'{"AlternateContactType": "BILLING"}'),
    ("aws-debug-sts.log", CREDS.secret_access_key, "http://127.0.0.1:18471/", STS_BODY),
    ("aws-debug-unreachable.log", "x", "http://127.0.0.1:9/getAlternateContact", b'{"AlternateContactType": "BILLING"}'),
])
def test_aws_debug_log_signature_verifies(fixture: str, secret: str, url: str, body: bytes) -> None:
    capture = parse_capture((FIXTURES / fixture).read_bytes())
    assert (capture.format, capture.request.method, capture.request.url, capture.request.body) == \
        ("aws-debug", "POST", url, body)
    assert capture.request.header("host") == url.split("/")[2]
    check = diagnose(capture.request, secret=secret).signature_check
    assert check is not None and check.ours_matches


def test_aws_debug_log_keeps_what_botocore_logged() -> None:
    capture = parse_capture((FIXTURES / "aws-debug-unreachable.log").read_bytes())
    diagnosis = diagnose(capture.request)
    assert capture.client_canonical_request == diagnosis.ours_canonical_request
    assert capture.client_string_to_sign == diagnosis.ours_string_to_sign
    assert capture.response_status is None and capture.response_body is None


def test_aws_debug_log_response_is_read() -> None:
    capture = parse_capture((FIXTURES / "aws-debug-sts.log").read_bytes())
    assert capture.response_status == 403
    assert capture.response_date == datetime(2026, 11, 25, 14, 6, 33, tzinfo=timezone.utc)
    assert capture.request.header("X-Amz-Security-Token") == "FQoGZXIvYXdzEXAMPLETOKEN"
    complaint = read_error(capture.response_status, capture.response_headers, capture.response_body or b"")
    assert (complaint.envelope, complaint.code) == ("query-xml", "SignatureDoesNotMatch")


def test_curl_verbose_output() -> None:
    capture = parse_capture((FIXTURES / "curl-v-sts.txt").read_bytes(), scheme="http")
    assert capture.format == "curl" and capture.request.url == "http://127.0.0.1:18471/"
    assert not capture.body_known  # curl -v shows "[43 bytes data]", not the bytes
    assert capture.response_status == 403 and capture.response_date is not None
    assert capture.response_body is not None and capture.response_body.startswith(b"<ErrorResponse")
    check = diagnose(capture.request.with_body(STS_BODY), secret=CREDS).signature_check
    assert check is not None and check.ours_matches


def _signed_sts() -> Request:
    request = Request("POST", "https://sts.amazonaws.com/", [("Content-Type", "application/x-www-form-urlencoded")],
                      STS_BODY)
    return sign(request, CREDS, region="us-east-1", service="sts", timestamp=WHEN).request


def test_raw_http_request() -> None:
    sent = _signed_sts()
    capture = parse_capture(render_request(sent, body=STS_BODY))
    assert (capture.format, capture.request.url, capture.request.body) == ("raw", sent.url, STS_BODY)
    check = diagnose(capture.request, secret=CREDS).signature_check
    assert check is not None and check.ours_matches


def _har_entry(request: Request) -> dict[str, object]:
    assert isinstance(request.body, bytes)
    return {
        "request": {"method": request.method, "url": request.url, "httpVersion": "HTTP/1.1",
                    "headers": [{"name": n, "value": v} for n, v in request.headers if n.lower() != "host"],
                    "queryString": [], "postData": {"mimeType": "application/x-www-form-urlencoded",
                                                    "text": request.body.decode()}},
        "response": {"status": 403, "headers": [{"name": "Date", "value": "Tue, 02 Jan 2024 03:30:00 GMT"}],
                     "content": {"mimeType": "text/xml", "text": "<ErrorResponse/>"}},
    }


@pytest.mark.parametrize("shape", ["log", "entry", "request"])
def test_har_entry(shape: str) -> None:
    sent = _signed_sts()
    entry = _har_entry(sent)
    doc = {"log": {"version": "1.2", "entries": [_har_entry(Request("GET", "https://example.com/")), entry]}} \
        if shape == "log" else entry if shape == "entry" else entry["request"]
    capture = parse_capture(json.dumps(doc).encode())
    assert capture.format == "har" and capture.request.body == STS_BODY
    assert capture.request.header("host") == "sts.amazonaws.com"
    check = diagnose(capture.request, secret=CREDS).signature_check
    assert check is not None and check.ours_matches
    if shape != "request":
        assert capture.response_status == 403
        assert capture.response_date == datetime(2024, 1, 2, 3, 30, tzinfo=timezone.utc)


def test_response_date_reader() -> None:
    assert response_date([("date", "Tue, 02 Jan 2024 03:04:05 GMT")]) == WHEN
    assert response_date([("Content-Type", "text/xml")]) is None
    assert response_date([("Date", "yesterday")]) is None


@pytest.mark.parametrize(("data", "words"), [
    (b"hello world", "not raw HTTP"),
    (b'{"log": {"entries": []}}', "no entries"),
    (b"{not json", "not JSON"),
    (b'{"log": {"entries": 5}}', "no entries"),
    (b'{"log": {"entries": [{"request": {"method": "GET", "url": "http://a/", "headers": 7}}]}}', "request.headers"),
    (b"Sending http request: <AWSPreparedRequest stream_output=False, method=GET, url=http://a/, headers={[]: 1}>",
     "not a Python literal"),
    (b"GET / HTTP/1.1\r\nbad header line\r\n\r\n", "raw request"),
    (b"Sending http request: <AWSPreparedRequest nonsense>", "no 'Sending http request' line"),
])
def test_bad_captures_raise_capture_error(data: bytes, words: str) -> None:
    with pytest.raises(CaptureError, match=words):
        parse_capture(data)


@settings(max_examples=150)
@given(st.binary(max_size=300))
def test_parse_capture_raises_only_capture_error(data: bytes) -> None:
    for blob in (data, b"> GET / HTTP/1.1\n> Host: a\n" + data, b"{" + data,
                 b"Sending http request: <AWSPreparedRequest stream_output=False, method=GET, url=http://a/, headers={"
                 + data + b"}>"):
        try:
            parse_capture(blob)
        except CaptureError:
            pass
