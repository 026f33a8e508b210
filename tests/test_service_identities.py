"""Identities, temporary credentials, policies and organizations: the accounts document, then
the whole path through boto3 against the pure handler."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.service_boto3 import client
from tests.service_helpers import CONTACT, MODEL, Service
from wire.service import ConfigError, load_directory
from wire.service.organizations import MANAGEMENT_SELF_MESSAGE
from wire.service.policy import PolicyError
from wire.service.trail import assumed_role_principal_id

MGMT, MEMBER, DELEGATE, OUTSIDER, LONER = "111122223333", "444455556666", "777788889999", "123456789012", "999988887777"
OPERATIONS = tuple(MODEL.operations)
NOW = datetime.now(timezone.utc)


def entry(key: str, account: str, **extra: Any) -> dict[str, Any]:
    return {"access_key_id": key, "secret_access_key": f"secret-{key}", "account_id": account, **extra}


def management(**extra: Any) -> dict[str, Any]:
    return entry("AKIDMGMT", MGMT, management_account=True, members=[MEMBER, DELEGATE], **extra)


def load(*entries: dict[str, Any]) -> Any:
    return load_directory({"accounts": list(entries)}, known_actions=OPERATIONS)


# -- the accounts document -------------------------------------------------------------------

def test_defaults_keep_issue_6_documents_working() -> None:
    directory = load(management())
    organization = directory.organization_of(MEMBER)
    assert organization is not None and organization.id == f"o-{MGMT}" and organization.trusted_access
    assert organization.delegated_administrators == frozenset() and directory.organization_of(LONER) is None
    principal = directory.principals["AKIDMGMT"]
    assert principal.arn == f"arn:aws:iam::{MGMT}:root" and principal.policy is None and principal.expiration is None


def test_full_entries() -> None:
    directory = load(
        management(organization_id="o-exampleorg1", trusted_access=False, delegated_administrators=[DELEGATE],
                   organizational_units={"ou-ab12-11111111": [MEMBER]}, arn=f"arn:aws:iam::{MGMT}:user/ops/alice",
                   policy={"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "account:Get*",
                                                                 "Resource": "*"}}),
        entry("ASIAROLE", DELEGATE, arn=f"arn:aws:sts::{DELEGATE}:assumed-role/Admin/ci-run",
              session_token="token-1", expiration="2026-11-24T19:00:00Z"))
    organization = directory.organizations[MGMT]
    assert (organization.id, organization.trusted_access, organization.delegated_administrators) == (
        "o-exampleorg1", False, frozenset({DELEGATE}))
    assert organization.path_of(MEMBER) == f"o-exampleorg1/r-0000/ou-ab12-11111111/{MEMBER}/"
    assert directory.principals["AKIDMGMT"].policy is not None
    role = directory.principals["ASIAROLE"]
    assert role.expiration == datetime(2026, 11, 24, 19, tzinfo=timezone.utc)
    assert role.expired(role.expiration) and not role.expired(role.expiration - timedelta(seconds=1))
    assert "token-1" not in repr(role)


@pytest.mark.parametrize("entries, fragment", [
    ([entry("A", MGMT, arn="arn:aws:iam::111122223333:group/x")], "accounts[0].arn: 'arn:aws:iam::111122223333:group/x'"),
    ([entry("A", MGMT, arn="arn:aws:sts::111122223333:user/alice")], "accounts[0].arn:"),
    ([entry("A", MGMT, arn="arn:aws:iam::111122223333:root/x")], "accounts[0].arn:"),
    ([entry("A", MGMT, arn=f"arn:aws:iam::{MEMBER}:user/alice")], f"names account {MEMBER}, but account_id is {MGMT}"),
    ([entry("A", MGMT, arn=f"arn:aws:sts::{MGMT}:assumed-role/Admin/s")], "assumed role signs with temporary"),
    ([entry("A", MGMT, expiration="2026-11-24T19:00:00Z")], "accounts[0].expiration: only temporary credentials"),
    ([entry("A", MGMT, session_token="t", expiration="tomorrow")], "'tomorrow' is not an ISO 8601 time"),
    ([entry("A", MGMT, session_token="t", expiration="2026-11-24T19:00:00")], "has no time zone"),
    ([entry("A", MGMT, trusted_access=True)], "accounts[0].trusted_access: only a management account"),
    ([management(organization_id="org-1")], "accounts[0].organization_id: 'org-1' is not o-"),
    ([management(delegated_administrators=[OUTSIDER])],
     f"accounts[0].delegated_administrators[0]: '{OUTSIDER}' is not a member"),
    ([management(delegated_administrators=MEMBER)], "accounts[0].delegated_administrators: expected list, got str"),
    ([management(organizational_units={"ou-ab12-11111111": MEMBER})],
     "organizational_units.ou-ab12-11111111: expected a list"),
    ([management(organizational_units={"ou-1": [MEMBER]})], "'ou-1' is not an OU id"),
    ([management(organizational_units={"ou-ab12-11111111": [OUTSIDER]})],
     "organizational_units.ou-ab12-11111111[0]: '123456789012' is not a member"),
    ([management(organizational_units={"ou-ab12-11111111": [MEMBER], "ou-ab12-22222222": [MEMBER]})],
     f"{MEMBER} is already in ou-ab12-11111111"),
    ([management(trusted_access=True), {**management(trusted_access=False), "access_key_id": "AKIDMGMT2"}],
     f"accounts[1]: organization keys for {MGMT} are already given by accounts[0]"),
])
def test_accounts_document_errors_name_the_entry_and_key(entries: list[dict[str, Any]], fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(*entries)
    assert fragment in str(caught.value)


def test_malformed_policy_stops_loading_naming_identity_and_statement() -> None:
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "account:*", "Resource": "*"},
        {"Sid": "NoBilling", "Effect": "Deny", "Action": "account:PutAlternateContacts", "Resource": "*"}]}
    with pytest.raises(PolicyError) as caught:
        load(management(arn=f"arn:aws:iam::{MGMT}:user/alice", policy=policy))
    assert str(caught.value) == (
        f"identity accounts[0] (arn:aws:iam::{MGMT}:user/alice): policy Statement[1] (Sid \"NoBilling\"): "
        "Action 'account:PutAlternateContacts' names no Account Management action")


# -- through boto3 ---------------------------------------------------------------------------

def served(*entries: dict[str, Any]) -> Service:
    service = Service({"accounts": list(entries)})
    service.now = NOW  # botocore signs with the real clock
    return service


def refused(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


ROLE = entry("ASIAROLE", MGMT, arn=f"arn:aws:sts::{MGMT}:assumed-role/Admin/ci", session_token="the-token",
             expiration=(NOW + timedelta(hours=1)).isoformat())


def test_temporary_credentials_with_their_token_are_accepted() -> None:
    account = client(served(ROLE), "ASIAROLE", "secret-ASIAROLE", "the-token")
    assert account.get_account_information()["AccountId"] == MGMT


@pytest.mark.parametrize("token", [None, "another-token"], ids=["missing", "wrong"])
def test_missing_or_wrong_session_token_is_unrecognized(token: str | None) -> None:
    account = client(served(ROLE), "ASIAROLE", "secret-ASIAROLE", token)
    assert refused(account.get_account_information) == (
        "UnrecognizedClientException", "The security token included in the request is invalid.")


def test_a_token_on_permanent_keys_is_unrecognized() -> None:
    account = client(served(entry("AKIDUSER", MGMT)), "AKIDUSER", "secret-AKIDUSER", "stray-token")
    assert refused(account.list_regions)[0] == "UnrecognizedClientException"


def test_expired_session_token() -> None:
    expired = {**ROLE, "expiration": (NOW - timedelta(minutes=1)).isoformat()}
    account = client(served(expired), "ASIAROLE", "secret-ASIAROLE", "the-token")
    assert refused(account.get_account_information) == (
        "ExpiredTokenException", "The security token included in the request is expired")


def test_trail_names_the_assumed_role() -> None:
    service = served(ROLE)
    account = client(service, "ASIAROLE", "secret-ASIAROLE", "the-token")
    records: list[dict[str, Any]] = []
    serve = service.serve

    def recording(request: Any) -> Any:
        reply = serve(request)
        records.append(reply.event)
        return reply

    service.serve = recording  # type: ignore[method-assign]
    account.list_regions()
    identity = records[0]["userIdentity"]
    assert identity["type"] == "AssumedRole" and identity["arn"] == ROLE["arn"]
    # As AWS records it: the role's unique id (AROA...) and the session name, not the key id.
    assert re.fullmatch(r"AROA[A-Z0-9]{17}:ci", identity["principalId"]), identity
    assert identity["accessKeyId"] == "ASIAROLE"
    other_session = assumed_role_principal_id(f"arn:aws:sts::{MGMT}:assumed-role/Admin/another")
    assert other_session == identity["principalId"].replace(":ci", ":another")  # one role, one id


ALICE = f"arn:aws:iam::{MGMT}:user/alice"


def with_policy(*statements: dict[str, Any]) -> Any:
    user = management(arn=ALICE, policy={"Version": "2012-10-17", "Statement": list(statements)})
    return client(served(user), "AKIDMGMT", "secret-AKIDMGMT")


def test_policy_allow_and_implicit_deny() -> None:
    account = with_policy({"Effect": "Allow", "Action": "account:*AlternateContact",
                           "Resource": f"arn:aws:account::{MGMT}:account"})
    account.put_alternate_contact(AlternateContactType="BILLING", **CONTACT)
    assert account.get_alternate_contact(AlternateContactType="BILLING")["AlternateContact"]["Name"] == "Ana"
    assert refused(account.list_regions) == ("AccessDeniedException", (
        f"User: {ALICE} is not authorized to perform: account:ListRegions on resource: "
        f"arn:aws:account::{MGMT}:account because no identity-based policy allows the account:ListRegions action"))


def test_policy_explicit_deny_wins() -> None:
    account = with_policy({"Effect": "Allow", "Action": "*", "Resource": "*"},
                          {"Effect": "Deny", "Action": "account:Put*", "Resource": "*"})
    assert refused(lambda: account.put_account_name(AccountName="x")) == ("AccessDeniedException", (
        f"User: {ALICE} is not authorized to perform: account:PutAccountName on resource: "
        f"arn:aws:account::{MGMT}:account with an explicit deny in an identity-based policy"))
    assert account.get_account_information()["AccountId"] == MGMT


def test_policy_not_action_and_condition_keys() -> None:
    account = with_policy(
        {"Effect": "Allow", "NotAction": "account:Delete*", "Resource": "*"},
        {"Effect": "Deny", "Action": "account:*AlternateContact", "Resource": "*",
         "Condition": {"ForAnyValue:StringEquals": {"account:AlternateContactTypes": "SECURITY"}}})
    account.put_alternate_contact(AlternateContactType="BILLING", **CONTACT)
    assert refused(lambda: account.put_alternate_contact(AlternateContactType="SECURITY", **CONTACT))[1].endswith(
        "with an explicit deny in an identity-based policy")
    assert refused(lambda: account.delete_alternate_contact(AlternateContactType="BILLING"))[1].endswith(
        "because no identity-based policy allows the account:DeleteAlternateContact action")


def test_policy_scoped_to_member_accounts() -> None:
    account = with_policy({"Effect": "Allow", "Action": "account:GetAccountInformation",
                           "Resource": f"arn:aws:account::{MGMT}:account/o-*/*"})
    assert account.get_account_information(AccountId=MEMBER)["AccountId"] == MEMBER
    assert "on resource: arn:aws:account::111122223333:account because" in refused(account.get_account_information)[1]


# -- organizations rules, through boto3 ---------------------------------------------------

ORG = management(organization_id="o-exampleorg1", delegated_administrators=[DELEGATE])


def org_client(key: str, *entries: dict[str, Any]) -> Any:
    return client(served(*entries), key, f"secret-{key}")


def test_management_account_reaches_members_with_trusted_access() -> None:
    account = org_client("AKIDMGMT", ORG)
    account.put_alternate_contact(AccountId=MEMBER, AlternateContactType="OPERATIONS", **CONTACT)
    assert account.get_alternate_contact(AccountId=MEMBER, AlternateContactType="OPERATIONS")


def test_delegated_administrator_reaches_members_and_itself() -> None:
    account = org_client("AKIDDELEGATE", ORG, entry("AKIDDELEGATE", DELEGATE))
    assert account.get_account_information(AccountId=MEMBER)["AccountId"] == MEMBER
    account.put_alternate_contact(AccountId=DELEGATE, AlternateContactType="BILLING", **CONTACT)


def test_rule_caller_outside_any_organization() -> None:
    account = org_client("AKIDLONER", ORG, entry("AKIDLONER", LONER))
    code, message = refused(lambda: account.get_account_information(AccountId=MEMBER))
    assert code == "AccessDeniedException" and f"Account {LONER} is not a member of an organization" in message


def test_rule_member_that_is_not_delegated() -> None:
    account = org_client("AKIDMEMBER", ORG, entry("AKIDMEMBER", MEMBER))
    code, message = refused(lambda: account.get_account_information(AccountId=DELEGATE))
    assert code == "AccessDeniedException" and f"account {MEMBER} is neither" in message


def test_rule_management_account_naming_itself() -> None:
    account = org_client("AKIDMGMT", ORG)
    assert refused(lambda: account.get_alternate_contact(AccountId=MGMT, AlternateContactType="BILLING")) == (
        "AccessDeniedException", MANAGEMENT_SELF_MESSAGE)


def test_rule_target_not_in_the_organization() -> None:
    account = org_client("AKIDMGMT", ORG)
    code, message = refused(lambda: account.get_account_information(AccountId=OUTSIDER))
    assert code == "AccessDeniedException" and f"Account {OUTSIDER} is not a member of organization" in message


def test_rule_trusted_access_disabled() -> None:
    account = org_client("AKIDMGMT", {**ORG, "trusted_access": False})
    code, message = refused(lambda: account.get_account_information(AccountId=MEMBER))
    assert code == "AccessDeniedException" and "Trusted access for AWS Account Management" in message
    assert account.get_account_information()["AccountId"] == MGMT  # standalone context needs no trusted access
