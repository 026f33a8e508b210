"""aws-chunked signing: the S3 documentation's worked examples, byte for byte, and the option rules.

Oracle: the S3 API reference, "Signature Calculations for the Authorization
Header: Transferring Payload in Multiple Chunks" and "...: Including Trailing
Headers" (request 20130524T000000Z, us-east-1, 66560 bytes of `a`).
"""

from __future__ import annotations

import hashlib
import hmac
import io
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigv4 import Credentials, InvalidParameterError, Request, sign
from sigv4.chunked import (
    FRAMINGS,
    MIN_CHUNK_SIZE,
    ChunkScope,
    ChunkSigner,
    chunk_string_to_sign,
    encoded_length,
)
from sigv4.checksums import CHECKSUMS
from sigv4.keys import hmac_signer, signature_hex, signing_key

CREDS = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
WHEN = datetime(2013, 5, 24, tzinfo=timezone.utc)
URL = "https://s3.amazonaws.com/examplebucket/chunkObject.txt"
BODY = b"a" * 66560
SCOPE = ChunkScope("AWS4-HMAC-SHA256", "20130524T000000Z", "20130524/us-east-1/s3/aws4_request")
KEY = signing_key(CREDS.secret_access_key, "20130524", "us-east-1", "s3")

DOC_SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
DOC_CHUNKS = (
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
)
DOC_WIRE = (
    f"10000;chunk-signature={DOC_CHUNKS[0]}\r\n".encode() + b"a" * 65536 + b"\r\n"
    + f"400;chunk-signature={DOC_CHUNKS[1]}\r\n".encode() + b"a" * 1024 + b"\r\n"
    + f"0;chunk-signature={DOC_CHUNKS[2]}\r\n\r\n".encode()
)
TRAILER_SEED = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
TRAILER_CHUNKS = (
    "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
    "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
    "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
)
TRAILER_SIGNATURE = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"
TRAILER_WIRE = (
    f"10000;chunk-signature={TRAILER_CHUNKS[0]}\r\n".encode() + b"a" * 65536 + b"\r\n"
    + f"400;chunk-signature={TRAILER_CHUNKS[1]}\r\n".encode() + b"a" * 1024 + b"\r\n"
    + f"0;chunk-signature={TRAILER_CHUNKS[2]}\r\n".encode()
    + b"x-amz-checksum-crc32c:sOO8/Q==\r\n"
    + f"x-amz-trailer-signature:{TRAILER_SIGNATURE}\r\n\r\n".encode()
)


def doc_request(body: object = BODY, **headers: str) -> Request:
    extra = [(name.replace("_", "-"), value) for name, value in headers.items()]
    return Request("PUT", URL, [("x-amz-storage-class", "REDUCED_REDUNDANCY"), *extra], body)  # type: ignore[arg-type]


def sign_doc(request: Request, **options: object) -> object:
    return sign(request, CREDS, region="us-east-1", service="s3", timestamp=WHEN, s3=True, **options)  # type: ignore[arg-type]


# -- the documented examples -----------------------------------------------------------------------

def test_s3_example_seed_headers_and_body() -> None:
    res = sign_doc(doc_request(), payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    assert res.signature == DOC_SEED  # type: ignore[attr-defined]
    signed = res.request  # type: ignore[attr-defined]
    assert signed.header("content-encoding") == "aws-chunked"
    assert signed.header("x-amz-decoded-content-length") == "66560"
    assert signed.header("content-length") == "66824"
    assert signed.header("x-amz-content-sha256") == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    assert res.canonical.signed_headers == (  # type: ignore[attr-defined]
        "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
        "x-amz-decoded-content-length;x-amz-storage-class")
    assert b"".join(signed.body) == DOC_WIRE


def test_s3_example_fold_step_by_step() -> None:
    """Each chunk signature of the documented chain, with the documented string-to-sign of chunk 1."""
    signer = ChunkSigner(FRAMINGS["STREAMING-AWS4-HMAC-SHA256-PAYLOAD"], SCOPE, hmac_signer(KEY))
    assert chunk_string_to_sign(SCOPE, DOC_SEED, "bf718b6f653bebc184e1479f1935b8da974d701b893afcf49e701f3e2f9f9c5a") == (
        "AWS4-HMAC-SHA256-PAYLOAD\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
        f"{DOC_SEED}\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        "bf718b6f653bebc184e1479f1935b8da974d701b893afcf49e701f3e2f9f9c5a")
    first, frame1 = signer.chunk(DOC_SEED, b"a" * 65536)
    second, frame2 = signer.chunk(first, b"a" * 1024)
    final, frame3 = signer.finish(second)
    assert (first, second, final) == DOC_CHUNKS
    assert frame1 + frame2 + frame3 == DOC_WIRE


def test_s3_trailer_example() -> None:
    """The trailing-header example signs no Content-Length; everything else is as above."""
    res = sign_doc(doc_request(), payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
                   trailer_checksum="crc32c", unsigned_headers=["content-length"])
    assert res.signature == TRAILER_SEED  # type: ignore[attr-defined]
    signed = res.request  # type: ignore[attr-defined]
    assert signed.header("x-amz-trailer") == "x-amz-checksum-crc32c"
    assert signed.header("content-length") == str(len(TRAILER_WIRE)) == "66946"
    assert b"".join(signed.body) == TRAILER_WIRE


# -- framing rules ---------------------------------------------------------------------------------

@pytest.mark.parametrize("payload", list(FRAMINGS))
@pytest.mark.parametrize("decoded", [0, 1, MIN_CHUNK_SIZE - 1, MIN_CHUNK_SIZE, 3 * MIN_CHUNK_SIZE + 5])
def test_content_length_matches_the_encoding(payload: str, decoded: int) -> None:
    framing = FRAMINGS[payload]
    checksum = CHECKSUMS["sha256"] if framing.trailer else None
    signer = ChunkSigner(framing, ChunkScope(framing.algorithm or "AWS4-HMAC-SHA256", SCOPE.amz_date,
                                             SCOPE.credential_scope),
                         lambda text: "0" * 70 if framing.signature_width > 64 else "0" * 64)
    body = b"x" * decoded
    frames, previous = [], "seed"
    for start in range(0, decoded, MIN_CHUNK_SIZE):
        previous, frame = signer.chunk(previous, body[start:start + MIN_CHUNK_SIZE])
        frames.append(frame)
    trailer = [("x-amz-checksum-sha256", "A" * 43 + "=")] if framing.trailer else []
    frames.append(signer.finish(previous, trailer)[1])
    assert len(b"".join(frames)) == encoded_length(decoded, MIN_CHUNK_SIZE, framing, checksum)


def test_existing_content_encoding_follows_aws_chunked() -> None:
    res = sign_doc(doc_request(content_encoding="gzip"), payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    assert res.request.header("content-encoding") == "aws-chunked,gzip"  # type: ignore[attr-defined]


def test_stream_needs_declared_decoded_length() -> None:
    with pytest.raises(InvalidParameterError, match="x-amz-decoded-content-length: required"):
        sign_doc(doc_request(io.BytesIO(BODY)), payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    res = sign_doc(doc_request(io.BytesIO(BODY), x_amz_decoded_content_length="66560"),
                   payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    assert res.signature == DOC_SEED  # type: ignore[attr-defined]
    assert b"".join(res.request.body) == DOC_WIRE  # type: ignore[attr-defined]


def test_declared_length_contradicting_bytes_is_refused() -> None:
    with pytest.raises(InvalidParameterError, match="declared 5 but the body holds 66560"):
        sign_doc(doc_request(x_amz_decoded_content_length="5"), payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")


@pytest.mark.parametrize("declared", ["66559", "66561"])
def test_stream_length_mismatch_raises_while_streaming(declared: str) -> None:
    res = sign_doc(doc_request(iter([BODY]), x_amz_decoded_content_length=declared),
                   payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    with pytest.raises(InvalidParameterError, match="x-amz-decoded-content-length"):
        b"".join(res.request.body)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("options", "message"), [
    ({"payload": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"}, "trailer_checksum: required"),
    ({"payload": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "trailer_checksum": "crc32"}, "carries no trailer"),
    ({"payload": None, "trailer_checksum": "crc32"}, "only applies to a -TRAILER"),
    ({"payload": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "trailer_checksum": "md5"}, "'md5' is not one of"),
    ({"payload": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "chunk_size": 1024}, "chunk_size: 1024 must be"),
    ({"payload": "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"}, "use algorithm='v4a'"),
])
def test_option_errors_name_the_field(options: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        sign_doc(doc_request(), **options)


def test_empty_data_chunk_is_refused() -> None:
    signer = ChunkSigner(FRAMINGS["STREAMING-AWS4-HMAC-SHA256-PAYLOAD"], SCOPE, hmac_signer(KEY))
    with pytest.raises(InvalidParameterError, match="chunk: a data chunk must not be empty"):
        signer.chunk(DOC_SEED, b"")


@settings(max_examples=100, deadline=None)
@given(key=st.binary(max_size=150), text=st.text(max_size=300))
def test_cached_hmac_equals_stdlib_hmac(key: bytes, text: str) -> None:
    """signature_hex (precomputed pad states, used per chunk) is plain HMAC-SHA256, keys over 64 bytes included."""
    assert signature_hex(key, text) == hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()
