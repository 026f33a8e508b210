"""The local endpoint's limits: out of descriptors, too many connections, too many buffered bytes, and a
request framed two ways. Each test failed before its fix."""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.serve_fixtures import Running, serving
from tests.test_serve_robustness import ROOT, account_client, exchange, still_serving
from wire.transport.server import ServeLimits

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def _low_descriptor_limit(limit: int) -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))


def test_running_out_of_descriptors_does_not_stop_the_endpoint(tmp_path: Path) -> None:
    # Before the fix the accept loop returned on EMFILE: the process stayed up and never served again.
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), "serve", "--state", str(tmp_path / "state.db"),
         "--log", str(tmp_path / "trail.jsonl"), "--max-connections", "1000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "HOME": str(tmp_path)}, preexec_fn=lambda: _low_descriptor_limit(64))
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert " on http://" in first, first
        host, port = first.rsplit("//", 1)[1].strip().split(":")
        held = [socket.create_connection((host, int(port)), timeout=5) for _ in range(100)]  # more than 64
        time.sleep(1.0)  # the server accepts until its descriptors run out, then meets EMFILE
        for sock in held:
            sock.close()
        url = f"http://{host}:{port}"
        assert still_serving_url(url)
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    notices = [line for line in out.splitlines() if "accept failed" in line]
    assert len(notices) == 1 and "EMFILE" in notices[0], out + err  # logged once, not once per retry


def still_serving_url(url: str) -> bool:
    return len(account_client(url).list_regions(MaxResults=2)["Regions"]) == 2


UNSIGNED = b"POST /listRegions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"


def _response(sock: socket.socket) -> bytes:
    received = b""
    while b"\r\n\r\n" not in received or not received.endswith(b"}"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    return received


def test_with_every_slot_busy_new_clients_wait_and_admitted_ones_are_served(tmp_path: Path) -> None:
    with serving(tmp_path, limits=ServeLimits(max_connections=2)) as running:
        address = (running.server.host, running.server.port)
        first, second = (socket.create_connection(address, timeout=5) for _ in range(2))
        for sock in (first, second):  # both admitted, each with a request in progress (its body half in)
            sock.sendall(UNSIGNED[:-1])
        time.sleep(0.3)  # both heads read: neither connection is free to reclaim
        third = socket.create_connection(address, timeout=5)  # waits in the backlog: not accepted, not answered
        third.sendall(UNSIGNED)
        third.settimeout(0.5)
        with pytest.raises(TimeoutError):
            third.recv(1)
        first.sendall(UNSIGNED[-1:])  # the admitted connections are not starved
        assert _response(first).startswith(b"HTTP/1.1 403 ")
        # First is idle now: its slot goes to the waiting client (the connection free longest is reclaimed).
        third.settimeout(5)
        assert _response(third).startswith(b"HTTP/1.1 403 ")
        first.settimeout(5)
        assert first.recv(1) == b""
        second.sendall(UNSIGNED[-1:])
        assert _response(second).startswith(b"HTTP/1.1 403 ")
        for sock in (first, second, third):
            sock.close()


def test_beyond_the_buffered_bytes_budget_requests_get_503_with_retry_after(tmp_path: Path) -> None:
    with serving(tmp_path, limits=ServeLimits(max_buffered_bytes=100_000)) as running:
        _one_holding_one_refused(running)


def _one_holding_one_refused(small_budget: Running) -> None:
    address = (small_budget.server.host, small_budget.server.port)
    holder = socket.create_connection(address, timeout=5)
    holder.sendall(b"POST /listRegions HTTP/1.1\r\nHost: x\r\nContent-Length: 90000\r\n\r\n" + b"x" * 80_000)
    time.sleep(0.5)  # its 80,000 bytes are read and held while the rest of its body is awaited
    refused = exchange(small_budget, b"POST /listRegions HTTP/1.1\r\nHost: x\r\nContent-Length: 50000\r\n\r\n"
                       + b"y" * 50_000)
    assert refused.startswith(b"HTTP/1.1 503 "), refused[:200]
    assert b"Retry-After: 1\r\n" in refused
    holder.sendall(b"x" * 10_000)  # the admitted request completes and is answered
    assert _response(holder).startswith(b"HTTP/1.1 403 ")
    holder.close()
    assert still_serving(small_budget)  # its bytes were given back


def test_content_length_with_transfer_encoding_is_refused_and_the_connection_closed(tmp_path: Path) -> None:
    with serving(tmp_path) as running:
        smuggled = (b"POST /listRegions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"2\r\n{}\r\n0\r\n\r\n")
        response = exchange(running, smuggled + UNSIGNED)  # a pipelined second request must not be served
        assert response.startswith(b"HTTP/1.1 400 "), response[:200]
        assert response.count(b"HTTP/1.1 ") == 1 and b"Connection: close" in response
        assert b"Transfer-Encoding" in response
