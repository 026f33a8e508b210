"""What the readers of logs share: decoding the text, reading Python literals, checking a logged request.

Strategy: a log is decoded once, with undecodable bytes replaced, and read line
by line. Python literals in it (header dicts, body bytes) are read with
`ast.literal_eval`, never `eval`. A request taken from a log (HAR, botocore,
awscurl) is checked as raw HTTP is, and gets the Host header the HTTP library
would add.
"""

from __future__ import annotations

import ast
import re
import warnings
from typing import Any

from sigv4.canonical import check_header
from sigv4.errors import InvalidHeaderError
from sigv4.signer import host_from_url
from sigv4.types import Request
from wire.debugger.capture.value import CaptureError


_METHOD = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")


def logged_request(method: str, url: str, headers: list[tuple[str, str]], body: bytes, what: str) -> Request:
    """A request read from a HAR or botocore log, checked as raw HTTP is, plus the Host header the
    HTTP library would add (those logs may omit it).

    Raises CaptureError for a method that is not a token or a header with CR, LF or another control byte.
    """
    if not _METHOD.match(method):
        raise CaptureError(f"{what}: method {method[:20]!r} is not an HTTP token")
    for name, value in headers:
        try:
            check_header(name, value)
        except InvalidHeaderError as err:
            raise CaptureError(f"{what}: {err}") from None
    request = Request(method, url, headers, body)
    if request.header("host") is not None or not request.scheme:
        return request
    return request.with_header("Host", host_from_url(request))


def log_text(data: bytes) -> str:
    """`data` as text, each byte that is not UTF-8 replaced (logs are read, not round-tripped)."""
    return data.decode("utf-8", errors="replace")


def literal_eval(text: str) -> Any:
    """`ast.literal_eval`, without the warnings compiling a damaged literal prints (`invalid escape sequence`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.literal_eval(text)
