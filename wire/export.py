"""Rendering requests and responses for people and other tools: the exact HTTP bytes of a request, a curl
command line, a HAR entry, a `send --json` record, a `send -v` transcript, a raw response, a one-line service
error, decoded output as JSON.

Pure: text and values in, text and dicts out. Bodies that are not UTF-8 show
their bytes as `\\xNN` escapes where people read them; where a tool reads them
back they stay bytes (the curl command pipes them through `printf`, HAR and
`sign --json` hold them in base64). The session token is not masked here; the caller redacts what
it prints.
"""

from __future__ import annotations

import base64
import shlex
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sigv4
from sigv4.raw import RawRequest, render_request
from sigv4.types import iter_body
from wire.errors import ServiceError

if TYPE_CHECKING:  # only the shape of a finished exchange; no I/O is imported
    from wire.transport.client import Exchange


def body_text(body: bytes) -> str:
    """`body` as text: UTF-8, undecodable bytes as backslash escapes."""
    return body.decode("utf-8", errors="backslashreplace")


def curl_command(request: sigv4.Request, body: bytes, body_file: str | None = None) -> str:
    """A shell command that sends `request` with curl as signed: its method, URL and headers, then `body`, or the
    bytes of the file named `body_file` (`--data-binary @FILE`). A body that is not UTF-8 text, or holds a NUL
    (no shell argument can), or starts with `@` (curl's file name), is written as a `printf` format piped to curl's
    stdin, so every byte arrives."""
    # --globoff: curl reads `[1]` and `{a,b}` in a URL as ranges and sets of URLs to fetch, not as themselves.
    parts = ["curl", "-sS", "--path-as-is", "-X", request.method, shlex.quote(request.url), "--globoff"]
    for name, value in request.headers:
        parts += ["-H", shlex.quote(f"{name}: {value}" if value else f"{name};")]
    if (body or body_file) and request.header("content-type") is None:
        parts += ["-H", "Content-Type:"]  # else curl sends a body as a form (S3 would store that type, moto parse it)
    if body_file is not None:
        return " ".join([*parts, "--data-binary", shlex.quote("@" + body_file)])
    if (text := _argument_text(body)) is None:
        return f"printf {shlex.quote(_printf_format(body))} | " + " ".join([*parts, "--data-binary", "@-"])
    return " ".join([*parts, "--data-binary", shlex.quote(text)] if body else parts)


def _argument_text(body: bytes) -> str | None:
    """`body` as the text of a shell argument, or None when no argument can hold it (not UTF-8, or a NUL) or curl
    would not send it as given (`--data-binary @...` names a file to read)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if "\0" in text or text.startswith("@") else text


def _printf_format(data: bytes) -> str:
    """A POSIX `printf` format that prints exactly `data`: printable ASCII as itself, `%` and `\\` doubled, every
    other byte as a three-digit octal escape."""
    return "".join(chr(b) if 0x20 <= b < 0x7F and b not in b"%\\" else "%%" if b == 0x25 else "\\\\" if b == 0x5C
                   else f"\\{b:03o}" for b in data)


def har_entry(request: sigv4.Request, body: bytes, exchange: Exchange | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"request": {
        "method": request.method, "url": request.url, "httpVersion": "HTTP/1.1",
        "headers": [{"name": n, "value": v} for n, v in request.headers],
        "queryString": [{"name": n, "value": v} for n, v in sigv4.canonical.query_pairs(request.query)],
        "bodySize": len(body),
    }}
    if body:
        entry["request"]["postData"] = {"mimeType": request.header("content-type") or "", **_har_text(body)}
    if exchange is not None:
        entry["response"] = {"status": exchange.status, "statusText": exchange.reason, "httpVersion": "HTTP/1.1",
                             "headers": [{"name": n, "value": v} for n, v in exchange.headers],
                             "content": {"size": len(exchange.body), **_har_text(exchange.body)}}
        entry["time"] = round(exchange.timing["total_s"] * 1000, 3)
    return entry


def signed_request_fields(message: bytes) -> dict[str, str]:
    """`sign --json`'s signed request: `{"signed_request": text}` for a UTF-8 `message`, else its bytes in base64
    with `"signed_request_encoding": "base64"` (HAR's convention), so the bytes saved are the bytes signed."""
    fields = _har_text(message)
    return {"signed_request": fields["text"], **({"signed_request_encoding": "base64"} if "encoding" in fields else {})}


def _har_text(body: bytes) -> dict[str, str]:
    """A HAR body: its UTF-8 text, or one that is not UTF-8 in base64 with `"encoding": "base64"` (as browsers
    write binary content, and `sigv4 explain` reads it), so the bytes signed are the bytes read back."""
    try:
        return {"text": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"text": base64.b64encode(body).decode("ascii"), "encoding": "base64"}


def send_record(request: sigv4.Request, exchange: Exchange) -> dict[str, Any]:
    """The `sigv4 send --json` record: the HAR request (a streamed body, not kept, as empty) and response, and the
    exchange's timing."""
    entry = har_entry(request, request.body if isinstance(request.body, bytes) else b"", exchange)
    return {"request": entry["request"], "response": entry["response"], "timing": exchange.timing}


def transcript(exchange: Exchange) -> list[str]:
    """`sigv4 send -v`: the headers the client added, then the bytes sent (`> ` lines) and received (`< ` lines)."""
    added = [f"* added {name}: {value}" for name, value in exchange.added_headers]
    return added + [f"{mark} " + body_text(bytes(data)).replace("\n", f"\n{mark} ")
                    for mark, data in ((">", exchange.sent), ("<", exchange.received))]


def render_response(exchange: Exchange) -> str:
    head = [f"HTTP/1.1 {exchange.status} {exchange.reason}", *(f"{n}: {v}" for n, v in exchange.headers)]
    return "\n".join(head) + "\n\n" + body_text(exchange.body)


def body_bytes(request: sigv4.Request) -> bytes:
    """The request's body whole (an aws-chunked stream or a file read out)."""
    return request.body if isinstance(request.body, bytes) else b"".join(iter_body(request.body))


def http_message(request: sigv4.Request, raw: RawRequest | None = None) -> bytes:
    """The request's bytes as sent: head (in `raw`'s style when given), blank line, body. Reads a streamed body."""
    body = body_bytes(request)
    message = render_request(request, raw, body)
    return message if body else message + ((raw.newline if raw else "\r\n") * 2).encode()


def service_error_line(err: ServiceError, reason: str, body: bytes, *, cap: int = 500) -> str:
    """One line for a service error: its code and message, or, when the body named neither (the code is the
    status: an empty body, an HTML page), the status, the request id and the body as text (its first `cap`
    characters), line ends escaped."""
    if err.code and (err.message or err.code != str(err.status)):
        return f"{err.code}: {err.message}" if err.message else f"{err.code} (HTTP {err.status})"
    text = body_text(body).replace("\r", "\\r").replace("\n", "\\n")
    text, more = text[:cap], f" … ({len(body)} bytes)" if len(text) > cap else ""
    status = f"{err.status} {reason}" if reason else str(err.status)  # a server may send no reason phrase
    return f"HTTP {status}, request id {err.request_id or '(none)'}: {text + more if text else '(empty body)'}"


def json_default(value: Any) -> Any:
    """`json.dumps(default=)` for decoded output: timestamps as ISO 8601, blobs as base64."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(type(value).__name__)
