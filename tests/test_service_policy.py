"""wire.service.policy: parsing (every malformation named), IAM evaluation, AWS's denial texts."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wire.model import load_model
from wire.service.policy import (
    AuthorizationRequest,
    PolicyError,
    denial_message,
    evaluate,
    parse_policy,
)

MGMT = "111122223333"
MEMBER = "444455556666"
OWN = f"arn:aws:account::{MGMT}:account"
IN_ORG = f"arn:aws:account::{MGMT}:account/o-exampleorg1/{MEMBER}"
ALICE = f"arn:aws:iam::{MGMT}:user/alice"
OPERATIONS = tuple(load_model("account").operations)


def policy(*statements: dict[str, Any]) -> Any:
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)}, identity=ALICE)


def allow(action: Any = "account:*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any = "account:*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def call(operation: str, resource: str = OWN, **context: tuple[str, ...]) -> AuthorizationRequest:
    return AuthorizationRequest(f"account:{operation}", resource, {f"account:{k}": v for k, v in context.items()})


# -- decisions --------------------------------------------------------------

def test_allow_names_the_statement() -> None:
    p = policy({**allow("account:GetAlternateContact"), "Sid": "Read"})
    result = evaluate(p, call("GetAlternateContact"))
    assert result.decision == "allow" and result.statement is not None and result.statement.sid == "Read"


def test_implicit_deny_when_nothing_applies() -> None:
    result = evaluate(policy(allow("account:GetAlternateContact")), call("PutAlternateContact"))
    assert result.decision == "implicit_deny" and result.statement is None and not result.allowed


def test_explicit_deny_wins_over_an_earlier_allow() -> None:
    p = policy(allow(), {**deny("account:Put*"), "Sid": "NoWrites"})
    result = evaluate(p, call("PutAlternateContact"))
    assert result.decision == "explicit_deny" and result.statement is not None and result.statement.index == 1
    assert evaluate(p, call("GetAlternateContact")).allowed


def test_single_statement_object_and_single_strings() -> None:
    p = parse_policy({"Version": "2012-10-17", "Statement": allow("account:ListRegions")}, identity=ALICE)
    assert evaluate(p, call("ListRegions")).allowed


@pytest.mark.parametrize("pattern, operation, expected", [
    ("account:*", "PutAccountName", True),
    ("*", "PutAccountName", True),
    ("account:*AlternateContact", "DeleteAlternateContact", True),
    ("account:*AlternateContact", "GetContactInformation", False),
    ("account:Get*", "GetRegionOptStatus", True),
    ("account:Get*", "ListRegions", False),
    ("ACCOUNT:getalternatecontact", "GetAlternateContact", True),  # IAM matches actions case-insensitively
    ("account:?nableRegion", "EnableRegion", True),
    ("account:?nableRegion", "DisableRegion", False),
    ("s3:*", "GetAlternateContact", False),
])
def test_action_wildcards(pattern: str, operation: str, expected: bool) -> None:
    assert evaluate(policy(allow(pattern)), call(operation)).allowed is expected


@pytest.mark.parametrize("pattern, resource, expected", [
    (OWN, OWN, True),
    (OWN, IN_ORG, False),
    (f"arn:aws:account::{MGMT}:account/o-exampleorg1/*", IN_ORG, True),
    (f"arn:aws:account::{MGMT}:account/o-exampleorg1/*", OWN, False),
    ("arn:aws:account::*:account", OWN, True),
    ("arn:aws:account::*:account/*", IN_ORG, True),
    ("arn:aws:account::????????????:account", OWN, True),
    (f"arn:aws:account::{MGMT}:ACCOUNT", OWN, False),  # resources are case-sensitive
    ("arn:aws:*::*:account", OWN, True),
    ("arn:aws:account:us-*:*:account", OWN, False),  # the account ARN has an empty region
    ("arn:aws:account::*:*", IN_ORG, True),
])
def test_resource_wildcards(pattern: str, resource: str, expected: bool) -> None:
    assert evaluate(policy(allow(resource=pattern)), call("GetAccountInformation", resource)).allowed is expected


def test_not_action_allows_everything_else() -> None:
    p = policy({"Effect": "Allow", "NotAction": ["account:Put*", "account:Delete*"], "Resource": "*"})
    assert evaluate(p, call("GetAlternateContact")).allowed
    assert evaluate(p, call("PutAlternateContact")).decision == "implicit_deny"


def test_not_action_deny_guards_everything_but_reads() -> None:
    p = policy(allow(), {"Effect": "Deny", "NotAction": "account:Get*", "Resource": "*"})
    assert evaluate(p, call("GetContactInformation")).allowed
    assert evaluate(p, call("EnableRegion")).decision == "explicit_deny"


def test_not_resource_keeps_member_accounts_out() -> None:
    p = policy({"Effect": "Allow", "Action": "account:*", "NotResource": "arn:aws:account::*:account/*"})
    assert evaluate(p, call("GetAlternateContact", OWN)).allowed
    assert evaluate(p, call("GetAlternateContact", IN_ORG)).decision == "implicit_deny"


# -- conditions -------------------------------------------------------------

def test_alternate_contact_types_any_value() -> None:
    # The user guide's example: read, not modify, only the BILLING contact.
    p = policy(allow("account:GetAlternateContact",
                     Condition={"ForAnyValue:StringEquals": {"account:AlternateContactTypes": ["BILLING"]}}))
    assert evaluate(p, call("GetAlternateContact", AlternateContactTypes=("BILLING",))).allowed
    assert not evaluate(p, call("GetAlternateContact", AlternateContactTypes=("SECURITY",))).allowed
    assert not evaluate(p, call("GetAlternateContact")).allowed  # missing key: ForAnyValue fails


def test_for_all_values_holds_vacuously_on_a_missing_key() -> None:
    p = policy(allow(Condition={"ForAllValues:StringEquals": {"account:AlternateContactTypes": ["BILLING"]}}))
    assert evaluate(p, call("GetAlternateContact", AlternateContactTypes=("BILLING",))).allowed
    assert not evaluate(p, call("GetAlternateContact", AlternateContactTypes=("BILLING", "SECURITY"))).allowed
    assert evaluate(p, call("ListRegions")).allowed


def test_org_paths_string_like_as_documented() -> None:
    # The Account Management guide's snippet: accounts under either of two OUs.
    p = policy(allow(Condition={"ForAnyValue:StringLike": {"account:AccountResourceOrgPaths": [
        "o-aa111bb222/r-a1b2/ou-a1b2-f6g7h111/*", "o-aa111bb222/r-a1b2/ou-a1b2-f6g7h222/*"]}}))
    inside = ("o-aa111bb222/r-a1b2/ou-a1b2-f6g7h222/444455556666/",)
    outside = ("o-aa111bb222/r-a1b2/444455556666/",)
    assert evaluate(p, call("GetAlternateContact", IN_ORG, AccountResourceOrgPaths=inside)).allowed
    assert not evaluate(p, call("GetAlternateContact", IN_ORG, AccountResourceOrgPaths=outside)).allowed


def test_target_region_single_valued_operators() -> None:
    p = policy(allow("account:EnableRegion", Condition={"StringLike": {"account:TargetRegion": "eu-*"}}),
               deny("account:EnableRegion", Condition={"StringEquals": {"account:TargetRegion": "eu-south-2"}}))
    assert evaluate(p, call("EnableRegion", TargetRegion=("eu-south-1",))).allowed
    assert evaluate(p, call("EnableRegion", TargetRegion=("eu-south-2",))).decision == "explicit_deny"
    assert evaluate(p, call("EnableRegion", TargetRegion=("ap-east-1",))).decision == "implicit_deny"


def test_negated_operator_holds_on_a_missing_key_and_keys_ignore_case() -> None:
    p = policy(allow(Condition={"StringNotEquals": {"ACCOUNT:targetregion": "me-south-1"}}))
    assert evaluate(p, call("ListRegions")).allowed
    assert not evaluate(p, call("EnableRegion", TargetRegion=("me-south-1",))).allowed


def test_conditions_are_anded_across_keys_and_ored_within_values() -> None:
    p = policy(allow(Condition={
        "ForAnyValue:StringEquals": {"account:AlternateContactTypes": ["BILLING", "OPERATIONS"]},
        "StringEquals": {"account:TargetRegion": "us-east-1"},
    }))
    assert evaluate(p, call("X", AlternateContactTypes=("OPERATIONS",), TargetRegion=("us-east-1",))).allowed
    assert not evaluate(p, call("X", AlternateContactTypes=("OPERATIONS",), TargetRegion=("us-west-2",))).allowed


# -- denial text ------------------------------------------------------------

def test_denial_messages_are_aws_texts() -> None:
    request = call("PutAlternateContact")
    implicit = evaluate(policy(allow("account:Get*")), request)
    assert denial_message(ALICE, request, implicit) == (
        f"User: {ALICE} is not authorized to perform: account:PutAlternateContact on resource: {OWN} "
        "because no identity-based policy allows the account:PutAlternateContact action")
    explicit = evaluate(policy(allow(), deny()), request)
    assert denial_message(ALICE, request, explicit) == (
        f"User: {ALICE} is not authorized to perform: account:PutAlternateContact on resource: {OWN} "
        "with an explicit deny in an identity-based policy")
    with pytest.raises(ValueError, match="allowed"):
        denial_message(ALICE, request, evaluate(policy(allow()), request))


# -- malformed policies -----------------------------------------------------

@pytest.mark.parametrize("document, where, rule", [
    ([], "document", "JSON object"),
    ({"Statement": [allow()], "Foo": 1}, "document", "unknown element(s) Foo"),
    ({"Version": "2013-01-01", "Statement": [allow()]}, "Version", "'2013-01-01' is not one of"),
    ({"Version": "2012-10-17"}, "Statement", "non-empty list"),
    ({"Version": "2012-10-17", "Statement": []}, "Statement", "non-empty list"),
    ({"Statement": ["x"]}, "Statement[0]", "JSON object"),
    ({"Statement": [{**allow(), "Effect": "Permit"}]}, "Statement[0]", "Effect must be \"Allow\" or \"Deny\""),
    ({"Statement": [allow(), {"Effect": "Allow", "Resource": "*"}]}, "Statement[1]",
     "exactly one of Action or NotAction; it has neither"),
    ({"Statement": [{**allow(), "NotAction": "account:Get*"}]}, "Statement[0]", "it has both"),
    ({"Statement": [{"Effect": "Allow", "Action": "account:*"}]}, "Statement[0]", "Resource or NotResource"),
    ({"Statement": [allow(action=[])]}, "Statement[0]", "Action must be a string or a non-empty list"),
    ({"Statement": [allow(action=["account:Get*", 3])]}, "Statement[0]", "holds 3"),
    ({"Statement": [allow(action="GetAlternateContact")]}, "Statement[0]", "'<service>:<action>'"),
    ({"Statement": [allow(resource="account")]}, "Statement[0]", "is not '*' or an ARN"),
    ({"Statement": [allow(resource="arn:aws:account:*")]}, "Statement[0]", "is not '*' or an ARN"),
    ({"Version": "2012-10-17", "Statement": [allow(resource="arn:aws:account::${aws:userid}:account")]},
     "Statement[0]", "policy variable"),
    ({"Statement": [{**allow(), "Sid": "Has Space"}]}, "Statement[0]", "letters and digits"),
    ({"Statement": [{**allow(), "Sid": "Same"}, {**deny(), "Sid": "Same"}]}, "Statement", 'Sid "Same" is used twice'),
    ({"Statement": [{**allow(), "Principal": "*"}]}, "Statement[0]", "Principal"),
    ({"Statement": [{**allow(), "Sid": "S1", "Acton": "x"}]}, 'Statement[0] (Sid "S1")', "unknown element(s) Acton"),
    ({"Statement": [allow(Condition={})]}, "Statement[0]", "Condition must be a non-empty object"),
    ({"Statement": [allow(Condition={"NumericEquals": {"account:TargetRegion": "1"}})]}, "Statement[0]",
     "'NumericEquals' is not supported"),
    ({"Statement": [allow(Condition={"ForSomeValues:StringEquals": {"account:TargetRegion": "x"}})]},
     "Statement[0]", "qualifier must be one of"),
    ({"Statement": [allow(Condition={"StringEquals": {"aws:username": "x"}})]}, "Statement[0]",
     "key 'aws:username' is not supported"),
    ({"Statement": [allow(Condition={"StringEquals": {"account:AlternateContactTypes": "BILLING"}})]},
     "Statement[0]", "multi-valued; qualify the operator"),
    ({"Statement": [allow(Condition={"StringEquals": ["x"]})]}, "Statement[0]", "key -> values"),
    ({"Statement": [allow(Condition={"StringEquals": {"account:TargetRegion": []}})]}, "Statement[0]",
     "non-empty list"),
])
def test_malformed_policy_names_identity_statement_and_rule(document: Any, where: str, rule: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(document, identity=ALICE)
    assert caught.value.identity == ALICE and caught.value.where == where and rule in caught.value.rule
    assert str(caught.value).startswith(f"identity {ALICE}: policy {where}: ")


def test_known_actions_catch_typos_but_not_wildcards() -> None:
    with pytest.raises(PolicyError, match="'account:GetAlternativeContact' names no Account Management action"):
        parse_policy({"Statement": allow("account:GetAlternativeContact")}, identity=ALICE,
                     known_actions=OPERATIONS)
    parse_policy({"Statement": allow(["account:getalternatecontact", "account:Get*", "s3:GetObject"])},
                 identity=ALICE, known_actions=OPERATIONS)


def test_missing_version_is_2008_and_keeps_dollar_literal() -> None:
    p = parse_policy({"Statement": allow(resource="arn:aws:account::${x}:account")}, identity=ALICE)
    assert p.version == "2008-10-17"
    assert evaluate(p, call("ListRegions", "arn:aws:account::${x}:account")).allowed


# -- properties -------------------------------------------------------------

_patterns = st.sampled_from(["account:*", "*", "account:Get*", "account:*Contact", "account:?ut*",
                             "account:ListRegions", "account:PutAccountName"])
_resources = st.sampled_from(["*", OWN, IN_ORG, "arn:aws:account::*:account", "arn:aws:account::*:account/*"])


@settings(max_examples=150, deadline=None)
@given(allows=st.lists(st.tuples(_patterns, _resources), max_size=6), operation=st.sampled_from(OPERATIONS),
       resource=st.sampled_from([OWN, IN_ORG]), position=st.integers(min_value=0, max_value=6))
def test_a_matching_deny_always_wins(allows: list[tuple[str, str]], operation: str, resource: str,
                                     position: int) -> None:
    statements = [allow(a, r) for a, r in allows]
    statements.insert(min(position, len(statements)), deny(f"account:{operation}", resource))
    result = evaluate(policy(*statements), call(operation, resource))
    assert result.decision == "explicit_deny"


@settings(max_examples=150, deadline=None)
@given(allows=st.lists(st.tuples(_patterns, _resources), min_size=1, max_size=6),
       operation=st.sampled_from(OPERATIONS), resource=st.sampled_from([OWN, IN_ORG]))
def test_allow_only_policies_allow_exactly_when_some_statement_matches(
        allows: list[tuple[str, str]], operation: str, resource: str) -> None:
    request = call(operation, resource)
    single = [evaluate(policy(allow(a, r)), request).allowed for a, r in allows]
    result = evaluate(policy(*(allow(a, r) for a, r in allows)), request)
    assert result.allowed == any(single)
    assert result.decision in ("allow", "implicit_deny")
    if result.statement is not None:
        assert single.index(True) == result.statement.index  # the first applying Allow is named
