"""Times in a diagnosis: the request's X-Amz-Date, a presigned URL's expiry, a clock skew as a cause.

Strategy: X-Amz-Date is read strictly (`parse_amz_date`, None when it is not
ISO 8601 basic); a presigned request ends at X-Amz-Date + X-Amz-Expires; a skew
is told as a duration and a direction against the server's clock, in UTC.
`WIDEST_WINDOW` is the longest window any service allows.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from wire.debugger.causes import Cause, Evidence
from wire.debugger.signature_params import SignatureParams


def duration(delta: timedelta) -> str:
    """`delta` in words ("1 h 5 min", "0 s"), without its sign."""
    seconds = int(abs(delta.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else "", f"{secs} s" if secs or not seconds else ""]
    return " ".join(p for p in parts if p)


def iso(moment: datetime) -> str:
    """`moment` as ISO 8601 in UTC (2026-01-02T03:04:05Z)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_amz_date(text: str) -> datetime | None:
    """The X-Amz-Date `text` as a UTC datetime; None when it is not YYYYMMDDTHHMMSSZ."""
    try:
        return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def presigned_expiry(p: SignatureParams) -> datetime | None:
    """When a presigned request stops working (X-Amz-Date + X-Amz-Expires); None when unknown or past year 9999."""
    signed_at = parse_amz_date(p.amz_date)
    try:
        return signed_at + timedelta(seconds=p.expires) if signed_at and p.expires is not None else None
    except OverflowError:
        return None


def skew_cause(request_time: datetime, server_time: datetime, window: timedelta | None, source: str,
                evidence: Evidence = "proved") -> Cause:
    """The clock-skew cause for a request time against the server's, with the window allowed when known."""
    skew = request_time - server_time
    direction = "behind" if skew < timedelta(0) else "ahead of"
    allowed = f"; allowed ±{duration(window)}" if window else ""
    return Cause("clock-skew",
                 f"clock skew: the request time {iso(request_time)} is {duration(skew)} {direction} the server's "
                 f"clock {iso(server_time)} ({source}{allowed}); sign with the current time (sync the clock, NTP)",
                 evidence, iso(request_time), iso(server_time))


#: The longest window any service allows between the request time and its clock (S3: 15 minutes).
WIDEST_WINDOW = timedelta(minutes=15)
