"""`httpx` auth: `SigV4Auth` for `httpx.Client` and `httpx.AsyncClient` (extra `httpx`).

Strategy: one `auth_flow` generator serves both clients (httpx drives it
from its sync and async flows). It signs the request as httpx built it (the
URL as it will be sent, every header httpx added, Host included) and writes
the signed headers or presigned URL back. A body given as bytes is hashed; a
streamed body (an iterator, async iterator or file) is never read by the
signer, so it needs `payload="UNSIGNED-PAYLOAD"`, a precomputed SHA-256, or
a STREAMING-* payload, in which case the stream is re-framed lazily as
aws-chunked while httpx sends it (sync streams; an async stream can be sent
unsigned or with a precomputed hash).

Clock skew: the sync and async flows read the body of a 400/401/403 answer
(and no other); when it is a clock-skew error the signer's `ClockSkew`
learns the server's time and a request whose body is in memory is re-signed
and sent once more (httpx keeps the first answer in `.history`).

Redirects: httpx does not consult the auth when it follows redirects itself
(`follow_redirects=True`); it drops Authorization on leaving the origin but
keeps the other headers. With httpx's default `follow_redirects=False` and
`resign_redirects=True`, the flow signs and sends httpx's own `next_request`
for each redirect (up to `MAX_REDIRECTS`), within the origin or not; a 307
or 308 of a streamed body (which it would send again, spent) raises
InvalidParameterError. With `follow_redirects=True` a redirect to another
origin carries X-Amz-Security-Token and X-Amz-Date (httpx strips only
Authorization): keep httpx's default where the session token matters.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator

import anyio.to_thread
import httpx

from ..clock_skew import SKEW_STATUSES
from ..errors import InvalidParameterError
from ..types import Body, Request, iter_body
from .auth import SIGNATURE_HEADERS, AdapterSettings

#: As httpx's own default (`Client.max_redirects`).
MAX_REDIRECTS = 20


class _EncodedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """The aws-chunked body, produced lazily from the original body as httpx sends it."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        # Only reached for bytes bodies: encoding them is CPU work, never I/O.
        for chunk in self._chunks:
            yield chunk


class SigV4Auth(AdapterSettings, httpx.Auth):
    """Sign httpx requests with SigV4 or SigV4a; same arguments as the requests adapter.

    `credentials_or_provider` is `sigv4.Credentials` or a provider (asked
    again before expiry); `presign=True` signs into the URL; `sign_options`
    are those of `sigv4.sign` / `sigv4.presign`. Raises InvalidParameterError
    at construction for an unknown option, and SigningError subclasses when a
    request cannot be signed as given.
    """

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        response = yield self.sign(request)
        if self._skewed(request, response):
            for name in SIGNATURE_HEADERS:
                request.headers.pop(name, None)
            response = yield self.sign(request)
        hops = 0
        while self.resign_redirects and response.next_request is not None and hops < MAX_REDIRECTS:
            following = response.next_request
            if not isinstance(following.stream, httpx.ByteStream):
                # A 307/308 sends the stream again: spent, it would go as an empty body (UNSIGNED-PAYLOAD: stored).
                raise InvalidParameterError(f"body: a stream cannot be sent again to follow the {response.status_code} "
                                            f"redirect to {following.url}; send bytes")
            response = yield self.sign(following)
            hops += 1

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """`auth_flow`, with the body of a possible clock-skew answer read first (httpx's own
        flow reads every body or none)."""
        flow = self.auth_flow(request)
        following = next(flow)
        while True:
            response = yield following
            if response.status_code in SKEW_STATUSES:
                response.read()
            try:
                following = flow.send(response)
            except StopIteration:
                return

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """As `sync_auth_flow`, for `httpx.AsyncClient`; a credential refresh runs in a worker thread."""
        if self.signer.refresh_due:
            await anyio.to_thread.run_sync(self.signer.provider)
        flow = self.auth_flow(request)
        following = next(flow)
        while True:
            response = yield following
            if response.status_code in SKEW_STATUSES:
                await response.aread()
            try:
                following = flow.send(response)
            except StopIteration:
                return

    def _skewed(self, request: httpx.Request, response: httpx.Response) -> bool:
        """Whether `response` is a clock-skew error worth one retry of `request` (whose body must be in memory)."""
        if response.status_code not in SKEW_STATUSES:
            return False
        try:
            body = response.content
        except httpx.ResponseNotRead:  # driven by a flow other than ours: the body is not ours to read
            return False
        learnt = self.signer.skew.learn(response.status_code, response.headers.multi_items(), body)
        return learnt and isinstance(request.stream, httpx.ByteStream) and not self.signer.streaming

    def _body(self, request: httpx.Request) -> Body:
        if isinstance(request.stream, httpx.ByteStream):
            return request.read()  # bytes already in memory (httpx's redirect requests carry them unread)
        if self.signer.streaming:
            if not isinstance(request.stream, httpx.SyncByteStream):
                raise InvalidParameterError("payload: an aws-chunked upload of an async stream is not supported; "
                                            "send bytes, or sign the stream with payload='UNSIGNED-PAYLOAD'")
            return request.stream
        if self.signer.options.get("payload") is None:
            raise InvalidParameterError(
                "payload: the body is a stream the signer does not read; pass payload='UNSIGNED-PAYLOAD', "
                "its precomputed SHA-256, or a STREAMING-* payload")
        return b""  # the signer never reads a body whose payload hash is given

    def sign(self, request: httpx.Request) -> httpx.Request:
        """Sign `request` in place (headers, URL, and for aws-chunked its stream) and return it."""
        if self.signer.streaming and "x-amz-decoded-content-length" not in request.headers \
                and "content-length" in request.headers:
            request.headers["X-Amz-Decoded-Content-Length"] = request.headers["content-length"]
        signed = self.signer.sign(Request(request.method, str(request.url), request.headers.multi_items(),
                                          self._body(request)))
        if signed.url != str(request.url):
            request.url = httpx.URL(signed.url)
        request.headers = httpx.Headers(signed.headers)
        if self.signer.streaming:
            request.stream = _EncodedStream(iter_body(signed.body))
        return request


__all__ = ["SigV4Auth"]
