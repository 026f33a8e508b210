"""The capture readers on damaged and hostile input (issue 22): only `CaptureError`, bounded time and memory.

A seeded fuzz run over real captures of every format (tests/capture_fuzz.py; the 1e5-case run is
`python3 benchmarks/fuzz_captures.py`), and the findings it and the probe made, each driven as a user would
(`parse_capture`, `sigv4 explain`).
"""

from __future__ import annotations

import tracemalloc

import pytest

from tests.capture_fuzz import SEEDS, run
from wire.debugger.capture import CaptureError, parse_capture

TRACE_HEAD = (b"== Info: Connected\n=> Send header, 40 bytes (0x28)\n0000: GET / HTTP/1.1\n"
              b"0010: Host: example.com\n")


def test_every_capture_format_is_fuzzed() -> None:
    formats = {path.name.split("-")[0] for path in SEEDS}
    assert len(SEEDS) >= 60 and {"curl", "awscli", "boto3", "awscurl", "sigv4", "har", "urllib3"} <= formats


def test_fuzzed_captures_raise_only_capture_error_within_bounded_memory() -> None:
    counts = run(400, seed=21)
    assert counts["capture"] + counts["CaptureError"] == 400
    assert counts["capture"] and counts["CaptureError"]  # both outcomes are exercised


def _peak(data: bytes) -> int:
    tracemalloc.start()
    try:
        try:
            parse_capture(data)
        except CaptureError:
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("offset", [b"0fffffff", b"ffffffff"])
def test_a_trace_ascii_offset_is_not_a_size_to_allocate(offset: bytes) -> None:
    """`0fffffff:` made the reader pad 268 million line feeds (828 MB)."""
    data = TRACE_HEAD + offset + b": x-amz-date: 20240102T030405Z\n"
    assert _peak(data) < 1 << 20


def test_a_trace_block_size_of_5000_digits_is_a_capture_error() -> None:
    with pytest.raises(CaptureError):
        parse_capture(b"=> Send header, " + b"9" * 5000 + b" bytes (0x0)\n0000: GET / HTTP/1.1\n")


@pytest.mark.parametrize("data", [b"> GET / HTTP/2\n> Host: example.com\n", b"> GET / HTTP/9x\n"])
def test_a_capture_with_no_request_is_a_capture_error(data: bytes) -> None:
    """curl -v of an HTTP/2 request is detected as curl but holds no HTTP/1.x request (an IndexError before)."""
    with pytest.raises(CaptureError, match="no `> METHOD target HTTP/1.x` request line"):
        parse_capture(data)


def test_a_long_aws_debug_line_is_read_in_linear_time() -> None:
    """A 2 MiB `Making request for OperationModel(` line: 8.7 s for 265 KiB before (quadratic, about 9 minutes
    for this one); the line-by-line reader looks at each line once. The budget is a guard, not a measurement."""
    import time
    line = b"Making request for OperationModel(" * (2 << 20 // 34) + b"\n"
    send = (b"2024-01-02 03:04:05,123 - MainThread - botocore.endpoint - DEBUG - Sending http request: "
            b"<AWSPreparedRequest stream_output=False, method=POST, url=https://x/, headers={'a': b'b'}>\n")
    start = time.process_time()
    parse_capture(line + send)
    assert time.process_time() - start < 20
