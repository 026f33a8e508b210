"""Raw HTTP captures: a signed request as bytes (maybe with the response saved after it), or a lone URL.

Strategy: `sigv4.raw.parse_request` reads the request; its own framing
(Content-Length, chunked, else no body) says where it ends, and what follows,
when it is an HTTP response, is the answer.
"""

from __future__ import annotations

import re

from sigv4.errors import RequestParseError
from sigv4.raw import is_chunked, parse_request
from sigv4.types import Request
from wire.debugger.capture.value import Capture, CaptureError
from wire.debugger.complaint import split_response


REQUEST_LINE = re.compile(rb"\s*[!#$%&'*+\-.^_`|~0-9A-Za-z]+ \S.* HTTP/\d\.\d\r?\n")
#: A lone URL (`sigv4 explain 'https://...presigned'`): read as the GET a client sends for it.
LONE_URL = re.compile(rb"https?://[^\s]+")


def _read_one(data: bytes, scheme: str) -> Capture:
    """A raw request, or a lone URL; a response saved after it (`cat signed.req response.http`) is cut off by
    the request's own framing (Content-Length, chunked, else no body) and read as the answer."""
    try:
        raw = parse_request(data.lstrip(), scheme=scheme)
    except RequestParseError as err:
        raise CaptureError(f"raw request: {err}") from None
    request = raw.request
    body = request.body if isinstance(request.body, bytes) else b""
    # A chunked body is de-chunked by `parse_request`, which keeps what follows it apart.
    end = len(body) if is_chunked(request) else _framed_length(request, body)
    answer = split_response((body[end:] + raw.after).lstrip(b"\r\n")) if end is not None else None
    if answer is None:
        return Capture("raw", request)
    status, headers, response_body = answer
    return Capture("raw", request.with_body(body[:end]), response_status=status, response_headers=tuple(headers),
                   response_body=response_body)


def _framed_length(request: Request, body: bytes) -> int | None:
    """How many bytes after the head belong to the request by its framing; None when the framing does not
    fit what follows (a hand-written request whose body has no Content-Length is kept whole)."""
    length = (request.header("content-length") or "").strip()
    if length.isascii() and length.isdigit() and len(length) <= 15:  # isdigit alone takes `²`, which int() refuses
        return int(length) if int(length) <= len(body) else None
    return 0 if body.lstrip(b"\r\n").startswith(b"HTTP/") else None


def read_raw(data: bytes, scheme: str) -> list[Capture]:
    """The one capture a raw request (or lone URL) holds, as a list like every reader's."""
    return [_read_one(data, scheme)]
