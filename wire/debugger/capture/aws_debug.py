"""`aws --debug` captures (botocore's log): the requests sent, what botocore signed, and the answers.

Strategy: one pass over the lines, each looked at once from the mark it
holds: the body of the last `Making request` line, the `CanonicalRequest:`
and `StringToSign:` blocks logged before a `Sending http request` line, and
the status, headers and body logged after it make one exchange. Header dicts
and bodies are Python literals, read without `eval`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from wire.debugger.capture.logs import literal_eval, log_text, logged_request
from wire.debugger.capture.value import Capture, CaptureError


#: A log record's first line: the aws CLI writes `<time> - <thread> - <logger> - ...`, boto3's
#: `set_stream_logger` `<time> <logger> [DEBUG] ...`.
_LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ ")
_SENDING_MARK = "Sending http request: <AWSPreparedRequest "
_SENDING = re.compile(r"stream_output=\w+, method=(?P<method>\S+), url=(?P<url>\S+), headers=(?P<headers>\{.*\})>\s*\Z")
_MAKING_MARK = "Making request for OperationModel("
_MAKING_BODY = re.compile(r"(?P<body>b'(?:[^'\\]|\\.)*'|b\"(?:[^\"\\]|\\.)*\"|\{[^{}]*\})")
_STATUS = re.compile(r"\"[A-Z]+ \S+ HTTP/[\d.]+\" (?P<status>\d{3}) ")
_BYTES_LITERAL = re.compile(r"b'(?:[^'\\]|\\.)*'|b\"(?:[^\"\\]|\\.)*\"\Z")
_BLOCKS = ("CanonicalRequest", "StringToSign")


def _literal(text: str, what: str) -> Any:
    try:
        return literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as err:
        raise CaptureError(f"aws --debug {what}: not a Python literal ({err.__class__.__name__})") from None


def _as_text(value: Any) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def _botocore_body(value: Any) -> bytes:
    """The body bytes botocore sent: bytes as is; a dict form-encoded as its preparer does."""
    if isinstance(value, dict):
        return urlencode(list(value.items()), doseq=True).encode("utf-8")
    return value if isinstance(value, bytes) else b""


@dataclass
class _Exchange:
    """What botocore logged about one request, line by line (see `read_aws_debug`)."""

    send: re.Match[str]
    body: str | None
    blocks: dict[str, str]
    status: int | None = None
    response_headers: str | None = None
    response_body: str | None = None


def _making_body(line: str, at: int) -> str | None:
    """The `'body': ...` value of botocore's `Making request ... with params:` line (found from `at`)."""
    params = line.find(" with params: ", at)
    body = line.find("'body': ", params) if params >= 0 else -1
    match = _MAKING_BODY.match(line, body + len("'body': ")) if body >= 0 else None
    return match["body"] if match else None


def _aws_debug_capture(exchange: _Exchange) -> Capture:
    headers = _literal(exchange.send["headers"], "request headers")
    if not isinstance(headers, dict):
        raise CaptureError("aws --debug request headers: expected a dict")
    body = _botocore_body(_literal(exchange.body, "request body")) if exchange.body else b""
    request = logged_request(exchange.send["method"], exchange.send["url"],
                              [(str(n), _as_text(v)) for n, v in headers.items()], body, "aws --debug request")
    header_dict = _literal(exchange.response_headers, "response headers") if exchange.response_headers else {}
    response_body = _literal(exchange.response_body, "response body") if exchange.response_body else None
    return Capture(
        "aws-debug", request, body_known=exchange.body is not None, response_status=exchange.status,
        response_headers=tuple((str(n), _as_text(v)) for n, v in header_dict.items())
        if isinstance(header_dict, dict) else (),
        response_body=response_body if isinstance(response_body, bytes) else None,
        client_canonical_request=exchange.blocks.get("CanonicalRequest"),
        client_string_to_sign=exchange.blocks.get("StringToSign"),
    )


def read_aws_debug(data: bytes, scheme: str) -> list[Capture]:
    """aws --debug (awscli v1 and v2 log the same botocore lines): one capture per `Sending http request`
    (several operations, retries and paginated calls share one log). One pass over the lines, each looked at
    once from the mark it holds, so a long line costs its length, not its length squared: the body of the
    last `Making request` line, the `CanonicalRequest:` and `StringToSign:` blocks botocore logged before the
    send, and the status, headers and body logged after it."""
    exchanges: list[_Exchange] = []
    body: str | None = None
    blocks: dict[str, str] = {}
    block: tuple[str, list[str]] | None = None
    expect_body = False
    for line in log_text(data).split("\n"):
        if block is not None:
            if not _LOG_LINE.match(line):
                block[1].append(line)
                continue
            blocks[block[0]] = "\n".join(block[1]).rstrip("\n")
            block = None
        if expect_body:
            expect_body = False
            if exchanges and _BYTES_LITERAL.match(line.rstrip("\r")):
                exchanges[-1].response_body = line.rstrip("\r")
                continue
        label = next((name for name in _BLOCKS if line.endswith(f" {name}:") and _LOG_LINE.match(line)), None)
        if label is not None:
            block = (label, [])
        elif (at := line.find(_MAKING_MARK)) >= 0:
            body = _making_body(line, at)
        elif (at := line.find(_SENDING_MARK)) >= 0:
            send = _SENDING.match(line, at + len(_SENDING_MARK))
            if send is not None:
                exchanges.append(_Exchange(send, body, blocks))
                body, blocks = None, {}
        elif exchanges and (at := line.find("Response headers: {")) >= 0:
            exchanges[-1].response_headers = line[at + len("Response headers: "):].rstrip()
        elif exchanges and line.rstrip().endswith("Response body:"):
            expect_body = True
        elif exchanges and exchanges[-1].status is None and " HTTP/" in line and (status := _STATUS.search(line)):
            exchanges[-1].status = int(status["status"])
    if not exchanges:
        raise CaptureError("aws --debug: no 'Sending http request' line")
    return [_aws_debug_capture(exchange) for exchange in exchanges]
