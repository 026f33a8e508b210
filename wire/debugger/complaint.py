"""Read an AWS authentication error, whatever envelope it came in, into one value.

Strategy: two passes. First the envelope: a table of readers (a raw HTTP
response is split first; then XML with `Error`, `ErrorResponse` or
`Response/Errors` roots, JSON with `__type`/`code`/`errors[]`/
`x-amzn-ErrorType`, the JavaScript SDK's printed exception, else plain text) each turns the bytes into a code, a
message and the envelope's named fields. Then the facts: a table of regular
expressions over the message (the canonical request and string-to-sign the
server computed, the time window, the expected region or service, the parts
an incomplete signature lacks) and a table of fields (S3's `StringToSign`,
`RequestTime`, `S3ComputedContentSHA256`...). The kind of complaint comes
from a first-match table too. Reading is total: any bytes give a
`ServerComplaint`, at worst of kind "other" with envelope "text".

Where S3 sends both the text and the hex dump (`CanonicalRequestBytes`), the
hex dump wins: XML parsing turns CR LF into LF and so loses exactly the
bytes a signature mismatch is often about.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from sigv4.bounded import utc
from sigv4.clock_skew import EXPIRED_MESSAGE as _EXPIRED, NOT_YET_MESSAGE as _NOT_YET, SKEW_RULES
from sigv4.raw import dechunk
from wire import xml
from wire.debugger.js_inspect import JsInspectError, printed_errors
from wire.errors import DecodeError
from wire.jsonproto import sanitize_error_code
from wire.scalars import parse_timestamp


@dataclass(frozen=True, slots=True)
class ServerComplaint:
    """What the server said, in our vocabulary. Fields the server did not send are None."""

    status: int | None
    #: Where it came from: "s3-xml", "query-xml", "ec2-xml", "json", "js", "text" or "empty".
    envelope: str
    code: str
    message: str
    #: What went wrong: see `KIND_RULES` (e.g. "signature-mismatch", "signature-expired").
    kind: str
    canonical_request: str | None = None
    string_to_sign: str | None = None
    signature_provided: str | None = None
    access_key_id: str | None = None
    #: The request time as the server read it, the server's clock, the allowed skew.
    request_time: datetime | None = None
    server_time: datetime | None = None
    allowed_skew: timedelta | None = None
    #: Presigned URLs: when the URL stopped being valid.
    expires_at: datetime | None = None
    region_sent: str | None = None
    region_expected: str | None = None
    service_expected: str | None = None
    scope_date_sent: str | None = None
    scope_date_expected: str | None = None
    client_sha256: str | None = None
    server_sha256: str | None = None
    #: IncompleteSignature: the parts the server says are missing.
    missing: tuple[str, ...] = ()
    #: S3's HeadersNotSigned: headers the request carries that must be signed and were not.
    unsigned_headers: tuple[str, ...] = ()
    #: Headers SignedHeaders lists that the request did not carry when it arrived (`sigv4.verify`'s words, which
    #: `sigv4 serve` and `sigv4 proxy --verify` answer with).
    absent_signed_headers: tuple[str, ...] = ()
    #: The server said the credential scope's region is not valid (IAM: "scoped to a valid region").
    region_invalid: bool = False
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)


@dataclass(frozen=True, slots=True)
class _Envelope:
    name: str
    code: str
    message: str
    fields: Mapping[str, str]
    #: The status the envelope itself states (the JavaScript SDK's `$metadata.httpStatusCode`).
    status: int | None = None


def response_date(headers: Iterable[tuple[str, str]]) -> datetime | None:
    """The response's `Date` header as an aware UTC datetime; None when absent or unreadable."""
    value = next((v for n, v in headers if n.lower() == "date"), None)
    if not value:
        return None
    try:
        return utc(parsedate_to_datetime(value))
    except (TypeError, ValueError, IndexError, OverflowError):  # utc: ValueError past year 9999 with an offset
        return None


# -- the raw HTTP response ---------------------------------------------------

_STATUS_LINE = re.compile(rb"HTTP/\d(?:\.\d)? (\d{3})(?: [^\r\n]*)?\Z")


def split_response(data: bytes) -> tuple[int, list[tuple[str, str]], bytes] | None:
    """(status, headers, body) when `data` is a whole HTTP/1.x response, else None.

    A chunked body is de-chunked; one that does not de-chunk is kept as sent.
    """
    for newline in (b"\r\n", b"\n"):
        head, sep, body = data.partition(newline * 2)
        lines = head.split(newline)
        match = _STATUS_LINE.match(lines[0])
        if match:
            break
    else:
        return None
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, colon, value = line.decode("latin-1").partition(":")
        if colon and name and " " not in name:
            headers.append((name, value.strip()))
    if any(n.lower() == "transfer-encoding" and "chunked" in v.lower() for n, v in headers):
        walked = dechunk(body)
        body = walked[0] if walked else body
    return int(match.group(1)), headers, body


# -- envelopes -----------------------------------------------------------------

#: XML root (local name) -> envelope name. The element holding Code/Message is
#: the first `Error` found breadth-first (S3: the root; Query: `ErrorResponse/Error`;
#: EC2: `Response/Errors/Error`; moto: `ErrorResponse/Errors/Error`).
_XML_ROOTS: dict[str, str] = {"Error": "s3-xml", "ErrorResponse": "query-xml", "Response": "ec2-xml"}


def _error_node(root: xml.Node) -> xml.Node:
    level = [root]
    while level:
        found = next((node for node in level if node.tag == "Error"), None)
        if found is not None:
            return found
        level = [child for node in level for child in node.children]
    return root


def _read_xml(body: bytes, headers: Mapping[str, str]) -> _Envelope | None:
    if not body.lstrip().startswith(b"<"):
        return None
    try:
        root = xml.parse(body)
    except DecodeError:
        return None
    name = _XML_ROOTS.get(root.tag)
    if name is None:
        return None
    fields = {child.tag: child.text for child in _error_node(root).children if not child.children}
    return _Envelope(name, fields.get("Code", ""), fields.get("Message", ""), fields)


def _json_text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _read_json(body: bytes, headers: Mapping[str, str]) -> _Envelope | None:
    if not body.lstrip().startswith(b"{"):
        return None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    errors = data.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    # Services disagree on the key; the one holding the canonical string wins.
    messages = [_json_text(src.get(key)) for src in (data, first)
                for key in ("message", "Message", "errorMessage", "detailedMessage", "details")]
    messages = [m for m in messages if m]
    message = next((m for m in messages if "should have been" in m), messages[0] if messages else "")
    raw_code = next((c for c in (headers.get("x-amzn-errortype"), _json_text(data.get("__type")),
                                 _json_text(data.get("code")), _json_text(data.get("Code")),
                                 _json_text(first.get("code"))) if c), "")
    fields = {str(k): v for k, v in data.items() if isinstance(v, str)}
    return _Envelope("json", sanitize_error_code(raw_code), message, fields)


def _read_text(body: bytes, headers: Mapping[str, str]) -> _Envelope:
    text = body.decode("utf-8", errors="replace").strip()
    if re.search(r"<[A-Za-z][^<>]*>", text):
        # An XML body that did not parse (cut short, or with capture noise in it): its
        # escapes still stand for characters, and `&amp;` read as text would invent a
        # query parameter `amp;x` in the canonical request.
        text = html.unescape(text)
    code = sanitize_error_code(headers.get("x-amzn-errortype", ""))
    if not code and (client_error := _CLIENT_ERROR.match(text)):  # botocore's ClientError, as a script prints it
        code, text = client_error["code"], client_error["message"]
    return _Envelope("text" if text or code else "empty", code, text, {})


#: `str(botocore.exceptions.ClientError)`, what a script's traceback or `print(e)` shows of the answer.
_CLIENT_ERROR = re.compile(r"(?:botocore\.exceptions\.ClientError: )?An error occurred \((?P<code>[A-Za-z0-9.]{1,128})\) "
                           r"when calling the \w+ operation(?: \(reached max retries: \d+\))?: (?P<message>.*)", re.S)


def _read_js_error(body: bytes, headers: Mapping[str, str]) -> _Envelope | None:
    """The JavaScript SDK's exception as `console.error(err)` prints it: the last error with a stack, its code
    (S3's `Code`, a JSON service's `__type`, else the error's name), message and string properties."""
    if b"\n    at " not in body:
        return None
    try:
        printed = printed_errors(body.decode("utf-8", errors="replace"))
    except JsInspectError:
        return None
    if not printed:
        return None
    error = printed[-1]
    fields = {k: v for k, v in error.props.items() if isinstance(v, str)}
    metadata = error.props.get("$metadata")
    status = metadata.get("httpStatusCode") if isinstance(metadata, dict) else None
    code = fields.get("Code") or fields.get("__type") or error.name
    # An HTTP status is three ASCII digits (str.isdigit also takes `²`, which int() refuses).
    return _Envelope("js", sanitize_error_code(code), error.message.strip(), fields,
                     int(status) if isinstance(status, str) and re.fullmatch("[1-5][0-9]{2}", status) else None)


_ENVELOPE_READERS: tuple[Callable[[bytes, Mapping[str, str]], _Envelope | None], ...] = (_read_xml, _read_json,
                                                                                        _read_js_error)


# -- facts in the message and fields ----------------------------------------------

_CANONICAL_AND_STS = re.compile(
    r"Canonical String for this request should have been\s*'(?P<canonical>.*?)'\s*"
    r"The String-to-Sign should have been\s*'(?P<sts>[^']*)'", re.S)
_STS_ONLY = re.compile(r"String-to-Sign should have been\s*'(?P<sts>[^']*)'", re.S)
#: A presigned request past its lifetime, in `sigv4 serve`'s words.
_PRESIGNED_EXPIRED = re.compile(r"Signature expired: (?P<exp>\S+) is now earlier than (?P<srv>\S+) \(X-Amz-Date")
_REGION_WRONG = re.compile(r"the region '(?P<sent>[^']*)' is wrong; expecting '(?P<expected>[^']*)'")
_SCOPE_REGION = re.compile(r"scoped to a valid region(?:, not '(?P<sent>[^']*)')?", re.I)
_SCOPE_SERVICE = re.compile(r"scoped to correct service: '(?P<expected>[^']*)'", re.I)
_SCOPE_DATE = re.compile(r"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                         r"'(?P<sent>[^']*)' != '(?P<expected>[^']*)'")
_REQUIRES_PARAM = re.compile(r"requires '(?P<part>[^']+)' parameter")
_REQUIRES_DATE = re.compile(r"requires existence of either a '(?P<part>[^']+)' or a 'Date' header")
_NOT_SIGNED = re.compile(r"headers present in the request which were not signed", re.I)
_SIGNED_ABSENT = re.compile(r"SignedHeaders: (?P<names>[^.;]+?) listed but absent from the request")
_HOST_SIGNED = re.compile(r"'Host' (?:or ':authority' )?must be a 'SignedHeader'")
#: `sigv4 serve`'s (and `sigv4.verify`'s) words for a body whose hash is not the declared one.
_CONTENT_SHA256 = re.compile(r"x-amz-content-sha256 header: (?P<client>[0-9a-f]{64}) does not match the body's "
                             r"SHA-256 (?P<server>[0-9a-f]{64})")
_HEX_DUMP = re.compile(r"[0-9a-fA-F]{2}(?:\s+[0-9a-fA-F]{2})*\Z")


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return parse_timestamp(text)
    except DecodeError:
        return None


def _hex_dump(text: str | None) -> str | None:
    """Decode S3's space-separated hex dump (`47 45 54 0a ...`); None when it is not one."""
    text = (text or "").strip()
    if not _HEX_DUMP.match(text):
        return None
    try:
        return bytes.fromhex(text).decode("utf-8")
    except ValueError:
        return None


def _exact(fields: Mapping[str, str], name: str) -> str | None:
    """A canonical string from S3's fields: the hex dump when it decodes, else the text."""
    text = _hex_dump(fields.get(name + "Bytes")) or fields.get(name)
    return text.strip() if text and text.strip() else None


# ASCII digits only (str.isdigit also takes '²', which int() refuses), and few enough for a timedelta.
_SMALL_INT = re.compile(r"\s*([0-9]{1,12})\s*\Z")


def _int(text: str | None) -> int | None:
    match = _SMALL_INT.match(text or "")
    return int(match[1]) if match else None


def _facts(env: _Envelope) -> dict[str, Any]:
    """Every fact the message and fields hold, as ServerComplaint keyword arguments."""
    msg, fields = env.message, env.fields
    facts: dict[str, Any] = {
        "canonical_request": _exact(fields, "CanonicalRequest"),
        "string_to_sign": _exact(fields, "StringToSign"),
        "signature_provided": (fields.get("SignatureProvided") or "").strip() or None,
        "access_key_id": (fields.get("AWSAccessKeyId") or "").strip() or None,
        "request_time": _time(fields.get("RequestTime")),
        "server_time": _time(fields.get("ServerTime")),
        "expires_at": _time(fields.get("Expires")),
        "region_expected": fields.get("Region") or None,
        "client_sha256": fields.get("ClientComputedContentSHA256") or None,
        "server_sha256": fields.get("S3ComputedContentSHA256") or None,
    }
    skew_ms = _int(fields.get("MaxAllowedSkewMilliseconds"))
    if skew_ms is not None:
        facts["allowed_skew"] = timedelta(milliseconds=skew_ms)
    if match := _CANONICAL_AND_STS.search(msg):
        facts["canonical_request"] = match["canonical"].strip()
        facts["string_to_sign"] = match["sts"].strip()
    elif match := _STS_ONLY.search(msg):
        facts["string_to_sign"] = match["sts"].strip()
    for pattern in (_EXPIRED, _NOT_YET):
        if match := pattern.search(msg):
            facts["request_time"] = _time(match["req"])
            facts["server_time"] = _time(match["srv"])
            facts["allowed_skew"] = timedelta(minutes=int(match["win"]))
    if match := _PRESIGNED_EXPIRED.search(msg):
        facts["expires_at"] = _time(match["exp"])  # its "now" is left to the Date header, as for other answers
    if match := _REGION_WRONG.search(msg):
        facts["region_sent"], facts["region_expected"] = match["sent"], match["expected"]
    elif match := _SCOPE_REGION.search(msg):
        facts["region_sent"] = match["sent"]
    if match := _CONTENT_SHA256.search(msg):
        facts["client_sha256"], facts["server_sha256"] = match["client"], match["server"]
    if match := _SCOPE_SERVICE.search(msg):
        facts["service_expected"] = match["expected"]
    if match := _SCOPE_DATE.search(msg):
        facts["scope_date_sent"], facts["scope_date_expected"] = match["sent"], match["expected"]
    missing = [m["part"] for m in _REQUIRES_PARAM.finditer(msg)]
    missing += [m["part"] for m in _REQUIRES_DATE.finditer(msg)]
    if _HOST_SIGNED.search(msg):
        missing.append("host")
    facts["missing"] = tuple(missing)
    if match := _SIGNED_ABSENT.search(msg):
        facts["absent_signed_headers"] = tuple(n.strip().lower() for n in match["names"].split(",") if n.strip())
    unsigned = fields.get("HeadersNotSigned") or ""
    facts["unsigned_headers"] = tuple(h.strip().lower() for h in unsigned.split(",") if h.strip())
    facts["region_invalid"] = _SCOPE_REGION.search(msg) is not None
    return facts


#: (kind, codes, message pattern): the first row whose code is listed or whose
#: pattern matches the message names the complaint. Message rows come before
#: the generic signature codes because InvalidSignatureException also carries
#: the time and scope complaints.
KIND_RULES: tuple[tuple[str, frozenset[str], re.Pattern[str] | None], ...] = (
    *SKEW_RULES,  # a wrong client clock's answers, as the signers' edge reads them too
    # Before the codes it comes with (S3's AuthorizationHeaderMalformed, IncompleteSignatureException).
    ("signed-header-absent", frozenset(), _SIGNED_ABSENT),
    ("wrong-region", frozenset({"AuthorizationHeaderMalformed"}), _REGION_WRONG),
    ("wrong-scope", frozenset(), re.compile(r"Credential should be scoped|Date in Credential scope", re.I)),
    ("payload-hash", frozenset({"XAmzContentSHA256Mismatch"}), re.compile(rf"x-amz-content-sha256' header does not match|{_CONTENT_SHA256.pattern}")),
    ("headers-not-signed", frozenset(), _NOT_SIGNED),
    # S3 (400 InvalidRequest) for a header-signed request without it: curl's `--aws-sigv4` sends none.
    ("missing-content-sha256", frozenset(), re.compile(r"Missing required header for this request: "
                                                       r"x-amz-content-sha256", re.I)),
    ("missing-authentication", frozenset({"MissingAuthenticationTokenException", "MissingAuthenticationToken"}),
     re.compile(r"Missing Authentication Token", re.I)),
    ("incomplete-signature", frozenset({"IncompleteSignature", "IncompleteSignatureException"}),
     re.compile(r"requires '[^']+' parameter|requires existence of|must be a 'SignedHeader'")),
    ("token-expired", frozenset({"ExpiredToken", "ExpiredTokenException"}),
     re.compile(r"security token included in the request is expired", re.I)),
    ("token-invalid", frozenset({"InvalidToken"}), re.compile(r"security token included in the request is invalid", re.I)),
    ("unknown-access-key", frozenset({"InvalidAccessKeyId", "InvalidClientTokenId", "UnrecognizedClientException"}),
     re.compile(r"Access Key Id you provided does not exist")),
    ("signature-mismatch", frozenset({"SignatureDoesNotMatch", "InvalidSignatureException", "InvalidSignature"}),
     re.compile(r"signature we calculated does not match", re.I)),
)


def _kind(code: str, message: str) -> str:
    for kind, codes, pattern in KIND_RULES:
        if code in codes or (pattern is not None and pattern.search(message)):
            return kind
    return "other"


def read_error(status: int | None, headers: Iterable[tuple[str, str]], body: bytes) -> ServerComplaint:
    """Read a server's error response into a `ServerComplaint`.

    `body` may be the body alone or the whole raw HTTP response (status line,
    headers, body); in the latter case its status and headers are used where
    `status`/`headers` are missing. Never raises for any bytes.
    """
    raw_headers = list(headers)
    split = split_response(bytes(body)) if bytes(body).startswith(b"HTTP/") else None
    if split is not None:
        split_status, split_headers, body = split
        status = split_status if status is None else status
        raw_headers = raw_headers or split_headers
    lowered = {n.lower(): v for n, v in reversed(raw_headers)}
    env = next((e for reader in _ENVELOPE_READERS if (e := reader(bytes(body), lowered))), None) \
        or _read_text(bytes(body), lowered)
    code = env.code.strip()
    return ServerComplaint(status=status if status is not None else env.status, envelope=env.name, code=code,
                           message=env.message, kind=_kind(code, env.message), headers=tuple(raw_headers), **_facts(env))
