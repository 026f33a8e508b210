"""`sigv4 proxy`: unsigned requests (curl, http.client) reach signed endpoints through it.

Upstreams: the local Account endpoint (`sigv4 serve`, which verifies every
signature), moto's server (STS and S3), and the verifying server of the
adapter tests with S3 rules (checks the S3 canonicalization and
UNSIGNED-PAYLOAD). The CLI test runs `sigv4 proxy` as a user would, in a
subprocess, and stops it with SIGTERM.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

import sigv4
from serve_fixtures import DEFAULT, start, stop
from sigv4.integrations import static
from verifying_server import verifying_server
from wire.transport.proxy import SigningProxy
from wire.transport.server import LocalServer, ServeLimits

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT_CREDS = sigv4.Credentials(DEFAULT["access_key_id"], DEFAULT["secret_access_key"])


@contextmanager
def proxy(upstream: str, service: str, creds: sigv4.Credentials, *, region: str = "us-east-1",
          limits: ServeLimits = ServeLimits()) -> Iterator[tuple[str, list[str]]]:
    log: list[str] = []
    app = SigningProxy(upstream, service, region, static(creds), {}, log.append)
    server = LocalServer(app, "127.0.0.1", 0, limits).start()
    try:
        yield server.url, log
    finally:
        server.stop()


def curl(*args: str) -> tuple[int, bytes]:
    """curl's exit status and output (-s, and -w with the status code on the last line)."""
    done = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", *args], capture_output=True, timeout=60)
    return done.returncode, done.stdout


def fetch(url: str, method: str = "GET", body: bytes | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """An unsigned request with http.client (curl's stand-in where curl is missing)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body, headers or {})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data


needs_curl = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


@needs_curl
def test_unsigned_curl_reaches_the_account_endpoint(tmp_path: Path) -> None:
    running = start(tmp_path)
    try:
        with proxy(running.url, "account", ACCOUNT_CREDS) as (url, log):
            code, out = curl("-X", "POST", f"{url}/putAlternateContact", "-H", "Content-Type: application/json",
                             "-d", json.dumps({"AlternateContactType": "BILLING", "EmailAddress": "b@example.com",
                                               "Name": "Bill", "PhoneNumber": "+1-555-0100", "Title": "CFO"}))
            assert code == 0 and out.endswith(b"\n200"), out
            code, out = curl("-X", "POST", f"{url}/getAlternateContact", "-H", "Content-Type: application/json",
                             "-d", '{"AlternateContactType": "BILLING"}')
            body, _, status = out.rpartition(b"\n")
            assert status == b"200" and json.loads(body)["AlternateContact"]["Name"] == "Bill"
    finally:
        stop(running)
    assert [line.split(" ")[:3] for line in log] == [["POST", "/putAlternateContact", "200"],
                                                     ["POST", "/getAlternateContact", "200"]]
    assert all(line.endswith(" ms") for line in log)


def test_a_signature_error_upstream_is_logged_with_its_diagnosis(tmp_path: Path) -> None:
    running = start(tmp_path)
    wrong = sigv4.Credentials(DEFAULT["access_key_id"], "not-the-secret")
    try:
        with proxy(running.url, "account", wrong) as (url, log):
            status, body = fetch(f"{url}/listRegions", "POST", b"{}", {"Content-Type": "application/json"})
    finally:
        stop(running)
    assert status == 403 and b"signature" in body.lower()
    assert log[0].startswith("POST /listRegions 403 ")
    diagnosis = "\n".join(log[1:])
    assert "canonical request" in diagnosis.lower() and "not-the-secret" not in diagnosis
    # The proxy signed with its credentials: the diagnosis uses them, and proves the cause rather than asking.
    assert "[secret, proved]" in diagnosis and "would settle it" not in diagnosis


@needs_curl
def test_unsigned_curl_reaches_moto_sts_and_s3(moto_endpoint: str) -> None:
    creds = sigv4.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    with proxy(moto_endpoint, "sts", creds) as (url, log):
        code, out = curl("-d", "Action=GetCallerIdentity&Version=2011-06-15", url + "/")
        assert out.endswith(b"\n200") and b"<Arn>arn:aws:" in out, out
    with proxy(moto_endpoint, "s3", creds) as (url, log):
        assert curl("-X", "PUT", f"{url}/proxied-bucket")[1].endswith(b"\n200")
        data = os.urandom(200_000)
        assert fetch(f"{url}/proxied-bucket/dir/a%20b~c.bin", "PUT", data)[0] == 200
        assert fetch(f"{url}/proxied-bucket/dir/a%20b~c.bin") == (200, data)
    assert [line.split(" ")[2] for line in log] == ["200", "200", "200"]


def test_s3_rules_and_unsigned_payload_verified(tmp_path: Path) -> None:
    creds = sigv4.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    with verifying_server({"AKIDEXAMPLE": creds}, s3=True) as upstream:
        with proxy(upstream.url, "s3", creds) as (url, _):
            status, body = fetch(f"{url}/bucket/a//b/../c%2Fd?list-type=2&prefix=x%20y", "PUT", b"hello",
                                 {"Connection": "keep-alive, X-Hop", "X-Hop": "dropped", "X-Amz-Meta-Kept": "1"})
    assert status == 200, body
    record = json.loads(body)
    assert record["payload_hash"] == "UNSIGNED-PAYLOAD" and record["body"] == "hello"
    assert record["path"] == "/bucket/a//b/../c%2Fd"
    sent = dict((name.lower(), value) for name, value in upstream.received[0].headers)
    assert "x-hop" not in sent and sent["x-amz-meta-kept"] == "1"


def test_the_server_limits_apply(tmp_path: Path) -> None:
    creds = sigv4.Credentials("AKIDEXAMPLE", "secret")
    with verifying_server({"AKIDEXAMPLE": creds}) as upstream:
        with proxy(upstream.url, "execute-api", creds, limits=ServeLimits(max_body_bytes=1000)) as (url, log):
            assert fetch(url + "/big", "POST", b"x" * 1001)[0] == 413
            assert fetch(url + "/small", "POST", b"x" * 1000)[0] == 200
    assert upstream.received[-1].body == b"x" * 1000 and len(upstream.received) == 1


def test_a_streamed_s3_upload_is_not_bounded_by_the_body_limit() -> None:
    # `sigv4 proxy --service s3` once answered 413 to uploads over --max-body-bytes though their bodies stream
    # through (UNSIGNED-PAYLOAD) and never sit in memory: only bodies the proxy holds are bounded.
    creds = sigv4.Credentials("AKIDEXAMPLE", "secret")
    limits = ServeLimits(max_body_bytes=1000, max_buffered_bytes=1500)
    with verifying_server({"AKIDEXAMPLE": creds}, s3=True) as upstream:
        with proxy(upstream.url, "s3", creds, limits=limits) as (url, log):
            assert fetch(url + "/bucket/big", "PUT", b"x" * 5000)[0] == 200
            # Without a Content-Length the body cannot stream unsigned: the proxy holds it, so the limit holds.
            parts = urlsplit(url)
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            connection.request("PUT", "/bucket/chunked", iter([b"y" * 600, b"y" * 600]), encode_chunked=True)
            assert connection.getresponse().status == 413
            connection.close()
    assert [(r.target, r.body) for r in upstream.received] == [("/bucket/big", b"x" * 5000)]


def test_an_upload_its_client_abandons_is_logged_and_its_upstream_connection_closed() -> None:
    """A client that closes half-way through a streamed S3 upload: the request was not logged at all, and the
    proxy's connection to the upstream was left open, its request half sent."""
    from local_http import silent_upstream, wait_for
    with silent_upstream() as (upstream, ended, _), \
            proxy(upstream, "s3", sigv4.Credentials("AKID", "secret")) as (url, log):
        parts = urlsplit(url)
        with socket.create_connection((parts.hostname, parts.port)) as client:
            client.sendall(b"PUT /bucket/cut HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + b"z" * 1000)
        assert ended.wait(30), "the upstream connection was left open"
        line = wait_for(log)[0]
    assert line.startswith("PUT /bucket/cut 400 ") and "peer closed connection" in line, log


def test_an_unreachable_upstream_is_a_502() -> None:
    with proxy("http://127.0.0.1:9", "execute-api", sigv4.Credentials("AKID", "secret")) as (url, log):
        status, body = fetch(url + "/x")
    assert status == 502 and b"upstream http://127.0.0.1:9" in body
    assert log[0].startswith("GET /x 502 ")


def test_sigv4_proxy_on_the_command_line(tmp_path: Path) -> None:
    running = start(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AWS_ACCESS_KEY_ID": DEFAULT["access_key_id"],
           "AWS_SECRET_ACCESS_KEY": DEFAULT["secret_access_key"], "AWS_EC2_METADATA_DISABLED": "true"}
    process = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "proxy", "--upstream", running.url,
                                "--service", "account", "--port", "0"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        banner = process.stderr.readline()
        assert banner.startswith("sigv4 proxy: http://127.0.0.1:") and "credentials from env" in banner, banner
        url = banner.split()[2]
        status, body = fetch(f"{url}/listRegions", "POST", b"{}", {"Content-Type": "application/json"})
        assert status == 200 and b"us-east-1" in body
        assert process.stderr.readline().startswith("POST /listRegions 200 ")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        stop(running)


def test_sigv4_proxy_refuses_a_bad_upstream_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    import cli
    env = {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"}
    assert cli.main(["proxy", "--upstream", "ftp://example.com", "--service", "s3"], env) == 2
    assert capsys.readouterr().err.startswith("sigv4: error: --upstream 'ftp://example.com'")


@contextmanager
def staged_upstream(half: int) -> Iterator[tuple[str, dict[str, threading.Event]]]:
    """An upstream that proves streaming by ordering, not timing: it reads the first half of a PUT body and
    says so, and answers a GET with half a body, then waits for the test to have read it before the rest."""
    events = {name: threading.Event() for name in ("got_first_half", "client_read_first_half", "second_half_came")}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_PUT(self) -> None:
            self.rfile.read(half)
            events["got_first_half"].set()
            self.rfile.read(int(self.headers["Content-Length"]) - half)
            events["second_half_came"].set()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(2 * half))
            self.end_headers()
            self.wfile.write(b"a" * half)
            self.wfile.flush()
            if events["client_read_first_half"].wait(30):
                self.wfile.write(b"b" * half)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", events
    finally:
        for event in events.values():
            event.set()
        httpd.shutdown()
        httpd.server_close()


def test_bodies_stream_both_ways_for_s3() -> None:
    half = 256 * 1024
    with staged_upstream(half) as (upstream, events), \
            proxy(upstream, "s3", sigv4.Credentials("AKID", "secret"),
                  limits=ServeLimits(max_body_bytes=4 * half)) as (url, log):
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        connection.putrequest("PUT", "/bucket/key")
        connection.putheader("Content-Length", str(2 * half))
        connection.endheaders()
        connection.send(b"x" * half)
        # The proxy passed the first half on while the client still holds the second.
        assert events["got_first_half"].wait(30) and not events["second_half_came"].is_set()
        connection.send(b"y" * half)
        assert connection.getresponse().status == 200
        connection.close()
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        connection.request("GET", "/bucket/key")
        response = connection.getresponse()
        # The first half arrives while the upstream still holds the second.
        assert response.status == 200 and response.read(half) == b"a" * half
        events["client_read_first_half"].set()
        assert response.read() == b"b" * half
        connection.close()
    assert [line.split(" ")[:3] for line in log] == [["PUT", "/bucket/key", "200"], ["GET", "/bucket/key", "200"]]


def test_one_upstream_connection_per_client_connection_and_a_stale_one_is_replaced() -> None:
    from local_http import http_server
    creds = sigv4.Credentials("AKID", "secret")
    with http_server() as (upstream, recorder), proxy(upstream, "execute-api", creds) as (url, log):
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        for path in ("/one", "/two", "/three"):
            connection.request("POST", path, b"abc")
            response = connection.getresponse()
            assert (response.status, response.read()) == (200, b"got 3")
        connection.close()
    assert recorder.connections == 1 and len(recorder.requests) == 3
    assert all(dict(request.headers)[b"authorization"].startswith(b"AWS4-HMAC-SHA256 ")
               for request, _ in recorder.requests)

    # An upstream that answers once per connection, then closes it without saying so.
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[int] = []

    def answer_once() -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            accepted.append(1)
            with sock:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += sock.recv(65536)
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    threading.Thread(target=answer_once, daemon=True).start()
    try:
        with proxy(f"http://127.0.0.1:{listener.getsockname()[1]}", "execute-api", creds) as (url, log):
            parts = urlsplit(url)
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            for path in ("/a", "/b"):
                connection.request("GET", path)
                response = connection.getresponse()
                assert (response.status, response.read()) == (200, b"ok"), log
            connection.close()
    finally:
        listener.close()
    assert len(accepted) == 2 and [line.split(" ")[2] for line in log] == ["200", "200"]


def test_a_plus_in_the_query_goes_upstream_as_the_plus_it_was_signed_as() -> None:
    """curl `...?prefix=my+file` through the proxy: signed as a literal plus (`%2B`, as `sigv4.sign` reads `+`),
    so it must go out as `%2B`; sent raw, servers that read `+` form-style as a space (moto, AWS's
    front ends) compute another canonical query and answer SignatureDoesNotMatch."""
    creds = sigv4.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    with verifying_server({"AKIDEXAMPLE": creds}, s3=True) as upstream:
        with proxy(upstream.url, "s3", creds) as (url, _):
            status, body = fetch(f"{url}/bucket?list-type=2&prefix=my+file&x=a%2Bb")
    assert status == 200, body
    assert upstream.received[0].target == "/bucket?list-type=2&prefix=my%2Bfile&x=a%2Bb"


def test_connect_is_refused_with_501_and_never_forwarded() -> None:
    """`CONNECT host:443` (a client told to use the proxy as HTTPS_PROXY) was signed and forwarded; an upstream's
    2xx left the proxy's thread spinning on h11's PAUSED forever. A reverse proxy opens no tunnels."""
    from local_http import http_server
    with http_server() as (upstream, recorder), \
            proxy(upstream, "execute-api", sigv4.Credentials("AKID", "secret")) as (url, log):
        parts = urlsplit(url)
        with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
            sock.sendall(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
                         b"GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
    refused, _, after = received.partition(b"HTTP/1.1 200 ")
    assert refused.startswith(b"HTTP/1.1 501 ") and b"CONNECT example.com:443: sigv4 proxy opens no tunnels" in refused
    assert b"not as HTTPS_PROXY" in refused and after.endswith(b"got 0")  # the connection serves on
    assert [request.method for request, _ in recorder.requests] == [b"GET"]
    assert log[0].startswith("CONNECT example.com:443 501 ")


TEMPORARY = sigv4.Credentials("ASIAQXAMPLE234567890", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                              "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+abc=" + "Zm9v" * 80)


def _echoes(secret: str) -> list[bytes]:
    """`secret` as answers echo it: raw, percent-encoded, as S3's hex dump."""
    raw = secret.encode()
    return [raw, quote(secret, safe="-_.~").encode(), " ".join(f"{b:02x}" for b in raw).encode()]


def _leaks(data: bytes) -> list[bytes]:
    creds = TEMPORARY
    return [form for secret in (creds.access_key_id, creds.secret_access_key, creds.session_token or "")
            for form in _echoes(secret) if form in data]


@contextmanager
def echoing_upstream() -> Iterator[str]:
    """An upstream that echoes the credentials it was signed with, as AWS and echo services do: S3's
    SignatureDoesNotMatch XML (canonical request, its hex dump, the access key id), a header, a redirect to a
    presigned URL, and a 200 body (chunked, a token split between chunks; or with a Content-Length)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            token = self.headers["X-Amz-Security-Token"]
            akid = self.headers["Authorization"].split("Credential=")[1].split("/")[0]
            canonical = f"GET\n{self.path}\n\nhost:{self.headers['Host']}\nx-amz-security-token:{token}\n"
            if self.path == "/denied":
                hexdump = " ".join(f"{b:02x}" for b in canonical.encode())
                body = (f"<Error><Code>SignatureDoesNotMatch</Code><AWSAccessKeyId>{akid}</AWSAccessKeyId>"
                        f"<CanonicalRequest>{canonical}</CanonicalRequest>"
                        f"<CanonicalRequestBytes>{hexdump}</CanonicalRequestBytes></Error>").encode()
                self._answer(403, body, [("X-Echo-Token", token), ("X-Amz-Security-Token", token),
                                         ("Content-Length", str(len(body)))])
            elif self.path == "/redirect":
                self._answer(307, b"", [("Location", f"https://b.s3.amazonaws.com/k?X-Amz-Security-Token="
                                                     f"{quote(token, safe='')}&X-Amz-Credential={akid}%2F"),
                                        ("Content-Length", "0")])
            elif self.path == "/sized":
                body = f"token {quote(token, safe='-_.~')} id {akid} end".encode()
                self._answer(200, body, [("Content-Length", str(len(body)))])
            else:  # chunked, every secret split between two chunks
                self._answer(200, None, [("Transfer-Encoding", "chunked")])
                text = f"x-amz-security-token:{token}\nCredential={akid}/20260101\n" + canonical + "end"
                for piece in (text[:30], text[30:200], text[200:421], text[421:433], text[433:]):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece.encode()))
                    self.wfile.flush()
                    time.sleep(0.02)  # likelier to arrive as pieces (the mask does not depend on it)
                self.wfile.write(b"0\r\n\r\n")

        def _answer(self, status: int, body: bytes | None, headers: list[tuple[str, str]]) -> None:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            if body:
                self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_the_proxys_credentials_never_reach_its_client() -> None:
    """An upstream's refusal echoes the canonical request, `x-amz-security-token:<token>` included: the proxy
    relayed it as it came, handing its session token to its client. Masked in headers and bodies, whole or
    streamed (a secret split between chunks too), raw, percent-encoded or hex-dumped."""
    with echoing_upstream() as upstream, proxy(upstream, "s3", TEMPORARY) as (url, log):
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        bodies = {}
        for path, status, kept in [("/denied", 403, b"<Code>SignatureDoesNotMatch</Code>"),
                                   ("/redirect", 307, b""), ("/sized", 200, b" end"), ("/chunked", 200, b"end")]:
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
            head = "\n".join(f"{name}: {value}" for name, value in response.getheaders()).encode()
            assert (response.status, _leaks(head + b"\n" + body)) == (status, []), (path, head, body)
            assert kept in body
            bodies[path] = body
            if path == "/sized":  # masked in place: the upstream's Content-Length still holds
                assert int(response.getheader("Content-Length")) == len(body) and b"token ***" in body
        connection.close()
    assert b"<AWSAccessKeyId>****</AWSAccessKeyId>" in bodies["/denied"]
    assert b"x-amz-security-token:****" in bodies["/chunked"]
    assert log[0].startswith("GET /denied 403 ")


def test_the_token_echoed_by_a_refusing_account_endpoint_is_masked(tmp_path: Path) -> None:
    """End to end with temporary credentials and the wrong secret: `sigv4 serve` refuses the signature and echoes
    the canonical request it expected; the proxy's client reads the refusal, never the token."""
    from wire.service import load_directory
    from wire.service.app import build_app
    token = TEMPORARY.session_token or ""
    accounts = {"accounts": [{"access_key_id": TEMPORARY.access_key_id, "secret_access_key": "the-right-secret",
                              "session_token": token, "account_id": "111122223333"}]}
    app = build_app(load_directory(accounts), str(tmp_path / "db"), tmp_path / "trail", 0, lambda line: None)
    with LocalServer(app) as upstream, proxy(upstream.url, "account", TEMPORARY) as (url, log):
        status, body = fetch(f"{url}/listRegions", "POST", b"{}", {"Content-Type": "application/json"})
    app.close()
    assert status == 403 and b"The Canonical String for this request should have been" in body
    assert b"x-amz-security-token:****" in body and _leaks(body) == []


def test_a_secret_split_anywhere_between_relayed_chunks_is_masked_and_nothing_else_changes() -> None:
    from wire.transport.masking import CredentialMask
    mask = CredentialMask.of(TEMPORARY)
    token, akid = (TEMPORARY.session_token or "").encode(), TEMPORARY.access_key_id.encode()
    hexdump = _echoes(token.decode())[2]
    text = b"IQ" + token + b" ASI " + hexdump + b" 4" + akid + b"," + _echoes(token.decode())[1] + b" IQoJ end"
    expected = text
    for form in sorted((f for s in (token.decode(), akid.decode()) for f in _echoes(s)), key=len, reverse=True):
        expected = expected.replace(form, b"*" * len(form))
    assert _leaks(expected) == [] and len(expected) == len(text) and expected.endswith(b" IQoJ end")
    for cut in range(len(text) + 1):
        assert b"".join(mask.stream(iter([text[:cut], text[cut:]]))) == expected, cut
    assert b"".join(mask.stream(text[i:i + 1] for i in range(len(text)))) == expected  # a byte at a time


def test_short_dummy_credentials_are_masked_in_their_places_only() -> None:
    """`test`-style credentials are masked where an answer echoes them (token header, token line, access key
    id element), not wherever their text occurs (a literal rule would turn `/test-bucket/` into `/****-bucket/`)."""
    with echoing_upstream() as upstream, \
            proxy(upstream, "s3", sigv4.Credentials("AKIDEXAMPLE", "secret", "dummy")) as (url, log):
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        connection.request("GET", "/denied")
        response = connection.getresponse()
        body = response.read()
        connection.close()
    assert response.status == 403 and response.getheader("X-Amz-Security-Token") == "****"
    assert b"x-amz-security-token:****" in body and b"<AWSAccessKeyId>****</AWSAccessKeyId>" in body
    assert b"dummy" not in body and b"AKIDEXAMPLE" not in body
    assert _echoes("dummy")[2] not in body and b" 3a 2a 2a 2a 2a 0a" in body  # the hex dump's token line: ":****\n"
