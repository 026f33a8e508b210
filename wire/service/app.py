"""The local Account endpoint's glue: the clock, entropy, a store transaction and the trail around `handle`.

Strategy: `wire.service.handle` is pure; `AccountApp.respond` supplies the
world it needs (now, os.urandom, a SQLite transaction), runs its `check`
half (signature, decoding, authorization) outside the store's lock and its
`complete` half under it, discards the state change of an answered error (as AWS does),
commits the trail record in the same transaction as the change, and appends
it to the trail file before the reply goes out (records a crash kept from the
file are appended at start-up). Calls that arrive together share one commit
(group commit: the server's event loop hands them over in one
`respond_group`); a state change is synced before it is acknowledged, by one
fsync shared by the calls waiting for it, made by a thread of its own while
the loop serves others. An edge module (clock, entropy, threads;
`tests/test_purity.py` lists it).
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
import sigv4
import wire
from wire.service.account import Settings
from wire.service.handler import Endpoint, Reply, check, complete, screen, too_large
from wire.service.identities import DEFAULT_ACCOUNTS, ConfigError, Directory, keys_document, load_directory
from wire.service.policy import PolicyError
from wire.service.sqlite_store import SqliteStore
from wire.service.trail_log import TrailLog, export_pending, record_line


#: How often the trail file is fsynced (its records are durable in the store from their commit on).
TRAIL_SYNC_SECONDS = 0.1


class _Batch:
    """The calls of one transaction: committed together, then their records appended to the file together."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.lines: list[str] = []
        self.last_seq = 0
        self.done = False
        self.error: BaseException | None = None


class AccountApp:
    """One request in, one committed reply out: the clock, entropy, store transaction and trail around `handle`.

    Group commit: each call runs under `_lock` as a savepoint of the open
    transaction; the calls of one `respond_group` (or, called from threads,
    the first caller of `respond` to reach the commit) commit the transaction
    with every call in it (no fsync: that takes a moment), append their
    records to the file, and only then are those calls answered. Calls
    arriving meanwhile gather in the next transaction. A call whose answer
    depends on a state change (it made one, or it ran after one) then waits
    until the store is synced past that change: one fsync of the WAL, made
    without holding `_lock`, for every call waiting at that moment, while new
    calls run (`respond_group` hands such answers to the sync thread). A call that saw only synced state (reads and refusals, when no
    change is in flight) is answered without waiting for the disk; its record
    is committed, so it survives a crash of the process, and is on disk with
    the next sync (at most `TRAIL_SYNC_SECONDS` later). The file is fsynced
    every `TRAIL_SYNC_SECONDS` by a thread of its own, after the store; only
    then may the store prune the records (until then, `export_pending`
    restores any the file lost at start-up).
    """

    def __init__(self, endpoint: Endpoint, store: SqliteStore, trail: TrailLog, log: Callable[[str], None]) -> None:
        self.endpoint, self.store, self.trail, self.log = endpoint, store, trail, log
        #: Trail records committed before a crash and appended to the file at start-up (`build_app`).
        self.recovered = 0
        self._lock = threading.Lock()  # the store's connection: one call or commit at a time
        self._commit_lock = threading.Lock()  # one committer at a time, so batches reach the file in order
        self._sync_lock = threading.Lock()  # one fsync of the store at a time
        self._batch = _Batch(1)
        self._changed = 0  # the number of the last batch holding a state change (open or committed)
        self._committed = 0  # the number of the last committed batch
        self._synced = 0  # every batch up to this number is on disk
        self._appended = 0  # the seq of the last record appended to the file
        #: Answers of `respond_group` waiting for an fsync: (batch number, deliver, fail).
        self._due: list[tuple[int, Callable[[], None], Callable[[BaseException], None]]] = []
        self._due_changed = threading.Condition()
        self._closing = threading.Event()
        self._threads = [threading.Thread(target=self._sync_trail, name="trail-sync", daemon=True),
                         threading.Thread(target=self._answer_after_sync, name="answer-after-sync", daemon=True)]
        for thread in self._threads:
            thread.start()

    def _sync_trail(self) -> None:
        synced, failure = 0, ""
        while not self._closing.wait(TRAIL_SYNC_SECONDS):
            appended = self._appended
            if appended == synced:
                continue
            try:
                # The store first: the file never holds a record whose change a power loss could undo.
                self._sync_store(self._committed)
                self.trail.sync()
                synced = self.store.exported = appended  # durable in the file: the store may prune them
                self.store.checkpoint()
            except Exception as err:  # a full or failing disk: say so once and keep trying (the store keeps the records)
                if repr(err) != failure:
                    failure = repr(err)
                    self.log(f"serve: syncing the trail failed: {err!r}; retrying every {TRAIL_SYNC_SECONDS} s")

    def close(self) -> None:
        """Close the store and the trail (after the server that calls `respond` has stopped)."""
        self._closing.set()
        with self._due_changed:  # wakes the answer-after-sync thread to see it
            self._due_changed.notify()
        for thread in self._threads:  # their syncs are over before the files close
            thread.join()
        self.store.close()
        self.trail.close()

    def respond(self, request: sigv4.Request, source_ip: str) -> Reply:
        reply, batch, depends_on = self._apply(request, source_ip)
        self._commit(batch)
        self._sync_store(depends_on)
        self._log_notices(reply)
        return reply

    def screen(self, request: sigv4.Request) -> bool:
        """Whether the server refuses `request` from its head, its body unread (`wire.service.handler.screen`):
        `respond` then answers it (and records it on the trail)."""
        return screen(request, endpoint=self.endpoint, now=datetime.now(timezone.utc))

    def too_large(self, request: sigv4.Request, message: str) -> Reply:
        """The server's 413 for `request`'s body, in its protocol (no call was made: no trail record)."""
        request_id = str(uuid.UUID(bytes=os.urandom(16), version=4))
        return Reply(*too_large(request, message, endpoint=self.endpoint, request_id=request_id), event={})

    def respond_group(self, calls: Sequence[tuple[sigv4.Request, str]],
                      answer: Callable[[int, Reply | BaseException], None]) -> None:
        """Answer calls that arrived together (the server's event loop): one transaction for all of them,
        then `answer(i, reply)` for each, at once for a call whose answer depends on no unsynced change,
        else from the sync thread once an fsync covers it. A call that fails is answered with its exception."""
        applied: list[tuple[int, Reply, _Batch, int]] = []
        for i, (request, source_ip) in enumerate(calls):
            try:
                applied.append((i, *self._apply(request, source_ip)))
            except Exception as err:  # a bug must cost one call, not the group
                answer(i, err)
        try:
            for batch in {id(batch): batch for _, _, batch, _ in applied}.values():
                self._commit(batch)
        except Exception as err:  # rolled back: none of them is acknowledged
            for i, *_ in applied:
                answer(i, err)
            return
        later = []
        for i, reply, _, depends_on in applied:
            self._log_notices(reply)
            if depends_on <= self._synced:
                answer(i, reply)
            else:
                later.append((depends_on, partial(answer, i, reply), partial(answer, i)))
        if later:
            with self._due_changed:
                self._due.extend(later)
                self._due_changed.notify()

    def _answer_after_sync(self) -> None:
        """The sync thread: one fsync for every answer waiting for one, then those answers (or the failure)."""
        while True:
            with self._due_changed:
                while not self._due and not self._closing.is_set():
                    self._due_changed.wait()
                if self._closing.is_set():
                    return
                due, self._due = self._due, []
            try:
                self._sync_store(max(number for number, _, _ in due))
            except Exception as err:
                for _, _, fail in due:
                    fail(err)
                continue
            for _, deliver, _ in due:
                deliver()

    def _apply(self, request: sigv4.Request, source_ip: str) -> tuple[Reply, _Batch, int]:
        """Run one call in the open transaction: its reply, its batch, and the batch its answer depends on."""
        # Signature, decoding and authorization need no state: other calls use the store meanwhile.
        checked = check(request, endpoint=self.endpoint, now=datetime.now(timezone.utc), entropy=os.urandom,
                        source_ip=source_ip)
        with self._lock:
            self.store.begin()
            with self.store.change() as change:
                reply = complete(checked, endpoint=self.endpoint, store=self.store, entropy=os.urandom)
                # As on AWS, a call answered with an error leaves no trace in the state (but one on the trail).
                change.discard = reply.status >= 400
                line = record_line(reply.event)
                change.record(str(reply.event["eventID"]), line)
            batch = self._batch
            batch.lines.append(line)
            batch.last_seq = self.store.last_seq
            if self.store.changed:
                self._changed = batch.number
            # What this answer depends on: every change this call saw or made.
            return reply, batch, self._changed

    def _log_notices(self, reply: Reply) -> None:
        for notice in reply.notices:
            self.log(f"serve: {notice}")

    def _commit(self, batch: _Batch) -> None:
        """Return once `batch` is committed and its records are in the file; raise if its commit failed."""
        with self._commit_lock:
            if not batch.done:
                # Batches are committed in order, so an uncommitted one is the open one.
                with self._lock:
                    self._batch = _Batch(batch.number + 1)
                    try:
                        self.store.commit(sync=False)
                        self._committed = batch.number
                    except BaseException as err:  # every call of the batch is rolled back: none is acknowledged
                        batch.error = err
                        # Its changes are gone: later calls no longer depend on them.
                        self._changed = min(self._changed, self._committed)
                if batch.error is None:
                    self.trail.append_lines(batch.lines, sync=False)
                    self._appended = batch.last_seq
                batch.done = True
        if batch.error is not None:
            raise batch.error

    def _sync_store(self, number: int) -> None:
        """Return once every batch up to `number` (committed) is on disk: one fsync serves every waiting caller."""
        if self._synced >= number:
            return
        with self._sync_lock:
            if self._synced >= number:
                return  # the fsync that ran while this call waited covered it
            committed = self._committed  # read before the fsync: the fsync covers at least these
            self.store.sync()
            self._synced = committed


def build_app(directory: Directory, state: str, trail: Path | None, region_delay: float,
              log: Callable[[str], None]) -> AccountApp:
    """An `AccountApp` for `directory`, its state in the SQLite file `state` (`:memory:` allowed), its trail at
    `trail` (None: none kept)."""
    endpoint = Endpoint(wire.load_model("account"), directory, Settings(region_delay=timedelta(seconds=region_delay)))
    store, trail_log = SqliteStore(state), TrailLog(trail)
    app = AccountApp(endpoint, store, trail_log, log)
    app.recovered = export_pending(store, trail_log)
    return app


def load_accounts(path: str | None) -> Directory:
    """The identities of an accounts file (`sigv4 serve --accounts`, `sigv4 proxy --verify --accounts`: the
    accounts document, or its short form `{"ACCESS_KEY_ID": "SECRET" | ["SECRET", "SESSION_TOKEN"]}`), or the
    documented default identity when None.

    Raises ConfigError, its message starting with the path, for a file that cannot be read, is not JSON, or breaks
    a rule of the accounts document or of a policy in it.
    """
    known_actions = tuple(wire.load_model("account").operations)
    if path is None:
        return load_directory(DEFAULT_ACCOUNTS, known_actions=known_actions)
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        if isinstance(document, dict) and "accounts" not in document:
            document = keys_document(document)  # the short form: access key id -> secret [+ token]
        return load_directory(document, known_actions=known_actions)
    except OSError as err:
        raise ConfigError(f"{path}: {err.strerror or err}") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 (byte 0x{err.object[err.start]:02x} at offset {err.start})") from None
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path}: not JSON: {err}") from None
    except (ConfigError, PolicyError) as err:
        raise ConfigError(f"{path}: {err}") from None


def state_dir(env: Mapping[str, str]) -> Path:
    """The per-user state directory: $XDG_STATE_HOME/sigv4-toolkit (default ~/.local/state/sigv4-toolkit)."""
    base = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local" / "state")
    return Path(base) / "sigv4-toolkit"


def state_path(given: str | None, env: Mapping[str, str]) -> str:
    """The SQLite state `sigv4 serve` keeps: `given` (--state), else account.db in `state_dir(env)`."""
    return given or str(state_dir(env) / "account.db")


def trail_path(given: str | None, env: Mapping[str, str], state: str | None = None) -> Path | None:
    """The trail `sigv4 serve` writes and `sigv4 trail` reads: `given` (--log), else next to the default state;
    None (no trail) for an in-memory `state` without `given`: `serve --state :memory:` writes nothing unasked."""
    if given:
        return Path(given)
    return None if state == ":memory:" else state_dir(env) / "account-trail.jsonl"


_DEFAULT = DEFAULT_ACCOUNTS["accounts"][0]
#: What `sigv4 serve` says about the default identity: AWS's published example key pair, created for local use
#: only; printing it is the point.
DEFAULT_IDENTITY_NOTICE = (
    f"default identity: account {_DEFAULT['account_id']} (management; member {', '.join(_DEFAULT['members'])}), "
    f"AWS_ACCESS_KEY_ID={_DEFAULT['access_key_id']} AWS_SECRET_ACCESS_KEY={_DEFAULT['secret_access_key']}")
