"""Read what Node's `console.log`/`console.error` print of an object (`util.inspect`): the JavaScript SDK's
`HttpRequest` and its service exceptions, as a user pastes them.

Strategy: a small recursive-descent reader of the printed literal: objects (`{ key: value, ... }`), arrays,
strings in any of the three quotes with their escapes, joined by `+` where inspect breaks a long string at its
newlines; numbers and words (`undefined`, `true`) as their text. What inspect prints for things it does not
show (`[Object]`, `[Getter]`, `<Buffer ...>`, `[Function: f]`) reads as None, and a typed container
(`Uint8Array(5) [ ... ]`, `Readable { ... }`) as its contents. Linear in the text; nesting is bounded, so a
hostile paste cannot exhaust the stack. Every failure is a `JsInspectError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

from wire.errors import DecodeError

#: A printed value: a string, a number or word as its text, a dict, a list, or None for what inspect hides.
Value = Union[str, dict[str, "Value"], list["Value"], None]

_MAX_DEPTH = 32
_SPACE = re.compile(r"\s*")
_STRING = re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"|`(?:[^`\\]|\\.)*`", re.S)
_KEY = re.compile(r"[\w$]+|\[[^\]\n]*\]")
_WORD = re.compile(r"[\w$.+-]+")
#: What inspect prints in place of a value it does not show (`[Object]`, `[Getter/Setter]`, `[Function (anonymous)]`,
#: `[class A]`, `<Buffer 68>`): a letter right after `[` (an array prints `[ ` or `[]`).
_HIDDEN = re.compile(r"\[[A-Za-z][^\]\n]*\]|<[^<>\n]*>")
#: A typed container's prefix: `Uint8Array(5) `, `Readable `, `Map(1) `, `[Object: null prototype] `.
_PREFIX = re.compile(r"(?:\[Object: null prototype\] |[A-Z][\w$]*(?:\(\d+\))? )(?=[{\[])")
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|u\{[0-9a-fA-F]{1,6}\}|.)", re.S)
_PLUS = re.compile(r"\s*\+\s*")
_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


class JsInspectError(DecodeError):
    """The text is not a printed JavaScript value where one was expected (the message says where)."""


def _unescape(match: re.Match[str]) -> str:
    code = match[1]
    if code[0] in "xu" and len(code) > 1:
        point = int(code.strip("xu{}"), 16)
        if point > 0x10FFFF:  # `\u{110000}` is a SyntaxError in JavaScript: inspect never prints it
            raise JsInspectError(f"printed string: escape \\{code} is past U+10FFFF")
        return chr(point)
    return _SIMPLE.get(code, code)


def _string(literal: str) -> str:
    """The string a printed literal holds. A `\\uD83D\\uDE00` pair is joined into its character; a lone
    surrogate reads as U+FFFD, the bytes Node's UTF-8 encoder sends for it (Python's would refuse it)."""
    text = _ESCAPE.sub(_unescape, literal[1:-1])
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _skip(text: str, at: int) -> int:
    return _SPACE.match(text, at).end()  # type: ignore[union-attr]  # \s* always matches


def read_value(text: str, at: int = 0, depth: int = 0) -> tuple[Value, int]:
    """The printed value starting at `at` (after spaces) and the offset just past it.

    Raises `JsInspectError` when no value starts there or it nests deeper than 32.
    """
    if depth > _MAX_DEPTH:
        raise JsInspectError(f"printed value: nested deeper than {_MAX_DEPTH} at offset {at}")
    at = _skip(text, at)
    if prefix := _PREFIX.match(text, at):
        at = prefix.end()
    if text.startswith("{", at):
        return _container(text, at + 1, "}", depth)
    if hidden := _HIDDEN.match(text, at):
        return None, hidden.end()
    if text.startswith("[", at):
        return _container(text, at + 1, "]", depth)
    if (string := _STRING.match(text, at)) is not None:
        parts, at = [_string(string[0])], string.end()
        while (plus := _PLUS.match(text, at)) and (more := _STRING.match(text, plus.end())):
            parts.append(_string(more[0]))
            at = more.end()
        return "".join(parts), at
    if word := _WORD.match(text, at):
        return word[0], word.end()
    raise JsInspectError(f"printed value: no value at offset {at} ({text[at:at + 20]!r})")


def _container(text: str, at: int, close: str, depth: int) -> tuple[Value, int]:
    entries: dict[str, Value] = {}
    items: list[Value] = []
    while True:
        at = _skip(text, at)
        if text.startswith(close, at):
            return (entries if close == "}" else items), at + 1
        if close == "}":
            key = _STRING.match(text, at) or _KEY.match(text, at)
            colon = _skip(text, key.end()) if key else at
            if key is None or not text.startswith(":", colon):
                raise JsInspectError(f"printed object: no `key:` at offset {at} ({text[at:at + 20]!r})")
            value, at = read_value(text, colon + 1, depth + 1)
            entries[_string(key[0]) if key[0][0] in "'\"`" else key[0]] = value
        else:
            if text.startswith("... ", at):  # "... 90 more items"
                newline = text.find("\n", at)
                at = newline if newline >= 0 else len(text)
                continue
            value, at = read_value(text, at, depth + 1)
            items.append(value)
        at = _skip(text, at)
        if text.startswith(",", at):
            at += 1
        elif not text.startswith(close, at):
            raise JsInspectError(f"printed {'object' if close == '}' else 'array'}: expected `,` or `{close}` at "
                                 f"offset {at} ({text[at:at + 20]!r})")


@dataclass(frozen=True, slots=True)
class PrintedError:
    """An error as `console.error(err)` prints it: `Name: message`, the stack, then its own properties."""

    name: str
    message: str
    props: dict[str, Value]
    start: int
    end: int


_ERROR_HEAD = re.compile(r"^(?P<name>[A-Z][\w$]*): ", re.M)
_STACK_LINE = re.compile(r"\n +at [^\n]*")


def printed_errors(text: str) -> list[PrintedError]:
    """Every printed error in `text` that has its stack, in order, with the properties printed after it.

    Raises `JsInspectError` when the properties after a stack are not a printed object.
    """
    errors: list[PrintedError] = []
    at = 0
    while (head := _ERROR_HEAD.search(text, at)) and (stack := _STACK_LINE.search(text, head.end())):
        # The earliest head before a stack is the error's: a message of several lines may hold `Word: ` lines.
        end = stack.start()
        while line := _STACK_LINE.match(text, end):
            end = line.end()
        props: Value = {}
        if text[end - 1] == "{":
            props, end = read_value(text, end - 1)
        errors.append(PrintedError(head["name"], text[head.end():stack.start()],
                                   props if isinstance(props, dict) else {}, head.start(), end))
        at = end
    return errors
