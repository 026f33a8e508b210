"""The HTTP/1.1 server of the edge: an accept loop, per-connection limits, keep-alive, refusals.

Strategy: h11 frames the bytes, this module owns the sockets; an app decides
everything else (`app.respond(request, source_ip)` returns a reply with
status, headers and body; `app.log(line)` takes operator notices). A
streaming app (the signing proxy) reads the request body as it arrives and
answers with a body that is sent as it is produced, under the same limits. The HTTP
layer refuses what never reaches the app (400 malformed, 408 slow, 413 body,
431 head) and lingers after a refusal so the client reads it.

Threads, one per connection, rather than asyncio: the handler, sigv4 and
sqlite3 are synchronous and CPU-bound (an event loop would only add
executor hops around them), a local endpoint serves a handful of clients,
and blocking sockets with timeouts give slow-client protection directly.
The accept loop is ours (a listener with a short timeout so stop() is
noticed) because it also tracks live connections for a clean shutdown.
"""

from __future__ import annotations

import errno
import json
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from typing import Any, Protocol

import h11

import sigv4


class Reply(Protocol):
    """What an app answers: `wire.service.Reply` has these.

    A `body` of bytes goes out with its Content-Length; an iterable of bytes
    is sent piece by piece as the app produces it (with the app's
    Content-Length header when it gives one, else chunked).
    """

    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> Sequence[tuple[str, str]]: ...

    @property
    def body(self) -> bytes | Iterable[bytes]: ...


class App(Protocol):
    """The server's view of an application: one request in, one reply out.

    An app with a true `streaming` attribute gets the request body as an
    iterator of bytes, read from the socket (limits enforced) as the app
    consumes it; others get it whole, as bytes. A streaming app may also have
    `relays_body(headers) -> bool`: true for a request whose body it passes on
    as it arrives, holding none of it, so that neither `max_body_bytes` nor
    `max_buffered_bytes` bounds that body (memory is bounded by the streaming).
    """

    log: Callable[[str], None]

    def respond(self, request: sigv4.Request, source_ip: str) -> Reply: ...


@dataclass(frozen=True)
class ServeLimits:
    max_header_bytes: int = 16 * 1024
    max_body_bytes: int = 1024 * 1024
    #: A request (its head and body) must arrive within this many seconds of its first byte; idle
    #: keep-alive connections are closed after it too.
    client_timeout: float = 10.0
    #: Connections served at once; at the limit the server stops accepting (new clients wait in the
    #: listen backlog) until one closes, so the connections already admitted are never starved.
    max_connections: int = 128
    #: Request bodies held in memory across all connections; a body that would go over it is
    #: refused with 503 and Retry-After.
    max_buffered_bytes: int = 32 * 1024 * 1024
    #: Seconds a client is asked to wait (Retry-After) when the buffered-bytes budget is spent.
    retry_after: int = 1


#: accept() errors that mean "out of descriptors, buffers or memory for now" or "that one client
#: gave up": the listener is fine, so the loop backs off briefly and goes on.
_TRANSIENT_ACCEPT_ERRORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM, errno.EAGAIN,
                                      errno.ECONNABORTED, errno.EPROTO, errno.EPERM})
_ACCEPT_BACKOFF = 0.05  # seconds: long enough not to spin, short enough that freed descriptors are used at once


class _Budget:
    """The bytes of request bodies held in memory, across connections, against `ServeLimits.max_buffered_bytes`."""

    def __init__(self, limit: int) -> None:
        self.limit, self.held = limit, 0
        self._lock = threading.Lock()

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



class _Refusal(Exception):
    """The HTTP layer refuses the request before it reaches the service (400, 408, 413, 431, 503)."""

    def __init__(self, status: int, message: str, headers: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.status, self.headers = status, headers


class _Held:
    """What one connection holds of the shared `_Budget`: returned when its request has been answered."""

    def __init__(self, budget: _Budget) -> None:
        self.budget, self.n = budget, 0

    def take(self, n: int, limits: ServeLimits) -> None:
        if not self.budget.take(n):
            raise _Refusal(503, f"the server holds {limits.max_buffered_bytes} bytes of request bodies already; "
                                f"retry in {limits.retry_after} s", [("Retry-After", str(limits.retry_after))])
        self.n += n

    def release(self) -> None:
        self.budget.give(self.n)
        self.n = 0


def _request_events(conn: Any, sock: Any, limits: ServeLimits, held: _Held,
                    relayed: Callable[[list[tuple[str, str]]], bool]) -> Iterator[Any]:
    """One request's h11 events as they arrive (Request, Data..., EndOfMessage), the limits enforced
    (raises _Refusal); none when the client closes or idles out before sending a request. The body's
    bytes are reserved in `held` as they arrive, unless `relayed(headers)` says the app holds none of them:
    such a body is bounded by neither the body limit nor the buffered-bytes budget."""
    deadline: float | None = None
    size = 0
    bounded = True
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            remaining = limits.client_timeout if deadline is None else deadline - time.monotonic()
            if remaining <= 0:
                raise _Refusal(408, f"the request did not arrive within {limits.client_timeout:g} s")
            sock.settimeout(remaining)
            try:
                data = sock.recv(65536)
            except TimeoutError:
                if deadline is None:
                    return  # idle keep-alive connection: close quietly
                raise _Refusal(408, f"the request did not arrive within {limits.client_timeout:g} s") from None
            if deadline is None and data:
                deadline = time.monotonic() + limits.client_timeout
            conn.receive_data(data)
        elif isinstance(event, h11.Request):
            # h11 bounds a head that arrives in pieces; one that arrives whole is measured here.
            head_size = len(event.target) + sum(len(n) + len(v) + 4 for n, v in event.headers.raw_items())
            if head_size > limits.max_header_bytes:
                raise _Refusal(431, f"the request head ({head_size} bytes) is over the "
                                    f"{limits.max_header_bytes}-byte limit")
            fields = dict(event.headers)
            if b"content-length" in fields and b"transfer-encoding" in fields:
                # RFC 9112 6.1: a request with both may be an attempt at request smuggling; answer it as an
                # error and close, so nothing after it on this connection is read as a request of its own.
                raise _Refusal(400, "the request has both Content-Length and Transfer-Encoding (RFC 9112 6.1)")
            length = fields.get(b"content-length")
            bounded = not relayed(_text_headers(event))
            if bounded and length is not None and int(length) > limits.max_body_bytes:
                raise _Refusal(413, f"the body ({int(length)} bytes) is over the {limits.max_body_bytes}-byte limit")
            if conn.they_are_waiting_for_100_continue:
                sock.sendall(conn.send(h11.InformationalResponse(status_code=100, headers=[])))
            yield event
        elif isinstance(event, h11.Data) and not bounded:
            yield event
        elif isinstance(event, h11.Data):
            held.take(len(event.data), limits)
            size += len(event.data)
            if size > limits.max_body_bytes:
                raise _Refusal(413, f"the body is over the {limits.max_body_bytes}-byte limit")
            yield event
        elif isinstance(event, h11.EndOfMessage):
            yield event
            return
        elif isinstance(event, h11.ConnectionClosed):
            return


def _text_headers(head: h11.Request) -> list[tuple[str, str]]:
    return [(n.decode("latin-1"), v.decode("utf-8", "surrogateescape")) for n, v in head.headers.raw_items()]


def _held_body(headers: list[tuple[str, str]]) -> bool:
    return False


def _read_request(conn: Any, sock: Any, limits: ServeLimits, held: _Held, streaming: bool = False,
                  relayed: Callable[[list[tuple[str, str]]], bool] = _held_body,
                  ) -> tuple[str, str, list[tuple[str, str]], bytes | Iterator[bytes]] | None:
    """The next request's (method, target, headers, body); None when the client closed or idled out.

    The body is bytes, or with `streaming` an iterator that reads it as it is consumed; its bytes are
    reserved in `held` as they arrive, unless `relayed(headers)` (see `App`).
    """
    events = _request_events(conn, sock, limits, held, relayed if streaming else _held_body)
    head = next(events, None)
    if not isinstance(head, h11.Request):
        return None
    chunks = (bytes(event.data) for event in events if isinstance(event, h11.Data))
    return (head.method.decode("ascii"), head.target.decode("utf-8", "surrogateescape"), _text_headers(head),
            chunks if streaming else b"".join(chunks))


def _reason(status: int) -> str:
    return HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""


_date_cache: tuple[int, str] = (0, "")


def _date() -> str:
    """The Date header's value now: formatted once a second, not per response."""
    global _date_cache
    now = int(time.time())
    second, text = _date_cache
    if second != now:
        text = formatdate(now, usegmt=True)
        _date_cache = (now, text)  # one assignment: threads see either the old pair or the new one
    return text


def _send_response(conn: Any, sock: Any, status: int, headers: Sequence[tuple[str, str]], body: bytes, *,
                   head: bool = False) -> None:
    framing = [("Content-Length", str(len(body))), ("Date", _date())]
    # One write per response: a head and body sent apart meet Nagle and delayed ACKs (+40 ms each).
    data = conn.send(h11.Response(status_code=status, headers=[*headers, *framing], reason=_reason(status)))
    # The answer to HEAD declares its body's length but carries no body (h11 refuses one).
    payload = conn.send(h11.Data(data=body)) if body and not head else b""
    sock.sendall(data + payload + conn.send(h11.EndOfMessage()))


def _send_streamed(conn: Any, sock: Any, status: int, headers: Sequence[tuple[str, str]], chunks: Iterable[bytes],
                   *, head: bool = False) -> None:
    """Send a reply whose body arrives in pieces: framed by the app's Content-Length, else chunked."""
    response = h11.Response(status_code=status, headers=[*headers, ("Date", _date())],
                            reason=_reason(status))
    sock.sendall(conn.send(response))
    for chunk in chunks:
        if chunk and not head:
            sock.sendall(conn.send(h11.Data(data=chunk)))
    sock.sendall(conn.send(h11.EndOfMessage()))


def _refuse(conn: Any, sock: Any, status: int, message: str, code: str | None = None, *, head: bool = False,
            extra: Sequence[tuple[str, str]] = ()) -> None:
    if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
        return
    headers = [("Content-Type", "application/json"), ("Connection", "close"), *extra]
    try:
        _send_response(conn, sock, status, [*headers, *([("x-amzn-ErrorType", code)] if code else [])],
                       json.dumps({"message": message}).encode(), head=head)
        _linger(sock)
    except (h11.LocalProtocolError, OSError):
        pass


def _linger(sock: Any, seconds: float = 0.5, most: int = 4 << 20) -> None:
    """Read and drop what the client is still sending, briefly: closing with unread input makes
    the kernel send a reset, which can destroy the refusal before the client reads it."""
    sock.shutdown(socket.SHUT_WR)
    deadline, dropped = time.monotonic() + seconds, 0
    while dropped < most and (remaining := deadline - time.monotonic()) > 0:
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            return
        if not chunk:
            return
        dropped += len(chunk)


def serve_connection(sock: Any, peer: str, app: App, limits: ServeLimits, stopping: Any,
                     budget: _Budget | None = None) -> None:
    """Serve requests on one connection until it closes, errs, idles out or the server stops.

    `budget`: the request-body bytes shared with other connections (default: this connection's own).
    """
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=limits.max_header_bytes)
    streaming = bool(getattr(app, "streaming", False))
    held = _Held(budget or _Budget(limits.max_buffered_bytes))
    try:
        while not stopping.is_set():
            held.release()  # the previous request has been answered: its body is no longer held
            try:
                received = _read_request(conn, sock, limits, held, streaming, getattr(app, "relays_body", _held_body))
                if received is None:
                    return
                method, target, headers, body = received
                try:
                    reply = app.respond(sigv4.Request(method, target, headers, body), peer)
                    if not isinstance(body, bytes):
                        for _ in body:  # what a streaming app left unread
                            pass
                except (_Refusal, h11.RemoteProtocolError):
                    raise  # the body broke a limit or the protocol while the app read it
                except Exception as err:  # a bug must cost one request, not the server
                    app.log(f"serve: internal error on {method} {target}: {err!r}")
                    _refuse(conn, sock, 500, "The local endpoint failed; the call may have been applied; see its log.",
                            "InternalServerException", head=method == "HEAD")
                    return
            except _Refusal as refusal:
                _refuse(conn, sock, refusal.status, str(refusal), extra=refusal.headers)
                return
            except h11.RemoteProtocolError as err:
                _refuse(conn, sock, err.error_status_hint, f"malformed HTTP/1.1 request: {err}")
                return
            if isinstance(reply.body, bytes):
                _send_response(conn, sock, reply.status, reply.headers, reply.body, head=method == "HEAD")
            else:
                try:
                    _send_streamed(conn, sock, reply.status, reply.headers, reply.body, head=method == "HEAD")
                except OSError:
                    raise
                except Exception as err:  # the app's body failed half-way: the client sees the connection close
                    app.log(f"serve: reply to {method} {target} cut short: {err}")
                    return
            if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                return
            conn.start_next_cycle()
    except OSError:
        return  # the client went away
    finally:
        held.release()
        sock.close()


class LocalServer:
    """The accept loop: a listening socket and one thread per connection, at most `limits.max_connections`.

    Memory is bounded by max_connections x (max_header_bytes + 64 KiB read buffer + a thread)
    + max_buffered_bytes of request bodies.
    """

    def __init__(self, app: App, host: str = "127.0.0.1", port: int = 0,
                 limits: ServeLimits = ServeLimits()) -> None:
        self.app, self.limits = app, limits
        self._listener = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
        self._listener.settimeout(0.2)  # accept() wakes up this often to notice stop()
        self.host, self.port = self._listener.getsockname()[:2]
        self._stopping = threading.Event()
        self._live: dict[Any, threading.Thread] = {}
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(limits.max_connections)
        self._budget = _Budget(limits.max_buffered_bytes)
        self._accept_trouble: int | None = None  # the errno last logged, so a run of failures logs once
        self._acceptor = threading.Thread(target=self._accept, name="serve-accept", daemon=True)

    @property
    def url(self) -> str:
        return f"http://[{self.host}]:{self.port}" if ":" in self.host else f"http://{self.host}:{self.port}"

    def start(self) -> "LocalServer":
        self._acceptor.start()
        return self

    def _accept(self) -> None:
        while not self._stopping.is_set():
            # At the connection limit, stop accepting until a connection closes: new clients wait in
            # the kernel's backlog, and the admitted ones keep their threads and their share of the budget.
            if not self._slots.acquire(timeout=0.2):
                continue
            try:
                sock, peer = self._listener.accept()
            except TimeoutError:
                self._slots.release()
                continue
            except OSError as err:
                self._slots.release()
                if self._stopping.is_set():
                    return
                self._accept_failed(err)
                continue
            self._accept_trouble = None
            if not self._start(sock, peer[0]):
                self._slots.release()

    def _accept_failed(self, err: OSError) -> None:
        """Log a run of accept() failures once, back off briefly, and go on: the listener itself is fine
        (descriptors, buffers or memory ran out for now, or one client gave up)."""
        if err.errno == errno.ECONNABORTED:  # that client is gone; the next one is waiting
            return
        if err.errno != self._accept_trouble:
            self._accept_trouble = err.errno
            name = errno.errorcode.get(err.errno or 0, str(err.errno))
            transient = "" if err.errno in _TRANSIENT_ACCEPT_ERRORS else " (unexpected)"
            self.app.log(f"serve: accept failed{transient}: {name} ({err.strerror}); backing off and retrying; "
                         "connections are served again once resources are free")
        time.sleep(_ACCEPT_BACKOFF)

    def _start(self, sock: Any, peer: str) -> bool:
        """Serve `sock` on a thread of its own; False (the socket closed) when no thread can be started."""
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            thread = threading.Thread(target=self._run, args=(sock, peer), daemon=True)
            with self._lock:
                self._live[sock] = thread
            thread.start()
            return True
        except (OSError, RuntimeError) as err:  # RuntimeError: "can't start new thread"
            with self._lock:
                self._live.pop(sock, None)
            sock.close()
            self._accept_failed(err if isinstance(err, OSError) else OSError(errno.EAGAIN, str(err)))
            return False

    def _run(self, sock: Any, peer: str) -> None:
        try:
            serve_connection(sock, peer, self.app, self.limits, self._stopping, self._budget)
        finally:
            with self._lock:
                self._live.pop(sock, None)
            self._slots.release()

    def stop(self) -> None:
        """Stop accepting, let in-flight requests finish, close idle connections."""
        self._stopping.set()
        self._acceptor.join()
        self._listener.close()
        with self._lock:
            live = list(self._live.items())
        for sock, _ in live:
            try:
                sock.shutdown(socket.SHUT_RD)  # wakes a recv() waiting for the next request
            except OSError:
                pass
        for _, thread in live:
            thread.join(self.limits.client_timeout + 1)

    def __enter__(self) -> "LocalServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


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
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.2) and not done():
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
