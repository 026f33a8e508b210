"""Identity-based IAM policies for the Account Management API: parse, validate, evaluate.

Strategy: a policy document (already-loaded JSON) is parsed once, at start-up,
into frozen `Statement` values; every rule it breaks raises `PolicyError`
naming the identity, the statement (index and Sid) and the rule. Evaluation
is IAM's for a single identity-based policy: every statement whose action,
resource and conditions all match the request applies; an applying Deny wins,
else an applying Allow allows, else the request is implicitly denied. The
`Evaluation` says which, and which statement decided.

The language is the subset this API needs, as the Service Authorization
Reference documents it for the `account` prefix:
- actions `account:<Operation>` (matched case-insensitively, `*` and `?`
  wildcards), `Action` or `NotAction`;
- resources `arn:${Partition}:account::${Account}:account` (standalone) and
  `arn:${Partition}:account::${ManagementAccountId}:account/o-${OrganizationId}/${MemberAccountId}`
  (a member reached through its organization), `Resource` or `NotResource`,
  matched per colon-separated ARN part, case-sensitively, with wildcards;
- conditions on the service's documented keys only (`CONDITION_KEYS`), with
  the string operators, optionally qualified by `ForAnyValue:` /
  `ForAllValues:`, which the documentation requires for the multi-valued keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from wire.errors import WireError

#: Policy language versions IAM accepts; a document without one is 2008-10-17.
VERSIONS = ("2012-10-17", "2008-10-17")
DEFAULT_VERSION = "2008-10-17"

#: Condition keys the `account` service documents -> whether they are multi-valued (ArrayOfString).
CONDITION_KEYS: dict[str, bool] = {
    "account:AlternateContactTypes": True,
    "account:AccountResourceOrgPaths": True,
    "account:TargetRegion": False,
    "account:EmailTargetDomain": False,
}
_KEYS_BY_LOWER = {key.lower(): key for key in CONDITION_KEYS}

#: String condition operators -> (wildcards allowed in policy values, negated).
OPERATORS: dict[str, tuple[bool, bool]] = {
    "StringEquals": (False, False),
    "StringNotEquals": (False, True),
    "StringLike": (True, False),
    "StringNotLike": (True, True),
}
SET_QUALIFIERS = ("ForAnyValue", "ForAllValues")

_STATEMENT_KEYS = frozenset({"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"})
_DOCUMENT_KEYS = frozenset({"Version", "Id", "Statement"})
_SID = re.compile(r"[A-Za-z0-9]*\Z")
_ACTION = re.compile(r"[A-Za-z0-9-]+:[A-Za-z0-9*?]+\Z")

Effect = Literal["Allow", "Deny"]
Decision = Literal["allow", "explicit_deny", "implicit_deny"]


class PolicyError(WireError, ValueError):
    """A policy document breaks a rule; the message names identity, statement and rule."""

    def __init__(self, identity: str, where: str, rule: str) -> None:
        self.identity = identity
        self.where = where
        self.rule = rule
        super().__init__(f"identity {identity}: policy {where}: {rule}")


@dataclass(frozen=True, slots=True)
class Condition:
    """One `operator: {key: values}` test; `qualifier` is "", ForAnyValue or ForAllValues."""

    qualifier: str
    operator: str
    key: str  # canonical spelling from CONDITION_KEYS
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Statement:
    index: int
    sid: str | None
    effect: Effect
    actions: tuple[str, ...]
    not_action: bool  # `actions` came from NotAction
    resources: tuple[str, ...]
    not_resource: bool  # `resources` came from NotResource
    conditions: tuple[Condition, ...]

    @property
    def label(self) -> str:
        """How messages name this statement: `Statement[1] (Sid "DenyBilling")`."""
        return f"Statement[{self.index}]" + (f' (Sid "{self.sid}")' if self.sid else "")


@dataclass(frozen=True, slots=True)
class Policy:
    version: str
    statements: tuple[Statement, ...]


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """What a call asks for: `action` like `account:GetAlternateContact`, the resource ARN, the context keys."""

    action: str
    resource: str
    context: Mapping[str, tuple[str, ...]]  # condition key (any case) -> values; absent keys are missing


@dataclass(frozen=True, slots=True)
class Evaluation:
    decision: Decision
    statement: Statement | None  # the Deny that won, the first Allow that applied, None for implicit deny

    @property
    def allowed(self) -> bool:
        return self.decision == "allow"


# -- parsing ----------------------------------------------------------------

def _strings(value: Any, identity: str, where: str, element: str) -> tuple[str, ...]:
    """A string or a non-empty list of non-empty strings, as IAM writes single or many values."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise PolicyError(identity, where, f"{element} must be a string or a non-empty list of strings")
    for item in items:
        if not isinstance(item, str) or not item:
            raise PolicyError(identity, where, f"{element} holds {item!r}; every entry must be a non-empty string")
    return tuple(items)


def _either(raw: Mapping[str, Any], name: str, identity: str, where: str) -> tuple[str, bool]:
    """Which of `name` / `Not<name>` the statement uses (exactly one is required)."""
    present = [key for key in (name, "Not" + name) if key in raw]
    if len(present) != 1:
        problem = "both" if present else "neither"
        raise PolicyError(identity, where, f"a statement needs exactly one of {name} or Not{name}; it has {problem}")
    return present[0], present[0] != name


def _parse_actions(raw: Mapping[str, Any], identity: str, where: str,
                   known_actions: frozenset[str] | None) -> tuple[tuple[str, ...], bool]:
    element, negated = _either(raw, "Action", identity, where)
    actions = _strings(raw[element], identity, where, element)
    for action in actions:
        if action != "*" and not _ACTION.match(action):
            raise PolicyError(identity, where, f"{element} {action!r} is not '*' or '<service>:<action>' "
                                               "(letters, digits, '*' and '?' after the colon)")
        if known_actions is not None and action.lower().startswith("account:") and not set("*?") & set(action):
            if action.lower() not in known_actions:
                raise PolicyError(identity, where, f"{element} {action!r} names no Account Management action")
    return actions, negated


def _parse_resources(raw: Mapping[str, Any], identity: str, where: str, version: str) -> tuple[tuple[str, ...], bool]:
    element, negated = _either(raw, "Resource", identity, where)
    resources = _strings(raw[element], identity, where, element)
    for resource in resources:
        if resource != "*" and (not resource.startswith("arn:") or resource.count(":") < 5):
            raise PolicyError(identity, where, f"{element} {resource!r} is not '*' or an ARN "
                                               "(arn:partition:service:region:account:resource)")
        if version == "2012-10-17" and "${" in resource:
            raise PolicyError(identity, where, f"{element} {resource!r} uses a policy variable; "
                                               "variables are not supported by this endpoint")
    return resources, negated


def _parse_operator(name: str, identity: str, where: str) -> tuple[str, str]:
    qualifier, _, operator = name.rpartition(":")
    if qualifier and qualifier not in SET_QUALIFIERS:
        raise PolicyError(identity, where, f"Condition operator {name!r}: the qualifier must be one of "
                                           f"{', '.join(SET_QUALIFIERS)}")
    if operator not in OPERATORS:
        raise PolicyError(identity, where, f"Condition operator {name!r} is not supported; use one of "
                                           f"{', '.join(OPERATORS)}")
    return qualifier, operator


def _parse_conditions(raw: Any, identity: str, where: str) -> tuple[Condition, ...]:
    if not isinstance(raw, Mapping) or not raw:
        raise PolicyError(identity, where, "Condition must be a non-empty object of operator -> {key: values}")
    conditions: list[Condition] = []
    for name, block in raw.items():
        qualifier, operator = _parse_operator(name, identity, where)
        if not isinstance(block, Mapping) or not block:
            raise PolicyError(identity, where, f"Condition {name}: must be a non-empty object of key -> values")
        for key, values in block.items():
            canonical = _KEYS_BY_LOWER.get(key.lower())
            if canonical is None:
                raise PolicyError(identity, where, f"Condition {name}: key {key!r} is not supported; this API "
                                                   f"documents {', '.join(CONDITION_KEYS)}")
            if CONDITION_KEYS[canonical] and not qualifier:
                raise PolicyError(identity, where, f"Condition {name}: {canonical} is multi-valued; qualify the "
                                                   f"operator with ForAnyValue: or ForAllValues:")
            conditions.append(Condition(qualifier, operator, canonical,
                                        _strings(values, identity, where, f"Condition {name} {canonical}")))
    return tuple(conditions)


def _parse_statement(raw: Any, index: int, identity: str, version: str,
                     known_actions: frozenset[str] | None) -> Statement:
    where = f"Statement[{index}]"
    if not isinstance(raw, Mapping):
        raise PolicyError(identity, where, "a statement must be a JSON object")
    sid = raw.get("Sid")
    if sid is not None:
        if not isinstance(sid, str) or not _SID.match(sid):
            raise PolicyError(identity, where, f"Sid {sid!r} must be a string of letters and digits")
        where = f'{where} (Sid "{sid}")'
    if "Principal" in raw or "NotPrincipal" in raw:
        raise PolicyError(identity, where, "an identity-based policy cannot name a Principal or NotPrincipal")
    if unknown := sorted(set(raw) - _STATEMENT_KEYS):
        raise PolicyError(identity, where, f"unknown element(s) {', '.join(unknown)}; a statement has "
                                           f"{', '.join(sorted(_STATEMENT_KEYS))}")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(identity, where, f"Effect must be \"Allow\" or \"Deny\", not {effect!r}")
    actions, not_action = _parse_actions(raw, identity, where, known_actions)
    resources, not_resource = _parse_resources(raw, identity, where, version)
    conditions = _parse_conditions(raw["Condition"], identity, where) if "Condition" in raw else ()
    return Statement(index, sid, effect, actions, not_action, resources, not_resource, conditions)


def parse_policy(document: Any, *, identity: str, known_actions: Sequence[str] | None = None) -> Policy:
    """Parse an identity-based policy document (the loaded JSON value).

    `identity` names the owner in messages (e.g. its ARN or access key id).
    `known_actions` (e.g. the model's operation names) makes an `account:`
    action without wildcards that names none of them an error: a typo there
    would otherwise silently never match.
    Returns the Policy; raises PolicyError naming the statement and the rule.
    """
    if not isinstance(document, Mapping):
        raise PolicyError(identity, "document", "must be a JSON object with Version and Statement")
    if unknown := sorted(set(document) - _DOCUMENT_KEYS):
        raise PolicyError(identity, "document", f"unknown element(s) {', '.join(unknown)}; a policy has "
                                                "Version, Id and Statement")
    version = document.get("Version", DEFAULT_VERSION)
    if version not in VERSIONS:
        raise PolicyError(identity, "Version", f"{version!r} is not one of {', '.join(VERSIONS)}")
    raw = document.get("Statement")
    statements = [raw] if isinstance(raw, Mapping) else raw
    if not isinstance(statements, list) or not statements:
        raise PolicyError(identity, "Statement", "must be a statement object or a non-empty list of them")
    known = None if known_actions is None else frozenset(f"account:{name}".lower() for name in known_actions)
    parsed = tuple(_parse_statement(item, index, identity, version, known) for index, item in enumerate(statements))
    sids = [s.sid for s in parsed if s.sid]
    if duplicate := next((sid for sid in sids if sids.count(sid) > 1), None):
        raise PolicyError(identity, "Statement", f'Sid "{duplicate}" is used twice; Sids must be unique in a policy')
    return Policy(version, parsed)


# -- evaluation -------------------------------------------------------------

@lru_cache(maxsize=1024)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """`*` (any run) and `?` (any one character) as IAM writes them; everything else literal."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body + r"\Z", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _action_matches(pattern: str, action: str) -> bool:
    return _wildcard(pattern, True).match(action) is not None


def _resource_matches(pattern: str, resource: str) -> bool:
    # IAM matches an ARN part by part: a wildcard never spans the colons between
    # partition, service, region, account and resource.
    if pattern == "*":
        return True
    wanted, actual = pattern.split(":", 5), resource.split(":", 5)
    return len(wanted) == len(actual) and all(
        _wildcard(w, False).match(a) is not None for w, a in zip(wanted, actual))


def _value_matches(condition: Condition, value: str) -> bool:
    """Whether one context value satisfies the operator against the policy's values (an OR)."""
    wildcards, negated = OPERATORS[condition.operator]
    hit = any((_wildcard(p, False).match(value) is not None) if wildcards else p == value for p in condition.values)
    return hit != negated


def _condition_holds(condition: Condition, context: Mapping[str, tuple[str, ...]]) -> bool:
    key = condition.key.lower()
    values = next((v for k, v in context.items() if k.lower() == key), ())
    if condition.qualifier == "ForAllValues":
        return all(_value_matches(condition, v) for v in values)  # vacuously true on a missing key, as in IAM
    if not values:
        # A missing key fails every positive test; a plain negated operator holds (IAM's rule).
        return condition.qualifier == "" and OPERATORS[condition.operator][1]
    return any(_value_matches(condition, v) for v in values)


def _applies(statement: Statement, request: AuthorizationRequest) -> bool:
    action = any(_action_matches(p, request.action) for p in statement.actions) != statement.not_action
    resource = any(_resource_matches(p, request.resource) for p in statement.resources) != statement.not_resource
    return action and resource and all(_condition_holds(c, request.context) for c in statement.conditions)


def evaluate(policy: Policy, request: AuthorizationRequest) -> Evaluation:
    """IAM's decision for one identity-based policy: explicit Deny, else Allow, else implicit deny."""
    allowing: Statement | None = None
    for statement in policy.statements:
        if _applies(statement, request):
            if statement.effect == "Deny":
                return Evaluation("explicit_deny", statement)
            allowing = allowing or statement
    return Evaluation("allow", allowing) if allowing else Evaluation("implicit_deny", None)


_DENIAL_REASONS: dict[Decision, str] = {
    "explicit_deny": "with an explicit deny in an identity-based policy",
    "implicit_deny": "because no identity-based policy allows the {action} action",
}


def denial_message(principal_arn: str, request: AuthorizationRequest, evaluation: Evaluation) -> str:
    """AWS's AccessDeniedException text for a denied evaluation (ValueError for an allowed one)."""
    if evaluation.allowed:
        raise ValueError("denial_message: the evaluation allowed the request; there is nothing to deny")
    reason = _DENIAL_REASONS[evaluation.decision].format(action=request.action)
    return (f"User: {principal_arn} is not authorized to perform: {request.action} "
            f"on resource: {request.resource} {reason}")
