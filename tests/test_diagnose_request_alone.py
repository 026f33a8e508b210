"""Issue 21 classes 3 and 4: what the request alone decides, and envelopes without strings, in the envelopes
AWS documents (tests/fixtures/errors) where only AWS answers that way."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

from sigv4 import Credentials, Request, presign, sign
from wire.debugger.diagnose import diagnose_answer

CREDS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
WHEN = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
BUCKET = "https://examplebucket.s3.amazonaws.com"
EMPTY_403 = (403, [("Date", "Tue, 02 Jan 2024 03:54:05 GMT")], b"")


def _first(sent: Request, answer: object = EMPTY_403) -> tuple[str, str]:
    cause = diagnose_answer(sent, answer).causes[0]  # type: ignore[arg-type]
    return cause.kind, cause.evidence


def test_a_scope_date_that_is_not_the_request_date_is_scope_date() -> None:
    signed = sign(Request("GET", BUCKET + "/k"), CREDS, region="us-east-1", service="s3", timestamp=WHEN).request
    sent = signed.with_header("X-Amz-Date", "20240103T000001Z")
    assert _first(sent, (403, [], b"")) == ("scope-date", "proved")


def test_an_expired_presigned_url_against_the_response_date_is_expired() -> None:
    """S3's HEAD answers 403 with no body: the response's Date decides."""
    url = presign(Request("HEAD", BUCKET + "/k"), CREDS, region="us-east-1", service="s3", timestamp=WHEN,
                  expires=60).request
    assert _first(url) == ("expired", "proved")


def test_a_header_signed_head_an_hour_off_the_response_date_is_clock_skew() -> None:
    sent = sign(Request("HEAD", BUCKET + "/k"), CREDS, region="us-east-1", service="s3", timestamp=WHEN).request
    assert _first(sent, (403, [("Date", "Tue, 02 Jan 2024 04:34:05 GMT")], b"")) == ("clock-skew", "proved")


def test_a_session_token_with_a_long_term_key_is_token() -> None:
    sent = sign(Request("GET", BUCKET + "/k"), Credentials("AKIAIOSFODNN7EXAMPLE", CREDS.secret_access_key, "tok"),
                region="us-east-1", service="s3", timestamp=WHEN).request
    assert _first(sent, (403, [], b"")) == ("token", "proved")


def test_a_token_appended_after_the_presigned_signature_is_token() -> None:
    url = presign(Request("GET", BUCKET + "/k"), Credentials("ASIAEXAMPLE", CREDS.secret_access_key),
                  region="us-east-1", service="s3", timestamp=WHEN, expires=900).request
    sent = url.with_url(url.url + "&X-Amz-Security-Token=tok")
    assert _first(sent, (403, [], b"")) == ("token", "proved")


def test_a_declared_body_hash_that_is_not_the_bodys_is_payload_hash() -> None:
    signed = sign(Request("PUT", BUCKET + "/k", [], b"hello"), CREDS, region="us-east-1", service="s3",
                  timestamp=WHEN, s3=True, content_sha256_header=True).request
    assert signed.header("x-amz-content-sha256") == hashlib.sha256(b"hello").hexdigest()
    assert _first(signed.with_body(b"hello!"), (403, [], b"")) == ("payload-hash", "proved")


def test_a_signed_hop_by_hop_header_is_named_before_the_secret() -> None:
    """A hand-rolled signer that signs every header it sends, `Connection` among them."""
    signed = sign(Request("GET", BUCKET + "/k"), CREDS, region="us-east-1", service="s3", timestamp=WHEN).request
    authorization = (signed.header("authorization") or "").replace("SignedHeaders=", "SignedHeaders=connection;")
    sent = signed.with_header("Authorization", authorization).with_header("Connection", "keep-alive")
    causes = diagnose_answer(sent, (403, [], b"<Error><Code>SignatureDoesNotMatch</Code></Error>")).causes
    assert (causes[0].kind, causes[0].evidence) == ("header-changed", "likely") and "hop-by-hop" in causes[0].message


def test_ec2_auth_failure_names_an_unknown_key_and_request_expired_on_a_header_signed_request_is_skew() -> None:
    """EC2 answers a wrong signature with SignatureDoesNotMatch (tests/fixtures/errors) and credentials it cannot
    find with AuthFailure: the unknown key comes first, the secret second; RequestExpired on a header-signed
    request is a clock skew, not an expiry."""
    sent = sign(Request("GET", "https://ec2.us-east-1.amazonaws.com/?Action=DescribeInstances&Version=2016-11-15"),
                CREDS, region="us-east-1", service="ec2", timestamp=WHEN).request
    auth_failure = (b"<Response><Errors><Error><Code>AuthFailure</Code><Message>AWS was not able to validate the "
                    b"provided access credentials</Message></Error></Errors><RequestID>x</RequestID></Response>")
    causes = diagnose_answer(sent, (401, [], auth_failure)).causes
    assert [(c.kind, c.evidence) for c in causes[:2]] == [("access-key", "likely"), ("secret", "likely")]
    assert "AuthFailure" in causes[0].message and "would settle it" in causes[0].message
    expired = (b"<Response><Errors><Error><Code>RequestExpired</Code><Message>Request has expired.</Message>"
               b"</Error></Errors><RequestID>x</RequestID></Response>")
    assert _first(sent, (400, [("Date", "Tue, 02 Jan 2024 04:04:05 GMT")], expired))[0] == "clock-skew"


def test_a_500_or_an_html_page_gets_no_signing_cause() -> None:
    sent = sign(Request("GET", BUCKET + "/k"), CREDS, region="us-east-1", service="s3", timestamp=WHEN).request
    assert diagnose_answer(sent, (500, [], b"<Error><Code>InternalError</Code></Error>")).causes == ()
    html = b"<!DOCTYPE html><html><body>403 Forbidden by the load balancer</body></html>"
    assert diagnose_answer(sent, (403, [], html)).causes == ()


def test_a_temporary_key_without_its_token_is_said_in_words_the_log_masking_keeps() -> None:
    """The cause for an ASIA key sent without its token read `... without X-Amz-Security-Token: send its session
    token`, which the logs' token masking turned into `X-Amz-Security-Token: **** its session token`."""
    from sigv4.redact import redact
    temporary = Credentials("ASIAEXAMPLEEXAMPLE12", CREDS.secret_access_key, "FwoGZXIvYXdzEXAMPLETOKEN")
    sent = sign(Request("POST", "https://sts.amazonaws.com/", [("Content-Type", "application/x-www-form-urlencoded")],
                        b"Action=GetCallerIdentity&Version=2011-06-15"),
                Credentials(temporary.access_key_id, temporary.secret_access_key), region="us-east-1",
                service="sts", timestamp=WHEN).request
    invalid = (b"<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security "
               b"token included in the request is invalid.</Message></Error></ErrorResponse>")
    cause = diagnose_answer(sent, (403, [], invalid)).causes[0]
    assert cause.kind == "token" and "X-Amz-Security-Token" in cause.message
    assert redact(cause.message, temporary) == cause.message
