"""Signature checks with AWS's own error types and texts.

Strategy: authentication runs in the order an AWS front end does:
`claimed_auth` parses the claimed authorization (`sigv4.parse_auth`) and
checks the credential scope against what this endpoint serves (service
`account`, any well-formed region, the scope date); `authenticate` then runs
`sigv4.verify` against the directory. Two steps, so the caller knows the
claimed key id and region even when verification fails. Each
`VerificationError.reason` maps through `wire.auth_refusal.coral_fault` to the
exception type and message text AWS sends, so SDKs, the aws CLI and our own `wire.debugger.diagnose`
recognise them: a mismatch carries the canonical request and
string-to-sign the server computed, skew errors quote the three times.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from sigv4.errors import VerificationError
from sigv4.signed_auth import SignedAuth
from sigv4.types import Request
from sigv4.verify import parse_auth, verify
from wire.auth_refusal import EXPIRED_TOKEN_TEXT, MAX_SKEW, MISSING_TOKEN_TEXT, coral_fault
from wire.errors import ServiceError
from wire.service.identities import Directory, Principal

SERVICE = "account"

#: What a region in a credential scope must look like (us-east-1, us-gov-west-1, cn-north-1, eu-isoe-west-1).
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+\Z")


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated request: the principal and the scope it signed with."""

    principal: Principal
    auth: SignedAuth

    @property
    def region(self) -> str:
        return self.auth.regions[0] if self.auth.regions else "us-east-1"


def _denied(code: str, message: str) -> ServiceError:
    return ServiceError(code, message, 403)


def _incomplete(request: Request, err: VerificationError) -> ServiceError:
    header = request.header("authorization")
    if header is not None:
        problems = [f"Authorization header requires '{part}' parameter."
                    for part in ("Credential", "Signature", "SignedHeaders") if f"{part}=" not in header]
        if request.header("x-amz-date") is None and request.header("date") is None:
            problems.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
        # When every part is present the problem is in a part's form: say which, as verify found it.
        text = " ".join(problems) if problems else f"{err}."
        return _denied("IncompleteSignatureException", f"{text} Authorization={header}")
    query = request.query
    missing = [name for name in ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date",
                                 "X-Amz-SignedHeaders", "X-Amz-Expires") if f"{name}=" not in query]
    text = " ".join(f"AWS query-string parameters must include '{name}'." for name in missing) or f"{err}."
    return _denied("IncompleteSignatureException", f"{text} Re-examine the query-string parameters.")


def _check_scope(auth: SignedAuth) -> None:
    if auth.version == "v2":
        return
    if auth.service != SERVICE:
        raise _denied("InvalidSignatureException", f"Credential should be scoped to correct service: '{SERVICE}'.")
    for region in auth.regions:
        # A SigV4a region set may hold patterns ("*", "us-*"); those name regions, whatever they match.
        if "*" not in region and not _REGION.match(region):
            raise _denied("InvalidSignatureException", f"Credential should be scoped to a valid region, not '{region}'.")
    when = auth.signing_time
    date = "%04d%02d%02d" % (when.year, when.month, when.day)  # strftime("%Y%m%d"), a few times faster
    if auth.scope_date != date:
        raise _denied("InvalidSignatureException",
                      "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                      f"'{auth.scope_date}' != '{date}', from '{auth.amz_date}'.")


def claimed_auth(request: Request) -> SignedAuth:
    """Step 1: how `request` claims to be signed, scope checked; no key looked up.

    Raises `ServiceError` (403): MissingAuthenticationTokenException,
    IncompleteSignatureException, or InvalidSignatureException for a scope
    this endpoint does not serve.
    """
    try:
        auth = parse_auth(request)
    except VerificationError as err:
        if err.reason == "missing_auth":
            raise _denied("MissingAuthenticationTokenException", MISSING_TOKEN_TEXT) from None
        raise _incomplete(request, err) from None
    _check_scope(auth)
    return auth


def authenticate(request: Request, auth: SignedAuth, directory: Directory, *, now: datetime) -> Caller:
    """Step 2: verify `request` (whose `claimed_auth` is `auth`) against `directory`.

    Returns the `Caller`; raises `ServiceError` (403) with the AWS error code
    and message for every way a signature can fail.
    """
    now = now.astimezone(timezone.utc)
    try:
        identity = verify(request, directory.lookup, now=now, max_skew=MAX_SKEW, claimed=auth)
    except VerificationError as err:
        raise coral_fault(err, now) from None
    principal = directory.principals[identity.access_key_id]
    if principal.expired(now):
        # verify has matched the token to the key, so it is this token that has run out.
        raise _denied("ExpiredTokenException", EXPIRED_TOKEN_TEXT)
    return Caller(principal, auth)
