"""Shared fixtures: the official vector folders, fetched on first use."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "vectors"))

import fetch  # noqa: E402  (vectors/fetch.py)

SIGV4A_SUITE = ROOT.parent / "shared" / "vectors" / "aws-signing-test-suite" / "v4a"


@pytest.fixture(scope="session")
def botocore_sdist() -> Path:
    """The extracted botocore sdist (SigV4 suite and protocol tests); fetched when missing."""
    try:
        return fetch.ensure()
    except fetch.FetchError as err:
        pytest.fail(f"official vectors unavailable: {err}", pytrace=False)


# -- official protocol tests: passed/total per protocol and direction ----------
# The wire protocol tests tag each case with `record_property("protocol_suite",
# "rest-json/input")`; the summary below counts outcomes per tag, so the run
# prints e.g. "rest-json/input: 113/113 passed, 0 known failures".
_PROTOCOL_OUTCOMES: dict[str, dict[str, int]] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    suite = dict(report.user_properties).get("protocol_suite")
    if suite is None or report.when != "call":
        return
    outcome = "xfailed" if report.skipped and hasattr(report, "wasxfail") else report.outcome
    counts = _PROTOCOL_OUTCOMES.setdefault(str(suite), {})
    counts[outcome] = counts.get(outcome, 0) + 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _PROTOCOL_OUTCOMES:
        return
    terminalreporter.section("official protocol tests (botocore sdist)")
    for suite, counts in sorted(_PROTOCOL_OUTCOMES.items()):
        total = sum(counts.values())
        terminalreporter.write_line(
            f"{suite:20} {counts.get('passed', 0)}/{total} passed, "
            f"{counts.get('xfailed', 0)} known failures, {counts.get('failed', 0)} failed"
        )
    totals = {k: sum(c.get(k, 0) for c in _PROTOCOL_OUTCOMES.values()) for k in ("passed", "xfailed", "failed")}
    terminalreporter.write_line(
        f"{'all':20} {totals['passed']}/{sum(sum(c.values()) for c in _PROTOCOL_OUTCOMES.values())} passed, "
        f"{totals['xfailed']} known failures, {totals['failed']} failed"
    )


# -- a moto server on loopback, shared by the tests that call AWS APIs ---------

def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def moto_endpoint():  # type: ignore[no-untyped-def]
    """The base URL of a ThreadedMotoServer on 127.0.0.1 and a free port (STS, Account, ...)."""
    server_module = pytest.importorskip("moto.server", reason="moto is in the test extra")
    port = _free_port()
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()
