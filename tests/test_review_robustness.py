"""Crafted inputs from the second reader's review: each once crashed or leaked, each must now be handled."""

from __future__ import annotations

from datetime import datetime, timezone

from sigv4 import Credentials, Request, sign
from wire.diagnose import diagnose, read_error

CREDS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
WHEN = datetime(2015, 8, 30, 12, 36, tzinfo=timezone.utc)


def test_diagnose_with_a_secret_reads_a_non_ascii_signature_as_not_matching() -> None:
    signed = sign(Request("GET", "https://example.amazonaws.com/"), CREDS, region="us-east-1", service="service",
                  timestamp=WHEN).request
    authorization = signed.header("authorization") or ""
    forged = signed.with_header("Authorization", authorization.rpartition("Signature=")[0] + "Signature=\u00e9")
    diagnosis = diagnose(forged, None, secret=CREDS)
    assert diagnosis.signature_check is not None and not diagnosis.signature_check.ours_matches


def test_read_error_is_total_on_unicode_digits_and_huge_skew_windows() -> None:
    bodies = [
        "<Error><Code>RequestTimeTooSkewed</Code><MaxAllowedSkewMilliseconds>\u00b2</MaxAllowedSkewMilliseconds></Error>",
        "<Error><Code>RequestTimeTooSkewed</Code><MaxAllowedSkewMilliseconds>" + "9" * 30
        + "</MaxAllowedSkewMilliseconds></Error>",
        '{"message": "Signature expired: 20150830T123600Z is now earlier than 20150830T124600Z '
        '(20150830T125100Z - ' + "9" * 30 + ' min.)"}',
    ]
    for body in bodies:
        complaint = read_error(403, [], body.encode("utf-8"))
        assert complaint.allowed_skew is None
