"""A loopback HTTP server that verifies every request with `sigv4.verify`, for the adapter tests.

Each request is rebuilt as a `sigv4.Request` from the bytes received (the
target exactly as sent, headers in order, the body de-chunked when sent with
Transfer-Encoding: chunked), verified, and for aws-chunked uploads decoded
with `sigv4.chunked_decode`, which checks every chunk signature. The reply is
200 with JSON {"key", "algorithm", "presigned", "payload_hash", "body"} or
403 with {"reason", "message"}. Paths starting with `/redirect/` answer 307
with the Location given in the `to` query parameter, unverified.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import sigv4
from sigv4.chunked_decode import ChunkData, decoder_for
from sigv4.errors import StreamDecodeError


@dataclass
class Received:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class Server:
    url: str
    keys: dict[str, sigv4.Credentials]
    s3: bool = False
    received: list[Received] = field(default_factory=list)


def _read_chunked(rfile) -> bytes:  # type: ignore[no-untyped-def]
    out = bytearray()
    while True:
        size = int(rfile.readline().split(b";")[0].strip(), 16)
        if size == 0:
            while rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return bytes(out)
        out += rfile.read(size)
        rfile.readline()


def _handler(server: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def _reply(self, status: int, record: dict[str, object], location: str | None = None) -> None:
            data = json.dumps(record).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if location:
                self.send_header("Location", location)
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            headers = list(self.headers.items())
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                body = _read_chunked(self.rfile)
            else:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            server.received.append(Received(self.command, self.path, headers, body))
            if self.path.startswith("/redirect/"):
                to = parse_qs(urlsplit(self.path).query)["to"][0]
                self._reply(307, {}, location=to)
                return
            request = sigv4.Request(self.command, self.path, headers, body)
            try:
                identity = sigv4.verify(request, server.keys.get, now=datetime.now(timezone.utc), s3=server.s3)
            except sigv4.VerificationError as err:
                self._reply(403, {"reason": err.reason, "message": str(err)})
                return
            if identity.payload_hash.startswith("STREAMING-"):
                decoder = decoder_for(identity, request)
                try:
                    events = decoder.feed(body)
                    decoder.close()
                except StreamDecodeError as err:
                    self._reply(403, {"reason": err.reason, "message": str(err)})
                    return
                body = b"".join(e.data for e in events if isinstance(e, ChunkData))
            self._reply(200, {"key": identity.access_key_id, "algorithm": identity.algorithm,
                              "presigned": identity.presigned, "payload_hash": identity.payload_hash,
                              "body": body.decode("latin-1"), "path": self.path.partition("?")[0]})

        do_GET = do_POST = do_PUT = do_DELETE = _handle

    return Handler


@contextmanager
def verifying_server(keys: dict[str, sigv4.Credentials], *, s3: bool = False) -> Iterator[Server]:
    """Serve on 127.0.0.1 at a free port until the block ends."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server = Server(f"http://127.0.0.1:{httpd.server_address[1]}", keys, s3)
    httpd.RequestHandlerClass = _handler(server)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
