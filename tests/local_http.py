"""Loopback-only test servers: a recording HTTP/1.1 server (plain or TLS) and a CONNECT proxy; a GET through
an HTTPS proxy."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import h11
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

Responder = Callable[[h11.Request, bytes], tuple[int, list[tuple[str, str]], bytes]]


def echo(request: h11.Request, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    return 200, [("Content-Type", "text/plain")], b"got " + str(len(body)).encode()


class Recorder:
    """Every connection's raw received bytes, and the requests seen."""

    def __init__(self) -> None:
        self.raw: list[bytes] = []
        self.requests: list[tuple[h11.Request, bytes]] = []
        self.connections = 0


def _serve_connection(sock: socket.socket, responder: Responder, recorder: Recorder, delay: float) -> None:
    conn = h11.Connection(h11.SERVER)
    raw = bytearray()
    recorder.raw.append(b"")
    index = len(recorder.raw) - 1
    request, body = None, bytearray()
    with sock:
        sock.settimeout(5)
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError:
                return
            if event is h11.NEED_DATA:
                try:
                    data = sock.recv(65536)
                except OSError:
                    return
                raw += data
                recorder.raw[index] = bytes(raw)
                conn.receive_data(data)
            elif isinstance(event, h11.Request):
                request, body = event, bytearray()
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                recorder.requests.append((request, bytes(body)))
                if delay:
                    threading.Event().wait(delay)
                status, headers, payload = responder(request, bytes(body))
                headers = [*headers, ("Content-Length", str(len(payload)))]
                try:
                    sock.sendall(conn.send(h11.Response(status_code=status, headers=headers))
                                 + conn.send(h11.Data(data=payload)) + conn.send(h11.EndOfMessage()))
                except OSError:
                    return
                if conn.our_state is h11.MUST_CLOSE:
                    return
                conn.start_next_cycle()
            elif isinstance(event, h11.ConnectionClosed):
                return


@contextmanager
def http_server(responder: Responder = echo, *, tls: ssl.SSLContext | None = None, delay: float = 0,
                host: str = "127.0.0.1") -> Iterator[tuple[str, Recorder]]:
    """Serve on a free loopback port; yields (base URL, recorder)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.bind((host, 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    recorder = Recorder()
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            recorder.connections += 1
            if tls is not None:
                try:
                    sock = tls.wrap_socket(sock, server_side=True)
                except (ssl.SSLError, OSError):
                    sock.close()
                    continue
            threading.Thread(target=_serve_connection, args=(sock, responder, recorder, delay), daemon=True).start()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    scheme = "https" if tls else "http"
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    try:
        yield f"{scheme}://{shown}:{port}", recorder
    finally:
        stop.set()
        # Closing alone leaves the listener listening while the thread is blocked accepting on it (Linux), and its
        # descriptor's number free for the next socket (a later test's server, moto's) that this thread could then
        # accept from, answering with this test's responder (seen: moto's STS answered with another test's 403).
        # Shutting it down first ends the accept.
        with contextlib.suppress(OSError):  # (a platform that cannot shut a listener down never had the issue)
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()


def self_signed(tmp: Path, name: str = "localhost") -> tuple[ssl.SSLContext, Path]:
    """A server TLS context with a fresh self-signed certificate, and the certificate's PEM path."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context, cert_path


@contextmanager
def connect_proxy() -> Iterator[tuple[str, list[str]]]:
    """A CONNECT-only proxy on loopback; yields (proxy URL, list of CONNECT targets seen)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    seen: list[str] = []

    def pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def handle(client: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            head += client.recv(4096)
        target = head.split(b" ")[1].decode()
        seen.append(target)
        host, _, port = target.rpartition(":")
        upstream = socket.create_connection((host.strip("[]"), int(port)))
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
        pipe(upstream, client)

    def loop() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(client,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", seen
    finally:
        listener.close()


def get_through_https_proxy(url: str, proxy: str, cafile: Path | str) -> tuple[int, bytes]:
    """(status, body) of a GET of the https `url` through the HTTPS_PROXY at `proxy`, trusting the CA in `cafile`."""
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"https": proxy}),
        urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=str(cafile))))
    with opener.open(url, timeout=30) as answer:
        return answer.status, answer.read()


@contextmanager
def silent_upstream() -> Iterator[tuple[str, threading.Event, list[str]]]:
    """An upstream that reads one connection to its end and never answers: its URL, an event set once the
    connection has closed, and a log list for the proxy in front of it to write to."""
    ended, log = threading.Event(), []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)

        def read_to_end() -> None:
            conn, _ = listener.accept()
            with conn:
                while conn.recv(65536):
                    pass
            ended.set()

        threading.Thread(target=read_to_end, daemon=True).start()
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", ended, log


def wait_for(items: list[str]) -> list[str]:
    """`items` once something is in it (a log a server thread writes as it unwinds), waiting up to 30 s."""
    for _ in range(600):
        if items:
            break
        time.sleep(0.05)
    return items


@contextmanager
def counting_relay(port: int) -> Iterator[tuple[str, list[int]]]:
    """A loopback TCP relay to `port`: its URL, and the bytes each connection's client sent through it (what the
    server behind it received or was offered)."""
    listener = socket.create_server(("127.0.0.1", 0))
    sent: list[int] = []

    def pump(source: socket.socket, sink: socket.socket, index: int | None) -> None:
        try:
            while data := source.recv(65536):
                if index is not None:
                    sent[index] += len(data)
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def accept() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", port))
            sent.append(0)
            threading.Thread(target=pump, args=(client, upstream, len(sent) - 1), daemon=True).start()
            threading.Thread(target=pump, args=(upstream, client, None), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", sent
    finally:
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() waiting for a client
        listener.close()
