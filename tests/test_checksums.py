"""Flexible checksums: check values, pure Python against awscrt, streaming against one-shot, crc64nvme trailers.

Oracles: the catalogue check values (CRC RevEng: the CRC of the nine ASCII
bytes "123456789"), awscrt's `checksums` (aws-checksums, what botocore and
the AWS CLI v2 use) on generated data and split points, and botocore's own
aws-chunked writer (`AwsChunkedWrapper`, the body an SDK upload sends with a
`x-amz-checksum-crc64nvme` trailer) fed to our decoder.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zlib

import pytest
from awscrt import checksums as crt
from botocore.httpchecksum import AwsChunkedWrapper, CrtCrc64NvmeChecksum, CrtCrc32cChecksum
from hypothesis import given, settings
from hypothesis import strategies as st

from sigv4 import checksums
from sigv4.checksums import CHECKSUMS, Crc32c, Crc64Nvme, checksum_value
from sigv4.chunked_decode import ChunkData, ChunkedDecoder, EndOfBody, Trailer
from sigv4.errors import StreamDecodeError

CHECK = b"123456789"
#: name -> the digest of "123456789", big-endian, as the catalogues list them.
CHECK_VALUES = {
    "crc32": 0xCBF43926,
    "crc32c": 0xE3069283,
    "crc64nvme": 0xAE8B14860A799888,
    "sha1": int(hashlib.sha1(CHECK).hexdigest(), 16),
    "sha256": int(hashlib.sha256(CHECK).hexdigest(), 16),
}
PURE_CRCS = {"crc32c": (Crc32c, crt.crc32c), "crc64nvme": (Crc64Nvme, crt.crc64nvme)}


@pytest.mark.parametrize("name", list(CHECKSUMS))
@pytest.mark.parametrize("which", ["new", "pure"])
def test_check_values(name: str, which: str) -> None:
    algorithm = CHECKSUMS[name]
    summer = getattr(algorithm, which)()
    summer.update(CHECK)
    assert summer.digest() == CHECK_VALUES[name].to_bytes(algorithm.digest_size, "big")
    assert len(base64.b64encode(summer.digest())) == algorithm.encoded_size


def test_the_c_implementation_is_used_when_installed() -> None:
    assert {n: a.implementation for n, a in CHECKSUMS.items()} == {
        "crc32": "zlib", "crc32c": "awscrt", "crc64nvme": "awscrt", "sha1": "hashlib", "sha256": "hashlib"}


def test_without_awscrt_the_pure_fallback_is_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checksums, "_CRT", None)
    row = checksums._crc("crc64nvme", 8, Crc64Nvme)
    assert (row.implementation, row.new, row.header) == ("python", Crc64Nvme, "x-amz-checksum-crc64nvme")


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(sorted(PURE_CRCS)), data=st.binary(max_size=2000),
       cuts=st.lists(st.integers(0, 2000), max_size=6))
def test_pure_crcs_match_awscrt_at_any_split(name: str, data: bytes, cuts: list[int]) -> None:
    pure, oracle = PURE_CRCS[name]
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    streamed, fast = pure(), CHECKSUMS[name].new()
    for a, b in zip(points, points[1:]):
        streamed.update(data[a:b])
        fast.update(data[a:b])
    one_shot = pure()
    one_shot.update(data)
    expected = oracle(data).to_bytes(CHECKSUMS[name].digest_size, "big")
    assert streamed.digest() == one_shot.digest() == fast.digest() == expected


@pytest.mark.parametrize("name", sorted(PURE_CRCS))
def test_pure_crcs_match_awscrt_on_a_large_odd_buffer(name: str) -> None:
    """Every byte value, every alignment of the 8-byte words, and a tail: 1 MiB + 7 bytes."""
    data = hashlib.shake_256(b"crc").digest((1 << 20) + 7)
    pure, oracle = PURE_CRCS[name]
    summer = pure()
    summer.update(data[:3])
    summer.update(memoryview(data)[3:])
    assert int.from_bytes(summer.digest(), "big") == oracle(data)


def test_checksum_value_streams_pieces_and_matches_bytes() -> None:
    pieces = [b"1234", b"", b"56789"]
    for name in CHECKSUMS:
        assert checksum_value(name, iter(pieces)) == checksum_value(name, CHECK) \
            == base64.b64encode(CHECK_VALUES[name].to_bytes(CHECKSUMS[name].digest_size, "big")).decode()
    assert checksum_value("crc32", b"hello") == base64.b64encode(zlib.crc32(b"hello").to_bytes(4, "big")).decode()


@pytest.mark.parametrize("name, checksum_cls", [("crc64nvme", CrtCrc64NvmeChecksum), ("crc32c", CrtCrc32cChecksum)])
@pytest.mark.parametrize("size", [0, 1, 65536, 300_001])
def test_decoder_reads_botocores_unsigned_trailer(name: str, checksum_cls: type, size: int) -> None:
    """The body an SDK upload sends: STREAMING-UNSIGNED-PAYLOAD-TRAILER with an x-amz-checksum-<name> trailer."""
    data = hashlib.shake_256(b"upload").digest(size)
    header = f"x-amz-checksum-{name}"
    wire = AwsChunkedWrapper(io.BytesIO(data), checksum_cls, header, chunk_size=65536).read()
    decoder = ChunkedDecoder("STREAMING-UNSIGNED-PAYLOAD-TRAILER", trailer=header, decoded_length=size)
    events = [e for i in range(0, len(wire), 1000) for e in decoder.feed(wire[i:i + 1000])]
    decoder.close()
    assert b"".join(e.data for e in events if isinstance(e, ChunkData)) == data
    assert events[-2] == Trailer(((header, checksum_value(name, data)),), "")
    assert events[-1] == EndOfBody(size, "")


def test_decoder_rejects_a_wrong_crc64nvme_trailer() -> None:
    wire = AwsChunkedWrapper(io.BytesIO(b"hello world"), CrtCrc64NvmeChecksum, "x-amz-checksum-crc64nvme").read()
    value = checksum_value("crc64nvme", b"hello world").encode()
    bad = wire.replace(value, checksum_value("crc64nvme", b"hello worle").encode())
    decoder = ChunkedDecoder("STREAMING-UNSIGNED-PAYLOAD-TRAILER", trailer="x-amz-checksum-crc64nvme")
    with pytest.raises(StreamDecodeError) as caught:
        decoder.feed(bad)
    assert caught.value.reason == "checksum_mismatch"
    assert "x-amz-checksum-crc64nvme" in str(caught.value)
