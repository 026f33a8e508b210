"""The CloudTrail JSON-lines file of the local endpoint: written one record per call, fsynced before the response; read back (`sigv4 trail`).

Strategy: append-only; on open, a last line without its newline (a torn append)
is cut, so the next record starts on its own line. The file is an export: each
record is first committed with its call's state change (`SqliteStore.record`),
then appended here; `export_pending` appends at start-up the committed records a
crash kept from the file, found by their eventIDs at the file's end. An edge
module: it opens files and locks (`tests/test_purity.py` lists it).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

from wire.jsonproto import compact_encoder


class TrailLog:
    """The CloudTrail JSON-lines file: records appended and flushed; fsynced by `sync` (and on close).

    `path` None keeps no trail (`serve --state :memory:` without `--log`, which writes nothing): records are
    dropped."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            _drop_torn_record(path)
        self._file = open(path or os.devnull, "a", encoding="utf-8")
        self._lock = threading.Lock()

    def append(self, event: Mapping[str, Any]) -> None:
        self.append_line(record_line(event))

    def append_line(self, line: str) -> None:
        """Append one record's line (see `record_line`), flushed and fsynced."""
        self.append_lines([line])

    def append_lines(self, lines: list[str], *, sync: bool = True) -> None:
        """Append records' lines (see `record_line`) and flush them to the OS; then fsync once if `sync`."""
        with self._lock:
            self._file.write("".join(lines))
            self._file.flush()
            if sync and self.path is not None:
                os.fsync(self._file.fileno())

    def sync(self) -> None:
        """fsync what has been appended (nothing once the file is closed)."""
        with self._lock:
            if self._file.closed or self.path is None:
                return
            # Through a descriptor of its own (an fsync through any descriptor syncs the file), so the
            # fsync runs without the lock: appends, which answers wait for, go on meanwhile.
            fd = os.dup(self._file.fileno())
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def last_event_ids(self, n: int) -> set[str]:
        """The eventIDs of the file's last `n` records."""
        ids: set[str] = set()
        for line in _last_lines(self.path, n) if self.path is not None else ():
            try:
                ids.add(str(json.loads(line).get("eventID")))
            except (ValueError, AttributeError):
                continue  # not a record of ours: it matches no eventID
        return ids

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.flush()
                if self.path is not None:
                    os.fsync(self._file.fileno())
                self._file.close()


_RECORD_JSON = compact_encoder(ensure_ascii=False, allow_nan=True)


def record_line(event: Mapping[str, Any]) -> str:
    """One record as the file holds it: compact JSON and a newline."""
    return _RECORD_JSON(event) + "\n"


class PendingRecords(Protocol):
    """The store's side of the export (`wire.service.sqlite_store.SqliteStore`)."""

    exported: int

    def trail_rows(self) -> list[tuple[int, str, str]]: ...


def export_pending(store: PendingRecords, trail: TrailLog) -> int:
    """Append the committed records a crash kept from the file; return how many.

    Records reach the file in commit order, so those already there are a
    prefix of the store's unpruned rows: every row after the last one whose
    eventID is among the file's last lines is appended.
    """
    rows = store.trail_rows()
    if not rows:
        return 0
    present = trail.last_event_ids(len(rows))
    done = max((index for index, (_, event_id, _) in enumerate(rows) if event_id in present), default=-1)
    trail.append_lines([line for _, _, line in rows[done + 1:]])
    store.exported = rows[-1][0]
    return len(rows) - done - 1


def _last_lines(path: Path, n: int, chunk: int = 1 << 16) -> list[str]:
    """The last `n` lines of a text file, read from its end."""
    with open(path, "rb") as trail:
        end = trail.seek(0, os.SEEK_END)
        data, start = b"", end
        while start > 0 and data.count(b"\n") <= n:
            start = max(0, start - chunk)
            trail.seek(start)
            data = trail.read(end - start)
    return data.decode("utf-8", "replace").splitlines()[-n:]


def _drop_torn_record(path: Path, chunk: int = 1 << 16) -> None:
    """Cut a last line without its newline: an append that a crash or a full disk interrupted. Its call
    was never answered (records are fsynced before responses), and left there it would swallow the next record."""
    if not path.exists():
        return
    with open(path, "r+b") as trail:
        end = trail.seek(0, os.SEEK_END)
        cut = end
        while cut > 0:
            start = max(0, cut - chunk)
            trail.seek(start)
            newline = trail.read(cut - start).rfind(b"\n")
            if newline >= 0:
                cut = start + newline + 1
                break
            cut = start
        if cut < end:
            trail.truncate(cut)
            os.fsync(trail.fileno())


class TrailError(ValueError):
    """A line of the trail file is not a trail record (a JSON object)."""


def read_trail(path: Path, *, follow: bool, poll: float = 0.2,
               stop: Callable[[], bool] = lambda: False) -> Iterator[tuple[str, dict[str, Any]]]:
    """(line, record) for each complete line of the trail file. With `follow`, wait for the file to appear and
    then for more records until `stop()` says to end (checked while waiting); a partly written last line is
    read again once complete.
    Raises TrailError for a path that is not a readable text file or a line that is not a JSON object."""
    while not path.exists():
        if stop():
            return
        time.sleep(poll)
    try:
        trail = open(path, encoding="utf-8")  # noqa: SIM115  closed below
    except OSError as err:
        raise TrailError(f"trail {path}: cannot read ({err.strerror or err})") from None
    with trail:
        while True:
            position = trail.tell()
            try:
                line = trail.readline()
            except UnicodeDecodeError:
                raise TrailError(f"trail {path}: not UTF-8 text (not a trail file)") from None
            if line.endswith("\n"):
                try:
                    record = json.loads(line)
                except ValueError:
                    record = None
                if not isinstance(record, dict):
                    raise TrailError(f"trail {path}: a line is not a trail record (a JSON object)")
                yield line.rstrip("\n"), record
            elif not follow or stop():
                return
            else:
                trail.seek(position)
                time.sleep(poll)
