"""Rendering a request (and its exchange) for other tools: a curl command line, a HAR entry, a raw response.

Pure: text and values in, text and dicts out. Bodies that are not UTF-8 show
their bytes as `\\xNN` escapes. The session token is not masked here; the
caller redacts what it prints.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

import sigv4

if TYPE_CHECKING:  # only the shape of a finished exchange; no I/O is imported
    from wire.transport.client import Exchange


def body_text(body: bytes) -> str:
    """`body` as text: UTF-8, undecodable bytes as backslash escapes."""
    return body.decode("utf-8", errors="backslashreplace")


def curl_command(request: sigv4.Request, body: bytes) -> str:
    parts = ["curl", "-sS", "--path-as-is", "-X", request.method, shlex.quote(request.url)]
    for name, value in request.headers:
        parts += ["-H", shlex.quote(f"{name}: {value}" if value else f"{name};")]
    if body:
        parts += ["--data-binary", shlex.quote(body_text(body))]
    return " ".join(parts)


def har_entry(request: sigv4.Request, body: bytes, exchange: Exchange | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"request": {
        "method": request.method, "url": request.url, "httpVersion": "HTTP/1.1",
        "headers": [{"name": n, "value": v} for n, v in request.headers],
        "queryString": [{"name": n, "value": v} for n, v in sigv4.canonical.query_pairs(request.query)],
        "bodySize": len(body),
    }}
    if body:
        entry["request"]["postData"] = {"mimeType": request.header("content-type") or "", "text": body_text(body)}
    if exchange is not None:
        entry["response"] = {"status": exchange.status, "statusText": exchange.reason, "httpVersion": "HTTP/1.1",
                             "headers": [{"name": n, "value": v} for n, v in exchange.headers],
                             "content": {"size": len(exchange.body), "text": body_text(exchange.body)}}
        entry["time"] = round(exchange.timing["total_s"] * 1000, 3)
    return entry


def render_response(exchange: Exchange) -> str:
    head = [f"HTTP/1.1 {exchange.status} {exchange.reason}", *(f"{n}: {v}" for n, v in exchange.headers)]
    return "\n".join(head) + "\n\n" + body_text(exchange.body)

