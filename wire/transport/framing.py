"""What the local server reads and writes on a connection, as bytes: plain requests or h11, plus the limits. No I/O.

Strategy: `RequestFraming` reads one connection's requests as events of its
own (`Head`, `Body`, `END`...), plain ones without h11 (`wire.transport.http1`)
and any other by an `h11.Connection`, and applies `ServeLimits` to them
(raising `Refusal` for what must never reach an app: bytes that are not
HTTP/1.1, a head too large, a body too large, one framed two ways, a body the
shared budget cannot hold); it renders the answers too, so the connection's
keep-alive follows both sides. The server's two drivers (the event loop and
the thread per streaming connection, `wire.transport.server`) feed it bytes
and send what it renders, so both apply exactly the same rules; neither sees h11.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any

import h11

from wire.transport.http1 import UNUSUAL, Marker, PlainHead, check_response_headers, read_head, reason
from wire.transport.http1 import response_bytes as plain_response


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
        if self.n:  # nothing held (no body, or released already): no lock to take
            self.budget.give(self.n)
            self.n = 0


def _text_headers(head: h11.Request) -> list[tuple[str, str]]:
    return [(n.decode("latin-1"), v.decode("utf-8", "surrogateescape")) for n, v in head.headers.raw_items()]


def cut_short(received: int, expected: int) -> Refusal:
    """The refusal of a body whose client closed before sending all of it (h11's words for it)."""
    return Refusal(400, "malformed HTTP/1.1 request: peer closed connection without sending complete message body "
                        f"(received {received} bytes, expected {expected})")


def held_body(headers: list[tuple[str, str]], target: str) -> bool:
    """The default `relayed` predicate: every body is held in memory, so the limits bound all of them."""
    return False


def _unscreened(head: Head) -> bool:
    """The default `screen`: no head is refused before its body is read."""
    return False


#: The body of a request answered from its head (`RequestFraming.abandoned`), which an app tells by identity:
#: never read, so not the empty body (an app must not act on it). Exhausted, it stays empty however often read.
UNREAD: Iterator[bytes] = iter(())


#: How an app writes the HTTP layer's 413 for a request whose head it has, in the request's protocol:
#: (head, message) -> (status, headers, body).
Render = Callable[["Head", str], tuple[int, Sequence[tuple[str, str]], bytes]]


#: `RequestFraming.next_event`'s events besides `Head` and `Body`: more bytes are needed; the request's body
#: is over; nothing more will be read on this connection (the client closed, or h11 reads no more after a
#: switch of protocols).
NEED_DATA, END, CLOSED = Marker("NEED_DATA"), Marker("END"), Marker("CLOSED")


@dataclass(frozen=True, slots=True)
class Head:
    """A request's head, as text: the method and header names ASCII, the target and header values UTF-8 with
    undecodable bytes kept as surrogate escapes."""

    method: str
    target: str
    headers: list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Body:
    """A piece of a request's body, as it arrived."""

    data: bytes | bytearray


Event = Marker | Head | Body

# What a plain connection is doing: reading a head, reading a body, waiting for its request's answer.
_HEAD, _BODY, _DONE = "head", "body", "done"


class RequestFraming:
    """One server connection's framing and the limits on what it receives.

    `next_event()` returns NEED_DATA, `Head`, `Body`..., END, or CLOSED, after checking each against
    the limits; it raises `Refusal` for what must never reach an app, and for bytes that are not HTTP/1.1.
    `plain` (the event loop's connections): plain requests (`wire.transport.http1`) are read and answered
    without h11, until the first request that is not plain hands the connection to h11 for good (a rare
    request; switching back would mean taking h11's buffered bytes back out of it); a whole answer's headers
    must then pass `check_response_headers`, whichever reads the requests. Else h11 frames the connection
    from the start (a streaming app's: its answers may be streamed, which only h11 writes). A body's bytes are
    reserved in `held` as they arrive, unless `relayed(headers, target)` says the app passes the body on holding none of
    it: such a body is bounded by neither the body limit nor the budget (`relaying` is then true). `interim`
    holds bytes to send before reading on (a 100 Continue) until the driver takes them. `method`: the
    request's, until it is answered; `target`: the last one h11 read.

    Before a body is asked for (`Expect: 100-continue`) or refused (its Content-Length over the limit),
    `screen(head)` says whether the head alone refuses the request (a bad signature, as S3 checks it first):
    the request then ends at its head (`abandoned`), its body unread, no 100 Continue sent, and its answer
    closes the connection. `render` writes a 413 in the request's protocol (default: JSON `{"message": ...}`).
    """

    def __init__(self, limits: ServeLimits, held: Held,
                 relayed: Callable[[list[tuple[str, str]], str], bool] = held_body, *, plain: bool = False,
                 screen: Callable[[Head], bool] = _unscreened, render: Render | None = None) -> None:
        self.limits, self.held, self.relayed = limits, held, relayed
        self.screen, self.render = screen, render
        #: The request is answered from its head, its body unread: the connection closes after the answer.
        self.abandoned = False
        self.head: Head | None = None  # the request's, until it is answered
        self._oversized: Refusal | None = None  # its Content-Length is over the limit (refused unless screened)
        self.interim = b""
        self.method: str | None = None
        #: The target of the request h11 read last: the current one's while `method` is set.
        self.target = ""
        self.relaying = False
        #: The Content-Length of a relayed body (None: not relayed, or framed chunked): a driver may read it off
        #: the socket itself (see `read_past`).
        self.relayed_length: int | None = None
        self._size = 0
        self._after: bytes | None = None  # what followed a body read past h11 (see `read_past`)
        self._checked = plain
        self._h11 = None if plain else self._new_h11()
        # A plain connection's state (while `_h11` is None): what has arrived and not been taken, whether the
        # client has closed, what is being read, the body bytes still to come, whether the client asked to
        # close, whether the request has been answered and the connection stays open after that answer.
        self._buffer = bytearray()
        self._searched = 0  # how much of the buffer holds no end of a head (see `read_head`)
        self._eof = False
        self._state = _HEAD
        self._remaining = 0
        self._close = False
        self._responded = False
        self._keep = False

    def _new_h11(self) -> h11.Connection:
        return h11.Connection(h11.SERVER, max_incomplete_event_size=self.limits.max_header_bytes)

    def receive(self, data: bytes) -> None:
        """Take bytes the client sent (b"": it closed its side)."""
        if self._h11 is not None:
            self._h11.receive_data(data)
        else:
            self._buffer += data
            self._eof = self._eof or not data

    def next_event(self) -> Event:
        if self.abandoned:
            return END  # nothing of the body is read
        if self._h11 is not None:
            return self._h11_event(self._h11)
        state = self._state
        if state is _BODY:
            return self._body_event()
        if state is _DONE:
            return NEED_DATA  # nothing is read until the request is answered
        buffer = self._buffer
        if not buffer:
            return CLOSED if self._eof else NEED_DATA
        head = read_head(buffer, self._searched)
        if head is None and (self._eof or len(buffer) > self.limits.max_header_bytes):
            head = UNUSUAL  # h11 says what is wrong: its buffer is full, or the client closed mid-head
        if head is None:
            self._searched = len(buffer)
            return NEED_DATA
        self._searched = 0
        if not isinstance(head, PlainHead):
            # Handed over at a request's start, so a fresh h11 connection is where this one stands.
            conn = self._h11 = self._new_h11()
            conn.receive_data(bytes(buffer))
            if self._eof:
                conn.receive_data(b"")
            self._buffer = bytearray()
            return self._h11_event(conn)
        del buffer[:head.length]
        self.method = head.method
        self._state, self._remaining, self._close = _BODY, head.content_length, head.close
        self._admit_head(head.size, head.content_length, False, head.headers, head.target)
        return self._screened(Head(head.method, head.target, head.headers), False)

    def _body_event(self) -> Event:
        remaining, buffer = self._remaining, self._buffer
        if not remaining:
            self._state = _DONE
            return END
        if not buffer:
            if self._eof:
                raise cut_short(self._size, self._size + remaining)
            return NEED_DATA
        if len(buffer) <= remaining:
            data, self._buffer = bytes(buffer), bytearray()
        else:
            data = bytes(buffer[:remaining])
            del buffer[:remaining]
        self._remaining -= len(data)
        self._take(data)
        return Body(data)

    def _take(self, data: bytes | bytearray) -> None:
        """Count a piece of the body against the limits (unless it is relayed)."""
        if not self.relaying:
            self.held.take(len(data), self.limits)
        self._size += len(data)
        if self._size > self.limits.max_body_bytes and not self.relaying:
            raise Refusal(413, f"the body is over the {self.limits.max_body_bytes}-byte limit")

    def _h11_event(self, conn: h11.Connection) -> Event:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as err:  # the one place h11's complaints become refusals
            raise Refusal(err.error_status_hint, f"malformed HTTP/1.1 request: {err}") from None
        if isinstance(event, h11.Data):
            self._take(event.data)
            return Body(event.data)
        if isinstance(event, h11.Request):
            return self._h11_head(conn, event)
        if isinstance(event, h11.EndOfMessage):
            return END
        if event is h11.NEED_DATA:
            return NEED_DATA
        return CLOSED  # ConnectionClosed, or PAUSED: h11 reads no more (a switch of protocols)

    def _h11_head(self, conn: h11.Connection, head: h11.Request) -> Head:
        self.method = head.method.decode("ascii")
        self.target = head.target.decode("utf-8", "surrogateescape")
        # h11 bounds a head that arrives in pieces; one that arrives whole is measured here.
        size, length, chunked = len(head.target), None, False
        for name, value in head.headers.raw_items():  # one pass: iterating h11's Headers itself costs more
            size += len(name) + len(value) + 4
            lower = name.lower()
            if lower == b"content-length":
                length = int(value)
            elif lower == b"transfer-encoding":
                chunked = True
        headers = _text_headers(head)
        self._admit_head(size, length, chunked, headers, self.target)
        return self._screened(Head(self.method, self.target, headers), conn.they_are_waiting_for_100_continue)

    def _screened(self, head: Head, expecting: bool) -> Head:
        """`head`, once the app's screen has seen it where a body would be asked for or refused (see the class)."""
        self.head, self.abandoned = head, False
        oversized, self._oversized = self._oversized, None
        if (expecting or oversized is not None) and self.screen(head):
            self.abandoned, self._close = True, True
            self._state, self.relaying, self.relayed_length = _DONE, False, None
            return head
        if oversized is not None:
            raise oversized
        if expecting:
            assert self._h11 is not None  # a plain head expects nothing
            self.interim = self._h11.send(h11.InformationalResponse(status_code=100, headers=[]))
        return head

    def _admit_head(self, size: int, length: int | None, chunked: bool, headers: list[tuple[str, str]],
                    target: str) -> None:
        """Apply the limits to a head (`size` as `PlainHead.size` measures it), whoever read it."""
        limits = self.limits
        if size > limits.max_header_bytes:
            raise Refusal(431, f"the request head ({size} bytes) is over the {limits.max_header_bytes}-byte limit")
        if length is not None and chunked:
            # RFC 9112 6.1: a request with both may be an attempt at request smuggling; answer it as an
            # error and close, so nothing after it on this connection is read as a request of its own.
            raise Refusal(400, "the request has both Content-Length and Transfer-Encoding (RFC 9112 6.1)")
        self._size = 0
        self.relaying = self.relayed is not held_body and self.relayed(headers, target)
        self.relayed_length = length if self.relaying else None
        if not self.relaying and length is not None and length > limits.max_body_bytes:
            self._oversized = Refusal(413, f"the body ({length} bytes) is over the {limits.max_body_bytes}-byte limit")

    def take_interim(self) -> bytes:
        interim, self.interim = self.interim, b""
        return interim

    def read_past(self) -> tuple[bytes, int]:
        """For a driver that reads a relayed body (`relayed_length` bytes) off the socket itself rather than
        through h11, which copies each byte three times: (the body's first bytes, received with the head; how
        many more to read). The driver answers the request only once it has read them all (else it closes)."""
        assert self.relayed_length is not None and self._h11 is not None, "a relayed body is h11's to frame"
        received = self._h11.trailing_data[0]
        self._after = bytes(received[self.relayed_length:])  # a pipelined request's, if any
        return bytes(received[:self.relayed_length]), max(0, self.relayed_length - len(received))

    def answered(self) -> bool:
        """Whether the exchange is over with the connection kept alive; if so, the next request may be read."""
        conn = self._h11
        if conn is None:
            if self._state is not _DONE or not self._responded or not self._keep:
                return False
            self._state, self._responded, self.method, self.head = _HEAD, False, None, None
            return True
        if self._after is not None and conn.our_state is h11.DONE:
            # h11 saw the head only, and waits for the body forever: the next request starts a connection's state
            # afresh (what start_next_cycle would keep is per request), from the bytes that followed the body.
            after, self._after = self._after, None
            self._h11 = self._new_h11()
            if after:
                self._h11.receive_data(after)
            self.method = self.head = None
            return True
        if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
            return False
        conn.start_next_cycle()
        self.method = self.head = None
        return True

    def response(self, status: int, headers: Sequence[tuple[str, str]], body: bytes, date: str, *,
                 head: bool = False) -> bytes:
        """A whole answer with its Content-Length, as one write: a head and body sent apart meet Nagle and
        delayed ACKs (+40 ms each). The answer to HEAD declares its body's length but carries none. Raises
        ValueError for headers or a body that cannot be sent."""
        if self._checked:
            check_response_headers(headers)
        conn = self._h11
        if conn is None:
            data, self._keep = plain_response(status, headers, body, date, close=self._close, head=head)
            self._responded = True
            return data
        framing = [("Content-Length", str(len(body))), ("Date", date), *self._closing()]
        try:
            data = conn.send(h11.Response(status_code=status, headers=[*headers, *framing], reason=reason(status)))
            payload = conn.send(h11.Data(data=body)) if body and not head else b""
            return data + payload + conn.send(h11.EndOfMessage())
        except h11.LocalProtocolError as err:
            raise ValueError(str(err)) from None

    def refusal(self, status: int, message: str, date: str, code: str | None = None,
                extra: Sequence[tuple[str, str]] = ()) -> bytes:
        """A refusal (JSON message, `Connection: close`; the head alone for HEAD), or b"" when a response
        has already begun."""
        begun = self._responded if self._h11 is None else self._h11.our_state not in (h11.IDLE, h11.SEND_RESPONSE)
        if begun:
            return b""
        headers: Sequence[tuple[str, str]] = [("Content-Type", "application/json"), ("Connection", "close"), *extra,
                                              *([("x-amzn-ErrorType", code)] if code else [])]
        body = json.dumps({"message": message}).encode()
        if status == 413 and self.render is not None and self.head is not None:
            try:
                status, rendered, body = self.render(self.head, message)
                headers = [*rendered, ("Connection", "close"), *extra]
            except ValueError:  # a head the app cannot read (the toolkit's Request refuses it): the JSON one
                pass
        try:
            return self.response(status, headers, body, date, head=self.method == "HEAD")
        except ValueError:  # a refusal that cannot be sent now (h11's state, a header): the connection just closes
            return b""

    # A streamed answer (a streaming app's connections, which h11 frames): the head, the pieces, the end.
    def response_head(self, status: int, headers: Sequence[tuple[str, str]], date: str) -> bytes:
        """The head of an answer whose body follows in pieces: framed by the app's Content-Length, else chunked."""
        assert self._h11 is not None, "streamed answers are h11's"
        return self._h11.send(h11.Response(status_code=status, headers=[*headers, ("Date", date), *self._closing()],
                                           reason=reason(status)))

    def _closing(self) -> list[tuple[str, str]]:
        """The header that says an abandoned request's connection closes after its answer (RFC 9110 10.1.1)."""
        return [("Connection", "close")] if self.abandoned and self._h11 is not None else []

    def response_piece(self, data: bytes) -> bytes:
        assert self._h11 is not None, "streamed answers are h11's"
        return self._h11.send(h11.Data(data=data))

    def response_end(self) -> bytes:
        assert self._h11 is not None, "streamed answers are h11's"
        return self._h11.send(h11.EndOfMessage())


def http_date(now: float) -> str:
    """The Date header's value for the Unix time `now`: formatted once a second, not per response."""
    global _date_cache
    second, text = _date_cache
    if second != int(now):
        text = formatdate(int(now), usegmt=True)
        _date_cache = (int(now), text)  # one assignment: threads see either the old pair or the new one
    return text


_date_cache: tuple[int, str] = (0, "")
