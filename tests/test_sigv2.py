"""SigV2: AWS's documented example, a differential test against botocore's SigV2Auth, and verification."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from botocore.auth import SigV2Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from freezegun import freeze_time
from hypothesis import given, settings
from hypothesis import strategies as st

from sigv4 import Credentials, InvalidParameterError, Request, SigV2Result, VerificationError, sign, v2, verify
from sigv4.canonical import query_pairs, uri_encode

DOC_CREDS = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
T = datetime(2011, 10, 3, 15, 19, 30, tzinfo=timezone.utc)
SCOPE = dict(region="us-east-1", service="elasticmapreduce", timestamp=T)


def _encode(params: list[tuple[str, str]]) -> str:
    return "&".join(f"{uri_encode(n, keep_slash=False)}={uri_encode(v, keep_slash=False)}" for n, v in params)


def test_documented_example() -> None:
    # https://docs.aws.amazon.com/general/latest/gr/signature-version-2.html (EMR DescribeJobFlows)
    request = Request("GET", "https://elasticmapreduce.amazonaws.com/?Action=DescribeJobFlows&Version=2009-03-31"
                             "&Timestamp=2011-10-03T15%3A19%3A30")
    result = sign(request, DOC_CREDS, algorithm="v2", region="us-east-1", service="elasticmapreduce",
                  timestamp=T + timedelta(days=400))  # the user's Timestamp wins over `timestamp`
    assert isinstance(result, SigV2Result)
    assert result.string_to_sign == (
        "GET\n"
        "elasticmapreduce.amazonaws.com\n"
        "/\n"
        "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Action=DescribeJobFlows&SignatureMethod=HmacSHA256"
        "&SignatureVersion=2&Timestamp=2011-10-03T15%3A19%3A30&Version=2009-03-31"
    )
    assert result.signature == "i91nKc4PWAt0JJIdXwz9HxZCJDdiy6cf/Mj6vPxyYIs="
    assert result.url.endswith("&Signature=i91nKc4PWAt0JJIdXwz9HxZCJDdiy6cf%2FMj6vPxyYIs%3D")
    assert result.url.startswith(request.url + "&")  # the user's parameters keep their text and order


def test_timestamp_from_argument_sha1_and_token() -> None:
    creds = Credentials("AKID", "secret", "token/+=")
    result = sign(Request("GET", "https://sdb.amazonaws.com/?Action=ListDomains"), creds, algorithm="v2",
                  signature_method="HmacSHA1", **SCOPE)
    params = dict(query_pairs(result.request.query))
    assert params["Timestamp"] == "2011-10-03T15:19:30Z"
    assert params["SignatureMethod"] == "HmacSHA1" and params["SecurityToken"] == "token/+="
    assert len(v2.signature("k", "x", "HmacSHA1")) == 28  # base64 of a 20-byte SHA-1 HMAC
    assert verify(result.request, {"AKID": creds}.get, now=T).algorithm == "HmacSHA1"


def test_expires_is_kept_and_resigning_drops_stale_parameters() -> None:
    request = Request("GET", "https://sqs.amazonaws.com/?Action=ListQueues&Expires=2011-10-03T15%3A30%3A00Z")
    first = sign(request, DOC_CREDS, algorithm="v2", **SCOPE)
    again = sign(first.request, DOC_CREDS, algorithm="v2", **SCOPE)
    assert again.url == first.url
    assert "Timestamp" not in dict(query_pairs(first.request.query))
    lookup = {DOC_CREDS.access_key_id: DOC_CREDS}.get
    verify(first.request, lookup, now=T)
    with pytest.raises(VerificationError) as info:
        verify(first.request, lookup, now=T + timedelta(minutes=11))
    assert info.value.reason == "expired"


def test_post_form_body_is_signed_and_rewritten() -> None:
    body = b"Action=SendMessage&MessageBody=hello+world"
    request = Request("POST", "https://sqs.us-east-1.amazonaws.com/123/q",
                      [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
                       ("Content-Length", str(len(body)))], body)
    result = sign(request, DOC_CREDS, algorithm="v2", **SCOPE)
    assert result.in_body and result.url == request.url
    assert isinstance(result.request.body, bytes) and result.request.body.startswith(body + b"&AWSAccessKeyId=")
    assert result.request.header("content-length") == str(len(result.request.body))
    assert ("MessageBody", "hello world") in result.params  # a form body reads '+' as a space
    identity = verify(result.request, {DOC_CREDS.access_key_id: DOC_CREDS}.get, now=T)
    assert identity.version == "v2" and identity.payload_hash == ""
    tampered = result.request.with_body(result.request.body.replace(b"hello", b"hellp"))
    with pytest.raises(VerificationError) as info:
        verify(tampered, {DOC_CREDS.access_key_id: DOC_CREDS}.get, now=T)
    assert info.value.reason == "signature_mismatch"
    assert info.value.string_to_sign is not None and "MessageBody=hellp%20world" in info.value.string_to_sign


def test_v2_errors() -> None:
    with pytest.raises(InvalidParameterError, match="signature_method"):
        sign(Request("GET", "https://h/"), DOC_CREDS, algorithm="v2",
             signature_method="HmacMD5", **SCOPE)  # type: ignore[call-overload]
    signed = sign(Request("GET", "https://h/?A=1"), DOC_CREDS, algorithm="v2", **SCOPE).request
    lookup = {DOC_CREDS.access_key_id: DOC_CREDS}.get
    for broken, reason in [
        (signed.with_url(signed.url.replace("SignatureVersion=2", "SignatureVersion=1")), "malformed_auth"),
        (signed.with_url(signed.url.replace("A=1", "A=2")), "signature_mismatch"),
        (signed.with_url(signed.url.replace("Timestamp=2011", "Timestamp=2012")), "skew"),
        (signed.with_url(signed.url.replace("AKIA", "AKIB")), "unknown_key"),
    ]:
        with pytest.raises(VerificationError) as info:
            verify(broken, lookup, now=T)
        assert info.value.reason == reason


# -- differential: botocore.auth.SigV2Auth --------------------------------------------

_RESERVED = {*v2.AUTH_PARAMS, "Timestamp", "Expires"}
param_names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=10).filter(
    lambda n: n not in _RESERVED)
param_values = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
hosts = st.sampled_from(["sqs.us-east-1.amazonaws.com", "ec2.amazonaws.com", "localhost:8443", "10.0.0.1:9000"])
paths = st.sampled_from(["/", "/123456789012/queue", "/a/b.c", "/~user/x-y_z"])


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(param_names, param_values, max_size=6), hosts, paths, st.sampled_from(["GET", "POST"]),
       st.sampled_from([None, "FQoGZXIvYXdzE//token=="]))
def test_matches_botocore_sigv2(params: dict[str, str], host: str, path: str, method: str, token: str | None) -> None:
    url = f"https://{host}{path}"
    encoded = _encode(list(params.items()))
    if method == "GET":
        ours = Request("GET", url + ("?" + encoded if encoded else ""))
        theirs = AWSRequest(method="GET", url=url, params=dict(params))
    else:
        ours = Request("POST", url, [("Content-Type", v2.FORM_CONTENT_TYPE)], encoded.encode())
        theirs = AWSRequest(method="POST", url=url, data=dict(params))
    with freeze_time(T):
        SigV2Auth(BotoCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)).add_auth(theirs)
    result = sign(ours, Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token),
                  algorithm="v2", **SCOPE)
    # botocore signs into the query whenever the form data is empty; we keep a form POST's parameters in its body.
    signed_params = theirs.data or theirs.params
    assert result.signature == signed_params["Signature"]
    assert sorted(v2.decode_params(result.request)) == sorted(signed_params.items())
