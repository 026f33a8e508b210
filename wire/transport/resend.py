"""Sending a signed request the way `sigv4 send --sign` and `sigv4 call` do: a body streamed from a file,
and one more try, signed for the server's clock, when the answer says ours is off.

Strategy: the caller gives a signing function of the clock skew, so this
module signs again without knowing how; `sigv4.clock_skew.retry_offset` measures the
server's clock from its error, and the request is signed again for that time
and sent once more, with every file (the body, the output) rewound first.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any

import sigv4
from sigv4.redact import masked_token_note
from sigv4.clock_skew import retry_offset
from wire.transport import signing
from wire.transport.client import Exchange, TransportOptions, send_request


def with_body_file(request: sigv4.Request, body_file: Any, *, chunked: bool) -> sigv4.Request:
    """`request` with the file as its body: its size replaces any stale Content-Length (or, for an aws-chunked
    upload, is the decoded length the signer frames)."""
    size = str(os.fstat(body_file.fileno()).st_size)
    request = request.with_body(body_file)
    if chunked:
        return request.with_header("X-Amz-Decoded-Content-Length", size)
    return request if request.header("content-length") in (None, size) else request.with_header("Content-Length", size)


def server_skew(exchange: Exchange, warn: Callable[[str], None]) -> timedelta | None:
    """The server's clock minus ours when `exchange` is a clock-skew error worth one more try (said on `warn`)."""
    body = exchange.body or bytes(exchange.received)  # the raw bytes when the body went to a file
    if offset := retry_offset(exchange.status, exchange.headers, body, signing.now()):
        warn(f"* the server's clock is {offset.total_seconds():+.0f} s from ours: signed again for its time, sent again")
    return offset


def send_signed(request: sigv4.Request, options: TransportOptions, env: Mapping[str, str],
                warn: Callable[[str], None], *, resign: Callable[[timedelta], sigv4.Request] | None = None,
                sink: Any = None, rewind: Iterable[Any] = ()) -> tuple[sigv4.Request, Exchange]:
    """Send `request`; when the answer is a clock-skew error and `resign` is given, send
    `resign(server's clock - ours)` once more.

    `sink` takes the response body (`send_request`); it and the files in `rewind`
    are rewound before the second try. Returns (the request sent last, its
    exchange); raises what `send_request` raises.
    """
    if note := masked_token_note(request):  # it will be refused: say why before the server's puzzling answer
        warn(f"sigv4: warning: {note}")
    exchange = send_request(request, options, env, warn, sink=sink)
    if resign is None or (skew := server_skew(exchange, warn)) is None:
        return request, exchange
    for file in (*rewind, *filter(None, (sink,))):
        file.seek(0)
    request = resign(skew)
    exchange = send_request(request, options, env, warn, sink=sink)
    if sink is not None:
        sink.truncate()  # the first answer may have been the longer one
    return request, exchange
