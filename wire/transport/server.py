"""The HTTP/1.1 server of the edge: an event loop owning the sockets, limits, keep-alive, refusals.

Strategy: `wire.transport.framing` frames the bytes and applies the limits;
this module owns the sockets; an app decides everything else. One thread
runs a `selectors` loop that accepts, reads, answers and closes every
connection, so an idle or slow client costs a socket and a small buffer,
not a thread, and no call waits for a thread handoff under the GIL. Requests
that complete in the same turn of the loop are handed to the app together
(`app.respond_group(calls, answer)`; an app without it is called with
`respond` one request at a time), so an app can commit them as one
transaction; `answer` may be called later from another thread (a write
waiting for its fsync) and wakes the loop. A streaming app (the signing
proxy) reads the request body as it arrives and blocks on its upstream:
each of its connections is served by a thread of its own, under the same
limits; a body it relays with a Content-Length is read off the socket past
h11, piece by piece as received. The HTTP layer refuses what never reaches the app (400 malformed,
408 slow, 413 body (written in the call's protocol by an app's `too_large`), 431 head, 503 budget) and
lingers after a refusal so the client reads it. Before a body is asked for (`Expect: 100-continue`) or
refused for its size, an app's `screen` may refuse the request from its head: no 100 Continue goes out,
no body is read, the app answers, and the connection closes after a linger. At the connection limit, the connection that has been free
longest (idle, or its request head still arriving) is closed for the new
client (`wire.transport.slots`), so idle and slow clients keep no one out.
"""

from __future__ import annotations

import errno
import selectors
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from typing import Any, Protocol

import sigv4
from sigv4.redact import redact
from wire.transport.framing import (
    CLOSED, END, NEED_DATA, Body, Event, Head, Held, Refusal, RequestFraming, ServeLimits, UNREAD, cut_short,
    held_body, http_date,
)
from wire.transport.slots import FreeSlots

__all__ = ["App", "ListenError", "LocalServer", "Reply", "ServeLimits", "serve_connection", "serve_until_signal",
           "start_server", "wait_for_signal"]


class Reply(Protocol):
    """What an app answers: `wire.service.Reply` has these.

    A `body` of bytes goes out with its Content-Length; an iterable of bytes
    is sent piece by piece as a streaming app produces it (with the app's
    Content-Length header when it gives one, else chunked).
    """

    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> Sequence[tuple[str, str]]: ...

    @property
    def body(self) -> bytes | Iterable[bytes]: ...


#: How the server hands an app the requests that arrived together: `answer(i, reply)` once for each
#: call `i`, from within or later from any thread; an exception in place of the reply is answered 500.
Answer = Callable[[int, "Reply | BaseException"], None]


class App(Protocol):
    """The server's view of an application: one request in, one reply out.

    An app may also have `respond_group(calls, answer)`, taking a list of (request, source_ip) that
    arrived together (see `Answer`). An app with a true `streaming` attribute gets the request body as an
    iterator of bytes, read from the socket (limits enforced) as the app consumes it; others get it
    whole, as bytes. A streaming app may also have `relays_body(headers, target) -> bool`: true for a request
    whose body it passes on as it arrives, holding none of it, so that neither `max_body_bytes` nor
    `max_buffered_bytes` bounds that body (memory is bounded by the streaming).

    An app may also have `screen(request) -> bool`, asked before a body is asked for (`Expect: 100-continue`)
    or refused (over `max_body_bytes`), `request.body` not read: true when the head alone refuses the request.
    The server then sends no 100 Continue and reads no body: `respond` gets the request with its body unread
    (an empty iterator) and its answer closes the connection. And `too_large(request, message) -> Reply`: the
    413 of a body over the limit, in the request's protocol.
    """

    @property
    def log(self) -> Callable[[str], None]: ...  # read-only: an app's `log` may be a dataclass field

    def respond(self, request: sigv4.Request, source_ip: str) -> Reply: ...


#: accept() errors that mean "out of descriptors, buffers or memory for now" or "that one client
#: gave up": the listener is fine, so the loop backs off briefly and goes on.
_TRANSIENT_ACCEPT_ERRORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM, errno.EAGAIN,
                                      errno.ECONNABORTED, errno.EPROTO, errno.EPERM})
_TROUBLE_LOG_SECONDS = 60.0  # an accept failure that persists is logged again after this long
_ACCEPT_BACKOFF = 0.05  # seconds: long enough not to spin, short enough that freed descriptors are used at once
_LINGER_SECONDS, _LINGER_BYTES = 0.5, 4 << 20
_TICK = 0.1  # seconds between checks of the connections' deadlines
#: Framing events one connection may take per turn: a body sent in tiny chunks (h11 parses ~250k a second) then
#: waits for the next turn instead of holding every other client up for as long as its bytes take.
_EVENTS_PER_TURN = 256
_READ_SIZE = 65536
#: A streaming connection's reads: a relayed body arrives in fewer, larger pieces (a recv and an event each).
_STREAM_READ_SIZE = 256 * 1024
#: Connections the kernel completes before they are accepted (Python's default is 128). A burst larger than the
#: backlog has SYNs dropped, and each client so dropped waits a 1 s retransmission; the loop accepts (reclaiming
#: free slots) as fast as connections come, so a deep backlog is drained, not filled.
_BACKLOG = 1024


class _Budget:
    """The bytes of request bodies held in memory, across connections, against `ServeLimits.max_buffered_bytes`."""

    def __init__(self, limit: int) -> None:
        self.limit, self.held = limit, 0
        self._lock = threading.Lock()  # the threads of streaming connections share it with the loop

    def take(self, n: int) -> bool:
        """Reserve `n` bytes; False (nothing reserved) when that would go over the limit."""
        with self._lock:
            if self.held + n > self.limit:
                return False
            self.held += n
            return True

    def give(self, n: int) -> None:
        with self._lock:
            self.held -= n


def _late(limits: ServeLimits, head: bool) -> Refusal:
    """The 408 for a request (`head`: its head) that did not arrive in time."""
    if head:
        return Refusal(408, f"the request head did not arrive within {_head_window(limits):g} s")
    return Refusal(408, f"the request did not arrive within {limits.client_timeout:g} s")


def _head_window(limits: ServeLimits) -> float:
    """Seconds a request head may take to arrive, from its first byte."""
    return min(limits.head_timeout, limits.client_timeout)


def _framing(app: App, limits: ServeLimits, held: Held, **options: Any) -> RequestFraming:
    """A connection's framing, its heads screened and its 413s written by the app's `screen` and `too_large`."""
    screen, too_large = getattr(app, "screen", None), getattr(app, "too_large", None)
    if screen is not None:
        def screened(head: Head) -> bool:
            try:
                request = sigv4.Request(head.method, head.target, head.headers, UNREAD)
            except ValueError:  # a head the toolkit's Request refuses: answered 400 once read
                return False
            return bool(screen(request))
        options["screen"] = screened
    if too_large is not None:
        def render(head: Head, message: str) -> tuple[int, Sequence[tuple[str, str]], bytes]:
            reply = too_large(sigv4.Request(head.method, head.target, head.headers), message)
            return reply.status, reply.headers, reply.body if isinstance(reply.body, bytes) else b"".join(reply.body)
        options["render"] = render
    return RequestFraming(limits, held, **options)


def _internal_error(app: App, method: str, target: str, err: BaseException) -> str:
    """Log a failure of the app (a bug must cost one request, not the server); the message its client gets."""
    app.log(f"serve: internal error on {method} {target}: {err!r}")
    return "The local endpoint failed; the call may have been applied; see its log."


# -- a streaming app's connection: a thread of its own, blocking sockets --------------------------------------


def _request_events(framing: RequestFraming, sock: Any) -> Iterator[Event]:
    """One request's events as they arrive (Head, Body..., END), the limits enforced
    (raises Refusal); none when the client closes or idles out before sending a request."""
    limits = framing.limits
    began: float | None = None  # when the request's first byte arrived
    deadline: float | None = None  # None: idle, no byte of a request yet (the keep-alive timeout)
    head = True  # the head is still arriving
    while True:
        event = framing.next_event()
        if event is NEED_DATA:
            remaining = limits.client_timeout if deadline is None else deadline - time.monotonic()
            if remaining <= 0:
                raise _late(limits, head)
            sock.settimeout(remaining)
            try:
                data = sock.recv(_STREAM_READ_SIZE)
            except TimeoutError:
                if deadline is None:
                    return  # idle keep-alive connection: close quietly
                raise _late(limits, head) from None
            if data and deadline is None:
                began = time.monotonic()
                deadline = began + _head_window(limits)
            elif data and framing.relaying:  # a relayed body: progress within the timeout
                deadline = time.monotonic() + limits.client_timeout
            framing.receive(data)
            continue
        if framing.interim:
            sock.sendall(framing.take_interim())
        if event is CLOSED:
            return
        if isinstance(event, Head):
            head = False
            deadline = (began or time.monotonic()) + limits.client_timeout
        yield event
        if event is END:
            return


def _read_request(framing: RequestFraming, sock: Any) -> tuple[str, str, list[tuple[str, str]], Iterator[bytes]] | None:
    """The next request's (method, target, headers, body read as it is consumed); None when the client
    closed or idled out."""
    events = _request_events(framing, sock)
    head = next(events, None)
    if not isinstance(head, Head):
        return None
    if framing.relayed_length is not None:
        chunks = _relayed_body(framing, sock)
    else:
        chunks = (bytes(event.data) for event in events if isinstance(event, Body))
    return head.method, head.target, head.headers, chunks


def _relayed_body(framing: RequestFraming, sock: Any) -> Iterator[bytes]:
    """A relayed body with a Content-Length, read off the socket as it is consumed, each piece as received:
    h11 would copy each byte three times, and a relayed upload is all bytes. Each read must make progress
    within the client timeout (raises Refusal 408); a body cut short raises Refusal 400."""
    first, more = framing.read_past()
    if first:
        yield first
    limits = framing.limits
    sock.settimeout(limits.client_timeout)
    while more:
        try:
            piece = sock.recv(min(more, _STREAM_READ_SIZE))
        except TimeoutError:
            raise _late(limits, False) from None
        if not piece:
            received = (framing.relayed_length or 0) - more
            raise cut_short(received, framing.relayed_length or 0)
        more -= len(piece)
        yield piece


def _send_streamed(framing: RequestFraming, sock: Any, status: int, headers: Sequence[tuple[str, str]],
                   chunks: Iterable[bytes] | bytes, *, head: bool = False) -> None:
    if isinstance(chunks, bytes):
        sock.sendall(framing.response(status, headers, chunks, http_date(time.time()), head=head))
        return
    # The head goes out with the first piece of the body, and the end with the last: a small answer in one write
    # (a write each costs a syscall, a segment and a wake-up of the client).
    pending = framing.response_head(status, headers, http_date(time.time()))
    for chunk in chunks:
        if chunk and not head:
            sock.sendall(pending + framing.response_piece(chunk))
            pending = b""
    pending += framing.response_end()
    if pending:
        sock.sendall(pending)


def _refuse_blocking(framing: RequestFraming, sock: Any, status: int, message: str, code: str | None = None,
                     extra: Sequence[tuple[str, str]] = ()) -> None:
    try:
        data = framing.refusal(status, message, http_date(time.time()), code, extra)
        if not data:
            return
        sock.settimeout(framing.limits.client_timeout)
        sock.sendall(data)
    except OSError:  # TimeoutError is one
        return
    _linger(sock)


def _linger(sock: Any) -> None:
    """Read and drop what the client is still sending, briefly: closing with unread input makes the kernel
    send a reset, which can destroy the answer before the client reads it."""
    try:
        sock.shutdown(socket.SHUT_WR)
        deadline, dropped = time.monotonic() + _LINGER_SECONDS, 0
        while dropped < _LINGER_BYTES and (remaining := deadline - time.monotonic()) > 0:
            sock.settimeout(remaining)
            chunk = sock.recv(_READ_SIZE)
            if not chunk:
                return
            dropped += len(chunk)
    except OSError:  # TimeoutError is one
        pass


def serve_connection(sock: Any, peer: str, app: App, limits: ServeLimits, stopping: threading.Event,
                     budget: _Budget | None = None, slots: FreeSlots | None = None) -> None:
    """Serve requests on one blocking socket until it closes, errs, idles out or `stopping` is set: how
    `LocalServer` serves a streaming app's connection, on a thread of its own (a body arrives as it is
    read; any other app gets it whole). `budget`: the request-body bytes shared with other connections
    (default: this connection's own). `slots`: where the server counts the connection free (admitted there
    already) while it has no request in progress, and may reclaim it."""
    streaming = bool(getattr(app, "streaming", False))
    framing = _framing(app, limits, Held(budget or _Budget(limits.max_buffered_bytes)),
                       relayed=getattr(app, "relays_body", held_body) if streaming else held_body)
    try:
        while not stopping.is_set():
            framing.held.release()  # the previous request has been answered: its body is no longer held
            try:
                received = _read_request(framing, sock)
                if received is None or (slots is not None and not slots.busy(sock)):
                    return  # closed, idled out, or reclaimed for a new client
                method, target, headers, body = received
                try:
                    # An abandoned request's body is unread, not empty: `UNREAD`, streaming app or not.
                    unread = UNREAD if framing.abandoned else body if streaming else b"".join(body)
                    reply = app.respond(sigv4.Request(method, target, headers, unread), peer)
                    for _ in body:  # what the app left unread
                        pass
                except Refusal:
                    raise  # the body broke a limit or the protocol while the app read it
                except Exception as err:
                    _refuse_blocking(framing, sock, 500, _internal_error(app, method, target, err),
                                     "InternalServerException")
                    return
            except Refusal as refusal:
                # One line per request, refused ones too (a streaming app's log: the proxies' stderr).
                request = f"{framing.method} {framing.target}" if framing.method else "-"  # "-": no head read
                if not stopping.is_set():  # stopping cuts the connections short: no client's fault
                    app.log(redact(f"{request} {refusal.status} refused: {refusal}"))
                _refuse_blocking(framing, sock, refusal.status, str(refusal), extra=refusal.headers)
                return
            upgrade = getattr(reply, "upgrade", None)
            if upgrade is not None:  # a CONNECT the app terminates itself: the rest of the connection is its
                sock.settimeout(limits.client_timeout)
                sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                # On a duplicate: wrapping detaches the socket it wraps, and `sock` must stay the one that
                # `LocalServer.stop` shuts down to wake this thread (its finally below closes it).
                serve_connection(upgrade(sock.dup()), peer, app, limits, stopping, budget)
                return
            try:
                sock.settimeout(limits.client_timeout)  # for the answer, not what was left of reading the request
                _send_streamed(framing, sock, reply.status, reply.headers, reply.body, head=method == "HEAD")
            except OSError:
                raise
            except Exception as err:  # the app's body failed half-way: the client sees the connection close
                app.log(f"serve: reply to {method} {target} cut short: {err}")
                return
            if not framing.answered():
                if framing.abandoned:  # its body was never read: the client may be sending it still
                    _linger(sock)
                return
            if slots is not None:
                slots.free(sock)
    except OSError:
        return  # the client went away
    finally:
        framing.held.release()
        if slots is not None:
            slots.leave(sock)  # first: then no reclaim can be shutting the socket down as it closes
        sock.close()


# -- every other app: the event loop --------------------------------------------------------------------------

_READING, _WAITING, _CLOSING, _LINGERING = "reading", "waiting", "closing", "lingering"


class _Connection:
    """One connection of the loop: its framing, the request being read, the bytes not yet sent."""

    __slots__ = ("sock", "peer", "framing", "state", "started", "began", "deadline", "head", "body", "out", "mask",
                 "exchange", "linger", "dropped")

    def __init__(self, sock: socket.socket, peer: str, framing: RequestFraming, deadline: float) -> None:
        self.sock, self.peer, self.framing = sock, peer, framing
        #: _READING a request (`started`: its first byte is in), _WAITING for the app's answer, _CLOSING
        #: (the last answer is being sent), _LINGERING (after a refusal: dropping input until the client closes).
        self.state = _READING
        self.started = False
        self.began = 0.0  # when the request's first byte arrived (monotonic), once `started`
        self.deadline = deadline  # when the current state times out (monotonic)
        self.head: Head | None = None
        #: The body read so far, in one buffer: an object per event (a chunk of one byte costs ~70) would
        #: make memory many times the buffered-bytes budget, which counts the body's bytes.
        self.body = bytearray()
        self.out = b""  # what the socket did not take yet
        self.mask = 0  # the events the selector watches for
        #: Counts the requests read whole (and closes), so an answer finds its own request: not one read
        #: since (a pipelined request may be read before the app has handed back all of the group's answers).
        self.exchange = 0
        self.linger = False  # whether to linger once the last answer is out (a refusal, or an answer while stopping)
        self.dropped = 0  # the bytes dropped while lingering


def _respond_each(app: App, calls: Sequence[tuple[sigv4.Request, str]], answer: Answer) -> None:
    """`respond_group` for an app that answers one request at a time."""
    for i, (request, source_ip) in enumerate(calls):
        try:
            reply: Reply | BaseException = app.respond(request, source_ip)
        except Exception as err:
            reply = err
        answer(i, reply)


class LocalServer:
    """The listening socket and the connections: an event loop, plus a thread per connection of a streaming
    app; at most `limits.max_connections` connections, the one free longest (idle, or its head still
    arriving) reclaimed for a new client at the limit (see `wire.transport.slots`).

    Memory is bounded by max_connections x (max_header_bytes + 64 KiB read buffer (256 KiB for a streaming
    app's) + the answer being sent) + max_buffered_bytes of request bodies (+ a thread per connection of a
    streaming app).
    """

    def __init__(self, app: App, host: str = "127.0.0.1", port: int = 0,
                 limits: ServeLimits = ServeLimits()) -> None:
        self.app, self.limits = app, limits
        self._listener = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET,
                                              backlog=_BACKLOG)
        self._listener.setblocking(False)
        self.host, self.port = self._listener.getsockname()[:2]
        self._streaming = bool(getattr(app, "streaming", False))
        self._respond_group = getattr(app, "respond_group", None) or partial(_respond_each, app)
        self._budget = _Budget(limits.max_buffered_bytes)
        self._stopping = threading.Event()
        self._selector = selectors.DefaultSelector()
        self._waker, self._wake_end = socket.socketpair()
        self._waker.setblocking(False)
        self._wake_end.setblocking(False)
        self._selector.register(self._wake_end, selectors.EVENT_READ, None)
        self._listening = False
        self._resume_at = 0.0  # when an accept failure's back-off ends (monotonic)
        #: (errno, when) of the last accept failure logged: a run of failures logs once (once a minute at most).
        self._accept_trouble: tuple[int | None, float] = (None, 0.0)
        self._connections: set[_Connection] = set()
        self._free = FreeSlots()  # the connections of both kinds with no request in progress
        self._ready: list[_Connection] = []  # complete requests not yet handed to the app
        self._backlog: list[_Connection] = []  # connections with more events than one turn takes
        #: Work for the loop from any thread: (the connection it is for or None, function, arguments).
        self._soon: deque[tuple[_Connection | None, Callable[..., None], tuple[Any, ...]]] = deque()
        self._threads: dict[socket.socket, threading.Thread] = {}  # streaming connections (the loop's to change)
        self._thread_lock = threading.Lock()  # stop() reads `_threads` from another thread
        self._loop = threading.Thread(target=self._run, name="serve-loop", daemon=True)

    @property
    def url(self) -> str:
        return f"http://[{self.host}]:{self.port}" if ":" in self.host else f"http://{self.host}:{self.port}"

    def start(self) -> "LocalServer":
        self._listen(True)
        self._loop.start()
        return self

    def stop(self) -> None:
        """Stop accepting, let in-flight requests finish, close idle connections."""
        self._stopping.set()
        self._wake()
        self._loop.join()
        with self._thread_lock:
            threads = list(self._threads.items())
        for sock, _ in threads:
            try:
                sock.shutdown(socket.SHUT_RD)  # wakes a recv() waiting for the next request
            except OSError:
                pass
        deadline = time.monotonic() + self.limits.client_timeout + 1  # for all of them: they finish together
        for _, thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> "LocalServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- the loop ------------------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            next_tick = time.monotonic() + _TICK
            while not self._stopping.is_set():
                self._turn(0 if self._ready or self._backlog else _TICK)
                now = time.monotonic()
                if now >= next_tick:
                    self._expire(now)
                    next_tick = now + _TICK
            self._drain()
        finally:
            self._listener.close()
            for connection in list(self._connections):
                self._close(connection)
            self._selector.close()
            self._waker.close()
            self._wake_end.close()

    def _turn(self, timeout: float) -> None:
        """One turn: read what arrived, hand the complete requests to the app, send what is answered."""
        accept = False
        backlog, self._backlog = self._backlog, []  # from earlier turns: a connection's share is one a turn
        for key, mask in self._selector.select(timeout):
            connection = key.data
            if connection is None:
                self._drain_wakeups()
            elif connection is self:
                accept = True
            else:
                self._guarded(connection, self._ready_for, connection, mask)
        for connection in backlog:
            if connection.state is _READING:
                self._guarded(connection, self._advance, connection)
        self._run_soon()
        if self._ready:
            calls, self._ready = self._ready, []
            self._dispatch(calls)
            self._run_soon()
        if accept:  # after the closes of this turn, so their descriptors and slots are free again
            self._accept()

    def _ready_for(self, connection: _Connection, mask: int) -> None:
        """The socket of `connection` is ready for what `mask` says."""
        if mask & selectors.EVENT_WRITE:
            self._flush(connection)
            if connection.state is _READING and not connection.out:
                self._advance(connection)  # a pipelined request may be in already
        elif connection.state is _WAITING:
            # More input (pipelined) while the app has the request: it waits in the socket until the
            # answer is out (unwatched only now: most clients send nothing meanwhile, saving two syscalls).
            self._watch(connection, 0)
        elif connection.state is _LINGERING:
            self._drop_input(connection)
        else:
            self._receive(connection)

    def _guarded(self, connection: _Connection | None, work: Callable[..., None], *args: Any) -> None:
        """Run `work(*args)`; a bug it meets costs its connection (closed), never the loop."""
        try:
            work(*args)
        except Exception as err:
            self.app.log(f"serve: internal error in the event loop: {err!r}")
            if connection is not None:
                self._close(connection)

    def _drain(self) -> None:
        """Stopping: close the connections with no request in the app; finish answering the others."""
        self._listen(False)
        deadline = time.monotonic() + self.limits.client_timeout + 1
        while time.monotonic() < deadline:
            for connection in list(self._connections):
                if connection.state is _READING and not connection.started:
                    self._close(connection)  # idle: a request begun may still be answered
            if not self._connections:
                return
            self._turn(_TICK)
            self._expire(time.monotonic())  # lingering and slow connections keep their deadlines

    def _wake(self) -> None:
        try:
            self._waker.send(b"\0")
        except OSError:  # the pipe is full (the loop will wake anyway) or the server has stopped
            pass

    def _drain_wakeups(self) -> None:
        try:
            while self._wake_end.recv(4096):
                pass
        except OSError:
            pass

    def _call_soon(self, connection: _Connection | None, work: Callable[..., None], *args: Any) -> None:
        """Run `work(*args)` on the loop's thread (callable from any thread); `connection`: the one it is for."""
        self._soon.append((connection, work, args))
        if threading.current_thread() is not self._loop:
            self._wake()

    def _run_soon(self) -> None:
        soon = self._soon
        while soon:
            connection, work, args = soon.popleft()
            self._guarded(connection, work, *args)

    def _watch(self, connection: _Connection, mask: int) -> None:
        if mask == connection.mask:
            return
        if not connection.mask:
            self._selector.register(connection.sock, mask, connection)
        elif not mask:
            self._selector.unregister(connection.sock)
        else:
            self._selector.modify(connection.sock, mask, connection)
        connection.mask = mask

    # -- accepting ------------------------------------------------------------------------------------------

    def _listen(self, on: bool) -> None:
        if on != self._listening:
            if on:
                self._selector.register(self._listener, selectors.EVENT_READ, self)
            else:
                self._selector.unregister(self._listener)
            self._listening = on

    def _room(self) -> bool:
        return len(self._connections) + len(self._threads) < self.limits.max_connections

    def _accept(self) -> None:
        for _ in range(64):  # then serve the admitted ones before accepting more
            if not self._room() and not self._free:
                # Every slot has a request in progress: stop accepting until one is free. New clients wait
                # in the kernel's backlog, and the admitted ones keep their share of the loop and the budget.
                self._listen(False)
                return
            try:
                sock, peer = self._listener.accept()
            except BlockingIOError:
                return
            except OSError as err:
                self._accept_failed(err)
                return
            if not self._room():
                self._free.reclaim()  # idle or slow: the new client is likelier to have a request to send
            self._admit(sock, peer[0])

    def _accept_failed(self, err: OSError) -> None:
        """Log a run of accept() failures once, stop accepting briefly, and go on: the listener itself is fine
        (descriptors, buffers or memory ran out for now, or one client gave up)."""
        if err.errno == errno.ECONNABORTED:  # that client is gone; the next one is waiting
            return
        now = time.monotonic()
        logged, logged_at = self._accept_trouble
        # A run of failures is not ended by one accept that works (a descriptor freed and taken at once).
        if err.errno != logged or now - logged_at > _TROUBLE_LOG_SECONDS:
            self._accept_trouble = (err.errno, now)
            name = errno.errorcode.get(err.errno or 0, str(err.errno))
            transient = "" if err.errno in _TRANSIENT_ACCEPT_ERRORS else " (unexpected)"
            self.app.log(f"serve: accept failed{transient}: {name} ({err.strerror}); backing off and retrying; "
                         "connections are served again once resources are free")
        self._listen(False)
        self._resume_at = time.monotonic() + _ACCEPT_BACKOFF

    def _admit(self, sock: socket.socket, peer: str) -> None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._streaming:
                sock.settimeout(None)
                thread = threading.Thread(target=self._serve_thread, args=(sock, peer), daemon=True)
                with self._thread_lock:
                    self._threads[sock] = thread
                self._free.admit(sock, partial(self._reclaim_thread, sock))
                thread.start()
                return
            sock.setblocking(False)
            connection = _Connection(sock, peer, _framing(self.app, self.limits, Held(self._budget), plain=True),
                                     time.monotonic() + self.limits.client_timeout)
            self._connections.add(connection)
            self._free.admit(sock, partial(self._close, connection))
            self._watch(connection, selectors.EVENT_READ)
        except (OSError, RuntimeError) as err:  # RuntimeError: "can't start new thread"
            with self._thread_lock:
                self._threads.pop(sock, None)
            self._free.leave(sock)
            sock.close()
            self._accept_failed(err if isinstance(err, OSError) else OSError(errno.EAGAIN, str(err)))

    def _serve_thread(self, sock: socket.socket, peer: str) -> None:
        try:
            serve_connection(sock, peer, self.app, self.limits, self._stopping, self._budget, self._free)
        finally:
            self._call_soon(None, self._thread_done, sock)

    def _thread_done(self, sock: socket.socket) -> None:
        with self._thread_lock:
            self._threads.pop(sock, None)
        self._resume()

    def _reclaim_thread(self, sock: socket.socket) -> None:
        """Close a free streaming connection for a new client: its thread, waiting for a request, sees the
        connection end and returns; the slot is free now, not once the thread has noticed."""
        with self._thread_lock:
            self._threads.pop(sock, None)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _resume(self) -> None:
        """Accept again if accepting was paused and there is room (and any back-off is over)."""
        if not self._listening and not self._stopping.is_set() and (self._room() or self._free) \
                and time.monotonic() >= self._resume_at:
            self._listen(True)

    def _expire(self, now: float) -> None:
        """Time out what waited too long: idle connections close, slow requests get 408."""
        self._resume()
        for connection in [c for c in self._connections if c.deadline <= now]:
            if connection.state is _READING and connection.started:
                self._refuse(connection, _late(self.limits, connection.head is None))
            elif connection.state is not _WAITING:
                self._close(connection)  # idle, or a client that will not read its answer or close

    # -- reading and answering ------------------------------------------------------------------------------

    def _read(self, connection: _Connection) -> bytes | None:
        """What the socket has (b"": the client closed); None when nothing yet or the socket failed (closed)."""
        try:
            return connection.sock.recv(_READ_SIZE)
        except BlockingIOError:
            return None
        except OSError:
            self._close(connection)
            return None

    def _receive(self, connection: _Connection) -> None:
        data = self._read(connection)
        if data is None:
            return
        if data and not connection.started:
            connection.started, connection.began = True, time.monotonic()
            connection.deadline = connection.began + _head_window(self.limits)
        connection.framing.receive(data)
        self._advance(connection)

    def _advance(self, connection: _Connection) -> None:
        """Take the events of what has arrived: a complete request goes to `_ready`; a connection with more
        than a turn's events goes to `_backlog`, its socket unwatched until they are taken."""
        framing = connection.framing
        try:
            for _ in range(_EVENTS_PER_TURN):
                event = framing.next_event()
                if framing.interim:
                    self._send(connection, framing.take_interim())
                    if connection.state is not _READING:
                        return  # the client went away
                if isinstance(event, Body):
                    connection.body += event.data
                elif isinstance(event, Head):
                    if not connection.started:  # pipelined: its bytes came with the previous request's
                        connection.started, connection.began = True, time.monotonic()
                    connection.head, connection.body = event, bytearray()
                    connection.deadline = connection.began + self.limits.client_timeout
                    self._free.busy(connection.sock)
                elif event is END:
                    connection.state = _WAITING  # nothing more is read until this request is answered
                    connection.exchange += 1
                    self._ready.append(connection)
                    return
                elif event is CLOSED:
                    self._close(connection)
                    return
                else:  # NEED_DATA
                    if connection.mask == 0 and not connection.out:  # back from the backlog
                        self._watch(connection, selectors.EVENT_READ)
                    return
            self._watch(connection, 0)  # read no more until what the framing holds has been taken
            self._backlog.append(connection)
        except Refusal as refusal:
            self._refuse(connection, refusal)

    def _dispatch(self, connections: list[_Connection]) -> None:
        calls, taken = [], []
        for connection in connections:
            head = connection.head
            assert head is not None
            # An abandoned request's body is unread, not empty (its payload hash is not the empty body's).
            body: bytes | Iterator[bytes] = UNREAD if connection.framing.abandoned else bytes(connection.body)
            connection.body = bytearray()
            try:
                request = sigv4.Request(head.method, head.target, head.headers, body)
            except ValueError as err:  # HTTP/1.1 takes it, the toolkit's Request does not: the client's to fix
                self._refuse(connection, Refusal(400, f"malformed request: {err}"))
                continue
            calls.append((request, connection.peer))
            taken.append((connection, connection.exchange))

        def answer(i: int, reply: Reply | BaseException) -> None:
            connection, exchange = taken[i]
            self._call_soon(connection, self._answer, connection, exchange, calls[i][0], reply)

        try:
            self._respond_group(calls, answer)
        except Exception as err:  # the app failed outside its calls: each unanswered call gets a 500
            for i in range(len(calls)):
                answer(i, err)

    def _answer(self, connection: _Connection, exchange: int, request: sigv4.Request,
                reply: Reply | BaseException) -> None:
        if connection.state is not _WAITING or connection.exchange != exchange:
            return  # answered already (an app that failed after answering some calls), or closed
        connection.framing.held.release()
        stopping = self._stopping.is_set()
        if not isinstance(reply, BaseException):
            try:
                body = reply.body if isinstance(reply.body, bytes) else b"".join(reply.body)
                # Stopping: the last answer on this connection says so, and is lingered after like a refusal.
                headers = [*reply.headers, ("Connection", "close")] if stopping else reply.headers
                data = connection.framing.response(reply.status, headers, body, http_date(time.time()),
                                                   head=request.method == "HEAD")
            except Exception as err:  # an app's body that failed, or headers that cannot be sent
                reply = err
        if isinstance(reply, BaseException):
            message = _internal_error(self.app, request.method, request.target, reply)
            self._refuse(connection, Refusal(500, message), code="InternalServerException")
            return
        keep = connection.framing.answered()
        connection.state, connection.head = (_READING if keep else _CLOSING), None
        connection.linger = stopping or connection.framing.abandoned  # its body may be arriving still
        connection.started = False
        connection.deadline = time.monotonic() + self.limits.client_timeout
        self._send(connection, data)
        if connection.state is _READING and not connection.out:
            self._advance(connection)  # a pipelined request may be in already

    def _refuse(self, connection: _Connection, refusal: Refusal, *, code: str | None = None) -> None:
        """Answer with a refusal and close, after lingering so that the client reads it."""
        self._free.busy(connection.sock)  # closing: not free to reclaim, the refusal is on its way
        connection.framing.held.release()
        connection.body = bytearray()  # the budget no longer counts it: nor may memory, while the client lingers
        data = connection.framing.refusal(refusal.status, str(refusal), http_date(time.time()), code, refusal.headers)
        if not data:
            self._close(connection)
            return
        connection.state, connection.deadline = _CLOSING, time.monotonic() + self.limits.client_timeout
        connection.linger = True
        self._send(connection, data)

    def _send(self, connection: _Connection, data: bytes) -> None:
        connection.out += data
        self._flush(connection)

    def _flush(self, connection: _Connection) -> None:
        out = connection.out
        if out:
            try:
                sent = connection.sock.send(out)
            except BlockingIOError:
                sent = 0
            except OSError:
                self._close(connection)
                return
            connection.out = out = out[sent:]
        if out:
            self._watch(connection, selectors.EVENT_WRITE)
        elif connection.state is _CLOSING:
            if connection.linger:
                self._linger(connection)
            else:
                self._close(connection)
        elif connection.state is _READING:
            if connection.head is None:  # the answer is out (not a 100 Continue): free until the next head is in
                self._free.free(connection.sock)
                self._resume()
            self._watch(connection, selectors.EVENT_READ)
        elif connection.state is _WAITING:  # a 100 Continue went out late: nothing to watch until the answer
            self._watch(connection, 0)

    def _linger(self, connection: _Connection) -> None:
        """Read and drop what the client is still sending, briefly: closing with unread input makes the
        kernel send a reset, which can destroy the refusal before the client reads it."""
        try:
            connection.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._close(connection)
            return
        connection.state, connection.dropped = _LINGERING, 0
        connection.deadline = time.monotonic() + _LINGER_SECONDS
        self._watch(connection, selectors.EVENT_READ)

    def _drop_input(self, connection: _Connection) -> None:
        data = self._read(connection)
        if data is None:
            return
        connection.dropped += len(data)
        if not data or connection.dropped >= _LINGER_BYTES:
            self._close(connection)

    def _close(self, connection: _Connection) -> None:
        if connection not in self._connections:
            return
        self._connections.discard(connection)
        self._free.leave(connection.sock)
        self._watch(connection, 0)
        connection.framing.held.release()
        connection.state = _CLOSING
        connection.exchange += 1  # an answer still to come has nowhere to go
        connection.sock.close()
        self._resume()


class ListenError(Exception):
    """The address cannot be listened on (in use, not ours, no permission): the message names it."""


def start_server(app: App, host: str, port: int, limits: ServeLimits) -> LocalServer:
    """A started `LocalServer` for `app` on `host`:`port` (0: a free port); raises `ListenError`."""
    try:
        return LocalServer(app, host, port, limits).start()
    except OSError as err:
        raise ListenError(f"cannot listen on {host}:{port}: {err.strerror or err}") from None


def serve_until_signal(server: LocalServer, done: Callable[[], bool] = lambda: False) -> None:
    """Let `server` serve until SIGINT or SIGTERM, or until `done()`; then stop it."""
    try:
        wait_for_signal(done)
    finally:
        server.stop()


def wait_for_signal(done: Callable[[], bool] = lambda: False) -> None:
    """Block until SIGINT or SIGTERM, or until `done()` (the handlers before are restored)."""
    # The handler only appends: it runs on the main thread between two bytecodes, possibly while the main thread
    # holds a lock, so one that takes a lock (Event.set() while Event.wait() holds its lock) can deadlock.
    caught: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _: caught.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not caught and not done():
            time.sleep(0.2)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
