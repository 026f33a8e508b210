"""The HTTP edge through its own modules: `wire.transport.client` against a loopback server, and
`wire.transport.server` with an app of its own against a raw socket (no `cli.main`, no Account service)."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

import sigv4
from local_http import http_server
from verifying_server import verifying_server
from wire.transport.client import (Connection, NotTLSError, RequestError, TransportOptions, proxy_for, send_request,
                                   split_authority)
from wire.transport.server import LocalServer, ServeLimits


def test_client_streams_an_iterator_body_and_sizes_a_file_body(tmp_path: Path) -> None:
    with http_server() as (url, recorder):
        authority = url.partition("//")[2]
        connection = Connection("http", authority, TransportOptions(), {})
        try:
            chunks = iter([b"ab", b"", b"cde"])  # e.g. an aws-chunked stream: read lazily, once
            request = sigv4.Request("PUT", f"{url}/k", [("Content-Length", "5")], chunks)
            assert connection.request(request).body == b"got 5"
            path = tmp_path / "body.bin"
            path.write_bytes(b"x" * 70000)
            with path.open("rb") as body:
                exchange = connection.request(sigv4.Request("PUT", f"{url}/f", [], body))
            assert exchange.body == b"got 70000" and ("Content-Length", "70000") in exchange.added_headers
        finally:
            connection.close()
    assert recorder.connections == 1 and [b for _, b in recorder.requests] == [b"abcde", b"x" * 70000]


def test_client_names_a_plain_http_server_behind_https() -> None:
    with verifying_server({}) as server:  # http.server answers a TLS hello with an HTTP 400
        request = sigv4.Request("GET", server.url.replace("http://", "https://") + "/")
        with pytest.raises(NotTLSError, match="TLS with 127.0.0.1"):
            send_request(request, TransportOptions(), {}, lambda _: None)


def test_client_refuses_what_it_cannot_send() -> None:
    with pytest.raises(RequestError, match="port 'x'"):
        split_authority("example.com:x", "https")
    with pytest.raises(RequestError, match="http:// or https://"):
        send_request(sigv4.Request("GET", "ftp://example.com/"), TransportOptions(), {}, lambda _: None)
    env = {"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": ".internal,localhost"}
    assert proxy_for("https", "api.internal", env) is None and proxy_for("https", "example.com", env) == env["HTTPS_PROXY"]


@dataclass(frozen=True)
class Reply:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


class EchoApp:
    """The smallest app the server takes: echoes method, target and body length."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.log = self.lines.append

    def respond(self, request: sigv4.Request, source_ip: str) -> Reply:
        body = request.body if isinstance(request.body, bytes) else b""
        return Reply(200, (("Content-Type", "text/plain"),), f"{request.method} {request.target} {len(body)}".encode())


def exchange(server: LocalServer, data: bytes) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def test_server_serves_any_app_and_refuses_at_the_http_layer() -> None:
    with LocalServer(EchoApp(), limits=ServeLimits(max_body_bytes=10)) as server:
        ok = exchange(server, b"POST /a?b=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
        assert ok.startswith(b"HTTP/1.1 200 ") and ok.endswith(b"POST /a?b=1 3")
        assert exchange(server, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n").startswith(b"HTTP/1.1 413 ")
        assert exchange(server, b"NOT HTTP\r\n\r\n").startswith(b"HTTP/1.1 400 ")
