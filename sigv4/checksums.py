"""S3 flexible checksums for trailing headers: crc32, crc32c, sha1, sha256.

Strategy: every algorithm is an incremental object with `update(bytes)` and
`digest() -> bytes`; the wire value is the base64 of the big-endian digest.
One table maps an algorithm name to its trailer header and its factory, so a
new checksum is one row. CRC-32 comes from `zlib` (C speed). The standard
library has no CRC-32C (Castagnoli), so it is table-driven pure Python,
slicing-by-8 with four 16-bit tables: one Python loop turn per 8 input bytes
and four lookups, which is what keeps it near 20 MB/s rather than ~5.
"""

from __future__ import annotations

import base64
import hashlib
import sys
import zlib
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, Protocol

from .errors import InvalidParameterError

ChecksumName = Literal["crc32", "crc32c", "sha1", "sha256"]
_CRC32C_POLY = 0x82F63B78  # Castagnoli, reflected


class Checksum(Protocol):
    def update(self, data: bytes) -> None: ...

    def digest(self) -> bytes: ...


class Crc32:
    """CRC-32 (IEEE) over zlib."""

    __slots__ = ("_crc",)

    def __init__(self) -> None:
        self._crc = 0

    def update(self, data: bytes) -> None:
        self._crc = zlib.crc32(data, self._crc)

    def digest(self) -> bytes:
        return self._crc.to_bytes(4, "big")


@lru_cache(maxsize=1)
def _crc32c_tables() -> tuple[array[int], array[int], array[int], array[int], array[int]]:
    """The 256-entry byte table, then four 65536-entry tables: the CRC
    contribution of byte pair k of a little-endian 8-byte word.

    Built once, lazily (about 0.1 s), because only the crc32c trailer needs them.
    """
    byte_table = []
    for n in range(256):
        crc = n
        for _ in range(8):
            crc = (crc >> 1) ^ (_CRC32C_POLY if crc & 1 else 0)
        byte_table.append(crc)
    # slicing[i][b]: contribution of byte b followed by i zero bytes.
    slicing = [byte_table]
    for _ in range(7):
        prev = slicing[-1]
        slicing.append([(prev[b] >> 8) ^ byte_table[prev[b] & 0xFF] for b in range(256)])
    pairs = []
    for k in range(4):  # bytes 2k and 2k+1 of the little-endian word sit 7-2k and 6-2k bytes from the end
        low, high = slicing[7 - 2 * k], slicing[6 - 2 * k]
        pairs.append(array("I", [low[v & 0xFF] ^ high[v >> 8] for v in range(1 << 16)]))
    return array("I", byte_table), pairs[0], pairs[1], pairs[2], pairs[3]


class Crc32c:
    """CRC-32C (Castagnoli), pure Python."""

    __slots__ = ("_crc",)

    def __init__(self) -> None:
        self._crc = 0xFFFFFFFF  # kept pre-inverted between updates

    def update(self, data: bytes) -> None:
        byte_table, t0, t1, t2, t3 = _crc32c_tables()
        crc = self._crc
        whole = len(data) & ~7
        words = array("Q")
        words.frombytes(memoryview(data)[:whole])
        if sys.byteorder == "big":
            words.byteswap()
        for word in words:
            x = crc ^ word
            crc = t0[x & 0xFFFF] ^ t1[(x >> 16) & 0xFFFF] ^ t2[(x >> 32) & 0xFFFF] ^ t3[x >> 48]
        for byte in data[whole:]:
            crc = byte_table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
        self._crc = crc

    def digest(self) -> bytes:
        return (self._crc ^ 0xFFFFFFFF).to_bytes(4, "big")


class _Hashlib:
    __slots__ = ("_hash",)

    def __init__(self, name: str) -> None:
        self._hash = hashlib.new(name)

    def update(self, data: bytes) -> None:
        self._hash.update(data)

    def digest(self) -> bytes:
        return self._hash.digest()


@dataclass(frozen=True, slots=True)
class ChecksumAlgorithm:
    name: ChecksumName
    header: str  # the trailing header that carries it
    digest_size: int
    new: Callable[[], Checksum]

    @property
    def encoded_size(self) -> int:
        """Length of the base64 value on the wire."""
        return 4 * ((self.digest_size + 2) // 3)


CHECKSUMS: dict[str, ChecksumAlgorithm] = {
    "crc32": ChecksumAlgorithm("crc32", "x-amz-checksum-crc32", 4, Crc32),
    "crc32c": ChecksumAlgorithm("crc32c", "x-amz-checksum-crc32c", 4, Crc32c),
    "sha1": ChecksumAlgorithm("sha1", "x-amz-checksum-sha1", 20, lambda: _Hashlib("sha1")),
    "sha256": ChecksumAlgorithm("sha256", "x-amz-checksum-sha256", 32, lambda: _Hashlib("sha256")),
}
_BY_HEADER = {algorithm.header: algorithm for algorithm in CHECKSUMS.values()}


def checksum_algorithm(name: str) -> ChecksumAlgorithm:
    """The algorithm for `name` (case-insensitive); raises InvalidParameterError naming the choices."""
    try:
        return CHECKSUMS[name.lower()]
    except KeyError:
        raise InvalidParameterError(
            f"trailer_checksum: {name!r} is not one of {', '.join(CHECKSUMS)}") from None


def checksum_for_header(header: str) -> ChecksumAlgorithm | None:
    """The algorithm a trailing header name (`x-amz-checksum-*`) stands for, or None."""
    return _BY_HEADER.get(header.strip().lower())


def checksum_value(name: str, data: bytes) -> str:
    """The base64 wire value of `name` over `data` (all at once)."""
    summer = checksum_algorithm(name).new()
    summer.update(data)
    return base64.b64encode(summer.digest()).decode("ascii")
