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

import os
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import h11

import sigv4


class RequestError(ValueError):
    """The request cannot be sent as given (a bad authority, bytes HTTP/1.1 refuses): the caller's input is at fault."""


class NetworkError(Exception):
    """Connecting, TLS or reading failed: printed as one line, exit status 3."""


@dataclass(frozen=True)
class TransportOptions:
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    ca_bundle: str | None = None
    insecure: bool = False


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
    if port and not port.isdigit():
        raise RequestError(f"URL authority {authority!r}: port {port!r} is not a number")
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
                raise NetworkError(f"TLS with {self.host}:{self.port} failed: {err.reason or err}") from None
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

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock = self._conn = None

    def request(self, request: sigv4.Request, *, body_file: Any = None, sink: Any = None) -> Exchange:
        """Send `request` (its body, or `body_file` streamed) and read the whole response.

        The body goes to `sink` (a binary file) when given, else into `Exchange.body`.
        """
        sent, received = bytearray(), bytearray()
        started = time.perf_counter()
        if self._conn is None or self._conn.our_state is not h11.IDLE:
            self.close()
            self._open(sent, received)
        connected = time.perf_counter()
        headers, added = list(request.headers), []
        if request.header("host") is None:
            added.append(("Host", self.authority))
        body = request.body if isinstance(request.body, bytes) else b""
        if request.header("content-length") is None and request.header("transfer-encoding") is None \
                and (body or body_file is not None or request.method in ("POST", "PUT", "PATCH")):
            size = os.fstat(body_file.fileno()).st_size if body_file is not None else len(body)
            added.append(("Content-Length", str(size)))
        target = request.url if self.proxy and self.scheme == "http" else request.target
        try:
            self._send(h11.Request(method=request.method, target=target, headers=[*headers, *added]), sent)
            for chunk in sigv4.types.iter_body(body_file if body_file is not None else body):
                self._send(h11.Data(data=chunk), sent)
            self._send(h11.EndOfMessage(), sent)
            response, data = self._read_response(received, sink)
        except h11.LocalProtocolError as err:
            self.close()
            raise RequestError(f"request cannot be sent as HTTP/1.1: {err}") from None
        except h11.RemoteProtocolError as err:
            self.close()
            raise NetworkError(f"the server's response is not valid HTTP/1.1: {err}") from None
        except TimeoutError:
            self.close()
            raise NetworkError(f"no response from {self.host}:{self.port} within {self.options.read_timeout:g} s") from None
        except OSError as err:
            self.close()
            raise NetworkError(f"connection to {self.host}:{self.port} failed: {err.strerror or err}") from None
        done = time.perf_counter()
        if self._conn.our_state is h11.DONE and self._conn.their_state is h11.DONE:
            self._conn.start_next_cycle()
        else:
            self.close()
        return Exchange(
            status=response.status_code, reason=response.reason.decode("latin-1"),
            headers=[(n.decode("latin-1"), v.decode("latin-1")) for n, v in response.headers.raw_items()],
            body=data, sent=sent, received=received, added_headers=added,
            timing={"connect_s": connected - started, "total_s": done - started},
        )

    def _send(self, event: Any, sent: bytearray) -> None:
        data = self._conn.send(event)
        if data:
            sent += data
            self._sock.sendall(data)

    def _read_response(self, received: bytearray, sink: Any) -> tuple[Any, bytes]:
        response, parts = None, []
        while True:
            event = self._conn.next_event()
            if event is h11.NEED_DATA:
                chunk = self._sock.recv(65536)
                received += chunk
                self._conn.receive_data(chunk)
            elif isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                if sink is not None:
                    sink.write(event.data)
                else:
                    parts.append(bytes(event.data))
            elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                if response is None:
                    raise NetworkError("the server closed the connection without a response")
                return response, b"".join(parts)


def send_request(request: sigv4.Request, options: TransportOptions, env: Mapping[str, str],
                 warn: Callable[[str], None], **kwargs: Any) -> Exchange:
    if request.scheme not in ("http", "https"):
        raise RequestError(f"URL {request.url!r}: needs an http:// or https:// endpoint (use --endpoint)")
    connection = Connection(request.scheme, request.authority, options, env, warn)
    try:
        return connection.request(request, **kwargs)
    finally:
        connection.close()


