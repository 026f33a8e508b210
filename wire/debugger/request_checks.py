"""What the request alone decides: checks that need neither the server's strings nor the secret.

Strategy: a request disagrees with itself in ways no server needs to say:
signed headers it does not carry, a scope date that is not its X-Amz-Date's
date, a session token with a long-term key or appended after a presigned
signature, a declared body hash that is not the body's, an expiry or a clock
skew against the response's Date header; a signed hop-by-hop header is likely
to break in transit.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from urllib.parse import unquote

from wire.debugger.causes import Cause
from wire.debugger.diagnosis_context import Context, sent_token
from wire.debugger.request_times import WIDEST_WINDOW, iso, parse_amz_date, presigned_expiry, skew_cause
from wire.debugger.signature_params import SignatureParams


#: Hop-by-hop headers (RFC 9110 7.6.1): every proxy may rewrite or drop them, so signing one breaks in transit.
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
                         "proxy-connection", "proxy-authorization"})


def request_causes(ctx: Context) -> list[Cause]:
    """What the request itself proves: signed headers it does not carry, a scope date that is not its date, a
    token with a long-term key or appended after a presigned signature, a declared body hash that is not the
    body's, an expiry or a clock skew against the response's Date; a signed hop-by-hop header is likely."""
    causes = []
    p, view = ctx.params, ctx.view
    if view is not None:
        present = {n for n, _ in view.headers}
        # A capture without Host left it out (a note says so): no HTTP/1.1 request reaches a server without one.
        causes += [Cause("header-dropped", f"`{name}` is listed in SignedHeaders but the request does not carry it")
                   for name in view.signed if name not in present and name != "host"]
    if p is None:
        return causes
    if re.fullmatch(r"\d{8}T\d{6}Z", p.amz_date) and p.scope_date != p.amz_date[:8]:
        causes.append(Cause("scope-date", f"the credential scope's date {p.scope_date} is not the date of the "
                                          f"request time {p.amz_date} (X-Amz-Date): sign with one timestamp for "
                                          "both", "proved", p.scope_date, p.amz_date[:8]))
    causes += _token_causes(ctx, p)
    declared = ctx.sent.header("x-amz-content-sha256") or ""
    body = view.body if view is not None else None  # None: the capture does not show it (botocore's log of a file)
    digest = hashlib.sha256(body).hexdigest() if body is not None and re.fullmatch(r"[0-9a-f]{64}", declared) else None
    if digest is not None and declared != digest:
        causes.append(Cause("payload-hash", f"x-amz-content-sha256 declares {declared[:16]}…, but the body the "
                                            f"capture holds hashes to {digest[:16]}…: the body changed after its hash "
                                            "was computed", "proved", declared, digest))
    if view is not None:
        causes += [Cause("header-changed", f"the hop-by-hop header `{name}` is signed: proxies and HTTP libraries "
                                           "rewrite or drop it in transit; leave it out of SignedHeaders", "likely")
                   for name in view.signed if name in _HOP_BY_HOP]
    return causes + _time_against_response(ctx, p)


def _token_causes(ctx: Context, p: SignatureParams) -> list[Cause]:
    token = sent_token(ctx.sent)
    causes = []
    if token and p.access_key_id.startswith("AKIA"):
        causes.append(Cause("token", f"a session token is sent with the long-term key {p.access_key_id[:8]}…, which "
                                     "takes none: drop X-Amz-Security-Token, or send the temporary key (ASIA…) the "
                                     "token belongs to"))
    names = [unquote(part.partition("=")[0]) for part in ctx.sent.query.split("&")]
    if p.presigned and "X-Amz-Security-Token" in names and "X-Amz-Signature" in names and \
            names.index("X-Amz-Security-Token") > names.index("X-Amz-Signature"):
        causes.append(Cause("token", "X-Amz-Security-Token comes after X-Amz-Signature in the presigned URL: it was "
                                     "appended after signing, so the signature does not cover it; presign with the "
                                     "session token in the credentials"))
    return causes


def _time_against_response(ctx: Context, p: SignatureParams) -> list[Cause]:
    """An expired presigned URL, or a clock skew, read against the response's Date when the complaint gives no
    times (S3's HEAD answers 403 with no body at all)."""
    signed_at = parse_amz_date(p.amz_date)
    has_times = ctx.complaint is not None and ctx.complaint.server_time is not None
    if ctx.response_date is None or signed_at is None or has_times:
        return []
    expires_at = presigned_expiry(p) if p.presigned else None
    if expires_at is not None and expires_at < ctx.response_date:
        return [Cause("expired", f"the presigned request expired at {iso(expires_at)} (signed at {p.amz_date} for "
                                 f"X-Amz-Expires={p.expires}); the response is dated {iso(ctx.response_date)}: "
                                 "presign it again", "proved", iso(expires_at), iso(ctx.response_date))]
    skew = abs(signed_at - ctx.response_date)
    if p.presigned or skew < timedelta(minutes=5):
        return []
    return [skew_cause(signed_at, ctx.response_date, None, "against the response Date header",
                        "proved" if skew > WIDEST_WINDOW else "likely")]
