"""wire.service.organizations and wire.service.authorization: each AccountId rule, resource ARNs,
condition context, and the policy decision composed with them."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest

from wire.errors import ServiceError
from wire.service.authorization import authorize, request_context
from wire.service.organizations import (
    MANAGEMENT_SELF_MESSAGE,
    Organization,
    resolve_target,
)
from wire.service.policy import parse_policy

MGMT, MEMBER, DELEGATE, OUTSIDER, LONER = "111122223333", "444455556666", "777788889999", "123456789012", "999988887777"
ORG = Organization("o-exampleorg1", MGMT, frozenset({MEMBER, DELEGATE}), frozenset({DELEGATE}), True,
                   "r-ab12", MappingProxyType({MEMBER: "ou-ab12-11111111"}))
OFF = Organization("o-exampleorg1", MGMT, frozenset({MEMBER}), frozenset(), False)


def denied(call: Any) -> str:
    with pytest.raises(ServiceError) as caught:
        call()
    assert caught.value.code == "AccessDeniedException" and caught.value.status == 403
    return caught.value.message


def test_standalone_context_is_the_callers_own_account() -> None:
    for account, organization in ((LONER, None), (MGMT, ORG), (MEMBER, ORG)):
        target = resolve_target(account, "aws", organization, None)
        assert target.account_id == account and target.organization is None and target.org_paths == ()
        assert target.resource_arn == f"arn:aws:account::{account}:account"


def test_management_account_reaches_a_member_through_its_organization() -> None:
    target = resolve_target(MGMT, "aws", ORG, MEMBER)
    assert target.account_id == MEMBER and target.organization is ORG
    assert target.resource_arn == f"arn:aws:account::{MGMT}:account/o-exampleorg1/{MEMBER}"
    assert target.org_paths == (f"o-exampleorg1/r-ab12/ou-ab12-11111111/{MEMBER}/",)


def test_delegated_administrator_reaches_members_and_its_own_id() -> None:
    assert resolve_target(DELEGATE, "aws", ORG, MEMBER).account_id == MEMBER
    own = resolve_target(DELEGATE, "aws", ORG, DELEGATE)
    assert own.resource_arn == f"arn:aws:account::{MGMT}:account/o-exampleorg1/{DELEGATE}"
    assert own.org_paths == (f"o-exampleorg1/r-ab12/{DELEGATE}/",)


def test_rule_caller_outside_any_organization() -> None:
    assert "is not a member of an organization" in denied(lambda: resolve_target(LONER, "aws", None, MEMBER))


def test_rule_caller_neither_management_nor_delegated_administrator() -> None:
    message = denied(lambda: resolve_target(MEMBER, "aws", ORG, DELEGATE))
    assert f"Only the management account ({MGMT})" in message and f"account {MEMBER} is neither" in message


def test_rule_management_account_naming_itself_gets_the_documented_error() -> None:
    assert denied(lambda: resolve_target(MGMT, "aws", ORG, MGMT)) == MANAGEMENT_SELF_MESSAGE


def test_rule_target_outside_the_organization() -> None:
    assert f"Account {OUTSIDER} is not a member of organization o-exampleorg1" in denied(
        lambda: resolve_target(MGMT, "aws", ORG, OUTSIDER))


def test_rule_trusted_access_off() -> None:
    assert "Trusted access for AWS Account Management (account.amazonaws.com) is not enabled" in denied(
        lambda: resolve_target(MGMT, "aws", OFF, MEMBER))


def test_each_rule_has_its_own_message() -> None:
    messages = {
        denied(lambda: resolve_target(LONER, "aws", None, MEMBER)),
        denied(lambda: resolve_target(MEMBER, "aws", ORG, DELEGATE)),
        denied(lambda: resolve_target(MGMT, "aws", ORG, MGMT)),
        denied(lambda: resolve_target(MGMT, "aws", ORG, OUTSIDER)),
        denied(lambda: resolve_target(MGMT, "aws", OFF, MEMBER)),
    }
    assert len(messages) == 5


# -- authorization: context keys and policy on top of the rules -------------

ADMIN_ARN = f"arn:aws:sts::{MGMT}:assumed-role/Admin/session"


def test_request_context_reads_the_documented_keys() -> None:
    own = resolve_target(MGMT, "aws", ORG, None)
    member = resolve_target(MGMT, "aws", ORG, MEMBER)
    assert request_context("PutAlternateContact", {"AlternateContactType": "BILLING"}, own) == {
        "account:AlternateContactTypes": ("BILLING",)}
    assert request_context("EnableRegion", {"RegionName": "af-south-1"}, member) == {
        "account:TargetRegion": ("af-south-1",), "account:AccountResourceOrgPaths": member.org_paths}
    assert request_context("StartPrimaryEmailUpdate", {"PrimaryEmail": "a@example.com"}, own) == {
        "account:EmailTargetDomain": ("example.com",)}
    assert request_context("ListRegions", {}, own) == {}


def grant(policy: Any, operation: str, params: dict[str, Any], caller: str = MGMT) -> Any:
    parsed = None if policy is None else parse_policy(policy, identity=ADMIN_ARN)
    return authorize(caller_account=caller, caller_arn=ADMIN_ARN, policy=parsed, organization=ORG,
                     operation=operation, params=params)


def test_no_policy_allows_everything_the_rules_allow() -> None:
    result = grant(None, "GetAlternateContact", {"AlternateContactType": "BILLING", "AccountId": MEMBER})
    assert result.evaluation is None and result.target.account_id == MEMBER
    assert result.request.action == "account:GetAlternateContact"


def test_policy_scoped_to_member_accounts_and_billing_only() -> None:
    document = {"Version": "2012-10-17", "Statement": {
        "Effect": "Allow", "Action": "account:GetAlternateContact",
        "Resource": "arn:aws:account::111122223333:account/o-exampleorg1/*",
        "Condition": {"ForAnyValue:StringEquals": {"account:AlternateContactTypes": "BILLING"}}}}
    ok = grant(document, "GetAlternateContact", {"AlternateContactType": "BILLING", "AccountId": MEMBER})
    assert ok.evaluation is not None and ok.evaluation.allowed
    refused = denied(lambda: grant(document, "GetAlternateContact", {"AlternateContactType": "SECURITY",
                                                                      "AccountId": MEMBER}))
    assert refused == (
        f"User: {ADMIN_ARN} is not authorized to perform: account:GetAlternateContact on resource: "
        f"arn:aws:account::{MGMT}:account/o-exampleorg1/{MEMBER} because no identity-based policy allows the "
        "account:GetAlternateContact action")
    own = denied(lambda: grant(document, "GetAlternateContact", {"AlternateContactType": "BILLING"}))
    assert f"on resource: arn:aws:account::{MGMT}:account because" in own


def test_explicit_deny_message_through_authorize() -> None:
    document = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"},
                              {"Effect": "Deny", "Action": "account:DisableRegion", "Resource": "*"}]}
    assert denied(lambda: grant(document, "DisableRegion", {"RegionName": "af-south-1"})).endswith(
        "with an explicit deny in an identity-based policy")


def test_organization_rules_refuse_before_the_policy_is_consulted() -> None:
    allow_all = {"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}
    assert denied(lambda: grant(allow_all, "GetAccountInformation", {"AccountId": MGMT})) == MANAGEMENT_SELF_MESSAGE


def test_govcloud_names_its_target_with_standard_account_id() -> None:
    result = grant(None, "GetGovCloudAccountInformation", {"StandardAccountId": MEMBER})
    assert result.target.account_id == MEMBER
