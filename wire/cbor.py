"""CBOR (RFC 8949): Python values <-> bytes, with strict errors.

Strategy: both directions are small recursive functions over tables. The
encoder looks the value's exact type up in `_ENCODERS` (one function per
Python type) and writes definite lengths only, integers and lengths in their
shortest form, floats in the smallest width that gives the same value back
(half, single, double; `Float32` and `Float64` fix the width), timestamps as tag 1 over epoch seconds and integers
beyond 64 bits as bignums (tags 2 and 3). The decoder reads one data item
from the initial byte (major type in the top 3 bits, argument in the low 5)
through `_READERS`, one reader per major type; it accepts every well-formed
encoding: definite and indefinite lengths, all float widths, any tag.

Decoded values: unsigned and negative integers and bignums -> `int`, byte
strings -> `bytes`, text -> `str`, arrays -> `list`, maps -> `dict`,
false/true/null -> `False`/`True`/`None`, floats -> `float`, tag 0 (RFC 3339
text) and tag 1 (epoch seconds) -> aware UTC `datetime`; any other tag ->
`Tag`, other simple values (`undefined` among them) -> `Simple`.

Every failure is a `CBORDecodeError` (a `wire.DecodeError`) naming the byte
offset, never an IndexError or struct.error: a length or count is checked
against the bytes left before anything is allocated (a 5-byte input cannot
claim a 2**63-byte string), nesting is bounded by `max_depth`, a map key must
be hashable and unique, text must be valid UTF-8, and one item must fill the
whole input. A map's keys are compared as CBOR compares them: `true`, `1`
and `1.0` are distinct keys, which one Python dict cannot hold, so such a map
is refused as such (not as a duplicate). Memory is bounded: the decoded
objects may take at most `MEMORY_FACTOR` times the input's size plus
`MEMORY_FLOOR` bytes (an array of a million empty maps is 1 MB of CBOR and
some 70 MB of Python objects), counted with `sys.getsizeof` as each object
is made, so a refusal comes before the memory is spent.
"""

from __future__ import annotations

import math
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sigv4.bounded import utc
from wire.errors import DecodeError, SerializationError

#: Nesting (arrays, maps, tags) accepted by default: far beyond any AWS shape,
#: far below Python's recursion limit.
MAX_DEPTH = 128
#: Decoded objects may take this many times the input's size in memory (plus MEMORY_FLOOR). AWS-shaped data
#: (lists of small structures) takes about 13: Python's objects are large next to CBOR's bytes.
MEMORY_FACTOR = 32
MEMORY_FLOOR = 1 << 20

_UINT, _NINT, _BYTES, _TEXT, _ARRAY, _MAP, _TAG, _SIMPLE = range(8)
_BREAK = 0xFF
_INDEFINITE = 31


class CBORDecodeError(DecodeError):
    """Bytes that are not one well-formed CBOR data item (or break a limit)."""


class CBOREncodeError(SerializationError):
    """A value CBOR cannot carry (an unknown type, a naive datetime...)."""


@dataclass(frozen=True, slots=True)
class Tag:
    """A tagged item whose tag this module gives no meaning to."""

    tag: int
    value: Any


@dataclass(frozen=True, slots=True)
class Simple:
    """A simple value other than false, true and null (`UNDEFINED` is 23)."""

    value: int


UNDEFINED = Simple(23)


def _preview(value: Any) -> str:
    """The start of `value`'s repr for an error message."""
    try:
        return repr(value)[:40]
    except ValueError:  # an integer beyond Python's limit on digits (a bignum can be that long)
        return f"a {type(value).__name__}"


class Float32(float):
    """A float written in single precision (rounded to it), as typed SDKs send
    a Smithy `float`; plain floats take the smallest exact width."""

    __slots__ = ()


class Float64(float):
    """A float written in double precision, as typed SDKs send a Smithy `double`."""

    __slots__ = ()

# -- encoding ----------------------------------------------------------------------

_PACK_HEAD = {24: struct.Struct(">BB").pack, 25: struct.Struct(">BH").pack, 26: struct.Struct(">BI").pack, 27: struct.Struct(">BQ").pack}
#: major type -> the one-byte heads of arguments 0..23.
_SMALL_HEADS = tuple(tuple(bytes([major << 5 | n]) for n in range(24)) for major in range(8))


def _head(major: int, argument: int) -> bytes:
    """The initial byte and argument bytes of a definite item, shortest form."""
    if argument < 24:
        return _SMALL_HEADS[major][argument]
    if argument < 0x100:
        return _PACK_HEAD[24](major << 5 | 24, argument)
    if argument < 0x10000:
        return _PACK_HEAD[25](major << 5 | 25, argument)
    if argument < 0x100000000:
        return _PACK_HEAD[26](major << 5 | 26, argument)
    return _PACK_HEAD[27](major << 5 | 27, argument)


_Out = list[bytes]
_TEXT_HEADS = _SMALL_HEADS[_TEXT]


def _encode_int(value: int, out: _Out) -> None:
    major, magnitude = (_UINT, value) if value >= 0 else (_NINT, -1 - value)
    if magnitude < 1 << 64:
        out.append(_head(major, magnitude))
        return
    # Bignum: tag 2 (positive) or 3 (negative) over the big-endian magnitude.
    digits = magnitude.to_bytes((magnitude.bit_length() + 7) // 8, "big")
    out += (_head(_TAG, 2 + major), _head(_BYTES, len(digits)), digits)


_HALF, _SINGLE, _DOUBLE = struct.Struct(">e"), struct.Struct(">f"), struct.Struct(">d")
_NON_FINITE = {"nan": b"\xf9\x7e\x00", "inf": b"\xf9\x7c\x00", "-inf": b"\xf9\xfc\x00"}


def encode_float(value: float) -> bytes:
    """`value` as a CBOR float of the smallest width that decodes to the same
    value (NaN and the infinities as half floats, as Smithy's cases send them)."""
    if not math.isfinite(value):
        return _NON_FINITE[repr(value)]
    for initial, packer in ((b"\xf9", _HALF), (b"\xfa", _SINGLE)):
        try:
            packed = packer.pack(value)
        except OverflowError:
            continue
        if packer.unpack(packed)[0] == value:
            return initial + packed
    return b"\xfb" + _DOUBLE.pack(value)


def _encode_single(value: float, out: _Out) -> None:
    try:
        out.append(b"\xfa" + _SINGLE.pack(value))
    except OverflowError:
        raise CBOREncodeError(f"{value!r} is beyond a 32-bit float's range") from None


def _encode_bytes(value: bytes | bytearray | memoryview, out: _Out) -> None:
    out += (_head(_BYTES, len(value)), bytes(value))


def _encode_text(value: str, out: _Out) -> None:
    try:
        raw = value.encode("utf-8")
    except UnicodeEncodeError as err:
        raise CBOREncodeError(f"text is not valid Unicode (lone surrogate at {err.start})") from None
    size = len(raw)
    out += (_TEXT_HEADS[size] if size < 24 else _head(_TEXT, size), raw)


def _encode_array(value: list[Any] | tuple[Any, ...], out: _Out) -> None:
    out.append(_head(_ARRAY, len(value)))
    encoders = _ENCODERS
    for item in value:
        # The table lookup inlined (the hot loop): `_encode` handles the rest.
        encoder = encoders.get(type(item))
        (encoder or _encode)(item, out)


def _encode_map(value: dict[Any, Any], out: _Out) -> None:
    out.append(_head(_MAP, len(value)))
    encoders = _ENCODERS
    for key, item in value.items():
        (encoders.get(type(key)) or _encode)(key, out)
        (encoders.get(type(item)) or _encode)(item, out)


def _encode_datetime(value: datetime, out: _Out) -> None:
    if value.tzinfo is None:
        raise CBOREncodeError(f"timestamp {value!r} has no timezone")
    out.append(b"\xc1")  # tag 1: epoch seconds
    if value.microsecond:
        out.append(encode_float(value.timestamp()))
    else:
        _encode_int(int(value.timestamp()), out)


def _encode_tag(value: Tag, out: _Out) -> None:
    if not isinstance(value.tag, int) or not 0 <= value.tag < 1 << 64:
        raise CBOREncodeError(f"tag number {_preview(value.tag)} is not a 64-bit unsigned integer")
    out.append(_head(_TAG, value.tag))
    _encode(value.value, out)


def _encode_simple(value: Simple, out: _Out) -> None:
    # 24..31 are reserved for the one-byte form's own use (RFC 8949, 3.3).
    if not (0 <= value.value < 24 or 32 <= value.value < 256) or value.value in (20, 21, 22):
        raise CBOREncodeError(f"simple value {_preview(value.value)} cannot be encoded as Simple")
    out.append(_head(_SIMPLE, value.value))


_ENCODERS: dict[type, Callable[[Any, _Out], None]] = {
    str: _encode_text,
    int: _encode_int,
    bool: lambda value, out: out.append(b"\xf5" if value else b"\xf4"),
    type(None): lambda value, out: out.append(b"\xf6"),
    float: lambda value, out: out.append(encode_float(value)),
    Float32: _encode_single,
    Float64: lambda value, out: out.append(b"\xfb" + _DOUBLE.pack(value)),
    bytes: _encode_bytes,
    bytearray: _encode_bytes,
    memoryview: _encode_bytes,
    list: _encode_array,
    tuple: _encode_array,
    dict: _encode_map,
    datetime: _encode_datetime,
    Tag: _encode_tag,
    Simple: _encode_simple,
}


def _encode(value: Any, out: _Out) -> None:
    encoder = _ENCODERS.get(type(value))
    if encoder is None:
        # Subclasses (an IntEnum, an OrderedDict) encode as their base type.
        encoder = next((e for kind, e in _ENCODERS.items() if isinstance(value, kind) and kind is not bool), None)
    if encoder is None:
        raise CBOREncodeError(f"cannot encode a {type(value).__name__} as CBOR")
    encoder(value, out)


def encode(value: Any) -> bytes:
    """`value` as one CBOR data item (definite lengths, shortest forms).

    Encodes `None`, `bool`, `int` (any size), `float` (and `Float32`,
    `Float64`), `str`, `bytes`-like,
    `list`/`tuple`, `dict`, aware `datetime` (tag 1), `Tag` and `Simple`.
    Raises `CBOREncodeError` for anything else; recursion is the caller's
    (a value that contains itself raises RecursionError).
    """
    out: _Out = []
    _encode(value, out)
    return b"".join(out)


# -- decoding ----------------------------------------------------------------------


class _Reader:
    """A position in the input, and the input's limits."""

    __slots__ = ("data", "pos", "max_depth", "memory_left")

    def __init__(self, data: bytes, max_depth: int, max_memory: int) -> None:
        self.data = data
        self.pos = 0
        self.max_depth = max_depth
        self.memory_left = max_memory

    def charge(self, value: Any, start: int) -> None:
        """Count `value`'s own memory, and its slot in its container, against the budget."""
        if value is None or value is True or value is False or type(value) is Simple:  # shared, never copied
            self.memory_left -= 8
        else:
            self.memory_left -= sys.getsizeof(value) + 8
        if self.memory_left < 0:
            raise self.fail("the decoded value takes more memory than the limit (a small multiple of the input)",
                            start)

    def fail(self, what: str, at: int | None = None) -> CBORDecodeError:
        return CBORDecodeError(f"CBOR: {what} at byte {self.pos if at is None else at}")

    def take(self, count: int) -> bytes:
        end = self.pos + count
        if end > len(self.data):
            raise self.fail(f"{count} bytes needed, {len(self.data) - self.pos} left")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def argument(self, info: int) -> int:
        """The argument of an initial byte's additional info 0..27."""
        if info < 24:
            return info
        if info > 27:
            raise self.fail(f"reserved additional information {info}", self.pos - 1)
        return int.from_bytes(self.take(1 << (info - 24)), "big")

    def length(self, info: int, item_size: int) -> int:
        """A definite length, refused when the rest of the input cannot hold it."""
        start = self.pos - 1
        count = self.argument(info)
        if count * item_size > len(self.data) - self.pos:
            raise self.fail(f"length {count} exceeds the {len(self.data) - self.pos} bytes left", start)
        return count

    def at_break(self) -> bool:
        """Whether the next byte ends an indefinite-length item (consumed if so)."""
        if self.pos >= len(self.data):
            raise self.fail("input ends inside an indefinite-length item")
        if self.data[self.pos] == _BREAK:
            self.pos += 1
            return True
        return False


def _read(reader: _Reader, depth: int) -> Any:
    if reader.pos >= len(reader.data):
        raise reader.fail("input ends where a data item was expected")
    start = reader.pos
    initial = reader.data[start]
    reader.pos += 1
    value = _READERS[initial >> 5](reader, initial & 31, depth)
    reader.charge(value, start)
    return value


def _read_uint(reader: _Reader, info: int, depth: int) -> int:
    if info == _INDEFINITE:
        raise reader.fail("an integer cannot have an indefinite length", reader.pos - 1)
    return reader.argument(info)


def _read_nint(reader: _Reader, info: int, depth: int) -> int:
    return -1 - _read_uint(reader, info, depth)


def _read_string(reader: _Reader, info: int, major: int) -> bytes:
    if info != _INDEFINITE:
        return reader.take(reader.length(info, 1))
    chunks: list[bytes] = []
    while not reader.at_break():
        start = reader.pos
        initial = reader.data[start]
        reader.pos += 1
        # Chunks are definite strings of the same major type (RFC 8949, 3.2.3).
        if initial >> 5 != major or initial & 31 == _INDEFINITE:
            raise reader.fail("an indefinite-length string chunk must be a definite string of the same type", start)
        chunks.append(reader.take(reader.length(initial & 31, 1)))
    return b"".join(chunks)


def _read_bytes(reader: _Reader, info: int, depth: int) -> bytes:
    return _read_string(reader, info, _BYTES)


def _read_text(reader: _Reader, info: int, depth: int) -> str:
    start = reader.pos - 1
    raw = _read_string(reader, info, _TEXT)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise reader.fail(f"text is not UTF-8 ({err.reason})", start) from None


def _nested(reader: _Reader, depth: int) -> int:
    if depth >= reader.max_depth:
        raise reader.fail(f"nesting deeper than {reader.max_depth}", reader.pos - 1)
    return depth + 1


def _read_array(reader: _Reader, info: int, depth: int) -> list[Any]:
    depth = _nested(reader, depth)
    if info == _INDEFINITE:
        items = []
        while not reader.at_break():
            items.append(_read(reader, depth))
        return items
    return [_read(reader, depth) for _ in range(reader.length(info, 1))]


def _read_entry(reader: _Reader, out: dict[Any, Any], depth: int) -> None:
    start = reader.pos
    key = _read(reader, depth)
    try:
        seen = key in out
    except TypeError:
        raise reader.fail(f"a map key cannot be a {type(key).__name__}", start) from None
    if seen:
        same = next(k for k in out if k == key)
        if type(same) is type(key):
            raise reader.fail(f"duplicate map key {_preview(key)}", start)
        raise reader.fail(f"map keys {_preview(same)} and {_preview(key)} are distinct in CBOR, but one key of a "
                          "Python dict", start)
    out[key] = _read(reader, depth)


def _read_map(reader: _Reader, info: int, depth: int) -> dict[Any, Any]:
    depth = _nested(reader, depth)
    out: dict[Any, Any] = {}
    if info == _INDEFINITE:
        while not reader.at_break():
            _read_entry(reader, out, depth)
    else:
        for _ in range(reader.length(info, 2)):
            _read_entry(reader, out, depth)
    return out


def _epoch(reader: _Reader, value: Any, start: int) -> datetime:
    if type(value) not in (int, float):
        raise reader.fail(f"tag 1 needs a number, got {type(value).__name__}", start)
    try:
        return datetime.fromtimestamp(value, timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise reader.fail(f"timestamp {_preview(value)} is out of range", start) from None


def _rfc3339(reader: _Reader, value: Any, start: int) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            try:
                return utc(parsed)
            except ValueError:
                raise reader.fail(f"tag 0 time {_preview(value)} is outside years 1..9999 in UTC", start) from None
    raise reader.fail(f"tag 0 needs RFC 3339 text with an offset, got {_preview(value)}", start)


def _bignum(sign: int) -> Callable[[_Reader, Any, int], int]:
    def convert(reader: _Reader, value: Any, start: int) -> int:
        if not isinstance(value, bytes):
            raise reader.fail(f"a bignum tag needs a byte string, got {type(value).__name__}", start)
        magnitude = int.from_bytes(value, "big")
        return magnitude if sign > 0 else -1 - magnitude

    return convert


#: Tags given a Python meaning; any other stays a `Tag`.
_TAGS: dict[int, Callable[[_Reader, Any, int], Any]] = {0: _rfc3339, 1: _epoch, 2: _bignum(1), 3: _bignum(-1)}


def _read_tag(reader: _Reader, info: int, depth: int) -> Any:
    start = reader.pos - 1
    number = _read_uint(reader, info, depth)
    value = _read(reader, _nested(reader, depth))
    convert = _TAGS.get(number)
    return Tag(number, value) if convert is None else convert(reader, value, start)


_SIMPLE_VALUES: dict[int, Any] = {20: False, 21: True, 22: None}
#: Every simple value made once (they are immutable): a million of them cost a million pointers, not objects.
_SIMPLES = tuple(UNDEFINED if n == 23 else Simple(n) for n in range(256))
_FLOATS = {25: _HALF, 26: _SINGLE, 27: _DOUBLE}


def _read_simple(reader: _Reader, info: int, depth: int) -> Any:
    start = reader.pos - 1
    if info < 24:
        return _SIMPLE_VALUES.get(info, _SIMPLES[info])
    if info == 24:
        value = reader.take(1)[0]
        if value < 32:  # the one-byte form of a value that fits the initial byte: not well-formed
            raise reader.fail(f"simple value {value} in the two-byte form", start)
        return _SIMPLES[value]
    unpacker = _FLOATS.get(info)
    if unpacker is not None:
        return unpacker.unpack(reader.take(unpacker.size))[0]
    if info == _INDEFINITE:
        raise reader.fail("break outside an indefinite-length item", start)
    raise reader.fail(f"reserved additional information {info}", start)


_READERS: tuple[Callable[[_Reader, int, int], Any], ...] = (
    _read_uint,
    _read_nint,
    _read_bytes,
    _read_text,
    _read_array,
    _read_map,
    _read_tag,
    _read_simple,
)


def decode(data: bytes | bytearray | memoryview, *, max_depth: int = MAX_DEPTH, max_memory: int | None = None) -> Any:
    """The one CBOR data item that fills `data`, as Python values (see the
    module docstring for the mapping).

    Raises `CBORDecodeError` for empty, truncated, malformed or trailing
    input, invalid UTF-8, unhashable, duplicate or (in Python) colliding map
    keys, an out-of-range timestamp, nesting deeper than `max_depth`, or
    decoded objects that would take more than `max_memory` bytes (None:
    MEMORY_FACTOR times the input's size plus MEMORY_FLOOR); never anything else.
    """
    data = bytes(data)
    budget = MEMORY_FACTOR * len(data) + MEMORY_FLOOR if max_memory is None else max_memory
    reader = _Reader(data, max_depth, budget)
    value = _read(reader, 0)
    if reader.pos != len(reader.data):
        raise reader.fail(f"{len(reader.data) - reader.pos} bytes after the data item")
    return value
