"""Inputs that must be refused or masked: header injection through credentials, tokens in reprs."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

import sigv4

NOW = datetime(2015, 8, 30, 12, 36, tzinfo=timezone.utc)
SCOPE = dict(region="us-east-1", service="service", timestamp=NOW)
TOKEN = "FwoGZXIvYXdzE/tok+en=="


@pytest.mark.parametrize("creds, message", [
    (sigv4.Credentials("AK\r\nX-Evil: 1", "S"), "access key id must be printable ASCII"),
    (sigv4.Credentials("AK/ID", "S"), "access key id"),
    (sigv4.Credentials("AK", "S", "T\r\nX-Evil: 1"), "session token must be printable ASCII"),
])
@pytest.mark.parametrize("algorithm", ["v4", "v2"])
def test_credentials_cannot_inject_headers(creds, message, algorithm) -> None:
    with pytest.raises(sigv4.InvalidParameterError, match=message):
        sigv4.sign(sigv4.Request("GET", "https://h/"), creds, algorithm=algorithm, **SCOPE)
    with pytest.raises(sigv4.InvalidParameterError, match=message):
        sigv4.presign(sigv4.Request("GET", "https://h/"), creds, **SCOPE)


def test_non_datetime_timestamp_is_a_typed_error() -> None:
    with pytest.raises(sigv4.InvalidTimestampError, match="got list"):
        sigv4.sign(sigv4.Request("GET", "https://h/"), sigv4.Credentials("AK", "S"), **{**SCOPE, "timestamp": [1]})


@pytest.mark.parametrize("url", ["https://h?X-Amz-Date=1", "https://h/p?X-Amz-Date=1&a=b#frag"])
def test_presign_keeps_the_host_when_dropping_stale_parameters(url) -> None:
    result = sigv4.presign(sigv4.Request("GET", url), sigv4.Credentials("AK", "S"), **SCOPE)
    assert result.url.startswith("https://h/") and "X-Amz-Date=1&" not in result.url


def test_reprs_mask_the_session_token() -> None:
    creds = sigv4.Credentials("AK", "SECRET", TOKEN)
    signed = sigv4.sign(sigv4.Request("GET", "https://h/"), creds, **SCOPE)
    presigned = sigv4.presign(sigv4.Request("GET", "https://h/"), creds, **SCOPE)
    v2 = sigv4.sign(sigv4.Request("GET", "https://h/?Action=X"), creds, algorithm="v2", **SCOPE)
    encoded = sigv4.canonical.uri_encode(TOKEN, keep_slash=False)
    for value in (signed, presigned, v2, signed.request, presigned.request, signed.canonical, presigned.canonical):
        text = repr(value)
        assert TOKEN not in text and encoded not in text and "SECRET" not in text, type(value).__name__


def test_a_sigv2_mismatch_has_no_canonical_request() -> None:
    creds = sigv4.Credentials("AK", "SECRET")
    signed = sigv4.sign(sigv4.Request("GET", "https://h/?Action=X"), creds, algorithm="v2", **SCOPE).request
    wrong = sigv4.Credentials("AK", "OTHER")
    with pytest.raises(sigv4.VerificationError) as caught:
        sigv4.verify(signed, lambda _: wrong, now=NOW)
    assert caught.value.reason == "signature_mismatch"
    assert caught.value.canonical_request is None and caught.value.string_to_sign


@pytest.mark.parametrize("method", ["G\x00ET", "G\x01ET", "GE T", "G\nET", ""])
@pytest.mark.parametrize("sign", [
    lambda request: sigv4.sign(request, sigv4.Credentials("AKID", "secret"), region="us-east-1", service="s3", timestamp=NOW),
    lambda request: sigv4.sign(request, sigv4.Credentials("AKID", "secret"), region="us-east-1", service="s3", timestamp=NOW, algorithm="v4a"),
    lambda request: sigv4.presign(request, sigv4.Credentials("AKID", "secret"), region="us-east-1", service="s3", timestamp=NOW, expires=60),
], ids=["v4", "v4a", "presign"])
def test_a_method_that_is_not_an_http_token_is_refused_by_name(method: str, sign: Any) -> None:
    # Before: a control byte in the method stood for a hole of the kept canonical text ("G\x00ET" signed as
    # "G20260101T000000ZET"); now every signing path refuses it, whether or not the shape's text is kept.
    sign(sigv4.Request("GET", "https://example.com/"))  # the shape's text is kept now
    with pytest.raises(sigv4.InvalidParameterError, match="method .*: must be an HTTP token"):
        sign(sigv4.Request(method, "https://example.com/"))


@pytest.mark.parametrize("how", ["sign", "presign", "v4a", "v2"])
def test_two_host_headers_are_refused_when_signing_as_when_verifying(how: str) -> None:
    """A request with two Host headers was signed over `host:a,b`: a server answers it 400 (RFC 9112 3.2) and
    `verify` refuses it, so the signature could never be used; SigV2 already refused it."""
    request = sigv4.Request("GET", "https://h/", [("Host", "h"), ("Host", "evil.example")])
    creds = sigv4.Credentials("AK", "S")
    with pytest.raises(sigv4.InvalidHeaderError, match="Host: the header is sent more than once"):
        if how == "presign":
            sigv4.presign(request, creds, **SCOPE)
        else:
            sigv4.sign(request, creds, **SCOPE, **({"algorithm": how} if how != "sign" else {}))
