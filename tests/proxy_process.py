"""`sigv4 proxy ARGS` run as a user runs it: a process of its own, its URL read from its first stderr line, every
later line collected as it is written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class ProxyProcess:
    process: subprocess.Popen[str]
    url: str
    #: stderr after the banner, one item a line (newline dropped), appended as the proxy writes them.
    lines: list[str] = field(default_factory=list)


@contextmanager
def proxy_process(args: list[str], env: Mapping[str, str]) -> Iterator[ProxyProcess]:
    """`python3 cli.py proxy ARGS --port 0` with `env` (plus PATH); SIGTERM when the block ends, exit 0 checked."""
    process = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "proxy", *args, "--port", "0"],
                               env={"PATH": os.environ.get("PATH", ""), **env}, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    banner = process.stderr.readline()
    url = next((word.rstrip(";,") for word in banner.split() if word.startswith("http://127.0.0.1:")), "")
    assert url, banner + process.stderr.read()
    running = ProxyProcess(process, url)

    def collect() -> None:
        for line in process.stderr or ():
            running.lines.append(line.rstrip("\n"))

    reader = threading.Thread(target=collect, daemon=True)
    reader.start()
    try:
        yield running
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        reader.join(timeout=10)


def line_with(running: ProxyProcess, text: str) -> str:
    """The first line of the proxy's log holding `text`, waiting up to 30 s for it to be written."""
    for _ in range(600):
        found = next((line for line in running.lines if text in line), None)
        if found is not None:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no line with {text!r} in {running.lines}")
