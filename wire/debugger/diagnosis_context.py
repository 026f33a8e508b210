"""What every diagnosis rule reads: the request, the complaint, both sides' strings, the secret, the client.

Strategy: `wire.debugger.diagnose` computes these once into a frozen `Context`;
each rule (complaint, server strings, secret, request, likely causes, logged
strings) is a pure function of it that returns causes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sigv4.canonical import query_pairs
from sigv4.types import Request
from wire.debugger.clients import HAND_ROLLED, Client
from wire.debugger.complaint import ServerComplaint
from wire.debugger.mistakes import View
from wire.debugger.signature_params import SignatureParams


@dataclass(frozen=True, slots=True)
class Context:
    sent: Request
    complaint: ServerComplaint | None
    params: SignatureParams | None
    view: View | None
    ours_canonical: str | None
    ours_sts: str | None
    theirs_canonical: str | None
    theirs_sts: str | None
    secret: str | None
    response_date: datetime | None
    payload_known: bool
    client: Client = HAND_ROLLED
    #: The canonical request and string-to-sign the client logged (aws --debug, awscurl -v), when it did.
    logged_canonical: str | None = None
    logged_sts: str | None = None
    #: The session token of the credentials given for the request's key, when they hold one.
    given_token: str | None = None


def key_label(ctx: Context) -> str:
    """The access key id shortened for messages (its first 8 characters), or "the key"."""
    return f"{ctx.params.access_key_id[:8]}…" if ctx.params else "the key"


def sent_token(request: Request) -> str | None:
    """The session token the request carries (header or query), or None."""
    return request.header("x-amz-security-token") or dict(query_pairs(request.query)).get("X-Amz-Security-Token")
