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
