"""Which action a signed request calls (`service:Operation`) and whether an operator's allow-list permits it.

Strategy: the operation name is read from the request as each protocol puts
it: JSON protocols in `X-Amz-Target` (`DynamoDB_20120810.PutItem`), Query and
EC2 in the `Action` parameter (URL query or form body), REST protocols by
the route: the method and path matched against the model's `requestUri`
templates (`/{Bucket}/{Key+}?uploads`), the most specific match winning
(most literal query keys, then most literal path characters), as AWS's and
moto's routers pick. The action is `<signing service>:<Operation>`; an
allow-list holds such names with shell wildcards (`s3:Get*`, `sqs:*`),
matched case-insensitively as IAM matches action names.

`CREDENTIAL_ACTIONS` are the calls whose answers carry credentials (STS's,
IAM's access keys, S3 Express sessions, SSO's role credentials, Cognito's):
a credential boundary does not hand their answers to its client.

Pure: the routes come in as values (`rest_routes` of a loaded `wire.model.Model`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from fnmatch import fnmatchcase
from functools import lru_cache
from urllib.parse import parse_qsl

from wire.model import Model, Operation

__all__ = ["CREDENTIAL_ACTIONS", "AmbiguousActionError", "Route", "allowed", "is_credential_action", "operation_name", "rest_routes"]

#: (operation name, HTTP method, requestUri template, the headers (lower-case) and query parameters its input
#: requires) of a REST operation: a route whose required headers or parameters are missing is not the one
#: called (PUT /b/k with `x-amz-copy-source` is CopyObject, with `partNumber` and `uploadId` UploadPart).
Route = tuple[str, str, str, frozenset[str], frozenset[str]]

#: Actions whose successful answers hold credentials, as `service:Operation` patterns.
CREDENTIAL_ACTIONS = ("sts:AssumeRole*", "sts:AssumeRoot", "sts:GetSessionToken", "sts:GetFederationToken",
                      "iam:CreateAccessKey", "iam:CreateServiceSpecificCredential",
                      "iam:ResetServiceSpecificCredential", "sso:GetRoleCredentials", "s3:CreateSession",
                      "s3express:CreateSession", "cognito-identity:GetCredentialsForIdentity",
                      "cognito-identity:GetOpenIdToken*")


class AmbiguousActionError(ValueError):
    """A request that names more than one operation: which one a service runs is its own reading, so neither can
    be checked against an allow-list or the credential boundary."""


def operation_name(method: str, path: str, query: str, headers: Iterable[tuple[str, str]], form: bytes | None,
                   routes: Sequence[Route] = ()) -> str | None:
    """The operation a request calls: with `routes` (a REST service's), the best of them for `method` and `path`
    (path-style: an S3 bucket in the path), which is all a REST service reads; else from `X-Amz-Target` or the
    `Action` parameter of the query or of `form` (a form-encoded body). None when nothing names it.

    Raises AmbiguousActionError when these name different operations (`?Action=ListUsers` on a form calling
    CreateAccessKey: AWS's Query front end reads the form)."""
    if not routes:
        named = {value.rpartition(".")[2] for name, value in headers if name.lower() == "x-amz-target"}
        for text in (query, form.decode("utf-8", "replace") if form else ""):
            named |= {v for k, v in parse_qsl(text, keep_blank_values=True) if k == "Action"}
        named.discard("")
        if len(named) > 1:
            raise AmbiguousActionError(f"the request names {len(named)} actions ({', '.join(sorted(named)[:3])}"
                                       f"{', ...' if len(named) > 3 else ''}) in its X-Amz-Target, query and form "
                                       "body; a service runs only one of them")
        return next(iter(named), None)
    keys = {k for k, _ in parse_qsl(query, keep_blank_values=True)}
    present = {name.lower() for name, _ in headers}
    best: tuple[tuple[int, int, int], str] | None = None
    for name, route_method, template, required_headers, required_params in routes:
        if route_method != method or not required_headers <= present:
            continue
        template_path, _, template_query = template.partition("?")
        required = {part.partition("=")[0] for part in template_query.split("&") if part} - {"x-id"} \
            | required_params
        if required <= keys and _path_pattern(template_path).match(path):
            score = (len(required), len(required_headers), len(re.sub(r"\{[^}]*\}", "", template_path)))
            if best is None or score > best[0]:
                best = (score, name)
    return best[1] if best else None


@lru_cache(maxsize=4096)
def _path_pattern(template: str) -> re.Pattern[str]:
    """`/{Bucket}/{Key+}` as a regex: `{X+}` any non-empty rest (slashes too), `{X}` one segment."""
    parts = re.split(r"(\{[^}]*\})", template.rstrip("/") or "/")
    pattern = "".join(("(.+)" if p.endswith("+}") else "([^/]+)") if p.startswith("{") else re.escape(p)
                      for p in parts)
    return re.compile(pattern + ("/?" if template != "/" else "") + r"\Z")


def rest_routes(model: Model) -> tuple[Route, ...]:
    """The `Route`s of `model`'s operations."""
    return tuple((op.name, op.method, op.request_uri, _required(op, "header", str.lower),
                  _required(op, "querystring", str)) for op in model.operations.values())


def _required(op: Operation, location: str, case: Callable[[str], str]) -> frozenset[str]:
    members = op.input.members.values() if op.input else ()
    return frozenset(case(m.location_name or m.name) for m in members
                     if m.location == location and op.input and m.name in op.input.required)


def allowed(patterns: Iterable[str], action: str) -> bool:
    """Whether `action` (`service:Operation`) matches one of `patterns` (wildcards `*` and `?`), ignoring case."""
    return any(fnmatchcase(action.lower(), pattern.lower()) for pattern in patterns)


@lru_cache(maxsize=4096)
def is_credential_action(action: str) -> bool:
    """Whether `action`'s answers carry credentials (`CREDENTIAL_ACTIONS`)."""
    return allowed(CREDENTIAL_ACTIONS, action)
