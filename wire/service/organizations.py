"""Organizations context: who may name another account in `AccountId`, and the resource that call acts on.

Strategy: an `Organization` is a frozen value (id, management account,
members, delegated administrators for Account Management, trusted access,
optional one-level organizational units). `resolve_target` turns a call's
`AccountId` into a `Target`: omitted, the caller's own account in standalone
context (resource `arn:<partition>:account::<account>:account`); given, a
member reached through its organization (resource
`arn:<partition>:account::<management>:account/<org id>/<member>`), after the
documented rules, checked in this order, each failing with its own
`AccessDeniedException` message:

1. the caller's account belongs to an organization;
2. it is that organization's management account or a delegated
   administrator for Account Management;
3. the management account does not name itself (the API reference: it
   "can't specify its own AccountId; it must call the operation in standalone
   context"); only the delegated administrator may name its own id;
4. the named account is a member of the caller's organization;
5. trusted access for Account Management is enabled in the organization.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from wire.errors import ServiceError

ACCESS_DENIED = "AccessDeniedException"
ACCESS_DENIED_STATUS = 403
SERVICE_PRINCIPAL = "account.amazonaws.com"
ORGANIZATION_ID = re.compile(r"o-[a-z0-9]{10,32}\Z")
ROOT_ID = re.compile(r"r-[0-9a-z]{4,32}\Z")
UNIT_ID = re.compile(r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}\Z")

#: The management account naming itself: the API reference's words for the rule it breaks.
MANAGEMENT_SELF_MESSAGE = ("The management account can't specify its own AccountId; it must call the operation "
                           "in standalone context by not including the AccountId parameter.")


@dataclass(frozen=True, slots=True)
class Organization:
    id: str  # o-...
    management_account_id: str
    members: frozenset[str]  # member accounts, the management account excluded
    delegated_administrators: frozenset[str] = frozenset()  # members registered for account.amazonaws.com
    trusted_access: bool = False
    root_id: str = "r-0000"
    #: member -> the organizational unit directly under the root that holds it (absent: under the root)
    units: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def contains(self, account_id: str) -> bool:
        return account_id == self.management_account_id or account_id in self.members

    def path_of(self, account_id: str) -> str:
        """The Organizations entity path `o-.../r-.../[ou-.../]<account>/` (account:AccountResourceOrgPaths)."""
        unit = self.units.get(account_id)
        return f"{self.id}/{self.root_id}/" + (f"{unit}/" if unit else "") + f"{account_id}/"


@dataclass(frozen=True, slots=True)
class Target:
    """The account a call acts on, and the resource ARN its policy is evaluated against."""

    account_id: str
    resource_arn: str
    organization: Organization | None  # set only in organizations context (AccountId given)

    @property
    def org_paths(self) -> tuple[str, ...]:
        """Values of `account:AccountResourceOrgPaths`; empty in standalone context, where the key is absent."""
        return (self.organization.path_of(self.account_id),) if self.organization else ()


def account_arn(partition: str, account_id: str) -> str:
    """Resource type `account`: the caller's own account in standalone context."""
    return f"arn:{partition}:account::{account_id}:account"


def member_arn(partition: str, organization: Organization, account_id: str) -> str:
    """Resource type `accountInOrganization`: a member reached through its organization."""
    return f"arn:{partition}:account::{organization.management_account_id}:account/{organization.id}/{account_id}"


def _denied(message: str) -> ServiceError:
    return ServiceError(ACCESS_DENIED, message, ACCESS_DENIED_STATUS)


def resolve_target(
    caller_account: str, partition: str, organization: Organization | None, account_id: str | None,
) -> Target:
    """The Target of a call by `caller_account` with `AccountId` = `account_id` (None: omitted).

    `organization` is the one the caller's account belongs to (None: none).
    Raises ServiceError(AccessDeniedException, 403) naming the rule broken.
    """
    if account_id is None:
        return Target(caller_account, account_arn(partition, caller_account), None)
    if organization is None:
        raise _denied(f"Account {caller_account} is not a member of an organization, so it cannot specify "
                      "AccountId; call the operation without AccountId to act on your own account.")
    delegated = caller_account in organization.delegated_administrators
    if caller_account != organization.management_account_id and not delegated:
        raise _denied(f"Only the management account ({organization.management_account_id}) of organization "
                      f"{organization.id} or a delegated administrator for Account Management can specify "
                      f"AccountId; account {caller_account} is neither.")
    if account_id == caller_account and not delegated:
        raise _denied(MANAGEMENT_SELF_MESSAGE)
    if account_id not in organization.members:
        raise _denied(f"Account {account_id} is not a member of organization {organization.id}; AccountId can "
                      "name only member accounts of the caller's organization.")
    if not organization.trusted_access:
        raise _denied(f"Trusted access for AWS Account Management ({SERVICE_PRINCIPAL}) is not enabled in "
                      f"organization {organization.id}; enable it before calling with AccountId.")
    return Target(account_id, member_arn(partition, organization, account_id), organization)
