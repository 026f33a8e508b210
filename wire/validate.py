"""Params checked against the model, collecting every violation.

Strategy: one recursive walk over (shape, value). Type checks come from a
table keyed by shape type; structure/list/map recursion from another. The
walk always checks types, required members and unknown members (what
`wire.serialize` needs to produce a well-formed request, as botocore does);
with `constraints=True` it also checks enums, length/range and patterns (what
`wire.validate` adds for the CLI and the local endpoint). Violations carry a
path such as `Contacts[0].Name` and a rule in words.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from wire.errors import DecodeError, ValidationError, Violation
from wire.model import Model, Shape
from wire.scalars import parse_timestamp


def _is_timestamp(value: object) -> bool:
    if isinstance(value, datetime):
        return value.tzinfo is not None
    if isinstance(value, str):
        try:
            parse_timestamp(value)
        except DecodeError:
            return False
        return True
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


#: shape type -> (accepts value?, what it expects, in words)
_TYPE_CHECKS: dict[str, tuple[Callable[[object], bool], str]] = {
    "structure": (lambda v: isinstance(v, Mapping), "a structure (dict)"),
    "list": (lambda v: isinstance(v, (list, tuple)), "a list"),
    "map": (lambda v: isinstance(v, Mapping), "a map (dict)"),
    "string": (lambda v: isinstance(v, str), "a string"),
    "integer": (_is_integer, "an integer"),
    "long": (_is_integer, "an integer"),
    "short": (_is_integer, "an integer"),
    "byte": (_is_integer, "an integer"),
    "biginteger": (_is_integer, "an integer"),
    "float": (_is_number, "a number"),
    "double": (_is_number, "a number"),
    "bigdecimal": (_is_number, "a number"),
    "boolean": (lambda v: isinstance(v, bool), "a boolean"),
    "timestamp": (_is_timestamp, "a timezone-aware datetime, epoch seconds or ISO 8601 text"),
    "blob": (lambda v: isinstance(v, (bytes, bytearray, str)), "bytes or a string"),
}


#: Shape types without a check (e.g. unions of unknown kinds) accept anything.
_ANY: tuple[Callable[[object], bool], str] = (lambda v: True, "")


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    # Model patterns are ECMAScript regexes; the few Python cannot compile
    # (e.g. `\p{L}`) are not checked rather than rejected.
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _size(shape: Shape, value: Any) -> tuple[float, str] | None:
    """The measured quantity for min/max and its unit, or None when not sized."""
    if shape.type in ("string", "blob") and isinstance(value, (str, bytes, bytearray)):
        return len(value), "length"
    if shape.type in ("list", "map"):
        return len(value), "number of entries"
    if _is_number(value) and not (isinstance(value, float) and math.isnan(value)):
        return float(value), "value"
    return None


def _constraints(shape: Shape, value: Any, path: str, out: list[Violation]) -> None:
    if shape.enum and isinstance(value, str) and value not in shape.enum:
        out.append(Violation(path, f"{value!r} is not one of {', '.join(shape.enum)}"))
    measured = _size(shape, value)
    if measured is not None:
        size, unit = measured
        if shape.min is not None and size < shape.min:
            out.append(Violation(path, f"{unit} {size:g} is below the minimum {shape.min:g}"))
        if shape.max is not None and size > shape.max:
            out.append(Violation(path, f"{unit} {size:g} is above the maximum {shape.max:g}"))
    if shape.pattern and isinstance(value, str):
        regex = _compiled(shape.pattern)
        if regex is not None and not regex.search(value):
            out.append(Violation(path, f"{value!r} does not match the pattern {shape.pattern}"))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _walk(shape: Shape, value: Any, path: str, constraints: bool, out: list[Violation]) -> None:
    if shape.document:
        return
    accepts, expected = _TYPE_CHECKS.get(shape.type, _ANY)
    if not accepts(value):
        out.append(Violation(path, f"expected {expected}, got {type(value).__name__} {value!r:.60}"))
        return
    if constraints:
        _constraints(shape, value, path, out)
    if shape.type == "structure":
        _walk_structure(shape, value, path, constraints, out)
    elif shape.type == "list":
        for index, item in enumerate(value):
            _walk(shape.member.shape, item, f"{path}[{index}]", constraints, out)
    elif shape.type == "map":
        for key, item in value.items():
            _walk(shape.members["key"].shape, key, f"{path}[{key!r}]", constraints, out)
            _walk(shape.members["value"].shape, item, f"{path}[{key!r}]", constraints, out)


@lru_cache(maxsize=4096)
def _required_in_order(shape: Shape) -> tuple[str, ...]:
    return tuple(sorted(shape.required))


def _walk_structure(shape: Shape, value: Mapping[str, Any], path: str, constraints: bool, out: list[Violation]) -> None:
    for name in _required_in_order(shape):
        if value.get(name) is None:
            out.append(Violation(_join(path, name), "is required"))
    set_members = 0
    for name, item in value.items():
        member = shape.members.get(name)
        if member is None:
            known = ", ".join(shape.members) or "none"
            out.append(Violation(_join(path, name), f"is not a member of {shape.name} (members: {known})"))
        elif item is not None:
            set_members += 1
            _walk(member.shape, item, f"{path}.{name}" if path else name, constraints, out)  # _join, inlined
    if shape.union and set_members != 1:
        out.append(Violation(path, f"a union needs exactly one member set, got {set_members}"))


def violations(shape: Shape | None, params: Mapping[str, Any], constraints: bool) -> list[Violation]:
    """Every violation of `params` against input `shape` (None: no input allowed)."""
    out: list[Violation] = []
    if shape is None:
        out.extend(Violation(name, "is not a member of the input (the operation takes none)") for name in params)
    else:
        _walk(shape, params, "", constraints, out)
    return out


def validate(model: Model, operation: str, params: Mapping[str, Any]) -> None:
    """Check `params` for `operation`: types, required and unknown members, enums,
    length/range and patterns. Returns None; raises `ValidationError` listing
    every violation."""
    found = violations(model.operation(operation).input, params, constraints=True)
    if found:
        raise ValidationError(tuple(found))
