"""Why a signature was refused: the causes, each with the evidence it rests on.

Strategy: the signed request carries everything our side needs (algorithm,
credential scope, signed-header list, request time, payload hash), so
`signature_params` reads it back and a `wire.debugger.mistakes.View` renders our
canonical request and string-to-sign without any secret. Evidence then comes
from three places, and every cause says which ("proved" or "likely"):

- the server's own words (`wire.debugger.complaint`): its time window, expected
  region, missing parts; and its canonical request or string-to-sign, which
  prove what the server computed. When it sent only the string-to-sign, the
  known-mistake search (`wire.debugger.mistakes.search`) looks for the variant of our
  view whose SHA-256 is its fourth line;
- the secret: the sent signature is a fingerprint of exactly what the client
  canonicalized, so the same search, accepting a variant only when it
  reproduces the signature sent, proves what the client signed;
- neither: what the request itself shows (an unsorted query, a `+`, a port)
  makes a cause likely, and the cause then says what would settle it.

Causes are ordered proved first, then by where the evidence came from;
informational lines go to `notes`. `Diagnosis.to_json` and the text report
(`wire.debugger.diagnosis_text`) redact session tokens; the secret is only ever an
HMAC or ECDSA key here. The declared parameters are read by
`wire.debugger.signature_params`, the mistakes searched by `wire.debugger.mistakes`, two canonical
requests compared by `wire.debugger.string_diff`, the client named by `wire.debugger.clients`; the
vocabulary is `wire.debugger.causes`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote

from sigv4 import v4a
from sigv4.canonical import S3_SERVICES, CanonicalRules, normalize_path, query_pairs, uri_encode
from sigv4.keys import signature_hex, signing_key
from sigv4.payload import UNSIGNED_PAYLOAD, payload_hash
from sigv4.types import Credentials, Request
from sigv4.verify import UNSIGNED_TOKEN_SERVICES
from wire.debugger.capture import Capture
from wire.debugger.causes import CAUSE_KINDS, Cause, Evidence
from wire.debugger.clients import HAND_ROLLED, REQUEST_SHAPE_QUIRKS, Client, identify
from wire.debugger.complaint import ServerComplaint, read_error, response_date, split_response
from wire.debugger.mistakes import CHARSET, SEARCH_BUDGET, Match, View, search, split_port
from wire.debugger.signature_params import DiagnoseError, SignatureParams, signature_params
from wire.debugger.string_diff import DiffRow, diff_causes, line_diff, sts_causes

__all__ = [
    "CAUSE_KINDS", "Cause", "Diagnosis", "DiagnoseError", "DiffRow", "ServerComplaint", "SignatureCheck",
    "SignatureParams", "diagnose", "diagnose_answer", "diagnose_capture", "line_diff", "read_error", "redact", "signature_params",
    "split_response",
]

#: Services signed for us-east-1 whatever the caller's region.
_GLOBAL_SERVICES = frozenset({"iam", "route53", "cloudfront", "organizations", "globalaccelerator", "shield"})

# -- our canonical request ------------------------------------------------------------------


def _signed_query(query: str, service: str) -> str:
    """The query the signature covers: without X-Amz-Signature, and without the session token for a service
    that reads it unsigned (AWS IoT: the client appends it after signing), as `sigv4.verify` reads them."""
    dropped = {"X-Amz-Signature", "X-Amz-Security-Token"} if service in UNSIGNED_TOKEN_SERVICES else {"X-Amz-Signature"}
    return "&".join(p for p in query.split("&") if p and unquote(p.partition("=")[0]) not in dropped)


def _our_payload_hash(request: Request, params: SignatureParams, body_known: bool) -> str | None:
    """The payload line our side signs; None when the capture does not show the body and nothing declares it."""
    declared = request.header("x-amz-content-sha256")
    if declared:
        return declared
    if params.presigned and params.service in S3_SERVICES:
        return UNSIGNED_PAYLOAD
    if not body_known:
        return None
    return payload_hash(request.body)


#: Stands for a payload hash the capture cannot give (never equal to a real one).
_UNKNOWN_PAYLOAD = "<body not in the capture>"


def _view(request: Request, params: SignatureParams, payload: str | None) -> View:
    s3 = params.service in S3_SERVICES
    return View(
        method=request.method, path=request.path, query=_signed_query(request.query, params.service),
        headers=tuple((n.lower(), v) for n, v in request.headers), signed=params.signed_headers,
        payload_hash=payload or _UNKNOWN_PAYLOAD,
        rules=CanonicalRules(normalize_path=not s3, double_encode=not s3),
        body=request.body if isinstance(request.body, bytes) and payload is not None else None,
    )


def _string_to_sign(params: SignatureParams, canonical: str, scope: str | None = None) -> str:
    # surrogateescape: a query byte that is not UTF-8 decodes to a lone surrogate (sigv4.canonical.query_pairs).
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogateescape")).hexdigest()
    return f"{params.algorithm}\n{params.amz_date}\n{scope or params.scope}\n{digest}"


def _same_signature(computed: str, sent: str) -> bool:
    """Constant-time. Compared as bytes: a captured signature may hold any text, and
    compare_digest raises on a non-ASCII str."""
    return hmac.compare_digest(computed.encode("utf-8"), sent.encode("utf-8"))


SignatureTest = Callable[[str], bool]


def _signature_test(secret: str, params: SignatureParams, date: str | None = None, region: str | None = None,
                    service: str | None = None) -> SignatureTest:
    """A predicate: does this string-to-sign, signed with the secret, give the signature sent?

    SigV4 derives its key from the scope (overridable, for the scope mistakes);
    SigV4a signatures are random, so they are verified with the derived public key.
    """
    if params.v4a:
        public = v4a.private_key(Credentials(params.access_key_id, secret)).public_key()
        return lambda text: v4a.verify_string(public, text, params.signature)
    key = signing_key(secret, date or params.scope_date, region or params.region, service or params.service)
    return lambda text: _same_signature(signature_hex(key, text), params.signature)


# -- causes -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """With a secret: whether the signature sent is reproduced over our and the server's string-to-sign.

    `ours`/`theirs` hold the HMAC signatures for SigV4; for SigV4a (random
    signatures) they hold "verified" or "not verified".
    """

    provided: str
    ours: str
    ours_matches: bool
    theirs: str | None
    theirs_matches: bool | None


@dataclass(frozen=True, slots=True)
class _Context:
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


def _duration(delta: timedelta) -> str:
    seconds = int(abs(delta.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else "", f"{secs} s" if secs or not seconds else ""]
    return " ".join(p for p in parts if p)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _skew_cause(request_time: datetime, server_time: datetime, window: timedelta | None, source: str,
                evidence: Evidence = "proved") -> Cause:
    skew = request_time - server_time
    direction = "behind" if skew < timedelta(0) else "ahead of"
    allowed = f"; allowed ±{_duration(window)}" if window else ""
    return Cause("clock-skew",
                 f"clock skew: the request time {_iso(request_time)} is {_duration(skew)} {direction} the server's "
                 f"clock {_iso(server_time)} ({source}{allowed}); sign with the current time (sync the clock, NTP)",
                 evidence, _iso(request_time), _iso(server_time))


def _expiry(p: SignatureParams) -> datetime | None:
    """When a presigned request stops working (X-Amz-Date + X-Amz-Expires); None when unknown or past year 9999."""
    signed_at = _parse_amz_date(p.amz_date)
    try:
        return signed_at + timedelta(seconds=p.expires) if signed_at and p.expires is not None else None
    except OverflowError:
        return None


def _parse_amz_date(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def _key(ctx: _Context) -> str:
    return f"{ctx.params.access_key_id[:8]}…" if ctx.params else "the key"


# -- what the complaint itself says ----------------------------------------------------------


def _time_causes(ctx: _Context) -> list[Cause]:
    c, p = ctx.complaint, ctx.params
    now = (c.server_time or ctx.response_date) if c else None
    if c is not None and p is not None and p.presigned and (c.expires_at is not None or (
            now is not None and (end := _expiry(p)) is not None and end < now)):
        # A presigned URL past X-Amz-Date + X-Amz-Expires: the lifetime ran out, the clock may be right.
        return _expired_causes(ctx)
    if c is None or c.request_time is None or c.server_time is None:
        return [Cause("clock-skew", "the server says the request time is outside its window; sign with the current "
                                    "time (sync the clock, NTP)")]
    return [_skew_cause(c.request_time, c.server_time, c.allowed_skew, f"server said {c.code or c.kind}")]


def _expired_causes(ctx: _Context) -> list[Cause]:
    c, p = ctx.complaint, ctx.params
    assert c is not None
    if p is not None and not p.presigned:
        # EC2's RequestExpired for a header-signed request: its time is outside the window, a clock skew.
        signed_at, server_time = _parse_amz_date(p.amz_date), c.server_time or ctx.response_date
        if signed_at is not None and server_time is not None:
            return [_skew_cause(signed_at, server_time, None, f"server said {c.code or c.kind}")]
        return _time_causes(ctx)
    expires_at = c.expires_at or (_expiry(p) if p else None)
    server_time = c.server_time or ctx.response_date
    if expires_at is None or server_time is None:
        return [Cause("expired", "the presigned request has expired; presign it again with a longer X-Amz-Expires")]
    return [Cause("expired", f"the presigned request expired at {_iso(expires_at)}; the server's clock read "
                             f"{_iso(server_time)} ({_duration(server_time - expires_at)} later)"
                             + (f"; it was signed at {p.amz_date} for X-Amz-Expires={p.expires}" if p else ""),
                  "proved", _iso(expires_at), _iso(server_time))]


def _scope_causes(ctx: _Context) -> list[Cause]:
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


def _payload_complaint_causes(ctx: _Context) -> list[Cause]:
    c = ctx.complaint
    assert c is not None
    body = ctx.sent.body if isinstance(ctx.sent.body, bytes) and ctx.payload_known else None
    body_hash = hashlib.sha256(body).hexdigest() if body is not None else None
    if body_hash is not None and body_hash == c.client_sha256:
        hint = "the body we have hashes to the header's value, so the body changed in transit"
    elif body_hash is not None and body_hash == c.server_sha256:
        hint = "the body we have hashes to the server's value, so x-amz-content-sha256 was computed over other bytes"
    else:
        hint = "x-amz-content-sha256 must be the SHA-256 of the exact bytes sent"
    return [Cause("payload-hash", f"body hash: the request's x-amz-content-sha256 is {c.client_sha256}, the "
                                  f"server's {c.server_sha256}; {hint}", "proved", c.client_sha256, c.server_sha256)]


def _incomplete_causes(ctx: _Context) -> list[Cause]:
    c = ctx.complaint
    assert c is not None
    if "host" in c.missing:
        return [Cause("header-unsigned", "`host` must be a signed header: add it to SignedHeaders and sign it")]
    parts = ", ".join(c.missing)
    found = f"the server did not find {parts}" if parts else "the server did not say which part is missing"
    return [Cause("algorithm", f"the signature is incomplete ({found}): an AWS4-HMAC-SHA256 Authorization header "
                               "needs Credential=, SignedHeaders= and Signature=, and X-Amz-Date (or Date) must be "
                               "present")]


def _unsigned_causes(ctx: _Context) -> list[Cause]:
    c = ctx.complaint
    assert c is not None
    names = ", ".join(f"`{n}`" for n in c.unsigned_headers) or "some headers"
    return [Cause("header-unsigned", f"the request carries {names} without signing them; S3 requires every "
                                     "x-amz-* header it sends to be in SignedHeaders")]


def _sent_token(request: Request) -> str | None:
    return request.header("x-amz-security-token") or dict(query_pairs(request.query)).get("X-Amz-Security-Token")


def _credential_causes(ctx: _Context) -> list[Cause]:
    """Token and unknown-key complaints. AWS says "the security token included in the request is invalid"
    for an unknown access key id too; without a token in the request, that is what it means."""
    c = ctx.complaint
    assert c is not None
    key = ctx.params.access_key_id if ctx.params else ""
    token = _sent_token(ctx.sent)
    if c.kind == "token-expired":
        return [Cause("token", "the session token has expired: fetch fresh temporary credentials")]
    if not token and key.startswith("ASIA"):
        return [Cause("token", f"temporary key {key[:8]}… is used without X-Amz-Security-Token: send its session "
                               "token")]
    if token and c.kind == "token-invalid":
        return [Cause("token", "the session token is invalid for this key (a token from other credentials, a "
                               "long-term AKIA key sent with a token, or a token from another partition)", "likely"),
                Cause("access-key", f"or the access key id {key[:8]}… is not known to this endpoint", "likely")]
    return [Cause("access-key", f"the access key id {key[:8]}… is not known to this endpoint (no session token was "
                                "sent, so the key id itself is unknown: a wrong, deleted or mistyped key, or an "
                                "endpoint in another partition)")]


#: Complaint kind -> the rule that reads its facts.
_COMPLAINT_RULES: dict[str, Callable[[_Context], list[Cause]]] = {
    "signature-expired": _time_causes,
    "signature-not-yet-current": _time_causes,
    "clock-skew": _time_causes,
    "request-expired": _expired_causes,
    "wrong-region": _scope_causes,
    "wrong-scope": _scope_causes,
    "payload-hash": _payload_complaint_causes,
    "incomplete-signature": _incomplete_causes,
    "headers-not-signed": _unsigned_causes,
    "token-expired": _credential_causes,
    "token-invalid": _credential_causes,
    "unknown-access-key": _credential_causes,
}

#: Complaints about the signature itself, where comparing the strings is the diagnosis.
_MISMATCH_KINDS = frozenset({"signature-mismatch", "missing-authentication", "other"})  # "other": only for a 4xx
#: Statuses a signature refusal comes with (EC2's AuthFailure is 401); a named error with another status
#: (400 MalformedQueryString, 404 NoSuchKey, 400 ValidationException) is about something else.
_AUTH_STATUSES = frozenset({None, 401, 403})
#: An IAM denial: the signature was accepted, the policy refused (moto, STS, IAM: "... is not authorized to perform").
_NOT_AUTHORIZED = re.compile(r"is not authorized to perform")


def _not_about_signing(complaint: ServerComplaint) -> bool:
    """Whether the server named an error that is no signature refusal (see `_AUTH_STATUSES`, `_NOT_AUTHORIZED`),
    or answered what no signature causes: a server error (5xx), an HTML page (a load balancer, a proxy)."""
    if complaint.status is not None and complaint.status >= 500:
        return True
    if complaint.envelope == "text" and re.match(r"\s*<(?:!doctype html|html)", complaint.message or "", re.I):
        return True
    return complaint.kind == "other" and bool(complaint.code) and (
        complaint.status not in _AUTH_STATUSES or bool(_NOT_AUTHORIZED.search(complaint.message or "")))


def _may_be_mismatch(complaint: ServerComplaint) -> bool:
    return complaint.kind in _MISMATCH_KINDS and not _not_about_signing(complaint)


def _complaint_causes(ctx: _Context) -> list[Cause]:
    rule = _COMPLAINT_RULES.get(ctx.complaint.kind) if ctx.complaint else None
    return rule(ctx) if rule else []


# -- what the server's strings say -------------------------------------------------------------


def _mistake_causes(match: Match, signed: bool) -> list[Cause]:
    return [Cause(m.kind, ("reproduces the signature you sent: " if signed else
                           "reproduces the server's canonical request: ")
                  + (m.as_signed() if signed else m.as_received())) for m in match.mistakes]


@dataclass(frozen=True, slots=True)
class _ServerSide:
    """What the server's strings gave: its canonical request (sent or reconstructed) and the causes."""

    canonical: str | None
    reconstructed: bool
    causes: list[Cause]
    notes: list[str]


def _server_side(ctx: _Context) -> _ServerSide:
    view, ours, theirs_sts = ctx.view, ctx.ours_canonical, ctx.theirs_sts
    theirs = ctx.theirs_canonical
    if view is None or ours is None or ctx.ours_sts is None:
        return _ServerSide(theirs, False, [], [])
    causes = sts_causes(ctx.ours_sts, theirs_sts) if theirs_sts else []
    if theirs is not None:
        if theirs == ours:
            return _ServerSide(theirs, False, causes, [])
        match = search(view, lambda text: text == theirs)
        return _ServerSide(theirs, False, causes + (_mistake_causes(match, False) if match else
                                                    diff_causes(ours, theirs)), [])
    if not theirs_sts:
        return _ServerSide(None, False, [], [])
    their_hash = theirs_sts.split("\n")[-1].strip()
    if ctx.ours_sts.split("\n")[-1] == their_hash:
        return _ServerSide(ours, False, causes, [])
    match = search(view, lambda text: _sha256_hex(text) == their_hash)
    if match:
        return _ServerSide(match.canonical, True, causes + _mistake_causes(match, False),
                           ["the server's canonical request is reconstructed: a known variant of ours hashes to "
                            "the last line of its string-to-sign"])
    return _ServerSide(None, False, causes + [Cause(
        "header-changed", f"the server's canonical request differs from ours (its hash {their_hash[:16]}… is not "
                          "ours) and no known mistake reproduces it: most often a signed header value or the body "
                          "changed in a way the capture does not show; the server's full canonical request (S3's "
                          "CanonicalRequest, a JSON service's message) or --secret would settle it", "likely")], [])


def _sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()  # see _string_to_sign


# -- what the secret proves ---------------------------------------------------------------------


def _host_labels(host: str) -> list[str]:
    return [label for label in split_port(host)[0].split(".") if label and not label.isdigit()]


def _scope_alternatives(ctx: _Context) -> list[tuple[str, str, str, str]]:
    """(kind, date, region, service) scopes a signer plausibly used instead of the one it declared."""
    p = ctx.params
    assert p is not None
    labels = _host_labels(ctx.sent.header("host") or "")
    regions = [r for r in ("us-east-1", *(lb for lb in labels if re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", lb)))
               if r != p.region]
    services = [s for s in labels[:3] if s != p.service and re.fullmatch(r"[a-z][a-z0-9-]*", s)
                and not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", s)]
    day = datetime.strptime(p.scope_date, "%Y%m%d") if re.fullmatch(r"\d{8}", p.scope_date) else None
    dates: list[str] = []
    for shift in (-1, 1):
        try:
            dates += [(day + timedelta(days=shift)).strftime("%Y%m%d")] if day else []
        except OverflowError:  # a scope date of 00010101 or 99991231 has one neighbour
            pass
    return ([("scope-region", p.scope_date, r, p.service) for r in dict.fromkeys(regions)]
            + [("scope-service", p.scope_date, p.region, s) for s in dict.fromkeys(services)]
            + [("scope-date", d, p.region, p.service) for d in dates])


def _scope_search(ctx: _Context) -> Cause | None:
    """A scope the client derived its key (and maybe its string-to-sign) from instead of the declared one."""
    p, ours = ctx.params, ctx.ours_canonical
    assert p is not None and ours is not None and ctx.secret is not None
    if p.v4a:
        return None
    for kind, date, region, service in _scope_alternatives(ctx):
        test = _signature_test(ctx.secret, p, date, region, service)
        scope = f"{date}/{region}/{service}/{p.terminator}"
        for text, where in ((_string_to_sign(p, ours), "its key"), (_string_to_sign(p, ours, scope), "its key and "
                                                                                                     "string-to-sign")):
            if test(text):
                return Cause(kind, f"reproduces the signature you sent: the client derived {where} for "
                                   f"`{scope}` but declared `{p.scope}` in the Credential")
    return None


def _date_search(ctx: _Context, test: SignatureTest) -> Cause | None:
    """An X-Amz-Date header rewritten in transit: the second, within the widest window a server allows, that
    the client signed (its canonical request and string-to-sign both hold it)."""
    p, view = ctx.params, ctx.view
    sent_at = _parse_amz_date(p.amz_date) if p else None
    if p is None or view is None or p.presigned or p.v4a or sent_at is None or view.header("x-amz-date") != p.amz_date:
        return None
    window = int(_WIDEST_WINDOW.total_seconds())
    if len(view.canonical()) * 2 * window > SEARCH_BUDGET:
        return None  # a request this large would take too long to re-render 1,800 times
    for offset in sorted(range(-window, window + 1), key=abs)[1:]:
        try:
            signed_at = (sent_at + timedelta(seconds=offset)).strftime("%Y%m%dT%H%M%SZ")
        except OverflowError:
            continue
        canonical = view.with_header("x-amz-date", signed_at).canonical()
        if test(f"{p.algorithm}\n{signed_at}\n{p.scope}\n{_sha256_hex(canonical)}"):
            return Cause("header-changed", f"reproduces the signature you sent: the client signed X-Amz-Date "
                                           f"{signed_at}, but the request carries {p.amz_date} (rewritten in transit, "
                                           "by a proxy or a retry that re-dated the request without signing it again)",
                         "proved", signed_at, p.amz_date)
    return None


def _secret_causes(ctx: _Context) -> tuple[list[Cause], list[str], SignatureCheck | None]:
    """The key's share of the story: what a secret proves about what the client signed."""
    p, view = ctx.params, ctx.view
    if p is None or view is None or ctx.ours_sts is None or ctx.secret is None:
        return [], [], None
    if not ctx.payload_known:
        return [], ["the signature cannot be checked with the secret: the capture does not show the body and the "
                    "request has no x-amz-content-sha256 (capture with the body, e.g. HAR or `curl --trace-ascii`)"], None
    test = _signature_test(ctx.secret, p)
    ours_ok = test(ctx.ours_sts)
    theirs_ok = test(ctx.theirs_sts) if ctx.theirs_sts else None
    secret = ctx.secret

    def shown(text: str) -> str:
        if p.v4a:
            return "verified" if test(text) else "not verified"
        return signature_hex(signing_key(secret, p.scope_date, p.region, p.service), text)

    check = SignatureCheck(p.signature, shown(ctx.ours_sts), ours_ok,
                           shown(ctx.theirs_sts) if ctx.theirs_sts else None, theirs_ok)
    if ours_ok:
        return [], ["with the given secret the signature sent verifies over our canonical request: the client "
                    "signed exactly what the capture shows"], check
    match = search(view, lambda text: test(_string_to_sign(p, text)))
    if match:
        return _mistake_causes(match, True), [], check
    scoped = _scope_search(ctx) or _date_search(ctx, test)
    if scoped:
        return [scoped], [], check
    return [Cause("secret", f"the signature sent does not verify with the given secret over our canonical request or "
                            "any known signer mistake: the client signed with another secret than the one given "
                            f"for {_key(ctx)} (check the profile), or over content the capture does not show",
                  "likely")], [], check


# -- what the request alone makes likely --------------------------------------------------------

#: What would settle a likely cause: the secret, or the server's canonical request when it sent none (not when
#: its strings agree with ours: it sent them); with the secret given, the body it could not be checked without.
_SETTLE = {"no secret": "--secret (or the server's canonical request) would settle it",
           "no secret, strings agree": "--secret would settle it",
           "secret": "the body (a HAR or `curl --trace-ascii` capture) would let the given secret settle it"}


def _likely_causes(ctx: _Context, strings_agree: bool) -> list[Cause]:
    """Causes the request makes plausible when neither the server's strings nor a secret decide."""
    view = ctx.view
    if view is None:
        return []
    known = ("the server computed the same canonical request and string-to-sign as we do, so the server read the "
             "request as SigV4 says; what differs is what the client signed or the key"
             if strings_agree else "the server sent no canonical request or string-to-sign to compare")
    suspects: list[tuple[str, str]] = []
    # A presigned URL's own X-Amz-* parameters say nothing about the signer: they are left out.
    pairs = [(n, v) for n, v in query_pairs(view.query) if not n.startswith("X-Amz-")]
    encoded = [(uri_encode(n, keep_slash=False), uri_encode(v, keep_slash=False)) for n, v in pairs]
    if encoded != sorted(encoded):
        suspects.append(("query-order", "the query is not in sorted order as sent, and signers that do not sort "
                                        "(curl 7.88 `--aws-sigv4`, hand-rolled ones) sign it in that order"))
    if "+" in view.query:
        suspects.append(("plus-space", "the query holds a `+`, which signers read as a space, a plus or leave as is"))
    if any(not value for _, value in pairs):
        suspects.append(("query-empty-value", "the query has a parameter without a value (`x` vs `x=`)"))
    if any(re.search(r"%[0-9A-Fa-f]{2}", part) for part in view.query.split("&") if not part.startswith("X-Amz-")):
        suspects.append(("query-encoding", "the query holds %-escapes some signers encode again"))
    if view.path != normalize_path(view.path):
        suspects.append(("path-normalization", "the path has `//`, `.` or `..` segments signers treat differently"))
    if "%" in view.path or "+" in view.path:
        suspects.append(("path-encoding", "the path has %-escapes or `+`, which S3 and other services encode "
                                          "differently"))
    if any(re.search(r"\S\s{2,}\S", value) for name, value in view.headers if name in view.signed):
        suspects.append(("header-changed", "a signed header value has runs of spaces, which SigV4 collapses and "
                                           "some signers do not"))
    host = view.header("host") or ""
    port = split_port(host)[1]
    if port in ("443", "80"):
        suspects.append(("host-port", f"Host `{host}` names the default port, which signers and proxies drop"))
    content_type = view.header("content-type") or ""
    if CHARSET.search(content_type) and "content-type" in view.signed:
        suspects.append(("header-changed", "Content-Type has a charset, which HTTP libraries and proxies add or "
                                           "drop"))
    # What every request of its kind has (a port on a local endpoint, a trailing slash, a body) is no evidence:
    # it comes after the most common cause.
    weak = len(suspects)
    if view.path.endswith("/") and view.path.strip("/"):
        suspects.append(("trailing-slash", "the path ends in `/`, which HTTP libraries and frameworks add or drop"))
    if port not in ("", "443", "80"):
        suspects.append(("host-port", f"Host `{host}` has a port, which hand-rolled signers drop"))
    if not strings_agree and ctx.payload_known and view.body and not _declared_hash_matches(ctx):
        suspects.append(("payload-hash", "the request has a body, which proxies and libraries re-encode"))
    if strings_agree and view.body and not _declared_hash_matches(ctx):
        # The server hashed the body it received, as we did; a body changed after signing but before the
        # capture (the client's own code, a file edited between `sign` and `send`) agrees too.
        suspects.append(("payload-hash", "the body may have changed after signing, before it was captured"))
    # A request shape is evidence only for a client whose signer has that quirk; for the others it is their
    # normal behaviour (botocore's charset, its unsorted S3 list query). Then the most common cause.
    client = ctx.client
    quirks = [s for s in suspects[:weak] if s[0] in client.quirks]
    others = [s for s in suspects[weak:] if s[0] in client.quirks or s[0] not in REQUEST_SHAPE_QUIRKS]
    secret = ("secret", f"the secret access key may not be the one AWS holds for {_key(ctx)}, the most common cause "
                        "(rotated key, wrong profile, key id and secret from different pairs)")
    # EC2 answers a wrong signature with SignatureDoesNotMatch; AuthFailure is its answer for credentials it
    # cannot find: a key id it does not know (or a key of an account that cannot use EC2) comes first then.
    if ctx.complaint is not None and ctx.complaint.code == "AuthFailure":
        unknown_key = ("access-key", f"EC2's AuthFailure (\"not able to validate the provided access credentials\") "
                                     f"is its answer for an access key id it does not know ({_key(ctx)}), not for a "
                                     "wrong signature (SignatureDoesNotMatch); a call with the same key to another "
                                     "service (sts get-caller-identity) would tell")
        ranked = [*quirks, unknown_key, secret, *others]
    else:
        ranked = [*quirks, secret, *others]
    who = f"the client is {client.name}" + (f" ({client.known_for})" if client.known_for else "")
    settle = _SETTLE["secret" if ctx.secret is not None else "no secret, strings agree" if strings_agree
                     else "no secret"]
    if client.logs and ctx.secret is None:
        settle += f"; so would what the client signed ({client.logs})"
    return [Cause(kind, f"not proved: {known + '; ' + who + '; ' if i == 0 else ''}{why}; {settle}", "likely")
            for i, (kind, why) in enumerate(ranked)]


def _declared_hash_matches(ctx: _Context) -> bool:
    """Whether the request declares an x-amz-content-sha256 that is the captured body's hash."""
    declared = ctx.sent.header("x-amz-content-sha256")
    body = ctx.sent.body
    return bool(declared) and isinstance(body, bytes) and ctx.payload_known and \
        declared == hashlib.sha256(body).hexdigest()


#: Hop-by-hop headers (RFC 9110 7.6.1): every proxy may rewrite or drop them, so signing one breaks in transit.
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
                         "proxy-connection", "proxy-authorization"})
#: The longest window any service allows between the request time and its clock (S3: 15 minutes).
_WIDEST_WINDOW = timedelta(minutes=15)


def _request_causes(ctx: _Context) -> list[Cause]:
    """What the request itself proves: signed headers it does not carry, a scope date that is not its date, a
    token with a long-term key or appended after a presigned signature, a declared body hash that is not the
    body's, an expiry or a clock skew against the response's Date; a signed hop-by-hop header is likely."""
    causes = []
    p, view = ctx.params, ctx.view
    if view is not None:
        present = {n for n, _ in view.headers}
        causes += [Cause("header-dropped", f"`{name}` is listed in SignedHeaders but the request does not carry it")
                   for name in view.signed if name not in present]
    if p is None:
        return causes
    if re.fullmatch(r"\d{8}T\d{6}Z", p.amz_date) and p.scope_date != p.amz_date[:8]:
        causes.append(Cause("scope-date", f"the credential scope's date {p.scope_date} is not the date of the "
                                          f"request time {p.amz_date} (X-Amz-Date): sign with one timestamp for "
                                          "both", "proved", p.scope_date, p.amz_date[:8]))
    causes += _token_causes(ctx, p)
    declared = ctx.sent.header("x-amz-content-sha256") or ""
    body = ctx.sent.body
    if re.fullmatch(r"[0-9a-f]{64}", declared) and isinstance(body, bytes) and ctx.payload_known and \
            declared != hashlib.sha256(body).hexdigest():
        causes.append(Cause("payload-hash", f"x-amz-content-sha256 declares {declared[:16]}…, but the body the "
                                            f"capture holds hashes to {hashlib.sha256(body).hexdigest()[:16]}…: the "
                                            "body changed after its hash was computed", "proved", declared,
                            hashlib.sha256(body).hexdigest()))
    if view is not None:
        causes += [Cause("header-changed", f"the hop-by-hop header `{name}` is signed: proxies and HTTP libraries "
                                           "rewrite or drop it in transit; leave it out of SignedHeaders", "likely")
                   for name in view.signed if name in _HOP_BY_HOP]
    return causes + _time_against_response(ctx, p)


def _token_causes(ctx: _Context, p: SignatureParams) -> list[Cause]:
    token = _sent_token(ctx.sent)
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


def _time_against_response(ctx: _Context, p: SignatureParams) -> list[Cause]:
    """An expired presigned URL, or a clock skew, read against the response's Date when the complaint gives no
    times (S3's HEAD answers 403 with no body at all)."""
    signed_at = _parse_amz_date(p.amz_date)
    has_times = ctx.complaint is not None and ctx.complaint.server_time is not None
    if ctx.response_date is None or signed_at is None or has_times:
        return []
    expires_at = _expiry(p) if p.presigned else None
    if expires_at is not None and expires_at < ctx.response_date:
        return [Cause("expired", f"the presigned request expired at {_iso(expires_at)} (signed at {p.amz_date} for "
                                 f"X-Amz-Expires={p.expires}); the response is dated {_iso(ctx.response_date)}: "
                                 "presign it again", "proved", _iso(expires_at), _iso(ctx.response_date))]
    skew = abs(signed_at - ctx.response_date)
    if p.presigned or skew < timedelta(minutes=5):
        return []
    return [_skew_cause(signed_at, ctx.response_date, None, "against the response Date header",
                        "proved" if skew > _WIDEST_WINDOW else "likely")]


# -- what the client logged ------------------------------------------------------------------


def _logged_causes(ctx: _Context) -> tuple[list[Cause], list[str]]:
    """What the client's own strings (aws --debug, awscurl -v) prove. Equal to the server's: the server computed
    exactly what the client signed, so only the key differs. Different: the differing lines name the change.
    With no server strings they are compared with the capture: what the client signed against what it sent."""
    logged_c, logged_s = ctx.logged_canonical, ctx.logged_sts
    if ctx.params is None or (logged_c is None and logged_s is None) or ctx.complaint is None or \
            not _may_be_mismatch(ctx.complaint):
        return [], []
    theirs_c, theirs_s = ctx.theirs_canonical, ctx.theirs_sts
    if theirs_c is None and theirs_s is None:
        theirs_c, theirs_s, whose = ctx.ours_canonical, ctx.ours_sts, "the request as captured"
    else:
        whose = "the server's"
    if (logged_c is None or theirs_c is None or logged_c == theirs_c) and \
            (logged_s is None or theirs_s is None or logged_s == theirs_s):
        if whose != "the server's":
            return [], ["the canonical request and string-to-sign the client logged are those of the request as "
                        "captured: the client signed what it sent"]
        token = " (or the session token is not the one issued with this key)" if _sent_token(ctx.sent) else ""
        return [Cause("secret", f"the client ({ctx.client.name}) logged the canonical request and string-to-sign it "
                                "signed, and the server computed the same ones: only the key differs, so AWS holds "
                                f"another secret for {_key(ctx)} than the client used{token} (rotated key, wrong "
                                "profile, key id and secret from different pairs)")], []
    found = diff_causes(logged_c, theirs_c) if logged_c and theirs_c else sts_causes(logged_s or "", theirs_s or "")
    return [replace(c, message=f"the client logged what it signed, and {whose} differs: {c.message}")
            for c in found], []


# -- the diagnosis ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """Our side, the server's side, their line diffs, the causes (most likely first) and notes."""

    complaint: ServerComplaint | None
    params: SignatureParams | None
    ours_canonical_request: str | None
    ours_string_to_sign: str | None
    theirs_canonical_request: str | None
    theirs_string_to_sign: str | None
    #: True when the server's canonical request is our reconstruction (a variant reproduced its hash).
    theirs_reconstructed: bool
    canonical_diff: tuple[DiffRow, ...]
    string_to_sign_diff: tuple[DiffRow, ...]
    causes: tuple[Cause, ...]
    signature_check: SignatureCheck | None
    #: Informational lines that are not causes (what the server did not send, what was assumed).
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (`causes`: kind, message, evidence...; `notes`); session tokens redacted."""
        redacted: dict[str, Any] = _redact_tree(_as_json(self))
        return redacted


def _as_json(value: Any) -> Any:
    if isinstance(value, (Diagnosis, Cause, DiffRow, SignatureCheck, SignatureParams, ServerComplaint)):
        return {name: _as_json(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, (tuple, list)):
        return [_as_json(v) for v in value]
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


def _complaint_notes(complaint: ServerComplaint | None, has_strings: bool, secret_given: bool,
                     params: SignatureParams | None) -> list[str]:
    if complaint is None:
        return []
    notes = []
    # S3 echoes what it received: when that is not what the capture holds, the two are different requests.
    if params and complaint.signature_provided and complaint.signature_provided != params.signature:
        notes.append(f"the server received signature {complaint.signature_provided[:16]}…, the capture holds "
                     f"{params.signature[:16]}…: the response is not about this request (a retry signed again, or "
                     "another request of the capture: --pick)")
    if params and complaint.access_key_id and complaint.access_key_id != params.access_key_id:
        notes.append(f"the server received access key id {complaint.access_key_id[:8]}…, the capture holds "
                     f"{params.access_key_id[:8]}…: the response is not about this request")
    if _not_about_signing(complaint):
        notes.append(f"the server answered {complaint.status or ''} {complaint.code}: "
                     f"{complaint.code} is not a signature error; the server did not refuse the signature, so no "
                     "signing cause is named (read its message)")
    elif not has_strings and _may_be_mismatch(complaint) and not _route_not_found(complaint, params):
        what = f"{complaint.code or 'no error code'}, {complaint.envelope} envelope"
        settle = ("" if secret_given else "; --secret (checks what the client signed) or a response with the "
                  "server's strings (S3's CanonicalRequest, a JSON service's message) would settle it")
        notes.append(f"the server sent no canonical request and no string-to-sign ({what}): what it computed cannot "
                     f"be compared{settle}")
    if _route_not_found(complaint, params):
        notes.append("MissingAuthenticationToken for a request that carries a signature: the server found no route "
                     "for this method and path (API Gateway and `sigv4 serve` answer this for a resource path, stage "
                     "or method that does not exist), so it never checked the signature: check the URL and the "
                     "method; no signing cause is named")
    elif complaint.kind == "missing-authentication":
        notes.append("MissingAuthenticationToken: the server found no signature it reads; API Gateway also answers "
                     "this for a resource path, stage or method that does not exist")
    if complaint.kind == "other" and complaint.envelope in ("text", "empty"):
        notes.append("the response is not an AWS error envelope (no error code found)")
    return notes


def _route_not_found(complaint: ServerComplaint | None, params: SignatureParams | None) -> bool:
    """MissingAuthenticationToken for a signed request: API Gateway's answer for a route that does not exist."""
    return complaint is not None and complaint.kind == "missing-authentication" and params is not None


#: Rank of a cause's source: the server's facts, then the signature proof, then the client's logged strings,
#: then the server's strings, then the request.
_ORDER = ("complaint", "secret", "logged", "strings", "request", "likely")


def diagnose(sent: Request, complaint: ServerComplaint | None = None, *, secret: Credentials | str | None = None,
             response_date: datetime | None = None, body_known: bool = True,
             notes: Sequence[str] = (), client: Client | None = None,
             logged: tuple[str | None, str | None] = (None, None)) -> Diagnosis:
    """Compare the signed request `sent` with the server's `complaint` and name the causes, most likely first.

    No secret is needed: our canonical request and string-to-sign are rebuilt
    from `sent` itself. With `secret` (a secret access key or `Credentials`),
    the signature sent is checked, and when it does not verify the known
    signer mistakes are searched for the one that reproduces it. With
    `complaint` None it explains `sent` alone. `body_known=False` says the
    capture does not show the body (then x-amz-content-sha256 or the server's
    payload line stands in for it). `notes` (say, from the capture reader) are
    passed through. `client` is who signed (`wire.debugger.clients.identify`, from the User-Agent when not
    given); `logged` the canonical request and string-to-sign the client logged, when it did. Never prints
    or returns the secret.
    """
    secret_key = secret.secret_access_key if isinstance(secret, Credentials) else secret
    all_notes = list(notes)
    causes: dict[str, list[Cause]] = {name: [] for name in _ORDER}
    try:
        params: SignatureParams | None = signature_params(sent)
    except DiagnoseError as err:
        params = None
        all_notes.append(f"our side cannot be recomputed: {err}")
        if complaint is None or complaint.kind != "incomplete-signature":
            causes["request"].append(Cause("algorithm", f"the request's signature is not readable: {err}"))
    if isinstance(secret, Credentials) and params and secret.access_key_id != params.access_key_id:
        # Another key's secret would "prove" that every signature is wrong: it is not used.
        secret_key = None
        all_notes.append(f"the credentials given are for {secret.access_key_id[:8]}…, the request is signed by "
                         f"{params.access_key_id[:8]}…: the signature is not checked (give that key's credentials)")
    theirs_canonical = complaint.canonical_request if complaint else None
    theirs_sts = complaint.string_to_sign if complaint else None
    payload = _our_payload_hash(sent, params, body_known) if params else None
    if params and payload is None:
        their_payload = theirs_canonical.rsplit("\n", 1)[-1] if theirs_canonical else None
        payload = their_payload
        all_notes.append("the capture does not show the body and the request has no x-amz-content-sha256: "
                         + ("the server's payload hash is used for ours" if their_payload else
                            "body-dependent checks are skipped (capture the body: HAR, `curl --trace-ascii`)"))
    view = _view(sent, params, payload) if params else None
    ours_canonical = view.canonical() if view else None
    ours_sts = _string_to_sign(params, ours_canonical) if params and ours_canonical is not None else None
    ctx = _Context(sent, complaint, params, view, ours_canonical, ours_sts, theirs_canonical, theirs_sts,
                   secret_key, response_date, payload is not None, client or identify(sent), *logged)
    causes["complaint"] = _complaint_causes(ctx)
    server = _server_side(ctx)
    causes["strings"] = server.causes
    all_notes += server.notes
    secret_found, secret_notes, check = _secret_causes(ctx)
    all_notes += secret_notes
    has_strings = theirs_sts is not None or theirs_canonical is not None
    strings_agree = has_strings and not server.causes and (server.canonical in (None, ours_canonical))
    mismatch = complaint is not None and (_may_be_mismatch(complaint) and
                                          (complaint.status is None or complaint.status >= 400))
    if check is not None and check.ours_matches and mismatch and strings_agree:
        secret_found.append(Cause("secret", f"the signature sent verifies with the given secret and the "
                                            "server computed the same string-to-sign, so AWS holds a different "
                                            f"secret for {_key(ctx)} than the one given (rotated key, wrong profile, "
                                            "or key id and secret from different pairs)"))
    elif check is not None and check.ours_matches and mismatch and not has_strings:
        secret_found.append(Cause("secret", "not proved: the client signed exactly what the capture shows "
                                            "(the signature verifies with the given secret), and the server sent no "
                                            "strings: either the request changed after it was captured (a proxy) or "
                                            f"AWS holds another secret for {_key(ctx)}; the server's strings or a "
                                            "capture taken where the server receives would settle it", "likely"))
        if ctx.view is not None and re.search(r"%[0-9A-Fa-f]{2}|\+", ctx.view.path):
            # Right by SigV4, refused anyway: servers that decode the path their own way (moto refuses
            # boto3's own `PUT` of a key with `+` or non-ASCII) compute another canonical request.
            secret_found.append(Cause("path-encoding", f"not proved: the path `{ctx.view.path}` has %-escapes or "
                                                       "`+`, which some servers (S3-compatible stores, emulators "
                                                       "such as moto) decode and re-encode differently from "
                                                       "SigV4; the server's strings would settle it", "likely"))
    causes["secret"] = secret_found
    from_log, logged_notes = _logged_causes(ctx)
    # The client's strings against the server's and ours against the server's name the same change: once.
    causes["logged"] = [c for c in from_log if c.kind not in {s.kind for s in causes["strings"]}]
    all_notes += logged_notes
    causes["request"] += _request_causes(ctx)
    decided = any(c.evidence == "proved" for group in causes.values() for c in group)
    if mismatch and check is None and not decided and (strings_agree or not has_strings):
        causes["likely"] = _likely_causes(ctx, strings_agree)
    all_notes += _complaint_notes(complaint, has_strings, secret_key is not None, params)
    ordered = [] if _route_not_found(complaint, params) else \
        [c for name in _ORDER for c in causes[name] if c.evidence == "proved"] + \
        [c for name in _ORDER for c in causes[name] if c.evidence == "likely"]
    their_shown = theirs_canonical or (server.canonical if server.reconstructed else None)
    return Diagnosis(
        complaint=complaint, params=params, ours_canonical_request=ours_canonical, ours_string_to_sign=ours_sts,
        theirs_canonical_request=their_shown, theirs_string_to_sign=theirs_sts,
        theirs_reconstructed=server.reconstructed,
        canonical_diff=line_diff(ours_canonical, their_shown) if ours_canonical and their_shown else (),
        string_to_sign_diff=line_diff(ours_sts, theirs_sts) if ours_sts and theirs_sts else (),
        causes=tuple(_dedup(ordered)), signature_check=check, notes=tuple(dict.fromkeys(redact(n) for n in all_notes)),
    )


#: The server's answer as (status, headers, body): what a capture or a saved response holds.
Answer = tuple[int | None, Sequence[tuple[str, str]], bytes]


def diagnose_answer(sent: Request, answer: Answer | None, *, secret: Credentials | str | None = None,
                    body_known: bool = True, notes: Sequence[str] = (), client: Client | None = None,
                    logged: tuple[str | None, str | None] = (None, None)) -> Diagnosis:
    """`diagnose` for a request and the server's whole answer (None: no answer was captured, which the
    first note then says).

    A 4xx/5xx answer (or one without a status) is read as the complaint; a
    2xx/3xx answer is noted as accepted. The answer's Date header is what
    clock skew is measured against when the complaint gives no times.
    """
    status, headers, body = answer if answer is not None else (None, (), b"")
    complaint = read_error(status, headers, body) if answer is not None and (status is None or status >= 400) else None
    accepted = [f"the server answered {status}: it accepted the request"] if answer is not None and complaint is None \
        else []
    missing = [] if answer is not None else [
        "the capture holds no response: only what the request itself shows is checked (save the server's answer "
        "too: `sigv4 diff SENT RESPONSE`, curl -v or --trace-ascii, aws --debug)"]
    return diagnose(sent, complaint, secret=secret, response_date=response_date(headers), body_known=body_known,
                    notes=[*missing, *notes, *accepted], client=client, logged=logged)


def diagnose_capture(capture: Capture, answer: Answer | None = None, *, secret: Credentials | str | None = None,
                     notes: Sequence[str] = ()) -> Diagnosis:
    """`diagnose_answer` for a capture: its request, `answer` (the capture's own when None), the client it
    shows (User-Agent, or the format only that client writes) and the strings the client logged."""
    return diagnose_answer(capture.request, answer if answer is not None else capture.answer, secret=secret,
                           body_known=capture.body_known, notes=notes, client=identify(capture.request, capture.format),
                           logged=(capture.client_canonical_request, capture.client_string_to_sign))


def _dedup(causes: list[Cause]) -> list[Cause]:
    """Each change once: causes of one kind about the same values (the server's strings and the client's
    logged ones name the same change in other words) or with the same words are listed once."""
    seen: set[tuple[str, str | None, str | None]] = set()
    kept = []
    for cause in causes:
        keys: set[tuple[str, str | None, str | None]] = {(cause.kind, cause.message, None)}
        if cause.ours is not None or cause.theirs is not None:
            keys.add((cause.kind, cause.ours, cause.theirs))
        if not keys & seen:
            seen |= keys
            kept.append(cause)
    return kept


# -- redaction ------------------------------------------------------------------------

_TOKEN_LINE = re.compile(r"(?im)^(x-amz-security-token:)(.*)$")
_TOKEN_PARAM = re.compile(r"(?i)(X-Amz-Security-Token=)([^&\s']*)")


def _fingerprint(match: re.Match[str]) -> str:
    value = match.group(2)
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:8]
    return f"{match.group(1)}<redacted {len(value)} chars sha256:{digest}>"


def redact(text: str) -> str:
    """Replace session tokens by a fingerprint (length and hash prefix), so differences stay visible."""
    return _TOKEN_PARAM.sub(_fingerprint, _TOKEN_LINE.sub(_fingerprint, text))


def _redact_tree(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redact_tree(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact_tree(item) for item in value]
    return value
