"""Plain HTTP/1.1 request heads read, and whole responses written, without h11: the server's common case.

Strategy: h11 stays the server's rulebook; this module only takes the
requests it can read with certainty the way h11 reads them, at a fraction
of the cost (h11 was a quarter of the endpoint's time per request). A head
is plain when it is HTTP/1.1, every line ends in CRLF and matches the RFC 9112
grammar with no control byte anywhere (no obs-fold, no bare CR or LF, no
whitespace before a colon), it has exactly one Host, at most one
Content-Length (digits only), and no Transfer-Encoding, Expect or Upgrade
and is not a CONNECT. `read_head` returns any other head, valid or not, as
`UNUSUAL`, and the caller hands the connection to h11, which reads or
refuses it as it always has; refusing here instead would make two
rulebooks whose differences a smuggler could look for. So what this module
accepts is a strict subset of what h11 accepts, read to the same method,
target, headers, body length and keep-alive (`tests/test_http1.py` holds
both to that on generated heads, whole and byte by byte). `response_bytes`
writes a whole answer byte for byte as h11 writes it (Connection: close
added when the client asked to close), refusing what h11 refuses to send
and control bytes besides.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus

# RFC 9112/9110 grammar, as h11's `_abnf` spells it, less the control bytes h11's obs-text lets through.
_TOKEN = rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+"
_VCHAR = rb"[\x21-\x7e\x80-\xff]"
_VALUE = rb"%s+(?:[ \t]+%s+)*" % (_VCHAR, _VCHAR)
_FIELD = rb"%s:[ \t]*(?:%s)?[ \t]*" % (_TOKEN, _VALUE)
#: A whole plain head without its final CRLF CRLF: request line, then fields each after a CRLF.
_HEAD = re.compile(rb"(%s) ([\x21-\x7e]+) HTTP/1\.1((?:\r\n%s)*)" % (_TOKEN, _FIELD))
#: What h11 takes for the end of a head: a blank line after a line ending in LF or CRLF.
_BLANK_LINE = re.compile(rb"\n\r?\n")
#: Header names that frame a request or change the connection: a plain head has one Host, at most one
#: Content-Length, any Connection, and none of the others (h11 has rules of its own for Transfer-Encoding,
#: Expect: 100-continue and protocol switches).
_FRAMING = frozenset({b"host", b"content-length", b"connection", b"transfer-encoding", b"expect", b"upgrade"})
_MAX_LENGTH_DIGITS = 20  # h11's CONTENT_LENGTH_MAX_DIGITS


@dataclass(frozen=True, slots=True)
class PlainHead:
    """A plain request head: text as the server hands it on (method and names ASCII, target and values UTF-8 with
    undecodable bytes kept as surrogate escapes), its framing, and its size."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    content_length: int
    #: The client asked to close the connection after this request (a Connection header's `close`).
    close: bool
    #: Bytes of the target and of each header's name and value plus 4: how the server measures a head
    #: against `ServeLimits.max_header_bytes`, whoever read it.
    size: int
    #: Bytes the head took in the buffer, its final blank line included.
    length: int


class Marker:
    """A sentinel that reads as its name (`UNUSUAL` here; the framing's events)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: `read_head`'s answer for a head it does not read (h11 will).
UNUSUAL = Marker("UNUSUAL")


def read_head(data: bytes | bytearray, searched: int = 0) -> PlainHead | Marker | None:
    """The plain head at the start of `data`; None while it may still become one (no blank line yet: the
    caller bounds how long it waits); UNUSUAL for anything else, valid or not, and for a start h11 refuses at once.

    `searched`: how much of `data` an earlier call found no blank line in (its `len(data)` when it returned
    None), so that a head arriving in many pieces is searched once, not once per piece."""
    end = data.find(b"\r\n\r\n", max(0, searched - 3))
    if end < 0:
        # h11 refuses a head whose first byte cannot start a request line, and reads a head ended by a bare LF.
        return UNUSUAL if data[:1] < b"!" or _BLANK_LINE.search(data, max(0, searched - 2)) else None
    match = _HEAD.fullmatch(data, 0, end)
    if match is None:
        return UNUSUAL
    method, target, block = match.groups()
    if method == b"CONNECT":
        return UNUSUAL
    hosts, length, close = 0, b"", False
    size = len(target)
    headers = []
    for line in block.split(b"\r\n")[1:]:  # `_HEAD` vouched for each line: a token, a colon, OWS, a value, OWS
        name, _, value = line.partition(b":")
        value = value.strip(b" \t")
        size += len(name) + len(value) + 4
        lower = name.lower()
        if lower in _FRAMING:
            if lower == b"host":
                hosts += 1
            elif lower == b"content-length":
                if length or not value.isdigit() or len(value) > _MAX_LENGTH_DIGITS:
                    return UNUSUAL  # h11 merges equal duplicates and refuses the rest: its rules, not ours
                length = value
            elif lower == b"connection":
                close = close or b"close" in [token.strip() for token in value.lower().split(b",")]
            else:
                return UNUSUAL
        headers.append((name.decode("ascii"), value.decode("utf-8", "surrogateescape")))
    if hosts != 1:
        return UNUSUAL  # h11 refuses a head without Host or with two
    return PlainHead(method.decode("ascii"), target.decode("ascii"), headers, int(length or 0), close, size,
                     end + 4)


_NAME_TEXT = re.compile(_TOKEN.decode("ascii"))
_VALUE_TEXT = re.compile(r"(?:[\x21-\x7e]+(?:[ \t]+[\x21-\x7e]+)*)?")
#: Headers the server frames a whole answer with itself.
_FRAMING_NAMES = frozenset({"content-length", "transfer-encoding"})


def check_response_headers(headers: Sequence[tuple[str, str]]) -> None:
    """Raise ValueError, naming the header, for one a response may not carry: a name that is not a token, a
    value with a control byte, CR, LF, a character outside ASCII, or whitespace at either end; or a framing
    header (Content-Length, Transfer-Encoding: the server frames a whole answer itself)."""
    for name, value in headers:
        if not _NAME_TEXT.fullmatch(name) or not _VALUE_TEXT.fullmatch(value):
            raise ValueError(f"the response header {name!r}: {value!r} is not a valid HTTP/1.1 header")
        if name.lower() in _FRAMING_NAMES:
            raise ValueError(f"the response header {name!r}: the server frames a whole answer itself")


def reason(status: int) -> str:
    """The reason phrase of `status` ("" for a status HTTP names none for)."""
    return HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""


def response_bytes(status: int, headers: Sequence[tuple[str, str]], body: bytes, date: str, *, close: bool,
                   head: bool) -> tuple[bytes, bool]:
    """A whole answer with its Content-Length and Date, and whether the connection stays open after it.

    Byte for byte h11's: `close` (the client asked to close) makes the Connection header `close` (its other
    tokens kept, `keep-alive` dropped, each in a Connection header of its own after the rest); the answer to
    HEAD declares its body's length but carries none. `headers` must have passed
    `check_response_headers`. Raises ValueError for a status outside 200-999 or a body a 204 or 304 would carry.
    """
    if not 200 <= status < 1000:
        raise ValueError(f"a whole answer's status is 200-999, not {status}")
    if body and status in (204, 304) and not head:
        raise ValueError(f"a {status} answer carries no body")
    hosts: list[str] = []  # h11 writes Host headers first (a rule for requests it applies to every message)
    fields: list[str] = []
    tokens: set[str] = set()
    for name, value in headers:
        lower = name.lower()
        if lower == "connection":
            tokens.update(token for token in (t.strip() for t in value.lower().split(",")) if token)
            if close:
                continue  # moved after the rest, as h11 rewrites it
        (hosts if lower == "host" else fields).append(f"{name}: {value}\r\n")
    fields.append(f"Content-Length: {len(body)}\r\nDate: {date}\r\n")
    if close:
        tokens.discard("keep-alive")
        tokens.add("close")
        fields.extend(f"Connection: {token}\r\n" for token in sorted(tokens))
    data = f"HTTP/1.1 {status} {reason(status)}\r\n{''.join(hosts)}{''.join(fields)}\r\n".encode("ascii")
    return (data if head or not body else data + body), not close and "close" not in tokens
