"""Bounded readers of outside text: decimal integers, JSON and times (ISO 8601 and HTTP dates).

Strategy: Python's own readers fail on outside text in ways a caller does not
expect. `str.isdigit` takes '²' and other Unicode digits that `int()` then
refuses, and `int()` of more than 4,300 digits raises ValueError;
`json.loads` of text nested a thousand deep raises RecursionError, and text
nested a few hundred deep parses but then exhausts the recursion of whatever
walks the value (validation, serialization). So `decimal` takes ASCII digits
only, and few of them, and `json_loads` refuses nesting deeper than
`MAX_JSON_DEPTH` with a ValueError, the error its callers already handle.
A time near year 1 or 9999 with an offset falls outside `datetime` once
moved to UTC (OverflowError): `utc` says so with a ValueError too.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from functools import partial
from typing import Any

#: JSON nesting accepted from outside: far beyond any AWS shape or credential answer, far below the recursion limit.
MAX_JSON_DEPTH = 100

_DECIMAL = re.compile(r"[0-9]+\Z")


def decimal(text: str | None, max_digits: int = 18) -> int | None:
    """The integer of `text` when it is ASCII digits only, at most `max_digits` of them; None otherwise (None,
    empty, a sign, whitespace, '²', too many digits). Never raises."""
    return int(text) if text and len(text) <= max_digits and _DECIMAL.match(text) else None


def _too_deep(value: Any, limit: int) -> bool:
    # A walk with an explicit stack: the recursion this module exists to avoid would come back here.
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth >= limit:
                    return True
                stack.append((child, depth + 1))
    return False


def _not_a_number(token: str) -> Any:
    raise ValueError(f"{token} is not a JSON number; JSON has no NaN or Infinity")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # `1e400`: Python reads infinity, which no JSON number means
        raise ValueError(f"{text[:40]} is beyond the range of a double")
    return value


def json_loads(data: str | bytes, max_depth: int = MAX_JSON_DEPTH, *, finite: bool = False) -> Any:
    """`json.loads(data)`, refusing arrays and objects nested deeper than `max_depth`; with `finite` (what a
    user typed, to be sent on) also Python's NaN and Infinity tokens and numbers beyond a double's range.

    Raises ValueError (json.JSONDecodeError for a syntax error) and nothing else.
    """
    if finite:
        decode: Callable[[Any], Any] = partial(json.loads, parse_constant=_not_a_number, parse_float=_finite_float)
    elif isinstance(data, bytes) and data[:1] in (b"{", b"[") and data[1:2] != b"\x00":
        # What json.loads would decode it as (json.detect_encoding: no BOM, no NUL among the first bytes), spared
        # that function's call: this reads every JSON answer of a client.
        data = data.decode("utf-8", "surrogatepass")
        decode = _decode_value_text
    else:
        decode = json.loads
    try:
        value = decode(data)
    except RecursionError:
        raise ValueError(_too_deep_message(max_depth)) from None
    # Each array or object opens with a `[` or `{` (a byte of it, in any encoding json reads) and closes with a
    # `]` or `}`, so text shorter than twice the limit, or with no more openings than the limit, cannot nest
    # deeper: the count and the walk are spared for the many small answers.
    if len(data) > 2 * max_depth and _openings(data) > max_depth and _too_deep(value, max_depth):
        raise ValueError(_too_deep_message(max_depth))
    return value


def _decode_value_text(text: str) -> Any:
    """`json.JSONDecoder().decode(text)` for text opening with `{` or `[`: its scanner called directly, spared
    the decoder's two Python frames and its leading-whitespace match (such text has none)."""
    try:
        value, end = _SCAN(text, 0)
    except StopIteration as err:  # the scanner's "no value at this index" (text ending inside an array, say)
        raise json.JSONDecodeError("Expecting value", text, err.value) from None
    if end != len(text):
        extra = text[end:].lstrip(" \t\n\r")  # JSON's whitespace (RFC 8259 section 2) may follow the value
        if extra:
            raise json.JSONDecodeError("Extra data", text, len(text) - len(extra))
    return value


#: The scanner json's decoder runs (its C one where built): the value at an index, and the index after it.
_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _too_deep_message(max_depth: int) -> str:
    return f"JSON nested deeper than {max_depth} arrays and objects"


def _openings(data: str | bytes) -> int:
    """How many `[` and `{` characters (bytes, for bytes) `data` holds: at least as many as its arrays and objects."""
    return data.count("[") + data.count("{") if isinstance(data, str) else data.count(b"[") + data.count(b"{")


def utc(when: datetime) -> datetime:
    """`when` as an aware UTC datetime (a naive one is taken as UTC, as AWS reads a time without an offset).

    Raises ValueError (not OverflowError) when the instant falls outside years 1..9999 in UTC.
    """
    if when.tzinfo is None:
        return when.replace(tzinfo=timezone.utc)
    try:
        return when.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError(f"{when.isoformat()} is outside years 1..9999 in UTC") from None


def http_date(text: str) -> datetime:
    """The UTC time of an HTTP date (`Date`; S3's SigV2 `x-amz-date`) that names its zone, as `email.utils` reads
    the RFC 9110 forms.

    Raises ValueError, saying what is wrong with `text`, for anything else or a time outside years 1..9999 in UTC.
    """
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        raise ValueError(f"{text[:80]!r} is not an HTTP date within years 1..9999") from None
    if when.tzinfo is None:
        raise ValueError(f"{text[:80]!r} has no time zone (HTTP dates are GMT)")
    return utc(when)
