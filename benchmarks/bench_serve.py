"""Local Account endpoint throughput against moto's server, in one run, interleaved.

Starts `cli.py serve` (state and trail in a temporary directory, so every call
is committed with its trail record before it is answered, and a write is
fsynced first; every signature is verified) and moto's server (`python -m moto.server`, which checks
no signature, and closes the connection after each response, so its clients
reconnect for every call), each as its own process. Both get the same pre-signed
GetAlternateContact requests (600 distinct signing times, so no two requests of
a second are alike), sent by a load generator in a third process: one thread,
non-blocking sockets, N keep-alive connections, each sending its next request
as soon as its previous response is in (so the generator, not a thread per
client, shares the 2 cores with the servers). Rounds alternate between the
servers and client counts, so a slow stretch of a shared machine lands on
both. Prints requests/s, p50/p99 latency and ours/moto ratios. Not a test: no
assertions on time. Also prints each server's CPU time (user + system, from /proc) per answered request:
on a shared machine wall-clock rates move with other load, CPU per request much less.

    python benchmarks/bench_serve.py [--clients 4,16] [--seconds 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script, the repository root is not on the path by itself

import sigv4  # noqa: E402
import wire  # noqa: E402
from wire.service import DEFAULT_ACCOUNTS  # noqa: E402

DEFAULT = DEFAULT_ACCOUNTS["accounts"][0]
CREDS = sigv4.Credentials(DEFAULT["access_key_id"], DEFAULT["secret_access_key"])
CONTACT = {"AlternateContactType": "BILLING", "Name": "Ana", "Title": "CFO", "EmailAddress": "ana@example.com",
           "PhoneNumber": "+1 555 0100"}


def raw_request(url: str, operation: str, params: dict[str, object], when: datetime) -> bytes:
    """The bytes of one signed call, as a client sends them on a keep-alive connection."""
    request = wire.serialize(wire.load_model("account"), operation, params, endpoint=url)
    signed = sigv4.sign(request, CREDS, region="us-east-1", service="account", timestamp=when).request
    body = signed.body if isinstance(signed.body, bytes) else b""
    head = [f"{signed.method} {signed.target} HTTP/1.1", f"Content-Length: {len(body)}",
            *[f"{name}: {value}" for name, value in signed.headers]]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def _response_end(buffer: bytes) -> tuple[int, bool]:
    """(length of the first complete response in `buffer` or 0, whether the server closes after it)."""
    head_end = buffer.find(b"\r\n\r\n")
    if head_end < 0:
        return 0, False
    length, close = 0, False
    for line in buffer[:head_end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            close = value.strip().lower() == b"close"
    end = head_end + 4 + length
    return (end, close) if len(buffer) >= end else (0, False)


def generate_load(host: str, port: int, connections: int, seconds: float, requests: list[bytes]) -> dict[str, object]:
    """Closed-loop load: each connection sends its next request when its response is in. Returns counts
    and latencies (seconds) of the responses that completed before the deadline."""
    selector = selectors.DefaultSelector()
    latencies: list[float] = []
    failures = 0
    sent = 0
    deadline = time.perf_counter() + seconds

    def send(sock: socket.socket, state: dict[str, object]) -> None:
        nonlocal sent
        data = requests[sent % len(requests)]
        sent += 1
        sock.setblocking(True)  # a request is a few hundred bytes: it goes out whole at once
        sock.sendall(data)
        sock.setblocking(False)

    def connect(state: dict[str, object]) -> None:
        """A new connection (a server that closes after each response, as moto's does, costs one per call)."""
        sock = socket.create_connection((host, port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        state["buffer"] = b""
        send(sock, state)
        selector.register(sock, selectors.EVENT_READ, state)

    for _ in range(connections):
        connect({"started": time.perf_counter()})
    while time.perf_counter() < deadline:
        for key, _ in selector.select(timeout=0.1):
            sock, state = key.fileobj, key.data
            assert isinstance(sock, socket.socket)
            chunk = sock.recv(65536)
            if not chunk:
                raise SystemExit("the server closed a keep-alive connection")
            buffer = state["buffer"] + chunk  # type: ignore[operator]
            end, close = _response_end(buffer)
            if not end:
                state["buffer"] = buffer
                continue
            now = time.perf_counter()
            if now <= deadline:
                latencies.append(now - state["started"])  # type: ignore[operator]
                failures += not buffer.startswith(b"HTTP/1.1 200 ")
            state["buffer"], state["started"] = buffer[end:], time.perf_counter()
            if close:
                selector.unregister(sock)
                sock.close()
                connect(state)
            else:
                send(sock, state)
    for key in list(selector.get_map().values()):
        key.fileobj.close()  # type: ignore[union-attr]
    return {"latencies": latencies, "failures": failures, "seconds": seconds}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{what} is not listening on port {port}")


def start_servers(scratch: Path) -> dict[str, tuple[subprocess.Popen[bytes], int]]:
    ours_port, moto_port = _free_port(), _free_port()
    ours = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "serve", "--port", str(ours_port),
                             "--state", str(scratch / "account.db"), "--log", str(scratch / "trail.jsonl")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(moto_port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_listening(ours_port, ours, "cli.py serve")
    _wait_listening(moto_port, moto, "moto.server")
    return {"ours": (ours, ours_port), "moto": (moto, moto_port)}


def seed(port: int) -> None:
    """Store the contact the benchmark reads (one signed PutAlternateContact)."""
    url = f"http://127.0.0.1:{port}"
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(raw_request(url, "PutAlternateContact", CONTACT, datetime.now(timezone.utc)))
        buffer = b""
        while not _response_end(buffer)[0]:
            buffer += sock.recv(65536)
    assert buffer.startswith(b"HTTP/1.1 200 "), buffer[:300]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` (its threads included) so far; 0 where /proc is not there."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime: fields 14, 15


def run_load(port: int, connections: int, seconds: float, requests_file: Path,
             pid: int | None = None) -> dict[str, object]:
    """`generate_load` in a process of its own (see --load), and (given the server's `pid`) the CPU time the
    server took meanwhile ("cpu")."""
    before = cpu_seconds(pid) if pid else 0.0
    out = subprocess.run([sys.executable, __file__, "--load", str(port), str(connections), str(seconds),
                          str(requests_file)], check=True, capture_output=True, text=True).stdout
    result: dict[str, object] = json.loads(out)
    if pid:
        result["cpu"] = cpu_seconds(pid) - before
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="4,16", help="comma-separated keep-alive connection counts")
    parser.add_argument("--seconds", type=float, default=2.0, help="duration of each load run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per server and client count")
    parser.add_argument("--load", nargs=4, metavar=("PORT", "CONNECTIONS", "SECONDS", "REQUESTS"),
                        help=argparse.SUPPRESS)  # the load generator's own process
    args = parser.parse_args()
    if args.load:
        port, connections, seconds, requests_file = args.load
        requests = [bytes.fromhex(line) for line in Path(requests_file).read_text().split()]
        print(json.dumps(generate_load("127.0.0.1", int(port), int(connections), float(seconds), requests)))
        return

    counts = [int(n) for n in args.clients.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as scratch_dir:
        scratch = Path(scratch_dir)
        servers = start_servers(scratch)
        try:
            now = datetime.now(timezone.utc)
            files = {}
            for name, (_, port) in servers.items():
                seed(port)
                url = f"http://127.0.0.1:{port}"
                requests = [raw_request(url, "GetAlternateContact", {"AlternateContactType": "BILLING"},
                                        now - timedelta(seconds=i)) for i in range(600)]
                files[name] = scratch / f"{name}.requests"
                files[name].write_text("\n".join(r.hex() for r in requests))
            results: dict[tuple[str, int], list[dict[str, object]]] = {}
            for _ in range(args.rounds):
                for clients in counts:
                    for name, (process, port) in servers.items():
                        results.setdefault((name, clients), []).append(
                            run_load(port, clients, args.seconds, files[name], process.pid))
        finally:
            for process, _ in servers.values():
                process.terminate()
                process.wait(timeout=30)

    print(f"GetAlternateContact, pre-signed, {args.rounds} interleaved rounds of {args.seconds:g} s; "
          f"load from a separate process; ours: every signature verified, every call committed with its "
          f"trail record before the answer, every write fsynced before it")
    print(f"{'server':<8}{'clients':>8}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'failed':>8}"
          f"{'CPU us/req':>12}")
    summary: dict[tuple[str, int], tuple[float, float, float]] = {}
    for (name, clients), runs in sorted(results.items(), key=lambda item: (item[0][1], item[0][0] != "ours")):
        latencies = [latency for run in runs for latency in run["latencies"]]  # type: ignore[attr-defined]
        total_seconds = sum(float(run["seconds"]) for run in runs)  # type: ignore[arg-type]
        failed = sum(int(run["failures"]) for run in runs)  # type: ignore[call-overload]
        cpu = sum(float(run["cpu"]) for run in runs)  # type: ignore[arg-type, misc]
        quantiles = statistics.quantiles(latencies, n=100)
        rate = len(latencies) / total_seconds
        summary[name, clients] = rate, quantiles[98] * 1e3, cpu / len(latencies)
        print(f"{name:<8}{clients:>8}{len(latencies):>10}{rate:>9.0f}{quantiles[49] * 1e3:>9.2f}"
              f"{quantiles[98] * 1e3:>9.2f}{failed:>8}{cpu / len(latencies) * 1e6:>12.0f}")
    for clients in counts:
        ours, moto = summary["ours", clients], summary["moto", clients]
        print(f"{clients:>2} clients: ours/moto req/s {ours[0] / moto[0]:.2f}x (target >= 10); "
              f"our p99 {ours[1]:.1f} ms" + (" (target < 10 ms)" if clients == 16 else "")
              + (f"; moto/ours CPU per request {moto[2] / ours[2]:.1f}x" if ours[2] else ""))


if __name__ == "__main__":
    main()
