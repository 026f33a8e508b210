"""S3's SigV2 in the debugger: our string-to-sign against S3's `StringToSign`, and what the secret proves.

Strategy: S3's SigV2 (`sigv4.s3v2`) has no canonical request and none of
SigV4's signer knobs, so SigV4's mistake search does not apply. Two facts
are read instead: the first line where the string-to-sign rebuilt from the
request and the one S3 answered with differ (each line is one field: the
method, Content-MD5, Content-Type, the date, an `x-amz-*` header, the
resource), and, with the secret, whether the signature sent is the HMAC of
either string (the client signed what the capture shows, or not).
"""

from __future__ import annotations

from sigv4 import s3v2
from sigv4.canonical import query_pairs
from sigv4.errors import SigningError
from sigv4.types import Request
from wire.debugger.causes import Cause

__all__ = ["is_s3v2", "s3v2_causes", "s3v2_string_to_sign"]

#: The fixed lines of the string-to-sign, by position, as (cause kind, name); then x-amz-* lines, the resource.
_LINES = (("method", "the method"), ("header-changed", "Content-MD5"), ("header-changed", "Content-Type"),
          ("header-changed", "the date (Date, x-amz-date's empty line, or a URL's Expires)"))


def is_s3v2(request: Request) -> bool:
    """Whether `request` is signed with S3's SigV2 (`AWS KEY:signature`, or `AWSAccessKeyId` without
    `SignatureVersion` in its query)."""
    header = request.header("authorization")
    if header is not None:
        return header.startswith(f"{s3v2.SCHEME} ")
    names = {part.partition("=")[0] for part in request.query.split("&")}
    return "AWSAccessKeyId" in names and "SignatureVersion" not in names


def _presigned(request: Request) -> bool:
    return request.header("authorization") is None


def s3v2_string_to_sign(request: Request) -> str | None:
    """The string-to-sign rebuilt from an S3 SigV2 request; None when it cannot be read (see `sigv4.s3v2`)."""
    try:
        return s3v2.string_to_sign(request, presigned=_presigned(request))
    except SigningError:
        return None


def _line_cause(ours_text: str, theirs_text: str) -> Cause | None:
    """The first line that differs between the two strings-to-sign, as a cause; None when they are equal."""
    left, right = ours_text.split("\n"), theirs_text.split("\n")
    for index in range(max(len(left), len(right))):
        mine = left[index] if index < len(left) else None
        server = right[index] if index < len(right) else None
        if mine == server:
            continue
        last = index >= min(len(left), len(right)) - 1  # the resource is the last line
        kind, name = _LINES[index] if index < len(_LINES) else (
            ("path-encoding", "the resource (/bucket/key and sub-resources)") if last else
            ("header-changed", "the x-amz-* headers"))
        return Cause(kind, f"S3's string-to-sign differs from the one the request shows at line {index + 1}, "
                           f"{name}: the request gives {mine!r}, S3 computed {server!r}", "proved", mine, server)
    return None


def _signature_sent(request: Request) -> str | None:
    header = request.header("authorization")
    try:
        if header is not None:
            return s3v2.header_claim(header)[1]
        return next((value for name, value in query_pairs(request.query) if name == "Signature"), None)
    except SigningError:
        return None


def s3v2_causes(request: Request, mine: str | None, theirs: str | None, secret: str | None) -> list[Cause]:
    """The causes of an S3 SigV2 refusal: where S3's string-to-sign `theirs` (None when it sent none) differs
    from ours, `mine` (`s3v2_string_to_sign`; None: unreadable, no causes), and with `secret` what the
    signature sent proves."""
    if mine is None:
        return []
    causes = [cause] if theirs is not None and (cause := _line_cause(mine, theirs)) is not None else []
    sent = _signature_sent(request)
    if secret is None or not sent:
        return causes
    if not s3v2.matches(secret, mine, sent):
        causes.append(Cause("secret", "the signature sent does not verify with the given secret over the "
                                      "string-to-sign the request shows: the client signed with another secret "
                                      "(check the profile) or other bytes", "proved" if theirs == mine else "likely"))
    elif theirs == mine:
        causes.append(Cause("secret", "the signature sent verifies with the given secret over the string-to-sign "
                                      "S3 computed too: S3 holds another secret for this key id (rotated key, "
                                      "wrong profile, or key id and secret from different pairs)"))
    return causes
