"""`curl -v` and `sigv4 send -v` captures: `> ` request lines, `< ` response lines, the body unprefixed.

Strategy: the lines are read once, with curl's progress meter (which shares
stderr with -v) taken out; each `> METHOD` line starts another exchange, and
each exchange is read as raw HTTP. curl prints no request body, so the body
is known only when `send -v` printed it or the request declares none.
"""

from __future__ import annotations

import re

from sigv4.errors import RequestParseError
from sigv4.raw import parse_request
from wire.debugger.capture.logs import log_text
from wire.debugger.capture.raw import REQUEST_LINE
from wire.debugger.capture.value import Capture, CaptureError
from wire.debugger.complaint import split_response


# curl's progress meter (without -s) shares stderr with -v: its two header lines, and
# its rows, which may run into the next `*`/`>`/`<` line because they end in CR, not LF.
_METER_HEAD = re.compile(r"\s*% Total\s+% Received|\s+Dload\s+Upload")
_SIZE = r"[\d.]+[kMGTP]?"
_CLOCK = r"(?:--:--:--|\d+:\d\d:\d\d|\d+d \d\dh)"
_METER_ROW = re.compile(rf"\s*\d+\s+{_SIZE}\s+\d+\s+{_SIZE}\s+\d+\s+{_SIZE}\s+{_SIZE}\s+{_SIZE}\s+"
                        rf"{_CLOCK}\s+{_CLOCK}\s+{_CLOCK}\s+{_SIZE}")


def _curl_lines(data: bytes) -> list[str]:
    lines = []
    for line in log_text(data).splitlines():
        if _METER_HEAD.match(line):
            continue
        meter = _METER_ROW.match(line)
        if meter:
            line = line[meter.end():]
            if not line:
                continue
        lines.append(line)
    return lines


def _split_at_blank(lines: list[str]) -> tuple[list[str], list[str] | None]:
    """(head lines, the lines after the first blank one, or None when there is no blank line)."""
    blank = next((i for i, line in enumerate(lines) if not line.strip("\r")), None)
    return (lines, None) if blank is None else (lines[:blank], lines[blank + 1:])


def _curl_exchange(sent: list[str], received: list[str], body: list[str], scheme: str) -> Capture:
    """One exchange of `curl -v` or `sigv4 send -v`: curl prints the request head only (`} [16 bytes data]`
    stands for the body), `send -v` prints the body as `> ` lines after the blank one, and the response body
    as `< ` lines."""
    head, sent_body = _split_at_blank(sent)
    try:
        request = parse_request(("\r\n".join(head) + "\r\n\r\n").encode("utf-8"), scheme=scheme).request
    except RequestParseError as err:
        raise CaptureError(f"curl -v request lines: {err}") from None
    if sent_body:
        request = request.with_body("\n".join(sent_body).encode("utf-8"))
    response_head, response_lines = _split_at_blank(received)
    response = split_response(("\r\n".join(response_head) + "\r\n\r\n"
                               + "\n".join([*(response_lines or []), *body])).encode("utf-8")) if received else None
    length = request.header("content-length")
    status, headers, response_body = response if response else (None, [], None)
    return Capture("curl", request, body_known=bool(sent_body) or length in (None, "0"), response_status=status,
                   response_headers=tuple(headers), response_body=response_body)


def read_curl(data: bytes, scheme: str) -> list[Capture]:
    """curl -v and `sigv4 send -v`: `> ` lines are a request, `< ` lines its response, unprefixed lines the
    response body; each `> METHOD` line starts another exchange (redirects, retries, several URLs)."""
    exchanges: list[tuple[list[str], list[str], list[str]]] = []
    for line in _curl_lines(data):
        if line.startswith("> ") and REQUEST_LINE.match((line[2:] + "\n").encode("utf-8", "replace")):
            exchanges.append(([], [], []))
        if not exchanges:
            continue
        sent, received, body = exchanges[-1]
        if line.startswith("> ") or line == ">":
            sent.append(line[2:])
        elif line.startswith("< ") or line == "<":
            received.append(line[2:])
        elif received and not line.startswith(("*", "{ [", "} [")):
            body.append(line)
    if not exchanges:
        raise CaptureError("curl -v: no `> METHOD target HTTP/1.x` request line")
    return [_curl_exchange(sent, received, body, scheme) for sent, received, body in exchanges]
