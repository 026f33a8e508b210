"""The server's connection slots that are free to reclaim: connections holding one with no request in progress.

Strategy: a connection that is idle between requests (a client's pool keeps
it), or whose request head is still arriving (a slow client, or slowloris),
holds a slot without a request the server could act on. Each such connection
is kept here in the order it became free (accepted, or its last answer sent),
so that at the connection limit the server closes the one free longest and
gives its slot to the new client, as nginx reclaims its reusable connections;
a connection leaves the order when its request head is complete. Where the
head of the order has input waiting, the next one is closed instead (that
input may be a request). The event loop and the threads of a streaming app's
connections share one `FreeSlots`, so every method takes its lock; a
connection is closed under it, so that a thread cannot close its socket (and
free the descriptor for reuse) while the loop is closing it.
"""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Callable

__all__ = ["FreeSlots"]


class FreeSlots:
    """The connections (by socket) holding a slot with no request in progress, oldest free first."""

    def __init__(self) -> None:
        self._lock = threading.RLock()  # a reclaimed connection's `close` may call `leave`
        self._free: dict[socket.socket, None] = {}  # in the order they became free
        self._close: dict[socket.socket, Callable[[], None]] = {}  # every admitted connection's way to close

    def __len__(self) -> int:
        return len(self._free)

    def admit(self, sock: socket.socket, close: Callable[[], None]) -> None:
        """Count a new connection as free (no request yet); `close()` frees its slot when it is reclaimed."""
        with self._lock:
            self._close[sock] = close
            self._free[sock] = None

    def busy(self, sock: socket.socket) -> bool:
        """Mark the connection's request as in progress (its head is complete): not to be reclaimed. False when
        it has been reclaimed already (or has left): the caller drops the request."""
        with self._lock:
            self._free.pop(sock, None)
            return sock in self._close

    def free(self, sock: socket.socket) -> None:
        """Mark the connection free again (its answer is out, kept alive): the newest free."""
        with self._lock:
            if sock in self._close:
                self._free.pop(sock, None)
                self._free[sock] = None

    def leave(self, sock: socket.socket) -> None:
        """Forget a connection that is closing (call before closing its socket)."""
        with self._lock:
            self._free.pop(sock, None)
            self._close.pop(sock, None)

    def reclaim(self) -> bool:
        """Close the connection free longest that has no input waiting (else the one free longest); False
        when no connection is free."""
        with self._lock:
            if not self._free:
                return False
            chosen = next((sock for sock in self._free if not _input_waiting(sock)), next(iter(self._free)))
            del self._free[chosen]
            self._close.pop(chosen)()
            return True


def _input_waiting(sock: socket.socket) -> bool:
    """Whether `sock` has something to read (bytes, or the client's close), without reading or waiting: a
    peek would wait on a socket in timeout mode (CPython polls before its recv)."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))
