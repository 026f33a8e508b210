"""Shared fixtures: the official vector folders, fetched on first use."""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "vectors"))

import fetch  # noqa: E402  (vectors/fetch.py)
from hypothesis import settings  # noqa: E402

from sigv4 import v4a_ecdsa  # noqa: E402

# -- hypothesis: no deadline; fixed examples in CI ------------------------------
# No per-example deadline: that is a timing assertion, and a loaded 2-core machine trips it. CI (CI=true) replays
# the same generated examples every run, so main stays green on what it has already shown; a developer's run
# draws new ones, which is where new counterexamples are found (and then kept as explicit examples).
settings.register_profile("toolkit", deadline=None)
settings.register_profile("ci", parent=settings.get_profile("toolkit"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "toolkit")

# -- never instance metadata ---------------------------------------------------
# A credential chain that finds nothing else asks IMDS (169.254.169.254). The
# suite must never reach it, nor any other link-local agent: the variable below
# is inherited by every subprocess (a test that wants IMDS sets its own, with a
# loopback AWS_EC2_METADATA_SERVICE_ENDPOINT), and in this process a connect to
# a link-local address is refused and fails the test that tried it, which
# catches tests that pass `cli.main(env=...)` or `resolve_credentials(env=...)`
# an explicit environment without the variable.
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

_LINK_LOCAL = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"),
               ipaddress.ip_network("fd00:ec2::/32"))
_refused: list[str] = []
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


def _link_local(address: Any) -> str | None:
    """The host of `address` when it is link-local (instance metadata, container agents), else None."""
    if not isinstance(address, tuple) or not address or not isinstance(address[0], str):
        return None
    try:
        ip = ipaddress.ip_address(address[0].split("%")[0])
    except ValueError:
        return None
    return address[0] if any(ip in net for net in _LINK_LOCAL) else None


def _guarded_connect(self: socket.socket, address: Any) -> None:
    host = _link_local(address)
    if host is not None:
        _refused.append(host)
        raise ConnectionRefusedError(f"test suite guard: no connection to link-local {host}")
    _connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    host = _link_local(address)
    if host is not None:
        _refused.append(host)
        return 111  # ECONNREFUSED
    return _connect_ex(self, address)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _no_instance_metadata() -> Iterator[None]:
    """Fails a test that tried to connect to a link-local address (instance metadata)."""
    _refused.clear()
    yield
    if _refused:
        tried = sorted(set(_refused))
        _refused.clear()
        pytest.fail(f"the test tried to reach link-local {tried}: give its env AWS_EC2_METADATA_DISABLED=true",
                    pytrace=False)

SIGV4A_SUITE = ROOT.parent / "shared" / "vectors" / "aws-signing-test-suite" / "v4a"


@pytest.fixture(params=get_args(v4a_ecdsa.Implementation))
def ecdsa_implementation(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs the test once with each ECDSA implementation SigV4a can sign and verify with (sigv4.v4a_ecdsa);
    awscrt is a test dependency, so both must be installed."""
    assert request.param in v4a_ecdsa.IMPLEMENTATIONS, f"ECDSA implementation {request.param} is not installed"
    monkeypatch.setattr(v4a_ecdsa, "IMPLEMENTATION", request.param)
    return str(request.param)


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
    # Its stop() waits for werkzeug's accept loop, seen once blocked in accept() for good under load: the suite
    # must not hang on a fixture's teardown, and the server's thread is a daemon, gone with the process.
    stopping = threading.Thread(target=server.stop, daemon=True)
    stopping.start()
    stopping.join(timeout=10)
