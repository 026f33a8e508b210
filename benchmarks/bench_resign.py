"""`sigv4 proxy --resign` against the same upstream reached directly: upload throughput, small requests/s, memory.

    python3 benchmarks/bench_resign.py [--mib 1024] [--requests 4000] [--clients 16] [--rounds 3] [--upstream sink|moto]
        [--secret]
        [--payload STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER|STREAMING-UNSIGNED-PAYLOAD-TRAILER]

`--rounds` interleaved rounds (direct, then through the proxy) of each, the best of each side counting (this
shared machine's speed changes for seconds at a time; see `interleaved.py`), in this order:
- a `--mib` MiB S3 upload signed `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER` (crc32 trailer) in 64 KiB chunks:
  the form `aws s3 cp` sends to an http:// endpoint (and our signer's and the SDKs' signed form; `--payload
  STREAMING-UNSIGNED-PAYLOAD-TRAILER`: the form it sends over TLS, unsigned chunks and a CRC trailer), sent
  directly with the real key, then through the proxy with the placeholder key (the proxy decodes it and
  encodes it again in the sender's chunk size with new seed, chunk and trailer signatures); MiB/s and ratio;
- `--requests` small JSON requests (DynamoDB-style, X-Amz-Target) from `--clients` threads on kept-alive
  connections, each request signed by its client, directly and through the proxy, after a warm-up round of
  each (the proxy's first request of a service loads its botocore model once); requests/s and ratio;
- the proxy's peak resident memory (VmHWM) after a 64 MiB upload and after the `--mib` ones: flat in the body size;
- CPU seconds per GiB uploaded of the proxy, the client and the upstream (from /proc), and of the proxy per small
  request: what the wall-clock ratios cannot show on a loaded machine.
The upstream (its own process, on loopback) is by default a sink that reads each body and answers 200, so that
what is measured is the proxy's own cost; `--upstream moto` is moto's server instead (signature checks off), the
emulator of the end-to-end tests. The proxy runs as users run it (`python3 cli.py proxy --resign ...`, its own
process), accepting the placeholder by its key id (`--accept KEY_ID`: the frames are checked, not the signatures),
or with `--secret` by its key id and secret (`--accept KEY_ID:SECRET`: every signature verified, so each chunk's
SHA-256 is computed twice, for the placeholder's chunk signature and for the new one).
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sigv4  # noqa: E402

REAL = sigv4.Credentials("AKIDREALBENCHMARK000", "real-benchmark-secret-real-benchmark-secret")
PLACEHOLDER = sigv4.Credentials("PLACEHOLDER", "placeholder-secret")
BLOCK = os.urandom(1 << 20)


def sink(port_file: str) -> None:
    """The upstream: reads each request's body (Content-Length) and answers 200, keep-alive, a thread a connection."""
    listener = socket.create_server(("127.0.0.1", 0))
    Path(port_file).write_text(str(listener.getsockname()[1]))

    def serve(conn: socket.socket) -> None:
        view = memoryview(bytearray(1 << 20))
        pending = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in pending:
                    data = conn.recv(65536)
                    if not data:
                        return
                    pending += data
                head, _, pending = pending.partition(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                left = length - len(pending)
                pending = pending[length:] if left <= 0 else b""
                while left > 0:
                    got = conn.recv_into(view, min(left, len(view)))
                    if not got:
                        return
                    left -= got
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}")

    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def _start_sink(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    port_file = tmp / "sink.port"
    process = subprocess.Popen([sys.executable, __file__, "--sink", str(port_file)])
    while not port_file.exists() or not port_file.read_text():
        time.sleep(0.05)
    return process, f"http://127.0.0.1:{port_file.read_text()}"


def _start_moto() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    bucket = sigv4.sign(sigv4.Request("PUT", f"{url}/bench"), REAL, region="us-east-1", service="s3", s3=True,
                        timestamp=datetime.now(timezone.utc)).request
    table = sigv4.Request("POST", url + "/", [("Content-Type", "application/x-amz-json-1.0"),
                                              ("X-Amz-Target", "DynamoDB_20120810.CreateTable")],
                          b'{"TableName":"t","KeySchema":[{"AttributeName":"k","KeyType":"HASH"}],'
                          b'"AttributeDefinitions":[{"AttributeName":"k","AttributeType":"S"}],'
                          b'"BillingMode":"PAY_PER_REQUEST"}')
    for request in (bucket, sigv4.sign(table, REAL, region="us-east-1", service="dynamodb",
                                       timestamp=datetime.now(timezone.utc)).request):
        assert _send(url, request) == 200
    return process, url


def _start_proxy(upstream: str, tmp: Path, secret: bool = False) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": REAL.access_key_id, "AWS_SECRET_ACCESS_KEY": REAL.secret_access_key,
           "AWS_EC2_METADATA_DISABLED": "true", "XDG_STATE_HOME": str(tmp)}
    accept = PLACEHOLDER.access_key_id + (f":{PLACEHOLDER.secret_access_key}" if secret else "")
    process = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "proxy", "--resign", "--accept", accept,
                                "--upstream", upstream, "--max-connections", "64"],
                               env=env, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    banner = process.stderr.readline()
    threading.Thread(target=lambda: [None for _ in process.stderr or ()], daemon=True).start()  # drain the log
    return process, banner.split()[3].rstrip(";")


def _blocks(mib: int) -> Iterator[bytes]:
    for _ in range(mib):
        yield BLOCK


def _send(url: str, request: sigv4.Request, connection: http.client.HTTPConnection | None = None) -> int:
    parts = urlsplit(url)
    conn = connection or http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
    conn.request(request.method, request.target, body=sigv4.types.iter_body(request.body)
                 if not isinstance(request.body, bytes) else request.body,
                 headers={n: v for n, v in request.headers if n.lower() != "host"}, encode_chunked=False)
    answer = conn.getresponse()
    answer.read()
    if connection is None:
        conn.close()
    return answer.status


def upload(url: str, creds: sigv4.Credentials, mib: int,
           payload: str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") -> float:
    """Seconds for one `mib` MiB chunk-signed upload to `url`."""
    request = sigv4.Request("PUT", f"{url}/bench/object", [("X-Amz-Decoded-Content-Length", str(mib << 20))],
                            _blocks(mib))
    signed = sigv4.sign(request, creds, region="us-east-1", service="s3", s3=True,
                        payload=payload, trailer_checksum="crc32",
                        timestamp=datetime.now(timezone.utc)).request
    started = time.perf_counter()
    status = _send(url, signed)
    assert status == 200, status
    return time.perf_counter() - started


def small_requests(url: str, creds: sigv4.Credentials, total: int, clients: int) -> float:
    """Requests per second of `total` small signed JSON requests from `clients` threads."""
    parts = urlsplit(url)
    each = total // clients

    def run() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        for _ in range(each):
            request = sigv4.Request("POST", url + "/", [("Content-Type", "application/x-amz-json-1.0"),
                                                        ("X-Amz-Target", "DynamoDB_20120810.GetItem")],
                                    b'{"TableName":"t","Key":{"k":{"S":"v"}}}')
            signed = sigv4.sign(request, creds, region="us-east-1", service="dynamodb",
                                timestamp=datetime.now(timezone.utc)).request
            assert _send(url, signed, conn) == 200
        conn.close()

    threads = [threading.Thread(target=run) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return each * clients / (time.perf_counter() - started)


def cpu_seconds(pid: int) -> float:
    """The user + system CPU seconds process `pid` has used so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the best of each side counts")
    parser.add_argument("--upstream", choices=("sink", "moto"), default="sink")
    parser.add_argument("--payload", default="STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
                        choices=("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"))
    parser.add_argument("--secret", action="store_true", help="--accept KEY_ID:SECRET (signatures verified)")
    parser.add_argument("--sink", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        sink(args.sink)
        return
    import tempfile
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        sink_process, upstream = _start_sink(tmp) if args.upstream == "sink" else _start_moto()
        proxy_process, proxy = _start_proxy(upstream, tmp, args.secret)
        try:
            upload(proxy, PLACEHOLDER, 64)
            small_rss = peak_rss_mib(proxy_process.pid)
            print(f"load average {os.getloadavg()[0]:.2f} at the start")
            times: dict[str, list[float]] = {"direct": [], "through": []}
            cpu_per_gib: dict[str, list[float]] = {"proxy": [], "client": [], "upstream direct": [],
                                                   "upstream through": []}
            for _ in range(args.rounds):  # interleaved: a slow stretch of the shared machine lands on both
                for way, url, creds in (("direct", upstream, REAL), ("through", proxy, PLACEHOLDER)):
                    before = cpu_seconds(proxy_process.pid), time.process_time(), cpu_seconds(sink_process.pid)
                    times[way].append(upload(url, creds, args.mib, args.payload))
                    spent = (cpu_seconds(proxy_process.pid) - before[0], time.process_time() - before[1],
                             cpu_seconds(sink_process.pid) - before[2])
                    cpu_per_gib[f"upstream {way}"].append(spent[2] * 1024 / args.mib)
                    if way == "through":
                        cpu_per_gib["proxy"].append(spent[0] * 1024 / args.mib)
                        cpu_per_gib["client"].append(spent[1] * 1024 / args.mib)
            large_rss = peak_rss_mib(proxy_process.pid)
            direct, through = min(times["direct"]), min(times["through"])
            print(f"upstream {args.upstream}; placeholder accepted by "
                  f"{'key id and secret (signatures verified)' if args.secret else 'key id'}; upload {args.mib} MiB "
                  f"{args.payload}, best of {args.rounds} interleaved rounds: direct {args.mib / direct:.0f} MiB/s, "
                  f"through --resign {args.mib / through:.0f} MiB/s: {direct / through:.0%} of direct (rounds: "
                  + ", ".join(f"{d / t:.0%}" for d, t in zip(times["direct"], times["through"])) + ")")
            print("CPU seconds per GiB, least of the rounds: " + ", ".join(
                f"{who} {min(spent):.2f}" for who, spent in cpu_per_gib.items()))
            small_requests(upstream, REAL, args.clients * 10, args.clients)  # warm-up: the steady state is measured
            small_requests(proxy, PLACEHOLDER, args.clients * 10, args.clients)
            rates: dict[str, list[float]] = {"direct": [], "through": []}
            request_cpu, client_cpu = [], []
            for _ in range(args.rounds):
                rates["direct"].append(small_requests(upstream, REAL, args.requests, args.clients))
                cpu, own = cpu_seconds(proxy_process.pid), time.process_time()
                rates["through"].append(small_requests(proxy, PLACEHOLDER, args.requests, args.clients))
                request_cpu.append((cpu_seconds(proxy_process.pid) - cpu) / args.requests)
                client_cpu.append((time.process_time() - own) / args.requests)
            direct_rps, through_rps = max(rates["direct"]), max(rates["through"])
            print(f"small requests, {args.clients} clients, best of {args.rounds} interleaved rounds: direct "
                  f"{direct_rps:.0f}/s, through --resign {through_rps:.0f}/s: {through_rps / direct_rps:.0%} of "
                  f"direct; CPU a request: proxy {min(request_cpu) * 1e6:.0f} us, client {min(client_cpu) * 1e6:.0f} us")
            print(f"proxy peak RSS: {small_rss:.0f} MiB after a 64 MiB upload, {large_rss:.0f} MiB after "
                  f"{args.mib} MiB; load average {os.getloadavg()[0]:.2f} at the end")
        finally:
            proxy_process.terminate()
            proxy_process.wait(timeout=30)
            sink_process.kill()
            sink_process.wait()


if __name__ == "__main__":
    main()
