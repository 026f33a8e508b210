"""Reading signed requests out of captures. The curl and aws --debug fixtures are real
captures against a loopback server (tests/fixtures/capture/); their signatures
were made by curl's signer, botocore's Python signer and botocore's CRT signer,
so verifying them with our recomputation is a differential test against three
other implementations."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigv4 import Credentials, Request, VerificationError, sign, verify
from sigv4.raw import render_request
from wire.debugger.capture import CaptureError, parse_capture, response_date
from wire.debugger.diagnose import diagnose, read_error
from wire.debugger.diagnosis_text import render_text

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
                 b"=> Send header, 30 bytes (0x1e)\n0000: GET / HTTP/1.1\n0010: " + data,
                 b"=> Send header, 16 bytes (0x10)\n0000: 47 45 54 20 2f 20 48 54 54 50 2f 31 2e 31 0d 0a GET / \n" + data,
                 b"  % Total    % Received\n  0     0    0     0    0     0      0      0 --:--:-- --:--:-- --:--:--     0"
                 + data + b"\n> GET / HTTP/1.1\n",
                 b"Sending http request: <AWSPreparedRequest stream_output=False, method=GET, url=http://a/, headers={"
                 + data + b"}>"):
        try:
            parse_capture(blob)
        except CaptureError:
            pass


# -- issue 12: every capture format read exactly (real curl 7.88 and awscli captures against a loopback
# server answering as IAM does; tests/fixtures/capture/) ---------------------------------------------------------


def _diagnosis(name: str, secret: Credentials | None = None) -> Any:
    capture = parse_capture((FIXTURES / name).read_bytes(), scheme="http")
    complaint = read_error(capture.response_status, list(capture.response_headers), capture.response_body or b"")
    return capture, diagnose(capture.request, complaint, secret=secret, body_known=capture.body_known,
                             notes=capture.notes)


def test_curl_v_with_the_progress_meter_reads_the_xml_and_unescapes_ampersands() -> None:
    capture, diagnosis = _diagnosis("curl-v-progress-iam-unsorted.txt")
    assert capture.format == "curl" and capture.request.url.endswith("/?Version=2010-05-08&Action=ListUsers&MaxItems=10")
    assert diagnosis.complaint.code == "SignatureDoesNotMatch"
    assert diagnosis.theirs_canonical_request.split("\n")[2] == "Action=ListUsers&MaxItems=10&Version=2010-05-08"
    assert "amp;" not in render_text(diagnosis) + json.dumps(diagnosis.to_json())
    first = diagnosis.causes[0]
    assert (first.kind, first.evidence) == ("query-order", "likely") and "would settle it" in first.message


def test_curl_7_88_unsorted_query_is_proved_with_the_secret() -> None:
    _, diagnosis = _diagnosis("curl-v-progress-iam-unsorted.txt", CREDS)
    first = diagnosis.causes[0]
    assert (first.kind, first.evidence) == ("query-order", "proved")
    assert first.message == ("reproduces the signature you sent: the client signed the query parameters in the order "
                             "sent, but the request carries parameters that sort differently (a signer that does not "
                             "sort the query, as curl 7.88 `--aws-sigv4`)")


def test_ampersands_are_unescaped_when_capture_noise_breaks_the_xml() -> None:
    body = b"100   857  100   857\n<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>a=1&amp;b=2"
    assert "a=1&b=2" in read_error(403, [], body).message


def test_curl_trace_ascii_puts_the_wrapped_lines_and_crlf_back() -> None:
    capture, diagnosis = _diagnosis("curl-trace-ascii-iam-post.txt", CREDS)
    assert capture.format == "curl-trace" and capture.body_known
    assert capture.request.body == b"MaxItems=10&PathPrefix=%2F"
    assert signature_params_of(capture).signature == capture.request.header("authorization").rpartition("=")[2]
    assert len(signature_params_of(capture).signature) == 64
    assert diagnosis.complaint.code == "SignatureDoesNotMatch"
    assert (diagnosis.causes[0].kind, diagnosis.causes[0].evidence) == ("query-order", "proved")
    assert any("--trace-ascii prints each line feed" in note for note in capture.notes)


def test_curl_trace_hex_reads_every_byte_and_curls_s3_signature_verifies() -> None:
    capture = parse_capture((FIXTURES / "curl-trace-hex-s3-put.txt").read_bytes(), scheme="http")
    assert capture.request.body == b"hello world\n" and capture.request.path == "/bucket/notes%20v2.txt"
    check = diagnose(capture.request, secret=CREDS).signature_check
    assert check is not None and check.ours_matches


def test_curl_v_body_not_shown_is_unknown_not_empty() -> None:
    """The request authenticated (200); its body is not in `curl -v` output, so no mismatch may be reported."""
    capture = parse_capture((FIXTURES / "curl-v-body-sorted-iam.txt").read_bytes(), scheme="http")
    assert capture.response_status == 200 and not capture.body_known
    for secret in (None, CREDS):
        diagnosis = diagnose(capture.request, None, secret=secret, body_known=False)
        assert diagnosis.causes == ()
        assert any("does not show the body" in note for note in diagnosis.notes)
    declared = _signed_sts().with_header("x-amz-content-sha256", hashlib.sha256(STS_BODY).hexdigest())
    signed = sign(declared.without_headers(["authorization", "x-amz-date"]), CREDS, region="us-east-1",
                  service="sts", timestamp=WHEN).request
    check = diagnose(signed.with_body(b""), secret=CREDS, body_known=False).signature_check
    assert check is not None and check.ours_matches  # x-amz-content-sha256 stands in for the unseen body


def test_aws_debug_log_with_several_requests_picks_the_failed_one() -> None:
    data = (FIXTURES / "aws-debug-iam-two-pages.log").read_bytes()
    capture = parse_capture(data)
    assert capture.response_status == 403 and b"Marker=page2" in capture.request.body
    assert capture.notes == ("the capture holds 2 requests; read request 2 (POST /, 403), the last that failed; "
                             "read another with --pick N (1..2)",)
    first = parse_capture(data, pick=1)
    assert first.response_status == 200 and b"Marker" not in first.request.body
    with pytest.raises(CaptureError, match="request 3 does not exist"):
        parse_capture(data, pick=3)
    _, diagnosis = _diagnosis("aws-debug-iam-two-pages.log", CREDS)
    cause = diagnosis.causes[0]
    assert (cause.kind, cause.evidence) == ("header-changed", "proved")
    assert "the server canonicalized `content-type:application/x-www-form-urlencoded` (no charset), where the " \
           "request as sent has `Content-Type: application/x-www-form-urlencoded; charset=utf-8`" in cause.message


def _browser_har(entries: list[tuple[Request, int, bytes]]) -> bytes:
    """A HAR 1.2 log as Chrome and Firefox save it: HTTP/2 pseudo-headers, lowercase names, base64 content."""
    return json.dumps({"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"},
                               "entries": [{
        "startedDateTime": "2024-01-02T03:04:06.000Z", "time": 42,
        "request": {"method": r.method, "url": r.url, "httpVersion": "h2",
                    "headers": [{"name": ":authority", "value": r.url.split("/")[2]},
                                {"name": ":method", "value": r.method}, {"name": ":path", "value": "/" + r.url.split("/", 3)[3]},
                                *({"name": n.lower(), "value": v} for n, v in r.headers if n.lower() != "host")],
                    "queryString": [], "cookies": [], "headersSize": -1, "bodySize": len(r.body),
                    **({"postData": {"mimeType": r.header("content-type"), "text": r.body.decode()}} if r.body else {})},
        "response": {"status": status, "statusText": "", "httpVersion": "h2", "cookies": [], "redirectURL": "",
                     "headers": [{"name": "date", "value": "Tue, 02 Jan 2024 03:04:06 GMT"}],
                     "content": {"size": len(body), "mimeType": "text/xml", "encoding": "base64",
                                 "text": base64.b64encode(body).decode()}},
        "cache": {}, "timings": {"send": 0, "wait": 40, "receive": 2}} for r, status, body in entries]}}).encode()


def test_browser_har_with_several_entries() -> None:
    ok = _signed_sts()
    request = Request("POST", "https://sts.amazonaws.com/", [("Content-Type", "application/x-www-form-urlencoded")],
                      STS_BODY)
    sent = sign(request, CREDS, region="us-east-1", service="sts", timestamp=WHEN).request
    received = sent.with_header("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
    try:
        verify(received, {CREDS.access_key_id: CREDS}.get, now=WHEN)
    except VerificationError as err:
        body = (f"<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>x\n\nThe Canonical String for this "
                f"request should have been\n'{escape(err.canonical_request or '')}'\n\nThe String-to-Sign should have "
                f"been\n'{escape(err.string_to_sign or '')}'\n</Message></Error></ErrorResponse>").encode()
    capture = parse_capture(_browser_har([(ok, 200, b"<GetCallerIdentityResponse/>"), (sent, 403, body)]))
    assert capture.format == "har" and capture.response_status == 403 and capture.request.header("host") == "sts.amazonaws.com"
    assert capture.response_body == body and "read request 2" in capture.notes[0]
    complaint = read_error(capture.response_status, list(capture.response_headers), capture.response_body or b"")
    first = diagnose(capture.request, complaint).causes[0]
    assert (first.kind, first.evidence) == ("header-changed", "proved") and "charset=UTF-8" in first.message


def signature_params_of(capture: Any) -> Any:
    from wire.debugger.diagnose import signature_params
    return signature_params(capture.request)


def test_a_printed_javascript_value_is_read_as_inspect_writes_it() -> None:
    """`util.inspect` breaks a long string at its newlines into `'...\\n' +` lines, quotes with `"` a string that
    holds `'`, and prints `[Object]`, `<Buffer ..>` or `Uint8Array(2) [ .. ]` for what it does not show."""
    from wire.debugger.js_inspect import read_value
    text = ("{\n  CanonicalRequest: 'GET\\n' +\n    '/a%20b\\n' +\n    'x=\\u00fc',\n  quote: \"it's\",\n"
            "  '$metadata': { httpStatusCode: 403, attempts: 1 },\n  deep: [Object],\n  buf: <Buffer 68 69>,\n"
            "  body: Uint8Array(2) [ 104, 105 ],\n  headers: { 'x-amz-date': '20261207T171150Z', host: 'h:1' }\n}")
    value, end = read_value(text)
    assert end == len(text)
    assert value == {"CanonicalRequest": "GET\n/a%20b\nx=ü", "quote": "it's",
                     "$metadata": {"httpStatusCode": "403", "attempts": "1"}, "deep": None, "buf": None,
                     "body": ["104", "105"], "headers": {"x-amz-date": "20261207T171150Z", "host": "h:1"}}


@pytest.mark.parametrize("text", ["HttpRequest {" + "{" * 5000, "HttpRequest {\n  a: " + "[" * 5000,
                                  "HttpRequest {\n  method: 'GET'", "HttpRequest { : }",
                                  "HttpRequest {\n  headers: { host: 'h' ]\n}"])
def test_a_broken_printed_javascript_request_is_a_capture_error(text: str) -> None:
    with pytest.raises(CaptureError, match="js-sdk capture: request 1"):
        parse_capture(text.encode())


_JS_SIGNED = ("HttpRequest {{\n  method: 'PUT',\n  hostname: 'h',\n  path: '/',\n  body: {body},\n  headers: {{ "
              "authorization: 'AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/s3/aws4_request, "
              "SignedHeaders=host, Signature=00' }}\n}}\n")


def test_a_printed_lone_surrogate_reads_as_the_bytes_node_sends() -> None:
    """JavaScript strings may hold a lone surrogate (`'\\uD800'`); Node's UTF-8 encoder sends U+FFFD for it and
    joins a pair into its character. Read as Python's `str` it made `.encode()` raise (a traceback)."""
    capture = parse_capture(_JS_SIGNED.format(body="'a\\uD800b\\uD83D\\uDE00'").encode())
    assert capture.request.body == "a\ufffdb\U0001f600".encode()


def test_a_printed_escape_past_the_last_code_point_is_a_capture_error() -> None:
    with pytest.raises(CaptureError, match=r"js-sdk capture: request 1: .*past U\+10FFFF"):
        parse_capture(_JS_SIGNED.format(body="'\\u{110000}'").encode())


def test_what_inspect_prints_for_accessors_functions_and_classes_reads_as_not_shown() -> None:
    """Node prints `[Getter/Setter]`, `[Function (anonymous)]` and `[class A]` (`console.log` of an object with an
    accessor, an arrow function or a class): each was read as an array and failed ("expected `,` or `]`")."""
    from wire.debugger.js_inspect import read_value
    text = "{\n  a: [Getter/Setter],\n  f: [Function: f],\n  c: [class A],\n  h: [ [Function (anonymous)] ]\n}"
    assert read_value(text) == ({"a": None, "f": None, "c": None, "h": [None]}, len(text))


def test_a_content_length_of_a_unicode_digit_is_no_framing() -> None:
    """`Content-Length: ²` passed `str.isdigit` and int() raised ValueError: a traceback from `explain`."""
    capture = parse_capture("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: ²\r\n\r\nab".encode())
    assert capture.request.body == b"ab"
