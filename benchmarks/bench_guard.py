"""The signature guard's overhead: small requests per second through `sigv4 proxy --verify` vs moto directly.

Starts moto's server (`python -m moto.server`, no signature checks) and `cli.py proxy --verify` in front of
it, each as its own process, and sends both the same kind of pre-signed small call (STS GetCallerIdentity,
a Query form POST; 600 distinct signing times, each request signed for the Host it goes to) from
`bench_serve`'s load generator in a third process: N keep-alive connections, each sending its next request
as soon as its previous response is in. Through the guard every request is verified (HMAC key derivation,
canonical request, string-to-sign) and forwarded on the guard's connection to moto; moto closes its
connections after each response, directly and behind the guard alike. Rounds alternate between the two
targets so a slow stretch of the shared machine lands on both. Prints requests/s, p50/p99 and the ratio.
Not a test: no assertions on time.

    python benchmarks/bench_guard.py [--clients 16] [--seconds 3] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_serve, beside this file
from bench_serve import ROOT, _free_port, _wait_listening, run_load  # noqa: E402

import sigv4  # noqa: E402

KEY = sigv4.Credentials("AKIDGUARDBENCH000001", "guard-bench-secret-key-0123456789abcdef")


def raw_request(port: int, when: datetime) -> bytes:
    """One signed GetCallerIdentity for 127.0.0.1:`port`, as the bytes a keep-alive client sends."""
    request = sigv4.Request("POST", f"http://127.0.0.1:{port}/",
                            [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
                            b"Action=GetCallerIdentity&Version=2011-06-15")
    signed = sigv4.sign(request, KEY, region="us-east-1", service="sts", timestamp=when).request
    body = signed.body if isinstance(signed.body, bytes) else b""
    head = [f"{signed.method} {signed.target} HTTP/1.1", f"Content-Length: {len(body)}",
            *[f"{name}: {value}" for name, value in signed.headers]]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16, help="keep-alive connections")
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each load run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per target")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-guard-") as scratch_dir:
        scratch = Path(scratch_dir)
        accounts = scratch / "accounts.json"
        accounts.write_text(json.dumps({KEY.access_key_id: KEY.secret_access_key}))
        moto_port, guard_port = _free_port(), _free_port()
        moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(moto_port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        guard = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "proxy", "--verify", "--accounts",
                                  str(accounts), "--upstream", f"http://127.0.0.1:{moto_port}", "--port",
                                  str(guard_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        targets = {"guard": guard_port, "moto": moto_port}
        try:
            _wait_listening(moto_port, moto, "moto.server")
            _wait_listening(guard_port, guard, "sigv4 proxy --verify")
            now = datetime.now(timezone.utc)
            files = {}
            for name, port in targets.items():
                files[name] = scratch / f"{name}.requests"
                files[name].write_text("\n".join(raw_request(port, now - timedelta(seconds=i)).hex()
                                                  for i in range(600)))
            results: dict[str, list[dict[str, object]]] = {}
            for _ in range(args.rounds):
                for name, port in targets.items():
                    results.setdefault(name, []).append(run_load(port, args.clients, args.seconds, files[name]))
        finally:
            for process in (guard, moto):
                process.terminate()
                process.wait(timeout=30)

    print(f"STS GetCallerIdentity, pre-signed, {args.clients} keep-alive clients, {args.rounds} interleaved "
          f"rounds of {args.seconds:g} s; load from a separate process")
    print(f"{'target':<8}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'failed':>8}")
    rates = {}
    for name, runs in results.items():
        latencies = [latency for run in runs for latency in run["latencies"]]  # type: ignore[attr-defined]
        total_seconds = sum(float(run["seconds"]) for run in runs)  # type: ignore[arg-type]
        failed = sum(int(run["failures"]) for run in runs)  # type: ignore[call-overload]
        quantiles = statistics.quantiles(latencies, n=100)
        rates[name] = len(latencies) / total_seconds
        print(f"{name:<8}{len(latencies):>10}{rates[name]:>9.0f}{quantiles[49] * 1e3:>9.2f}"
              f"{quantiles[98] * 1e3:>9.2f}{failed:>8}")
    print(f"guard/moto req/s {rates['guard'] / rates['moto']:.2f}x (target >= 0.70)")


if __name__ == "__main__":
    main()
