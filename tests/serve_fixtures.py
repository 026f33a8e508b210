"""A real local Account endpoint on a free loopback port, for tests with real clients."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from wire.service import DEFAULT_ACCOUNTS
from wire.service.app import AccountApp, build_app, load_accounts
from wire.transport.server import LocalServer, ServeLimits

DEFAULT = DEFAULT_ACCOUNTS["accounts"][0]


@dataclass
class Running:
    server: LocalServer
    app: AccountApp
    trail: Path
    state: Path
    log: list[str]

    @property
    def url(self) -> str:
        return self.server.url


def start(tmp_path: Path, *, region_delay: float = 0.5, limits: ServeLimits = ServeLimits()) -> Running:
    log: list[str] = []
    state, trail = tmp_path / "account.db", tmp_path / "trail.jsonl"
    app = build_app(load_accounts(None), str(state), trail, region_delay, log.append)
    return Running(LocalServer(app, "127.0.0.1", 0, limits).start(), app, trail, state, log)


def stop(running: Running) -> None:
    running.server.stop()
    running.app.close()


@contextmanager
def serving(tmp_path: Path, **options: Any) -> Iterator[Running]:
    """`start` with `options`, stopped when the block ends."""
    running = start(tmp_path, **options)
    try:
        yield running
    finally:
        stop(running)


@pytest.fixture
def endpoint(tmp_path: Path) -> Iterator[Running]:
    running = start(tmp_path)
    yield running
    stop(running)
