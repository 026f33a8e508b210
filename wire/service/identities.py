"""Who may call the local endpoint: access keys, their accounts, and organizations.

Strategy: the `--accounts` JSON document is read once (by the edge) and
turned here into a frozen `Directory`: one `Principal` per access key and,
for each management account, the set of member account ids. Parsing checks
every entry with a table of allowed keys and their types, so a typo in the
file stops the server with a message naming the entry and the key rather
than surfacing later as a refused request. Member accounts need no keys of
their own: they are reached through their management account's `AccountId`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from sigv4.types import Credentials
from wire.service.organizations import Organization
from wire.service.policy import Policy

_ACCOUNT_ID = re.compile(r"\d{12}\Z")

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

    @property
    def access_key_id(self) -> str:
        return self.credentials.access_key_id


@dataclass(frozen=True, slots=True)
class Directory:
    """Every principal by access key id, and every organization by its management account."""

    principals: Mapping[str, Principal]
    organizations: Mapping[str, Organization] = field(default_factory=lambda: MappingProxyType({}))

    def lookup(self, access_key_id: str) -> Credentials | None:
        """The `sigv4.verify` lookup: credentials of a known key, else None."""
        principal = self.principals.get(access_key_id)
        return principal.credentials if principal else None

    def organization_of(self, account_id: str) -> Organization | None:
        """The organization `account_id` belongs to (as management account or member), or None."""
        return next((o for o in self.organizations.values() if o.contains(account_id)), None)

    def accounts(self) -> frozenset[str]:
        """Every account id this endpoint knows: callers' accounts and organization members."""
        own = {p.account_id for p in self.principals.values()}
        return frozenset(own.union(*(o.members for o in self.organizations.values())))


#: key -> (accepted types, required?)
_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "access_key_id": ((str,), True),
    "secret_access_key": ((str,), True),
    "session_token": ((str, type(None)), False),
    "account_id": ((str,), True),
    "management_account": ((bool,), False),
    "members": ((list,), False),
}


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
    return entry


def load_directory(document: Mapping[str, Any]) -> Directory:
    """Build the `Directory` from an accounts document (`{"accounts": [...]}`).

    Raises ConfigError naming the entry and key at fault.
    """
    entries = document.get("accounts") if isinstance(document, Mapping) else None
    if not isinstance(entries, list) or not entries:
        raise ConfigError("accounts: expected a non-empty list of identities")
    principals: dict[str, Principal] = {}
    members_of: dict[str, frozenset[str]] = {}
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
        principals[key_id] = Principal(
            Credentials(key_id, entry["secret_access_key"], entry.get("session_token")),
            account, f"arn:aws:iam::{account}:root", management)
    _check_single_organization(members_of)
    # Issue 6's organizations have trusted access for Account Management on; the id is derived from the
    # management account so it is stable across restarts.
    organizations = {management: Organization(f"o-{management}", management, members, trusted_access=True)
                     for management, members in members_of.items()}
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
