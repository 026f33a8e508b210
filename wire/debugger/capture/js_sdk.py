"""The JavaScript SDK v3 as a user prints it: `console.log(args.request)` of a finalizeRequest middleware (the
signed `HttpRequest`), then `console.error(err)` of the service exception (its `$metadata`, and S3's
`StringToSign`/`CanonicalRequest` fields when the server sent them).

Strategy: every `HttpRequest { ... }` printed is read with `wire.debugger.js_inspect` and rebuilt into the
request as it went out: the path as printed (already encoded), the query as the SDK's `buildQueryString`
writes it (keys sorted, SigV4's encoding), the headers in printed order. What follows it up to the next
request is its answer: an error printed with its stack (kept as text for `read_error`, which reads it) or an
output's `$metadata`, whose `httpStatusCode` is the status. A body printed as a string is the body; any other
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
_STATUS = re.compile(r"httpStatusCode: (\d{3})\b")


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


def _request(printed: dict[str, Value]) -> tuple[Request, bool]:
    """The request as sent, and whether its body is known."""
    headers = printed.get("headers")
    pairs = [(name, _text(value)) for name, value in headers.items()] if isinstance(headers, dict) else []
    host = _text(printed.get("hostname")) + (f":{_text(printed.get('port'))}" if _text(printed.get("port")) else "")
    query = _query(printed.get("query"))
    url = (f"{_text(printed.get('protocol')) or 'https:'}//{host}{_text(printed.get('path')) or '/'}"
           + (f"?{query}" if query else ""))
    body = printed.get("body")
    # `undefined` is no body; a stream or a `Uint8Array` prints as something else than a string: not shown.
    return Request(_text(printed.get("method")) or "GET", url, pairs, _text(body).encode()), isinstance(body, str)


def read_js_sdk(data: bytes, scheme: str) -> list[Capture]:
    """Every printed `HttpRequest`, each with the answer printed after it (an error with its stack, or an
    output's `$metadata`) when there is one."""
    text = log_text(data)
    starts = [m.start() for m in JS_REQUEST_MARK.finditer(text)]
    captures = []
    for index, start in enumerate(starts):
        try:
            printed, end = read_value(text, start)
        except JsInspectError as err:
            raise CaptureError(f"js-sdk capture: request {index + 1}: {err}") from None
        if not isinstance(printed, dict):
            raise CaptureError(f"js-sdk capture: request {index + 1} is not a printed object")
        request, known = _request(printed)
        after = text[end:starts[index + 1] if index + 1 < len(starts) else len(text)]
        status = _STATUS.search(after)
        captures.append(Capture("js-sdk", request, known, int(status[1]) if status else None, (),
                                after.strip().encode() if status else None))
    if captures and not any(c.request.header("authorization") or "X-Amz-Signature=" in c.request.query
                            for c in captures):
        # A middleware added at the `build` step (the default) prints the request before the SDK signs it.
        raise CaptureError("js-sdk capture: the HttpRequest printed carries no signature: it was printed before the "
                           "SDK signed it; add the middleware with `{ step: \"finalizeRequest\", priority: \"low\" }`")
    return captures
