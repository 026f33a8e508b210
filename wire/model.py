"""Service models: botocore-format JSON resolved into an immutable shape graph.

Strategy: `build_model` reads the plain dict (`metadata`, `operations`,
`shapes`) in two passes. The first creates one `Shape` per name with an empty
member table; the second fills the tables with `Member` values that point at
their target `Shape` directly, so recursive shapes become a cyclic graph and
no codec ever looks a shape up by name. The member tables are exposed as
read-only mappings; once `build_model` returns nothing changes. A member's
serialization traits are the target shape's traits overlaid with the member
reference's (the botocore rule: `locationName`, `flattened`,
`timestampFormat`... on a reference win). Lists keep their element under the
key `member`, maps under `key` and `value`.

Every unknown shape reference is collected and reported by name at load time,
as is a protocol no codec implements.
"""

from __future__ import annotations

import difflib
import gzip
import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from wire.errors import ModelError

#: Protocols with a codec, in botocore's priority order: a model listing
#: several (`protocols`) is read with the first of these it lists, as botocore
#: clients choose (CloudWatch lists smithy-rpc-v2-cbor, json and query: json).
SUPPORTED_PROTOCOLS = ("json", "rest-json", "rest-xml", "smithy-rpc-v2-cbor", "query", "ec2")

_SHIPPED = Path(__file__).parent / "models"


@dataclass(frozen=True, slots=True, eq=False)
class Shape:
    """A named shape. Identity is the name: shapes compare by object identity."""

    name: str
    type: str
    members: Mapping[str, Member] = field(repr=False)
    required: frozenset[str] = frozenset()
    enum: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    timestamp_format: str | None = None
    payload: str | None = None
    document: bool = False
    union: bool = False
    streaming: bool = False
    exception: bool = False
    error_code: str | None = None
    error_status: int | None = None
    sender_fault: bool = True
    #: The model marks the value as sensitive: never echoed in messages.
    sensitive: bool = False
    #: The shape's own `locationName` (restXml: the element name wherever it is the root).
    location_name: str | None = None
    #: The shape's own `xmlNamespace` as (prefix, uri), before any member reference overrides it.
    xml_namespace: tuple[str, str] | None = None

    @property
    def member(self) -> Member:
        """A list's element member."""
        return self.members["member"]


@dataclass(frozen=True, slots=True, eq=False)
class Member:
    """A reference to a shape from a structure, list or map, with its traits."""

    name: str
    shape: Shape
    location: str | None = None
    location_name: str | None = None
    query_name: str | None = None
    flattened: bool = False
    timestamp_format: str | None = None
    idempotency_token: bool = False
    host_label: bool = False
    json_value: bool = False
    #: restXml `xmlNamespace` as (prefix, uri); prefix "" for a default namespace.
    xml_namespace: tuple[str, str] | None = None
    #: restXml: the member is an attribute of its structure's element, named `location_name`.
    xml_attribute: bool = False
    #: The reference's own `locationName`: a structure's `locationName` names it only as a document root.
    ref_location_name: str | None = None
    #: A streaming payload (the trait sits on the reference in S3's model, or on the shape).
    streaming: bool = False

    @property
    def wire_name(self) -> str:
        """The name on the wire: `locationName` when set, else the member name."""
        return self.name if self.location_name is None else self.location_name


@dataclass(frozen=True, slots=True, eq=False)
class Operation:
    name: str
    method: str
    request_uri: str
    response_code: int
    input: Shape | None
    output: Shape | None
    errors: tuple[Shape, ...]
    host_prefix: str | None = None
    result_wrapper: str | None = None
    compression: tuple[str, ...] = ()
    checksum_required: bool = False
    #: The input reference with its traits (restXml: the body's root name and namespace).
    input_member: Member | None = None
    #: `httpChecksum.requestChecksumRequired`: a checksum must travel, MD5 or a flexible one.
    request_checksum_required: bool = False
    #: `httpChecksum.requestAlgorithmMember`: the input member naming the flexible checksum algorithm.
    request_algorithm_member: str | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Model:
    protocol: str
    api_version: str
    operations: Mapping[str, Operation] = field(repr=False)
    shapes: Mapping[str, Shape] = field(repr=False)
    #: error code (the shape's `error.code`, else its name) -> error shape
    error_shapes: Mapping[str, Shape] = field(repr=False)
    service_id: str = ""
    signing_name: str = ""
    target_prefix: str = ""
    json_version: str = "1.0"
    query_compatible: bool = False

    def operation(self, name: str) -> Operation:
        """The operation called `name`: its API name (`ListObjectsV2`), or as the aws CLI (`list-objects-v2`)
        or boto3 (`list_objects_v2`) spell it. Raises `ModelError` naming the close matches, or all the
        operations of a small model."""
        found = self.operations.get(name) or _spelled(self).get(_spelling(name))
        if found is not None:
            return found
        near = difflib.get_close_matches(_spelling(name), _spelled(self), n=3)
        if near:
            hint = "did you mean " + " or ".join(_spelled(self)[n].name for n in near) + "?"
        else:
            hint = f"the model has {len(self.operations)} operations" + (
                ": " + ", ".join(sorted(self.operations)) if len(self.operations) <= _LISTED else "")
        raise ModelError(f"unknown operation {name!r}; {hint}")


#: A model with more operations than this is not listed whole in an error (EC2 has over 700).
_LISTED = 40


def _spelling(name: str) -> str:
    """`name` without case, `-` and `_`: what an API name and its aws CLI and boto3 spellings share."""
    return name.replace("-", "").replace("_", "").lower()


@lru_cache(maxsize=64)
def _spelled(model: Model) -> Mapping[str, Operation]:
    """`model`'s operations by spelling (`_spelling`), leaving out any spelling two share (none in AWS's)."""
    counts = Counter(_spelling(name) for name in model.operations)
    return MappingProxyType({_spelling(name): op for name, op in model.operations.items()
                             if counts[_spelling(name)] == 1})


def _choose_protocol(metadata: Mapping[str, Any], wanted: str | None) -> str:
    offered = list(metadata.get("protocols") or [metadata.get("protocol")])
    if wanted is not None:
        if wanted not in offered or wanted not in SUPPORTED_PROTOCOLS:
            raise ModelError(f"protocol {wanted!r} is not one the model offers ({offered!r}) and we support")
        return wanted
    for protocol in SUPPORTED_PROTOCOLS:
        if protocol in offered:
            return protocol
    raise ModelError(f"unsupported protocol {offered!r}; supported: {', '.join(SUPPORTED_PROTOCOLS)}")


def _new_shape(name: str, raw: Mapping[str, Any], members: Mapping[str, Member]) -> Shape:
    error = raw.get("error") or {}
    return Shape(
        name=name,
        type=str(raw["type"]),
        members=members,
        required=frozenset(raw.get("required", ())),
        enum=tuple(raw.get("enum", ())),
        min=raw.get("min"),
        max=raw.get("max"),
        pattern=raw.get("pattern"),
        timestamp_format=raw.get("timestampFormat"),
        payload=raw.get("payload"),
        document=bool(raw.get("document")),
        union=bool(raw.get("union")),
        streaming=bool(raw.get("streaming") or raw.get("eventstream")),
        exception=bool(raw.get("exception")),
        error_code=error.get("code"),
        error_status=error.get("httpStatusCode"),
        sender_fault=bool(error.get("senderFault", not raw.get("fault"))),
        sensitive=bool(raw.get("sensitive")),
        location_name=raw.get("locationName"),
        xml_namespace=_xml_namespace(raw.get("xmlNamespace")),
    )


def _member_refs(raw: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The shape references a shape owns, keyed as in `Shape.members`."""
    kind = raw.get("type")
    if kind == "structure":
        return dict(raw.get("members", {}))
    if kind == "list":
        return {"member": raw["member"]}
    if kind == "map":
        return {"key": raw["key"], "value": raw["value"]}
    return {}


def _new_member(name: str, ref: Mapping[str, Any], target: Shape, raw_target: Mapping[str, Any]) -> Member:
    traits = {**raw_target, **ref}
    return Member(
        name=name,
        shape=target,
        location=traits.get("location"),
        location_name=traits.get("locationName"),
        query_name=traits.get("queryName"),
        flattened=bool(traits.get("flattened")),
        timestamp_format=traits.get("timestampFormat"),
        idempotency_token=bool(traits.get("idempotencyToken")),
        host_label=bool(traits.get("hostLabel")),
        json_value=bool(traits.get("jsonvalue")),
        xml_namespace=_xml_namespace(traits.get("xmlNamespace")),
        xml_attribute=bool(traits.get("xmlAttribute")),
        ref_location_name=ref.get("locationName"),
        streaming=bool(traits.get("streaming")),
    )


def _xml_namespace(raw: Any) -> tuple[str, str] | None:
    """`xmlNamespace` is a URI string or {"prefix", "uri"}."""
    if isinstance(raw, str):
        return ("", raw)
    if isinstance(raw, Mapping) and raw.get("uri"):
        return (str(raw.get("prefix") or ""), str(raw["uri"]))
    return None


def build_model(raw: Mapping[str, Any], protocol: str | None = None) -> Model:
    """Resolve a botocore-format model dict, read with `protocol` (by default
    botocore's choice); raises `ModelError` listing every problem."""
    try:
        metadata = raw["metadata"]
        raw_shapes: Mapping[str, Mapping[str, Any]] = raw.get("shapes", {})
        raw_operations: Mapping[str, Mapping[str, Any]] = raw.get("operations", {})
    except (KeyError, TypeError) as err:
        raise ModelError(f"not a service model: missing {err}") from err
    protocol = _choose_protocol(metadata, protocol)

    tables: dict[str, dict[str, Member]] = {name: {} for name in raw_shapes}
    try:
        shapes = {name: _new_shape(name, spec, MappingProxyType(tables[name])) for name, spec in raw_shapes.items()}
    except KeyError as err:
        raise ModelError(f"shape without {err}") from err

    missing: list[str] = []

    def resolve(ref: Mapping[str, Any] | None, where: str) -> Shape | None:
        if ref is None:
            return None
        target = shapes.get(ref.get("shape", ""))
        if target is None:
            missing.append(f"{where} -> {ref.get('shape')!r}")
        return target

    for name, spec in raw_shapes.items():
        for key, ref in _member_refs(spec).items():
            target = resolve(ref, f"{name}.{key}")
            if target is not None:
                tables[name][key] = _new_member(key, ref, target, raw_shapes[target.name])

    operations: dict[str, Operation] = {}
    for op_name, spec in raw_operations.items():
        http = spec.get("http", {})
        errors = tuple(s for i, ref in enumerate(spec.get("errors", ())) if (s := resolve(ref, f"{op_name}.errors[{i}]")))
        operations[op_name] = Operation(
            name=op_name,
            method=http.get("method", "POST"),
            request_uri=http.get("requestUri", "/"),
            response_code=int(http.get("responseCode", 200)),
            input=resolve(spec.get("input"), f"{op_name}.input"),
            output=resolve(spec.get("output"), f"{op_name}.output"),
            errors=errors,
            host_prefix=(spec.get("endpoint") or {}).get("hostPrefix"),
            result_wrapper=(spec.get("output") or {}).get("resultWrapper"),
            compression=tuple((spec.get("requestcompression") or {}).get("encodings", ())),
            checksum_required=bool(spec.get("httpChecksumRequired")),
            input_member=_new_member("", spec["input"], shapes[spec["input"]["shape"]], raw_shapes[spec["input"]["shape"]])
            if spec.get("input") and spec["input"].get("shape") in shapes else None,
            request_checksum_required=bool((spec.get("httpChecksum") or {}).get("requestChecksumRequired")),
            request_algorithm_member=(spec.get("httpChecksum") or {}).get("requestAlgorithmMember"),
        )
    if missing:
        raise ModelError("unknown shape references: " + ", ".join(missing))

    error_shapes = {s.error_code or s.name: s for s in shapes.values() if s.exception}
    return Model(
        protocol=protocol,
        api_version=metadata.get("apiVersion", ""),
        operations=MappingProxyType(operations),
        shapes=MappingProxyType(shapes),
        error_shapes=MappingProxyType(error_shapes),
        service_id=metadata.get("serviceId", ""),
        signing_name=metadata.get("signingName") or metadata.get("endpointPrefix", ""),
        target_prefix=metadata.get("targetPrefix", ""),
        json_version=metadata.get("jsonVersion", "1.0"),
        query_compatible="awsQueryCompatible" in metadata,
    )


def _read_model_file(path: Path) -> Any:
    """The one place `wire` touches the file system: an explicit user request."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return json.loads(data)


def _botocore_model(service: str) -> Any:
    """A model from an installed botocore (optional; never needed at runtime)."""
    try:
        from botocore.exceptions import UnknownServiceError  # type: ignore[import-untyped]
        from botocore.loaders import Loader  # type: ignore[import-untyped]
    except ImportError as err:
        raise ModelError(f"no shipped model {service!r} and botocore is not installed") from err
    try:
        return Loader().load_service_model(service, "service-2")
    except UnknownServiceError as err:
        raise ModelError(f"unknown service {service!r}") from err


def load_model(source: str | Path | Mapping[str, Any], *, protocol: str | None = None) -> Model:
    """Load a service model.

    `source` is a model dict, a path to a `.json` / `.json.gz` file, the name
    of a shipped model (`"account"`), or the name of a service in an installed
    botocore. `protocol` picks one of the protocols the model lists
    (`"smithy-rpc-v2-cbor"` for CloudWatch); by default the one botocore
    clients pick. Returns a `Model`; raises `ModelError`.
    """
    if isinstance(source, Mapping):
        return build_model(source, protocol)
    path = Path(source)
    if path.suffix not in (".json", ".gz"):
        path = _SHIPPED / f"{source}.json"
        if not path.is_file():
            return build_model(_botocore_model(str(source)), protocol)
    try:
        raw = _read_model_file(path)
    except (OSError, ValueError) as err:
        raise ModelError(f"cannot read model {str(path)!r}: {err}") from err
    return build_model(raw, protocol)


#: Shapes of one compiled graph -> what was built for each (see `compile_once`).
CompileMemo = dict["Shape", Any]
_BUILDING = object()


def compile_once(shape: Shape, memo: CompileMemo, build: Callable[[], Any]) -> Any:
    """`build()` once per shape of one compiled graph (an encoder, a validator...).

    A recursive shape met again while its own build is under way gets a
    forwarder that reaches the finished result through `memo` when called.
    """
    if shape in memo:
        built = memo[shape]
        if built is not _BUILDING:
            return built
        return lambda *args: memo[shape](*args)
    memo[shape] = _BUILDING
    memo[shape] = built = build()
    return built
