"""The files a command names: read whole (`-` is stdin), opened for streaming, or read as a capture.

Strategy: the command line names files the user typed; the OS's refusal (no
such file, a directory, no permission) and a capture that does not read as one
are the user's mistakes, so they become an `InputError` whose one-line message
starts with the path, never a traceback.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wire.debugger.capture import Capture


class InputError(Exception):
    """A file the user named cannot be read or opened: the message starts with its path."""


def read_input(path: str) -> bytes:
    """The bytes of the file `path` (all of stdin for `-`) but a leading UTF-8 byte-order mark, which an editor
    (Notepad) writes and no request, capture, token or key starts with; raises `InputError`."""
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as err:
        raise InputError(f"{path}: cannot read ({err.strerror})") from None
    return data.removeprefix(b"\xef\xbb\xbf")


def open_file(path: str, mode: str) -> Any:
    """`open(path, mode)` (the caller closes it); raises `InputError`, like `read_input`."""
    try:
        return open(path, mode)  # noqa: SIM115  the caller closes it
    except OSError as err:
        raise InputError(f"{path}: cannot open ({err.strerror})") from None


def open_body(path: str) -> Any:
    """A request body to stream from the file `path` (the caller closes it): the file itself or, for a pipe or a
    device (`<(gzip -c f)`, a FIFO), a temporary file holding what it gave, so that the body has a size to frame
    and a retry reads it again (a pipe has neither); raises `InputError`."""
    source = open_file(path, "rb")
    if stat.S_ISREG(os.fstat(source.fileno()).st_mode):
        return source
    copy = tempfile.TemporaryFile()
    with source:
        try:
            shutil.copyfileobj(source, copy)
        except OSError as err:
            copy.close()
            raise InputError(f"{path}: cannot read ({err.strerror})") from None
    copy.seek(0)
    return copy


class Download:
    """Where `-o PATH` puts a streamed response payload: the file PATH, or stdout for `-`, as everywhere in this
    CLI. For `-` the payload is spooled (in memory up to 8 MiB) until the answer is known to be it, so an error
    document never reaches the pipe. The client's sink (its file's write, seek, truncate); a context manager
    that closes what it opened."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.file: Any = tempfile.SpooledTemporaryFile(8 << 20) if path == "-" else open_file(path, "wb")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.file, name)

    def __enter__(self) -> "Download":
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.close()

    def take(self) -> bytes:
        """The bytes received, removed from where they went (a download that turned out to be an error document)."""
        if self.path == "-":
            self.file.seek(0)
            return bytes(self.file.read())
        self.file.close()
        data = Path(self.path).read_bytes()
        Path(self.path).unlink()
        return data

    def deliver(self) -> bool:
        """For `-`, copy the payload to stdout and say True (stdout then holds it alone); else False."""
        if self.path != "-":
            return False
        self.file.seek(0)
        sys.stdout.flush()
        shutil.copyfileobj(self.file, sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return True


def read_capture(path: str, *, scheme: str, pick: int | None, data: bytes | None = None) -> Capture:
    """The signed request in the file `path` (or in `data`, already read from it): raw, a capture (curl -v or
    --trace, HAR, aws --debug) or a `send --json` record (`wire.debugger.capture.parse_capture`); raises `InputError`."""
    from wire.debugger.capture import CaptureError, parse_capture  # only the commands that read captures pay its import
    try:
        return parse_capture(read_input(path) if data is None else data, scheme=scheme, pick=pick)
    except CaptureError as err:
        if path != "-" and data is not None and not Path(path).exists():  # `explain` read the argument as text
            raise InputError(f"{path}: no such file, and not a token, a signed URL or a capture") from None
        raise InputError(f"{path}: {err}") from None


def read_answer(path: str) -> tuple[int | None, tuple[tuple[str, str], ...], bytes]:
    """(status, headers, body) of the response in the file `path` (`wire.debugger.capture.read_response`); raises `InputError`."""
    from wire.debugger.capture import CaptureError, read_response
    try:
        return read_response(read_input(path))
    except CaptureError as err:
        raise InputError(f"{path}: {err}") from None
