"""`curl --trace` and `--trace-ascii` captures: blocks of sent and received header and data bytes.

Strategy: each `=> Send header` block starts an exchange; the bytes of each
block are rebuilt from its lines (hex for --trace; text for --trace-ascii,
with the CR LF it does not print put back from the offsets, which are never
trusted as sizes to allocate), and the exchange is read as raw HTTP.
"""

from __future__ import annotations

import re

from sigv4.errors import RequestParseError
from sigv4.raw import parse_request
from wire.debugger.capture.logs import log_text
from wire.debugger.capture.value import Capture, CaptureError
from wire.debugger.complaint import split_response


_TRACE_BLOCK = re.compile(r"(=>|<=) (Send|Recv) (header|data|SSL data), (\d{1,12}) bytes")
_TRACE_LINE = re.compile(r"([0-9a-f]{4,8}): ?(.*)\Z", re.S)
_TRACE_HEX = re.compile(r"((?:[0-9a-f]{2} ){1,16})")


def _trace_block(lines: list[str], size: int, hex_mode: bool) -> bytes:
    """The bytes of one trace block. --trace lines hold hex; --trace-ascii lines hold text cut at 64 characters
    or at CR LF (which it does not print): the offsets say which, so the CR LF are put back."""
    out = bytearray()
    for line in lines:
        match = _TRACE_LINE.match(line)
        if match is None:
            continue
        offset, rest = int(match[1], 16), match[2]
        if hex_mode:
            hex_part = _TRACE_HEX.match(rest)
            out += bytes.fromhex(hex_part[1]) if hex_part else b""
            continue
        # Only the CR LF curl leaves out is put back: an offset further on (a damaged or forged file,
        # `0fffffff:`) is not a size to allocate.
        if offset - len(out) == 2:
            out += b"\r\n"
        elif offset - len(out) == 1:
            out += b"\n"
        out += rest.encode("latin-1", "replace")
    if size - len(out) == 2:
        out += b"\r\n"
    return bytes(out)


_HEX_ROW = re.compile(r"[0-9a-f]{4,8}: (?:[0-9a-f]{2} ){16}", re.M)


def read_trace(data: bytes, scheme: str) -> list[Capture]:
    """curl --trace / --trace-ascii FILE: blocks of sent and received header and data bytes."""
    exchanges: list[dict[str, bytearray]] = []
    block: tuple[str, int] | None = None
    lines: list[str] = []

    text = log_text(data)
    hex_mode = _HEX_ROW.search(text) is not None

    def flush() -> None:
        if block is not None and exchanges:
            exchanges[-1][block[0]] += _trace_block(lines, block[1], hex_mode)

    for line in text.splitlines():
        match = _TRACE_BLOCK.match(line)
        if match or line.startswith("== Info"):
            flush()
            block, lines = None, []
            if match and match[3] != "SSL data":
                part = f"{match[2].lower()} {match[3]}"
                if part == "send header":
                    exchanges.append({"send header": bytearray(), "send data": bytearray(),
                                      "recv header": bytearray(), "recv data": bytearray()})
                block = (part, int(match[4]))
            continue
        lines.append(line)
    flush()
    captures = []
    for exchange in exchanges:
        raw = bytes(exchange["send header"] + exchange["send data"])
        try:
            request = parse_request(raw, scheme=scheme).request
        except RequestParseError as err:
            raise CaptureError(f"curl --trace request: {err}") from None
        ascii_only = not hex_mode
        received = bytes(exchange["recv data"])
        if ascii_only:
            # A `.` between XML elements was a line feed: put it back so the envelope parses.
            received = re.sub(rb"(?<=>)\.(?=\s*(?:<|\Z))", b"\n", received)
        response = split_response(bytes(exchange["recv header"]) + received)
        status, headers, body = response if response else (None, [], None)
        captures.append(Capture("curl-trace", request, response_status=status, response_headers=tuple(headers),
                                response_body=body, notes=(
                                    "curl --trace-ascii prints each line feed inside a body as `.`: multi-line "
                                    "strings in the response body may not read; `--trace FILE` (hex) keeps every "
                                    "byte",) if ascii_only and body else ()))
    if not captures:
        raise CaptureError("curl --trace: no '=> Send header' block")
    return captures
