"""The local Account endpoint's glue: the clock, entropy, a store transaction and the trail around `handle`.

Strategy: `wire.service.handle` is pure; `AccountApp.respond` supplies the
world it needs (now, os.urandom, a SQLite transaction), serializes requests
with a lock, discards the state change of an answered error (as AWS does) and
appends the trail record before the reply goes out. An edge module (clock,
entropy, threads; `tests/test_purity.py` lists it).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
import sigv4
import wire
from wire.service.account import Settings
from wire.service.handler import Endpoint, Reply, handle
from wire.service.identities import Directory
from wire.service.sqlite_store import SqliteStore
from wire.service.trail_log import TrailLog


class AccountApp:
    """One request in, one committed reply out: the clock, entropy, store transaction and trail around `handle`."""

    def __init__(self, endpoint: Endpoint, store: SqliteStore, trail: TrailLog, log: Callable[[str], None]) -> None:
        self.endpoint, self.store, self.trail, self.log = endpoint, store, trail, log
        self._lock = threading.Lock()

    def respond(self, request: sigv4.Request, source_ip: str) -> Reply:
        with self._lock:
            with self.store.transaction() as transaction:
                reply = handle(request, endpoint=self.endpoint, now=datetime.now(timezone.utc), store=self.store,
                               entropy=os.urandom, source_ip=source_ip)
                # As on AWS, a call answered with an error leaves no trace in the state.
                transaction.discard = reply.status >= 400
        self.trail.append(reply.event)
        for notice in reply.notices:
            self.log(f"serve: {notice}")
        return reply


def build_app(directory: Directory, state: str, trail: Path, region_delay: float, log: Callable[[str], None]) -> AccountApp:
    """An `AccountApp` for `directory`, its state in the SQLite file `state` (`:memory:` allowed), its trail at `trail`."""
    endpoint = Endpoint(wire.load_model("account"), directory, Settings(region_delay=timedelta(seconds=region_delay)))
    return AccountApp(endpoint, SqliteStore(state), TrailLog(trail), log)
