"""Clock-skew errors: how far the server's clock is from ours, read from its answer.

Strategy: the answers a wrong client clock gets are few and say so in words
that do not depend on their envelope (S3's XML `RequestTimeTooSkewed`,
`InvalidSignatureException` or `SignatureDoesNotMatch` saying "Signature
expired" or "Signature not yet current", EC2's `RequestExpired`), so the
error's text is searched by `SKEW_RULES` rather than parsed: this module needs
no XML or JSON reader, works on a whole raw response as well as on a body,
and so sits in the pure core where the adapters (`sigv4.integrations`), the
command line's resend and the debugger (whose `KIND_RULES` open with these
rows) all read it. The server's time comes from the text when it says it
(S3's `ServerTime`, the time in a "Signature expired" message), else from
the `Date` header. A response with an `Age` header came from a cache, whose
`Date` is as old as the cached answer, so it is not used. This module only
measures; the edge keeps the offset, re-signs and retries once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from .bounded import http_date, utc

#: (kind, error codes, message pattern) of the answers a client clock off by minutes causes: any listed code
#: or a match of the pattern names the kind.
SKEW_RULES: tuple[tuple[str, frozenset[str], re.Pattern[str]], ...] = (
    ("signature-expired", frozenset(), re.compile(r"Signature expired")),
    ("signature-not-yet-current", frozenset(), re.compile(r"Signature not yet current")),
    ("clock-skew", frozenset({"RequestTimeTooSkewed"}),
     re.compile(r"difference between the request time and the (?:current|server's) time is too large")),
    ("request-expired", frozenset({"RequestExpired"}), re.compile(r"Request has expired|too far in the past")),
)
#: The kinds of `SKEW_RULES`.
SKEW_KINDS = frozenset(kind for kind, _, _ in SKEW_RULES)
#: Statuses a clock-skew error comes with (400 JSON and EC2, 403 S3 and Query): only these bodies are read.
SKEW_STATUSES = frozenset({400, 401, 403})
#: Offsets smaller than this are not worth a retry: no service refuses a request for less
#: (their windows are 5 or 15 minutes), so such an error has another cause (an expired
#: presigned URL, a replayed request) and re-signing would not cure it.
MIN_CORRECTION = timedelta(minutes=1)
#: How much of an answer is searched: an error's text is a few hundred bytes; a skew error is never long.
MAX_SCANNED_BYTES = 1 << 16

#: The request time, the server's time and the window, as AWS words an expired or early signature.
EXPIRED_MESSAGE = re.compile(
    r"Signature expired: (?P<req>\S+) is now earlier than \S+ \((?P<srv>\S+) - (?P<win>[0-9]{1,9}) min")
NOT_YET_MESSAGE = re.compile(
    r"Signature not yet current: (?P<req>\S+) is still later than \S+ \((?P<srv>\S+) \+ (?P<win>[0-9]{1,9}) min")
_SERVER_TIME = re.compile(r"<ServerTime>\s*([^<\s]{1,64})\s*</ServerTime>")
#: An error code as the envelopes carry it: XML `<Code>`, JSON `__type`/`code` (maybe `namespace#Code`).
_CODE = re.compile(r"<Code>\s*([A-Za-z0-9.]{1,128})\s*</Code>|\"(?:__type|code|Code)\"\s*:\s*\"(?:[^\"#]*#)?([A-Za-z0-9.]{1,128})")


def parse_time(text: str | None) -> datetime | None:
    """An ISO 8601 time (`20240501T120000Z`, `2024-05-01T12:00:00Z`) or an HTTP date as aware UTC; None when
    `text` is neither. Never raises."""
    if not text:
        return None
    try:
        return utc(datetime.fromisoformat(text.strip()))
    except ValueError:
        try:
            return http_date(text)
        except ValueError:
            return None


def skew_kind(code: str, text: str) -> str | None:
    """The `SKEW_RULES` kind of an error with `code` whose text is `text`, or None when it is another error."""
    return next((kind for kind, codes, pattern in SKEW_RULES if code in codes or pattern.search(text)), None)


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((value for n, value in headers if n.lower() == name), None)


def clock_offset(status: int, headers: Iterable[tuple[str, str]], body: bytes, now: datetime) -> timedelta | None:
    """The server's clock minus ours, when `status`/`headers`/`body` are a clock-skew error.

    `now` is our (aware) clock when the response arrived; `body` is the answer's body or the whole raw response.
    Returns None when the response is not a clock-skew error, carries an `Age` header, or gives no
    server time. Never raises for any bytes.
    """
    if status < 400:
        return None
    pairs = list(headers)
    if _header(pairs, "age") is not None:
        return None
    text = bytes(body[:MAX_SCANNED_BYTES]).decode("utf-8", "replace")
    codes = [(_header(pairs, "x-amzn-errortype") or "").split(":", 1)[0].rsplit("#", 1)[-1].strip()]
    codes += [match[1] or match[2] for match in _CODE.finditer(text)]
    if not any(skew_kind(code, text) for code in codes):
        return None
    said = EXPIRED_MESSAGE.search(text) or NOT_YET_MESSAGE.search(text)
    server_time = parse_time(match[1] if (match := _SERVER_TIME.search(text)) else said["srv"] if said else None)
    server_time = server_time or parse_time(_header(pairs, "date"))
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
