"""What the secret proves: the sent signature is a fingerprint of exactly what the client signed.

Strategy: with the secret, the signature sent is checked over our
string-to-sign (`SignatureCheck`); when it does not verify, the known-mistake
search accepts a variant of our view only when it reproduces the signature,
then a key derived for a neighbouring scope (region, service, day from the
host and the date), then an X-Amz-Date rewritten in transit within the widest
window. Nothing reproduced: the secret itself is the likely cause.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sigv4.keys import signature_hex, signing_key
from wire.debugger.causes import Cause
from wire.debugger.diagnosis_context import Context, key_label
from wire.debugger.mistakes import SEARCH_BUDGET, search, split_port
from wire.debugger.recompute import SignatureTest, sha256_hex, signature_test, string_to_sign
from wire.debugger.request_times import WIDEST_WINDOW, parse_amz_date
from wire.debugger.server_strings import mistake_causes


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


def _host_labels(host: str) -> list[str]:
    return [label for label in split_port(host)[0].split(".") if label and not label.isdigit()]


def _scope_alternatives(ctx: Context) -> list[tuple[str, str, str, str]]:
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


def _scope_search(ctx: Context) -> Cause | None:
    """A scope the client derived its key (and maybe its string-to-sign) from instead of the declared one."""
    p, ours = ctx.params, ctx.ours_canonical
    assert p is not None and ours is not None and ctx.secret is not None
    if p.v4a:
        return None
    for kind, date, region, service in _scope_alternatives(ctx):
        test = signature_test(ctx.secret, p, date, region, service)
        scope = f"{date}/{region}/{service}/{p.terminator}"
        for text, where in ((string_to_sign(p, ours), "its key"), (string_to_sign(p, ours, scope), "its key and "
                                                                                                     "string-to-sign")):
            if test(text):
                return Cause(kind, f"reproduces the signature you sent: the client derived {where} for "
                                   f"`{scope}` but declared `{p.scope}` in the Credential")
    return None


def _date_search(ctx: Context, test: SignatureTest) -> Cause | None:
    """An X-Amz-Date header rewritten in transit: the second, within the widest window a server allows, that
    the client signed (its canonical request and string-to-sign both hold it)."""
    p, view = ctx.params, ctx.view
    sent_at = parse_amz_date(p.amz_date) if p else None
    if p is None or view is None or p.presigned or p.v4a or sent_at is None or view.header("x-amz-date") != p.amz_date:
        return None
    window = int(WIDEST_WINDOW.total_seconds())
    if len(view.canonical()) * 2 * window > SEARCH_BUDGET:
        return None  # a request this large would take too long to re-render 1,800 times
    for offset in sorted(range(-window, window + 1), key=abs)[1:]:
        try:
            signed_at = (sent_at + timedelta(seconds=offset)).strftime("%Y%m%dT%H%M%SZ")
        except OverflowError:
            continue
        canonical = view.with_header("x-amz-date", signed_at).canonical()
        if test(f"{p.algorithm}\n{signed_at}\n{p.scope}\n{sha256_hex(canonical)}"):
            return Cause("header-changed", f"reproduces the signature you sent: the client signed X-Amz-Date "
                                           f"{signed_at}, but the request carries {p.amz_date} (rewritten in transit, "
                                           "by a proxy or a retry that re-dated the request without signing it again)",
                         "proved", signed_at, p.amz_date)
    return None


def secret_causes(ctx: Context) -> tuple[list[Cause], list[str], SignatureCheck | None]:
    """The key's share of the story: what a secret proves about what the client signed."""
    p, view = ctx.params, ctx.view
    if p is None or view is None or ctx.ours_sts is None or ctx.secret is None:
        return [], [], None
    if not ctx.payload_known:
        return [], ["the signature cannot be checked with the secret: the capture does not show the body and the "
                    "request has no x-amz-content-sha256 (capture with the body, e.g. HAR or `curl --trace-ascii`)"], None
    test = signature_test(ctx.secret, p)
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
    match = search(view, lambda text: test(string_to_sign(p, text)))
    if match:
        return mistake_causes(match, True), [], check
    scoped = _scope_search(ctx) or _date_search(ctx, test)
    if scoped:
        return [scoped], [], check
    return [Cause("secret", f"the signature sent does not verify with the given secret over our canonical request or "
                            "any known signer mistake: the client signed with another secret than the one given "
                            f"for {key_label(ctx)} (check the profile), or over content the capture does not show",
                  "likely")], [], check
