"""Differential tests of the streaming pieces against awscrt (aws-c-auth / aws-checksums).

awscrt's Python API signs requests (headers or query) but does not expose
aws-c-auth's chunk or trailer signing (`aws_sign_chunk`/`aws_sign_trailer`
are C-only), so the chunk chain itself is pinned by the S3 documentation's
examples in test_chunked.py. Here awscrt is the oracle for what it does
expose: the seed signature of an aws-chunked request (signed with the
STREAMING constant as the body value) and the CRC-32 / CRC-32C checksums.
"""

from __future__ import annotations

import io
from datetime import datetime, timezone

from awscrt import auth, checksums, http
from hypothesis import given, settings
from hypothesis import strategies as st

from sigv4 import Credentials, Request, sign
from sigv4.checksums import Crc32, Crc32c
from sigv4.chunked import FRAMINGS, MIN_CHUNK_SIZE

CREDS = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
WHEN = datetime(2013, 5, 24, tzinfo=timezone.utc)
HMAC_PAYLOADS = [p for p, f in FRAMINGS.items() if f.algorithm != "AWS4-ECDSA-P256-SHA256"]


def crt_seed_signature(signed: Request, payload: str) -> str:
    """awscrt's signature for the headers our signer produced, minus what awscrt adds itself."""
    headers = [(n, v) for n, v in signed.headers
               if n.lower() not in {"authorization", "x-amz-date", "x-amz-content-sha256"}]
    crt_request = http.HttpRequest(signed.method, signed.target, http.HttpHeaders(headers), io.BytesIO(b""))
    config = auth.AwsSigningConfig(
        algorithm=auth.AwsSigningAlgorithm.V4, signature_type=auth.AwsSignatureType.HTTP_REQUEST_HEADERS,
        credentials_provider=auth.AwsCredentialsProvider.new_static(CREDS.access_key_id, CREDS.secret_access_key),
        region="us-east-1", service="s3", date=WHEN, use_double_uri_encode=False, should_normalize_uri_path=False,
        signed_body_value=payload, signed_body_header_type=auth.AwsSignedBodyHeaderType.X_AMZ_CONTENT_SHA_256)
    crt_signed = auth.aws_sign_request(crt_request, config).result(timeout=10)
    authorization = dict((n.lower(), v) for n, v in crt_signed.headers)["authorization"]
    return str(authorization.rpartition("Signature=")[2])


@settings(max_examples=40, deadline=None)
@given(payload=st.sampled_from(HMAC_PAYLOADS), length=st.integers(0, 200_000),
       chunk_size=st.integers(MIN_CHUNK_SIZE, 1 << 17), checksum=st.sampled_from(["crc32", "crc32c", "crc64nvme", "sha1", "sha256"]),
       encoding=st.sampled_from([None, "gzip"]))
def test_seed_signature_matches_awscrt(payload: str, length: int, chunk_size: int, checksum: str,
                                       encoding: str | None) -> None:
    headers = [("x-amz-storage-class", "REDUCED_REDUNDANCY"), ("x-amz-decoded-content-length", str(length))]
    headers += [("Content-Encoding", encoding)] if encoding else []
    request = Request("PUT", "https://s3.amazonaws.com/examplebucket/chunk%20Object.txt", headers, iter([]))
    res = sign(request, CREDS, region="us-east-1", service="s3", timestamp=WHEN, s3=True, payload=payload,
               chunk_size=chunk_size, trailer_checksum=checksum if FRAMINGS[payload].trailer else None)
    assert crt_seed_signature(res.request, payload) == res.signature


def test_s3_example_seed_matches_awscrt() -> None:
    request = Request("PUT", "https://s3.amazonaws.com/examplebucket/chunkObject.txt",
                      [("x-amz-storage-class", "REDUCED_REDUNDANCY")], b"a" * 66560)
    res = sign(request, CREDS, region="us-east-1", service="s3", timestamp=WHEN, s3=True,
               payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    assert crt_seed_signature(res.request, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD") == res.signature


@settings(max_examples=150, deadline=None)
@given(pieces=st.lists(st.binary(max_size=300), max_size=5))
def test_crcs_match_aws_checksums(pieces: list[bytes]) -> None:
    ours_c, ours = Crc32c(), Crc32()
    for piece in pieces:
        ours_c.update(piece)
        ours.update(piece)
    data = b"".join(pieces)
    assert int.from_bytes(ours_c.digest(), "big") == checksums.crc32c(data)
    assert int.from_bytes(ours.digest(), "big") == checksums.crc32(data)
