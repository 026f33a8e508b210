"""Read an already-signed request out of what the user saved: raw HTTP (with the response after it, or
not), a lone URL, `curl -v` and `sigv4 send -v`, `curl --trace[-ascii]`, a HAR log or entry (browsers,
recording proxies, `send --har`, `send --json`), `aws --debug` (botocore's log), `awscurl -v`.

Strategy: a table of (format, detector, reader). The detectors look at
cheap, unambiguous marks (a JSON object with `log`/`request`/`method`;
awscurl's `'\\nBEGIN REQUEST+` line; botocore's "Sending http request:
<AWSPreparedRequest" line; curl's `=> Send header` blocks or `> ` request
lines; an HTTP request line or a URL), the first that fires picks the
reader, and every reader returns one `Capture` per request it holds: the
request exactly as it went out (header order and casing kept), plus the
response when the capture holds one (its `Date` header is what clock skew is
measured against) and, for `aws --debug` and awscurl, the canonical request
and string-to-sign the client logged. `_choose` then takes the one asked
for, or the last that failed, and notes which. Readers are linear in their
input: logs are read line by line from the mark each line holds, sizes and
offsets in a file are never trusted as allocations. Python literals in the
logs (header dicts, body bytes) are read with `ast.literal_eval`, never
`eval`. Every failure is a `CaptureError`.
"""

from __future__ import annotations

import ast
import base64
import binascii
import json
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sigv4.canonical import check_header
from sigv4.errors import InvalidHeaderError, RequestParseError
from sigv4.raw import parse_request
from sigv4.signer import host_from_url
from sigv4.types import Request
from wire.debugger.complaint import dechunk, response_date, split_response
from wire.errors import DecodeError


class CaptureError(DecodeError):
    """The saved text is none of the capture formats, or is a broken one (the message says which)."""


@dataclass(frozen=True, slots=True)
class Capture:
    """A signed request as captured, and what else the capture told us."""

    #: "raw", "curl" (also `sigv4 send -v`), "curl-trace", "har" (also `send --json`), "aws-debug" or "awscurl".
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


def _logged_request(method: str, url: str, headers: list[tuple[str, str]], body: bytes, what: str) -> Request:
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


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


# -- raw HTTP -------------------------------------------------------------------------

_REQUEST_LINE = re.compile(rb"\s*[!#$%&'*+\-.^_`|~0-9A-Za-z]+ \S.* HTTP/\d\.\d\r?\n")
_METHOD = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
#: A lone URL (`sigv4 explain 'https://...presigned'`): read as the GET a client sends for it.
_URL = re.compile(rb"https?://[^\s]+")


def _read_raw(data: bytes, scheme: str) -> Capture:
    """A raw request, or a lone URL; a response saved after it (`cat signed.req response.http`) is cut off by
    the request's own framing (Content-Length, chunked, else no body) and read as the answer."""
    try:
        request = parse_request(data.lstrip(), scheme=scheme).request
    except RequestParseError as err:
        raise CaptureError(f"raw request: {err}") from None
    body = request.body if isinstance(request.body, bytes) else b""
    end = _framed_length(request, body)
    answer = split_response(body[end:].lstrip(b"\r\n")) if end is not None else None
    if answer is None:
        return Capture("raw", request)
    status, headers, response_body = answer
    return Capture("raw", request.with_body(body[:end]), response_status=status, response_headers=tuple(headers),
                   response_body=response_body)


def _framed_length(request: Request, body: bytes) -> int | None:
    """How many bytes after the head belong to the request by its framing; None when the framing does not
    fit what follows (a hand-written request whose body has no Content-Length is kept whole)."""
    length = (request.header("content-length") or "").strip()
    if "chunked" in (request.header("transfer-encoding") or "").lower():
        walked = dechunk(body)
        return walked[1] if walked else None
    if length.isdigit() and len(length) <= 15:
        return int(length) if int(length) <= len(body) else None
    return 0 if body.lstrip(b"\r\n").startswith(b"HTTP/") else None


# -- curl -v ----------------------------------------------------------------------------

# curl's progress meter (without -s) shares stderr with -v: its two header lines, and
# its rows, which may run into the next `*`/`>`/`<` line because they end in CR, not LF.
_METER_HEAD = re.compile(r"\s*% Total\s+% Received|\s+Dload\s+Upload")
_SIZE = r"[\d.]+[kMGTP]?"
_CLOCK = r"(?:--:--:--|\d+:\d\d:\d\d|\d+d \d\dh)"
_METER_ROW = re.compile(rf"\s*\d+\s+{_SIZE}\s+\d+\s+{_SIZE}\s+\d+\s+{_SIZE}\s+{_SIZE}\s+{_SIZE}\s+"
                        rf"{_CLOCK}\s+{_CLOCK}\s+{_CLOCK}\s+{_SIZE}")


def _curl_lines(data: bytes) -> list[str]:
    lines = []
    for line in _text(data).splitlines():
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


def _read_curl(data: bytes, scheme: str) -> list[Capture]:
    """curl -v and `sigv4 send -v`: `> ` lines are a request, `< ` lines its response, unprefixed lines the
    response body; each `> METHOD` line starts another exchange (redirects, retries, several URLs)."""
    exchanges: list[tuple[list[str], list[str], list[str]]] = []
    for line in _curl_lines(data):
        if line.startswith("> ") and _REQUEST_LINE.match((line[2:] + "\n").encode("utf-8", "replace")):
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


# -- curl --trace and --trace-ascii -------------------------------------------------------

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


def _read_trace(data: bytes, scheme: str) -> list[Capture]:
    """curl --trace / --trace-ascii FILE: blocks of sent and received header and data bytes."""
    exchanges: list[dict[str, bytearray]] = []
    block: tuple[str, int] | None = None
    lines: list[str] = []

    text = _text(data)
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


# -- HAR ----------------------------------------------------------------------------------


def _har_pairs(items: Any, where: str) -> list[tuple[str, str]]:
    if not isinstance(items, list):
        raise CaptureError(f"HAR {where}: expected a list of {{name, value}} objects")
    pairs = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not isinstance(item.get("value"), str):
            raise CaptureError(f"HAR {where}: every entry needs string `name` and `value`")
        pairs.append((item["name"], item["value"]))
    return pairs


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _har_entries(doc: Any) -> list[dict[str, Any]]:
    """The entries to choose from: the signed entries of a whole HAR log (all, if none is signed), or the
    one bare entry or request."""
    if isinstance(doc, dict) and isinstance(doc.get("log"), dict):
        listed = doc["log"].get("entries")
        entries = [e for e in listed if isinstance(e, dict) and isinstance(e.get("request"), dict)] \
            if isinstance(listed, list) else []
        if not entries:
            raise CaptureError("HAR log: no entries with a request")
        signed = [e for e in entries if any(isinstance(h, dict) and str(h.get("name", "")).lower() == "authorization"
                                            for h in _list(e["request"].get("headers")))
                  or "X-Amz-Signature=" in str(e["request"].get("url", ""))]
        return signed or entries
    if isinstance(doc, dict) and isinstance(doc.get("request"), dict):
        return [doc]
    if isinstance(doc, dict) and "method" in doc and "url" in doc:
        return [{"request": doc}]
    raise CaptureError("HAR: expected a HAR log, an entry with `request`, or a request with `method` and `url`")


def _har_text(content: Any, where: str) -> bytes | None:
    """The text of a HAR postData or content object; browsers give binary content base64-encoded."""
    if not isinstance(content, dict) or not isinstance(content.get("text"), str):
        return None
    text: str = content["text"]
    if content.get("encoding") == "base64":
        try:
            return base64.b64decode(text, validate=True)
        except (ValueError, binascii.Error):
            raise CaptureError(f"HAR {where}: `encoding` is base64 but the text is not") from None
    return text.encode("utf-8")


def _har_capture(entry: dict[str, Any]) -> Capture:
    req = entry["request"]
    method, url = req.get("method"), req.get("url")
    if not isinstance(method, str) or not isinstance(url, str):
        raise CaptureError("HAR request: `method` and `url` must be strings")
    # HTTP/2 pseudo-headers (`:authority`...) are not headers; the Host is taken from the URL.
    headers = [(n, v) for n, v in _har_pairs(req.get("headers", []), "request.headers") if not n.startswith(":")]
    post = req.get("postData")
    if post is not None and not isinstance(post, dict):
        raise CaptureError("HAR request.postData: must be an object")
    if isinstance(post, dict) and "text" in post and not isinstance(post["text"], str):
        raise CaptureError("HAR request.postData.text: must be a string")
    body = _har_text(post, "request.postData") or b""
    # A browser leaves postData out when it did not keep the body; a declared length says there was one.
    length = next((v for n, v in headers if n.lower() == "content-length"), "0")
    body_known = post is not None or length.strip() in ("", "0")
    resp = entry.get("response") if isinstance(entry.get("response"), dict) else None
    status = resp.get("status") if resp and isinstance(resp.get("status"), int) else None
    resp_headers = tuple(_har_pairs(resp.get("headers", []), "response.headers")) if resp else ()
    resp_body = _har_text(resp.get("content"), "response.content") if resp else None
    return Capture("har", _logged_request(method, url, headers, body, "HAR request"), body_known=body_known,
                   response_status=status or None, response_headers=resp_headers, response_body=resp_body)


def _read_har(data: bytes, scheme: str) -> list[Capture]:
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as err:
        raise CaptureError(f"HAR: not JSON ({err})") from None
    return [_har_capture(entry) for entry in _har_entries(doc)]


# -- aws --debug (botocore's log) -----------------------------------------------------------

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


def _literal_eval(text: str) -> Any:
    """`ast.literal_eval`, without the warnings compiling a damaged literal prints (`invalid escape sequence`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.literal_eval(text)


def _literal(text: str, what: str) -> Any:
    try:
        return _literal_eval(text)
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
    """What botocore logged about one request, line by line (see `_read_aws_debug`)."""

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
    request = _logged_request(exchange.send["method"], exchange.send["url"],
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


def _read_aws_debug(data: bytes, scheme: str) -> list[Capture]:
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
    for line in _text(data).split("\n"):
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


# -- awscurl -v ------------------------------------------------------------------------------

_AWSCURL_MARK = b"'\\nBEGIN REQUEST+"


def _pprint_chunks(text: str) -> list[str]:
    """awscurl logs every value with `pprint`: a value starts on a line that does not begin with a space and
    continues on the lines that do."""
    chunks: list[list[str]] = []
    for line in text.split("\n"):
        if chunks and line.startswith(" "):
            chunks[-1].append(line)
        else:
            chunks.append([line])
    return ["\n".join(chunk) for chunk in chunks]


def _pprinted(chunk: str) -> Any:
    """The value of one pprint chunk; None when it is no Python literal (the response body, curl's lines)."""
    if not chunk.startswith(("{", "(", "'", '"')):
        return None
    try:
        return _literal_eval(chunk)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _read_awscurl(data: bytes, scheme: str) -> list[Capture]:
    """awscurl -v (its stderr, with the body on stdout after it when both were saved): the arguments (method,
    data and URL; its secret key is printed there too and is never kept), the canonical request and
    string-to-sign it computed, the headers it sent, the response code, headers and body."""
    chunks = _pprint_chunks(_text(data))
    found: dict[str, Any] = {}
    after: str | None = None
    previous: Any = None
    for index, chunk in enumerate(chunks):
        value = _pprinted(chunk)
        if isinstance(value, dict) and "access_key" in value and "request" in value:
            found["method"], found["data"] = str(value["request"]), str(value.get("data") or "")
        elif isinstance(value, dict) and previous == "\nHEADERS++++++++++++++++++++++++++++++++++++":
            found["headers"] = [(str(n), str(v)) for n, v in value.items()]
        elif isinstance(value, dict) and isinstance(previous, str) and previous.startswith("Response code: "):
            found["response_headers"] = tuple((str(n), str(v)) for n, v in value.items())
            after = "\n".join(chunks[index + 1:]).removeprefix("''\n")
        elif isinstance(value, str):
            for key, label in (("canonical", "\nCANONICAL REQUEST = "), ("string_to_sign", "\nSTRING_TO_SIGN = "),
                               ("url", "Request URL = "), ("status", "Response code: ")):
                if value.startswith(label):
                    found[key] = value[len(label):].strip() if key == "status" else value[len(label):]
        previous = value
    if "url" not in found or "headers" not in found:
        raise CaptureError("awscurl -v: no 'Request URL = ' line after its HEADERS block")
    request = _logged_request(found.get("method", "GET"), found["url"], found["headers"],
                              found.get("data", "").encode("utf-8"), "awscurl request")
    status = found.get("status", "")
    return [Capture("awscurl", request, body_known="data" in found,
                    response_status=int(status) if re.fullmatch(r"[0-9]{3}", status) else None,
                    response_headers=found.get("response_headers", ()),
                    response_body=after.encode("utf-8") if after else None,
                    client_canonical_request=found.get("canonical"), client_string_to_sign=found.get("string_to_sign"))]


# -- detection and choice ------------------------------------------------------------------------

Reader = Callable[[bytes, str], list[Capture]]


def _read_raw_list(data: bytes, scheme: str) -> list[Capture]:
    return [_read_raw(data, scheme)]


#: (format, detector, reader), tried in order; the first detector that fires picks the reader.
FORMATS: tuple[tuple[str, Callable[[bytes], bool], Reader], ...] = (
    ("har", lambda d: d.lstrip().startswith(b"{") and _AWSCURL_MARK not in d, _read_har),
    ("awscurl", lambda d: _AWSCURL_MARK in d, _read_awscurl),
    ("aws-debug", lambda d: b"Sending http request: <AWSPreparedRequest" in d, _read_aws_debug),
    ("curl-trace", lambda d: re.search(rb"^=> Send header, \d+ bytes", d, re.M) is not None, _read_trace),
    ("curl", lambda d: re.search(rb"^> [A-Z]+ \S+ HTTP/", d, re.M) is not None, _read_curl),
    ("raw", lambda d: _REQUEST_LINE.match(d) is not None or _URL.fullmatch(d.strip()) is not None, _read_raw_list),
)


def _failed(capture: Capture) -> bool:
    return capture.response_status is not None and capture.response_status >= 400


def _choose(captures: list[Capture], pick: int | None) -> Capture:
    """The capture asked for (1-based `pick`), else the last one that failed, else the last; with a note
    saying which was read and how to read another when there was a choice."""
    if not captures:
        raise CaptureError("capture: it holds no request")
    if pick is not None and not 1 <= pick <= len(captures):
        raise CaptureError(f"pick: request {pick} does not exist; the capture holds {len(captures)} (1..{len(captures)})")
    if len(captures) == 1:
        return captures[0]
    failed = [i for i, c in enumerate(captures) if _failed(c)]
    index = pick - 1 if pick is not None else failed[-1] if failed else len(captures) - 1
    chosen = captures[index]
    why = "as asked" if pick is not None else "the last that failed" if failed else "the last (none failed)"
    status = chosen.response_status or "no response"
    note = (f"the capture holds {len(captures)} requests; read request {index + 1} ({chosen.request.method} "
            f"{chosen.request.path}, {status}), {why}; read another with --pick N (1..{len(captures)})")
    return replace(chosen, notes=(*chosen.notes, note))


def parse_capture(data: bytes, *, scheme: str = "https", pick: int | None = None) -> Capture:
    """Detect the capture's format and read the signed request (and response, if any) out of it.

    A capture of several requests (a HAR log, an `aws --debug` log of several
    calls or retries, `curl -v` following redirects) gives request `pick`
    (1-based) or, without it, the last one that failed; `Capture.notes` then
    says which was read. `scheme` completes an origin-form target (`/path`
    plus a Host header) into a URL. Raises `CaptureError` naming the format
    tried and what broke.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise CaptureError(f"capture: expected bytes, got {type(data).__name__}")
    for _name, detect, read in FORMATS:
        if detect(bytes(data)):
            return _choose(read(bytes(data), scheme), pick)
    raise CaptureError("capture: not raw HTTP, curl -v or --trace output, a HAR entry or an aws --debug log "
                       "(no request line, no '> ' lines, no JSON object, no 'Sending http request')")


def read_response(data: bytes, *, pick: int | None = None) -> tuple[int | None, tuple[tuple[str, str], ...], bytes]:
    """The server's answer in what a user saved as a response: (status, headers, body).

    A capture (HAR log or entry, `send --json` record, `curl -v` or
    `--trace` output, `aws --debug` log) gives the response it holds (of
    request `pick` when it holds several); anything else (a whole raw HTTP
    response, a bare error body) is returned as the body, unread. Raises
    `CaptureError` when a capture holds no response.
    """
    data = bytes(data)
    if data.lstrip().startswith(b"HTTP/"):
        return None, (), data
    if data.lstrip().startswith(b"{"):
        try:
            doc = json.loads(data)
        except (ValueError, RecursionError):
            return None, (), data
        if not (isinstance(doc, dict) and (isinstance(doc.get("log"), dict) or isinstance(doc.get("response"), dict))):
            return None, (), data  # an error body in JSON
    elif not any(detect(data) for name, detect, _ in FORMATS if name != "raw"):
        return None, (), data
    capture = parse_capture(data, pick=pick)
    if capture.answer is None:
        raise CaptureError(f"{capture.format} capture: it holds no response")
    return capture.answer
