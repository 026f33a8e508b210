"""Idle and slow connections do not keep new clients out, of `sigv4 serve` (the event loop) or of `sigv4 proxy`
(a thread per connection): at the connection limit the connection free longest (idle, or its head still
arriving) gives its slot to the new client, and a request head has a deadline of its own. Each test failed
before its fix (new clients waited for the idle ones to time out; a dripping head held its slot for the whole
client timeout)."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

import sigv4
from sigv4.integrations import static
from tests.flood import flooding
from tests.serve_fixtures import DEFAULT, serving
from wire.transport.proxy import SigningProxy
from wire.transport.server import LocalServer, ServeLimits

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

UNSIGNED = b"POST /listRegions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
CREDS = sigv4.Credentials(DEFAULT["access_key_id"], DEFAULT["secret_access_key"])


@contextmanager
def front(kind: str, tmp_path: Path, limits: ServeLimits) -> Iterator[LocalServer]:
    """`sigv4 serve` with `limits`, or `sigv4 proxy` with `limits` in front of it (the proxy signs what it
    forwards, so an unsigned request is answered 200 through it, 403 by the endpoint itself)."""
    with serving(tmp_path, limits=limits if kind == "serve" else ServeLimits()) as running:
        if kind == "serve":
            yield running.server
            return
        app = SigningProxy(running.url, "account", "us-east-1", static(CREDS), {}, lambda line: None)
        server = LocalServer(app, "127.0.0.1", 0, limits).start()
        try:
            yield server
        finally:
            server.stop()


KINDS = pytest.mark.parametrize("kind", ["serve", "proxy"])


def _connect(server: LocalServer) -> socket.socket:
    return socket.create_connection((server.host, server.port), timeout=5)


def _answered(sock: socket.socket) -> bytes:
    """The status line of the answer to an UNSIGNED request sent on `sock`."""
    sock.sendall(UNSIGNED)
    received = b""
    while not received.endswith(b"}"):
        chunk = sock.recv(65536)
        assert chunk, received
        received += chunk
    return received.partition(b"\r\n")[0]


def _closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


@KINDS
def test_at_the_limit_the_connection_free_longest_gives_its_slot_to_a_new_client(kind: str, tmp_path: Path) -> None:
    with front(kind, tmp_path, ServeLimits(max_connections=3)) as server:
        oldest = _connect(server)
        assert _answered(oldest).startswith(b"HTTP/1.1 ")  # then idle
        slow = _connect(server)
        slow.sendall(UNSIGNED[:20])  # a head that has not arrived whole: no request the server can act on
        newest = _connect(server)
        assert _answered(newest).startswith(b"HTTP/1.1 ")  # then idle, but free for less time than the others
        time.sleep(0.3)
        first, second = _connect(server), _connect(server)
        assert _answered(first).startswith(b"HTTP/1.1 ") and _answered(second).startswith(b"HTTP/1.1 ")
        assert _closed(oldest) and _closed(slow)
        assert _answered(newest).startswith(b"HTTP/1.1 ")  # kept: it was used after the others


@KINDS
def test_a_dripping_request_head_gets_408_at_the_head_deadline(kind: str, tmp_path: Path) -> None:
    with front(kind, tmp_path, ServeLimits(head_timeout=0.5, client_timeout=30)) as server:
        idle, dripping = _connect(server), _connect(server)
        for byte in UNSIGNED:  # a byte every 0.1 s: the head would take 5 s, its deadline is 0.5 s
            if select.select([dripping], [], [], 0.1)[0]:
                break  # answered
            dripping.sendall(bytes([byte]))
        answer = dripping.recv(65536)  # within the socket's 5 s: the head deadline, not the 30 s client timeout
        assert answer.startswith(b"HTTP/1.1 408 ") and b"request head did not arrive within 0.5 s" in answer
        # An idle connection has no head deadline: it waits for the keep-alive timeout and is still served.
        assert _answered(idle).startswith(b"HTTP/1.1 ")


@KINDS
def test_idle_and_slowloris_connections_do_not_keep_a_signed_client_out(kind: str, tmp_path: Path) -> None:
    """300 idle and 300 slowloris connections (128 slots), reopened as the server closes them: every call of a
    concurrent boto3 client is answered (the limit is generous: it is the answer that counts, not its time;
    `benchmarks/bench_starvation.py` measures the latencies)."""
    with front(kind, tmp_path, ServeLimits()) as server:
        client = boto3.client("account", endpoint_url=server.url, region_name="us-east-1",
                              aws_access_key_id=CREDS.access_key_id, aws_secret_access_key=CREDS.secret_access_key,
                              config=Config(connect_timeout=5, read_timeout=5, retries={"max_attempts": 1}))
        with flooding((server.host, server.port), idle=300, slow=300) as flood:
            while flood.opened < 600:
                time.sleep(0.05)
            time.sleep(0.5)  # every slot taken, the rest of the flood waiting to be accepted
            for _ in range(10):
                assert len(client.list_regions(MaxResults=2)["Regions"]) == 2
                time.sleep(0.1)
            assert flood.closed_by_server > 0  # the flood met the limit and lost slots to the client
