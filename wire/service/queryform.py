"""The Account API's Query form: `Action=<Operation>&Version=2021-02-01&<members>` over GET or POST.

Strategy: the seed document says every operation can also be called through
the Query API, by GET (parameters in the URL) or POST (an
`application/x-www-form-urlencoded` body). Rather than a second model, the
shipped restJson1 model is read with the awsQuery codec (`query_model`: the
same shapes, protocol "query"), so members are flattened and answered by the
Query rules of `wire.query` and every operation stays one definition. This
module supplies the pieces the handler's protocol table needs: `matches`
(which requests are Query requests), `route` (the Action named, refusing an
over-long GET), `admit` (Action and Version checked, after the signature),
`decode` (form -> params), `encode` / `encode_error` (Query XML,
`ErrorResponse/Error/Type` Sender). Signatures are verified upstream by
`sigv4.verify`, which reads SigV2 parameters from the same query or form;
`QUERY_CODES` renames the front end's JSON-dialect errors to the codes AWS's
Query services send (SignatureDoesNotMatch, InvalidClientTokenId...), whose
messages, the canonical string and string-to-sign included, are escaped by
the XML writer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import lru_cache
from typing import Any
import wire
import wire.query
from sigv4.canonical import query_bytes
from sigv4.types import Request
from wire.api import MAX_GET_URL
from wire.auth_refusal import QUERY_CODES
from wire.errors import DecodeError, ServiceError
from wire.http import Response
from wire.model import Model

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"



@lru_cache(maxsize=8)
def query_model(model: Model) -> Model:
    """`model` read and written with the awsQuery codec."""
    return replace(model, protocol="query")


def load_call_model(source: str, protocol: str | None) -> Model:
    """`wire.load_model(source, protocol=protocol)` (`sigv4 call --protocol`), except that "query" asked of the
    Account model, which offers no Query protocol, gives its Query form (`query_model`). Raises `ModelError`, also
    for "query" asked of another model that does not list it: its JSON shapes would read a real Query service's
    answer as `{}` (SQS's list of queues lost)."""
    try:
        return wire.load_model(source, protocol=protocol)
    except wire.ModelError:
        model = wire.load_model(source) if protocol == "query" else None
        if model is None or model.service_id != "Account":
            raise
    return query_model(model)


def _media_type(request: Request) -> str:
    return (request.header("content-type") or "").split(";")[0].strip().lower()


def _form(request: Request) -> list[tuple[str, str]]:
    """The Query parameters: the URL's query for GET, the form body for POST, read as `wire.query` reads them
    (`form_pairs`: exactly the pairs the signature was verified over)."""
    body = request.body if isinstance(request.body, bytes) else b""
    try:
        return wire.query.form_pairs(request.method, request.target, body)
    except DecodeError as err:
        raise ServiceError("MalformedQueryString", f"{err}.", 400) from None


def matches(request: Request) -> bool:
    """A Query request: to `/`, a GET carrying `Action=` or a POST with a form body."""
    if request.path not in ("", "/"):
        return False
    method = request.method.upper()
    if method == "GET":
        return any(name == b"Action" for name, _ in query_bytes(request.query))
    return method == "POST" and _media_type(request) == FORM_MEDIA_TYPE


def route(model: Model, request: Request) -> str:
    """The operation `Action` names, as named ("" for none): `admit` checks it after the signature, as AWS's
    front end refuses a bad signature before it looks the action up.

    Raises ServiceError: an over-long GET (414, pointing to POST), a form
    `wire.query` cannot read (MalformedQueryString).
    """
    if request.method.upper() == "GET" and len(request.url) > MAX_GET_URL:
        raise ServiceError("RequestURITooLong", f"The request URL is {len(request.url)} bytes, over the "
                           f"{MAX_GET_URL}-byte limit for GET requests. Send the same parameters as a POST "
                           f"request with Content-Type: {FORM_MEDIA_TYPE}.", 414)
    return dict(_form(request)).get("Action") or ""  # names are unique: `form_pairs` refuses a repeated one


def admit(model: Model, request: Request, action: str) -> str:
    """`action` (what `route` read) once the request is authenticated: the operation, checked against `Version`.

    Raises ServiceError: MissingAction, or InvalidAction as AWS words it for
    an unknown operation or version.
    """
    if not action:
        raise ServiceError("MissingAction", "The request must contain the parameter Action.", 400)
    version = dict(_form(request)).get("Version") or "NO_VERSION_SPECIFIED"
    if action not in model.operations or version != model.api_version:
        raise ServiceError("InvalidAction", f"Could not find operation {action} for version {version}", 400)
    return action


def decode(model: Model, request: Request) -> dict[str, Any]:
    """The operation's params from the form, by the Query flattening rules; raises ServiceError."""
    body = request.body if isinstance(request.body, bytes) else b""
    try:
        _, params = wire.parse_request(query_model(model), request.method, request.target, request.headers, body)
    except DecodeError as err:
        raise ServiceError("MalformedQueryString", f"Could not read the Query parameters as the operation's "
                           f"input: {err}", 400) from None
    return params


def encode(model: Model, operation: str, output: Mapping[str, Any], request_id: str | None = None) -> Response:
    """`<OperationResponse><OperationResult>...</OperationResult><ResponseMetadata>` for a success."""
    return wire.serialize_response(query_model(model), operation, output, request_id=request_id)


def encode_error(model: Model, error: ServiceError, request_id: str | None = None) -> Response:
    """`<ErrorResponse><Error><Type>Sender</Type><Code>..</Code><Message>..</Message></Error><RequestId>`."""
    code = QUERY_CODES.get(error.code, error.code)
    return wire.serialize_error(query_model(model), code, error.message, error.status, error.data,
                                request_id=request_id)
