"""The business rules of the 15 Account Management operations, on a `Store`.

Strategy: each operation is a small function `(Call, params) -> Result`
registered in `OPERATIONS` under its model name; the handler has already
verified the signature, validated params against the model and resolved the
target account, so these functions only apply the service's rules. Nothing
here reads a clock or a random source: `Call.now` is the request time and
`Call.entropy` supplies bytes for one-time codes. Region opt-in changes are
stored as (status, since); a reader sees ENABLING become ENABLED (DISABLING
become DISABLED) once `Settings.region_delay` has passed, so transitions
complete without timers and every answer is a function of the stored state
and `now`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from wire.errors import ServiceError
from wire.service.store import Record, Store

Params = Mapping[str, Any]

#: Commercial regions and whether each is on without opting in (ENABLED_BY_DEFAULT) or opt-in (DISABLED).
REGIONS: Mapping[str, str] = MappingProxyType({
    **dict.fromkeys((
        "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
        "ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1",
        "us-east-1", "us-east-2", "us-west-1", "us-west-2"), "ENABLED_BY_DEFAULT"),
    **dict.fromkeys((
        "af-south-1", "ap-east-1", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
        "ap-southeast-7", "ca-west-1", "eu-central-2", "eu-south-1", "eu-south-2", "il-central-1",
        "me-central-1", "me-south-1", "mx-central-1"), "DISABLED"),
})

#: A changing status -> the status it settles into after `Settings.region_delay`.
SETTLES_INTO: dict[str, str] = {"ENABLING": "ENABLED", "DISABLING": "DISABLED"}

#: (operation, current status) -> the status the request moves the region to; absent: already there.
_TRANSITIONS: dict[tuple[str, str], str] = {
    ("EnableRegion", "DISABLED"): "ENABLING",
    ("DisableRegion", "ENABLED"): "DISABLING",
}

_OTP_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_DEFAULT_MAX_RESULTS = 50


@dataclass(frozen=True, slots=True)
class Settings:
    """Service behaviour knobs, fixed for a server's lifetime."""

    region_delay: timedelta = timedelta(seconds=60)
    regions: Mapping[str, str] = field(default_factory=lambda: REGIONS)


@dataclass(frozen=True, slots=True)
class Call:
    """One operation's context: the target account, the request time, the state, the knobs."""

    account_id: str
    now: datetime
    store: Store
    settings: Settings
    entropy: Callable[[int], bytes] = field(repr=False)
    #: Every account the endpoint knows (for "email already in use").
    known_accounts: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Result:
    """An operation's output members, and lines for the server operator's log."""

    output: dict[str, Any] = field(default_factory=dict)
    notices: tuple[str, ...] = ()


def validation_error(message: str, member: str | None = None, reason: str = "fieldValidationFailed") -> ServiceError:
    """AWS's ValidationException: a message, a reason, and the `fieldList` naming the members at fault."""
    data: dict[str, Any] = {"reason": reason}
    if member is not None:
        data["fieldList"] = [{"name": member, "message": message}]
    return ServiceError("ValidationException", message, 400, data=data)


def _not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message, 404)


# -- the account record --------------------------------------------------------------


def _account(call: Call, account_id: str | None = None) -> Record:
    """The account record, created on first use (the creation date is the first request that saw it)."""
    account_id = account_id or call.account_id
    record = call.store.get(account_id, "account", "")
    if record is None:
        record = {"AccountName": f"account-{account_id}", "AccountCreatedDate": call.now.isoformat(),
                  "PrimaryEmail": f"root+{account_id}@example.com"}
        call.store.put(account_id, "account", "", record)
    return record


def get_account_information(call: Call, params: Params) -> Result:
    record = _account(call)
    return Result({"AccountId": call.account_id, "AccountName": record["AccountName"],
                   "AccountCreatedDate": datetime.fromisoformat(record["AccountCreatedDate"]),
                   "AccountState": "ACTIVE"})


def put_account_name(call: Call, params: Params) -> Result:
    record = _account(call)
    call.store.put(call.account_id, "account", "", {**record, "AccountName": params["AccountName"]})
    return Result()


def get_gov_cloud_account_information(call: Call, params: Params) -> Result:
    # Accounts here are never linked to a GovCloud account, so AWS's answer is "not found".
    raise _not_found(f"Account {call.account_id} is not linked to an AWS GovCloud (US) account.")


# -- alternate contacts -----------------------------------------------------------------

_CONTACT_MEMBERS = ("AlternateContactType", "Name", "Title", "EmailAddress", "PhoneNumber")


def put_alternate_contact(call: Call, params: Params) -> Result:
    contact = {name: params[name] for name in _CONTACT_MEMBERS}
    call.store.put(call.account_id, "alternate_contact", params["AlternateContactType"], contact)
    return Result()


def get_alternate_contact(call: Call, params: Params) -> Result:
    contact = call.store.get(call.account_id, "alternate_contact", params["AlternateContactType"])
    if contact is None:
        raise _not_found("No contact of the inputted alternate contact type found.")
    return Result({"AlternateContact": contact})


def delete_alternate_contact(call: Call, params: Params) -> Result:
    if not call.store.delete(call.account_id, "alternate_contact", params["AlternateContactType"]):
        raise _not_found("No contact of the inputted alternate contact type found.")
    return Result()


# -- contact information ----------------------------------------------------------------


def put_contact_information(call: Call, params: Params) -> Result:
    call.store.put(call.account_id, "contact_information", "", dict(params["ContactInformation"]))
    return Result()


def get_contact_information(call: Call, params: Params) -> Result:
    info = call.store.get(call.account_id, "contact_information", "")
    if info is None:
        raise _not_found(f"No contact information found for account {call.account_id}.")
    return Result({"ContactInformation": info})


# -- regions ----------------------------------------------------------------------------


def region_status(call: Call, name: str) -> str:
    """The opt status of region `name` at `call.now` (a finished transition has settled)."""
    record = call.store.get(call.account_id, "region", name)
    if record is None:
        return call.settings.regions[name]
    status: str = record["RegionOptStatus"]
    if status in SETTLES_INTO and call.now >= datetime.fromisoformat(record["since"]) + call.settings.region_delay:
        return SETTLES_INTO[status]
    return status


def _known_region(call: Call, name: str) -> str:
    if name not in call.settings.regions:
        raise validation_error(f"{name} is not a valid region name.", "RegionName", "invalidRegionOptTarget")
    return name


def _change_region(call: Call, params: Params, operation: str) -> Result:
    name = _known_region(call, params["RegionName"])
    status = region_status(call, name)
    if status == "ENABLED_BY_DEFAULT":
        raise validation_error(f"{name} is enabled by default and cannot be opted in or out.", "RegionName",
                               "invalidRegionOptTarget")
    if status in SETTLES_INTO:
        raise ServiceError("ConflictException", f"Region {name} is currently {status}; wait until the change "
                           "completes before changing it again.", 409)
    target = _TRANSITIONS.get((operation, status))
    if target is not None:
        call.store.put(call.account_id, "region", name, {"RegionOptStatus": target, "since": call.now.isoformat()})
    return Result()


def enable_region(call: Call, params: Params) -> Result:
    return _change_region(call, params, "EnableRegion")


def disable_region(call: Call, params: Params) -> Result:
    return _change_region(call, params, "DisableRegion")


def get_region_opt_status(call: Call, params: Params) -> Result:
    name = _known_region(call, params["RegionName"])
    return Result({"RegionName": name, "RegionOptStatus": region_status(call, name)})


def _token(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode("utf-8")).decode("ascii")


def _after(token: str | None) -> str:
    if token is None:
        return ""
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise validation_error("The NextToken is not valid; pass the NextToken of a previous ListRegions response.",
                               "NextToken") from None


def list_regions(call: Call, params: Params) -> Result:
    after = _after(params.get("NextToken"))
    wanted = set(params.get("RegionOptStatusContains") or ())
    limit = params.get("MaxResults") or _DEFAULT_MAX_RESULTS
    regions = [{"RegionName": name, "RegionOptStatus": region_status(call, name)}
               for name in sorted(call.settings.regions) if name > after]
    regions = [r for r in regions if not wanted or r["RegionOptStatus"] in wanted]
    page = regions[:limit]
    output: dict[str, Any] = {"Regions": page}
    if len(regions) > limit:
        output["NextToken"] = _token(page[-1]["RegionName"])
    return Result(output)


# -- primary email ----------------------------------------------------------------------


def _one_time_code(entropy: Callable[[int], bytes]) -> str:
    chars: list[str] = []
    while len(chars) < 6:
        # Rejection sampling keeps every character equally likely (252 = 7 * 36).
        chars.extend(_OTP_ALPHABET[b % 36] for b in entropy(8) if b < 252)
    return "".join(chars[:6])


def start_primary_email_update(call: Call, params: Params) -> Result:
    email = params["PrimaryEmail"]
    for account in sorted(call.known_accounts | {call.account_id}):
        if _account(call, account)["PrimaryEmail"].lower() == email.lower():
            raise ServiceError("ConflictException", "The email address is already in use by an AWS account.", 409)
    code = _one_time_code(call.entropy)
    call.store.put(call.account_id, "email_update", "",
                   {"PrimaryEmail": email, "Otp": code, "started": call.now.isoformat()})
    return Result({"Status": "PENDING"},
                  (f"one-time code for the primary email update of account {call.account_id} to {email}: {code}",))


def accept_primary_email_update(call: Call, params: Params) -> Result:
    pending = call.store.get(call.account_id, "email_update", "")
    if pending is None:
        raise _not_found(f"No primary email update is pending for account {call.account_id}; "
                         "call StartPrimaryEmailUpdate first.")
    if params["PrimaryEmail"] != pending["PrimaryEmail"]:
        raise validation_error("PrimaryEmail does not match the address given to StartPrimaryEmailUpdate.",
                               "PrimaryEmail")
    if not hmac.compare_digest(params["Otp"].upper().encode(), pending["Otp"].encode()):
        raise validation_error("The one-time code (Otp) is not valid.", "Otp")
    call.store.put(call.account_id, "account", "", {**_account(call), "PrimaryEmail": pending["PrimaryEmail"]})
    call.store.delete(call.account_id, "email_update", "")
    return Result({"Status": "ACCEPTED"})


def get_primary_email(call: Call, params: Params) -> Result:
    return Result({"PrimaryEmail": _account(call)["PrimaryEmail"]})


#: operation name (as in the model) -> its rules.
OPERATIONS: dict[str, Callable[[Call, Params], Result]] = {
    "AcceptPrimaryEmailUpdate": accept_primary_email_update,
    "DeleteAlternateContact": delete_alternate_contact,
    "DisableRegion": disable_region,
    "EnableRegion": enable_region,
    "GetAccountInformation": get_account_information,
    "GetAlternateContact": get_alternate_contact,
    "GetContactInformation": get_contact_information,
    "GetGovCloudAccountInformation": get_gov_cloud_account_information,
    "GetPrimaryEmail": get_primary_email,
    "GetRegionOptStatus": get_region_opt_status,
    "ListRegions": list_regions,
    "PutAccountName": put_account_name,
    "PutAlternateContact": put_alternate_contact,
    "PutContactInformation": put_contact_information,
    "StartPrimaryEmailUpdate": start_primary_email_update,
}
