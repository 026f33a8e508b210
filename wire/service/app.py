"""The local Account endpoint's glue: the clock, entropy, a store transaction and the trail around `handle`.

Strategy: `wire.service.handle` is pure; `AccountApp.respond` supplies the
world it needs (now, os.urandom, a SQLite transaction), serializes requests
with a lock, discards the state change of an answered error (as AWS does),
commits the trail record in the same transaction as the change, and appends
it to the trail file before the reply goes out (records a crash kept from the
file are appended at start-up). An edge module (clock,
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
from wire.service.trail_log import TrailLog, export_pending, record_line


class AccountApp:
    """One request in, one committed reply out: the clock, entropy, store transaction and trail around `handle`."""

    def __init__(self, endpoint: Endpoint, store: SqliteStore, trail: TrailLog, log: Callable[[str], None]) -> None:
        self.endpoint, self.store, self.trail, self.log = endpoint, store, trail, log
        #: Trail records committed before a crash and appended to the file at start-up (`build_app`).
        self.recovered = 0
        self._lock = threading.Lock()

    def respond(self, request: sigv4.Request, source_ip: str) -> Reply:
        with self._lock:
            with self.store.transaction() as transaction:
                reply = handle(request, endpoint=self.endpoint, now=datetime.now(timezone.utc), store=self.store,
                               entropy=os.urandom, source_ip=source_ip)
                # As on AWS, a call answered with an error leaves no trace in the state (but one on the trail).
                transaction.discard = reply.status >= 400
                line = record_line(reply.event)
                transaction.record(str(reply.event["eventID"]), line)
            # Under the lock: the file takes the records in commit order (`export_pending` relies on it).
            self.trail.append_line(line)
            self.store.exported = self.store.last_seq
        for notice in reply.notices:
            self.log(f"serve: {notice}")
        return reply


def build_app(directory: Directory, state: str, trail: Path, region_delay: float, log: Callable[[str], None]) -> AccountApp:
    """An `AccountApp` for `directory`, its state in the SQLite file `state` (`:memory:` allowed), its trail at `trail`."""
    endpoint = Endpoint(wire.load_model("account"), directory, Settings(region_delay=timedelta(seconds=region_delay)))
    store, trail_log = SqliteStore(state), TrailLog(trail)
    app = AccountApp(endpoint, store, trail_log, log)
    app.recovered = export_pending(store, trail_log)
    return app
