"""Hypothesis strategies for params that satisfy a `wire` model shape.

Generated values respect types, required members, enums, length/range
limits and (where Python can compile them) patterns, so they pass
`wire.validate`. Timestamps are whole-second UTC datetimes and floats
are finite, so round trips can compare with `==`.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from hypothesis import strategies as st

from wire.model import Member, Shape

_MAX_DEPTH = 3


def _bounded(shape: Shape, low: int, high: int) -> tuple[int, int]:
    lo = int(shape.min) if shape.min is not None else low
    hi = int(shape.max) if shape.max is not None else max(high, lo)
    return lo, min(hi, max(lo, high))


#: A pattern that is one character class repeated (`[\\w+=,.@-]*`, `^[ -~]+$`):
#: generated as text over that class, so length limits cost no filtering.
_CLASS_REPEATED = re.compile(r"\^?\(?(\[(?:\\.|[^\]])*\])([*+])\)?\$?")
#: Characters tried against a pattern's class: printable ASCII, whitespace, a few non-ASCII.
_CANDIDATES = [chr(c) for c in range(0x20, 0x7F)] + list("\t\n\r\u00a0\u00e9\u00df\u03a9\u4e2d\U0001f600")
_CHARACTERS = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))


def _string(shape: Shape) -> st.SearchStrategy[str]:
    if shape.enum:
        return st.sampled_from(shape.enum)
    lo, hi = _bounded(shape, 0, 12)
    if not shape.pattern:
        return st.text(_CHARACTERS, min_size=lo, max_size=hi)
    try:
        re.compile(shape.pattern)
    except re.error:
        return st.text(_CHARACTERS, min_size=lo, max_size=hi)
    repeated = _CLASS_REPEATED.fullmatch(shape.pattern)
    if repeated:
        char_class = re.compile(repeated.group(1))
        alphabet = [c for c in _CANDIDATES if char_class.fullmatch(c)]
        if alphabet:
            # `[...]+` needs one character at least, whatever the model's `min` says.
            least = max(lo, 1) if repeated.group(2) == "+" else lo
            return st.text(st.sampled_from(alphabet), min_size=least, max_size=max(hi, least))
    longest = shape.max if shape.max is not None else 1 << 30
    return st.from_regex(shape.pattern, fullmatch=True).filter(lambda s: lo <= len(s) <= longest)


def _integer(shape: Shape) -> st.SearchStrategy[int]:
    lo = int(shape.min) if shape.min is not None else -(2**31)
    hi = int(shape.max) if shape.max is not None else 2**31 - 1
    return st.integers(lo, hi)


def _within(shape: Shape, numbers: st.SearchStrategy[float]) -> st.SearchStrategy[float]:
    """`numbers` inside the model's range (a filter: a 32-bit float cannot take every bound exactly)."""
    if shape.min is None and shape.max is None:
        return numbers
    low = float("-inf") if shape.min is None else shape.min
    high = float("inf") if shape.max is None else shape.max
    return st.one_of(st.sampled_from([low, high]).filter(lambda v: abs(v) != float("inf")),
                     numbers.filter(lambda v: low <= v <= high))


_TIMESTAMPS = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc)
).map(lambda d: d.replace(microsecond=0))

_SCALARS: dict[str, Any] = {
    "boolean": lambda shape: st.booleans(),
    "string": _string,
    "integer": _integer,
    "long": _integer,
    "float": lambda shape: _within(shape, st.floats(-1e6, 1e6, allow_nan=False, width=32)),
    "double": lambda shape: _within(shape, st.floats(-1e9, 1e9, allow_nan=False)),
    "timestamp": lambda shape: _TIMESTAMPS,
    "blob": lambda shape: st.binary(min_size=_bounded(shape, 0, 16)[0], max_size=_bounded(shape, 0, 16)[1]),
}


def values(shape: Shape, depth: int = 0) -> st.SearchStrategy[Any]:
    """Valid values for `shape`."""
    if shape.type == "structure":
        return structures(shape, depth)
    if shape.type == "list":
        lo, hi = _bounded(shape, 0, 3)
        if depth >= _MAX_DEPTH:
            hi = lo
        return st.lists(values(shape.member.shape, depth + 1), min_size=lo, max_size=hi)
    if shape.type == "map":
        lo, hi = _bounded(shape, 0, 3)
        if depth >= _MAX_DEPTH:
            hi = lo
        return st.dictionaries(
            values(shape.members["key"].shape, depth + 1), values(shape.members["value"].shape, depth + 1), min_size=lo, max_size=hi
        )
    return _SCALARS[shape.type](shape)  # type: ignore[no-any-return]


def _member_values(member: Member, depth: int) -> st.SearchStrategy[Any]:
    drawn = values(member.shape, depth)
    # A URI or host label cannot be empty (the path would lose a segment, the host a label).
    return drawn.filter(lambda v: v != "") if member.location == "uri" or member.host_label else drawn


def structures(shape: Shape, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    required = {n: _member_values(m, depth + 1) for n, m in shape.members.items() if n in shape.required}
    optional = {
        n: _member_values(m, depth + 1)
        for n, m in shape.members.items()
        if n not in shape.required and (depth < _MAX_DEPTH or m.shape.type not in ("structure", "list", "map"))
    }
    if shape.union:
        return st.one_of([st.fixed_dictionaries({n: s}) for n, s in optional.items()])
    return st.fixed_dictionaries(required, optional=optional)
