"""Amazon Keyspaces SigV4 authentication: the answer to the server's nonce challenge.

Strategy: the Cassandra driver sends `SigV4\\0\\0`, the server answers
`nonce=<32 characters>`, and the client signs, by hand as `cassandra-sigv4`
does, the canonical request `PUT /authenticate` with the presign parameters
(X-Amz-Date written `YYYY-MM-DDTHH:MM:SS.mmmZ`, X-Amz-Expires=900), `host:cassandra`
and the SHA-256 of the nonce as payload hash; it answers
`signature=<hex>,access_key=<id>,amzdate=<time>[,session_token=<token>]`.
The region is in the signature's scope but not in the answer: the endpoint knows its own.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from urllib.parse import quote_plus

from ..errors import InvalidParameterError
from ..signer import amz_date
from ..types import Credentials
from .parts import ALGORITHM, check_text, sign_text

KEYSPACES_SERVICE = "cassandra"
KEYSPACES_EXPIRES = 900
#: The client's first SASL message: the mechanism name and two NULs.
INITIAL_RESPONSE = b"SigV4\0\0"
NONCE_PREFIX = "nonce="
NONCE_LENGTH = 32


def keyspaces_timestamp(timestamp: datetime) -> str:
    """`timestamp` as Keyspaces' `amzdate`: ISO 8601 UTC with milliseconds (`2024-02-29T23:59:58.000Z`).

    Milliseconds are rounded as `cassandra-sigv4` rounds them, but never to 1000
    (it writes `.1000Z` in the last half millisecond of a second).
    """
    amz_date(timestamp)  # refuses a naive or non-datetime timestamp with the signer's message
    t = timestamp.astimezone(timezone.utc)
    return f"{t:%Y-%m-%dT%H:%M:%S}.{min(int(round(t.microsecond / 1000)), 999):03d}Z"


def _nonce(nonce: str) -> str:
    text = check_text("nonce", nonce)
    if NONCE_PREFIX in text:  # the whole challenge, as the server sent it
        text = text[text.index(NONCE_PREFIX) + len(NONCE_PREFIX):][:NONCE_LENGTH]
    if len(text) != NONCE_LENGTH:
        raise InvalidParameterError(f"nonce: must be the {NONCE_LENGTH} characters after `nonce=` in the challenge")
    return text


def keyspaces_canonical(nonce: str, access_key_id: str, scope: str, stamp: str) -> str:
    """The canonical request a Keyspaces answer signs (what the server rebuilds to verify it)."""
    params = sorted([f"X-Amz-Algorithm={ALGORITHM}", f"X-Amz-Credential={access_key_id}%2F{quote_plus(scope)}",
                     f"X-Amz-Date={quote_plus(stamp)}", f"X-Amz-Expires={KEYSPACES_EXPIRES}"])
    digest = hashlib.sha256(nonce.encode("utf-8")).hexdigest()
    return f"PUT\n/authenticate\n{'&'.join(params)}\nhost:{KEYSPACES_SERVICE}\n\nhost\n{digest}"


def keyspaces(nonce: str, credentials: Credentials, region: str, timestamp: datetime) -> str:
    """The answer to a Keyspaces SigV4 challenge, equal to `cassandra-sigv4`'s `evaluate_challenge`.

    `nonce` is the 32 characters after `nonce=` (the whole challenge is accepted
    too). Returns `signature=...,access_key=...,amzdate=...` and
    `,session_token=...` with temporary credentials. Raises InvalidParameterError for bad input.
    """
    nonce, stamp = _nonce(nonce), keyspaces_timestamp(timestamp)
    date = stamp[:10].replace("-", "")
    scope = f"{date}/{region}/{KEYSPACES_SERVICE}/aws4_request"
    canonical = keyspaces_canonical(nonce, credentials.access_key_id, scope, stamp)
    _, signature = sign_text(canonical, credentials, region, KEYSPACES_SERVICE, date, stamp)
    answer = f"signature={signature},access_key={credentials.access_key_id},amzdate={stamp}"
    return answer + (f",session_token={credentials.session_token}" if credentials.session_token else "")
