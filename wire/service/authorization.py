"""Whether a verified caller may make a call: organizations rules, then its identity-based policy.

Strategy: one function, `authorize`, composes the pure pieces in the order a
request meets them: `organizations.resolve_target` turns `AccountId` into the
target account and the resource ARN (or refuses), `request_context` builds
the documented condition keys from the call's parameters (a table: operation
-> key -> how to read it), and `policy.evaluate` decides. A caller without a
policy is allowed everything, the local default. Every refusal is a
`ServiceError` AccessDeniedException (403) carrying AWS's message text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from wire.errors import ServiceError
from wire.service.organizations import ACCESS_DENIED, ACCESS_DENIED_STATUS, Organization, Target, resolve_target
from wire.service.policy import AuthorizationRequest, Evaluation, Policy, denial_message, evaluate

ACTION_PREFIX = "account"
#: The member naming the target account, where it is not `AccountId`.
ACCOUNT_ID_MEMBER: dict[str, str] = {"GetGovCloudAccountInformation": "StandardAccountId"}


def _single(member: str) -> Callable[[Mapping[str, Any]], tuple[str, ...]]:
    return lambda params: (str(params[member]),) if params.get(member) is not None else ()


def _email_domain(params: Mapping[str, Any]) -> tuple[str, ...]:
    email = params.get("PrimaryEmail")
    return (str(email).rpartition("@")[2],) if email else ()


_CONTACT_TYPE = {"account:AlternateContactTypes": _single("AlternateContactType")}
_REGION = {"account:TargetRegion": _single("RegionName")}
_EMAIL: dict[str, Callable[[Mapping[str, Any]], tuple[str, ...]]] = {"account:EmailTargetDomain": _email_domain}

#: operation -> condition key -> its values read from the call's parameters (the Service
#: Authorization Reference lists which keys each action supports).
REQUEST_KEYS: dict[str, dict[str, Callable[[Mapping[str, Any]], tuple[str, ...]]]] = {
    "GetAlternateContact": _CONTACT_TYPE,
    "PutAlternateContact": _CONTACT_TYPE,
    "DeleteAlternateContact": _CONTACT_TYPE,
    "EnableRegion": _REGION,
    "DisableRegion": _REGION,
    "GetRegionOptStatus": _REGION,
    "StartPrimaryEmailUpdate": _EMAIL,
    "AcceptPrimaryEmailUpdate": _EMAIL,
}


@dataclass(frozen=True, slots=True)
class Grant:
    """An authorized call: what it acts on and how the policy decided (None: caller has no policy)."""

    target: Target
    request: AuthorizationRequest
    evaluation: Evaluation | None


def request_context(operation: str, params: Mapping[str, Any], target: Target) -> dict[str, tuple[str, ...]]:
    """The condition keys present for this call; a key with no value is absent, as IAM has it."""
    context = {key: read(params) for key, read in REQUEST_KEYS.get(operation, {}).items()}
    context["account:AccountResourceOrgPaths"] = target.org_paths
    return {key: values for key, values in context.items() if values}


def authorize(
    *, caller_account: str, caller_arn: str, policy: Policy | None, organization: Organization | None,
    operation: str, params: Mapping[str, Any],
) -> Grant:
    """Authorize `operation` with its (validated) `params` for the caller.

    The target account is the call's `AccountId` (`ACCOUNT_ID_MEMBER` names
    the exceptions), omitted meaning the caller's own; `organization` is the
    one the caller's account belongs to. Returns the Grant; raises
    ServiceError(AccessDeniedException, 403) with AWS's text.
    """
    partition = caller_arn.split(":")[1]
    account_id = params.get(ACCOUNT_ID_MEMBER.get(operation, "AccountId"))
    target = resolve_target(caller_account, partition, organization, account_id)
    request = AuthorizationRequest(f"{ACTION_PREFIX}:{operation}", target.resource_arn,
                                   request_context(operation, params, target))
    if policy is None:
        return Grant(target, request, None)
    evaluation = evaluate(policy, request)
    if not evaluation.allowed:
        raise ServiceError(ACCESS_DENIED, denial_message(caller_arn, request, evaluation), ACCESS_DENIED_STATUS)
    return Grant(target, request, evaluation)
