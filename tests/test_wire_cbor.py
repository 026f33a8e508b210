"""wire/cbor.py: RFC 8949's examples, its malformed inputs, properties, and a
differential test against cbor2 (the oracle).

- Appendix A: every example decodes to its value; those in the shortest
  form (what `encode` writes) encode back to the same bytes.
- Appendix F and more: not-well-formed input raises `CBORDecodeError`.
- Properties: `decode(any bytes)` returns a value or raises `CBORDecodeError`,
  nothing else; every strict prefix of an encoding and every encoding with
  trailing bytes is refused; `decode(encode(v)) == v`.
- cbor2: what we encode, cbor2 reads as the same value; what cbor2 encodes,
  we read as the same value; and any bytes we accept, cbor2 accepts as the
  same value (we are the stricter decoder).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wire
from wire.cbor import UNDEFINED, CBORDecodeError, CBOREncodeError, Float32, Float64, Simple, Tag, decode, encode

UTC = timezone.utc
NAN = float("nan")
INF = float("inf")

#: RFC 8949 Appendix A: (hex, value, whether `encode` writes exactly these bytes).
APPENDIX_A: list[tuple[str, Any, bool]] = [
    ("00", 0, True), ("01", 1, True), ("0a", 10, True), ("17", 23, True), ("1818", 24, True), ("1819", 25, True),
    ("1864", 100, True), ("1903e8", 1000, True), ("1a000f4240", 1000000, True),
    ("1b000000e8d4a51000", 1000000000000, True), ("1bffffffffffffffff", 18446744073709551615, True),
    ("c249010000000000000000", 18446744073709551616, True), ("3bffffffffffffffff", -18446744073709551616, True),
    ("c349010000000000000000", -18446744073709551617, True), ("20", -1, True), ("29", -10, True),
    ("3863", -100, True), ("3903e7", -1000, True),
    ("f90000", 0.0, True), ("f98000", -0.0, True), ("f93c00", 1.0, True), ("fb3ff199999999999a", 1.1, True),
    ("f93e00", 1.5, True), ("f97bff", 65504.0, True), ("fa47c35000", 100000.0, True),
    ("fa7f7fffff", 3.4028234663852886e38, True), ("fb7e37e43c8800759c", 1.0e300, True),
    ("f90001", 5.960464477539063e-8, True), ("f90400", 0.00006103515625, True), ("f9c400", -4.0, True),
    ("fbc010666666666666", -4.1, True), ("f97c00", INF, True), ("f97e00", NAN, True), ("f9fc00", -INF, True),
    ("fa7f800000", INF, False), ("fa7fc00000", NAN, False), ("faff800000", -INF, False),
    ("fb7ff0000000000000", INF, False), ("fb7ff8000000000000", NAN, False), ("fbfff0000000000000", -INF, False),
    ("f4", False, True), ("f5", True, True), ("f6", None, True), ("f7", UNDEFINED, True),
    ("f0", Simple(16), True), ("f8ff", Simple(255), True),
    ("c074323031332d30332d32315432303a30343a30305a", datetime(2013, 3, 21, 20, 4, tzinfo=UTC), False),
    ("c11a514b67b0", datetime(2013, 3, 21, 20, 4, tzinfo=UTC), True),
    ("c1fb41d452d9ec200000", datetime(2013, 3, 21, 20, 4, 0, 500000, tzinfo=UTC), True),
    ("d74401020304", Tag(23, b"\x01\x02\x03\x04"), True), ("d818456449455446", Tag(24, b"dIETF"), True),
    ("d82076687474703a2f2f7777772e6578616d706c652e636f6d", Tag(32, "http://www.example.com"), True),
    ("40", b"", True), ("4401020304", b"\x01\x02\x03\x04", True), ("60", "", True), ("6161", "a", True),
    ("6449455446", "IETF", True), ("62225c", '"\\', True), ("62c3bc", "\u00fc", True), ("63e6b0b4", "\u6c34", True),
    ("64f0908591", "\U00010151", True), ("80", [], True), ("83010203", [1, 2, 3], True),
    ("8301820203820405", [1, [2, 3], [4, 5]], True),
    ("98190102030405060708090a0b0c0d0e0f101112131415161718181819", list(range(1, 26)), True),
    ("a0", {}, True), ("a201020304", {1: 2, 3: 4}, True), ("a26161016162820203", {"a": 1, "b": [2, 3]}, True),
    ("826161a161626163", ["a", {"b": "c"}], True),
    ("a56161614161626142616361436164614461656145", {"a": "A", "b": "B", "c": "C", "d": "D", "e": "E"}, True),
    ("5f42010243030405ff", b"\x01\x02\x03\x04\x05", False), ("7f657374726561646d696e67ff", "streaming", False),
    ("9fff", [], False), ("9f018202039f0405ffff", [1, [2, 3], [4, 5]], False),
    ("9f01820203820405ff", [1, [2, 3], [4, 5]], False), ("83018202039f0405ff", [1, [2, 3], [4, 5]], False),
    ("83019f0203ff820405", [1, [2, 3], [4, 5]], False),
    ("9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff", list(range(1, 26)), False),
    ("bf61610161629f0203ffff", {"a": 1, "b": [2, 3]}, False), ("826161bf61626163ff", ["a", {"b": "c"}], False),
    ("bf6346756ef563416d7421ff", {"Fun": True, "Amt": -2}, False),
]


def _same(a: Any, b: Any) -> bool:
    """Equality that holds NaN equal to NaN and tells 0.0 from -0.0 and 1 from 1.0 or True."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, Tag):
        return a.tag == b.tag and _same(a.value, b.value)
    return bool(a == b)


@pytest.mark.parametrize("hex_, value, canonical", APPENDIX_A, ids=[case[0][:24] for case in APPENDIX_A])
def test_rfc8949_appendix_a(hex_: str, value: Any, canonical: bool) -> None:
    assert _same(decode(bytes.fromhex(hex_)), value)
    if canonical:
        assert encode(value).hex() == hex_


#: RFC 8949 Appendix F (not well-formed), plus this decoder's own refusals.
MALFORMED = [
    # end of input inside an item
    "", "18", "1901", "1a010203", "1b01020304050607", "38", "58", "78", "98", "9a01ff00", "b8", "d8", "f8",
    "f900", "fa0000", "fb000000", "41", "61", "5affffffff00", "5bffffffffffffffff010203", "7affffffff00",
    "7b7fffffffffffffff010203", "81", "818181818181818181", "8200", "a1", "a20102", "a100", "a2000000", "c0",
    "5f4100", "7f6100", "9f", "9f0102", "bf", "bf01020102", "819f", "9f8000", "9f9f9f9f9fffffffff",
    "9f819f819f9fffffff",
    # reserved additional information
    "1c", "1d", "1e", "3c", "3d", "3e", "5c", "5d", "5e", "7c", "7d", "7e", "9c", "9d", "9e", "bc", "bd", "be",
    "dc", "dd", "de", "fc", "fd", "fe",
    # indefinite length where none is allowed; simple values in the wrong form
    "1f", "3f", "df", "f800", "f801", "f818", "f81f",
    # indefinite-string chunks of the wrong kind
    "5f41007f", "5f5f4100ffff", "5f6100ff", "7f4100ff", "7f7f6100ffff",
    # break in the wrong place
    "ff", "81ff", "8200ff", "a1ff", "a1ff00", "a100ff", "a20000ff", "9f81ff", "9f829f819f9fffffffff",
    # a map with a key and no value
    "bf00ff", "bf000000ff",
    # this decoder's rules: trailing bytes, invalid UTF-8, duplicate and unhashable keys, tag contents
    "0000", "62c328", "a201010102", "a18000", "c16161", "c1fbfff0000000000000", "c27f", "c06161",
]


@pytest.mark.parametrize("hex_", MALFORMED)
def test_malformed_input_raises_decode_error(hex_: str) -> None:
    with pytest.raises(CBORDecodeError):
        decode(bytes.fromhex(hex_))


def test_decode_error_is_a_wire_decode_error() -> None:
    assert issubclass(CBORDecodeError, wire.DecodeError)


def test_a_huge_claimed_length_fails_before_allocating() -> None:
    # 5 bytes claiming a 2**63-byte string, array and map.
    for head in ("5b", "7b", "9b", "bb"):
        with pytest.raises(CBORDecodeError, match="exceeds"):
            decode(bytes.fromhex(head + "8000000000000000"))


def test_nesting_is_bounded() -> None:
    decode(b"\x81" * 100 + b"\x00")
    with pytest.raises(CBORDecodeError, match="nesting"):
        decode(b"\x81" * 10_000 + b"\x00")
    with pytest.raises(CBORDecodeError, match="nesting"):
        decode(b"\xc6" * 10_000 + b"\x00")
    with pytest.raises(CBORDecodeError, match="nesting"):
        decode(b"\x81\x81\x00", max_depth=1)


def test_errors_about_huge_bignums_are_still_decode_errors() -> None:
    # Python refuses repr() of an integer beyond 4300 digits; the messages must not need it.
    huge = b"\xc2\x59\x10\x00" + b"\x01" * 0x1000  # tag 2 over 4096 bytes
    with pytest.raises(CBORDecodeError, match="out of range"):
        decode(b"\xc1" + huge)  # a timestamp
    with pytest.raises(CBORDecodeError, match="duplicate"):
        decode(b"\xa2" + huge + b"\x00" + huge + b"\x00")
    with pytest.raises(CBORDecodeError, match="tag 0"):
        decode(b"\xc0" + huge)
    with pytest.raises(CBOREncodeError):
        encode(Tag(1 << 20000, 0))


@pytest.mark.parametrize(
    "value", [object(), {1, 2}, datetime(2020, 1, 1), "\ud800", Tag(-1, 0), Tag(1 << 64, 0), Simple(20), Simple(24)]
)
def test_unencodable_values_raise_encode_error(value: Any) -> None:
    with pytest.raises(CBOREncodeError):
        encode(value)


def test_floats_take_the_smallest_exact_width() -> None:
    assert encode(7.625).hex() == "f947a0"  # half
    assert encode(100000.0)[0] == 0xFA  # single
    assert encode(1.889)[0] == 0xFB  # double
    assert encode(65536.0 * 65536.0 * 65536.0)[0] == 0xFA  # 2**48: beyond half's range, exact in single


def test_float32_and_float64_fix_the_width() -> None:
    assert encode(Float32(7.625)).hex() == "fa40f40000"
    assert encode(Float32(0.1)) == encode(Float32(0.10000000149011612))  # rounded to single precision
    assert encode(Float64(7.625)).hex() == "fb401e800000000000"
    assert encode(Float32(NAN)).hex() == "fa7fc00000" and encode(Float64(-INF)).hex() == "fbfff0000000000000"
    with pytest.raises(CBOREncodeError, match="32-bit"):
        encode(Float32(1e300))


# -- properties ------------------------------------------------------------------------

_KEYS = st.one_of(st.text(max_size=8), st.integers(-(2**70), 2**70))
_TIMES = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC))
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**80), 2**80),
    st.floats(allow_nan=False),
    st.text(),
    st.binary(),
    _TIMES.map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)),
)
VALUES = st.recursive(
    _SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=5), st.dictionaries(_KEYS, children, max_size=5)),
    max_leaves=30,
)
_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _never_crash(data: bytes) -> Any:
    try:
        return decode(data)
    except CBORDecodeError:
        return CBORDecodeError


@_SETTINGS
@given(st.binary(max_size=64))
def test_decode_any_bytes_returns_a_value_or_raises_decode_error(data: bytes) -> None:
    _never_crash(data)


@_SETTINGS
@given(VALUES.map(encode), st.binary(max_size=16))
def test_decode_mutated_encodings_never_crashes(encoded: bytes, noise: bytes) -> None:
    # Splicing noise into a valid encoding reaches deeper states than random bytes.
    for at in {0, len(encoded) // 2, len(encoded)}:
        _never_crash(encoded[:at] + noise + encoded[at:])
        _never_crash(encoded[:at] + noise)


@_SETTINGS
@given(VALUES)
def test_round_trip(value: Any) -> None:
    assert _same(decode(encode(value)), value)


@_SETTINGS
@given(VALUES)
def test_every_prefix_and_any_trailing_bytes_are_refused(value: Any) -> None:
    encoded = encode(value)
    for end in range(len(encoded)):
        with pytest.raises(CBORDecodeError):
            decode(encoded[:end])
    with pytest.raises(CBORDecodeError, match="after the data item"):
        decode(encoded + b"\x00")


# -- differential: cbor2 ----------------------------------------------------------------


def _from_cbor2(value: Any) -> Any:
    """cbor2's decoded value in this module's terms."""
    if value is cbor2.undefined:
        return UNDEFINED
    if isinstance(value, cbor2.CBORSimpleValue):
        return Simple(value.value)
    if isinstance(value, cbor2.CBORTag):
        return Tag(value.tag, _from_cbor2(value.value))
    if isinstance(value, list):
        return [_from_cbor2(v) for v in value]
    if isinstance(value, dict):
        return {k: _from_cbor2(v) for k, v in value.items()}
    return value


@_SETTINGS
@given(VALUES)
def test_cbor2_reads_what_we_write(value: Any) -> None:
    assert _same(_from_cbor2(cbor2.loads(encode(value))), value)


@_SETTINGS
@given(VALUES)
def test_we_read_what_cbor2_writes(value: Any) -> None:
    assert _same(decode(cbor2.dumps(value)), value)
    assert _same(decode(cbor2.dumps(value, datetime_as_timestamp=True, canonical=True)), value)


def _plain(value: Any) -> bool:
    """No tags or timestamps (cbor2 gives meaning to more tags than this module does)."""
    if isinstance(value, (Tag, datetime)):
        return False
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(_plain(k) and _plain(v) for k, v in value.items())
    return True


@_SETTINGS
@given(st.one_of(st.binary(max_size=48), VALUES.map(cbor2.dumps)))
def test_what_we_accept_cbor2_accepts_as_the_same_value(data: bytes) -> None:
    ours = _never_crash(data)
    if ours is CBORDecodeError or not _plain(ours):
        return
    assert _same(_from_cbor2(cbor2.loads(data)), ours)


def test_timestamps_are_tag_1_epoch_seconds() -> None:
    moment = datetime(2000, 1, 2, 20, 34, 56, 123000, tzinfo=UTC)
    assert encode(moment)[:2] == b"\xc1\xfb"
    assert abs(decode(encode(moment)) - moment) < timedelta(microseconds=1)
    assert encode(moment.replace(microsecond=0)) == b"\xc1\x1a" + (946845296).to_bytes(4, "big")
