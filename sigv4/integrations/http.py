"""One HTTP exchange for the credential providers, over the project's own client, and endpoint resolution.

Strategy: the providers that call out (STS, SSO, the container and instance
metadata endpoints) build a `sigv4.Request`, hand it to `fetch`, and read a
`Reply`. `fetch` is the only place here that touches the network; it uses
`wire.transport.client` (h11, TLS, proxies from the environment given) and
turns every transport failure into a CredentialsError naming the endpoint.
`call_operation` is one modelled call: `wire` builds the request, an optional
signer signs it, `fetch` sends it, `wire` decodes the answer.
Endpoints are resolved by `wire.endpoints.service_endpoint`, as for `sigv4 call`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import wire

from ..errors import SigningError
from ..types import Request
from .resolved import CredentialsError

#: Variables that route a request through a proxy; link-local metadata endpoints are never proxied.
_PROXY_VARIABLES = frozenset({"http_proxy", "https_proxy", "all_proxy", "no_proxy"})


@dataclass(frozen=True, slots=True)
class Reply:
    """A response as the providers need it."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)


def _ignore(_: str) -> None:
    """Transport warnings (an insecure TLS setting) have no reader in a credential lookup."""


def fetch(request: Request, env: Mapping[str, str], *, timeout: float, where: str, proxies: bool = True,
          attempts: int = 1) -> Reply:
    """Send `request` and return the reply (any status).

    `timeout` bounds connecting and each read; `proxies=False` ignores the
    proxy variables (metadata endpoints are link-local). `AWS_CA_BUNDLE` in
    `env` names the CA file for TLS. A transport failure or a 5xx answer is
    tried again, up to `attempts` tries in all. Raises CredentialsError naming
    `where` when the endpoint cannot be reached.
    """
    from wire.transport.client import NetworkError, RequestError, TransportOptions, send_request

    options = TransportOptions(timeout, timeout, env.get("AWS_CA_BUNDLE") or None)
    route = env if proxies else {k: v for k, v in env.items() if k.lower() not in _PROXY_VARIABLES}
    for attempt in range(1, max(attempts, 1) + 1):
        try:
            exchange = send_request(request, options, route, _ignore)
        except (NetworkError, RequestError, OSError) as err:
            if attempt >= attempts:
                raise CredentialsError(f"{where}: {request.method} {request.scheme}://{request.authority}: {err}") \
                    from None
            continue
        if exchange.status < 500 or attempt >= attempts:
            break
    return Reply(exchange.status, tuple(exchange.headers), exchange.body)


def is_true(value: str | None) -> bool:
    """A boolean setting as botocore reads it: only `true` (any case) is true."""
    return (value or "").strip().lower() == "true"


def call_operation(model: wire.Model, operation: str, params: Mapping[str, Any], *, endpoint: str,
                   env: Mapping[str, str], timeout: float, where: str,
                   signer: Callable[[Request], Request] | None = None) -> dict[str, Any]:
    """Build `operation` from `model`, sign it with `signer` (None: unsigned), send it, return its decoded output.

    Raises CredentialsError naming `where`: bad parameters, a transport
    failure, the service's error (its code and message), or an answer that does
    not fit the model.
    """
    try:
        request = wire.serialize(model, operation, dict(params), endpoint=endpoint)
        if signer is not None:
            request = signer(request)
    except (wire.WireError, SigningError) as err:  # SigningError: a region from a profile that cannot be signed for
        raise CredentialsError(f"{where}: {err}") from None
    reply = fetch(request, env, timeout=timeout, where=where)
    try:
        output: dict[str, Any] = wire.parse_response(model, operation, reply.status, reply.headers, reply.body)
    except wire.ServiceError as err:
        # SSO OIDC's errors carry `error_description`, not a message: then the code alone; a body without a code
        # (a front end's HTML page, an empty body: the code is the status) the status alone, never the body,
        # which may quote a secret.
        code = err.code if err.code not in ("", str(err.status)) else f"HTTP {err.status}"
        raise CredentialsError(f"{where}: {code}{f': {err.message}' if err.message else ''}") from None
    except wire.WireError as err:
        raise CredentialsError(f"{where}: the answer does not fit the model ({err})") from None
    return output
