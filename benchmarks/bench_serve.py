"""Local Account endpoint throughput: signed GetAlternateContact from N concurrent clients on loopback.

Starts `sigv4 serve`'s server (wire/transport/server.py) in-process (state and trail in a temporary
directory, so every request pays the trail's fsync and a SQLite commit),
stores one alternate contact, then runs N client threads, each on its own
keep-alive `http.client` connection (which writes a small request in one
segment, so Nagle's algorithm never waits on a delayed ACK), signing every
request with `sigv4.sign`. Prints requests/s, p50/p99 latency and the share of the
server's handling time spent in `sigv4.verify`. Clients and server share
one interpreter (and its GIL), so the figures are a floor for a server run
as its own process. Not a test: no assertions on time.

    python benchmarks/bench_serve.py [--clients 1,4,8] [--seconds 3] [--memory-state]
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

# Run as a script, the repository root (where sigv4/ and wire/ live) is not on the path by itself.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sigv4  # noqa: E402
import wire  # noqa: E402
import wire.service  # noqa: E402
import wire.service.auth as service_auth  # noqa: E402
from wire.service import DEFAULT_ACCOUNTS  # noqa: E402
from wire.service.app import build_app, load_accounts  # noqa: E402
from wire.transport.server import LocalServer  # noqa: E402

DEFAULT = DEFAULT_ACCOUNTS["accounts"][0]
CREDS = sigv4.Credentials(DEFAULT["access_key_id"], DEFAULT["secret_access_key"])
CONTACT = {"AlternateContactType": "BILLING", "Name": "Ana", "Title": "CFO", "EmailAddress": "ana@example.com",
           "PhoneNumber": "+1 555 0100"}


class Stopwatch:
    """Total seconds spent inside a wrapped function, across threads."""

    def __init__(self) -> None:
        self.total = 0.0
        self._lock = threading.Lock()

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                with self._lock:
                    self.total += time.perf_counter() - started
        return timed


def call(connection: http.client.HTTPConnection, model: wire.Model, url: str, operation: str,
         params: dict[str, Any]) -> int:
    request = wire.serialize(model, operation, params, endpoint=url)
    signed = sigv4.sign(request, CREDS, region="us-east-1", service="account",
                        timestamp=datetime.now(timezone.utc)).request
    body = signed.body if isinstance(signed.body, bytes) else b""
    connection.request(signed.method, signed.target, body, dict(signed.headers))
    response = connection.getresponse()
    response.read()
    return response.status


def run(server: LocalServer, clients: int, seconds: float) -> list[float]:
    model = server.app.endpoint.model
    latencies: list[list[float]] = [[] for _ in range(clients)]
    deadline = time.perf_counter() + seconds

    def client(index: int) -> None:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                status = call(connection, model, server.url, "GetAlternateContact", {"AlternateContactType": "BILLING"})
                latencies[index].append(time.perf_counter() - started)
                assert status == 200, status
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [latency for per_client in latencies for latency in per_client]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,4,8", help="comma-separated client counts")
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each run")
    parser.add_argument("--memory-state", action="store_true", help="SQLite :memory: (no commit fsync)")
    args = parser.parse_args()

    verifying, handling, responding = Stopwatch(), Stopwatch(), Stopwatch()
    service_auth.verify = verifying.wrap(service_auth.verify)  # type: ignore[assignment]
    # AccountApp.respond looks `handle` up on wire.service at each call.
    wire.service.handle = handling.wrap(wire.service.handle)  # type: ignore[assignment]
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as scratch:
        state = ":memory:" if args.memory_state else str(Path(scratch) / "account.db")
        app = build_app(load_accounts(None), state, Path(scratch) / "trail.jsonl", 60, lambda _: None)
        app.respond = responding.wrap(app.respond)  # type: ignore[method-assign]
        with LocalServer(app) as server:
            connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
            assert call(connection, app.endpoint.model, server.url, "PutAlternateContact", CONTACT) == 200
            connection.close()
            print(f"state: {'SQLite :memory:' if args.memory_state else 'SQLite file (WAL, synchronous=FULL)'}; "
                  f"trail: fsync per request; {args.seconds:g} s per run")
            print("verify %: sigv4.verify's share of handle() (the pure service), and of the server's whole "
                  "time per request (lock wait, commit, trail fsync included)")
            print(f"{'clients':>7}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'verify/handle':>15}"
                  f"{'verify/server':>15}")
            for clients in (int(n) for n in args.clients.split(",")):
                verifying.total = handling.total = responding.total = 0.0
                started = time.perf_counter()
                latencies = run(server, clients, args.seconds)
                elapsed = time.perf_counter() - started
                quantiles = statistics.quantiles(latencies, n=100)
                print(f"{clients:>7}{len(latencies):>10}{len(latencies) / elapsed:>9.0f}{quantiles[49] * 1e3:>9.2f}"
                      f"{quantiles[98] * 1e3:>9.2f}{verifying.total / handling.total * 100:>14.1f}%"
                      f"{verifying.total / responding.total * 100:>14.1f}%")
        app.close()


if __name__ == "__main__":
    main()
