"""Raw HTTP/1.1 request text <-> `Request`, as in the official suite's `.req` files.

Strategy: parsing keeps two things: a `Request` (header values unfolded and
trimmed, as HTTP defines them) and the original header lines, so rendering
a signed request writes untouched headers byte for byte as the user had
them (folded lines, spacing, casing) and only the headers signing added or
changed are new lines. Lines may end in CRLF or LF; the rendering uses the
request's own line ending. Any malformed input raises `RequestParseError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .canonical import check_header
from .errors import InvalidHeaderError, InvalidParameterError, RequestParseError
from .redact import mask_tokens
from .types import Request
from .websocket import handshake_request

_METHOD = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_VERSION = re.compile(r"HTTP/\d\.\d\Z")


@dataclass(frozen=True, slots=True)
class RawRequest:
    """A parsed request plus what rendering needs to reproduce its text."""

    request: Request
    version: str
    newline: str
    header_lines: tuple[str, ...]  # one entry per header, folded continuation lines included
    after: bytes = b""  # what follows a chunked body's last chunk (a capture's response)

    def __repr__(self) -> str:
        # The header lines hold the session token as written; reprs end up in logs, so it is masked there.
        lines = tuple(mask_tokens(line) for line in self.header_lines)
        return (f"RawRequest(request={self.request!r}, version={self.version!r}, newline={self.newline!r}, "
                f"header_lines={lines!r})")

    def render(self, signed: Request | None = None) -> bytes:
        """Render `signed` (default: the parsed request) in this request's style."""
        req = signed or self.request
        body = req.body if isinstance(req.body, bytes) else b""
        return render_request(req, self, body)


def parse_request(data: bytes, *, scheme: str = "https") -> RawRequest:
    """Parse raw request bytes. The body is everything after the blank line.

    An origin-form target gets an absolute URL from the Host header
    (`scheme://host/target`) so the request can be signed and sent. A lone
    absolute URL (what `sigv4 sign --presign` prints) is read as a GET of it,
    with the Host header a client would send; a presigned WebSocket URL (`sign --wss`) as the request its
    signature covers (the handshake GET, or the POST an AppSync URL's header object signs).
    """
    url = data.strip() if isinstance(data, (bytes, bytearray)) else b""
    if url.startswith((b"http://", b"https://", b"ws://", b"wss://")) and not any(c in b" \t\r\n" for c in url):
        text = url.decode("latin-1")
        try:
            request = handshake_request(text) if text.startswith(("ws://", "wss://")) else Request("GET", text)
        except InvalidParameterError as err:
            raise RequestParseError(str(err)) from None
        if request.header("host") is None:
            request = request.with_header("Host", request.authority)
        return RawRequest(request, "HTTP/1.1", "\r\n", tuple(f"{name}: {value}" for name, value in request.headers))
    head, body = _split_head(data)
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as err:
        raise RequestParseError(f"request head: not UTF-8 (byte 0x{head[err.start]:02x} at offset {err.start})") from None
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.split(newline)
    if not lines or not lines[0]:
        raise RequestParseError("request line: missing")
    method, target, version = _parse_request_line(lines[0])
    headers: list[tuple[str, str]] = []
    raw_lines: list[str] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t"):
            if not headers:
                raise RequestParseError("headers: a continuation line comes before any header")
            name, value = headers[-1]
            _check_header_line(name, line)
            headers[-1] = (name, f"{value} {line.strip()}".strip())
            raw_lines[-1] += newline + line
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise RequestParseError(f"header line {line[:40]!r}: missing ':'")
        _check_header_line(name, value)
        headers.append((name, value.strip(" \t")))
        raw_lines.append(line)
    request, after = Request(method, target, headers, body), b""
    if is_chunked(request):
        walked = dechunk(body)
        if walked is None:
            raise RequestParseError("body: Transfer-Encoding is chunked, but the body is not a complete chunked body "
                                    "(hex size lines, each chunk's data, a last chunk of size 0)")
        request, after = request.with_body(walked[0]), body[walked[1]:]
    if target.startswith("/"):
        host = request.header("host")
        if host:
            request = request.with_url(f"{scheme}://{host}{target}")
    return RawRequest(request, version, newline, tuple(raw_lines), after)


def is_chunked(request: Request) -> bool:
    """Whether `request` declares its body sent with the chunked transfer coding (its last coding, RFC 9112 6.3)."""
    codings = (request.header("transfer-encoding") or "").split(",")
    return codings[-1].strip().lower() == "chunked"


def dechunk(data: bytes) -> tuple[bytes, int] | None:
    """(the de-chunked body, how many bytes of `data` its chunks and trailer take) for a chunked body at the
    start of `data`; None when it does not de-chunk. Lines may end in CRLF or LF (hand-written files and
    captures). Linear: offsets, no copies of the rest."""
    out, at = bytearray(), 0
    while True:
        end = data.find(b"\n", at)
        if end < 0:
            return None
        try:
            size = int(data[at:end].split(b";")[0].strip(), 16)
        except ValueError:
            return None
        at = end + 1
        if size < 0 or len(data) - at < size:
            return None
        if size == 0:
            break
        out += data[at:at + size]
        at += size
        at += data.startswith(b"\r", at)
        at += data.startswith(b"\n", at)
    while (end := data.find(b"\n", at)) >= 0:  # the trailer, up to its blank line
        line, at = data[at:end], end + 1
        if not line.strip(b"\r"):
            return bytes(out), at
    return bytes(out), len(data)


#: A character no URI holds as written (RFC 3986: not unreserved, reserved or a `%XX` escape): a raw request
#: line's space, control or non-ASCII character, or a `%` that starts no escape (`/100%`), which clients
#: percent-encode (as UTF-8) before sending.
_NOT_IN_URI = re.compile(r"[^A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]|%(?![0-9A-Fa-f]{2})")


def as_sent(request: Request) -> Request:
    """`request` with its target as a client sends it: each character no URI holds percent-encoded as UTF-8
    (`/a b/é` -> `/a%20b/%C3%A9`, `/100%` -> `/100%25`), escapes and reserved characters as written. A URL to print must be so:
    curl refuses a space, and a server signs the encoded form."""
    target = _NOT_IN_URI.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8", "surrogateescape")),
                             request.target)
    if target == request.target:
        return request
    return request.with_url(f"{request.scheme}://{request.authority}{target}" if request.scheme else target)


def check_content_length(request: Request) -> None:
    """Raise RequestParseError, naming both lengths, when `request` declares a Content-Length other than its
    body's length (a body in memory, not sent with Transfer-Encoding); a server would refuse it or read
    another request's bytes, so it is not worth signing."""
    declared = request.header("content-length")
    if declared is None or not isinstance(request.body, bytes) or request.header("transfer-encoding") is not None:
        return
    if declared.strip() != str(len(request.body)):
        raise RequestParseError(f"Content-Length: {declared.strip()} but the body is {len(request.body)} bytes "
                                "(an editor's final newline?); make them agree before signing")


def _check_header_line(name: str, value: str) -> None:
    """A header line or folded continuation line: RequestParseError unless `check_header` accepts it."""
    try:
        check_header(name, value)
    except InvalidHeaderError as err:
        raise RequestParseError(str(err)) from None


def _split_head(data: bytes) -> tuple[bytes, bytes]:
    if not isinstance(data, (bytes, bytearray)):
        raise RequestParseError(f"request: expected bytes, got {type(data).__name__}")
    # The head ends at the first blank line, whichever its style: an LF head may carry a body with CRLF CRLF
    # in it (an aws-chunked stream), and a CRLF head never holds LF LF.
    found = [(index, sep) for sep in (b"\r\n\r\n", b"\n\n") if (index := data.find(sep)) != -1]
    if found:
        index, sep = min(found)
        return bytes(data[:index]), bytes(data[index + len(sep):])
    return bytes(data).rstrip(b"\r\n"), b""


def _parse_request_line(line: str) -> tuple[str, str, str]:
    # The target may hold a literal space (the suite's get-space case), so the
    # method ends at the first space and the version starts after the last.
    method, _, rest = line.partition(" ")
    target, _, version = rest.rpartition(" ")
    if not _METHOD.match(method):
        raise RequestParseError(f"request line: method {method!r} is not an HTTP token")
    if not _VERSION.match(version):
        raise RequestParseError(f"request line: {line[:60]!r} does not end in an HTTP version (HTTP/1.1)")
    if not target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        raise RequestParseError("request line: the target is empty or holds control characters")
    return method, target, version


def format_header(name: str, value: str, compact: bool) -> str:
    """One header line for a header that signing added or changed.

    Follows the official suite's convention: `Name:value` when the request
    writes its own headers that way, but always `Authorization: value`.
    """
    return f"{name}:{value}" if compact and name.lower() != "authorization" else f"{name}: {value}"


def render_request(request: Request, original: RawRequest | None = None, body: bytes = b"") -> bytes:
    """Raw HTTP/1.1 text of `request`; headers unchanged from `original` keep their exact lines."""
    newline = original.newline if original else "\r\n"
    version = original.version if original else "HTTP/1.1"
    known: dict[tuple[str, str], list[str]] = {}
    compact = False
    if original:
        for header, line in zip(original.request.headers, original.header_lines):
            known.setdefault(header, []).append(line)
        compact = bool(original.header_lines) and not original.header_lines[0].partition(":")[2][:1].isspace()
    out = [f"{request.method} {request.target} {version}"]
    for header in request.headers:
        same = known.get(header)
        out.append(same.pop(0) if same else format_header(*header, compact))
    head = newline.join(out).encode("utf-8")
    if is_chunked(request):  # the payload in one chunk, then the last chunk: what the header says is sent
        body = (f"{len(body):X}\r\n".encode() + body + b"\r\n" if body else b"") + b"0\r\n\r\n"
    return head + (newline * 2).encode() + body if body else head
