"""Keeping secrets out of what the tools print: masks for the session token and the secret key.

The rule: what the user asked the tool to produce (a signed request, a
presigned URL, presigned POST fields, an export, a token) is complete and
usable, so it keeps the session token (`redact_artifact`); what only
explains or logs (an explanation, a transcript, a diagnosis, an error, a
server's log) masks it (`redact`). Neither ever shows the secret key.

Strategy: mask the places a secret can appear, not every substring that
happens to equal it (with the dummy credentials local emulators use,
`test`/`test`, a substring rule turned `/test-bucket/` into `/****-bucket/`).
A session token travels in the `X-Amz-Security-Token` header, the
`X-Amz-Security-Token` (SigV4 presigned) or `SecurityToken` (SigV2) query or
form parameter (an S3 Express One Zone session token in `x-amz-s3session-token`
and `X-Amz-S3session-Token`), and in every echo of those: canonical requests, strings to
sign, a server's 403 body, HAR name/value pairs. Those places are masked
wherever they occur. The secret key has no legitimate place in any output; as
a net under that rule, a secret long enough that a match cannot be a
coincidence (real keys are 40 characters, real tokens hundreds) is also
masked literally, raw and percent-encoded.

Pure: text in, text out.
"""

from __future__ import annotations

import re
from typing import Protocol
from urllib.parse import quote

MASK = "****"
#: Shorter secrets are masked only in their places: a literal match could be any word.
LITERAL_MIN = 16

# A header line or `name: value` (raw request, canonical request, a server's echo): the value ends at white
# space, at a delimiter of the text around it (a JSON string, an XML element, an escaped newline) or at a
# character no token holds (tokens are ASCII; `--explain` marks a line's end with `↵`, which stays). Only
# the name is matched ignoring case: so matched, a non-ASCII range takes in letters that fold to ASCII ones.
_TOKEN_HEADER = re.compile(r"((?i:x-amz-(?:security|s3session)-token)[ \t]*:[ \t]*)([^\s\"'<\\,\x80-\U0010ffff]+)")
# A query or form parameter; `(?<![\w-])` keeps e.g. `MySecurityToken=` out.
_TOKEN_PARAM = re.compile(r"((?<![\w-])(?i:X-Amz-(?:Security|S3session)-Token|SecurityToken)=)"
                          r"([^&\s\"'<\\#\x80-\U0010ffff]+)")
# A HAR name/value pair (headers and queryString).
_TOKEN_PAIR = re.compile(r'(?i)("name":\s*"(?:x-amz-(?:security|s3session)-token|SecurityToken)",\s*"value":\s*")([^"\\]+)')


#: Said when a request carries `****` where its session token goes: a copy taken from an explanation or a log.
MASKED_TOKEN_NOTE = ("the session token is ****, a masked copy (from --explain, -v, a diagnosis or a log), not the "
                     "token: sign the request again (`sigv4 sign` prints it whole) and use that")


class TokenPlaces(Protocol):
    """What `masked_token_note` needs of `sigv4.Request`."""

    @property
    def query(self) -> str: ...

    def header(self, name: str) -> str | None: ...


class Secrets(Protocol):
    """What masking needs of `sigv4.Credentials`."""

    @property
    def secret_access_key(self) -> str: ...

    @property
    def session_token(self) -> str | None: ...


def mask(secret: str | None) -> str:
    """A secret's length, never its content: `****(40 chars)`, or `(none)`."""
    return "(none)" if not secret else MASK + f"({len(secret)} chars)"


def mask_token_params(text: str) -> str:
    """`text` with the values of session-token query or form parameters replaced by `****`."""
    return _TOKEN_PARAM.sub(rf"\1{MASK}", text)


def mask_tokens(text: str) -> str:
    """`text` with every session token in a token header line, parameter or HAR pair replaced by `****`."""
    for pattern in (_TOKEN_HEADER, _TOKEN_PARAM, _TOKEN_PAIR):
        text = pattern.sub(rf"\1{MASK}", text)
    return text


def redact(text: str, creds: Secrets | None = None, *, show_token: bool = False) -> str:
    """`text` with session tokens masked in their places (unless `show_token`), and the secret key (and the
    token) of `creds` masked literally when they are at least `LITERAL_MIN` characters long."""
    if not show_token:
        text = mask_tokens(text)
    if creds is not None:
        for secret in (creds.secret_access_key, None if show_token else creds.session_token):
            if secret and len(secret) >= LITERAL_MIN:
                # A presigned URL or a SigV2 query carries the token percent-encoded (STS tokens hold `/`, `+`, `=`).
                for form in (secret, quote(secret, safe="-_.~")):
                    text = text.replace(form, MASK)
    return text


def redact_artifact(text: str, creds: Secrets | None) -> str:
    """`text`, something the user asked for (a signed request, a URL, form fields, an export), with the session
    token kept, since the artifact does not work without it; the secret key of `creds` is still masked."""
    return redact(text, creds, show_token=True)


def masked_token_note(request: TokenPlaces) -> str | None:
    """`MASKED_TOKEN_NOTE` when `request` carries `****` as its session token (header or query), else None."""
    headers = (request.header(name) for name in ("x-amz-security-token", "x-amz-s3session-token"))
    params = (m.group(2) for m in _TOKEN_PARAM.finditer(request.query))
    masked = any(value is not None and value.strip() in (MASK, "%2A%2A%2A%2A") for value in (*headers, *params))
    return MASKED_TOKEN_NOTE if masked else None
