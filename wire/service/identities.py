"""Who may call the local endpoint: access keys, their accounts, and organizations.

Strategy: the `--accounts` JSON document is read once (by the edge) and
turned here into a frozen `Directory`: one `Principal` per access key and,
for each management account, its `Organization`. Parsing checks every entry
with a table of allowed keys and their types, so a typo in the file stops
the server with a message naming the entry and the key rather than
surfacing later as a refused request; an identity's `policy` is parsed and
validated here too (`PolicyError` names the identity and the statement).
Member accounts need no keys of their own: they are reached through their
management account's `AccountId`.

An identity is the account root (the default ARN), an IAM user or an assumed
role (`arn:aws:sts::<account>:assumed-role/<role>/<session>`, which needs
temporary credentials: a `session_token`, optionally with an `expiration`).
A management account's entry may name its organization (`organization_id`,
default `o-<management account id>`), `trusted_access` (default on, so
issue 6's files keep working), `delegated_administrators` (members
registered for Account Management) and `organizational_units`
(`{"ou-...": [members]}`, one level under the root).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sigv4.types import Credentials
from wire.service.organizations import ORGANIZATION_ID, UNIT_ID, Organization
from wire.service.policy import Policy, parse_policy

_ACCOUNT_ID = re.compile(r"\d{12}\Z")
_IDENTITY_ARN = re.compile(r"arn:(?P<partition>aws|aws-cn|aws-us-gov):(?P<service>iam|sts)::(?P<account>\d{12}):"
                           r"(?P<kind>root|user|assumed-role)(?P<rest>/[\w+=,.@/-]+)?\Z")
#: ARN resource kind -> (the service that issues it, its shape after the kind, needs temporary credentials)
_ARN_KINDS: dict[str, tuple[str, re.Pattern[str], bool]] = {
    "root": ("iam", re.compile(r"\Z"), False),
    "user": ("iam", re.compile(r"(/[\w+=,.@-]+)+\Z"), False),
    "assumed-role": ("sts", re.compile(r"/[\w+=,.@-]+/[\w+=,.@-]+\Z"), True),
}

#: The identity used when no `--accounts` file is given: AWS's documented example key pair.
DEFAULT_ACCOUNTS: dict[str, Any] = {
    "accounts": [{
        "access_key_id": "AKIAIOSFODNN7EXAMPLE",
        "secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "session_token": None,
        "account_id": "111122223333",
        "management_account": True,
        "members": ["444455556666"],
    }]
}


class ConfigError(ValueError):
    """The accounts document is unusable; the message names the entry and the key."""


@dataclass(frozen=True, slots=True)
class Principal:
    """A calling identity: its key pair (secrets hidden from repr) and its account."""

    credentials: Credentials
    account_id: str
    arn: str
    management_account: bool = False
    #: An identity-based policy (None: allowed everything, the local default).
    policy: Policy | None = None
    #: When temporary credentials stop working (None: they do not expire).
    expiration: datetime | None = None

    @property
    def access_key_id(self) -> str:
        return self.credentials.access_key_id

    def expired(self, now: datetime) -> bool:
        """Whether the session token is past its expiration at `now`."""
        return self.expiration is not None and now >= self.expiration


@dataclass(frozen=True, slots=True)
class Directory:
    """Every principal by access key id, and every organization by its management account."""

    principals: Mapping[str, Principal]
    organizations: Mapping[str, Organization] = field(default_factory=lambda: MappingProxyType({}))
    _accounts: frozenset[str] = field(init=False, repr=False, compare=False)
    _organization_of: Mapping[str, Organization] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Every call asks for both; a directory does not change, so they are worked out once.
        own = {p.account_id for p in self.principals.values()}
        object.__setattr__(self, "_accounts", frozenset(own.union(*(o.members for o in self.organizations.values()))))
        organization_of: dict[str, Organization] = {}
        for organization in self.organizations.values():
            for account_id in (organization.management_account_id, *organization.members):
                organization_of.setdefault(account_id, organization)  # the first organization holding it
        object.__setattr__(self, "_organization_of", organization_of)

    def lookup(self, access_key_id: str) -> Credentials | None:
        """The `sigv4.verify` lookup: credentials of a known key, else None."""
        principal = self.principals.get(access_key_id)
        return principal.credentials if principal else None

    def organization_of(self, account_id: str) -> Organization | None:
        """The organization `account_id` belongs to (as management account or member), or None."""
        return self._organization_of.get(account_id)

    def accounts(self) -> frozenset[str]:
        """Every account id this endpoint knows: callers' accounts and organization members."""
        return self._accounts


#: key -> (accepted types, required?)
_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "access_key_id": ((str,), True),
    "secret_access_key": ((str,), True),
    "session_token": ((str, type(None)), False),
    "account_id": ((str,), True),
    "management_account": ((bool,), False),
    "members": ((list,), False),
    "arn": ((str,), False),
    "expiration": ((str, type(None)), False),
    "policy": ((dict, type(None)), False),
    "organization_id": ((str,), False),
    "trusted_access": ((bool,), False),
    "delegated_administrators": ((list,), False),
    "organizational_units": ((dict,), False),
}
#: Keys that describe an organization, allowed only on a management account's entry.
_ORGANIZATION_KEYS = ("organization_id", "trusted_access", "delegated_administrators", "organizational_units")


def _check_entry(index: int, entry: object) -> dict[str, Any]:
    where = f"accounts[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected an object, got {type(entry).__name__}")
    for key in entry:
        if key not in _FIELDS:
            raise ConfigError(f"{where}.{key}: unknown key; allowed: {', '.join(_FIELDS)}")
    for key, (types, required) in _FIELDS.items():
        if key not in entry:
            if required:
                raise ConfigError(f"{where}.{key}: required")
            continue
        if not isinstance(entry[key], types):
            raise ConfigError(f"{where}.{key}: expected {' or '.join(t.__name__ for t in types)}, "
                              f"got {type(entry[key]).__name__}")
    if not entry["access_key_id"] or not entry["secret_access_key"]:
        raise ConfigError(f"{where}: access_key_id and secret_access_key must be non-empty")
    if not _ACCOUNT_ID.match(entry["account_id"]):
        raise ConfigError(f"{where}.account_id: {entry['account_id']!r} is not a 12-digit account id")
    members = entry.get("members", [])
    if members and not entry.get("management_account", False):
        raise ConfigError(f"{where}.members: only a management account (management_account: true) has members")
    for position, member in enumerate(members):
        if not isinstance(member, str) or not _ACCOUNT_ID.match(member):
            raise ConfigError(f"{where}.members[{position}]: {member!r} is not a 12-digit account id")
        if member == entry["account_id"]:
            raise ConfigError(f"{where}.members[{position}]: the management account cannot be its own member")
    if not entry.get("management_account", False):
        if given := [key for key in _ORGANIZATION_KEYS if key in entry]:
            raise ConfigError(f"{where}.{given[0]}: only a management account (management_account: true) "
                              "describes an organization")
    return entry


def _identity_arn(where: str, entry: Mapping[str, Any]) -> str:
    account = entry["account_id"]
    arn = str(entry.get("arn", f"arn:aws:iam::{account}:root"))
    match = _IDENTITY_ARN.match(arn)
    kind = _ARN_KINDS.get(match["kind"]) if match else None
    if match is None or kind is None or match["service"] != kind[0] or not kind[1].match(match["rest"] or ""):
        raise ConfigError(f"{where}.arn: {arn!r} is not arn:aws:iam::<account>:root, "
                          "arn:aws:iam::<account>:user/<name> or arn:aws:sts::<account>:assumed-role/<role>/<session>")
    if match["account"] != account:
        raise ConfigError(f"{where}.arn: names account {match['account']}, but account_id is {account}")
    if kind[2] and not entry.get("session_token"):
        raise ConfigError(f"{where}.arn: an assumed role signs with temporary credentials; give its session_token")
    return arn


def _expiration(where: str, entry: Mapping[str, Any]) -> datetime | None:
    text = entry.get("expiration")
    if text is None:
        return None
    if not entry.get("session_token"):
        raise ConfigError(f"{where}.expiration: only temporary credentials (with a session_token) expire")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{where}.expiration: {text!r} is not an ISO 8601 time like 2026-11-24T19:00:00Z") from None
    if when.tzinfo is None:
        raise ConfigError(f"{where}.expiration: {text!r} has no time zone; end it with Z or an offset")
    return when


def _account_ids(where: str, values: Any, members: frozenset[str], what: str) -> frozenset[str]:
    if not isinstance(values, list):
        raise ConfigError(f"{where}: expected a list of member account ids")
    for position, value in enumerate(values):
        if value not in members:
            raise ConfigError(f"{where}[{position}]: {value!r} is not a member of this organization; {what}")
    return frozenset(values)


def _organization(where: str, account: str, entry: Mapping[str, Any], members: frozenset[str]) -> Organization:
    # Without an organization_id the id is derived from the management account: stable across restarts.
    org_id = entry.get("organization_id", f"o-{account}")
    if not ORGANIZATION_ID.match(org_id):
        raise ConfigError(f"{where}.organization_id: {org_id!r} is not o- followed by 10 to 32 lowercase letters "
                          "or digits")
    delegated = _account_ids(f"{where}.delegated_administrators", entry.get("delegated_administrators", []), members,
                             "a delegated administrator is a member account")
    units: dict[str, str] = {}
    for unit, held in entry.get("organizational_units", {}).items():
        if not UNIT_ID.match(unit):
            raise ConfigError(f"{where}.organizational_units: {unit!r} is not an OU id like ou-a1b2-f6g7h111")
        for member in _account_ids(f"{where}.organizational_units.{unit}", held, members,
                                   "only members sit in organizational units"):
            if member in units:
                raise ConfigError(f"{where}.organizational_units.{unit}: {member} is already in {units[member]}")
            units[member] = unit
    return Organization(org_id, account, members, delegated, entry.get("trusted_access", True),
                        units=MappingProxyType(units))


#: The account of identities given in the key -> secret form (moto's default account).
KEYS_ACCOUNT_ID = "123456789012"


def keys_document(keys: Mapping[str, Any]) -> dict[str, Any]:
    """The accounts document of the short form `{"ACCESS_KEY_ID": "SECRET"}` or `{"ACCESS_KEY_ID": ["SECRET",
    "SESSION_TOKEN"]}`: each key the root of account `KEYS_ACCOUNT_ID`. Raises ConfigError naming the key."""
    accounts = []
    for key_id, value in keys.items():
        pair = [value] if isinstance(value, str) else value
        if not isinstance(pair, list) or len(pair) not in (1, 2) or not all(isinstance(v, str) and v for v in pair):
            raise ConfigError(f"{key_id}: expected the secret access key, or [secret access key, session token]")
        accounts.append({"access_key_id": key_id, "secret_access_key": pair[0],
                         "session_token": pair[1] if len(pair) == 2 else None, "account_id": KEYS_ACCOUNT_ID})
    return {"accounts": accounts}


def load_directory(document: Mapping[str, Any], *, known_actions: Sequence[str] | None = None) -> Directory:
    """Build the `Directory` from an accounts document (`{"accounts": [...]}`).

    `known_actions` (the model's operation names) lets policy parsing reject
    an `account:` action that names no operation.
    Raises ConfigError naming the entry and key at fault, PolicyError naming
    the identity, the statement and the rule.
    """
    entries = document.get("accounts") if isinstance(document, Mapping) else None
    if not isinstance(entries, list) or not entries:
        raise ConfigError("accounts: expected a non-empty list of identities")
    principals: dict[str, Principal] = {}
    members_of: dict[str, frozenset[str]] = {}
    described_by: dict[str, int] = {}  # management account -> the entry holding its organization keys
    for index, raw in enumerate(entries):
        entry = _check_entry(index, raw)
        key_id = entry["access_key_id"]
        if key_id in principals:
            raise ConfigError(f"accounts[{index}].access_key_id: {key_id} appears twice")
        account = entry["account_id"]
        members = frozenset(entry.get("members", []))
        management = bool(entry.get("management_account", False))
        if management:
            members_of[account] = members_of.get(account, frozenset()) | members
            if any(key in entry for key in _ORGANIZATION_KEYS):
                if account in described_by:
                    raise ConfigError(f"accounts[{index}]: organization keys for {account} are already given by "
                                      f"accounts[{described_by[account]}]; give them once")
                described_by[account] = index
        where = f"accounts[{index}]"
        arn = _identity_arn(where, entry)
        policy = entry.get("policy")
        principals[key_id] = Principal(
            Credentials(key_id, entry["secret_access_key"], entry.get("session_token")),
            account, arn, management,
            None if policy is None else parse_policy(policy, identity=f"{where} ({arn})", known_actions=known_actions),
            _expiration(where, entry))
    _check_single_organization(members_of)
    organizations: dict[str, Organization] = {}
    for manager, members in members_of.items():
        holder = described_by.get(manager)
        described = entries[holder] if holder is not None else {}
        organizations[manager] = _organization(f"accounts[{holder}]", manager, described, members)
    return Directory(MappingProxyType(principals), MappingProxyType(organizations))


def _check_single_organization(members_of: Mapping[str, frozenset[str]]) -> None:
    # An account belongs to at most one organization, as in AWS Organizations.
    owner: dict[str, str] = {}
    for management, members in members_of.items():
        for member in members:
            if member in members_of:
                raise ConfigError(f"members: {member} is a management account and cannot be a member of {management}")
            if member in owner:
                raise ConfigError(f"members: {member} is listed under both {owner[member]} and {management}")
            owner[member] = management
