"""CloudTrail-shaped records of every call, accepted or refused.

Strategy: `event` builds one record in the shape CloudTrail delivers for
management events (`eventVersion` 1.08 fields), from plain values the
handler already has. Secrets never enter a record: input members that carry
secrets (`SECRET_MEMBERS`) are replaced by CloudTrail's own placeholder, and
any secret string the caller presented (a session token echoed inside a
canonical request) is scrubbed from the error message. Values are made
JSON-ready here (timestamps as ISO 8601 UTC, lone surrogates as U+FFFD), so the
edge only appends a UTF-8 line.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from wire.errors import ServiceError
from wire.service.identities import Principal

EVENT_VERSION = "1.08"
EVENT_SOURCE = "account.amazonaws.com"
HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"

#: Input members whose values are secrets (the one-time code of a primary email update).
SECRET_MEMBERS = frozenset({"Otp"})

_READ_ONLY_PREFIXES = ("Get", "List")


def _time(value: datetime) -> str:
    utc = value.astimezone(timezone.utc)
    # strftime("%Y-%m-%dT%H:%M:%SZ"), a few times faster (and twice as fast as an f-string's six format specs):
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second)


#: UTF-16 surrogates: a string holds them alone only when undecodable header bytes or a JSON `\udXXX`
#: escape brought them in, and UTF-8 cannot encode them.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _text(value: str) -> str:
    """`value` encodable as UTF-8: lone surrogates replaced by U+FFFD (an ASCII string, the usual case, as it is)."""
    return value if value.isascii() else _SURROGATE.sub("\ufffd", value)


#: Types `_jsonable` returns as they are (checked by identity first: a record is mostly these).
_PLAIN = frozenset({int, float, bool, type(None)})


def _jsonable(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        return _text(value)
    if kind in _PLAIN:
        return value
    if kind is dict or isinstance(value, Mapping):
        return {k: HIDDEN if k in SECRET_MEMBERS else _jsonable(v) for k, v in value.items()}
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return _time(value)
    if isinstance(value, (bytes, bytearray)):
        return HIDDEN
    return value


def user_identity(principal: Principal | None, access_key_id: str | None) -> dict[str, Any]:
    """CloudTrail's `userIdentity`: who signed, as far as the request got (JSON-ready)."""
    if principal is None:
        return {"type": "Unknown", **({"accessKeyId": _text(access_key_id)} if access_key_id else {})}
    kind = next(k for marker, k in _IDENTITY_TYPES if marker in principal.arn)
    if kind == "Root":
        principal_id = principal.account_id
    elif kind == "AssumedRole":
        principal_id = assumed_role_principal_id(principal.arn)
    else:
        principal_id = principal.access_key_id
    return {"type": kind, "principalId": _text(principal_id),
            "arn": _text(principal.arn), "accountId": _text(principal.account_id),
            "accessKeyId": _text(principal.access_key_id)}


@lru_cache(maxsize=256)  # a SHA-256 and base32 per call otherwise; a server sees few roles
def assumed_role_principal_id(arn: str) -> str:
    """CloudTrail's `principalId` of an assumed role, `AROA...:<session name>`: the role's unique id (AROA and
    17 characters; here derived from the role's ARN, so a role keeps its id across runs) and the session."""
    head, _, rest = arn.partition(":assumed-role/")
    role, _, session = rest.partition("/")
    role_arn = head.replace(":sts:", ":iam:", 1) + f":role/{role}"
    unique = base64.b32encode(hashlib.sha256(role_arn.encode()).digest()).decode()[:17]
    return f"AROA{unique}:{session}"


#: (ARN fragment, CloudTrail userIdentity type), first match wins.
_IDENTITY_TYPES = ((":root", "Root"), (":assumed-role/", "AssumedRole"), (":", "IAMUser"))


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, HIDDEN)
    return text


def event(
    *, event_id: str, request_id: str, now: datetime, event_name: str, region: str, source_ip: str,
    user_agent: str | None, principal: Principal | None, access_key_id: str | None, recipient_account: str | None,
    params: Mapping[str, Any] | None, output: Mapping[str, Any] | None, error: ServiceError | None,
    secrets: Iterable[str] = (),
) -> dict[str, Any]:
    """One CloudTrail record (a JSON-ready dict) for a call; `secrets` are scrubbed from the error message."""
    # Only what the caller or the state supplied is made JSON-ready; the rest is plain text already.
    record: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": user_identity(principal, access_key_id),
        "eventTime": _time(now),
        "eventSource": EVENT_SOURCE,
        "eventName": _text(event_name),
        "awsRegion": _text(region),
        "sourceIPAddress": _text(source_ip),
        "userAgent": _text(user_agent) if user_agent else "",
        "requestParameters": _jsonable(params) if params else None,
        "responseElements": _jsonable(output) if output else None,
        "requestID": request_id,
        "eventID": event_id,
        "readOnly": event_name.startswith(_READ_ONLY_PREFIXES),
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": _text(recipient_account) if recipient_account is not None else None,
        "eventCategory": "Management",
    }
    if error is not None:
        record["errorCode"] = _text(error.code)
        record["errorMessage"] = _text(_scrub(error.message, secrets))
    return record
