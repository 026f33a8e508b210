"""The HTTP/1.1 client of the edge: a `sigv4.Request` out, an `Exchange` (status, headers, body, raw bytes, timing) back.

Strategy: h11 frames the bytes, this module owns the sockets. The request goes
out with exactly the user's headers, order and casing; only a missing Host or
Content-Length is added (and reported in `Exchange.added_headers`). Proxies
come from HTTPS_PROXY/HTTP_PROXY/NO_PROXY in the `env` mapping passed in (an
https origin is tunnelled with CONNECT, so TLS runs end to end). Failures to
connect, TLS failures and timeouts raise `NetworkError`; a request that cannot
be sent as HTTP/1.1 (bad port, bad header bytes) raises `RequestError`.
"""

from __future__ import annotations

import argparse
import os
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import h11

import sigv4


class NetworkError(Exception):
    """Connecting, TLS or reading failed: printed as one line, exit status 3."""


class NotTLSError(NetworkError):
    """The TLS handshake met a reply that is not TLS: the server speaks plain HTTP on that port."""


#: OpenSSL's reasons for a handshake answered with plain HTTP bytes (before and since OpenSSL 3.2).
PLAIN_HTTP_REPLIES = frozenset({"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE"})


class RequestError(ValueError):
    """The request cannot be sent as given (a bad authority, bytes HTTP/1.1 refuses): the caller's input is at fault."""


@dataclass(frozen=True)
class TransportOptions:
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    ca_bundle: str | None = None
    insecure: bool = False


def ca_bundle(text: str) -> str:
    """A `--ca-bundle` flag's value (argparse `type=`): the path of a PEM file of CA certificates, read now, so that a
    missing or unreadable bundle is refused at start, not by every TLS connection later. Raises
    `argparse.ArgumentTypeError` saying why."""
    try:
        ssl.create_default_context(cafile=text)
    except (OSError, ssl.SSLError) as err:  # a missing file, a directory; not PEM (NO_CERTIFICATE_OR_CRL_FOUND)
        raise argparse.ArgumentTypeError(f"{text}: {err.strerror or err}") from None
    return text


def seconds(text: str) -> float:
    """A timeout flag's value (argparse `type=`, whose error names this function: "invalid seconds value"):
    a number of seconds above 0 and at most 1e9; raises ValueError for anything else (`nan`, `-1`, `1e400`),
    which the socket layer would take as no timeout, non-blocking, or a crash."""
    value = float(text)
    if not 0 < value <= 1e9:
        raise ValueError(f"{text!r} is not a number of seconds above 0")
    return value


@dataclass
class Exchange:
    """One request/response on the wire, with timing (seconds) and the raw bytes seen."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    sent: bytearray
    received: bytearray
    timing: dict[str, float]
    added_headers: list[tuple[str, str]]


def split_authority(authority: str, scheme: str) -> tuple[str, int]:
    """(host, port) of `host[:port]`, IPv6 literals in brackets, default port by scheme."""
    authority = authority.rpartition("@")[2]
    if authority.startswith("["):
        host, _, rest = authority[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = authority.partition(":")
    if port and not (port.isascii() and port.isdigit() and int(port) <= 65535):  # 70000 would wrap to 4464
        raise RequestError(f"URL authority {authority!r}: port {port!r} is not a number from 0 to 65535")
    return host, int(port) if port else (443 if scheme == "https" else 80)


def proxy_for(scheme: str, host: str, env: Mapping[str, str]) -> str | None:
    """The proxy URL from HTTPS_PROXY/HTTP_PROXY unless NO_PROXY matches `host`."""
    def get(name: str) -> str:
        return env.get(name) or env.get(name.lower()) or ""
    for entry in filter(None, (e.strip() for e in get("NO_PROXY").split(","))):
        if entry == "*" or host == entry.lstrip(".") or host.endswith("." + entry.lstrip(".")):
            return None
    return get("HTTPS_PROXY" if scheme == "https" else "HTTP_PROXY") or None


def tls_context(options: TransportOptions, warn: Callable[[str], None]) -> ssl.SSLContext:
    """The system's trust store (or `ca_bundle`); `insecure` turns checking off, with a warning."""
    context = ssl.create_default_context(cafile=options.ca_bundle)
    if options.insecure:
        warn("sigv4: warning: --insecure: the server's TLS certificate is not checked")
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class Connection:
    """A keep-alive HTTP/1.1 connection to one origin (through a proxy when the environment says so)."""

    def __init__(self, scheme: str, authority: str, options: TransportOptions, env: Mapping[str, str],
                 warn: Callable[[str], None] = lambda _: None) -> None:
        self.scheme, self.authority, self.options = scheme, authority, options
        self.host, self.port = split_authority(authority, scheme)
        self.proxy = proxy_for(scheme, self.host, env)
        self._warn = warn
        self._sock: Any = None
        self._conn: Any = None

    def _open(self, sent: bytearray, received: bytearray) -> None:
        target_host, target_port = self.host, self.port
        if self.proxy:
            proxy = sigv4.Request("GET", self.proxy)
            target_host, target_port = split_authority(proxy.authority, proxy.scheme or "http")
        try:
            sock = socket.create_connection((target_host, target_port), timeout=self.options.connect_timeout)
        except OSError as err:
            raise NetworkError(f"cannot connect to {target_host}:{target_port}: {err.strerror or err}") from None
        sock.settimeout(self.options.read_timeout)
        # Head and body go out in separate writes; without NODELAY, Nagle waits for the server's delayed ACK.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.proxy and self.scheme == "https":
            sock = self._tunnel(sock, sent, received)
        if self.scheme == "https":
            try:
                sock = tls_context(self.options, self._warn).wrap_socket(sock, server_hostname=self.host)
            except ssl.SSLError as err:
                sock.close()
                failure = NotTLSError if err.reason in PLAIN_HTTP_REPLIES else NetworkError
                raise failure(f"TLS with {self.host}:{self.port} failed: {err.reason or err}") from None
            except OSError as err:
                sock.close()
                raise NetworkError(f"TLS with {self.host}:{self.port} failed: {err}") from None
        self._sock = sock
        self._conn = h11.Connection(h11.CLIENT)

    def _tunnel(self, sock: Any, sent: bytearray, received: bytearray) -> Any:
        """CONNECT through the proxy, so TLS runs end to end with the origin."""
        conn = h11.Connection(h11.CLIENT)
        origin = f"{self.host}:{self.port}" if ":" not in self.host else f"[{self.host}]:{self.port}"
        data = conn.send(h11.Request(method="CONNECT", target=origin, headers=[("Host", origin)]))
        sent += data
        sock.sendall(data)
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                chunk = sock.recv(65536)
                received += chunk
                conn.receive_data(chunk)
                continue
            if isinstance(event, h11.Response):
                if event.status_code != 200:
                    raise NetworkError(f"proxy {self.proxy} refused CONNECT {origin}: HTTP {event.status_code}")
                return sock
            if event is h11.PAUSED or isinstance(event, h11.ConnectionClosed):  # would be answered again and again
                raise NetworkError(f"proxy {self.proxy} closed the connection before answering CONNECT {origin}")

    @property
    def is_open(self) -> bool:
        """Whether a socket is open (a kept-alive connection the next request reuses)."""
        return self._sock is not None

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock = self._conn = None

    def request(self, request: sigv4.Request, *, sink: Any = None) -> Exchange:
        """Send `request` and read the whole response.

        The body is streamed as it comes (bytes, a binary file, or an iterator
        of bytes such as an aws-chunked stream); a missing Content-Length is the
        length of bytes or the size of a file, and an iterator's pieces without
        one go as `Transfer-Encoding: chunked`. The response body goes to `sink`
        (a binary file) when given, else into `Exchange.body`. Raises
        NetworkError (connecting, TLS, timeouts, a reply that is not HTTP/1.1)
        or RequestError (the request cannot be sent as HTTP/1.1).
        """
        sent, received = bytearray(), bytearray()
        started = time.perf_counter()
        with self._failures():
            added, connected = self._send_request(request, sent, received)
            response, data = self._read_response(received, sink)
        done = time.perf_counter()
        self._finish()
        return Exchange(
            status=response.status_code, reason=response.reason.decode("latin-1"),
            headers=_headers(response), body=data, sent=sent, received=received, added_headers=added,
            timing={"connect_s": connected - started, "total_s": done - started},
        )

    def stream(self, request: sigv4.Request) -> Streamed:
        """Send `request` (its body streamed as for `request`) and read the response head; the response
        body is read as `Streamed.chunks` is iterated.

        Nothing is recorded (no `sent`/`received` copies), so bodies of any size pass in bounded memory.
        Iterate `chunks` to its end (or close the connection) before the next request. Raises as `request`
        does, from this call or from the iteration.
        """
        with self._failures():
            self._send_request(request, None, None)
            events = self._events(None)
            response = next((e for e in events if isinstance(e, (h11.Response, h11.ConnectionClosed))), None)
            if not isinstance(response, h11.Response):
                raise NetworkError("the server closed the connection without a response")
        return Streamed(response.status_code, response.reason.decode("latin-1"), _headers(response),
                        self._body(events))

    def _body(self, events: Iterator[Any]) -> Iterator[bytes]:
        with self._failures():
            for event in events:
                if isinstance(event, h11.Data):
                    yield bytes(event.data)
                elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                    break
        self._finish()

    @contextmanager
    def _failures(self) -> Iterator[None]:
        """h11, socket and timeout failures as RequestError/NetworkError; the connection is closed after one."""
        try:
            yield
        except h11.LocalProtocolError as err:
            self.close()
            raise RequestError(f"request cannot be sent as HTTP/1.1: {err}") from None
        except UnicodeEncodeError as err:  # h11 writes a str header or target as ASCII
            self.close()
            raise RequestError(f"request cannot be sent as HTTP/1.1: {err.object[err.start:err.end]!r} in a header "
                               "or the target is not ASCII") from None
        except h11.RemoteProtocolError as err:
            self.close()
            raise NetworkError(f"the server's response is not valid HTTP/1.1: {err}") from None
        except TimeoutError:
            self.close()
            raise NetworkError(f"no response from {self.host}:{self.port} within {self.options.read_timeout:g} s") from None
        except OSError as err:
            self.close()
            raise NetworkError(f"connection to {self.host}:{self.port} failed: {err.strerror or err}") from None

    def _send_request(self, request: sigv4.Request, sent: bytearray | None,
                      received: bytearray | None) -> tuple[list[tuple[str, str]], float]:
        """Open the connection when needed and send the whole request; (headers added, time connected).
        `sent`/`received` record the bytes (None: not kept)."""
        if self._conn is None or self._conn.our_state is not h11.IDLE:
            self.close()
            self._open(bytearray() if sent is None else sent, bytearray() if received is None else received)
        connected = time.perf_counter()
        headers, added = list(request.headers), []
        if request.header("host") is None:
            added.append(("Host", self.authority))
        body = request.body
        size = len(body) if isinstance(body, bytes) else os.fstat(body.fileno()).st_size if hasattr(body, "fileno") \
            else None
        if request.header("content-length") is None and request.header("transfer-encoding") is None:
            if size is None:  # pieces of a length not known ahead (a relayed chunked upload): framed as chunks
                added.append(("Transfer-Encoding", "chunked"))
            elif size or request.method in ("POST", "PUT", "PATCH"):
                added.append(("Content-Length", str(size)))
        target = request.url if self.proxy and self.scheme == "http" else request.target
        head = h11.Request(method=request.method, target=target, headers=[*headers, *added])
        if isinstance(body, bytes):  # one write for the whole request: one syscall and one wake-up of the server
            self._send(sent, head, *([h11.Data(data=body)] if body else []), h11.EndOfMessage())
            return added, connected
        # Small pieces (an aws-chunked frame's header line) go out with the data after them: a write each would
        # cost a syscall and a segment of its own (TCP_NODELAY) for a few bytes.
        # h11 frames each write's pieces as one Data event (it only takes their len(): see `_Pieces`).
        events: list[Any] = [head]
        pieces: list[bytes] = []
        size = 0
        for chunk in sigv4.types.iter_body(body):
            if chunk:
                pieces.append(chunk)
                size += len(chunk)
            if size >= _WRITE_SIZE:
                self._send(sent, *events, _Pieces(pieces, size).event())
                events, pieces, size = [], [], 0
        self._send(sent, *events, *([_Pieces(pieces, size).event()] if pieces else []), h11.EndOfMessage())
        return added, connected

    def _finish(self) -> None:
        """Keep the connection for the next request when both sides are done with this one, else close it."""
        if self._conn is not None and self._conn.our_state is h11.DONE and self._conn.their_state is h11.DONE:
            self._conn.start_next_cycle()
        else:
            self.close()

    def _send(self, sent: bytearray | None, *events: Any) -> None:
        pieces: list[Any] = []
        for event in events:
            for piece in self._conn.send_with_data_passthrough(event) or ():
                if isinstance(piece, _Pieces):
                    pieces += piece.pieces
                elif piece:
                    pieces.append(piece)
        if sent is not None:
            for piece in pieces:
                sent += piece
        if type(self._sock) is socket.socket:  # plain TCP: one gathering write, no copy into one buffer
            _send_all(self._sock, [memoryview(piece) for piece in pieces])
        elif pieces:
            self._sock.sendall(b"".join(pieces))

    def _events(self, received: bytearray | None) -> Iterator[Any]:
        """The response's h11 events, reading from the socket as needed (and recording into `received`).

        They end where h11 pauses: the server switched protocols (a 2xx to CONNECT, a 101), so what follows
        is not HTTP, and h11 would answer PAUSED forever (a caller waiting for the end of the body would spin).
        """
        while True:
            event = self._conn.next_event()
            if event is h11.NEED_DATA:
                chunk = self._sock.recv(65536)
                if not chunk and self._conn.their_state is h11.SEND_RESPONSE:  # h11 would name its own states
                    raise NetworkError("the server closed the connection without a response")
                if received is not None:
                    received += chunk
                self._conn.receive_data(chunk)
                continue
            if event is h11.PAUSED:
                return
            yield event

    def _read_response(self, received: bytearray, sink: Any) -> tuple[Any, bytes]:
        response, parts = None, []
        for event in self._events(received):
            if isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                if sink is not None:
                    sink.write(event.data)
                else:
                    parts.append(bytes(event.data))
            elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                break
        if response is None:
            raise NetworkError("the server closed the connection without a response")
        return response, b"".join(parts)


def _send_all(sock: socket.socket, views: list[memoryview]) -> None:
    """Write all of `views` with `sendmsg`, as many at once as the socket takes (sendall's loop, gathering)."""
    while views:
        sent = sock.sendmsg(views)
        while views and sent >= len(views[0]):
            sent -= len(views.pop(0))
        if sent:
            views[0] = views[0][sent:]


#: Bytes of a streamed request body gathered into one write (a piece this large or larger goes out at once).
_WRITE_SIZE = 32 * 1024


class _Pieces:
    """Pieces of a body sent in one gathering write, framed by h11 as one `Data` event: h11 takes only the len()
    of a placeholder and hands it back from `send_with_data_passthrough` (its documented way to sendfile), so a
    write costs one h11 event however many pieces it gathers."""

    __slots__ = ("pieces", "size")

    def __init__(self, pieces: list[bytes], size: int) -> None:
        self.pieces, self.size = pieces, size

    def __len__(self) -> int:
        return self.size

    def event(self) -> h11.Data:
        return h11.Data(data=self)  # type: ignore[arg-type]  # a placeholder, as h11's sendfile support has it


def _headers(response: Any) -> list[tuple[str, str]]:
    return [(n.decode("latin-1"), v.decode("latin-1")) for n, v in response.headers.raw_items()]


@dataclass
class Streamed:
    """A response whose body is read as `chunks` is iterated (see `Connection.stream`)."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    chunks: Iterator[bytes]


def send_request(request: sigv4.Request, options: TransportOptions, env: Mapping[str, str],
                 warn: Callable[[str], None], *, sink: Any = None) -> Exchange:
    """One request on a fresh connection (`Connection.request`); RequestError for a URL that is not http(s)."""
    if request.scheme not in ("http", "https"):
        raise RequestError(f"URL {request.url!r}: needs an http:// or https:// endpoint (use --endpoint)")
    connection = Connection(request.scheme, request.authority, options, env, warn)
    try:
        return connection.request(request, sink=sink)
    finally:
        connection.close()


