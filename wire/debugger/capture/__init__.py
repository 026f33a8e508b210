"""Read an already-signed request out of what the user saved: raw HTTP (with the response after it, or
not), a lone URL, `curl -v` and `sigv4 send -v`, `curl --trace[-ascii]`, a HAR log or entry (browsers,
recording proxies, `send --har`, `send --json`), a `sign --json` record, `aws --debug` (botocore's log), `awscurl -v`,
the JavaScript SDK's printed `HttpRequest` and error.

Strategy: a table of (format, detector, reader), one module per format
(`raw`, `curl`, `curl_trace`, `har`, `aws_debug`, `awscurl`, `js_sdk`). The detectors look at
cheap, unambiguous marks (a JSON object with `log`/`request`/`method`;
awscurl's `'\\nBEGIN REQUEST+` line; botocore's "Sending http request:
<AWSPreparedRequest" line; Node's `HttpRequest {` at a line's start or a printed
object with `headers: {`; curl's `=> Send header` blocks or `> ` request
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

import json
import re
from collections.abc import Callable
from dataclasses import replace

from wire.debugger.capture.aws_debug import read_aws_debug
from wire.debugger.capture.awscurl import AWSCURL_MARK, read_awscurl
from wire.debugger.capture.curl import read_curl
from wire.debugger.capture.curl_trace import read_trace
from wire.debugger.capture.har import read_har
from wire.debugger.capture.js_sdk import is_js_print, read_js_sdk
from wire.debugger.capture.raw import LONE_URL, REQUEST_LINE, read_raw
from wire.debugger.capture.value import Capture, CaptureError
from wire.debugger.complaint import read_error, response_date

__all__ = ["FORMATS", "Capture", "CaptureError", "Reader", "parse_capture", "read_response", "response_date"]


Reader = Callable[[bytes, str], list[Capture]]
#: (format, detector, reader), tried in order; the first detector that fires picks the reader.
FORMATS: tuple[tuple[str, Callable[[bytes], bool], Reader], ...] = (
    ("js-sdk", is_js_print, read_js_sdk),
    ("har", lambda d: d.lstrip().startswith(b"{") and AWSCURL_MARK not in d, read_har),
    ("awscurl", lambda d: AWSCURL_MARK in d, read_awscurl),
    ("aws-debug", lambda d: b"Sending http request: <AWSPreparedRequest" in d, read_aws_debug),
    ("curl-trace", lambda d: re.search(rb"^=> Send header, \d+ bytes", d, re.M) is not None, read_trace),
    ("curl", lambda d: re.search(rb"^> [A-Z]+ \S+ HTTP/", d, re.M) is not None, read_curl),
    ("raw", lambda d: REQUEST_LINE.match(d) is not None or LONE_URL.fullmatch(d.strip()) is not None, read_raw),
)


def _failed(capture: Capture) -> bool:
    """A 4xx/5xx answer; without a status (botocore's own logger, `boto3.set_stream_logger("botocore")`, logs
    the body but not urllib3's status line), a body that names an error."""
    if capture.response_status is not None:
        return capture.response_status >= 400
    return bool(capture.response_body) and bool(read_error(None, capture.response_headers,
                                                           capture.response_body or b"").code)


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
    status = chosen.response_status or ("status not logged" if chosen.response_body is not None else "no response")
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
