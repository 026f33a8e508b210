"""The value every capture reader returns, and the one error every reader raises.

Strategy: a `Capture` is the request exactly as it went out (header order and
casing kept), the response when the capture holds one, and the canonical
request and string-to-sign when the client logged them; anything a reader had
to choose or could not read goes to its notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sigv4.types import Request
from wire.debugger.complaint import response_date
from wire.errors import DecodeError


class CaptureError(DecodeError):
    """The saved text is none of the capture formats, or is a broken one (the message says which)."""


@dataclass(frozen=True, slots=True)
class Capture:
    """A signed request as captured, and what else the capture told us."""

    #: "raw", "curl" (also `sigv4 send -v`), "curl-trace", "har" (also `send --json`), "aws-debug", "awscurl" or
    #: "js-sdk".
    format: str
    request: Request
    #: False when the capture does not show the body (curl -v): hash-based checks then need it supplied.
    body_known: bool = True
    response_status: int | None = None
    response_headers: tuple[tuple[str, str], ...] = ()
    response_body: bytes | None = None
    #: What the client itself logged (aws --debug with botocore's Python signer).
    client_canonical_request: str | None = None
    client_string_to_sign: str | None = None
    #: What the reader had to choose or could not read (which of several requests it picked...).
    notes: tuple[str, ...] = ()

    @property
    def response_date(self) -> datetime | None:
        return response_date(self.response_headers)

    @property
    def answer(self) -> tuple[int | None, tuple[tuple[str, str], ...], bytes] | None:
        """The response as (status, headers, body); None when the capture holds none."""
        if self.response_body is None and self.response_status is None:
            return None
        return self.response_status, self.response_headers, self.response_body or b""
