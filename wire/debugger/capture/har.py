"""HAR captures: a whole log (browsers, recording proxies, `send --har`), one entry, or a bare request
(`send --json`); and the JSON record of `sign --json`, whose `signed_request` is the raw request.

Strategy: the JSON is walked with a type check at every step, so a malformed
file is a `CaptureError` naming the field; of a whole log, the signed entries
are the choice. Bodies may be base64; a body left out while a length is
declared is marked unknown.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from wire.debugger.capture.logs import logged_request
from wire.debugger.capture.raw import read_raw
from wire.debugger.capture.value import Capture, CaptureError


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
    return Capture("har", logged_request(method, url, headers, body, "HAR request"), body_known=body_known,
                   response_status=status or None, response_headers=resp_headers, response_body=resp_body)


def _sign_record_request(doc: dict[str, Any]) -> bytes:
    """The raw request of a `sign --json` record: `signed_request`, base64 when `signed_request_encoding` says so."""
    text = doc["signed_request"]
    if doc.get("signed_request_encoding") != "base64":
        return str(text).encode("utf-8")
    try:
        return base64.b64decode(str(text), validate=True)
    except (ValueError, binascii.Error):
        raise CaptureError("sign --json record: `signed_request_encoding` is base64 but the text is not") from None


def read_har(data: bytes, scheme: str) -> list[Capture]:
    """One capture per entry to choose from (`_har_entries`), or the request of a `sign --json` record; raises
    CaptureError for JSON that is neither."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as err:
        raise CaptureError(f"HAR: not JSON ({err})") from None
    if isinstance(doc, dict) and isinstance(doc.get("signed_request"), str):
        return read_raw(_sign_record_request(doc), scheme)
    return [_har_capture(entry) for entry in _har_entries(doc)]
