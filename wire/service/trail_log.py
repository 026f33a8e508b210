"""The CloudTrail JSON-lines file the local endpoint writes: one record per call, fsynced before the response.

Strategy: append-only; on open, a last line without its newline (a torn append)
is cut, so the next record starts on its own line. An edge module: it opens
files and locks (`tests/test_purity.py` lists it).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class TrailLog:
    """The CloudTrail JSON-lines file: each record appended, flushed and fsynced before the response."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        _drop_torn_record(path)
        self._file = open(path, "a", encoding="utf-8")
        self._lock = threading.Lock()

    def append(self, event: Mapping[str, Any]) -> None:
        line = json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            self._file.write(line)
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


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

