"""S3 Express One Zone signing against boto3 itself, and our verifier on what we and boto3 sign.

Oracle: a real boto3 S3 client at a frozen time whose requests never leave
the process (a `before-send` hook records each and answers it): it calls
CreateSession on the directory bucket (SigV4 for `s3express`, its own
credentials, X-Amz-Security-Token), caches the session our fake answer hands
it, then signs PutObject / GetObject / a presigned URL with the session as
S3ExpressAuth and S3ExpressQueryAuth do. Our functions sign the same requests;
the signatures must be equal, and `sigv4.verify` must accept both. Then
botocore's S3ExpressAuth and S3ExpressQueryAuth themselves on
hypothesis-generated directory-bucket requests (paths, queries, metadata
headers, bodies, http and https, expiries).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import boto3
import pytest
from botocore.auth import S3ExpressAuth, S3ExpressQueryAuth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.credentials import Credentials as BotoCredentials
from freezegun import freeze_time
from hypothesis import given, settings
from hypothesis import strategies as st

from sigv4 import Credentials, Request, VerificationError, verify
from sigv4.redact import redact
from sigv4.s3express import (
    create_session, directory_bucket_url, presign_directory_request, sign_directory_request, zone_id,
)

T = datetime(2024, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
BASE = Credentials("AKIDBASE", "base/secret", "base-token")
SESSION = Credentials("ASIASESSION", "session/secret", "sess/token==")
BUCKET = "photos--usw2-az1--x-s3"
REGION = "us-west-2"
_CREATE_SESSION = f"""<?xml version="1.0" encoding="UTF-8"?>
<CreateSessionResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Credentials>
<SessionToken>{SESSION.session_token}</SessionToken><SecretAccessKey>{SESSION.secret_access_key}</SecretAccessKey>
<AccessKeyId>{SESSION.access_key_id}</AccessKeyId><Expiration>2030-01-01T00:00:00Z</Expiration>
</Credentials></CreateSessionResult>""".encode()
KEYS = {c.access_key_id: c for c in (BASE, SESSION)}


class _Raw:
    def stream(self, **_: Any) -> Any:
        yield b""


def boto3_exchange(call: str, **params: Any) -> tuple[list[tuple[str, str, dict[str, str]]], Any]:
    """The requests boto3 sends for one client call (CreateSession first), and what the call returned."""
    sent: list[tuple[str, str, dict[str, str]]] = []

    def answer(request: Any, **_: Any) -> AWSResponse:
        headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        sent.append((request.method, request.url, headers))
        response = AWSResponse(request.url, 200, {}, _Raw())
        response._content = _CREATE_SESSION if request.url.endswith("?session") else b""
        return response

    session = boto3.session.Session(aws_access_key_id=BASE.access_key_id, aws_secret_access_key=BASE.secret_access_key,
                                    aws_session_token=BASE.session_token, region_name=REGION)
    client = session.client("s3")
    client.meta.events.register("before-send", answer)
    with freeze_time(T):
        result = getattr(client, call)(**params)
    return sent, result


def signature_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].rpartition("Signature=")[2]


def test_zone_and_endpoint() -> None:
    assert zone_id(BUCKET) == "usw2-az1"
    assert directory_bucket_url(BUCKET, REGION, "a/b") == \
        "https://photos--usw2-az1--x-s3.s3express-usw2-az1.us-west-2.amazonaws.com/a/b"
    for bad in ("photos", "photos--x-s3", "--usw2-az1--x-s3", "a--us w2--x-s3"):
        with pytest.raises(ValueError, match="directory bucket name"):
            zone_id(bad)


def test_create_session_and_put_object_match_boto3() -> None:
    sent, _ = boto3_exchange("put_object", Bucket=BUCKET, Key="a/b c.txt", Body=b"hello", ChecksumAlgorithm="CRC64NVME")
    (method, url, headers), (put_method, put_url, put_headers) = sent
    assert (method, url) == ("GET", directory_bucket_url(BUCKET, REGION) + "?session")
    ours = create_session(BUCKET, BASE, region=REGION, timestamp=T)
    assert ours.request.url == url
    assert ours.request.header("x-amz-security-token") == headers["X-Amz-Security-Token"] == BASE.session_token
    assert ours.authorization == headers["Authorization"]
    assert verify(ours.request, KEYS.get, now=T, s3=True).credentials == BASE

    # PutObject with the session: boto3 streams it as aws-chunked with a crc64nvme trailer.
    assert put_headers["x-amz-s3session-token"] == SESSION.session_token and "X-Amz-Security-Token" not in put_headers
    assert put_headers["X-Amz-Trailer"] == "x-amz-checksum-crc64nvme"
    kept = [(n, v) for n, v in put_headers.items() if n.lower() in {
        "content-encoding", "x-amz-decoded-content-length", "x-amz-sdk-checksum-algorithm", "x-amz-trailer"}]
    signed = sign_directory_request(Request(put_method, put_url, kept, b"hello"), SESSION, region=REGION, timestamp=T,
                                    payload=put_headers["X-Amz-Content-SHA256"], trailer_checksum="crc64nvme",
                                    unsigned_headers={"content-length"})
    assert signed.signature == signature_of(put_headers)
    assert signed.request.header("x-amz-s3session-token") == SESSION.session_token
    assert signed.request.header("x-amz-security-token") is None
    assert verify(signed.request.with_body(b""), KEYS.get, now=T, s3=True).credentials == SESSION


def test_get_object_and_presigned_url_match_boto3() -> None:
    sent, _ = boto3_exchange("get_object", Bucket=BUCKET, Key="k")
    method, url, headers = sent[-1]
    assert headers["x-amz-checksum-mode"] == "ENABLED"
    request = Request(method, url, [("x-amz-checksum-mode", "ENABLED")])
    signed = sign_directory_request(request, SESSION, region=REGION, timestamp=T)
    assert signed.authorization == headers["Authorization"]

    _, presigned = boto3_exchange("generate_presigned_url", ClientMethod="get_object",
                                  Params={"Bucket": BUCKET, "Key": "k"}, ExpiresIn=600)
    ours = presign_directory_request(Request("GET", directory_bucket_url(BUCKET, REGION, "k")), SESSION,
                                     region=REGION, timestamp=T, expires=600)
    assert ours.signature == presigned.rpartition("X-Amz-Signature=")[2]
    assert "X-Amz-S3session-Token=sess%2Ftoken%3D%3D" in ours.url and "X-Amz-Security-Token" not in ours.url
    for url in (ours.url, presigned):
        assert verify(Request("GET", url), KEYS.get, now=T, s3=True).credentials == SESSION


def test_verify_holds_directory_requests_to_their_session_token() -> None:
    signed = sign_directory_request(Request("GET", directory_bucket_url(BUCKET, REGION, "k")), SESSION,
                                    region=REGION, timestamp=T).request
    reasons = []
    for tampered in (signed.with_header("x-amz-s3session-token", "stolen"),
                     signed.with_header("X-Amz-Security-Token", SESSION.session_token or "")):
        with pytest.raises(VerificationError) as caught:
            verify(tampered, KEYS.get, now=T, s3=True)
        reasons.append(caught.value.reason)
    assert reasons == ["token", "token"]
    with pytest.raises(VerificationError) as late:
        verify(signed, KEYS.get, now=T + timedelta(hours=1), s3=True)
    assert late.value.reason == "skew"


def test_a_session_without_token_is_refused() -> None:
    with pytest.raises(ValueError, match="session token"):
        sign_directory_request(Request("GET", directory_bucket_url(BUCKET, REGION)), Credentials("A", "b"),
                               region=REGION, timestamp=T)


# -- botocore's auth classes on generated requests -------------------------------

segment = st.text(st.sampled_from("abcXYZ019-_.~ %+=&"), min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(method=st.sampled_from(["GET", "PUT", "HEAD", "DELETE"]), path=st.lists(segment, min_size=1, max_size=3),
       query=st.lists(st.tuples(st.sampled_from(["versionId", "partNumber", "x-id", "uploads"]), segment), max_size=2,
                      unique_by=lambda pair: pair[0]),
       meta=st.dictionaries(st.sampled_from(["x-amz-meta-a", "x-amz-meta-b", "content-type"]), segment, max_size=2),
       body=st.binary(max_size=64), secure=st.booleans())
def test_directory_requests_match_s3express_auth(method: str, path: list[str], query: list[tuple[str, str]],
                                                 meta: dict[str, str], body: bytes, secure: bool) -> None:
    url = f"{'https' if secure else 'http'}://{BUCKET}.s3express-usw2-az1.{REGION}.amazonaws.com/" + "/".join(
        quote(p, safe="") for p in path) + ("?" + urlencode(query, quote_via=quote) if query else "")
    theirs = AWSRequest(method, url, headers=dict(meta), data=body)
    with freeze_time(T):
        S3ExpressAuth(BotoCredentials(SESSION.access_key_id, SESSION.secret_access_key, SESSION.session_token),
                      "s3express", REGION, identity_cache=None).add_auth(theirs)
    ours = sign_directory_request(Request(method, url, list(meta.items()), body), SESSION, region=REGION,
                                  timestamp=T, payload=theirs.headers["X-Amz-Content-SHA256"])
    assert ours.authorization == theirs.headers["Authorization"]
    assert ours.request.header("x-amz-s3session-token") == theirs.headers["x-amz-s3session-token"]


@settings(max_examples=40, deadline=None)
@given(path=st.lists(segment, min_size=1, max_size=3), expires=st.integers(1, 7 * 24 * 3600))
def test_presigned_directory_urls_match_s3express_query_auth(path: list[str], expires: int) -> None:
    url = f"https://{BUCKET}.s3express-usw2-az1.{REGION}.amazonaws.com/" + "/".join(quote(p, safe="") for p in path)
    theirs = AWSRequest("GET", url)
    with freeze_time(T):
        S3ExpressQueryAuth(BotoCredentials(SESSION.access_key_id, SESSION.secret_access_key, SESSION.session_token),
                           "s3express", REGION, identity_cache=None, expires=expires).add_auth(theirs)
    ours = presign_directory_request(Request("GET", url), SESSION, region=REGION, timestamp=T, expires=expires)
    assert ours.signature == parse_qs(urlsplit(theirs.url).query)["X-Amz-Signature"][0]
    assert verify(ours.request, KEYS.get, now=T, s3=True).credentials == SESSION


def test_the_session_token_is_masked_in_reprs_and_printed_text() -> None:
    signed = sign_directory_request(Request("GET", directory_bucket_url(BUCKET, REGION, "k")), SESSION,
                                    region=REGION, timestamp=T)
    presigned = presign_directory_request(Request("GET", directory_bucket_url(BUCKET, REGION, "k")), SESSION,
                                          region=REGION, timestamp=T)
    token = SESSION.session_token or ""
    for text in (repr(signed.request), repr(presigned.request), redact(signed.canonical_request),
                 redact(presigned.url), redact(f"x-amz-s3session-token: {token}")):
        assert token not in text and quote(token, safe="") not in text and "****" in text
