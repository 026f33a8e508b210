"""`requests` auth: `SigV4Auth` signs each prepared request (extra `requests`).

Strategy: requests calls the auth with the fully prepared request (final
URL, headers, body), so the auth converts it to a `sigv4.Request`, signs it
and writes the signed headers (or the presigned URL) back. Bodies are signed
as requests will send them: a `str` body is encoded once, here, to the
UTF-8 bytes that are hashed and sent; a seekable file is hashed in pieces
and rewound (never read into memory); a one-shot iterator needs
`payload="UNSIGNED-PAYLOAD"`, a precomputed hash, or a STREAMING-* payload,
in which case the body is replaced by its lazily encoded aws-chunked form.

Clock skew: a response hook reads a 400/401/403 answer; when it is a
clock-skew error the signer's `ClockSkew` learns the server's time, and a
request whose body can be sent again (bytes, or a file requests can rewind)
is re-signed and sent once more; the first answer goes to `.history`.

Redirects: requests follows them without asking the auth again, so a
response hook handles them first. A redirect within the same origin is
re-signed and followed by the hook (a stale signature is never accepted),
unless the call said `allow_redirects=False` (`requests.head`'s default);
a 307 or 308, which sends the body again, of a one-shot stream (an
iterator, an aws-chunked upload) raises InvalidParameterError rather than
send the spent stream as an empty body.
A redirect to another origin is re-signed only with `resign_redirects=True`;
otherwise the signature headers and session token are removed from the
request requests copies, requests follows it unsigned, and nothing that
origin answers (a redirect within it, a clock-skew error) is signed. A
followed redirect is part of the response's `.history`, as with requests'
own.
"""

from __future__ import annotations

import sys
from functools import partial
from types import FrameType
from typing import Any
from urllib.parse import urljoin

from requests.auth import AuthBase
from requests.models import PreparedRequest, Response
from requests.sessions import Session
from requests.structures import CaseInsensitiveDict
from requests.utils import requote_uri, rewind_body

from ..clock_skew import SKEW_STATUSES
from ..errors import InvalidParameterError
from ..types import Body, Request
from .auth import SIGNATURE_HEADERS, AdapterSettings, origin

#: As requests' own limit (`Session.max_redirects`).
MAX_REDIRECTS = 30
#: (status, method) -> the method the redirected request uses, as browsers and requests do.
_METHOD_AFTER_REDIRECT: dict[tuple[int, str], str] = {(303, "POST"): "GET", (302, "POST"): "GET",
                                                      (301, "POST"): "GET", (303, "PUT"): "GET",
                                                      (303, "DELETE"): "GET", (303, "PATCH"): "GET"}
#: Only these redirects resend the body.
_KEEPS_BODY = frozenset({307, 308})


def _redirects_allowed() -> bool:
    """Whether the `Session.send` dispatching this response hook may follow redirects (`allow_redirects`; False by
    default for `requests.head`). requests takes that option out before the hooks see the others, so it is read
    from that call's frame; True when the hook was called otherwise."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_code is not Session.send.__code__:
        frame = frame.f_back
    return frame is None or bool(frame.f_locals.get("allow_redirects", True))


def _body(prepared: PreparedRequest) -> Body:
    body = prepared.body
    if body is None:
        return b""
    if isinstance(body, str):
        # http.client would encode a str as Latin-1; sign and send UTF-8 bytes instead.
        encoded = body.encode("utf-8")
        prepared.body = encoded
        prepared.headers["Content-Length"] = str(len(encoded))
        return encoded
    return body  # typed bytes by the stubs, but a file or an iterator at run time too: all are Body


class SigV4Auth(AdapterSettings, AuthBase):
    """Sign requests' prepared requests with SigV4 or SigV4a.

    `credentials_or_provider` is `sigv4.Credentials` or a provider (see
    `sigv4.integrations.credentials`), asked again before its credentials
    expire. `presign=True` signs into the URL's query (`expires` seconds);
    `sign_options` are those of `sigv4.sign` / `sigv4.presign` (`algorithm="v4a"`,
    `s3=True`, `payload="UNSIGNED-PAYLOAD"`...). `resign_redirects=True` lets
    the signature follow redirects to another origin. Raises
    InvalidParameterError at construction for an unknown option, and the
    signer's SigningError subclasses when a request cannot be signed.
    """

    def __call__(self, r: PreparedRequest) -> PreparedRequest:
        self.sign(r)
        # The hops requests follows itself get a copy of this request, hooks and all: the hook keeps the origin.
        r.hooks["response"].append(partial(self._on_response, start=origin(r.url or "")))
        return r

    def _on_response(self, response: Response, start: tuple[str, str, int | None], **send_options: Any) -> Response:
        if origin(response.request.url or "") != start and not self.resign_redirects:
            # A hop requests followed, unsigned, to another origin: its redirects and clock-skew answers are not
            # ours to sign for (its server would get a signature and the session token by answering one).
            return response
        return self._follow_redirect(self._retry_on_skew(response, **send_options), _redirects_allowed(),
                                     **send_options)

    def sign(self, prepared: PreparedRequest) -> None:
        """Sign `prepared` in place: its headers, and for presigning its URL; for aws-chunked, its body."""
        if self.signer.streaming and "x-amz-decoded-content-length" not in prepared.headers \
                and "Content-Length" in prepared.headers:
            prepared.headers["X-Amz-Decoded-Content-Length"] = prepared.headers["Content-Length"]
        request = Request(prepared.method or "GET", prepared.url or "", prepared.headers.items(), _body(prepared))
        signed = self.signer.sign(request)
        prepared.url = signed.url
        prepared.headers = CaseInsensitiveDict(signed.headers)
        if self.signer.streaming:
            prepared.body = signed.body  # type: ignore[assignment]  # requests streams any iterable body

    def _retry_on_skew(self, response: Response, **send_options: Any) -> Response:
        if response.status_code not in SKEW_STATUSES:
            return response
        if not self.signer.skew.learn(response.status_code, response.headers.items(), response.content):
            return response
        sent = response.request
        if not self._resendable(sent):
            return response  # a one-shot body cannot be sent again; the offset still serves later requests
        retry = sent.copy()
        if isinstance(sent._body_position, int):  # type: ignore[attr-defined]  # requests' rewind marker
            rewind_body(retry)
        for name in SIGNATURE_HEADERS:
            retry.headers.pop(name, None)
        self.sign(retry)
        response.close()
        answer: Response = response.connection.send(retry, **send_options)
        answer.history = [*response.history, response]
        return answer

    def _resendable(self, sent: PreparedRequest) -> bool:
        """Whether `sent`'s body can be sent again: none, bytes, or a file requests can rewind (not an iterator, nor
        the aws-chunked stream the signer made of the body)."""
        rewindable = isinstance(sent._body_position, int)  # type: ignore[attr-defined]  # requests' rewind marker
        return not self.signer.streaming and (isinstance(sent.body, (bytes, type(None))) or rewindable)

    def _follow_redirect(self, response: Response, allowed: bool, **send_options: Any) -> Response:
        """Follow `response`'s redirects within the origin (or beyond, with `resign_redirects`) when `allowed`; a
        redirect to another origin is stripped of the signature in every request requests may copy for it."""
        hops = 0
        while response.is_redirect and hops < MAX_REDIRECTS:
            sent = response.request
            target = requote_uri(urljoin(response.url, response.headers["location"]))
            if origin(target) != origin(sent.url or "") and not self.resign_redirects:
                # requests copies the first request of the chain; strip every request in it.
                for earlier in (*(h.request for h in response.history), sent):
                    for name in SIGNATURE_HEADERS:
                        earlier.headers.pop(name, None)
                return response
            if not allowed:
                return response
            following = self._redirected(sent, response.status_code, target)
            response.content  # noqa: B018  read the body so the connection can be reused
            response.close()
            following_response: Response = response.connection.send(following, **send_options)
            following_response.history = [*response.history, response]
            response, hops = following_response, hops + 1
        return response

    def _redirected(self, sent: PreparedRequest, status: int, target: str) -> PreparedRequest:
        if status in _KEEPS_BODY and not self._resendable(sent):
            # Sent again, the spent stream would be an empty body: with UNSIGNED-PAYLOAD, an empty object stored.
            raise InvalidParameterError(f"body: a one-shot stream cannot be sent again to follow the {status} "
                                        f"redirect to {target}; send bytes or a seekable file")
        following = sent.copy()
        following.url = target
        method = sent.method or "GET"
        following.method = _METHOD_AFTER_REDIRECT.get((status, method), method)
        if status not in _KEEPS_BODY:
            for name in ("Content-Length", "Content-Type", "Transfer-Encoding"):
                following.headers.pop(name, None)
            following.body = None
        elif following._body_position is not None:  # type: ignore[attr-defined]  # requests' rewind marker
            rewind_body(following)
        for name in (*SIGNATURE_HEADERS, "Host"):
            following.headers.pop(name, None)
        self.sign(following)
        return following


__all__ = ["SigV4Auth"]
