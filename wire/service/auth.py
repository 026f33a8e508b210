"""Signature checks with AWS's own error types and texts.

Strategy: authentication runs in the order an AWS front end does:
`claimed_auth` parses the claimed authorization (`sigv4.parse_auth`) and
checks the credential scope against what this endpoint serves (service
`account`, a region AWS has, the scope date); `authenticate` then runs
`sigv4.verify` against the directory. Two steps, so the caller knows the
claimed key id and region even when verification fails. Each
`VerificationError.reason` maps through `wire.auth_refusal.coral_fault` to the
exception type and message text AWS sends, so SDKs, the aws CLI and our own `wire.debugger.diagnose`
recognise them: a mismatch carries the canonical request and
string-to-sign the server computed, skew errors quote the three times.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from sigv4.errors import VerificationError
from sigv4.signed_auth import SignedAuth
from sigv4.types import Request
from sigv4.verify import Identity, parse_auth, verify, verify_head
from wire.auth_refusal import EXPIRED_TOKEN_TEXT, MAX_SKEW, MISSING_TOKEN_TEXT, coral_fault
from wire.errors import ServiceError
from wire.service.identities import Directory, Principal

SERVICE = "account"

#: The regions a credential scope may name: every partition's (botocore's partitions.json), since AWS's
#: front end refuses any other name ("Credential should be scoped to a valid region"), well-formed or not.
SCOPE_REGIONS = frozenset({
    "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1",
    "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
    "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2", "eu-north-1",
    "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1",
    "me-south-1", "mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    "cn-north-1", "cn-northwest-1", "us-gov-east-1", "us-gov-west-1", "eusc-de-east-1", "us-iso-east-1",
    "us-iso-west-1", "us-isob-east-1", "us-isob-west-1", "eu-isoe-west-1", "us-isof-east-1", "us-isof-south-1",
})


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
        if "*" not in region and region not in SCOPE_REGIONS:
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
    principal = _principal(request, auth, directory, now, verify)
    assert principal is not None  # `verify` returns an identity or raises
    return Caller(principal, auth)


def authenticate_head(request: Request, directory: Directory, *, now: datetime) -> None:
    """Steps 1 and 2 on `request`'s head alone, its body unread (`sigv4.verify.verify_head`): raises the
    `ServiceError` they would for what the head decides; returns when the head passes or a check needs the body."""
    try:
        parse_auth(request)
    except VerificationError as err:
        if err.reason == "malformed_request":
            return  # its authorization may be in its body (a SigV2 form)
    _principal(request, claimed_auth(request), directory, now, verify_head)


def _principal(request: Request, auth: SignedAuth, directory: Directory, now: datetime,
               check: Callable[..., Identity | None]) -> Principal | None:
    now = now.astimezone(timezone.utc)
    try:
        identity = check(request, directory.lookup, now=now, max_skew=MAX_SKEW, claimed=auth)
    except VerificationError as err:
        raise coral_fault(err, now) from None
    if identity is None:
        return None
    principal = directory.principals[identity.access_key_id]
    if principal.expired(now):
        # verify has matched the token to the key, so it is this token that has run out.
        raise _denied("ExpiredTokenException", EXPIRED_TOKEN_TEXT)
    return principal
