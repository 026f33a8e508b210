"""Clock-skew errors: how far the server's clock is from ours, read from its answer.

Strategy: `wire.debugger.complaint.read_error` reads the error in whatever envelope it
came (S3 XML, Query XML, EC2 XML, JSON, a bare `x-amzn-ErrorType`); the
complaint kinds in `SKEW_KINDS` are the answers a wrong client clock gets
(S3's `RequestTimeTooSkewed`, `InvalidSignatureException` or
`SignatureDoesNotMatch` saying "Signature expired" or "Signature not yet
current", EC2's `RequestExpired`). The server's time comes from the body
when it says it (S3's `ServerTime`, the time in a "Signature expired"
message), else from the `Date` header. A response with an `Age` header came
from a cache, whose `Date` is as old as the cached answer, so it is not
used. This module only measures; the edge (the adapters, `sigv4 send --sign`,
`sigv4 call`) keeps the offset, re-signs and retries once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from wire.debugger.complaint import read_error
from wire.errors import DecodeError
from wire.scalars import parse_timestamp

#: Complaint kinds (see `wire.debugger.complaint.KIND_RULES`) that a client clock off by minutes causes.
SKEW_KINDS = frozenset({"clock-skew", "signature-expired", "signature-not-yet-current", "request-expired"})
#: Statuses a clock-skew error comes with (400 JSON and EC2, 403 S3 and Query): only these bodies are read.
SKEW_STATUSES = frozenset({400, 401, 403})
#: Offsets smaller than this are not worth a retry: no service refuses a request for less
#: (their windows are 5 or 15 minutes), so such an error has another cause (an expired
#: presigned URL, a replayed request) and re-signing would not cure it.
MIN_CORRECTION = timedelta(minutes=1)


def _date_header(headers: Iterable[tuple[str, str]]) -> datetime | None:
    value = next((v for n, v in headers if n.lower() == "date"), None)
    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except DecodeError:
        return None


def clock_offset(status: int, headers: Iterable[tuple[str, str]], body: bytes, now: datetime) -> timedelta | None:
    """The server's clock minus ours, when `status`/`headers`/`body` are a clock-skew error.

    `now` is our (aware) clock when the response arrived. Returns None when the
    response is not a clock-skew error, carries an `Age` header, or gives no
    server time. Never raises for any bytes.
    """
    if status < 400:
        return None
    pairs = list(headers)
    if any(name.lower() == "age" for name, _ in pairs):
        return None
    complaint = read_error(status, pairs, body)
    if complaint.kind not in SKEW_KINDS:
        return None
    server_time = complaint.server_time or _date_header(pairs)
    return None if server_time is None else server_time - now


def correction(current: timedelta, measured: timedelta | None) -> timedelta | None:
    """The offset to sign with from now on, when `measured` (from `clock_offset`) says the
    `current` one is wrong by at least `MIN_CORRECTION`; None when there is nothing to correct
    (a retry would be refused again)."""
    if measured is None or abs(measured - current) < MIN_CORRECTION:
        return None
    return measured


def retry_offset(status: int, headers: Iterable[tuple[str, str]], body: bytes, now: datetime) -> timedelta | None:
    """The offset to sign a one-off request again with (`correction` from no offset), or None."""
    return correction(timedelta(0), clock_offset(status, headers, body, now))
