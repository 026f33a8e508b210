"""Shape-directed conversion between params and document values, for the
protocols whose bodies are documents of plain values: awsJson and restJson1
bodies (JSON) and Smithy RPCv2 (CBOR).

Strategy: each shape's encoder and decoder is compiled once into a closure
(cached per shape identity and `Rules`) from builder tables keyed by shape
type; a structure's closure holds its members' conversions directly, and
values the document carries unchanged (strings, integers, booleans) skip the
call. What differs between the formats is only how scalars travel (a blob is
base64 text in JSON and a byte string in CBOR; a timestamp is a formatted
number or text in JSON and a tag-1 item in CBOR; non-finite floats are
strings in JSON), so a format is a `Rules` value holding its scalar tables,
and the structure, list and map builders here are shared. A timestamp's
format is a trait of the member reference, not of the shape, so it is fixed
when the member's encoder is built. Absent and `None` members are omitted on
output; `null` is skipped on input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from wire.errors import DecodeError
from wire.model import CompileMemo, Member, Shape, compile_once

#: A compiled conversion of one shape's values; None where the document carries the value as it is.
Convert = Callable[[Any], Any]


@dataclass(frozen=True, slots=True, eq=False)
class Rules:
    """How one document format carries scalars (compared by identity)."""

    #: shape type -> (shape, timestamp format of the member reference) -> encoder
    encoders: Mapping[str, Callable[[Shape, str | None], Convert]]
    #: shape type -> shape -> decoder
    decoders: Mapping[str, Callable[[Shape], Convert]]
    #: shape type -> the exact document type its decoder returns unchanged (the call is skipped)
    decoded_as_is: Mapping[str, type]


def expect(kind: type | tuple[type, ...], value: Any, shape: Shape) -> Any:
    """`value` when it is a `kind`; else `DecodeError` naming the shape."""
    if not isinstance(value, kind):
        raise DecodeError(f"{shape.name}: expected {shape.type}, got {type(value).__name__}")
    return value


def _compile(shape: Shape, memo: CompileMemo, build: Callable[[Shape, CompileMemo], Convert | None]) -> Convert | None:
    converter: Convert | None = compile_once(shape, memo, lambda: build(shape, memo))
    return converter


class _Compiler:
    """What the encoder and decoder compilers share: documents travel as they
    are, containers are built by `structural`, scalars by the `Rules` table."""

    structural: dict[str, Callable[[Shape, CompileMemo], Convert]]

    def __init__(self, rules: Rules) -> None:
        self.rules = rules

    def scalar(self, shape: Shape) -> Convert | None:
        raise NotImplementedError

    def build(self, shape: Shape, memo: CompileMemo) -> Convert | None:
        if shape.document:
            return None
        structural = self.structural.get(shape.type)
        return structural(shape, memo) if structural is not None else self.scalar(shape)


# -- encoding: params -> document values -------------------------------------------


class _Encoders(_Compiler):
    """The encoder compiler of one `Rules`."""

    def __init__(self, rules: Rules) -> None:
        super().__init__(rules)
        self.structural = {
            "structure": lambda shape, memo: self.members(shape.members.values(), memo, shape),
            "list": self.list,
            "map": self.map,
        }

    def scalar(self, shape: Shape) -> Convert | None:
        encoder = self.rules.encoders.get(shape.type)
        return None if encoder is None else encoder(shape, shape.timestamp_format)

    def member(self, member: Member, memo: CompileMemo) -> Convert | None:
        shape = member.shape
        if shape.type == "timestamp":
            # The format is a trait of the member reference, so it is not memoized with the shape.
            return self.rules.encoders["timestamp"](shape, member.timestamp_format or shape.timestamp_format)
        return _compile(shape, memo, self.build)

    def members(self, members: Iterable[Member], memo: CompileMemo,
                shape: Shape | None = None) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
        """The encoder of a document object of `members` (`shape`'s, registered in `memo` as it is built)."""
        members = tuple(members)
        plan: dict[str, tuple[str, Convert | None]] = {}
        entry_of = plan.get  # bound once: looked up for every key of every object encoded

        def encode(value: Mapping[str, Any]) -> dict[str, Any]:
            # Walk the keys the caller set, not every member (a union such as
            # DynamoDB's AttributeValue has ten, one set), so keys keep the caller's
            # order. Keys that are not members (bound elsewhere, or unknown and
            # already refused by validation) are skipped.
            out: dict[str, Any] = {}
            for name, item in value.items():
                entry = entry_of(name)
                if entry is not None and item is not None:
                    encoder = entry[1]
                    out[entry[0]] = item if encoder is None else encoder(item)
            return out

        # A structure whose members all travel as they are, under their own names (text, integers, booleans),
        # as most leaf structures a client sends (names and values, tags, contacts): when the value is a dict
        # of such members, none of them None, the document is the value itself (serialized at once, it is
        # neither kept nor changed).
        plain = self.plain_members(members)

        def encode_plain(value: Mapping[str, Any]) -> dict[str, Any]:
            if type(value) is dict:
                for name, item in value.items():
                    if item is None or name not in plain:
                        return encode(value)
                return value
            return encode(value)

        built = encode_plain if len(plain) == len(members) else encode
        if shape is not None:
            memo[shape] = built  # before the members are compiled: a recursive member calls it directly
        for m in members:
            plan[m.name] = (m.wire_name, self.member(m, memo))
        return built

    def plain_members(self, members: tuple[Member, ...]) -> frozenset[str]:
        """The names of `members` whose values travel as they are (no encoder), under their own names."""
        return frozenset(m.name for m in members if m.wire_name == m.name and (
            m.shape.document or (m.shape.type not in self.structural and m.shape.type not in self.rules.encoders)))

    def list(self, shape: Shape, memo: CompileMemo) -> Convert:
        encoder = self.member(shape.member, memo)
        if encoder is None:
            return list
        return lambda value: [encoder(item) for item in value]

    def map(self, shape: Shape, memo: CompileMemo) -> Convert:
        encoder = self.member(shape.members["value"], memo)
        if encoder is None:
            return dict

        def encode(value: Mapping[str, Any]) -> dict[str, Any]:
            out = {}  # a loop rather than a comprehension: one frame, not two
            for key, item in value.items():
                out[key] = encoder(item)
            return out

        return encode


# -- decoding: document values -> values ---------------------------------------------


class _Decoders(_Compiler):
    """The decoder compiler of one `Rules`."""

    def __init__(self, rules: Rules) -> None:
        super().__init__(rules)
        self.structural = {"structure": self.structure, "list": self.list, "map": self.map}

    def scalar(self, shape: Shape) -> Convert | None:
        decoder = self.rules.decoders.get(shape.type)
        return None if decoder is None else decoder(shape)

    def members(self, members: Iterable[Member], memo: CompileMemo,
                shape: Shape | None = None) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
        """The decoder of a document object of `members`; with `shape`, one that checks it is an object first
        (and is registered in `memo` as it is built)."""
        members = tuple(members)
        as_is = self.rules.decoded_as_is
        plan: dict[str, tuple[str, type | None, Convert | None]] = {}
        entry_of = plan.get  # bound once: looked up for every key of every object decoded

        def decode(data: Mapping[str, Any]) -> dict[str, Any]:
            # The type check is here rather than in a wrapper: a list of structures calls this once an element.
            if shape is not None and type(data) is not dict:
                expect(dict, data, shape)
            # Walk the keys the document holds, not every member: a response sets few of its shape's members
            # (and a union one). Keys that are no member are ignored, as a newer service may send them.
            out: dict[str, Any] = {}
            for wire_name, item in data.items():
                entry = entry_of(wire_name)
                if entry is not None and item is not None:
                    name, kind, decoder = entry
                    out[name] = item if type(item) is kind or decoder is None else decoder(item)
            return out

        # A structure whose members the document all carries as they are (text, integers, booleans), under
        # their own names, as most leaf structures of a response (names, ids, states): when each key of the
        # object is such a member holding a value of its exact type, the decoded object equals the document's,
        # which is returned (it was parsed for this call and nothing else holds it). Anything else (a null, an
        # unknown key, a value of another type) goes through `decode`, which skips, ignores or refuses it.
        kinds = self.plain_kinds(members)
        built = decode if kinds is None else _plain_or(decode, kinds.get)
        if shape is not None:
            memo[shape] = built  # before the members are compiled: a recursive member calls it directly
        for m in members:
            plan[m.wire_name] = (m.name, as_is.get(m.shape.type), _compile(m.shape, memo, self.build))
        return built

    def plain_kinds(self, members: Iterable[Member]) -> dict[str, type] | None:
        """wire name -> exact type, when the document carries every one of `members` as it is, under its own
        name (see `members`); else None."""
        as_is = self.rules.decoded_as_is
        kinds: dict[str, type] = {}
        for m in members:
            kind = as_is.get(m.shape.type)
            if kind is None or m.wire_name != m.name or m.wire_name in kinds:
                return None
            kinds[m.wire_name] = kind
        return kinds

    def structure(self, shape: Shape, memo: CompileMemo) -> Convert:
        return self.members(shape.members.values(), memo, shape)

    def list(self, shape: Shape, memo: CompileMemo) -> Convert:
        element = shape.member.shape
        decoder = _compile(element, memo, self.build)
        # A list of plain structures (see `members`), as listings answer (regions, tags): checked in one call
        # rather than one per element, and returned as parsed when every element holds plain members only.
        kinds = self.plain_kinds(element.members.values()) if element.type == "structure" else None
        kind_of = kinds.get if kinds is not None and not element.document else None

        def decode(data: Any) -> list[Any]:
            if type(data) is not list:
                expect(list, data, shape)
            if kind_of is not None and _plain_objects(data, kind_of):
                return data  # type: ignore[no-any-return]
            if decoder is None:  # elements taken as they are: no call per element
                return [item for item in data if item is not None]
            return [decoder(item) for item in data if item is not None]

        return decode

    def map(self, shape: Shape, memo: CompileMemo) -> Convert:
        decoder = _compile(shape.members["value"].shape, memo, self.build)

        def decode(data: Any) -> dict[str, Any]:
            if type(data) is not dict:
                expect(dict, data, shape)
            out = {}  # a loop rather than a comprehension: one frame, not two
            for key, item in data.items():
                if item is not None:
                    out[key] = item if decoder is None else decoder(item)
            return out

        return decode


def _plain_or(decode: Callable[[Mapping[str, Any]], dict[str, Any]],
              kind_of: Callable[[str], type | None]) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """A plain structure's decoder: the object itself when it holds plain members only, else what `decode` makes."""

    def decode_plain(data: Mapping[str, Any]) -> dict[str, Any]:
        if type(data) is dict:  # `_plain_objects` of the one object, inline: a structure decodes in one frame
            for key, item in data.items():
                if kind_of(key) is not type(item):
                    return decode(data)
            return data
        return decode(data)

    return decode_plain


def _plain_objects(objects: Iterable[Any], kind_of: Callable[[str], type | None]) -> bool:
    """True when each of `objects` is a dict whose every key `kind_of` maps to the exact type of its value."""
    for data in objects:
        if type(data) is not dict:
            return False
        for key, item in data.items():
            if kind_of(key) is not type(item):
                return False
    return True


@lru_cache(maxsize=64)
def _encoders(rules: Rules) -> _Encoders:
    return _Encoders(rules)


@lru_cache(maxsize=64)
def _decoders(rules: Rules) -> _Decoders:
    return _Decoders(rules)


# -- the cached entry points -----------------------------------------------------------


@lru_cache(maxsize=4096)
def members_encoder(rules: Rules, members: tuple[Member, ...]) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """The encoder of a document object holding those of `members` set in a value, built once."""
    return _encoders(rules).members(members, {})


@lru_cache(maxsize=4096)
def value_encoder(rules: Rules, shape: Shape, fmt: str | None) -> Convert | None:
    """The encoder of `shape`'s values (timestamp format `fmt`), built once; None when values travel as they are."""
    return _encoders(rules).member(Member("", shape, timestamp_format=fmt), {})


@lru_cache(maxsize=4096)
def members_decoder(rules: Rules, members: tuple[Member, ...]) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """The decoder of those of `members` present (and not null) in a document object, built once."""
    return _decoders(rules).members(members, {})


@lru_cache(maxsize=4096)
def value_decoder(rules: Rules, shape: Shape) -> Convert | None:
    """The decoder of `shape`'s document values, built once; None when values are taken as they are."""
    return _compile(shape, {}, _decoders(rules).build)


@lru_cache(maxsize=4096)
def structure_members(shape: Shape) -> tuple[Member, ...]:
    """A structure's members as the hashable key `members_encoder` / `members_decoder` are built for."""
    return tuple(shape.members.values())
