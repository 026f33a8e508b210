"""`wire.service.Store` on SQLite: the local Account endpoint's state on disk.

Strategy: one connection, one table of JSON records keyed by (account, kind,
key); every request is a savepoint in a transaction (BEGIN IMMEDIATE) committed
before its response is sent; the requests that arrive during one commit share
the next (group commit). WAL with synchronous=NORMAL, so COMMIT itself never
waits for the disk; `sync` fsyncs the WAL file, which makes every transaction
committed so far durable (SQLite's FULL does the same, inside COMMIT). The
caller syncs before acknowledging a state change, and may do so without holding
the connection, so calls run while the disk works; a transaction that changed
no state (reads, refusals: only trail records) needs no sync of its own. The call's trail record is written in that same transaction (table
`trail`), so a state change and its record are one atomic unit whatever the
moment of a crash; the JSON-lines file is an export of that table
(`wire.service.trail_log.export_pending`), and rows already exported are pruned
by the next transaction. An edge module: it opens files (`tests/test_purity.py`
lists it).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class SqliteStore:
    """`wire.service.Store` on SQLite: one connection; every request is committed before its response
    (the app's lock serializes requests; BEGIN IMMEDIATE guards other processes)."""

    def __init__(self, path: str) -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        #: Set inside a transaction to roll it back instead of committing it.
        self.discard = False
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL: COMMIT does not fsync; `sync` does, off the connection (FULL would hold it during the fsync).
        self._db.execute("PRAGMA synchronous=NORMAL")
        # No checkpoint inside a COMMIT (two fsyncs with the connection held): `checkpoint` runs them apart.
        self._db.execute("PRAGMA wal_autocheckpoint=0")
        self._checkpointer: sqlite3.Connection | None = None
        self._closing = threading.Lock()  # a checkpoint or close at a time
        self._db.execute("CREATE TABLE IF NOT EXISTS records (account_id TEXT NOT NULL, kind TEXT NOT NULL, "
                         "key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (account_id, kind, key))")
        self._db.execute("CREATE TABLE IF NOT EXISTS trail (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
                         "event_id TEXT NOT NULL, record TEXT NOT NULL)")
        #: The highest trail seq known to be in the exported file: the next transaction prunes rows up to it.
        self.exported = 0
        self._pruned = 0  # the `exported` of the last prune (it is redone after a rollback: harmless)
        #: The seq of the trail record the last committed transaction wrote (0: none).
        self.last_seq = 0
        self._record: tuple[str, str] | None = None
        #: Whether the current call / the open transaction changed state (a record put or deleted).
        self._call_changed = self.changed = False
        self._savepoint = False  # whether the current call has opened its savepoint (at its first write)
        # The WAL file exists once the connection has read the database in WAL mode (above); an fsync through
        # any descriptor of a file flushes all of its data. None: an in-memory database, nothing to sync.
        self._wal = os.open(path + "-wal", os.O_RDONLY) if path != ":memory:" else None

    # A transaction holds one or more calls (group commit: the calls that arrive during one commit's
    # fsync share the next one). Each call is a savepoint within it, so a failed call's change can be
    # rolled back alone; a failed COMMIT rolls back every call of the transaction.
    def begin(self) -> None:
        """Open a transaction unless one is open; it first prunes the trail rows known to be exported."""
        if self._db.in_transaction:
            return
        self._db.execute("BEGIN IMMEDIATE")
        self.changed = False
        exported = self.exported
        if exported > self._pruned:
            self._db.execute("DELETE FROM trail WHERE seq <= ?", (exported,))
            self._pruned = exported

    @contextmanager
    def change(self) -> Iterator[SqliteStore]:
        """One call inside the open transaction: its state changes, then the trail record given to `record`.

        When `discard` was set, the block's state changes are rolled back but the record is still
        written (a failed call leaves no trace in the state, but is on the trail); when the block
        raised, both are rolled back. `last_seq` is then the record's seq (0: none); `changed`
        becomes True when the block's state changes were kept.
        """
        # The savepoint is opened by the call's first write (`_writing`): a call that only reads (most do)
        # has nothing to roll back, and saves three statements.
        self.discard, self._record, self.last_seq, self._call_changed = False, None, 0, False
        self._savepoint = False
        try:
            yield self
            if self.discard:
                self._rollback_call()
            else:
                self.changed = self.changed or self._call_changed
            seq = 0
            if self._record is not None:
                seq = self._db.execute("INSERT INTO trail (event_id, record) VALUES (?, ?)", self._record).lastrowid
            if self._savepoint:
                self._db.execute("RELEASE change")
                self._savepoint = False
            self.last_seq = seq or 0
        except BaseException:
            if self._db.in_transaction:
                self._rollback_call()
            raise

    def _writing(self) -> None:
        """Open the current call's savepoint before its first write, so `change` can roll the call back alone."""
        if not self._savepoint:
            self._db.execute("SAVEPOINT change")
            self._savepoint = True

    def _rollback_call(self) -> None:
        """Undo the current call's writes (none when it opened no savepoint)."""
        if self._savepoint:
            self._db.execute("ROLLBACK TO change")
            self._db.execute("RELEASE change")
            self._savepoint = False

    def commit(self, *, sync: bool = True) -> None:
        """Commit the open transaction, on disk when this returns if `sync` (else once `sync()` has run);
        on failure roll it all back and raise."""
        try:
            self._db.execute("COMMIT")
            if sync and self.changed:
                self.sync()
        except BaseException:
            # A failed COMMIT (full disk, I/O error) may leave the transaction open; SQLite may also
            # have rolled it back already.
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    @contextmanager
    def transaction(self) -> Iterator[SqliteStore]:
        """One call in a transaction of its own (`begin`, `change`, `commit`), rolled back if the block raises."""
        self.begin()
        try:
            with self.change():
                yield self
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        self.commit()

    def sync(self) -> None:
        """fsync the WAL file: every transaction committed before this call is then on disk. Safe to call
        from any thread while others use the connection (it does not touch it)."""
        if self._wal is not None:
            os.fsync(self._wal)

    def checkpoint(self) -> None:
        """Copy the WAL's committed transactions into the database (synced), on a connection of its own so
        calls go on meanwhile; the WAL then starts over instead of growing. Call from one thread only."""
        with self._closing:
            if self._wal is None:
                return  # in memory, or closed
            if self._checkpointer is None:
                self._checkpointer = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def record(self, event_id: str, line: str) -> None:
        """The trail record (its eventID and JSON line) to commit with the current transaction."""
        self._record = (event_id, line)

    def trail_rows(self) -> list[tuple[int, str, str]]:
        """The committed trail records not yet pruned: (seq, eventID, line), oldest first."""
        return list(self._db.execute("SELECT seq, event_id, record FROM trail ORDER BY seq"))

    def get(self, account_id: str, kind: str, key: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT value FROM records WHERE account_id=? AND kind=? AND key=?",
                               (account_id, kind, key)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, account_id: str, kind: str, key: str, record: dict[str, Any]) -> None:
        self._call_changed = True
        self._writing()
        self._db.execute("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)",
                         (account_id, kind, key, json.dumps(record, sort_keys=True)))

    def delete(self, account_id: str, kind: str, key: str) -> bool:
        self._writing()
        cursor = self._db.execute("DELETE FROM records WHERE account_id=? AND kind=? AND key=?",
                                  (account_id, kind, key))
        self._call_changed = self._call_changed or cursor.rowcount > 0
        return cursor.rowcount > 0

    def items(self, account_id: str, kind: str) -> dict[str, dict[str, Any]]:
        rows = self._db.execute("SELECT key, value FROM records WHERE account_id=? AND kind=?", (account_id, kind))
        return {key: json.loads(value) for key, value in rows}

    def close(self) -> None:
        with self._closing:
            if self._checkpointer is not None:
                self._checkpointer.close()
            self._db.close()  # the last connection checkpoints the WAL into the database, synced
            if self._wal is not None:
                os.close(self._wal)
                self._wal = None

