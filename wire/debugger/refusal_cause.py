"""The cause a proxy logs for a signature it refused itself (`sigv4 proxy --verify` and `--resign`).

Strategy: the refusal is rendered as the client receives it
(`wire.auth_refusal.render`), read back as any server's complaint is, and
diagnosed (`wire.debugger.diagnose`) with the identity's secret where the
proxy knows it, so a cause is proved where the signer-mistake search
reproduces the signature sent; the first cause is the log's. What the
debugger cannot read falls back to the verifier's own words, and an unknown
key is said as the proxy knows it (for certain: the debugger, seeing a
token, would guess at it). Secrets and session tokens are masked.
"""

from __future__ import annotations

from sigv4.errors import VerificationError
from sigv4.redact import redact
from sigv4.types import Credentials, Request
from wire.auth_refusal import Envelope, render
from wire.debugger.complaint import read_error
from wire.debugger.diagnose import diagnose
from wire.errors import ServiceError


def refusal_cause(request: Request, err: VerificationError, error: ServiceError, envelope: Envelope,
                  secret: Credentials | None, identities: str) -> str:
    """`kind (evidence): message` of the debugger's first cause of `err` (the refusal `error`, answered in
    `envelope`), diagnosed with `secret` (the signer's identity, None when unknown), else `reason: err`; an
    unknown key names where the identities come from (`identities`, e.g. "--accounts"). Never raises."""
    if err.auth is None:
        return redact(f"{err.reason}: {err}", secret)
    if err.reason == "unknown_key":
        return (f"access-key (proved): the access key id {err.auth.access_key_id[:8]}… is not an identity of "
                f"{identities}")
    status, headers, body = render(error, envelope, "-")
    body_known = isinstance(request.body, bytes)  # a streamed body is not held: diagnosed as unknown
    sent = request if body_known else Request(request.method, request.target, request.headers, b"")
    try:
        causes = diagnose(sent, read_error(status, headers, body), secret=secret, body_known=body_known).causes
    except ValueError:  # what the debugger cannot read (DiagnoseError), the verifier has said
        causes = ()
    first = f"{causes[0].kind} ({causes[0].evidence}): {causes[0].message}" if causes else f"{err.reason}: {err}"
    return redact(first, secret)
