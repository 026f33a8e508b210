"""Differential test of SigV4a against awscrt (aws-c-auth, the AWS SDKs' native signer).

awscrt signs a generated request with V4_ASYMMETRIC (headers or query); its
signature must verify with our derived public key against the string-to-sign
we compute for the same request, both through `verify()` and directly
against `sign()`'s string-to-sign.
"""

from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest
from awscrt import auth, http
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sigv4 import Credentials, Request, presign, sign, v4a, verify
from sigv4.canonical import query_pairs, uri_encode

T = datetime(2024, 2, 29, 23, 59, 58, tzinfo=timezone.utc)
CREDS = Credentials("AKIDCRT", "crt/secret+key", None)
REGION_SET = "us-east-1,us-west-2"

segment = st.text(st.sampled_from("abcXYZ019-._~ +!$'()*,;=:@é"), min_size=1, max_size=6)
token = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789"), min_size=1, max_size=8)
value = st.text(st.sampled_from("abc XYZ 019-._~/+=&é"), max_size=8)


def _crt_sign(request: Request, signature_type: auth.AwsSignatureType) -> list[tuple[str, str]] | str:
    """Sign with awscrt; return its headers (header signing) or its signed path and query (query signing)."""
    crt_request = http.HttpRequest(request.method, request.target, http.HttpHeaders(list(request.headers)),
                                   io.BytesIO(request.body))  # type: ignore[arg-type]
    config = auth.AwsSigningConfig(
        algorithm=auth.AwsSigningAlgorithm.V4_ASYMMETRIC, signature_type=signature_type,
        credentials_provider=auth.AwsCredentialsProvider.new_static(CREDS.access_key_id, CREDS.secret_access_key),
        region=REGION_SET, service="service", date=T, expiration_in_seconds=900
        if signature_type is auth.AwsSignatureType.HTTP_REQUEST_QUERY_PARAMS else None)
    signed = auth.aws_sign_request(crt_request, config).result(timeout=10)
    if signature_type is auth.AwsSignatureType.HTTP_REQUEST_QUERY_PARAMS:
        return str(signed.path)
    return list(signed.headers)


@st.composite
def requests(draw: st.DrawFn) -> Request:
    path = "/" + "/".join(uri_encode(s, keep_slash=False) for s in draw(st.lists(segment, max_size=3)))
    query = "&".join(f"{uri_encode(n, keep_slash=False)}={uri_encode(v, keep_slash=False)}"
                     for n, v in draw(st.lists(st.tuples(token, value), max_size=3)))
    headers = [("Host", "example.amazonaws.com")]
    headers += [(f"X-Test-{name}", draw(value).strip() or "v") for name in draw(st.lists(token, max_size=2, unique=True))]
    method = draw(st.sampled_from(["GET", "PUT", "POST"]))
    return Request(method, path + ("?" + query if query else ""), headers, draw(st.binary(max_size=32)))


@pytest.mark.usefixtures("ecdsa_implementation")  # the same for every example: no reset needed between them
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(requests())
def test_awscrt_header_signature_verifies_with_our_key(request: Request) -> None:
    headers = _crt_sign(request, auth.AwsSignatureType.HTTP_REQUEST_HEADERS)
    assert isinstance(headers, list)
    signed = Request(request.method, request.target, headers, request.body)
    identity = verify(signed, {CREDS.access_key_id: CREDS}.get, now=T, allowed_regions={"us-west-2"})
    assert identity.regions == ("us-east-1", "us-west-2")
    # The same request signed by us yields the string-to-sign awscrt's signature is valid for.
    ours = sign(request, CREDS, region=REGION_SET, service="service", timestamp=T, algorithm="v4a")
    assert ours.signed_headers == identity.signed_headers
    assert v4a.verify_string(v4a.key_pair(CREDS), ours.string_to_sign, identity.signature)


@pytest.mark.usefixtures("ecdsa_implementation")  # the same for every example: no reset needed between them
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(requests())
def test_awscrt_presigned_signature_verifies_with_our_key(request: Request) -> None:
    target = _crt_sign(request, auth.AwsSignatureType.HTTP_REQUEST_QUERY_PARAMS)
    assert isinstance(target, str)
    signed = Request(request.method, target, request.headers, request.body)
    identity = verify(signed, {CREDS.access_key_id: CREDS}.get, now=T)
    assert identity.presigned
    ours = presign(request, CREDS, region=REGION_SET, service="service", timestamp=T, algorithm="v4a", expires=900)
    crt_signature = dict(query_pairs(signed.query))["X-Amz-Signature"]
    assert v4a.verify_string(v4a.key_pair(CREDS), ours.string_to_sign, crt_signature)
