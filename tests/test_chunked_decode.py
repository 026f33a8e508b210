"""The aws-chunked decoder: documented examples, sign -> decode round trips, tampering, laziness.

Invariants: for every body (bytes, file object, iterator of random pieces),
chunk size and streaming form, what `sign` encodes, a decoder keyed like the
sender decodes back to the same bytes, fed whole or in random slices; a flipped data
byte is reported as that chunk, at the byte offset where its frame starts.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigv4 import Credentials, Request, SigningResult, sign, v4a
from sigv4.chunked import FRAMINGS, ChunkScope, ChunkSigner, Signer, encode_body
from sigv4.chunked_decode import (
    ChunkData,
    ChunkedDecoder,
    EndOfBody,
    Event,
    Trailer,
    Verifier,
    ecdsa_verifier,
    hmac_verifier,
)
from sigv4.checksums import CHECKSUMS
from sigv4.errors import StreamDecodeError, StreamSignatureError
from sigv4.keys import hmac_signer, signing_key
from tests.test_chunked import (
    DOC_CHUNKS,
    DOC_SEED,
    DOC_WIRE,
    KEY,
    SCOPE,
    TRAILER_SEED,
    TRAILER_SIGNATURE,
    TRAILER_WIRE,
)

CREDS = Credentials("AKIDCHUNKEDEXAMPLE", "chunked/secret+key")
NOW = datetime(2024, 2, 29, 23, 59, 59, tzinfo=timezone.utc)
PAYLOADS = list(FRAMINGS)
V4A = {"STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER"}


def doc_decoder(trailer: bool = False) -> ChunkedDecoder:
    if trailer:
        return ChunkedDecoder("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", seed_signature=TRAILER_SEED, scope=SCOPE,
                              verify=hmac_verifier(KEY), trailer="x-amz-checksum-crc32c", decoded_length=66560)
    return ChunkedDecoder("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", seed_signature=DOC_SEED, scope=SCOPE,
                          verify=hmac_verifier(KEY), decoded_length=66560)


def feed_all(decoder: ChunkedDecoder, wire: bytes, cuts: list[int] | None = None) -> list[Event]:
    points = sorted({0, len(wire), *(c % (len(wire) + 1) for c in cuts or [])})
    events: list[Event] = []
    for start, end in zip(points, points[1:]):
        events += decoder.feed(wire[start:end])
    decoder.close()
    return events


def data_of(events: list[Event]) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, ChunkData))


# -- documented examples ---------------------------------------------------------------------------

def test_decodes_the_s3_example_one_byte_at_a_time() -> None:
    decoder = doc_decoder()
    events: list[Event] = []
    for i in range(len(DOC_WIRE)):
        events += decoder.feed(DOC_WIRE[i:i + 1])
    decoder.close()
    chunks = [e for e in events if isinstance(e, ChunkData)]
    assert [(c.index, c.offset, c.decoded_offset, len(c.data), c.signature) for c in chunks] == [
        (0, 0, 0, 65536, DOC_CHUNKS[0]), (1, 65626, 65536, 1024, DOC_CHUNKS[1])]
    assert events[-1] == EndOfBody(66560, DOC_CHUNKS[2])


def test_decodes_the_s3_trailer_example() -> None:
    events = feed_all(doc_decoder(trailer=True), TRAILER_WIRE)
    assert data_of(events) == b"a" * 66560
    assert events[-2:] == [Trailer((("x-amz-checksum-crc32c", "sOO8/Q=="),), TRAILER_SIGNATURE),
                           EndOfBody(66560, TRAILER_SIGNATURE)]


@pytest.mark.parametrize(("position", "index", "offset"), [(100, 0, 0), (65623, 0, 0), (66000, 1, 65626)])
def test_tampered_data_byte_names_its_chunk(position: int, index: int, offset: int) -> None:
    wire = bytearray(DOC_WIRE)
    wire[position] ^= 0x01
    decoder = doc_decoder()
    with pytest.raises(StreamSignatureError) as caught:
        decoder.feed(bytes(wire))
    assert (caught.value.reason, caught.value.index, caught.value.offset) == ("signature_mismatch", index, offset)
    assert caught.value.string_to_sign.startswith("AWS4-HMAC-SHA256-PAYLOAD\n20130524T000000Z\n")
    with pytest.raises(StreamSignatureError):  # fails fast from then on
        decoder.feed(b"")


def test_tampered_final_signature_and_trailer() -> None:
    final = DOC_WIRE.replace(DOC_CHUNKS[2].encode(), DOC_CHUNKS[2][:-1].encode() + b"0")
    with pytest.raises(StreamSignatureError) as caught:
        doc_decoder().feed(final)
    assert (caught.value.index, caught.value.offset) == (2, 65626 + 1112)
    wrong_sum = TRAILER_WIRE.replace(b"sOO8/Q==", b"AAAAAA==")
    with pytest.raises(StreamSignatureError) as caught:  # the trailer is signed: the signature fails first
        doc_decoder(trailer=True).feed(wrong_sum)
    assert caught.value.index == 2 and caught.value.string_to_sign.startswith("AWS4-HMAC-SHA256-TRAILER\n")


def test_unsigned_trailer_checksum_mismatch() -> None:
    body = b"hello world"
    signer = ChunkSigner(FRAMINGS["STREAMING-UNSIGNED-PAYLOAD-TRAILER"])
    wire = b"".join(encode_body(body, signer, "", chunk_size=4, decoded_length=len(body), checksum=CHECKSUMS["crc32"]))
    assert wire == b"4\r\nhell\r\n4\r\no wo\r\n3\r\nrld\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n"
    decoder = ChunkedDecoder("STREAMING-UNSIGNED-PAYLOAD-TRAILER", trailer="x-amz-checksum-crc32")
    assert data_of(feed_all(decoder, wire)) == body
    bad = ChunkedDecoder("STREAMING-UNSIGNED-PAYLOAD-TRAILER", trailer="x-amz-checksum-crc32")
    with pytest.raises(StreamDecodeError) as caught:
        bad.feed(wire.replace(b"rld", b"rlD"))
    assert (caught.value.reason, caught.value.index) == ("checksum_mismatch", 3)


@pytest.mark.parametrize(("wire", "reason"), [
    (DOC_WIRE[:-1], "truncated"),
    (DOC_WIRE + b"x", "malformed"),
    (b"zz;chunk-signature=" + b"0" * 64 + b"\r\n", "malformed"),
    (b"10;chunk-signature=abc\r\n", "malformed"),
    (b"10\r\n", "malformed"),
    (b"1" * 5000, "malformed"),
    (b"1000000000;chunk-signature=" + b"0" * 64 + b"\r\n", "malformed"),
])
def test_malformed_or_truncated_bodies(wire: bytes, reason: str) -> None:
    decoder = doc_decoder()
    with pytest.raises(StreamDecodeError) as caught:
        feed_all(decoder, wire)
    assert caught.value.reason == reason


def test_declared_length_is_enforced() -> None:
    decoder = ChunkedDecoder("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", seed_signature=DOC_SEED, scope=SCOPE,
                             verify=hmac_verifier(KEY), decoded_length=66559)
    with pytest.raises(StreamDecodeError) as caught:
        decoder.feed(DOC_WIRE)
    assert (caught.value.reason, caught.value.index) == ("length_mismatch", 1)


# -- round trips through sign -> verify -> decode --------------------------------------------------

def make_body(kind: str, data: bytes, cuts: list[int]) -> object:
    if kind == "bytes":
        return data
    if kind == "file":
        return io.BytesIO(data)
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return iter([data[a:b] for a, b in zip(points, points[1:])])


def signed_upload(payload: str, body: object, length: int, chunk_size: int, checksum: str | None) -> SigningResult:
    request = Request("PUT", "https://bucket.s3.amazonaws.com/key", [("x-amz-decoded-content-length", str(length))],
                      body)  # type: ignore[arg-type]
    return sign(request, CREDS, region="eu-west-3", service="s3", timestamp=NOW, s3=True, payload=payload,
                chunk_size=chunk_size, trailer_checksum=checksum, algorithm="v4a" if payload in V4A else "v4")


def chunk_keys(algorithm: str) -> tuple[Signer, Verifier]:
    """The chunk signer and verifier matching a seed: HMAC for v4, ECDSA with the derived key pair for v4a."""
    if algorithm == v4a.ALGORITHM:
        return (lambda text: v4a.sign_string(CREDS, text)), ecdsa_verifier(v4a.key_pair(CREDS))
    key = signing_key(CREDS.secret_access_key, "20240229", "eu-west-3", "s3")
    return hmac_signer(key), hmac_verifier(key)


def decoder_of(res: SigningResult) -> ChunkedDecoder:
    """The receiving side of a signed upload, built from the seed the sender computed."""
    _, verifier = chunk_keys(res.algorithm)
    return ChunkedDecoder(res.payload_hash, seed_signature=res.signature,
                          scope=ChunkScope(res.algorithm, res.amz_date, res.credential_scope), verify=verifier,
                          trailer=res.request.header("x-amz-trailer"),
                          decoded_length=int(res.request.header("x-amz-decoded-content-length") or -1))


@settings(max_examples=60, deadline=None)
@given(payload=st.sampled_from(PAYLOADS), data=st.binary(max_size=40_000),
       chunk_size=st.integers(8192, 20_000), kind=st.sampled_from(["bytes", "file", "iterator"]),
       checksum=st.sampled_from(list(CHECKSUMS)), cuts=st.lists(st.integers(0, 200_000), max_size=12))
def test_sign_verify_decode_round_trip(payload: str, data: bytes, chunk_size: int, kind: str, checksum: str,
                                       cuts: list[int]) -> None:
    trailer = checksum if FRAMINGS[payload].trailer else None
    res = signed_upload(payload, make_body(kind, data, cuts), len(data), chunk_size, trailer)
    wire = b"".join(res.request.body)
    assert len(wire) == int(res.request.header("content-length") or -1)
    events = feed_all(decoder_of(res), wire, cuts)
    assert data_of(events) == data
    chunks = [e for e in events if isinstance(e, ChunkData)]
    assert all(len(c.data) == chunk_size for c in chunks[:-1])
    if FRAMINGS[payload].trailer:
        assert isinstance(events[-2], Trailer) and events[-2].headers[0][0] == f"x-amz-checksum-{checksum}"


@settings(max_examples=40, deadline=None)
@given(payload=st.sampled_from(PAYLOADS), data=st.binary(min_size=1, max_size=3000),
       chunk_size=st.integers(1, 500), position=st.integers(0, 10**6),
       cuts=st.lists(st.integers(0, 10**6), max_size=8))
def test_flipped_data_byte_reports_its_chunk(payload: str, data: bytes, chunk_size: int, position: int,
                                             cuts: list[int]) -> None:
    """Small chunks through the fold itself (sign() enforces S3's 8 KiB minimum); the body fed in pieces cut
    anywhere (a frame cut by a piece's end is carried into the next): the same chunk and offset."""
    framing = FRAMINGS[payload]
    trailer = "x-amz-checksum-crc32c" if framing.trailer else None
    seed = signed_upload(payload, b"", 0, 8192, "crc32c" if framing.trailer else None)
    scope = ChunkScope(seed.algorithm, seed.amz_date, seed.credential_scope)
    sign_text, verifier = chunk_keys(seed.algorithm)
    # The pieces alternate: a chunk's header line (after the previous chunk's CRLF), then its data.
    pieces = list(encode_body(data, ChunkSigner(framing, scope, sign_text), seed.signature, chunk_size=chunk_size,
                              decoded_length=len(data), checksum=CHECKSUMS["crc32c"] if trailer else None))
    target = position % len(data)
    index = target // chunk_size
    offset = sum(len(p) for p in pieces[:2 * index]) + (2 if index else 0)  # where chunk `index`'s frame starts
    wire = bytearray(b"".join(pieces))
    wire[sum(len(p) for p in pieces[:2 * index + 1]) + target % chunk_size] ^= 0x80
    decoder = ChunkedDecoder(payload, seed_signature=seed.signature, scope=scope, verify=verifier, trailer=trailer,
                             decoded_length=len(data))
    with pytest.raises(StreamDecodeError) as caught:
        feed_all(decoder, bytes(wire), cuts)
    if framing.signed:
        assert (caught.value.reason, caught.value.index, caught.value.offset) == ("signature_mismatch", index, offset)
    else:  # unsigned chunks: only the trailing checksum notices, at the final chunk
        assert (caught.value.reason, caught.value.index) == ("checksum_mismatch", (len(pieces) - 1) // 2)


def test_v4a_signatures_are_padded_on_the_wire_and_chained_unpadded() -> None:
    res = signed_upload("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER", b"z" * 20000, 20000, 8192, "sha256")
    wire = b"".join(res.request.body)
    lines = [line for line in wire.split(b"\r\n") if b"signature" in line]
    assert len(lines) == 5  # three data chunks, the final chunk, the trailer
    for line in lines:
        signature = line.split(b"=" if b"chunk-signature" in line else b":", 1)[1]
        assert len(signature) == 144 and signature.rstrip(b"*") and b"*" not in signature.rstrip(b"*")
    events = feed_all(decoder_of(res), wire)
    assert data_of(events) == b"z" * 20000
    assert isinstance(events[-1], EndOfBody) and "*" not in events[-1].signature


# -- laziness and bounded memory -------------------------------------------------------------------

class CountingSource:
    """An endless-looking body that records how many pieces the signer has pulled."""

    def __init__(self, pieces: int, size: int) -> None:
        self.pieces, self.size, self.pulled = pieces, size, 0

    def __iter__(self) -> Iterator[bytes]:
        for _ in range(self.pieces):
            self.pulled += 1
            yield b"\x00" * self.size


def test_signer_pulls_the_body_lazily() -> None:
    source = CountingSource(pieces=16 * 1024, size=64 * 1024)  # 1 GiB if it were read eagerly
    res = signed_upload("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", source, 16 * 1024 * 64 * 1024, 64 * 1024, None)
    assert source.pulled == 0  # signing the headers reads nothing
    body = iter(res.request.body)
    first = next(body)
    assert first.startswith(b"10000;chunk-signature=") and source.pulled == 1
    for _ in range(19):  # each chunk is two pieces: its header line, then its data
        next(body)
    assert source.pulled == 10


def test_file_body_is_read_in_chunk_size_pieces() -> None:
    reads: list[int] = []

    class Recording(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            reads.append(-1 if size is None else size)
            return super().read(size)

    res = signed_upload("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", Recording(b"q" * 50_000), 50_000, 16_384, None)
    assert reads == []
    pieces = list(res.request.body)
    assert len(pieces) == 2 * 4 + 1 and set(reads) == {16_384}  # four chunks (header, data), then the final frame
