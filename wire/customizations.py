"""The parameter rewrites an AWS SDK applies before serializing, beyond what the model says.

Strategy: botocore registers `before-parameter-build` handlers that change what
the caller passed so that the request carries what the service expects; a call
built from the model alone sends something else (a raw `x-amz-copy-source`, a
`/hostedzone/` path segment, user data that is not base64). `customized` looks
the operation up in a table of pure rewrites, keyed by (service id, operation)
or by service id alone, and returns new params; the caller's dict is not
changed. Only the handlers that change the bytes of a valid call are here.
`customized_headers` does the same for the `before-call` handlers that add a
header to the serialized request (Glacier's API version, API Gateway's Accept).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from typing import Any

from sigv4.types import Request
from wire.http import percent_encode
from wire.model import Model, Operation

Params = Mapping[str, Any]
Rewrite = Callable[[Operation, Params], Params]
Headers = tuple[tuple[str, str], ...]

#: What S3 reads as the version of a copy source, kept out of the key's percent-encoding (botocore's VERSION_ID_SUFFIX).
_VERSION_ID_SUFFIX = re.compile(r"\?versionId=[^\s]+$")
#: Route 53 answers ids as `/hostedzone/Z1`, `/change/C1`, `/delegationset/N1` but takes the last segment in a path.
_ROUTE53_ID_SHAPES = frozenset({"ResourceId", "DelegationSetId", "ChangeId"})


def _quoted_copy_source(_: Operation, params: Params) -> Params:
    """`CopySource` (`bucket/key[?versionId=v]`) percent-encoded but for `/`, as S3 decodes the header."""
    source = params.get("CopySource")
    if not isinstance(source, str):
        return params
    version = _VERSION_ID_SUFFIX.search(source)
    at = version.start() if version else len(source)
    return {**params, "CopySource": percent_encode(source[:at], safe="/") + source[at:]}


def _route53_ids(op: Operation, params: Params) -> Params:
    """A Route 53 id given as the API returns it (`/hostedzone/Z1`) cut to its last segment (`Z1`)."""
    members = op.input.members if op.input is not None else {}
    return {name: value.split("/")[-1] if isinstance(value, str) and name in members
            and members[name].shape.name in _ROUTE53_ID_SHAPES else value for name, value in params.items()}


def _base64_user_data(_: Operation, params: Params) -> Params:
    """`UserData` (text or bytes) base64-encoded, as EC2 and Auto Scaling take it and the aws CLI sends it."""
    data = params.get("UserData")
    if not isinstance(data, (str, bytes)):  # absent, or a number or object from --input that validation refuses
        return params
    raw = data.encode() if isinstance(data, str) else data
    return {**params, "UserData": base64.b64encode(raw).decode("ascii")}


def _glacier_account(_: Operation, params: Params) -> Params:
    """Glacier's `accountId` defaulting to `-`, the caller's own account."""
    return params if params.get("accountId") is not None else {**params, "accountId": "-"}


#: (service id, operation name or None for every operation) -> rewrite, as botocore's handlers are registered.
REWRITES: dict[tuple[str, str | None], Rewrite] = {
    ("S3", "CopyObject"): _quoted_copy_source,
    ("S3", "UploadPartCopy"): _quoted_copy_source,
    ("Route 53", None): _route53_ids,
    ("EC2", "RunInstances"): _base64_user_data,
    ("Auto Scaling", "CreateLaunchConfiguration"): _base64_user_data,
    ("Glacier", None): _glacier_account,
}


def customized(model: Model, operation: str, params: Params) -> dict[str, Any]:
    """`params` for `operation` rewritten as botocore's `before-parameter-build` handlers do
    (S3 CopySource percent-encoded, Route 53 id prefixes dropped, EC2/Auto Scaling UserData in
    base64, Glacier's accountId defaulted). Raises `wire.errors.ModelError` for an
    operation the model does not have."""
    op = model.operation(operation)
    for key in ((model.service_id, operation), (model.service_id, None)):
        rewrite = REWRITES.get(key)
        params = rewrite(op, params) if rewrite else params
    return dict(params)


def _glacier_version(model: Model, headers: Headers) -> Headers:
    """Glacier refuses a request without `x-amz-glacier-version` (botocore's add_glacier_version)."""
    return (*headers, ("x-amz-glacier-version", model.api_version))


def _accept_json(_: Model, headers: Headers) -> Headers:
    """API Gateway answers JSON to `Accept: application/json`, unless the caller asked for another
    type (botocore's add_accept_header)."""
    return headers if any(name.lower() == "accept" for name, _ in headers) else (*headers, ("Accept", "application/json"))


#: service id -> the headers botocore's `before-call` handlers add to every request of the service.
HEADER_REWRITES: dict[str, Callable[[Model, Headers], Headers]] = {
    "Glacier": _glacier_version,
    "API Gateway": _accept_json,
}


def customized_headers(model: Model, request: Request) -> Request:
    """`request` (serialized from `model`, not yet signed) with the headers botocore's `before-call` handlers
    add: Glacier's `x-amz-glacier-version`, API Gateway's `Accept: application/json`."""
    rewrite = HEADER_REWRITES.get(model.service_id)
    return request._replace(headers=rewrite(model, request.headers)) if rewrite else request
