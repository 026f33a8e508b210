"""An attacker that holds idle and slowloris connections open against a server, for tests and benchmarks.

`Flood(address, idle=300, slow=300)` runs one thread with non-blocking sockets:
`idle` connections that never send a byte, and `slow` ones that send a request
head a few bytes at a time and never finish it. Every connection the server
closes (reclaimed, timed out, refused) is opened again at the next round, so
the server faces `idle + slow` connections for as long as the flood runs, the
way a client that insists (or a pool that reconnects) would hold them.

    python tests/flood.py HOST PORT [IDLE SLOW]     # until interrupted; prints its counts every second
"""

from __future__ import annotations

import errno
import selectors
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

#: The head a slowloris connection drips: never ending (no blank line), one header line at a time.
SLOW_START = b"GET /listRegions HTTP/1.1\r\nHost: x\r\n"
SLOW_LINE = b"X-a: b\r\n"


class Flood:
    """Idle and slowloris connections to `address`, reopened when closed; counts what the server did."""

    def __init__(self, address: tuple[str, int], idle: int, slow: int, *, drip_every: float = 0.5) -> None:
        self.address, self.idle, self.slow, self.drip_every = address, idle, slow, drip_every
        self.opened = self.closed_by_server = 0
        self._socks: dict[socket.socket, bool] = {}  # open connections: whether slowloris
        self._selector = selectors.DefaultSelector()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="flood", daemon=True)

    def start(self) -> "Flood":
        self._open_missing()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        for sock in list(self._socks):
            self._drop(sock)
        self._selector.close()

    @property
    def held(self) -> int:
        """The connections open now (from this side)."""
        return len(self._socks)

    def _open_missing(self) -> None:
        slow_open = sum(self._socks.values())
        for slow in [True] * (self.slow - slow_open) + [False] * (self.idle - (len(self._socks) - slow_open)):
            sock = socket.socket(socket.AF_INET6 if ":" in self.address[0] else socket.AF_INET)
            sock.setblocking(False)
            if sock.connect_ex(self.address) not in (0, errno.EINPROGRESS):
                sock.close()
                continue
            self._socks[sock] = slow
            self._selector.register(sock, selectors.EVENT_READ)
            self.opened += 1
            if slow:
                self._send(sock, SLOW_START)

    def _send(self, sock: socket.socket, data: bytes) -> None:
        try:
            sock.send(data)
        except BlockingIOError:
            pass  # not connected yet (or the buffer is full): the next drip tries again
        except OSError:
            self._drop(sock, by_server=True)

    def _drop(self, sock: socket.socket, *, by_server: bool = False) -> None:
        if self._socks.pop(sock, None) is None:
            return
        self._selector.unregister(sock)
        sock.close()
        self.closed_by_server += by_server

    def _run(self) -> None:
        next_drip = time.monotonic() + self.drip_every
        while not self._stop.is_set():
            for key, _ in self._selector.select(0.05):
                try:
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:  # closed (a refusal before it was read, or nothing): reopened next round
                    self._drop(key.fileobj, by_server=True)  # type: ignore[arg-type]
            if time.monotonic() >= next_drip:
                for sock, slow in list(self._socks.items()):
                    if slow:
                        self._send(sock, SLOW_LINE)
                self._open_missing()
                next_drip = time.monotonic() + self.drip_every


@contextmanager
def flooding(address: tuple[str, int], idle: int = 300, slow: int = 300) -> Iterator[Flood]:
    """A started `Flood`, stopped when the block ends."""
    flood = Flood(address, idle, slow).start()
    try:
        yield flood
    finally:
        flood.stop()


if __name__ == "__main__":
    host, port = sys.argv[1], int(sys.argv[2])
    idle, slow = (int(n) for n in sys.argv[3:5]) if len(sys.argv) > 4 else (300, 300)
    with flooding((host, port), idle, slow) as running:
        try:
            while True:
                time.sleep(1)
                print(f"held {running.held} opened {running.opened} closed by the server {running.closed_by_server}",
                      flush=True)
        except KeyboardInterrupt:
            pass
