"""Server side end to end: `verify` accepts the seed, `decoder_for(identity, request)` checks the body."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigv4 import sign, verify
from sigv4.chunked import FRAMINGS
from sigv4.chunked_decode import decoder_for
from sigv4.errors import StreamSignatureError
from tests.test_chunked_decode import CREDS, NOW, PAYLOADS, data_of, feed_all, signed_upload


@settings(max_examples=30, deadline=None)
@given(payload=st.sampled_from(PAYLOADS), data=st.binary(max_size=30_000), chunk_size=st.integers(8192, 12_000))
def test_verified_seed_decodes_the_body(payload: str, data: bytes, chunk_size: int) -> None:
    res = signed_upload(payload, iter([data]), len(data), chunk_size, "sha1" if FRAMINGS[payload].trailer else None)
    wire = b"".join(res.request.body)
    identity = verify(res.request.with_body(b""), lambda key: CREDS, now=NOW, s3=True)
    assert identity.signature == res.signature
    assert data_of(feed_all(decoder_for(identity, res.request), wire)) == data


def test_body_of_another_upload_fails_at_chunk_zero() -> None:
    """Same key and headers, but a seed from another second: the chain does not link."""
    res = signed_upload("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", b"m" * 9000, 9000, 8192, None)
    identity = verify(res.request, lambda key: CREDS, now=NOW, s3=True)
    other = sign(res.request.with_body(b"m" * 9000).without_headers(["authorization"]), CREDS, region="eu-west-3",
                 service="s3", timestamp=NOW - timedelta(seconds=1), s3=True,
                 payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD", chunk_size=8192)
    forged = b"".join(other.request.body)
    with pytest.raises(StreamSignatureError) as caught:
        decoder_for(identity, res.request).feed(forged)
    assert (caught.value.index, caught.value.offset) == (0, 0)
