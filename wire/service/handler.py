"""One HTTP request in, one response and one CloudTrail record out.

Strategy: `handle` is the whole service as a pure function of the request,
the time, the state and an entropy source. It runs the steps in the order
an AWS front end does, each of which may refuse with a `ServiceError`:
route (unknown path or method: "Missing Authentication Token", as API
Gateway answers), authenticate (`wire.service.auth`), decode (content type,
JSON), validate against the model, authorize the target account
(`wire.service.authorization`: organizations rules, then identity policy), then apply the operation (`wire.service.account`).
The wire protocol is picked per request from `PROTOCOLS`, a table of
(matcher, codec) pairs; restJson1 is the Account API's protocol, and the
Query form (`wire.service.queryform`: Action=... by GET or form POST) is the
row tried first. Whatever happens, the reply carries a request
id and the trail record describing the call. `handle` is `check` (every
step before the state, which a server runs outside its store's lock) then
`complete` (the operation on the state, the reply and the record).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import unquote, unquote_plus

import wire
from sigv4.canonical import uri_encode
from sigv4.types import Request
from sigv4.signed_auth import SignedAuth
from wire.auth_refusal import MISSING_TOKEN_TEXT, too_large as body_too_large
from wire.errors import DecodeError, ServiceError, ValidationError
from wire.http import Response
from wire.model import Model
from wire.service import account, auth, queryform, trail
from wire.service.authorization import authorize
from wire.service.identities import Directory, Principal
from wire.service.store import Store

Entropy = Callable[[int], bytes]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """What a server serves: the model, who may call, and the service's knobs."""

    model: Model
    directory: Directory
    settings: account.Settings = account.Settings()


@dataclass(frozen=True, slots=True)
class Reply:
    """The response to send, the trail record to append, and lines for the operator's log."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    event: dict[str, Any] = field(repr=False)
    notices: tuple[str, ...] = ()


# -- protocols -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Protocol:
    """How one wire protocol routes, decodes and answers a request."""

    name: str
    matches: Callable[[Request], bool]
    #: The operation the request names (None: no route, refused before authentication), then, once the
    #: request is authenticated, that name admitted as an operation of the service (or refused).
    route: Callable[[Model, Request], str | None]
    admit: Callable[[Model, Request, str], str]
    decode: Callable[[Model, Request], dict[str, Any]]
    #: (model, operation, output, request id) and (model, error, request id): the reply's status, headers, body
    encode: Callable[[Model, str, Mapping[str, Any], str], Response]
    encode_error: Callable[[Model, ServiceError, str], Response]


@lru_cache(maxsize=8)
def _rest_routes(model: Model) -> dict[tuple[str, str], str]:
    return {(op.method, op.request_uri.partition("?")[0]): op.name for op in model.operations.values()}


def _rest_route(model: Model, request: Request) -> str | None:
    return _rest_routes(model).get((request.method.upper(), request.path))


_JSON_TYPES = frozenset({"application/json", "application/x-amz-json-1.1", "application/x-amz-json-1.0"})


def _rest_decode(model: Model, request: Request) -> dict[str, Any]:
    body = request.body if isinstance(request.body, bytes) else b""
    media = (request.header("content-type") or "").split(";")[0].strip().lower()
    if body and media not in _JSON_TYPES:
        # Smithy's restJson1 servers refuse a body that is not JSON before reading it.
        raise ServiceError("UnsupportedMediaTypeException", "Unsupported Media Type", 415)
    try:
        _, params = wire.parse_request(model, request.method, request.target, request.headers, body)
    except DecodeError as err:
        raise ServiceError("SerializationException", f"Could not read the request body as the operation's "
                           f"input: {err}", 400) from None
    return params


# restJson1 carries the request id only in the x-amzn-RequestId header, which `handle` adds to every reply.
def _rest_encode(model: Model, operation: str, output: Mapping[str, Any], request_id: str) -> Response:
    return wire.serialize_response(model, operation, output)


def _rest_error(model: Model, error: ServiceError, request_id: str) -> Response:
    return wire.serialize_error(model, error.code, error.message, error.status, error.data)


def _rest_admit(model: Model, request: Request, operation: str) -> str:
    return operation  # a REST route names only operations of the model


REST_JSON = Protocol("rest-json", lambda request: True, _rest_route, _rest_admit, _rest_decode, _rest_encode,
                     _rest_error)
QUERY_FORM = Protocol("query", queryform.matches, queryform.route, queryform.admit, queryform.decode,
                      queryform.encode, queryform.encode_error)

#: Tried in order; the first protocol whose matcher accepts the request serves it.
PROTOCOLS: tuple[Protocol, ...] = (QUERY_FORM, REST_JSON)


def protocol_for(request: Request) -> Protocol:
    return next(p for p in PROTOCOLS if p.matches(request))


# -- the steps -----------------------------------------------------------------------


def _validation_fault(err: ValidationError) -> ServiceError:
    count = len(err.violations)
    detail = "; ".join(f"Value at '{v.path}' failed to satisfy constraint: {v.rule}" for v in err.violations)
    return ServiceError("ValidationException", f"{count} validation error{'s' if count > 1 else ''} detected: "
                        f"{detail}", 400, data={
                            "reason": "fieldValidationFailed",
                            "fieldList": [{"name": v.path, "message": v.rule} for v in err.violations]})


#: Query and form parameters whose values are secrets: a presigned URL's session token, SigV2's, and the
#: input members the trail hides (a one-time code sits in the canonical query of a Query-form GET).
_SECRET_PARAMETERS = frozenset({"X-Amz-Security-Token", "SecurityToken", *trail.SECRET_MEMBERS})


def _presented_secrets(request: Request) -> tuple[str, ...]:
    """Every spelling of a secret the request carries that a refusal message may quote: as sent, decoded
    (with '+' as '+' and as a space) and re-encoded as canonical queries and SigV2 strings-to-sign have it."""
    form = request.body if request.method.upper() == "POST" and isinstance(request.body, bytes) else b""
    fields = request.query.split("&") + form.decode("utf-8", "replace").split("&")
    sent = [value for name, _, value in (part.partition("=") for part in fields)
            if unquote_plus(name) in _SECRET_PARAMETERS and value]
    decoded = {text for value in sent for text in (unquote(value), unquote_plus(value))}
    token = request.header("x-amz-security-token")
    spellings = {*sent, *decoded, *(uri_encode(text, keep_slash=False) for text in decoded),
                 *((token,) if token else ())}
    return tuple(sorted(spellings, key=len, reverse=True))  # longest first: no secret is half-replaced


def _uuid(drawn: bytes) -> str:
    """The random (version 4) UUID of 16 random bytes in its usual text form, as `str(uuid.UUID(bytes=...,
    version=4))` spells it (formatted here directly: the UUID object costs more than the rest of a request id)."""
    raw = bytearray(drawn)
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # RFC 4122 variant
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


@dataclass(slots=True)
class _Progress:
    """What the steps learned so far; the trail record is written from it whatever the outcome."""

    operation: str | None = None
    claimed: SignedAuth | None = None
    principal: Principal | None = None
    target: str | None = None
    params: dict[str, Any] | None = None


#: Headers the endpoint acts on as one value. SigV4 signs a repeated header as its values joined with commas,
#: so a request repeating one of these verifies for the joined value while the endpoint would act on the first.
_ONE_VALUE_HEADERS = frozenset({"content-type", "x-amz-target"})


def _refuse_repeated_headers(request: Request) -> None:
    names = [name.lower() for name, _ in request.headers if name.lower() in _ONE_VALUE_HEADERS]
    for name in set(names):
        if names.count(name) > 1:
            raise ServiceError("ValidationException", f"The {name} header is given more than once; send it once.",
                               400)


def _check(request: Request, protocol: Protocol, endpoint: Endpoint, now: datetime, progress: _Progress,
           head: bool = False) -> None:
    """The steps before the state: route, authenticate, decode, validate, authorize (into `progress`); `head`:
    only what the request's head decides (route, authenticate as far as the head goes: see `screen`)."""
    _refuse_repeated_headers(request)
    model = endpoint.model
    named = protocol.route(model, request)
    if named is None:
        raise ServiceError("MissingAuthenticationTokenException", MISSING_TOKEN_TEXT, 403)
    # The trail names the operation of a refused call when the service has it.
    progress.operation = named if named in model.operations else None
    if head:
        auth.authenticate_head(request, endpoint.directory, now=now)
        return
    progress.claimed = auth.claimed_auth(request)
    caller = auth.authenticate(request, progress.claimed, endpoint.directory, now=now)
    progress.principal = caller.principal
    # An unknown Action is refused only now: a bad signature is refused as such first, as AWS does.
    progress.operation = protocol.admit(model, request, named)
    progress.params = protocol.decode(model, request)
    try:
        wire.validate(model, progress.operation, progress.params)
    except ValidationError as err:
        raise _validation_fault(err) from None
    principal = caller.principal
    grant = authorize(caller_account=principal.account_id, caller_arn=principal.arn, policy=principal.policy,
                      organization=endpoint.directory.organization_of(principal.account_id),
                      operation=progress.operation, params=progress.params)
    progress.target = grant.target.account_id


def screen(request: Request, *, endpoint: Endpoint, now: datetime) -> bool:
    """Whether `request`'s head alone, its body unread (not yet sent: `Expect: 100-continue`), is refused by
    the steps before decoding (route, signature: as AWS checks them first). `check` of the same request with
    its body unread (a stream, never bytes) then answers that refusal. Never raises for what the client sent."""
    try:
        _check(request, protocol_for(request), endpoint, now, _Progress(), head=True)
    except ServiceError:
        return True
    return False


def too_large(request: Request, message: str, *, endpoint: Endpoint, request_id: str) -> Response:
    """The answer to `request` whose body is over the server's limit (`message`), in its protocol."""
    error = body_too_large("rest-json", message)
    status, headers, body = protocol_for(request).encode_error(endpoint.model, error, request_id)
    return status, (*headers, ("x-amzn-RequestId", request_id)), body


@dataclass(frozen=True, slots=True)
class Checked:
    """A request taken through the steps that need no state (`check`): `complete` applies it to the state."""

    request: Request
    protocol: Protocol
    now: datetime
    source_ip: str
    request_id: str
    #: The id of the call's trail record.
    event_id: str
    progress: _Progress
    #: The refusal of a step, if one refused: the call then reads and writes no state.
    error: ServiceError | None


def check(request: Request, *, endpoint: Endpoint, now: datetime, entropy: Entropy,
          source_ip: str = "127.0.0.1") -> Checked:
    """Route, authenticate, decode, validate and authorize `request` (`request.body` bytes); touches no state,
    so a server runs it outside its store's lock. Never raises for anything the client sent."""
    protocol = protocol_for(request)
    drawn = entropy(32)  # both ids in one draw: a draw from the OS is a system call
    request_id, event_id = _uuid(drawn[:16]), _uuid(drawn[16:])
    progress = _Progress()
    error: ServiceError | None = None
    try:
        _check(request, protocol, endpoint, now, progress)
        if not isinstance(request.body, bytes):
            # A body never read (a head the server refused, `screen`) whose head passes now (its date came within
            # the skew since): answering it would run the call on no body, though its signature may cover one.
            raise ServiceError("IncompleteBody", "The request was answered from its head, its body unread; send "
                               "it again.", 400)
    except ServiceError as err:
        error = err
    return Checked(request, protocol, now, source_ip, request_id, event_id, progress, error)


def complete(checked: Checked, *, endpoint: Endpoint, store: Store, entropy: Entropy) -> Reply:
    """Apply a checked request to the state, unless a step refused it: the reply and its trail record.

    `store` calls made here belong to one transaction that the caller commits before sending the
    reply. Never raises for anything the client sent: every refusal is a reply.
    """
    request, protocol, progress, error = checked.request, checked.protocol, checked.progress, checked.error
    result: account.Result | None = None
    if error is None:
        try:
            call = account.Call(progress.target or "", checked.now, store, endpoint.settings, entropy,
                                endpoint.directory.accounts())
            result = account.OPERATIONS[progress.operation or ""](call, progress.params or {})
            status, headers, body = protocol.encode(endpoint.model, progress.operation or "", result.output,
                                                    checked.request_id)
        except ServiceError as err:
            error = err
    if error is not None:
        status, headers, body = protocol.encode_error(endpoint.model, error, checked.request_id)
    claimed = progress.claimed
    event = trail.event(
        event_id=checked.event_id, request_id=checked.request_id, now=checked.now,
        event_name=progress.operation or f"{request.method} {request.path}",
        region=claimed.regions[0] if claimed and claimed.regions and "*" not in claimed.regions[0] else "us-east-1",
        source_ip=checked.source_ip, user_agent=request.header("user-agent"), principal=progress.principal,
        access_key_id=claimed.access_key_id if claimed else None,
        recipient_account=progress.target or (progress.principal.account_id if progress.principal else None),
        params=progress.params, output=result.output if result else None, error=error,
        # Only an error's message may quote what the client sent: the secrets are looked for then.
        secrets=_presented_secrets(request) if error is not None else ())
    return Reply(status, (*headers, ("x-amzn-RequestId", checked.request_id)), body, event,
                 result.notices if result else ())


def handle(request: Request, *, endpoint: Endpoint, now: datetime, store: Store, entropy: Entropy,
           source_ip: str = "127.0.0.1") -> Reply:
    """Serve one request: `check`, then `complete`.

    `request.body` must be bytes. `store` calls made here belong to one
    transaction that the caller commits before sending the reply. Never
    raises for anything the client sent: every refusal is a reply.
    """
    checked = check(request, endpoint=endpoint, now=now, entropy=entropy, source_ip=source_ip)
    return complete(checked, endpoint=endpoint, store=store, entropy=entropy)
