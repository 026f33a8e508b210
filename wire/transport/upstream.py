"""A proxy's way to its upstream: one kept-alive connection per client connection, and the answer relayed.

Strategy: a proxy app runs on the server's thread of one client connection
(`wire.transport.server`, streaming apps), so a thread-local `Connection`
(`wire.transport.client`) is that client's own connection to the upstream,
kept alive between its requests. A request on a kept connection that the
upstream had closed while idle is sent once more on a new one, when its body
can be sent again (bytes). An answer's body is relayed as it arrives; a relay
cut short (the client left, the upstream failed) closes the connection,
whose state is then unknown, and either way `done` runs once the relay ends
(the proxy's log line). Used by the signing proxy and the signature guard.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import sigv4
from wire.transport.client import Connection, NetworkError, Streamed, TransportOptions

__all__ = ["Upstreams"]


@dataclass
class Upstreams:
    """The connections of a proxy's threads to the upstream hosts of their requests."""

    options: TransportOptions
    env: Mapping[str, str]
    log: Callable[[str], None]
    _local: threading.local = field(default_factory=threading.local, init=False, repr=False)

    def connection(self, request: sigv4.Request) -> Connection:
        """This thread's connection to `request`'s host: one per client connection, kept alive between requests."""
        kept: Connection | None = getattr(self._local, "connection", None)
        if kept is None:
            kept = self._local.connection = Connection(request.scheme, request.authority, self.options, self.env,
                                                       self.log)
        return kept

    @staticmethod
    def stream(connection: Connection, request: sigv4.Request) -> Streamed:
        """`connection.stream(request)`, sent once more on a new connection when the kept one had been closed
        by the upstream while idle (a body of bytes only). Raises as `Connection.stream` does."""
        reused = connection.is_open
        try:
            return connection.stream(request)
        except NetworkError:
            if not reused or not isinstance(request.body, bytes):
                raise
            connection.close()
            return connection.stream(request)

    @staticmethod
    def relay(chunks: Iterator[bytes], connection: Connection, done: Callable[[], None]) -> Iterator[bytes]:
        """`chunks` (an answer's body) as they arrive; `connection` closed when the relay is cut short, `done()`
        called when it ends either way."""
        relayed = False
        try:
            yield from chunks
            relayed = True
        finally:
            if not relayed:  # the client left, or the upstream failed, half-way: the connection is unusable
                connection.close()
            done()
