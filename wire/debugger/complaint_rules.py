"""What the server's complaint itself says: one rule per complaint kind, as a table.

Strategy: `wire.debugger.complaint` reads the server's answer into facts (its
time window, the region or service it expected, a body hash, missing or
unsigned parts, a token or key it does not know); `complaint_causes` picks the
rule for the complaint's kind from `_COMPLAINT_RULES` and turns those facts into
proved causes. `may_be_mismatch` and `not_about_signing` say whether the answer
is a signature refusal at all (an IAM denial, a 5xx or an HTML page is not).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from datetime import timedelta

from wire.debugger.causes import Cause
from wire.debugger.complaint import ServerComplaint
from wire.debugger.diagnosis_context import Context, sent_token
from wire.debugger.request_times import WIDEST_WINDOW, duration, iso, parse_amz_date, presigned_expiry, skew_cause


#: Services signed for us-east-1 whatever the caller's region.
_GLOBAL_SERVICES = frozenset({"iam", "route53", "cloudfront", "organizations", "globalaccelerator", "shield"})


def _time_causes(ctx: Context) -> list[Cause]:
    c, p = ctx.complaint, ctx.params
    now = (c.server_time or ctx.response_date) if c else None
    if c is not None and p is not None and p.presigned and (c.expires_at is not None or (
            now is not None and (end := presigned_expiry(p)) is not None and end < now)):
        # A presigned URL past X-Amz-Date + X-Amz-Expires: the lifetime ran out, the clock may be right.
        return _expired_causes(ctx)
    if c is None or c.request_time is None or c.server_time is None:
        return [Cause("clock-skew", "the server says the request time is outside its window; sign with the current "
                                    "time (sync the clock, NTP)")]
    signed_at = parse_amz_date(p.amz_date) if p is not None else None
    if signed_at is not None and abs(signed_at - c.request_time) >= timedelta(seconds=1) \
            and abs(signed_at - c.server_time) <= (c.allowed_skew or WIDEST_WINDOW):
        # The time the server read is not the one signed, and the one signed is in its window: no clock is wrong.
        return [Cause("header-changed", f"the server read the request time as {iso(c.request_time)}, but the request "
                                        f"as sent is signed at {iso(signed_at)} (X-Amz-Date), "
                                        f"{duration(signed_at - c.server_time)} from the server's clock: the clock "
                                        "is right; the time changed on the way (X-Amz-Date dropped or rewritten by a "
                                        "proxy or a later edit, and the server read another date header)", "proved",
                      iso(signed_at), iso(c.request_time))]
    return [skew_cause(c.request_time, c.server_time, c.allowed_skew, f"server said {c.code or c.kind}")]


def _expired_causes(ctx: Context) -> list[Cause]:
    c, p = ctx.complaint, ctx.params
    assert c is not None
    if p is not None and not p.presigned:
        # EC2's RequestExpired for a header-signed request: its time is outside the window, a clock skew.
        signed_at, server_time = parse_amz_date(p.amz_date), c.server_time or ctx.response_date
        if signed_at is not None and server_time is not None:
            return [skew_cause(signed_at, server_time, None, f"server said {c.code or c.kind}")]
        return _time_causes(ctx)
    expires_at = c.expires_at or (presigned_expiry(p) if p else None)
    server_time = c.server_time or ctx.response_date
    if expires_at is None or server_time is None:
        return [Cause("expired", "the presigned request has expired; presign it again with a longer X-Amz-Expires")]
    return [Cause("expired", f"the presigned request expired at {iso(expires_at)}; the server's clock read "
                             f"{iso(server_time)} ({duration(server_time - expires_at)} later)"
                             + (f"; it was signed at {p.amz_date} for X-Amz-Expires={p.expires}" if p else ""),
                  "proved", iso(expires_at), iso(server_time))]


def _scope_causes(ctx: Context) -> list[Cause]:
    c, p = ctx.complaint, ctx.params
    assert c is not None
    causes = []
    if c.region_expected or c.region_sent or c.region_invalid:
        sent = c.region_sent or (p.region if p else "?")
        if c.region_expected:
            advice = f"the endpoint expects `{c.region_expected}`: sign for the endpoint's region"
        elif p and p.service in _GLOBAL_SERVICES:
            advice = f"{p.service} is a global service: sign it for `us-east-1`"
        else:
            advice = "the endpoint does not accept it: sign for the region in the endpoint's host name"
        causes.append(Cause("scope-region", f"the region in the credential scope is `{sent}`; {advice}", "proved",
                            sent, c.region_expected))
    if c.service_expected:
        sent = p.service if p else "?"
        causes.append(Cause("scope-service", f"the service in the credential scope is `{sent}`; the endpoint expects "
                                             f"`{c.service_expected}`", "proved", sent, c.service_expected))
    if p and c.scope_date_expected and p.amz_date[:8] == c.scope_date_sent != c.scope_date_expected:
        # The request as sent agrees with itself: the server read another X-Amz-Date than was signed.
        causes.append(Cause("header-changed", f"X-Amz-Date was changed between signing and the server: the request "
                                              f"sent {p.amz_date}, the server read a time on {c.scope_date_expected} "
                                              "(a proxy or a later edit rewrote it)", "proved",
                            p.amz_date, c.scope_date_expected))
    elif c.scope_date_sent or c.scope_date_expected:
        causes.append(Cause("scope-date", f"the date in the credential scope `{c.scope_date_sent}` is not the date of "
                                          f"the request time `{c.scope_date_expected}` (X-Amz-Date)", "proved",
                            c.scope_date_sent, c.scope_date_expected))
    return causes


def _payload_complaint_causes(ctx: Context) -> list[Cause]:
    c = ctx.complaint
    assert c is not None
    body = ctx.view.body if ctx.view is not None else None
    body_hash = hashlib.sha256(body).hexdigest() if body is not None else None
    if body_hash is not None and body_hash == c.client_sha256:
        hint = "the body we have hashes to the header's value, so the body changed in transit"
    elif body_hash is not None and body_hash == c.server_sha256:
        hint = "the body we have hashes to the server's value, so x-amz-content-sha256 was computed over other bytes"
    else:
        hint = "x-amz-content-sha256 must be the SHA-256 of the exact bytes sent"
    return [Cause("payload-hash", f"body hash: the request's x-amz-content-sha256 is {c.client_sha256}, the "
                                  f"server's {c.server_sha256}; {hint}", "proved", c.client_sha256, c.server_sha256)]


def _incomplete_causes(ctx: Context) -> list[Cause]:
    c = ctx.complaint
    assert c is not None
    if "host" in c.missing:
        return [Cause("header-unsigned", "`host` must be a signed header: add it to SignedHeaders and sign it")]
    parts = ", ".join(c.missing)
    found = f"the server did not find {parts}" if parts else "the server did not say which part is missing"
    return [Cause("algorithm", f"the signature is incomplete ({found}): an AWS4-HMAC-SHA256 Authorization header "
                               "needs Credential=, SignedHeaders= and Signature=, and X-Amz-Date (or Date) must be "
                               "present")]


def _unsigned_causes(ctx: Context) -> list[Cause]:
    c = ctx.complaint
    assert c is not None
    names = ", ".join(f"`{n}`" for n in c.unsigned_headers) or "some headers"
    return [Cause("header-unsigned", f"the request carries {names} without signing them; S3 requires every "
                                     "x-amz-* header it sends to be in SignedHeaders")]


def _absent_causes(ctx: Context) -> list[Cause]:
    c = ctx.complaint
    assert c is not None
    # One the captured request lacks too is the request's own cause (`request_checks`): named there.
    return [Cause("header-dropped", f"`{name}` is listed in SignedHeaders and the request as captured carries it, "
                                    "but it did not reach the server: dropped in transit (a proxy, an HTTP library)")
            for name in c.absent_signed_headers if ctx.sent.header(name) is not None]


def _missing_content_sha256_causes(ctx: Context) -> list[Cause]:
    return [Cause("header-unsigned", "S3 requires x-amz-content-sha256 on a header-signed request, sent and signed: "
                                     "the body's SHA-256 or UNSIGNED-PAYLOAD (curl 7.88's --aws-sigv4 adds none: "
                                     "`-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD'`)")]


def _credential_causes(ctx: Context) -> list[Cause]:
    """Token and unknown-key complaints. AWS says "the security token included in the request is invalid"
    for an unknown access key id too; without a token in the request, that is what it means."""
    c = ctx.complaint
    assert c is not None
    key = ctx.params.access_key_id if ctx.params else ""
    token = sent_token(ctx.sent)
    if token and ctx.given_token and not hmac.compare_digest(token.encode(), ctx.given_token.encode()):
        return [Cause("token", f"the session token sent is not the one in the credentials given for {key[:8]}…: "
                               "the client signed with a stale token (a cached one, an old AWS_SESSION_TOKEN beside "
                               "fresh keys, another profile's); send the current token", "proved")]
    if c.kind == "token-expired":
        return [Cause("token", "the session token has expired: fetch fresh temporary credentials")]
    if not token and key.startswith("ASIA"):
        return [Cause("token", f"temporary key {key[:8]}… is used without its session token: send the token "
                               "as the X-Amz-Security-Token header (or query parameter)")]
    if token and c.kind == "token-invalid":
        return [Cause("token", "the session token is invalid for this key (a token from other credentials, a "
                               "long-term AKIA key sent with a token, or a token from another partition)", "likely"),
                Cause("access-key", f"or the access key id {key[:8]}… is not known to this endpoint", "likely")]
    return [Cause("access-key", f"the access key id {key[:8]}… is not known to this endpoint (no session token was "
                                "sent, so the key id itself is unknown: a wrong, deleted or mistyped key, or an "
                                "endpoint in another partition)")]


#: Complaint kind -> the rule that reads its facts.
_COMPLAINT_RULES: dict[str, Callable[[Context], list[Cause]]] = {
    "signature-expired": _time_causes,
    "signature-not-yet-current": _time_causes,
    "clock-skew": _time_causes,
    "request-expired": _expired_causes,
    "wrong-region": _scope_causes,
    "wrong-scope": _scope_causes,
    "payload-hash": _payload_complaint_causes,
    "incomplete-signature": _incomplete_causes,
    "headers-not-signed": _unsigned_causes,
    "missing-content-sha256": _missing_content_sha256_causes,
    "signed-header-absent": _absent_causes,
    "token-expired": _credential_causes,
    "token-invalid": _credential_causes,
    "unknown-access-key": _credential_causes,
}
#: Complaints about the signature itself, where comparing the strings is the diagnosis.
_MISMATCH_KINDS = frozenset({"signature-mismatch", "missing-authentication", "other"})  # "other": only for a 4xx
#: Statuses a signature refusal comes with (EC2's AuthFailure is 401); a named error with another status
#: (400 MalformedQueryString, 404 NoSuchKey, 400 ValidationException) is about something else.
_AUTH_STATUSES = frozenset({None, 401, 403})
#: Error codes no signature refusal carries, for an answer whose status is not known (a bare body, botocore's
#: ClientError text, a botocore-only log): validation, missing things, throttling, server faults.
_NOT_SIGNING_CODES = re.compile(r"Validation|NotFound|NoSuch|Throttl|InvalidAction|InvalidParameter|MissingParameter|"
                                r"MalformedQueryString|Serialization|UnknownOperation|LimitExceeded|Conflict|"
                                r"AlreadyExists|InternalError|InternalFailure|ServiceUnavailable|UnsupportedMediaType")
#: An IAM denial: the signature was accepted, the policy refused (moto, STS, IAM: "... is not authorized to perform").
_NOT_AUTHORIZED = re.compile(r"is not authorized to perform")


def not_about_signing(complaint: ServerComplaint) -> bool:
    """Whether the server named an error that is no signature refusal (see `_AUTH_STATUSES`, `_NOT_AUTHORIZED`),
    or answered what no signature causes: a server error (5xx), an HTML page (a load balancer, a proxy)."""
    if complaint.status is not None and complaint.status >= 500:
        return True
    if complaint.envelope == "text" and re.match(r"\s*<(?:!doctype html|html)", complaint.message or "", re.I):
        return True
    return complaint.kind == "other" and bool(complaint.code) and (
        complaint.status not in _AUTH_STATUSES or bool(_NOT_AUTHORIZED.search(complaint.message or "")) or
        (complaint.status is None and _NOT_SIGNING_CODES.search(complaint.code) is not None))


def may_be_mismatch(complaint: ServerComplaint) -> bool:
    """Whether `complaint` may be a refused signature, where comparing the strings is the diagnosis."""
    return complaint.kind in _MISMATCH_KINDS and not not_about_signing(complaint)


def complaint_causes(ctx: Context) -> list[Cause]:
    """The causes the complaint's own facts prove (none for a kind without a rule)."""
    rule = _COMPLAINT_RULES.get(ctx.complaint.kind) if ctx.complaint else None
    return rule(ctx) if rule else []
