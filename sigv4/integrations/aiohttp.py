"""`aiohttp` client middleware: `SigV4Auth` signs each request a `ClientSession` sends (extra `aiohttp`).

    async with aiohttp.ClientSession(middlewares=(SigV4Auth(credentials, region="us-east-1", service="sts"),)) as s:
        async with s.get(url) as response: ...

Strategy: aiohttp (3.12 and later) passes every request it sends, each hop
of a redirect included, through the session's middlewares just before the
connection, with its final URL, Host and body. The middleware turns it into
a `sigv4.Request`, signs it and writes the signed headers (or presigned URL)
back. A body in memory (bytes, str, form data) is hashed; a streamed one
(a file, an async iterator) is not read by the signer, so it needs
`payload="UNSIGNED-PAYLOAD"` or its precomputed SHA-256 (aws-chunked
uploads are not offered here: use the requests or httpx adapter).

Clock skew: a 400/401/403 answer is read; when it is a clock-skew error the
signer's `ClockSkew` learns the server's time and a request with its body
in memory is re-signed and sent once more.

Redirects: aiohttp follows them itself and calls the middleware for each
hop. A hop to another origin (scheme, host, port) than the one the chain
started at is sent unsigned unless `resign_redirects=True`; the middleware
recognises a hop by the Location of the answer before it, within the same
`session.request` call (a request the caller makes for that Location after
`allow_redirects=False` is its own, and signed).
"""

from __future__ import annotations

import asyncio
import contextvars

from aiohttp import ClientRequest, ClientResponse, payload
from aiohttp.client_middlewares import ClientHandlerType
from multidict import CIMultiDict
from yarl import URL

from ..clock_skew import SKEW_STATUSES
from ..errors import InvalidParameterError
from ..types import Request
from .auth import SIGNATURE_HEADERS, AdapterSettings, origin

#: The redirect chain under way in this task: (the Location it goes to, the origin it started at, the session call
#: it is part of: aiohttp gives each hop of one `session.request` the same trace list, a new call a new one).
_HOP: contextvars.ContextVar[tuple[str, tuple[str, str, int | None], object] | None] = contextvars.ContextVar(
    "sigv4_aiohttp_redirect", default=None)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class SigV4Auth(AdapterSettings):
    """Sign aiohttp requests with SigV4 or SigV4a; same arguments as the requests and httpx adapters.

    Pass it in `ClientSession(middlewares=(auth,))` (or per request). Raises
    InvalidParameterError at construction for an unknown option, and when a
    request is sent with an aws-chunked payload or a streamed body without a
    `payload` option; SigningError subclasses when a request cannot be
    signed as given.
    """

    async def __call__(self, request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        url = str(request.url)
        hop, call = _HOP.get(), getattr(request, "_traces", None)  # None: an aiohttp that does not say
        # A request for a Location answered before is a hop only within the same call: with allow_redirects=False
        # the caller who then asks for it (signed for the bucket's region, say) makes a request of its own.
        start = hop[1] if hop is not None and hop[0] == url and (call is None or hop[2] is call) else origin(url)
        if start != origin(url) and not self.resign_redirects:
            response = await handler(request)
        else:
            await self.sign(request)
            response = await handler(request)
            if await self._skewed(request, response):
                response.release()
                for name in SIGNATURE_HEADERS:
                    request.headers.popall(name, None)
                await self.sign(request)
                response = await handler(request)
        location = response.headers.get("Location")
        _HOP.set((str(response.url.join(URL(location))), start, call) if response.status in _REDIRECTS and location
                 else None)
        return response

    async def _body(self, request: ClientRequest) -> bytes:
        if self.signer.streaming:
            raise InvalidParameterError("payload: aws-chunked (STREAMING-*) uploads are not offered for aiohttp; "
                                        "use the requests or httpx adapter, or payload='UNSIGNED-PAYLOAD'")
        body = request.body
        if isinstance(body, payload.BytesPayload):
            return await body.as_bytes()
        if not body:
            return b""
        if self.signer.options.get("payload") is None:
            raise InvalidParameterError(
                "payload: the body is a stream the signer does not read; pass payload='UNSIGNED-PAYLOAD' "
                "or its precomputed SHA-256")
        return b""  # the signer never reads a body whose payload hash is given

    async def sign(self, request: ClientRequest) -> None:
        """Sign `request` in place: its headers, and for presigning its URL; a credential refresh runs in a
        worker thread."""
        if self.signer.refresh_due:
            await asyncio.to_thread(self.signer.provider)
        signed = self.signer.sign(Request(request.method, str(request.url), request.headers.items(),
                                          await self._body(request)))
        if signed.url != str(request.url):
            request.url = URL(signed.url, encoded=True)
        request.headers = CIMultiDict(signed.headers)

    async def _skewed(self, request: ClientRequest, response: ClientResponse) -> bool:
        """Whether `response` is a clock-skew error worth one retry of `request` (whose body must be in memory)."""
        if response.status not in SKEW_STATUSES:
            return False
        body = await response.read()
        learnt = self.signer.skew.learn(response.status, response.headers.items(), body)
        return learnt and (isinstance(request.body, payload.BytesPayload) or not request.body)


__all__ = ["SigV4Auth"]
