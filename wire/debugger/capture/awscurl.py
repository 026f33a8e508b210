"""`awscurl -v` captures: its arguments, the canonical request and string-to-sign, the headers, the answer.

Strategy: awscurl logs every value with `pprint`, so the text is cut into
pprint chunks and each is read as a Python literal (never `eval`); the
labels before and inside them say what each is. Its secret key, printed
among the arguments, is never kept.
"""

from __future__ import annotations

import re
from typing import Any

from wire.debugger.capture.logs import literal_eval, log_text, logged_request
from wire.debugger.capture.value import Capture, CaptureError


AWSCURL_MARK = b"'\\nBEGIN REQUEST+"


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
        return literal_eval(chunk)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def read_awscurl(data: bytes, scheme: str) -> list[Capture]:
    """awscurl -v (its stderr, with the body on stdout after it when both were saved): the arguments (method,
    data and URL; its secret key is printed there too and is never kept), the canonical request and
    string-to-sign it computed, the headers it sent, the response code, headers and body."""
    chunks = _pprint_chunks(log_text(data))
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
    request = logged_request(found.get("method", "GET"), found["url"], found["headers"],
                              found.get("data", "").encode("utf-8"), "awscurl request")
    status = found.get("status", "")
    return [Capture("awscurl", request, body_known="data" in found,
                    response_status=int(status) if re.fullmatch(r"[0-9]{3}", status) else None,
                    response_headers=found.get("response_headers", ()),
                    response_body=after.encode("utf-8") if after else None,
                    client_canonical_request=found.get("canonical"), client_string_to_sign=found.get("string_to_sign"))]
