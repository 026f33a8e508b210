"""A loopback HTTP server that verifies every request with `sigv4.verify`, for the adapter tests.

Each request is rebuilt as a `sigv4.Request` from the bytes received (the
target exactly as sent, headers in order, the body de-chunked when sent with
Transfer-Encoding: chunked), verified, and for aws-chunked uploads decoded
with `sigv4.chunked_decode`, which checks every chunk signature. The reply is
200 with JSON {"key", "algorithm", "presigned", "payload_hash", "body"} or
403 with {"reason", "message"}; a request time more than 15 minutes from the
server's clock gets AWS's own clock-skew answer instead (S3's XML
`RequestTimeTooSkewed` with `ServerTime`, else JSON `InvalidSignatureException`
"Signature expired" / "Signature not yet current"), with a `Date` header and,
when `age` is set, an `Age` header as a cache would add. Paths starting with `/redirect/` answer 307
with the Location given in the `to` query parameter, unverified. A multipart/form-data POST is a browser
upload (a presigned POST form): its fields are checked with `sigv4.post.verify_post` for the bucket the
path's first segment names, and the reply carries the uploaded file as `body`.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import sigv4
from sigv4.chunked_decode import ChunkData, decoder_for
from sigv4.errors import StreamDecodeError
from sigv4.post import verify_post


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
    #: Add `Age: <n>` to clock-skew answers, as a cache in front of the server would.
    age: int | None = None
    #: Answer a verified request 200 with no body, as S3 answers a PUT (an SDK reads S3's bodies as XML).
    empty_ok: bool = False
    #: Each verified (200) or refused (403) answer's record, in order.
    verdicts: list[dict[str, object]] = field(default_factory=list)


_AMZ = "%Y%m%dT%H%M%SZ"


def skew_answer(signing_time: datetime, now: datetime, s3: bool) -> tuple[int, str, bytes]:
    """(status, content type, body) of AWS's answer to a request signed at `signing_time`, 15 minutes off."""
    if s3:
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>RequestTimeTooSkewed</Code><Message>The "
                "difference between the request time and the current time is too large.</Message><RequestTime>"
                f"{signing_time:{_AMZ}}</RequestTime><ServerTime>{now:%Y-%m-%dT%H:%M:%SZ}</ServerTime>"
                "<MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds><RequestId>R</RequestId></Error>")
        return 403, "application/xml", body.encode()
    if signing_time < now:
        message = (f"Signature expired: {signing_time:{_AMZ}} is now earlier than "
                   f"{now - timedelta(minutes=15):{_AMZ}} ({now:{_AMZ}} - 15 min.)")
    else:
        message = (f"Signature not yet current: {signing_time:{_AMZ}} is still later than "
                   f"{now + timedelta(minutes=15):{_AMZ}} ({now:{_AMZ}} + 15 min.)")
    body = json.dumps({"__type": "InvalidSignatureException", "message": message})
    return 400, "application/x-amz-json-1.0", body.encode()


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
            if status in (200, 403):
                server.verdicts.append(record)
            data = b"" if status == 200 and server.empty_ok else json.dumps(record).encode()
            self._send(status, "application/json", data, [("Location", location)] if location else [])

        def _send(self, status: int, content_type: str, data: bytes, extra: list[tuple[str, str]]) -> None:
            self.send_response(status)  # adds Date
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra:
                self.send_header(name, value)
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
            now = datetime.now(timezone.utc)
            if self.headers.get_content_type() == "multipart/form-data":
                self._upload(body, now)
                return
            request = sigv4.Request(self.command, self.path, headers, body)
            try:
                identity = sigv4.verify(request, server.keys.get, now=now, s3=server.s3)
            except sigv4.VerificationError as err:
                if err.reason in ("skew", "not_yet_valid") and err.auth is not None:
                    status, content_type, data = skew_answer(err.auth.signing_time, now, server.s3)
                    self._send(status, content_type, data, [] if server.age is None else [("Age", str(server.age))])
                    return
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

        def _upload(self, body: bytes, now: datetime) -> None:
            head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
            parts = BytesParser(policy=HTTP).parsebytes(head + body)
            fields = [(part.get_param("name", header="content-disposition"), part.get_payload(decode=True))
                      for part in parts.iter_parts()]
            form = [(name, value.decode()) for name, value in fields if name != "file"]
            try:
                identity = verify_post(form, server.keys.get, now=now, bucket=self.path.split("/")[1])
            except sigv4.VerificationError as err:
                self._reply(403, {"reason": err.reason, "message": str(err)})
                return
            self._reply(200, {"key": identity.access_key_id, "algorithm": "POST", "presigned": True,
                              "body": dict(fields).get("file", b"").decode("latin-1"), "path": self.path})

        do_GET = do_POST = do_PUT = do_DELETE = _handle

    return Handler


@contextmanager
def serve_http(handler: Callable[[str], type[BaseHTTPRequestHandler]], *,
               tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """Serve `handler(url)` on 127.0.0.1 at a free port, in a thread, until the block ends; yields the URL
    (https with `tls`)."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    url = f"{'https' if tls else 'http'}://127.0.0.1:{httpd.server_address[1]}"
    httpd.RequestHandlerClass = handler(url)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@contextmanager
def verifying_server(keys: dict[str, sigv4.Credentials], *, s3: bool = False, tls: ssl.SSLContext | None = None,
                     empty_ok: bool = False) -> Iterator[Server]:
    """Serve on 127.0.0.1 at a free port until the block ends; over HTTPS with `tls` (SDKs send trailing
    checksums, STREAMING-UNSIGNED-PAYLOAD-TRAILER, only over TLS)."""
    server = Server("", keys, s3, empty_ok=empty_ok)
    with serve_http(lambda url: _handler(server), tls=tls) as server.url:
        yield server
