"""The JavaScript SDK v3 as a user prints it: `console.log(args.request)` of a finalizeRequest middleware (the
signed `HttpRequest`), then `console.error(err)` of the service exception (its `$metadata`, and S3's
`StringToSign`/`CanonicalRequest` fields when the server sent them); and mhart/aws4's signed options
(`console.log(opts)`: a plain object with `headers`), then `console.log(res.statusCode, res.headers)` and the body.

Strategy: every `HttpRequest { ... }` printed is read with `wire.debugger.js_inspect` and rebuilt into the
request as it went out: the path as printed (already encoded), the query as the SDK's `buildQueryString`
writes it (keys sorted, SigV4's encoding), the headers in printed order. What follows it up to the next
request is its answer: an error printed with its stack (kept as text for `read_error`, which reads it) or an
output's `$metadata`, whose `httpStatusCode` is the status; after aws4's, a status and a headers object. A body printed as a string is the body; any other
(a stream, a `Uint8Array`) is not shown.
"""

from __future__ import annotations

import re

from sigv4.canonical import uri_encode
from sigv4.types import Request
from wire.debugger.capture.logs import log_text
from wire.debugger.capture.value import Capture, CaptureError
from wire.debugger.js_inspect import JsInspectError, Value, read_value

JS_REQUEST_MARK = re.compile(r"^HttpRequest \{", re.M)
#: mhart/aws4's signed options, `console.log(opts)`: a plain object at a line's start.
_OPTIONS_MARK = re.compile(r"^\{\n", re.M)
_STATUS = re.compile(r"httpStatusCode: (\d{3})\b")
#: `console.log(res.statusCode, res.headers)` after an aws4 request.
_STATUS_AND_HEADERS = re.compile(r"^(\d{3}) (?=\{)", re.M)


def is_js_print(data: bytes) -> bool:
    """Whether `data` is Node's print of a JavaScript SDK `HttpRequest` or of aws4's signed options."""
    return re.search(rb"^HttpRequest \{", data, re.M) is not None or (
        data.lstrip().startswith(b"{") and re.search(rb"^  headers: \{", data, re.M) is not None)


def _text(value: Value) -> str:
    return value if isinstance(value, str) and value not in ("undefined", "null") else ""


def _query(query: Value) -> str:
    """The query as @smithy's `buildQueryString` writes it: keys sorted, each value encoded, a list repeated."""
    parts = []
    for key, value in sorted(query.items()) if isinstance(query, dict) else ():
        for item in value if isinstance(value, list) else [value]:
            parts.append(uri_encode(key, keep_slash=False)
                         + (f"={uri_encode(_text(item), keep_slash=False)}" if _text(item) or item == "" else ""))
    return "&".join(parts)


def _request(printed: dict[str, Value], scheme: str) -> tuple[Request, bool]:
    """The request as sent, and whether its body is known."""
    headers = printed.get("headers")
    pairs = [(name, _text(value)) for name, value in headers.items()] if isinstance(headers, dict) else []
    host, port = _text(printed.get("hostname")) or _text(printed.get("host")), _text(printed.get("port"))
    host += f":{port}" if port and not host.endswith(f":{port}") else ""
    query = _query(printed.get("query"))  # aws4 keeps its query in `path`
    url = (f"{_text(printed.get('protocol')) or scheme + ':'}//{host}{_text(printed.get('path')) or '/'}"
           + (f"?{query}" if query else ""))
    body = printed.get("body")
    # `undefined` is no body; a stream or a `Uint8Array` prints as something else than a string: not shown.
    return Request(_text(printed.get("method")) or "GET", url, pairs, _text(body).encode()), isinstance(body, str)


def _answer(after: str) -> tuple[int | None, tuple[tuple[str, str], ...], bytes | None]:
    """(status, headers, body) of what was printed after a request: an SDK error or output (the text, which
    `read_error` reads, with `$metadata`'s status), or aws4's `res.statusCode, res.headers` and the body."""
    if status := _STATUS.search(after):
        return int(status[1]), (), after.strip().encode()
    if line := _STATUS_AND_HEADERS.search(after):
        try:
            headers, end = read_value(after, line.end())
        except JsInspectError:
            return int(line[1]), (), after[line.end():].strip().encode()
        pairs = tuple((k, _text(v)) for k, v in headers.items()) if isinstance(headers, dict) else ()
        return int(line[1]), pairs, after[end:].strip().encode()
    return None, (), None


def read_js_sdk(data: bytes, scheme: str) -> list[Capture]:
    """Every printed `HttpRequest` (or, without one, every printed aws4 options object), each with the answer
    printed after it when there is one. Raises `CaptureError` for a broken print or one of no signed request."""
    text = log_text(data)
    printed_requests = []
    sdk = JS_REQUEST_MARK.search(text) is not None
    for index, mark in enumerate(JS_REQUEST_MARK.finditer(text) if sdk else _OPTIONS_MARK.finditer(text)):
        try:
            printed, end = read_value(text, mark.start() + mark.group().index("{"))
        except JsInspectError as err:
            raise CaptureError(f"js-sdk capture: request {index + 1}: {err}") from None
        if isinstance(printed, dict) and isinstance(printed.get("headers"), dict):  # aws4's: not any object
            printed_requests.append((printed, mark.start(), end))
    captures = []
    for index, (printed, _, end) in enumerate(printed_requests):
        request, known = _request(printed, scheme)
        after = text[end:printed_requests[index + 1][1] if index + 1 < len(printed_requests) else len(text)]
        captures.append(Capture("js-sdk", request, known, *_answer(after)))
    if captures and not any(c.request.header("authorization") or "X-Amz-Signature=" in c.request.query
                            for c in captures):
        if not sdk:  # aws4 signs the options object in place: printed unsigned, it was printed before `aws4.sign`
            raise CaptureError("js-sdk capture: the options printed carry no signature: print them after "
                               "`aws4.sign(opts, credentials)`")
        # A middleware added at the `build` step (the default) prints the request before the SDK signs it.
        raise CaptureError("js-sdk capture: the HttpRequest printed carries no signature: it was printed before the "
                           "SDK signed it; add the middleware with `{ step: \"finalizeRequest\", priority: \"low\" }`")
    return captures
