"""The capture readers on damaged and hostile input (issue 22): only `CaptureError`, bounded time and memory.

A seeded fuzz run over real captures of every format (tests/capture_fuzz.py; the 1e5-case run is
`python3 benchmarks/fuzz_captures.py`), and the findings it and the probe made, each driven as a user would
(`parse_capture`, `sigv4 explain`).
"""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from tests.capture_fuzz import SEEDS, run
from tests.cli_run import run_cli
from wire.debugger.capture import CaptureError, parse_capture

REAL = Path(__file__).parent / "fixtures" / "real"
TRACE_HEAD = (b"== Info: Connected\n=> Send header, 40 bytes (0x28)\n0000: GET / HTTP/1.1\n"
              b"0010: Host: example.com\n")


def test_every_capture_format_is_fuzzed() -> None:
    formats = {path.name.split("-")[0] for path in SEEDS}
    assert len(SEEDS) >= 60 and {"curl", "awscli", "boto3", "awscurl", "sigv4", "har", "urllib3", "js", "aws4"} <= formats


def test_fuzzed_captures_raise_only_capture_error_within_bounded_memory() -> None:
    counts = run(300, seed=21, secret_every=8)
    assert counts["capture"] + counts["CaptureError"] == 300
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


# -- issue 21, class 6: what the readers make of each capture format ------------------------------------


def test_raw_request_and_response_back_to_back_are_split_by_the_requests_framing() -> None:
    """`cat signed.req response.http`: the response was hashed into the body before."""
    capture = parse_capture((REAL / "urllib3-raw-relay-adds-charset.capture").read_bytes(), scheme="http")
    assert capture.request.body == b'{"MaxResults":5}' and capture.response_status == 403
    assert b"InvalidSignatureException" in (capture.response_body or b"")


def test_send_v_and_awscurl_v_are_read_with_their_bodies_and_strings() -> None:
    send = parse_capture((REAL / "sigv4-send-v-wrong-secret.capture").read_bytes(), scheme="http")
    assert send.request.body == b'{"MaxResults":5}' and send.response_status == 403 and send.body_known
    awscurl = parse_capture((REAL / "awscurl-wrong-secret.capture").read_bytes())
    assert awscurl.format == "awscurl" and awscurl.request.method == "POST" and awscurl.response_status == 403
    assert awscurl.client_canonical_request and awscurl.client_canonical_request.startswith("POST\n/listRegions\n")
    assert awscurl.client_string_to_sign and awscurl.client_string_to_sign.startswith("AWS4-HMAC-SHA256\n")


def test_explain_reads_a_presigned_url_and_a_one_line_json_capture(tmp_path: Path) -> None:
    url = ("https://examplebucket.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE"
           "%2F20240102%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240102T030405Z&X-Amz-Expires=900"
           "&X-Amz-SignedHeaders=host&X-Amz-Signature=abc")
    env = {"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
           "AWS_EC2_METADATA_DISABLED": "true"}
    code, out, err = run_cli(["explain", url], env)
    text = out.decode()
    assert code == 0 and "Signed (presigned URL): AKIDEXAM…/20240102/us-east-1/s3/aws4_request" in text, err
    assert "the capture holds no response" in text
    record = json.loads((REAL / "sigv4-send-json-relay-adds-charset.capture").read_text())
    one_line = tmp_path / "one-line.json"
    one_line.write_text(json.dumps(record))
    code, out, err = run_cli(["explain", str(one_line)], env)
    assert code == 0 and "[header-changed, proved]" in out.decode(), out.decode() + err
    code, out, err = run_cli(["explain", "https://examplebucket.s3.amazonaws.com/k?AWSAccessKeyId=AKIDEXAMPLE"
                                         "&Expires=1704164645&Signature=abc%3D"], env)
    assert "a Signature Version 2 URL" in out.decode() and "not signed" not in out.decode()


def test_a_response_of_one_byte_chunks_is_read_in_linear_time() -> None:
    """600 KB of 1-byte chunks: the de-chunker copied the rest of the body after every chunk (quadratic)."""
    import time

    from wire.debugger.complaint import split_response
    body = b"<Error><Code>SignatureDoesNotMatch</Code></Error>" + b" " * 600_000
    chunked = b"".join(b"1\r\n" + body[i:i + 1] + b"\r\n" for i in range(len(body))) + b"0\r\n\r\n"
    start = time.process_time()
    answer = split_response(b"HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked)
    assert answer is not None and answer[2] == body
    assert time.process_time() - start < 20
