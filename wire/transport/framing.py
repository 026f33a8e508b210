"""What the local server reads and writes on a connection, as bytes: h11 plus the limits. No I/O.

Strategy: `RequestFraming` wraps one connection's `h11.Connection` and
applies `ServeLimits` to the events it yields (raising `Refusal` for what
must never reach an app: a head too large, a body too large, one framed two
ways, a body the shared budget cannot hold); `response_bytes` and
`refusal_bytes` render answers. The server's two drivers (the event loop and
the thread per streaming connection, `wire.transport.server`) feed it bytes
and send what it renders, so both apply exactly the same rules.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from typing import Any

import h11


@dataclass(frozen=True)
class ServeLimits:
    max_header_bytes: int = 16 * 1024
    max_body_bytes: int = 1024 * 1024
    #: A request (its head and body) must arrive within this many seconds of its first byte (a body a
    #: streaming app relays as it arrives must instead make progress within it); idle keep-alive
    #: connections are closed after it too, and an answer must be taken within it.
    client_timeout: float = 10.0
    #: Connections served at once. At the limit a new client takes the slot of the connection that has held
    #: one longest with no request in progress (idle, or its request head still arriving); only while
    #: every slot has a request in progress do new clients wait in the listen backlog.
    max_connections: int = 128
    #: Request bodies held in memory across all connections; a body that would go over it is
    #: refused with 503 and Retry-After.
    max_buffered_bytes: int = 32 * 1024 * 1024
    #: Seconds a client is asked to wait (Retry-After) when the buffered-bytes budget is spent.
    retry_after: int = 1
    #: A request head must arrive within this many seconds of its first byte (and within `client_timeout`):
    #: a head sent a byte at a time (slowloris) gets 408 instead of holding its slot for the whole timeout.
    head_timeout: float = 5.0


class Refusal(Exception):
    """The HTTP layer refuses the request before it reaches the service (400, 408, 413, 431, 503)."""

    def __init__(self, status: int, message: str, headers: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.status, self.headers = status, headers


class Held:
    """What one connection holds of a shared budget of request-body bytes, returned once its request is answered.

    `budget` is anything with `take(n) -> bool` (False: nothing reserved, the limit would be passed) and
    `give(n)`: the server's, locked when threads share it.
    """

    def __init__(self, budget: Any) -> None:
        self.budget, self.n = budget, 0

    def take(self, n: int, limits: ServeLimits) -> None:
        if not self.budget.take(n):
            raise Refusal(503, f"the server holds {limits.max_buffered_bytes} bytes of request bodies already; "
                               f"retry in {limits.retry_after} s", [("Retry-After", str(limits.retry_after))])
        self.n += n

    def release(self) -> None:
        self.budget.give(self.n)
        self.n = 0


def text_headers(head: h11.Request) -> list[tuple[str, str]]:
    return [(n.decode("latin-1"), v.decode("utf-8", "surrogateescape")) for n, v in head.headers.raw_items()]


def held_body(headers: list[tuple[str, str]]) -> bool:
    """The default `relayed` predicate: every body is held in memory, so the limits bound all of them."""
    return False


class RequestFraming:
    """One server connection's h11 state and the limits on what it receives.

    `next_event()` returns h11's events (NEED_DATA, PAUSED, Request, Data, EndOfMessage,
    ConnectionClosed) after checking each against the limits (raises `Refusal`, or h11's
    RemoteProtocolError for bytes that are not HTTP/1.1). A body's bytes are reserved in `held` as they
    arrive, unless `relayed(headers)` says the app passes the body on holding none of it: such a body is
    bounded by neither the body limit nor the budget (`relaying` is then true). `interim` holds bytes to
    send before reading on (a 100 Continue) until the driver takes them. `method`: the request's, until
    it is answered.
    """

    def __init__(self, limits: ServeLimits, held: Held,
                 relayed: Callable[[list[tuple[str, str]]], bool] = held_body) -> None:
        self.conn = h11.Connection(h11.SERVER, max_incomplete_event_size=limits.max_header_bytes)
        self.limits, self.held, self.relayed = limits, held, relayed
        self.interim = b""
        self.method: bytes | None = None
        self.relaying = False
        #: The Content-Length of a relayed body (None: not relayed, or framed chunked): a driver may read it off
        #: the socket itself (see `read_past`).
        self.relayed_length: int | None = None
        self._size = 0
        self._after: bytes | None = None  # what followed a body read past h11 (see `read_past`)

    def receive(self, data: bytes) -> None:
        self.conn.receive_data(data)

    def next_event(self) -> Any:
        event = self.conn.next_event()
        if isinstance(event, h11.Data) and not self.relaying:
            self.held.take(len(event.data), self.limits)
            self._size += len(event.data)
            if self._size > self.limits.max_body_bytes:
                raise Refusal(413, f"the body is over the {self.limits.max_body_bytes}-byte limit")
        elif isinstance(event, h11.Request):
            self.method = event.method
            self._check_head(event)
        return event

    def _check_head(self, head: h11.Request) -> None:
        limits = self.limits
        # h11 bounds a head that arrives in pieces; one that arrives whole is measured here.
        head_size, length, chunked = len(head.target), None, False
        for name, value in head.headers.raw_items():  # one pass: iterating h11's Headers itself costs more
            head_size += len(name) + len(value) + 4
            lower = name.lower()
            if lower == b"content-length":
                length = value
            elif lower == b"transfer-encoding":
                chunked = True
        if head_size > limits.max_header_bytes:
            raise Refusal(431, f"the request head ({head_size} bytes) is over the {limits.max_header_bytes}-byte limit")
        if length is not None and chunked:
            # RFC 9112 6.1: a request with both may be an attempt at request smuggling; answer it as an
            # error and close, so nothing after it on this connection is read as a request of its own.
            raise Refusal(400, "the request has both Content-Length and Transfer-Encoding (RFC 9112 6.1)")
        self._size = 0
        self.relaying = self.relayed is not held_body and self.relayed(text_headers(head))
        self.relayed_length = int(length) if self.relaying and length is not None else None
        if not self.relaying and length is not None and int(length) > limits.max_body_bytes:
            raise Refusal(413, f"the body ({int(length)} bytes) is over the {limits.max_body_bytes}-byte limit")
        if self.conn.they_are_waiting_for_100_continue:
            self.interim = self.conn.send(h11.InformationalResponse(status_code=100, headers=[]))

    def take_interim(self) -> bytes:
        interim, self.interim = self.interim, b""
        return interim

    def read_past(self) -> tuple[bytes, int]:
        """For a driver that reads a relayed body (`relayed_length` bytes) off the socket itself rather than
        through h11, which copies each byte three times: (the body's first bytes, received with the head; how
        many more to read). The driver answers the request only once it has read them all (else it closes)."""
        assert self.relayed_length is not None
        received = self.conn.trailing_data[0]
        self._after = bytes(received[self.relayed_length:])  # a pipelined request's, if any
        return bytes(received[:self.relayed_length]), max(0, self.relayed_length - len(received))

    def answered(self) -> bool:
        """Whether the exchange is over with the connection kept alive; if so, the next request may be read."""
        conn = self.conn
        if self._after is not None and conn.our_state is h11.DONE:
            # h11 saw the head only, and waits for the body forever: the next request starts a connection's state
            # afresh (what start_next_cycle would keep is per request), from the bytes that followed the body.
            after, self._after = self._after, None
            self.conn = h11.Connection(h11.SERVER, max_incomplete_event_size=self.limits.max_header_bytes)
            if after:
                self.conn.receive_data(after)
            self.method = None
            return True
        if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
            return False
        conn.start_next_cycle()
        self.method = None
        return True

    def refusal(self, status: int, message: str, date: str, code: str | None = None,
                extra: Sequence[tuple[str, str]] = ()) -> bytes:
        """A refusal (JSON message, `Connection: close`; the head alone for HEAD), or b"" when a response
        has already begun."""
        if self.conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return b""
        headers = [("Content-Type", "application/json"), ("Connection", "close"), *extra,
                   *([("x-amzn-ErrorType", code)] if code else [])]
        return response_bytes(self.conn, status, headers, json.dumps({"message": message}).encode(), date,
                              head=self.method == b"HEAD")


def _reason(status: int) -> str:
    return HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""


def http_date(now: float) -> str:
    """The Date header's value for the Unix time `now`: formatted once a second, not per response."""
    global _date_cache
    second, text = _date_cache
    if second != int(now):
        text = formatdate(int(now), usegmt=True)
        _date_cache = (int(now), text)  # one assignment: threads see either the old pair or the new one
    return text


_date_cache: tuple[int, str] = (0, "")


def response_bytes(conn: h11.Connection, status: int, headers: Sequence[tuple[str, str]], body: bytes, date: str,
                   *, head: bool = False) -> bytes:
    """A whole response with its Content-Length, as one write: a head and body sent apart meet Nagle and
    delayed ACKs (+40 ms each). The answer to HEAD declares its body's length but carries none (h11 refuses one)."""
    framing = [("Content-Length", str(len(body))), ("Date", date)]
    data = conn.send(h11.Response(status_code=status, headers=[*headers, *framing], reason=_reason(status)))
    payload = conn.send(h11.Data(data=body)) if body and not head else b""
    return data + payload + conn.send(h11.EndOfMessage())


def response_head(conn: h11.Connection, status: int, headers: Sequence[tuple[str, str]], date: str) -> bytes:
    """The head of a response whose body follows in pieces: framed by the app's Content-Length, else chunked."""
    return conn.send(h11.Response(status_code=status, headers=[*headers, ("Date", date)], reason=_reason(status)))
