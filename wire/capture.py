"""Read an already-signed request out of what the user saved: raw HTTP, `curl -v`, a HAR entry, `aws --debug`.

Strategy: a table of (format, detector, reader). The detectors look at
cheap, unambiguous marks (a JSON object with `log`/`request`/`method`;
botocore's "Sending http request: <AWSPreparedRequest" line; curl's `> `
request lines; an HTTP request line), the first that fires picks the reader,
and every reader builds the same `Capture`: the request exactly as it went
out (header order and casing kept), plus the response when the capture holds
one (its `Date` header is what clock skew is measured against) and, for
`aws --debug`, the canonical request and string-to-sign botocore logged.
Python literals in botocore's log (header dicts, body bytes) are read with
`ast.literal_eval`, never `eval`. Every failure is a `CaptureError`.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

from sigv4.canonical import check_header
from sigv4.errors import InvalidHeaderError, RequestParseError
from sigv4.raw import parse_request
from sigv4.signer import host_from_url
from sigv4.types import Request
from wire.complaint import split_response
from wire.errors import DecodeError


class CaptureError(DecodeError):
    """The saved text is none of the capture formats, or is a broken one (the message says which)."""


@dataclass(frozen=True, slots=True)
class Capture:
    """A signed request as captured, and what else the capture told us."""

    #: "raw", "curl", "har" or "aws-debug".
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

    @property
    def response_date(self) -> datetime | None:
        return response_date(self.response_headers)


def response_date(headers: Iterable[tuple[str, str]]) -> datetime | None:
    """The response's `Date` header as an aware UTC datetime; None when absent or unreadable."""
    value = next((v for n, v in headers if n.lower() == "date"), None)
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


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


def _read_raw(data: bytes, scheme: str) -> Capture:
    try:
        return Capture("raw", parse_request(data.lstrip(), scheme=scheme).request)
    except RequestParseError as err:
        raise CaptureError(f"raw request: {err}") from None


# -- curl -v ----------------------------------------------------------------------------


def _read_curl(data: bytes, scheme: str) -> Capture:
    """curl -v: `> ` lines are the request head, `< ` lines the response head, unprefixed lines its body."""
    sent: list[str] = []
    received: list[str] = []
    body: list[str] = []
    for line in _text(data).splitlines():
        if line.startswith("> ") or line == ">":
            sent.append(line[2:])
        elif line.startswith("< ") or line == "<":
            received.append(line[2:])
        elif received and not line.startswith(("*", "{ [", "} [")):
            body.append(line)
    head = "\r\n".join(line for line in sent if line) + "\r\n\r\n"
    try:
        request = parse_request(head.encode("utf-8"), scheme=scheme).request
    except RequestParseError as err:
        raise CaptureError(f"curl -v request lines: {err}") from None
    response = split_response(("\r\n".join(r for r in received if r) + "\r\n\r\n" + "\n".join(body)).encode("utf-8")) \
        if received else None
    length = request.header("content-length")
    status, headers, response_body = response if response else (None, [], None)
    return Capture("curl", request, body_known=length in (None, "0"), response_status=status,
                   response_headers=tuple(headers), response_body=response_body)


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


def _har_entry(doc: Any) -> dict[str, Any]:
    """The entry to read: a bare entry or request, or the last signed entry of a whole HAR log."""
    if isinstance(doc, dict) and isinstance(doc.get("log"), dict):
        listed = doc["log"].get("entries")
        entries = [e for e in listed if isinstance(e, dict) and isinstance(e.get("request"), dict)] \
            if isinstance(listed, list) else []
        if not entries:
            raise CaptureError("HAR log: no entries with a request")
        signed = [e for e in entries if any(isinstance(h, dict) and str(h.get("name", "")).lower() == "authorization"
                                            for h in _list(e["request"].get("headers")))
                  or "X-Amz-Signature=" in str(e["request"].get("url", ""))]
        return (signed or entries)[-1]
    if isinstance(doc, dict) and isinstance(doc.get("request"), dict):
        return doc
    if isinstance(doc, dict) and "method" in doc and "url" in doc:
        return {"request": doc}
    raise CaptureError("HAR: expected a HAR log, an entry with `request`, or a request with `method` and `url`")


def _read_har(data: bytes, scheme: str) -> Capture:
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as err:
        raise CaptureError(f"HAR: not JSON ({err})") from None
    entry = _har_entry(doc)
    req = entry["request"]
    method, url = req.get("method"), req.get("url")
    if not isinstance(method, str) or not isinstance(url, str):
        raise CaptureError("HAR request: `method` and `url` must be strings")
    headers = [(n, v) for n, v in _har_pairs(req.get("headers", []), "request.headers") if not n.startswith(":")]
    post = req.get("postData") or {}
    text = post.get("text", "") if isinstance(post, dict) else ""
    if not isinstance(text, str):
        raise CaptureError("HAR request.postData.text: must be a string")
    body = text.encode("utf-8")
    resp = entry.get("response") if isinstance(entry.get("response"), dict) else None
    status = resp.get("status") if resp and isinstance(resp.get("status"), int) else None
    resp_headers = tuple(_har_pairs(resp.get("headers", []), "response.headers")) if resp else ()
    content = resp.get("content") if resp and isinstance(resp.get("content"), dict) else {}
    resp_text = content.get("text") if isinstance(content.get("text"), str) else None
    return Capture("har", _logged_request(method, url, headers, body, "HAR request"), response_status=status or None,
                   response_headers=resp_headers, response_body=resp_text.encode("utf-8") if resp_text is not None else None)


# -- aws --debug (botocore's log) -----------------------------------------------------------

_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ - ", re.M)
_SENDING = re.compile(r"Sending http request: <AWSPreparedRequest stream_output=\w+, method=(?P<method>\S+), "
                      r"url=(?P<url>\S+), headers=(?P<headers>\{.*\})>\s*$", re.M)
_MAKING = re.compile(r"Making request for OperationModel\(.*?\) with params: .*?'body': "
                     r"(?P<body>b'(?:[^'\\]|\\.)*'|b\"(?:[^\"\\]|\\.)*\"|\{[^{}]*\})", re.M)
_STATUS = re.compile(r"\"[A-Z]+ \S+ HTTP/[\d.]+\" (?P<status>\d{3}) ")
_RESPONSE_HEADERS = re.compile(r"Response headers: (?P<headers>\{.*\})\s*$", re.M)
_RESPONSE_BODY = re.compile(r"Response body:\n(?P<body>b'(?:[^'\\]|\\.)*'|b\"(?:[^\"\\]|\\.)*\")", re.M)


def _literal(text: str, what: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as err:
        raise CaptureError(f"aws --debug {what}: not a Python literal ({err.__class__.__name__})") from None


def _as_text(value: Any) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def _logged_block(log: str, label: str, before: int) -> str | None:
    """The multi-line value botocore logged as `label:` last before offset `before`."""
    starts = [m.end() for m in re.finditer(rf" - {label}:\n", log[:before])]
    if not starts:
        return None
    rest = log[starts[-1]:before]
    end = _LOG_LINE.search(rest)
    return rest[: end.start() if end else len(rest)].rstrip("\n")


def _botocore_body(value: Any) -> bytes:
    """The body bytes botocore sent: bytes as is; a dict form-encoded as its preparer does."""
    if isinstance(value, dict):
        return urlencode(list(value.items()), doseq=True).encode("utf-8")
    return value if isinstance(value, bytes) else b""


def _read_aws_debug(data: bytes, scheme: str) -> Capture:
    log = _text(data)
    sends = list(_SENDING.finditer(log))
    if not sends:
        raise CaptureError("aws --debug: no 'Sending http request' line")
    send = sends[-1]
    headers = _literal(send["headers"], "request headers")
    if not isinstance(headers, dict):
        raise CaptureError("aws --debug request headers: expected a dict")
    makings = [m for m in _MAKING.finditer(log[: send.start()])]
    body = _botocore_body(_literal(makings[-1]["body"], "request body")) if makings else b""
    request = _logged_request(send["method"], send["url"], [(str(n), _as_text(v)) for n, v in headers.items()], body,
                              "aws --debug request")
    after = log[send.end():]
    next_send = _SENDING.search(after)
    after = after[: next_send.start()] if next_send else after
    status = _STATUS.search(after)
    resp_headers = _RESPONSE_HEADERS.search(after)
    resp_body = _RESPONSE_BODY.search(after)
    header_dict = _literal(resp_headers["headers"], "response headers") if resp_headers else {}
    return Capture(
        "aws-debug", request, body_known=bool(makings),
        response_status=int(status["status"]) if status else None,
        response_headers=tuple((str(n), _as_text(v)) for n, v in header_dict.items()) if isinstance(header_dict, dict) else (),
        response_body=_literal(resp_body["body"], "response body") if resp_body else None,
        client_canonical_request=_logged_block(log, "CanonicalRequest", send.start()),
        client_string_to_sign=_logged_block(log, "StringToSign", send.start()),
    )


# -- detection ------------------------------------------------------------------------------

#: (format, detector, reader), tried in order; the first detector that fires picks the reader.
FORMATS: tuple[tuple[str, Callable[[bytes], bool], Callable[[bytes, str], Capture]], ...] = (
    ("har", lambda d: d.lstrip().startswith(b"{"), _read_har),
    ("aws-debug", lambda d: b"Sending http request: <AWSPreparedRequest" in d, _read_aws_debug),
    ("curl", lambda d: re.search(rb"^> [A-Z]+ \S+ HTTP/", d, re.M) is not None, _read_curl),
    ("raw", lambda d: _REQUEST_LINE.match(d) is not None, _read_raw),
)


def parse_capture(data: bytes, *, scheme: str = "https") -> Capture:
    """Detect the capture's format and read the signed request (and response, if any) out of it.

    `scheme` completes an origin-form target (`/path` plus a Host header) into
    a URL. Raises `CaptureError` naming the format tried and what broke.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise CaptureError(f"capture: expected bytes, got {type(data).__name__}")
    for _name, detect, read in FORMATS:
        if detect(bytes(data)):
            return read(bytes(data), scheme)
    raise CaptureError("capture: not raw HTTP, curl -v output, a HAR entry or an aws --debug log "
                       "(no request line, no '> ' lines, no JSON object, no 'Sending http request')")
