"""Render typed params as the `Name=Value` text a user would type for `sigv4 call`.

The inverse of `wire.params.read_params`, for round-trip tests: each top-level
member becomes one `Name=Value`, written (as hypothesis chooses) in JSON, in
the aws CLI's shorthand with braces and brackets, in its bare top-level form
(`Name=Key=a,Value=b`, `Name=a,b`), with words bare, single- or double-quoted.
Blobs that are not text go through files (`@path`, `fileb://path`) kept in a
dict the test hands to the reader as its loader.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from wire.model import Shape

Draw = Callable[[Any], Any]

#: Words written bare in any position (first or second csv value, list item, hash value).
_BARE = re.compile(r"[A-Za-z0-9_./:+-][A-Za-z0-9_./:+@ -]*[A-Za-z0-9_./:+@-]|[A-Za-z0-9_./:+-]")
_KEY = re.compile(r"[A-Za-z0-9_.#/:-]+")
_CONTAINERS = ("structure", "list", "map")


class Unwritable(Exception):
    """The value has no shorthand text (a quoted word cannot end in a backslash, as in the aws CLI)."""


class Files:
    """Blob contents written to 'files' for `@path`; `load` is the reader's loader."""

    def __init__(self) -> None:
        self.contents: dict[str, bytes] = {}

    def add(self, data: bytes) -> str:
        path = f"blob{len(self.contents)}.bin"
        self.contents[path] = data
        return path

    def load(self, path: str) -> bytes:
        return self.contents[path]


def quote(text: str, mark: str) -> str:
    escaped = text.replace("\\", "\\\\").replace(mark, "\\" + mark)
    if escaped.endswith("\\"):
        raise Unwritable(text)
    return mark + escaped + mark


def word(text: str, draw: Draw) -> str:
    """`text` as one shorthand word: bare when it can be, else quoted."""
    from hypothesis import strategies as st

    choices = ["'", '"'] + (["bare"] if _BARE.fullmatch(text) else [])
    mark = draw(st.sampled_from(choices))
    return text if mark == "bare" else quote(text, mark)


def _timestamp_text(value: datetime, draw: Draw) -> str:
    from hypothesis import strategies as st

    value = value.astimezone(timezone.utc)
    forms = [str(int(value.timestamp())), value.isoformat(), value.strftime("%Y-%m-%dT%H:%M:%SZ")]
    return str(draw(st.sampled_from(forms)))


def _blob_text(value: bytes, files: Files, draw: Draw) -> tuple[str, bool]:
    """(text, is it a file reference); a file reference must stay bare-or-quoted as is."""
    from hypothesis import strategies as st

    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None or text.startswith(("@", "fileb://")) or draw(st.booleans()):
        prefix = draw(st.sampled_from(["@", "fileb://"]))
        return prefix + files.add(value), True
    return text, False


def scalar_text(shape: Shape, value: Any, files: Files, draw: Draw) -> str:
    """A scalar as its plain text (before any shorthand quoting)."""
    from hypothesis import strategies as st

    kind = shape.type
    if kind == "boolean":
        return str(draw(st.sampled_from(["true", "True", "TRUE"] if value else ["false", "False"])))
    if kind in ("float", "double"):
        return repr(float(value)) if isinstance(value, float) else str(value)
    if kind == "timestamp":
        return _timestamp_text(value, draw)
    if kind == "blob":
        return _blob_text(value, files, draw)[0]
    return str(value)


def _jsonable(shape: Shape, value: Any) -> bool:
    if shape.type == "structure":
        return all(_jsonable(shape.members[k].shape, v) for k, v in value.items())
    if shape.type == "list":
        return all(_jsonable(shape.member.shape, v) for v in value)
    if shape.type == "map":
        return all(_jsonable(shape.members["value"].shape, v) for v in value.values())
    return shape.type not in ("timestamp", "blob")


def shorthand(shape: Shape, value: Any, files: Files, draw: Draw) -> str:
    """`value` as a nested shorthand value (a hash value or list item)."""
    kind = shape.type
    if kind == "structure":
        return "{" + ",".join(f"{name}={shorthand(shape.members[name].shape, v, files, draw)}"
                              for name, v in value.items()) + "}"
    if kind == "map":
        target = shape.members["value"].shape
        return "{" + ",".join(f"{_key(k, draw)}={shorthand(target, v, files, draw)}" for k, v in value.items()) + "}"
    if kind == "list":
        element = shape.member.shape
        if len(value) == 1 and element.type not in _CONTAINERS and draw_bool(draw):
            return shorthand(element, value[0], files, draw)
        return "[" + ",".join(shorthand(element, v, files, draw) for v in value) + "]"
    text = scalar_text(shape, value, files, draw)
    return word(text, draw)


def draw_bool(draw: Draw) -> bool:
    from hypothesis import strategies as st

    return bool(draw(st.booleans()))


def _key(key: str, draw: Draw) -> str:
    if _KEY.fullmatch(key) and draw_bool(draw):
        return key
    from hypothesis import strategies as st

    return quote(key, draw(st.sampled_from(["'", '"'])))


def _keyvals(shape: Shape, value: dict[str, Any], files: Files, draw: Draw) -> str:
    """The aws CLI's top-level structure form: `Key=a,Value=b`."""
    if shape.type == "map":
        target = shape.members["value"].shape
        return ",".join(f"{_key(k, draw)}={shorthand(target, v, files, draw)}" for k, v in value.items())
    return ",".join(f"{name}={shorthand(shape.members[name].shape, v, files, draw)}" for name, v in value.items())


def value_text(shape: Shape, value: Any, files: Files, draw: Draw) -> str:
    """One top-level member's text, as typed after `Name=`."""
    from hypothesis import strategies as st

    kind = shape.type
    if kind not in _CONTAINERS:
        return scalar_text(shape, value, files, draw)
    forms = ["shorthand"]
    if _jsonable(shape, value):
        forms.append("json")
    if kind in ("structure", "map") and value:
        forms.append("keyvals")
    if kind == "list" and shape.member.shape.type not in _CONTAINERS and len(value) >= 1:
        forms.append("csv")
    if kind == "list" and shape.member.shape.type in ("structure", "map") and len(value) == 1 and value[0]:
        forms.append("keyvals1")
    form = draw(st.sampled_from(forms))
    try:
        if form == "json":
            return json.dumps(value)
        if form == "keyvals":
            return _keyvals(shape, value, files, draw)
        if form == "keyvals1":
            return _keyvals(shape.member.shape, value[0], files, draw)
        if form == "csv":
            return ",".join(shorthand(shape.member.shape, v, files, draw) for v in value)
        return shorthand(shape, value, files, draw)
    except Unwritable:
        if "json" in forms:
            return json.dumps(value)
        raise
