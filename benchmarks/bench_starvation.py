"""Signed calls under a flood of idle and slowloris connections: `sigv4 serve` and `sigv4 proxy`, latencies and memory.

Starts `cli.py serve` (state in a temporary directory) and `cli.py proxy` in front
of it, each as its own process with the default limits (128 connections). For
each of them: a boto3 Account client (one attempt per call, no retries) makes
`--calls` ListRegions calls, first alone, then while `tests/flood.py` (its own
process) holds `--idle` connections that never send a byte and `--slow` ones
that drip a request head a line every 0.5 s and never finish it, reopening
every connection the server closes. Prints each phase's latencies (p50, p99,
max), the calls that failed, the flood's counts, and the server process's
resident memory (now and peak) and threads. Not a test: no assertions.

    python benchmarks/bench_starvation.py [--idle 300] [--slow 300] [--calls 100]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script, the repository root is not on the path by itself

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

from wire.service import DEFAULT_ACCOUNTS  # noqa: E402

DEFAULT = DEFAULT_ACCOUNTS["accounts"][0]


def _memory(pid: int) -> str:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    mib = {name: int(fields[name].split()[0]) / 1024 for name in ("VmRSS", "VmHWM")}
    return f"RSS {mib['VmRSS']:.0f} MiB (peak {mib['VmHWM']:.0f} MiB), {fields['Threads'].strip()} threads"


def _calls(url: str, n: int) -> tuple[list[float], int]:
    """Latencies (s) of `n` ListRegions calls on one client, and how many failed."""
    client: Any = boto3.client("account", endpoint_url=url, region_name="us-east-1",
                               aws_access_key_id=DEFAULT["access_key_id"],
                               aws_secret_access_key=DEFAULT["secret_access_key"],
                               config=Config(connect_timeout=10, read_timeout=10, retries={"max_attempts": 1}))
    latencies, failed = [], 0
    for _ in range(n):
        started = time.perf_counter()
        try:
            client.list_regions(MaxResults=2)
        except Exception as err:  # counted, and shown once
            if not failed:
                print(f"    first failure: {err!r}")
            failed += 1
        latencies.append(time.perf_counter() - started)
        time.sleep(0.05)  # calls spread over the flood's rounds of reopening
    return latencies, failed


def _report(phase: str, latencies: list[float], failed: int) -> None:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"  {phase:<26} {len(ordered)} calls, {failed} failed: p50 {statistics.median(ordered) * 1000:.0f} ms, "
          f"p99 {p99 * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms")


def _measure(name: str, url: str, pid: int, args: argparse.Namespace) -> None:
    print(f"{name} ({url}): {_memory(pid)} before")
    _report("alone", *_calls(url, args.calls))
    host, port = url.rsplit("//", 1)[1].rsplit(":", 1)
    flood = subprocess.Popen([sys.executable, str(ROOT / "tests" / "flood.py"), host, port, str(args.idle),
                              str(args.slow)], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(2)  # the flood connected: every slot taken, the rest reopening
        _report(f"under {args.idle} idle + {args.slow} slow", *_calls(url, args.calls))
        print(f"  {name} under the flood: {_memory(pid)}")
    finally:
        flood.send_signal(signal.SIGINT)
        out, _ = flood.communicate(timeout=30)
    print(f"  flood: {(out.strip().splitlines() or ['?'])[-1]}")


def _started(command: list[str], env: dict[str, str], banner_on_stderr: bool) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    stream = process.stderr if banner_on_stderr else process.stdout
    assert stream is not None
    banner = stream.readline()
    url = next(word for word in banner.split() if word.startswith("http://"))
    return process, url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=int, default=300)
    parser.add_argument("--slow", type=int, default=300)
    parser.add_argument("--calls", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "HOME": scratch, "AWS_ACCESS_KEY_ID": DEFAULT["access_key_id"],
               "AWS_SECRET_ACCESS_KEY": DEFAULT["secret_access_key"], "AWS_EC2_METADATA_DISABLED": "true"}
        serve, serve_url = _started([sys.executable, "cli.py", "serve", "--state", f"{scratch}/state.db",
                                     "--log", f"{scratch}/trail.jsonl"], env, banner_on_stderr=False)
        proxy, proxy_url = _started([sys.executable, "cli.py", "proxy", "--upstream", serve_url, "--service",
                                     "account", "--port", "0"], env, banner_on_stderr=True)
        try:
            _measure("sigv4 serve", serve_url, serve.pid, args)
            _measure("sigv4 proxy", proxy_url, proxy.pid, args)
        finally:
            for process in (proxy, serve):
                process.send_signal(signal.SIGTERM)
                process.communicate(timeout=30)


if __name__ == "__main__":
    main()
