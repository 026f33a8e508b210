"""The signature-mismatch debugger: recorded-style error bodies of each kind, each naming the right cause.

Every "server" below is a real computation: the request the server received
(the sent one, perturbed the way a proxy, an HTTP library or a clock would
perturb it) is signed with `sigv4.sign`, and its canonical request and
string-to-sign are poured into an error envelope from tests/fixtures/errors/.
The debugger only sees the sent request and that envelope.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from string import Template
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigv4 import Credentials, Request, presign, sign
from sigv4.keys import signing_key
from sigv4.signer import SigningResult
from wire.debugger.diagnose import CAUSE_KINDS, Diagnosis, ServerComplaint, diagnose, line_diff, read_error, signature_params
from wire.debugger.diagnosis_text import render_text

FIXTURES = Path(__file__).parent / "fixtures" / "errors"
CREDS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
WHEN = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
STS_URL = "https://sts.amazonaws.com/"
FORM = ("Content-Type", "application/x-www-form-urlencoded")
BODY = b"Action=GetCallerIdentity&Version=2011-06-15"


def signed(request: Request, **options: Any) -> SigningResult:
    settings_ = {"region": "us-east-1", "service": "sts", "timestamp": WHEN, **options}
    return sign(request, CREDS, **settings_)


def _hex(text: str) -> str:
    return " ".join(f"{byte:02x}" for byte in text.encode("utf-8"))


def _json_text(text: str) -> str:
    return json.dumps(text)[1:-1]


def server_says(fixture: str, server: SigningResult | None = None, status: int | None = 403, **extra: str) -> ServerComplaint:
    """Fill an error envelope with what `server` computed, escaped the way that envelope escapes text."""
    template = Template((FIXTURES / fixture).read_text())
    quote = escape if fixture.endswith(".xml") else _json_text
    values = dict(extra)
    if server is not None:
        values |= {
            "canonical_request": quote(server.canonical_request), "string_to_sign": quote(server.string_to_sign),
            "canonical_request_bytes": _hex(server.canonical_request),
            "string_to_sign_bytes": _hex(server.string_to_sign),
            "access_key_id": CREDS.access_key_id, "signature_provided": server.signature,
        }
    body = template.substitute(values).encode("utf-8")
    return read_error(None if fixture.endswith(".http") else status, [], body)


def kinds(diagnosis: Diagnosis) -> list[str]:
    return [cause.kind for cause in diagnosis.causes]


def cause(diagnosis: Diagnosis, kind: str) -> str:
    found = [c.message for c in diagnosis.causes if c.kind == kind]
    assert found, f"no {kind!r} cause in {kinds(diagnosis)}:\n{render_text(diagnosis)}"
    return "\n".join(found)


def sts_request(*headers: tuple[str, str], url: str = STS_URL, body: bytes = BODY) -> Request:
    return Request("POST", url, [FORM, *headers], body)


# -- the server sent its canonical request: causes read off the diff -----------------------


def test_s3_header_changed_after_signing_is_named_with_both_values() -> None:
    request = Request("PUT", "https://bucket.s3.amazonaws.com/photo.jpg", [("x-amz-meta-color", "blue")], b"jpeg")
    sent = signed(request, service="s3", s3=True).request
    server = signed(request.with_header("x-amz-meta-color", "red"), service="s3", s3=True)
    complaint = server_says("s3-signature-does-not-match.xml", server)
    assert (complaint.envelope, complaint.kind) == ("s3-xml", "signature-mismatch")
    assert complaint.canonical_request == server.canonical_request
    assert complaint.string_to_sign == server.string_to_sign
    diagnosis = diagnose(sent, complaint)
    header = [c for c in diagnosis.causes if c.kind == "header-changed"]
    assert [(c.ours, c.theirs) for c in header] == [("blue", "red")]
    assert "`x-amz-meta-color`" in header[0].message
    assert ("changed", "x-amz-meta-color:blue", "x-amz-meta-color:red") in \
        [(r.status, r.ours, r.theirs) for r in diagnosis.canonical_diff]


def test_s3_encoded_slash_decoded_in_transit() -> None:
    request = Request("GET", "https://bucket.s3.amazonaws.com/reports/2024%2F01.csv")
    sent = signed(request, service="s3", s3=True).request
    server = signed(request.with_url("https://bucket.s3.amazonaws.com/reports/2024/01.csv"), service="s3", s3=True)
    diagnosis = diagnose(sent, server_says("s3-signature-does-not-match.xml", server))
    assert "`%2F`" in cause(diagnosis, "path-encoding")
    assert kinds(diagnosis) == ["path-encoding"]


def test_plus_read_as_space_in_query_parameter() -> None:
    request = sts_request(url=STS_URL + "?Filter=a+b")
    sent = signed(request).request
    server = signed(request, plus_is_space=True)
    diagnosis = diagnose(sent, server_says("query-signature-does-not-match.xml", server))
    message = cause(diagnosis, "plus-space")
    assert "each `+` in the query as a space (`%20`)" in message


def test_query_envelope_unescapes_ampersands_in_the_canonical_query() -> None:
    request = sts_request(url=STS_URL + "?b=2&a=1")
    server = signed(request)
    body = (FIXTURES / "query-signature-does-not-match.xml").read_text()
    assert "&amp;" in escape(server.canonical_request)
    complaint = server_says("query-signature-does-not-match.xml", server)
    assert complaint.canonical_request is not None and "a=1&b=2" in complaint.canonical_request
    assert "$canonical_request" in body


def test_x_amz_date_changed_in_transit_shows_in_both_strings() -> None:
    request = sts_request()
    sent = signed(request).request
    server = signed(request, timestamp=WHEN + timedelta(minutes=10))
    diagnosis = diagnose(sent, server_says("errors-array.json", server))
    assert diagnosis.complaint is not None and diagnosis.complaint.code == "InvalidSignature"
    assert "request time: ours 20240102T030405Z" in cause(diagnosis, "header-changed")
    assert {(c.ours, c.theirs) for c in diagnosis.causes if c.kind == "header-changed"} == \
        {("20240102T030405Z", "20240102T031405Z")}


def test_body_changed_shows_both_hashes() -> None:
    request = Request("POST", "https://dynamodb.us-east-1.amazonaws.com/", [("Content-Type", "application/x-amz-json-1.0")],
                      b'{"TableName":"a"}')
    sent = signed(request, service="dynamodb").request
    server = signed(request.with_body(b'{"TableName":"b"}'), service="dynamodb")
    diagnosis = diagnose(sent, server_says("json-invalid-signature.json", server))
    ours, theirs = hashlib.sha256(b'{"TableName":"a"}').hexdigest(), hashlib.sha256(b'{"TableName":"b"}').hexdigest()
    assert [(c.ours, c.theirs) for c in diagnosis.causes if c.kind == "payload-hash"] == [(ours, theirs)]
    assert ours in cause(diagnosis, "payload-hash") and theirs in cause(diagnosis, "payload-hash")


def test_scope_region_difference_in_the_string_to_sign() -> None:
    request = sts_request()
    sent = signed(request, region="us-west-2").request
    server = signed(request, region="us-east-1")
    diagnosis = diagnose(sent, server_says("json-invalid-signature.json", server))
    assert [(c.ours, c.theirs) for c in diagnosis.causes if c.kind == "scope-region"] == [("us-west-2", "us-east-1")]


# -- only the string-to-sign: the variant search reproduces the server's hash ----------------


def _same(request: Request) -> Request:
    return request


@pytest.mark.parametrize(("request_", "options", "in_transit", "server_options", "words"), [
    pytest.param(Request("GET", "https://abc.execute-api.us-east-1.amazonaws.com/prod/a%20b"), {"service": "execute-api"},
                 _same, {"double_encode": False}, "encoded once", id="path-encoded-once"),
    pytest.param(Request("GET", "https://abc.execute-api.us-east-1.amazonaws.com/prod//a/./b"), {"service": "execute-api"},
                 _same, {"normalize_path": False}, "the path as sent", id="path-left-raw"),
    pytest.param(sts_request(url=STS_URL + "?q=a+b"), {}, _same, {"plus_is_space": True}, "as a space (`%20`)",
                 id="plus-as-space"),
    pytest.param(sts_request(("Host", "sts.amazonaws.com:443")), {},
                 lambda r: r.with_header("Host", "sts.amazonaws.com"), {}, "`host:sts.amazonaws.com` (no port)", id="host-port-dropped"),
    pytest.param(sts_request(("Host", "sts.amazonaws.com")), {},
                 lambda r: r.with_header("Host", "sts.amazonaws.com:443"), {}, "`host:sts.amazonaws.com:443`", id="host-port-added"),
    pytest.param(sts_request(("Host", "[::1]:8080"), url="http://[::1]:8080/"), {},
                 lambda r: r.with_header("Host", "::1:8080"), {}, "IPv6 without brackets", id="ipv6-brackets-dropped"),
    pytest.param(sts_request(), {},
                 lambda r: r.with_header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"), {},
                 "`content-type:application/x-www-form-urlencoded; charset=utf-8`", id="charset-added"),
    pytest.param(sts_request(("X-Custom", "1")), {}, lambda r: r.with_header("X-Custom", ""), {},
                 "no `x-custom` header", id="signed-header-dropped"),
    pytest.param(sts_request(), {}, lambda r: r.with_body(b""), {}, "the hash of an empty body", id="body-dropped"),
])
def test_server_hash_reproduced_by_the_named_rule(request_: Request, options: dict[str, Any],
                                                  in_transit: Callable[[Request], Request],
                                                  server_options: dict[str, Any], words: str) -> None:
    sent = signed(request_, **options).request
    server = signed(in_transit(request_), **options, **server_options)
    for fixture in ("rest-json-sts-only.http", "detailed-message.json"):
        complaint = server_says(fixture, server)
        assert complaint.canonical_request is None and complaint.string_to_sign == server.string_to_sign
        diagnosis = diagnose(sent, complaint)
        first = diagnosis.causes[0]
        assert first.evidence == "proved" and words in first.message, render_text(diagnosis)
        assert first.message.startswith("reproduces the server's canonical request: the server canonicalized")
        assert diagnosis.theirs_reconstructed
        assert diagnosis.theirs_canonical_request == server.canonical_request


def test_unreproducible_hash_is_said_plainly() -> None:
    sent = signed(sts_request(("X-Custom", "1"))).request
    server = signed(sts_request(("X-Custom", "something else entirely")))
    diagnosis = diagnose(sent, server_says("detailed-message.json", server))
    assert "no known mistake reproduces it" in cause(diagnosis, "header-changed")
    assert diagnosis.causes[0].evidence == "likely"
    assert not diagnosis.theirs_reconstructed


# -- both strings agree: the key ---------------------------------------------------------------


def test_same_strings_mean_the_key_differs_and_a_secret_settles_it() -> None:
    result = signed(sts_request())
    complaint = server_says("query-signature-does-not-match.xml", result)
    assert "secret access key" in cause(diagnose(result.request, complaint), "secret")
    with_secret = diagnose(result.request, complaint, secret=CREDS)
    assert "AWS holds a different secret" in cause(with_secret, "secret")
    assert with_secret.signature_check is not None and with_secret.signature_check.ours_matches
    assert with_secret.signature_check.theirs_matches
    wrong = diagnose(result.request, complaint, secret="not-the-secret")
    assert "does not verify" in cause(wrong, "secret")
    for text in (render_text(with_secret), json.dumps(with_secret.to_json()), repr(with_secret)):
        assert CREDS.secret_access_key not in text


def test_client_signing_bare_query_name_is_found_with_the_secret() -> None:
    """A client bug: it signed `acl` instead of `acl=`. The server (standard) agrees with us, so only the secret tells."""
    result = signed(Request("GET", "https://bucket.s3.amazonaws.com/key?acl"), service="s3", s3=True)
    lines = result.canonical_request.split("\n")
    assert lines[2] == "acl="
    lines[2] = "acl"
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    sts = result.string_to_sign.rsplit("\n", 1)[0] + "\n" + digest
    key = signing_key(CREDS.secret_access_key, "20240102", "us-east-1", "s3")
    bad = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    sent = result.request.with_header("Authorization", result.authorization.replace(result.signature, bad))  # type: ignore[union-attr]
    complaint = server_says("s3-signature-does-not-match.xml", result)
    assert "secret" in kinds(diagnose(sent, complaint))
    with_secret = diagnose(sent, complaint, secret=CREDS)
    assert with_secret.causes[0].kind == "query-empty-value" and with_secret.causes[0].evidence == "proved"
    assert "the client signed a parameter without a value as `x`" in with_secret.causes[0].message


def test_missing_signed_header_in_the_sent_request() -> None:
    sent = signed(sts_request(("X-Custom", "1"))).request.without_headers(["x-custom"])
    assert "`x-custom` is listed in SignedHeaders" in cause(diagnose(sent), "header-dropped")


# -- time, scope, token and other complaints ------------------------------------------------------


@pytest.mark.parametrize(("fixture", "kind", "amount", "direction", "window"), [
    ("json-signature-expired.json", "signature-expired", "32 min 17 s", "behind", "15 min"),
    ("rest-json-not-yet-current.http", "signature-not-yet-current", "14 min 5 s", "ahead of", "5 min"),
    ("s3-request-time-too-skewed.xml", "clock-skew", "1 h 6 min", "behind", "15 min"),
])
def test_clock_skew_reported_with_amount_and_window(fixture: str, kind: str, amount: str, direction: str,
                                                     window: str) -> None:
    complaint = server_says(fixture)
    assert complaint.kind == kind
    message = cause(diagnose(signed(sts_request()).request, complaint), "clock-skew")
    assert f"is {amount} {direction} the server's clock" in message
    assert f"allowed ±{window}" in message


def test_presigned_url_expired() -> None:
    sent = presign(Request("GET", "https://bucket.s3.amazonaws.com/key"), CREDS, region="us-east-1", service="s3",
                   timestamp=WHEN, expires=3600, s3=True).request
    assert signature_params(sent).presigned
    message = cause(diagnose(sent, server_says("s3-request-expired.xml")), "expired")
    assert "expired at 2024-01-02T04:04:05Z" in message and "1 h 55 min 55 s later" in message


@pytest.mark.parametrize(("fixture", "kind", "expected"), [
    ("s3-authorization-header-malformed.xml", "scope-region", ("us-west-2", "eu-central-1")),
    ("query-scope-region.xml", "scope-region", ("us-west-2", None)),
    ("json-scope-service.json", "scope-service", ("sts", "account")),
    ("query-scope-date.xml", "scope-date", ("20240101", "20240102")),
])
def test_scope_complaints(fixture: str, kind: str, expected: tuple[str, str | None]) -> None:
    sent = signed(sts_request(), region="us-west-2").request
    diagnosis = diagnose(sent, server_says(fixture))
    assert [(c.ours, c.theirs) for c in diagnosis.causes if c.kind == kind] == [expected]


def test_content_sha256_mismatch_says_the_body_changed() -> None:
    request = Request("PUT", "https://bucket.s3.amazonaws.com/k", [], b"hello")
    sent = signed(request, service="s3", s3=True).request
    ours, theirs = hashlib.sha256(b"hello").hexdigest(), hashlib.sha256(b"hello!").hexdigest()
    complaint = server_says("s3-content-sha256-mismatch.xml", client_hash=ours, server_hash=theirs)
    assert (complaint.client_sha256, complaint.server_sha256) == (ours, theirs)
    message = cause(diagnose(sent, complaint), "payload-hash")
    assert ours in message and theirs in message and "changed in transit" in message


def test_incomplete_signature_names_the_missing_parts() -> None:
    sent = Request("POST", STS_URL, [FORM, ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/"
                                              "us-east-1/sts/aws4_request, SignedHeaders=content-type;host")], BODY)
    diagnosis = diagnose(sent, server_says("query-incomplete-signature.xml"))
    assert diagnosis.complaint is not None and diagnosis.complaint.missing == ("Signature", "X-Amz-Date")
    assert any("Signature is missing" in note for note in diagnosis.notes)
    assert "Signature, X-Amz-Date" in cause(diagnosis, "algorithm")


def test_token_complaints() -> None:
    temporary = Credentials("ASIAEXAMPLE", CREDS.secret_access_key)
    sent = sign(sts_request(), temporary, region="us-east-1", service="sts", timestamp=WHEN).request
    assert "without its session token: send the token as the X-Amz-Security-Token header" in cause(
        diagnose(sent, server_says("json-token-invalid.json")), "token")
    assert "expired" in cause(diagnose(sent, server_says("query-token-expired.xml")), "token")


def test_unknown_access_key_and_ec2_envelope() -> None:
    sent = signed(sts_request()).request
    assert "AKIDEXAM" in cause(diagnose(sent, server_says("s3-invalid-access-key.xml")), "access-key")
    ec2 = server_says("ec2-signature-does-not-match.xml")
    assert (ec2.envelope, ec2.code, ec2.kind) == ("ec2-xml", "SignatureDoesNotMatch", "signature-mismatch")
    assert any("the server sent no canonical request" in note for note in diagnose(sent, ec2).notes)


def test_skew_against_the_response_date_without_a_complaint() -> None:
    sent = signed(sts_request()).request
    message = cause(diagnose(sent, response_date=WHEN + timedelta(minutes=20)), "clock-skew")
    assert "20 min behind" in message and "response Date header" in message
    assert "clock-skew" not in kinds(diagnose(sent, response_date=WHEN + timedelta(seconds=3)))


# -- rendering ----------------------------------------------------------------------------------


def test_tokens_are_redacted_in_text_and_json() -> None:
    token = "FQoGZXIvYXdzEXAMPLESESSIONTOKEN"
    creds = Credentials("ASIAEXAMPLE", CREDS.secret_access_key, token)
    request = sts_request()
    sent = sign(request, creds, region="us-east-1", service="sts", timestamp=WHEN).request
    server = sign(request.with_header("X-Custom", "x"), creds, region="us-east-1", service="sts", timestamp=WHEN)
    diagnosis = diagnose(sent, server_says("query-signature-does-not-match.xml", server), secret=creds)
    text, data = render_text(diagnosis), json.dumps(diagnosis.to_json())
    assert "x-amz-security-token:<redacted" in text
    for shown in (text, data):
        assert token not in shown and creds.secret_access_key not in shown


def test_render_makes_whitespace_and_line_ends_visible() -> None:
    rows = line_diff("GET\n/a \nx\tb", "GET\n/a\nx\tb\r")
    text = render_text(Diagnosis(None, None, None, None, None, None, False, rows, (), (), None))
    assert "/a·¶" in text and "x\\tb\\r" in text
    assert [r.status for r in rows] == ["same", "changed", "changed"]


def test_diagnosis_to_json_round_trips() -> None:
    result = signed(sts_request(url=STS_URL + "?q=a+b"))
    diagnosis = diagnose(result.request, server_says("detailed-message.json", signed(sts_request(url=STS_URL + "?q=a+b"),
                                                                                      plus_is_space=True)))
    data = json.loads(json.dumps(diagnosis.to_json()))
    assert data["theirs_reconstructed"] is True
    assert data["causes"][0]["kind"] == "plus-space" and data["causes"][0]["evidence"] == "proved"
    assert isinstance(data["notes"], list)


# -- reading envelopes -------------------------------------------------------------------------------


def test_raw_chunked_response_is_split_and_dechunked() -> None:
    payload = b'{"__type":"com.amazon.coral.service#InvalidSignatureException","message":"Signature expired: ' \
              b'20240102T030405Z is now earlier than 20240102T032122Z (20240102T033622Z - 15 min.)"}'
    raw = (b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\nContent-Type: application/x-amz-json-1.1\r\n\r\n"
           + b"%x\r\n" % 20 + payload[:20] + b"\r\n" + b"%x\r\n" % (len(payload) - 20) + payload[20:] + b"\r\n0\r\n\r\n")
    complaint = read_error(None, [], raw)
    assert (complaint.status, complaint.code, complaint.kind) == (400, "InvalidSignatureException", "signature-expired")
    assert complaint.allowed_skew == timedelta(minutes=15)


def test_s3_hex_dump_wins_over_the_text() -> None:
    body = (b"<Error><Code>SignatureDoesNotMatch</Code><StringToSign>mangled</StringToSign>"
            b"<StringToSignBytes>41 57 53 0d 0a 58</StringToSignBytes></Error>")
    assert read_error(403, [], body).string_to_sign == "AWS\r\nX"


def test_xml_with_a_dtd_is_not_expanded() -> None:
    body = (b'<?xml version="1.0"?><!DOCTYPE Error [<!ENTITY x "SignatureDoesNotMatch">]>'
            b"<Error><Code>&x;</Code></Error>")
    complaint = read_error(403, [], body)
    assert complaint.envelope == "text" and complaint.code == ""


@settings(max_examples=200)
@given(st.binary(max_size=400))
def test_read_error_is_total_on_any_bytes(data: bytes) -> None:
    for body in (data, b"HTTP/1.1 403 Forbidden\r\n" + data, b"<Error>" + data, b'{"message": "' + data):
        assert isinstance(read_error(None, [], body), ServerComplaint)


@settings(max_examples=100)
@given(st.text(max_size=200), st.text(max_size=200))
def test_read_error_is_total_on_envelope_shaped_text(code: str, message: str) -> None:
    bodies = [json.dumps({"__type": code, "message": message}).encode(),
              json.dumps({"errors": [{"code": code, "message": message}]}).encode(),
              f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>".encode()]
    for body in bodies:
        assert isinstance(read_error(400, [("x-amzn-ErrorType", code)], body), ServerComplaint)


# -- issue 12's findings, each with its wording ---------------------------------------------------------------


def _forged(result: SigningResult, canonical: str) -> Request:
    """The request as a signer sends it after signing `canonical` instead of the right canonical request."""
    sts = result.string_to_sign.rsplit("\n", 1)[0] + "\n" + hashlib.sha256(canonical.encode()).hexdigest()
    key = signing_key(CREDS.secret_access_key, "20240102", "us-east-1", "sts")
    signature = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    return result.request.with_header("Authorization", (result.authorization or "").replace(result.signature, signature))


def test_charset_added_by_a_proxy_is_worded_as_arriving_with_it() -> None:
    sent = signed(sts_request()).request
    arrived = sent.with_header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
    complaint = server_says("ec2-signature-does-not-match.xml")
    first = diagnose(arrived, complaint, secret=CREDS).causes[0]
    assert (first.kind, first.evidence) == ("header-changed", "proved")
    assert "the client signed `content-type:application/x-www-form-urlencoded` (no charset), but the request carries " \
           "`Content-Type: application/x-www-form-urlencoded; charset=utf-8`" in first.message


def test_host_port_dropped_by_a_hand_rolled_signer_is_worded_as_signed_without_it() -> None:
    result = signed(sts_request(("Host", "localhost:8443"), url="https://localhost:8443/"))
    sent = _forged(result, result.canonical_request.replace("host:localhost:8443", "host:localhost"))
    first = diagnose(sent, server_says("ec2-signature-does-not-match.xml"), secret=CREDS).causes[0]
    assert (first.kind, first.evidence) == ("host-port", "proved")
    assert "the client signed `host:localhost` (no port), but the request carries `Host: localhost:8443`" in first.message


@pytest.mark.parametrize("fixture", ["sts-invalid-client-token-id.xml", "json-token-invalid.json",
                                     "s3-invalid-access-key.xml"])
def test_unknown_access_key_id_is_not_read_as_a_bad_token(fixture: str) -> None:
    first = diagnose(signed(sts_request()).request, server_says(fixture)).causes[0]
    assert first.kind == "access-key" and "AKIDEXAM… is not known to this endpoint" in first.message
    assert "no session token was sent" in first.message or fixture == "s3-invalid-access-key.xml"


@pytest.mark.parametrize("fixture", ["json-minimal-signature.json", "ec2-signature-does-not-match.xml"])
def test_no_server_strings_is_said_plainly_with_what_would_settle_it(fixture: str) -> None:
    diagnosis = diagnose(signed(sts_request()).request, server_says(fixture))
    text = render_text(diagnosis)
    assert "none found" not in text and "the strings agree" not in text
    assert any("the server sent no canonical request and no string-to-sign" in n for n in diagnosis.notes)
    first = diagnosis.causes[0]
    assert first.evidence == "likely" and "would settle it" in first.message


def test_missing_authentication_token_for_a_signed_request_is_a_route_not_found() -> None:
    """Issue 21 class 4: API Gateway answers MissingAuthenticationToken for a path or method it has no route for;
    the request carries a signature, so no signing cause is named."""
    diagnosis = diagnose(signed(sts_request()).request, server_says("json-missing-authentication-token.json"))
    assert diagnosis.causes == ()
    assert any("found no route for this method and path" in n for n in diagnosis.notes)
    unsigned = diagnose(sts_request(), server_says("json-missing-authentication-token.json"))
    assert any("API Gateway also answers this" in n for n in unsigned.notes)


def test_iam_scoped_to_a_valid_region_names_the_region() -> None:
    sent = signed(Request("GET", "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08"), region="us-west-2",
                  service="iam").request
    first = diagnose(sent, server_says("iam-scope-valid-region.xml")).causes[0]
    assert first.kind == "scope-region"
    assert first.message == "the region in the credential scope is `us-west-2`; iam is a global service: sign it for `us-east-1`"


def test_incomplete_signature_text_reads_well() -> None:
    body = b"<ErrorResponse><Error><Code>IncompleteSignature</Code><Message>x</Message></Error></ErrorResponse>"
    message = diagnose(signed(sts_request()).request, read_error(400, [], body)).causes[0].message
    assert "no a part" not in message and "did not say which part is missing" in message


def test_every_cause_kind_is_in_the_vocabulary_and_json_has_causes_and_notes() -> None:
    diagnosis = diagnose(signed(sts_request()).request, server_says("ec2-signature-does-not-match.xml"))
    data = diagnosis.to_json()
    assert isinstance(data["notes"], list) and data["causes"]
    for cause_ in data["causes"]:
        assert cause_["kind"] in CAUSE_KINDS and cause_["evidence"] in ("proved", "likely") and cause_["message"]


def test_s3_error_xml_is_read_as_the_other_envelopes() -> None:
    """Issue 15: StringToSign, CanonicalRequest, their Bytes forms, SignatureProvided and AWSAccessKeyId."""
    request = Request("PUT", "https://bucket.s3.amazonaws.com/a%20b.txt", [("Content-Type", "text/plain")], b"x")
    sent = signed(request, service="s3", s3=True).request
    server = signed(request.with_header("Content-Type", "text/plain; charset=utf-8"), service="s3", s3=True)
    complaint = server_says("s3-signature-does-not-match.xml", server)
    assert (complaint.canonical_request, complaint.string_to_sign) == (server.canonical_request, server.string_to_sign)
    assert (complaint.signature_provided, complaint.access_key_id) == (server.signature, "AKIDEXAMPLE")
    diagnosis = diagnose(sent, complaint)
    assert (diagnosis.causes[0].kind, diagnosis.causes[0].evidence) == ("header-changed", "proved")
    # S3 echoed the signature of another request than the one captured: said in a note.
    assert any("the response is not about this request" in note for note in diagnosis.notes)
    echoed = replace(complaint, signature_provided=signature_params(sent).signature)
    assert not any("not about this request" in note for note in diagnose(sent, echoed).notes)
    # The Bytes forms keep the CR that XML parsing drops.
    body = (FIXTURES / "s3-signature-does-not-match.xml").read_text()
    crlf = server.canonical_request.replace("text/plain; charset=utf-8", "text/plain\r")
    filled = Template(body).substitute(canonical_request=escape(crlf), string_to_sign=escape(server.string_to_sign),
                                       canonical_request_bytes=_hex(crlf), string_to_sign_bytes=_hex(server.string_to_sign),
                                       access_key_id="AKIDEXAMPLE", signature_provided="0" * 64)
    assert read_error(403, [], filled.encode()).canonical_request == crlf


def test_credentials_of_another_key_are_not_used_to_judge_the_signature() -> None:
    sent = signed(sts_request()).request
    diagnosis = diagnose(sent, server_says("ec2-signature-does-not-match.xml"),
                         secret=Credentials("AKIAOTHERKEYEXAMPLE", "other"))
    assert diagnosis.signature_check is None
    assert any("the credentials given are for AKIAOTHE…, the request is signed by AKIDEXAM…" in n
               for n in diagnosis.notes)
    assert diagnosis.causes[0].evidence == "likely"
