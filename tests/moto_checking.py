"""moto's server on loopback with its signature checks on, for the tests that need a checking upstream.

moto checks signatures (with botocore's signer, against the access keys of
its IAM) once `INITIAL_NO_AUTH_ACTION_COUNT` actions have run: the first
`free_actions` calls set up the identities, every later one is checked. The
setting is process-wide, so it is restored when the block ends.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

from moto import server as moto_server
from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin


@contextmanager
def moto_checking_signatures(free_actions: int) -> Iterator[str]:
    """The URL of a moto server that checks every signature after its first `free_actions` actions."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    saved = settings.INITIAL_NO_AUTH_ACTION_COUNT
    ActionAuthenticatorMixin.request_count = 0
    settings.INITIAL_NO_AUTH_ACTION_COUNT = free_actions
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        settings.INITIAL_NO_AUTH_ACTION_COUNT = saved
        server.stop()
