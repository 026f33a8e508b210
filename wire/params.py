"""`Name=Value` command-line parameters read by the model's member types, as the aws CLI does.

Strategy: the member's shape type picks the reader from a table. A scalar's
text is read as that type, strictly: a string or an enum takes the text as
typed (`42`, `true` and `null` included), numbers and booleans parse or are
refused, timestamps are ISO 8601 or epoch seconds, a blob is the text's UTF-8
bytes or a file's bytes (`@path`, `fileb://path`). A structure, list or map
takes JSON when the text is JSON whose values have the member's types, and
otherwise the aws CLI's shorthand (`wire.shorthand`), whose text leaves are
then given their types by the same scalar table, member by member. Member
names are the model's member names (what `wire.serialize` takes), not the
wire names. Files are read by a `load(path) -> bytes` function the caller
passes in: this module does no I/O. Every refusal is a `ParamError` with one
line naming the member path, the shape type and the text.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from sigv4.bounded import json_loads, utc
from wire.errors import ParamError, Violation
from wire.model import Model, Shape
from wire.shorthand import FILE_PREFIXES, FileRef, ShorthandError, Value, parse_shorthand, parse_value
from wire.validate import checker, path_text

#: Reads a file's bytes for `@path`, `fileb://path` and `key@=file://path`; supplied by the edge.
Loader = Callable[[str], bytes]

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_SPECIAL_FLOATS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}
_EPOCH = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_BOOLEANS = {"true": True, "false": False}
#: Blob text that names a file instead of being the bytes.
_BLOB_FILE_PREFIXES = ("fileb://", "@")

#: integer shape type -> (lowest, highest) value the type holds.
_INTEGER_RANGES: dict[str, tuple[int | None, int | None]] = {
    "byte": (-(2**7), 2**7 - 1),
    "short": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "long": (-(2**63), 2**63 - 1),
    "biginteger": (None, None),
}


class _Refused(Exception):
    """A scalar reader's refusal: what the text should have been, in words."""


def _read_string(text: str, load: Loader) -> str:
    return text


def _read_integer(kind: str) -> Callable[[str, Loader], int]:
    low, high = _INTEGER_RANGES[kind]

    def read(text: str, load: Loader) -> int:
        try:
            value = int(text) if _INTEGER.fullmatch(text) else None
        except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
            value = None
        if value is None:
            raise _Refused("an integer")
        if (low is not None and value < low) or (high is not None and value > high):
            raise _Refused(f"an integer from {low} to {high}")
        return value

    return read


def _read_float(text: str, load: Loader) -> float:
    special = _SPECIAL_FLOATS.get(text)
    if special is not None:
        return special
    value = float(text) if _DECIMAL.fullmatch(text) else None
    if value is None or math.isinf(value):  # `1e999` is not infinity by accident
        raise _Refused("a decimal number (or NaN, Infinity, -Infinity)")
    return value


def _read_boolean(text: str, load: Loader) -> bool:
    value = _BOOLEANS.get(text.lower())
    if value is None:
        raise _Refused("true or false")
    return value


def _read_timestamp(text: str, load: Loader) -> datetime:
    expected = "ISO 8601 (2024-05-01T12:00:00Z), an HTTP date (Wed, 01 May 2024 12:00:00 GMT) or epoch seconds"
    try:
        if _EPOCH.fullmatch(text):
            return datetime.fromtimestamp(float(text), timezone.utc)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:  # as S3 answers `Last-Modified`, what a user copies into `IfModifiedSince`
            parsed = parsedate_to_datetime(text)
        # Without an offset the time is UTC, never the local zone: the same text means the same instant anywhere.
        return utc(parsed)
    except (ValueError, TypeError, IndexError, OverflowError, OSError):
        raise _Refused(expected + ", within years 1..9999") from None


def _read_blob(text: str, load: Loader) -> bytes:
    for prefix in _BLOB_FILE_PREFIXES:
        if text.startswith(prefix):
            if text == prefix:  # no path: the loader would name the current directory, not the member
                raise _Refused(f"a file path after {prefix}")
            return load(text[len(prefix):])
    return text.encode("utf-8")


#: shape type -> reader of one scalar's text; a type missing here is not a scalar.
_SCALAR_READERS: dict[str, Callable[[str, Loader], Any]] = {
    "string": _read_string,
    **{kind: _read_integer(kind) for kind in _INTEGER_RANGES},
    "float": _read_float,
    "double": _read_float,
    "bigdecimal": _read_float,
    "boolean": _read_boolean,
    "timestamp": _read_timestamp,
    "blob": _read_blob,
}

#: shape type -> what a shorthand value of that type looks like, for messages.
_CONTAINER_FORMS = {
    "structure": "a structure ({Name=value,...} or JSON)",
    "list": "a list ([a,b], a,b or JSON)",
    "map": "a map ({key=value,...} or JSON)",
}


def _shown(shape: Shape, value: Value) -> str:
    """The value as quoted in a message; a sensitive member's text (a password, a secret) is not
    echoed, since messages reach terminals and logs."""
    if isinstance(value, FileRef):
        return f"the file {value.path!r}"
    if not isinstance(value, str):
        return "a list" if isinstance(value, list) else "a structure"
    return "(sensitive value)" if shape.sensitive else _quoted(value)


def _quoted(text: str) -> str:
    """`text` quoted for a one-line message, long ones cut short."""
    return repr(text if len(text) <= 60 else text[:60] + "...")


def _refusal(path: tuple[Any, ...], shape: Shape, expected: str, got: str) -> ParamError:
    where = path_text(path) or shape.name
    return ParamError(f"{where}: expected {expected} ({shape.type}), got {got}")


def _file_text(ref: FileRef, load: Loader, path: tuple[Any, ...]) -> str:
    data = load(ref.path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ParamError(f"{path_text(path)}: {ref.path} is not UTF-8 (byte offset {err.start})") from None


def _scalar(shape: Shape, value: Value, path: tuple[Any, ...], load: Loader) -> Any:
    reader = _SCALAR_READERS.get(shape.type, _read_string)
    if isinstance(value, FileRef):
        if shape.type == "blob":
            return load(value.path)
        value = _file_text(value, load, path)
    if not isinstance(value, str):
        raise _refusal(path, shape, f"a single {shape.type} value", _shown(shape, value))
    try:
        return reader(value, load)
    except _Refused as err:
        raise _refusal(path, shape, str(err), _shown(shape, value)) from None


def _typed(shape: Shape, value: Value, path: tuple[Any, ...], load: Loader) -> Any:
    """A shorthand value given the model's types, member by member."""
    if shape.document:
        raise ParamError(f"{path_text(path)}: a document ({shape.name}) is written as JSON, not shorthand")
    kind = shape.type
    if kind == "list":
        # As in the aws CLI, one value where a list is expected is a list of one.
        items = value if isinstance(value, list) else [value]
        element = shape.member.shape
        return [_typed(element, item, (path, index), load) for index, item in enumerate(items)]
    if kind in ("structure", "map"):
        if not isinstance(value, dict):
            raise _refusal(path, shape, _CONTAINER_FORMS[kind], _shown(shape, value))
        if kind == "map":
            target = shape.members["value"].shape
            return {key: _typed(target, item, (path, key, None), load) for key, item in value.items()}
        out: dict[str, Any] = {}
        for name, item in value.items():
            member = shape.members.get(name)
            # An unknown name keeps its text: `wire.validate` then names it and lists the members.
            out[name] = item if member is None else _typed(member.shape, item, (path, name), load)
        return out
    return _scalar(shape, value, path, load)


def _fits(shape: Shape, value: Any) -> bool:
    found: list[Violation] = []
    checker(shape, False)(value, (), found)
    return not found


def _json_value(shape: Shape, text: str) -> tuple[bool, Any, str]:
    """(True, value, "") when `text` is JSON of the container kind `shape` needs, else (False, None, why not):
    why is "" for text that is no JSON, else what JSON's value cannot be sent for (NaN, Infinity, `1e400`)."""
    start = text.lstrip()[:1]
    if start not in ("[", "{"):
        return False, None, ""
    try:
        value = json_loads(text, finite=True)
    except json.JSONDecodeError:  # not JSON: shorthand, perhaps
        return False, None, ""
    except ValueError as err:
        return False, None, str(err)
    return (isinstance(value, list) if shape.type == "list" else isinstance(value, dict)), value, ""


def _container(shape: Shape, text: str, path: tuple[Any, ...], load: Loader) -> Any:
    is_json, value, unsendable = _json_value(shape, text)
    if is_json and _fits(shape, value):
        return value
    start = text.lstrip()[:1]
    keyvals = start not in ("[", "{") and (shape.type != "list" or shape.member.shape.type in ("structure", "map"))
    if keyvals and not start:
        raise _refusal(path, shape, _CONTAINER_FORMS[shape.type], _shown(shape, text))
    try:
        # The aws CLI's top-level form: `Name=Key=a,Value=b` is a structure (or a list of one).
        parsed = parse_shorthand(text) if keyvals else parse_value(text)
        return _typed(shape, parsed, path, load)
    except ShorthandError as err:
        if is_json:
            # JSON whose values have other types: `wire.validate` says which, better than a syntax error.
            return value
        # The aws CLI's `--item file://item.json`, typed as `Item=file://item.json`: say how this tool writes it.
        hint = f" (a value read from a file is written {path_text(path)}@={text})" if text.startswith(
            tuple(FILE_PREFIXES)) else ""
        # JSON holding NaN or `1e400` (no shorthand either): that, not the shorthand's syntax error, is what to fix.
        raise ParamError(f"{path_text(path)}: {unsendable or err}{hint}") from None
    except ParamError:
        if is_json:
            return value
        raise


def read_value(name: str, shape: Shape, text: str, load: Loader) -> Any:
    """The value of top-level member `name` (of shape `shape`) from its command-line text.

    Returns a str, int, float, bool, aware UTC datetime, bytes, list or dict;
    raises `ParamError` (one line) when the text does not read as the shape's type.
    """
    path: tuple[Any, ...] = ((), name)
    if shape.document:
        try:
            return json_loads(text, finite=True)
        except ValueError as err:
            raise ParamError(f"{name}: a document ({shape.name}) is JSON: {err}") from None
    if shape.type in _CONTAINER_FORMS:
        return _container(shape, text, path, load)
    return _scalar(shape, text, path, load)


def _split(item: str) -> tuple[str, str]:
    name, sep, text = item.partition("=")
    if not sep or not name:
        raise ParamError(f"parameter {_quoted(item)}: expected Name=Value")
    return name, text


def _input_document(given: str, load: Loader) -> dict[str, Any]:
    # `@path`, or the aws CLI's `--cli-input-json file://path` as people type it
    prefix = next((prefix for prefix in ("@", "file://") if given.startswith(prefix)), None)
    if prefix is not None:
        path = given[len(prefix):]
        try:
            given = load(path).decode("utf-8-sig")  # a byte-order mark (Windows editors write one) is no JSON
        except UnicodeDecodeError as err:
            raise ParamError(f"{path}: --input file is not UTF-8 (byte offset {err.start})") from None
    try:
        params = json_loads(given, finite=True)
    except ValueError as err:
        raise ParamError(f"--input: not valid JSON ({err})") from None
    if not isinstance(params, dict):
        raise ParamError("--input: must be a JSON object of operation parameters")
    return params


def read_params(model: Model, operation: str, items: Iterable[str], load: Loader,
                document: str | None = None) -> dict[str, Any]:
    """Operation params from `Name=Value` texts, each read by its member's type.

    `Name@=file://path` (or `fileb://path`) reads the value's text from a file,
    as in the aws CLI's shorthand. `document` (`--input`: a JSON object's
    text, or `@path` / `file://path` of a UTF-8 file) is taken as is, exact JSON types; a `Name=Value` replaces
    its member. A name the input shape lacks keeps its text, for
    `wire.validate` to report with the list of members.
    Returns the params; raises `ParamError` (one line) or `ModelError` for an
    unknown operation.
    """
    members = model.operation(operation).input
    params = {} if document is None else _input_document(document, load)
    seen: set[str] = set()
    for item in items:
        name, text = _split(item)
        if not text.isascii():  # argv's bytes that are not UTF-8 arrive as lone surrogates
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as err:
                raise ParamError(f"{name.removesuffix('@')}: byte 0x{ord(text[err.start]) & 0xFF:02x} at offset "
                                 f"{err.start} is not UTF-8 text") from None
        from_file = name.endswith("@")
        name = name.removesuffix("@")
        if name in seen:
            raise ParamError(f"{name}: given twice")
        seen.add(name)
        member = None if members is None else members.members.get(name)
        if from_file:
            ref = next((FileRef(text[len(p):], b) for p, b in FILE_PREFIXES.items() if text.startswith(p)), None)
            if ref is None:
                raise ParamError(f"{name}@=: expected file://path or fileb://path, got {_quoted(text)}")
            if member is not None and member.shape.type == "blob":
                params[name] = load(ref.path)
                continue
            text = _file_text(ref, load, ((), name))
        params[name] = text if member is None else read_value(name, member.shape, text, load)
    return params
