"""Params checked against the model, collecting every violation.

Strategy: each shape's check is compiled once into a closure (`checker`,
cached per shape identity) that holds its members' checks directly, so a
call does no table lookups by shape; recursive shapes reach their own check
through the build's memo. Type checks come from a table keyed by shape type,
structure/list/map builders from another; plain strings and numbers are
accepted by their exact type without a call. The check always verifies
types, required members and unknown members (what
`wire.serialize` needs to produce a well-formed request, as botocore does);
with `constraints=True` it also checks enums, length/range and patterns (what
`wire.validate` adds for the CLI and the local endpoint). Violations carry a
path such as `Contacts[0].Name` and a rule in words; while checking, the path
is a chain of small tuples, rendered as text only when there is a violation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from wire.errors import DecodeError, ValidationError, Violation
from wire.model import CompileMemo, Model, Shape, compile_once
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


def _size(shape: Shape, value: Any) -> tuple[int | float, str] | None:
    """The measured quantity for min/max and its unit, or None when not sized. A number as it is: an integer
    beyond a double's range (`10**400` read from JSON) compares exactly, where float() would raise."""
    if shape.type in ("string", "blob") and isinstance(value, (str, bytes, bytearray)):
        return len(value), "length"
    if shape.type in ("list", "map"):
        return len(value), "number of entries"
    if _is_number(value) and not (isinstance(value, float) and math.isnan(value)):
        return value, "value"
    return None


def _quantity(size: int | float) -> str:
    """A measured quantity in a message: `1.5`, `3`, or a long integer's first digits."""
    return f"{size:g}" if isinstance(size, float) else f"{size:.12g}" if abs(size) < 10**12 else f"{str(size)[:20]}..."


def _shown(shape: Shape, value: Any) -> str:
    """The value as quoted in a message: a sensitive one (an email, a one-time code) is not echoed,
    as AWS does, since messages reach logs and the server's trail."""
    return "(sensitive value)" if shape.sensitive else f"{value!r:.60}"


def _constraints(shape: Shape, value: Any, at: Path, out: list[Violation]) -> None:
    if shape.enum and isinstance(value, str) and value not in shape.enum:
        out.append(Violation(path_text(at), f"{_shown(shape, value)} is not one of {', '.join(shape.enum)}"))
    measured = _size(shape, value) if shape.min is not None or shape.max is not None else None
    if measured is not None:
        size, unit = measured
        if shape.min is not None and size < shape.min:
            out.append(Violation(path_text(at), f"{unit} {_quantity(size)} is below the minimum {shape.min:g}"))
        if shape.max is not None and size > shape.max:
            out.append(Violation(path_text(at), f"{unit} {_quantity(size)} is above the maximum {shape.max:g}"))
    if shape.pattern and isinstance(value, str):
        regex = _compiled(shape.pattern)
        if regex is not None and not regex.search(value):
            out.append(Violation(path_text(at), f"{_shown(shape, value)} does not match the pattern {shape.pattern}"))


#: Where a value sits, built as cheap nested tuples and rendered as text only
#: for a violation: `()` is the params, `(parent, name)` a member,
#: `(parent, index)` a list item, `(parent, key, _MAP_KEY)` a map entry.
Path = tuple[Any, ...]
_MAP_KEY = object()


def path_text(path: Path) -> str:
    """`path` as text, e.g. `Contacts[0].Name` or `Item['pk'].S`."""
    steps: list[str] = []
    while path:
        step = path[1]
        if len(path) == 3:
            steps.append(f"[{step!r}]")
        elif type(step) is int:
            steps.append(f"[{step}]")
        else:
            steps.append(f".{step}" if path[0] else step)
        path = path[0]
    return "".join(reversed(steps))


#: What a compiled check does: append the violations of `value` at `path` to `out`.
Check = Callable[[Any, Path, list[Violation]], None]
#: Per shape under construction: its check, or None while its members are being compiled.
_Memo = CompileMemo

#: Exact value types a shape type always accepts: a structure skips the call
#: for such members (most are plain strings and numbers) unless the shape has
#: constraints to check.
_ALWAYS_ACCEPTED: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "short": (int,),
    "byte": (int,),
    "biginteger": (int,),
    "float": (int, float),
    "double": (int, float),
    "bigdecimal": (int, float),
    "boolean": (bool,),
    "timestamp": (int, float),
    "blob": (bytes, bytearray, str),
}


def _has_constraints(shape: Shape) -> bool:
    return bool(shape.enum or shape.pattern) or shape.min is not None or shape.max is not None


def _accepted_without_check(shape: Shape, constraints: bool) -> tuple[type, ...]:
    if constraints and _has_constraints(shape):
        return ()
    return _ALWAYS_ACCEPTED.get(shape.type, ())


def _type_violation(shape: Shape, path: Path, expected: str, value: Any) -> Violation:
    return Violation(path_text(path), f"expected {expected}, got {type(value).__name__} {_shown(shape, value)}")


def _accept_anything(value: Any, path: Path, out: list[Violation]) -> None:
    return None


def _check_scalar(shape: Shape, constraints: bool, memo: _Memo) -> Check:
    accepts, expected = _TYPE_CHECKS.get(shape.type, _ANY)
    constrained = constraints and _has_constraints(shape)

    def check(value: Any, path: Path, out: list[Violation]) -> None:
        if not accepts(value):
            out.append(_type_violation(shape, path, expected, value))
        elif constrained:
            _constraints(shape, value, path, out)

    return check


def _is_stream(value: object) -> bool:
    return hasattr(value, "read") or (isinstance(value, Iterable) and not isinstance(value, (str, Mapping)))


def _check_stream(shape: Shape) -> Check:
    """A streaming blob (S3's `Body`) may also be a binary file or an iterable of bytes, sent as it is."""
    check_blob = _check_scalar(shape, False, {})

    def check(value: Any, path: Path, out: list[Violation]) -> None:
        if not _is_stream(value):
            check_blob(value, path, out)

    return check


def _check_structure(shape: Shape, constraints: bool, memo: _Memo) -> Check:
    required = tuple(sorted(shape.required))
    plan: dict[str, tuple[tuple[type, ...], Check]] = {}
    entry_of = plan.get  # bound once: looked up for every key of every structure checked
    unknown_rule = f"is not a member of {shape.name} (members: {', '.join(shape.members) or 'none'})"
    constrained = constraints and _has_constraints(shape)
    union = shape.union

    def check(value: Any, path: Path, out: list[Violation]) -> None:
        if type(value) is not dict and not isinstance(value, Mapping):  # the ABC check is slow; dicts skip it
            out.append(_type_violation(shape, path, "a structure (dict)", value))
            return
        if constrained:
            _constraints(shape, value, path, out)
        for name in required:
            if value.get(name) is None:
                out.append(Violation(path_text((path, name)), "is required"))
        for name, item in value.items():
            entry = entry_of(name)
            if entry is None:
                out.append(Violation(path_text((path, name)), unknown_rule))
            elif item is not None and type(item) not in entry[0]:
                entry[1](item, (path, name), out)
        # A union sets one member, as a rule: counted only when it is not exactly one key that is set.
        if union and (len(value) != 1 or None in value.values()):
            _check_union_members(value, plan, path, out)

    # Registered before its members are compiled, so that a member of this very shape (DynamoDB's AttributeValue
    # holds lists and maps of itself) calls this check directly rather than through `compile_once`'s forwarder.
    memo[shape] = check
    for name, m in shape.members.items():
        plan[name] = (
            _accepted_without_check(m.shape, constraints),
            _check_stream(m.shape) if m.streaming and m.shape.type == "blob" else _compile(m.shape, constraints, memo),
        )
    return check


def _check_union_members(value: Mapping[str, Any], members: Mapping[str, object], path: Path,
                         out: list[Violation]) -> None:
    set_members = sum(1 for name, item in value.items() if item is not None and name in members)  # unknown: refused
    if set_members != 1:
        out.append(Violation(path_text(path), f"a union needs exactly one member set, got {set_members}"))


def _check_list(shape: Shape, constraints: bool, memo: _Memo) -> Check:
    element = shape.member.shape
    accepted, check_element = _accepted_without_check(element, constraints), _compile(element, constraints, memo)
    constrained = constraints and _has_constraints(shape)

    def check(value: Any, path: Path, out: list[Violation]) -> None:
        if not isinstance(value, (list, tuple)):
            out.append(_type_violation(shape, path, "a list", value))
            return
        if constrained:
            _constraints(shape, value, path, out)
        for index, item in enumerate(value):
            if type(item) not in accepted:
                check_element(item, (path, index), out)

    return check


def _check_map(shape: Shape, constraints: bool, memo: _Memo) -> Check:
    key_shape, value_shape = shape.members["key"].shape, shape.members["value"].shape
    key_accepted, check_key = _accepted_without_check(key_shape, constraints), _compile(key_shape, constraints, memo)
    value_accepted, check_value = _accepted_without_check(value_shape, constraints), _compile(value_shape, constraints, memo)
    constrained = constraints and _has_constraints(shape)

    def check(value: Any, path: Path, out: list[Violation]) -> None:
        if type(value) is not dict and not isinstance(value, Mapping):  # the ABC check is slow; dicts skip it
            out.append(_type_violation(shape, path, "a map (dict)", value))
            return
        if constrained:
            _constraints(shape, value, path, out)
        for key, item in value.items():
            if type(key) not in key_accepted:
                check_key(key, (path, key, _MAP_KEY), out)
            if type(item) not in value_accepted:
                check_value(item, (path, key, _MAP_KEY), out)

    return check


#: shape type -> builder of its check; other types are scalars.
_BUILDERS: dict[str, Callable[[Shape, bool, _Memo], Check]] = {
    "structure": _check_structure,
    "list": _check_list,
    "map": _check_map,
}


def _compile(shape: Shape, constraints: bool, memo: _Memo) -> Check:
    def build() -> Check:
        return _accept_anything if shape.document else _BUILDERS.get(shape.type, _check_scalar)(shape, constraints, memo)
    check: Check = compile_once(shape, memo, build)
    return check


@lru_cache(maxsize=4096)
def checker(shape: Shape, constraints: bool) -> Check:
    """The check of values of `shape`, built once per shape: types, required
    and unknown members, and with `constraints` enums, length/range and patterns."""
    return _compile(shape, constraints, {})


def _no_input(params: Mapping[str, Any], path: Path, out: list[Violation]) -> None:
    out.extend(Violation(name, "is not a member of the input (the operation takes none)") for name in params)


def input_checker(shape: Shape | None, constraints: bool) -> Check:
    """The check of an operation's params against its input `shape` (None: the operation takes none, so every
    param is a violation), called as `check(params, (), out)`; built once per shape, as `checker`."""
    return _no_input if shape is None else checker(shape, constraints)


def violations(shape: Shape | None, params: Mapping[str, Any], constraints: bool) -> list[Violation]:
    """Every violation of `params` against input `shape` (None: no input allowed)."""
    out: list[Violation] = []
    input_checker(shape, constraints)(params, (), out)
    return out


def validate(model: Model, operation: str, params: Mapping[str, Any]) -> None:
    """Check `params` for `operation`: types, required and unknown members, enums,
    length/range and patterns. Returns None; raises `ValidationError` listing
    every violation."""
    found = violations(model.operation(operation).input, params, constraints=True)
    if found:
        raise ValidationError(tuple(found))
