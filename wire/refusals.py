"""A refusal worded as AWS words it: status, error code and body in the protocol the request was sent in.

Strategy: the protocol is read from the request, not from a model, so a
proxy answers for any service: S3's services get S3's `<Error>` XML; a
request with `X-Amz-Target` a JSON protocol's `__type` body; a request with
an `Action` parameter the Query `<ErrorResponse>` (EC2's `<Response><Errors>`
for `ec2`); anything else restJson (`x-amzn-ErrorType` header and a JSON
body). Each kind of refusal is one row of `KINDS`: its status and its code per
protocol, as AWS's front ends answer it (an unknown key is S3's
`InvalidAccessKeyId`, Query's `InvalidClientTokenId`, JSON's
`UnrecognizedClientException`).

Pure: the request id comes in as an argument.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from xml.sax.saxutils import escape

from sigv4.canonical import S3_SERVICES

__all__ = ["KINDS", "Protocol", "RefusalKind", "protocol_of", "refusal"]

Protocol = Literal["s3", "json", "query", "ec2", "rest-json"]
RefusalKind = Literal["denied", "unknown-key", "bad-signature", "unsigned"]


@dataclass(frozen=True, slots=True)
class _Kind:
    status: int
    codes: dict[str, str]  # protocol -> code ("*": the rest)

    def code(self, protocol: Protocol) -> str:
        return self.codes.get(protocol, self.codes["*"])


#: Each refusal: its HTTP status and error code by protocol.
KINDS: dict[RefusalKind, _Kind] = {
    "denied": _Kind(403, {"json": "AccessDeniedException", "rest-json": "AccessDeniedException",
                          "ec2": "UnauthorizedOperation", "*": "AccessDenied"}),
    "unknown-key": _Kind(403, {"s3": "InvalidAccessKeyId", "json": "UnrecognizedClientException",
                               "ec2": "AuthFailure", "*": "InvalidClientTokenId"}),
    "bad-signature": _Kind(403, {"json": "InvalidSignatureException", "rest-json": "InvalidSignatureException",
                                 "ec2": "AuthFailure", "*": "SignatureDoesNotMatch"}),
    "unsigned": _Kind(403, {"json": "MissingAuthenticationTokenException", "s3": "AccessDenied",
                            "ec2": "AuthFailure", "*": "MissingAuthenticationToken"}),
}
_CONTENT_TYPES = {"s3": "application/xml", "query": "text/xml", "ec2": "text/xml", "json": "application/x-amz-json-1.0",
                  "rest-json": "application/json"}


def protocol_of(service: str, headers: Iterable[tuple[str, str]], has_action: bool) -> Protocol:
    """The protocol a request to `service` with `headers` speaks (`has_action`: an `Action` parameter, or a
    form-encoded body that holds one)."""
    if service in S3_SERVICES:
        return "s3"
    if any(name.lower() == "x-amz-target" for name, _ in headers):
        return "json"
    if has_action:
        return "ec2" if service == "ec2" else "query"
    return "rest-json"


def refusal(kind: RefusalKind, protocol: Protocol, message: str,
            request_id: str) -> tuple[int, tuple[tuple[str, str], ...], bytes]:
    """(status, headers, body) of the `kind` refusal in `protocol`, with `message` and `request_id`."""
    row = KINDS[kind]
    code = row.code(protocol)
    text, rid = escape(message), escape(request_id)
    headers: list[tuple[str, str]] = [("Content-Type", _CONTENT_TYPES[protocol]), ("x-amzn-RequestId", request_id)]
    if protocol == "s3":
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{text}</Message>'
                f"<RequestId>{rid}</RequestId></Error>")
    elif protocol == "query":
        body = (f'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
                f"<Code>{code}</Code><Message>{text}</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>")
    elif protocol == "ec2":
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code>'
                f"<Message>{text}</Message></Error></Errors><RequestID>{rid}</RequestID></Response>")
    else:
        headers.append(("x-amzn-ErrorType", code))
        body = json.dumps({"__type": code, "message": message})
    return row.status, tuple(headers), body.encode("utf-8")
