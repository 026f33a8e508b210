"""Scalar conversions shared by every protocol: timestamps, blobs, floats, booleans.

Strategy: one small function per direction and kind, and format tables keyed
by the model's `timestampFormat` names (`iso8601`, `rfc822`,
`unixTimestamp`), so a codec picks a format by looking it up, never by an
if-chain. Parsing is liberal about which of the three forms arrives (services
are not consistent); every parse failure is a `DecodeError`.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime

from sigv4.bounded import utc
from wire.errors import DecodeError, SerializationError

#: What a caller may pass for a timestamp member.
TimestampInput = datetime | int | float | str


def to_datetime(value: TimestampInput) -> datetime:
    """A timezone-aware UTC datetime from a datetime, epoch seconds or ISO 8601 text."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise SerializationError(f"timestamp {value!r} has no timezone")
        return value.astimezone(timezone.utc)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, timezone.utc)
    if isinstance(value, str):
        try:
            return parse_timestamp(value)
        except DecodeError as err:
            raise SerializationError(str(err)) from None
    raise SerializationError(f"not a timestamp: {value!r}")


def _iso8601(value: datetime) -> str:
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text + "Z"


def _epoch(value: datetime) -> int | float:
    seconds = value.timestamp()
    whole = int(seconds)
    return whole if seconds == whole else round(seconds, 3)


def _rfc822(value: datetime) -> str:
    return format_datetime(value.replace(microsecond=0), usegmt=True)


#: timestampFormat -> encoder. `unixTimestamp` yields a number (JSON keeps it
#: numeric; text locations render it with `str`).
TIMESTAMP_FORMATS: dict[str, Callable[[datetime], str | int | float]] = {
    "iso8601": _iso8601,
    "rfc822": _rfc822,
    "unixTimestamp": _epoch,
}


def format_timestamp(value: TimestampInput, fmt: str) -> str | int | float:
    return TIMESTAMP_FORMATS[fmt](to_datetime(value))


def format_timestamp_text(value: TimestampInput, fmt: str) -> str:
    """A timestamp for a header, query string, URI label or XML/form value."""
    return str(format_timestamp(value, fmt))


def parse_timestamp(value: str | int | float) -> datetime:
    """Epoch seconds, ISO 8601 or an HTTP date -> aware UTC datetime; else `DecodeError`."""
    if isinstance(value, bool):
        raise DecodeError(f"not a timestamp: {value!r}")
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(value, timezone.utc)
        except (OverflowError, OSError, ValueError) as err:
            raise DecodeError(f"timestamp out of range: {value!r}") from err
    if not isinstance(value, str):
        raise DecodeError(f"not a timestamp: {value!r}")
    text = value.strip()
    try:
        return parse_timestamp(float(text))
    except ValueError:
        pass
    parsed: datetime | None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            parsed = None
    if parsed is None:
        raise DecodeError(f"not a timestamp: {value!r}")
    try:
        return utc(parsed)
    except ValueError as err:
        raise DecodeError(f"timestamp out of range: {value!r}") from err


def encode_blob(value: bytes | bytearray | str) -> str:
    raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    return base64.b64encode(raw).decode("ascii")


def to_bytes(value: bytes | bytearray | str) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def decode_blob(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError, TypeError) as err:
        raise DecodeError(f"invalid base64: {value[:40]!r}") from err


#: Non-finite floats travel as these strings in JSON bodies and text locations.
_SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def encode_float(value: float | int) -> float | int | str:
    """A number for a JSON body: non-finite floats become their protocol strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def float_text(value: float | int) -> str:
    """A float for a header, query string or form value."""
    return str(encode_float(value))


def parse_float(value: object) -> float:
    if isinstance(value, bool):
        raise DecodeError(f"not a number: {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        special = _SPECIAL_FLOATS.get(value.strip())
        if special is not None:
            return special
        try:
            return float(value)
        except ValueError as err:
            raise DecodeError(f"not a number: {value[:40]!r}") from err
    raise DecodeError(f"not a number: {value!r}")


def parse_int(value: object) -> int:
    if isinstance(value, bool):
        raise DecodeError(f"not an integer: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError as err:
            raise DecodeError(f"not an integer: {value[:40]!r}") from err
    raise DecodeError(f"not an integer: {value!r}")


_BOOLEANS = {"true": True, "false": False}


def parse_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip() in _BOOLEANS:
        return _BOOLEANS[value.strip()]
    raise DecodeError(f"not a boolean: {value!r}")


def bool_text(value: bool) -> str:
    return "true" if value else "false"
