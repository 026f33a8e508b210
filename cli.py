"""`sigv4`: sign, explain, verify, send and debug AWS requests from raw HTTP text.

Strategy: this module is the I/O edge of the toolkit. It reads files, the
environment, the clock and credential sources, then hands plain values to
the pure `sigv4` and `wire` packages and prints what comes back. Every
failure the user can cause ends as one line on stderr and exit status 2
(3 for network failures); secrets and tokens are masked in every output.
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NoReturn

import sigv4
from sigv4.keys import derive_steps
from sigv4.raw import parse_request, render_request

EXIT_USAGE = 2
EXIT_NETWORK = 3


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit status 2."""


# ---------------------------------------------------------------- secrets ---

def mask(secret: str | None) -> str:
    """Show a secret's length class, never its content."""
    return "(none)" if not secret else "****" + f"({len(secret)} chars)"


def redact(text: str, creds: sigv4.Credentials | None, *, show_token: bool = False) -> str:
    """Replace the secret key and (unless `show_token`) the session token wherever they appear in `text`."""
    if creds is None:
        return text
    for secret in (creds.secret_access_key, None if show_token else creds.session_token):
        if secret:
            # A presigned URL or a SigV2 query carries the token percent-encoded (STS tokens hold `/`, `+`, `=`).
            for form in (secret, sigv4.canonical.uri_encode(secret, keep_slash=False)):
                text = text.replace(form, "****")
    return text


def request_token(request: sigv4.Request) -> str | None:
    """The session token a request already carries: header, presigned query or SigV2 query."""
    token = request.header("x-amz-security-token")
    if token:
        return token
    for name, value in sigv4.canonical.query_pairs(request.query):
        if name in ("X-Amz-Security-Token", "SecurityToken") and value:
            return value
    return None


# ------------------------------------------------------------ credentials ---
# One implementation, shared with the embedding adapters; its CredentialsError
# is a SigningError, so main() prints it as a one-line exit-2 error.
from sigv4.integrations.credentials import ResolvedCredentials, profile_setting, resolve_credentials  # noqa: E402


# ------------------------------------------------------------------ input ---

def read_input(path: str) -> bytes:
    try:
        return sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as err:
        raise UsageError(f"{path}: cannot read ({err.strerror})") from None


def open_file(path: str, mode: str) -> Any:
    """`open(path, mode)`; the OS's refusal is a one-line usage error, like `read_input`'s."""
    try:
        return open(path, mode)  # noqa: SIM115  the caller closes it
    except OSError as err:
        raise UsageError(f"{path}: cannot open ({err.strerror})") from None


def parse_date(text: str | None) -> datetime:
    """`--date YYYYMMDDTHHMMSSZ`, or now (UTC) when absent."""
    if text is None:
        return datetime.now(timezone.utc).replace(microsecond=0)
    try:
        return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise UsageError(f"--date {text!r}: expected YYYYMMDDTHHMMSSZ, e.g. 20150830T123600Z") from None


def infer_scope(host: str | None) -> tuple[str | None, str | None]:
    """(service, region) from an AWS host name such as `account.us-east-1.amazonaws.com`."""
    if not host:
        return None, None
    labels = host.split(":")[0].lower().split(".")
    if len(labels) >= 4 and labels[-2:] == ["amazonaws", "com"]:
        return labels[0], labels[1]
    if len(labels) == 3 and labels[-2:] == ["amazonaws", "com"]:
        return labels[0], "us-east-1"
    return None, None


# ---------------------------------------------------------------- explain ---

def visible(text: str) -> str:
    """Make whitespace and line ends visible: `·` space, `→` tab, `↵` newline."""
    lines = text.split("\n")
    return "\n".join(
        f"  {i:>2} │ " + line.replace(" ", "·").replace("\t", "→") + ("↵" if i < len(lines) else "")
        for i, line in enumerate(lines, 1)
    )


def _key_steps(result: sigv4.SigningResult, creds: sigv4.Credentials, region: str, service: str) -> list[str]:
    """How the signing key comes from the secret, derived keys shortened: they are secrets too."""
    if result.algorithm == "AWS4-ECDSA-P256-SHA256":
        x, y = sigv4.v4a.public_key(creds)
        return [
            "4. Signing key: ECDSA P-256 private key derived from the secret (NIST SP 800-108 KDF,",
            '   HMAC-SHA256, input key "AWS4A" + secret, label "AWS4-ECDSA-P256-SHA256"); its public key:',
            f"   x = {x:064x}", f"   y = {y:064x}",
            "",
            "5. Signature = hex(DER(ECDSA-SHA256(private key, string-to-sign))) = " + result.signature,
        ]
    date = result.amz_date[:8]
    steps = derive_steps(creds.secret_access_key, date, region, service)
    short = lambda key: key.hex()[:8] + "…"  # noqa: E731
    return [
        "4. Signing key derivation (HMAC-SHA256 chain; derived keys shortened):",
        f'   kDate    = HMAC("AWS4" + secret, "{date}") = {short(steps.date_key)}',
        f'   kRegion  = HMAC(kDate, "{region}") = {short(steps.region_key)}',
        f'   kService = HMAC(kRegion, "{service}") = {short(steps.service_key)}',
        f'   kSigning = HMAC(kService, "aws4_request") = {short(steps.signing_key)}',
        "",
        f"5. Signature = hex(HMAC(kSigning, string-to-sign)) = {result.signature}",
    ]


def explain(result: sigv4.SigningResult | sigv4.v2.SigV2Result, creds: sigv4.Credentials, region: str,
            service: str) -> str:
    """A step-by-step account of one signature, secrets masked."""
    if isinstance(result, sigv4.v2.SigV2Result):
        parts = [
            "1. SigV2 string-to-sign (method, host, path, sorted encoded parameters):",
            visible(result.string_to_sign),
            "",
            f"2. Signature = base64({result.signature_method}(secret, string-to-sign)) = {result.signature}",
            f"   access key id {creds.access_key_id}, secret {mask(creds.secret_access_key)}",
        ]
        return redact("\n".join(parts), creds)
    parts = [
        "1. Canonical request (what the server rebuilds from the request it receives):",
        visible(result.canonical_request),
        "",
        f"   signed headers: {';'.join(result.signed_headers)}",
        f"   payload hash:   {result.payload_hash}",
        "",
        "2. String-to-sign (algorithm, date, credential scope, SHA-256 of the canonical request):",
        visible(result.string_to_sign),
        "",
        f"3. Credential scope: {result.credential_scope}",
        f"   access key id {creds.access_key_id}, secret {mask(creds.secret_access_key)}",
        "",
        *_key_steps(result, creds, region, service),
    ]
    if result.authorization:
        parts.append(f"   Authorization: {result.authorization}")
    else:
        parts.append(f"   URL: {result.url}")
    return redact("\n".join(parts), creds)


# ------------------------------------------------------------------- sign ---

def _sign_options(args: argparse.Namespace) -> dict[str, Any]:
    if args.algorithm == "v2":
        return {"algorithm": "v2"}
    options: dict[str, Any] = {
        "algorithm": args.algorithm,
        "s3": args.s3,
        "normalize_path": False if args.no_normalize_path else None,
        "double_encode": False if args.no_double_encode else None,
        "payload": sigv4.UNSIGNED_PAYLOAD if args.unsigned_payload else None,
        "omit_session_token": args.omit_session_token,
    }
    if args.chunked:
        if args.presign:
            raise UsageError("--chunked: a presigned URL cannot carry a chunk-signed body")
        ecdsa = "ECDSA-P256-SHA256" if args.algorithm == "v4a" else "HMAC-SHA256"
        options["payload"] = f"STREAMING-AWS4-{ecdsa}-PAYLOAD" + ("-TRAILER" if args.trailer else "")
        options["chunk_size"] = args.chunk_size
        options["trailer_checksum"] = args.trailer
    return options


def _scope_args(args: argparse.Namespace, request: sigv4.Request, resolved: ResolvedCredentials) -> tuple[str, str]:
    service, region = infer_scope(request.header("host"))
    region = args.region or resolved.region or region or "us-east-1"
    service = args.service or service
    if not service:
        raise UsageError("--service: required (the host name does not say which service this is)")
    return region, service


def sign_request(request: sigv4.Request, args: argparse.Namespace,
                 env: Mapping[str, str]) -> tuple[Any, ResolvedCredentials, str, str]:
    """Sign (or presign) `request` with the signing flags: (result, credentials, region, service)."""
    resolved = resolve_credentials(args.profile, env)
    region, service = _scope_args(args, request, resolved)
    signing_region: str | list[str] = args.region_set.split(",") if args.region_set else region
    options = dict(region=signing_region, service=service, timestamp=parse_date(args.date), **_sign_options(args))
    if args.presign:
        result = sigv4.presign(request, resolved.credentials, expires=args.expires, **options)
    else:
        result = sigv4.sign(request, resolved.credentials, **options)
    return result, resolved, region, service


def body_text(body: bytes) -> str:
    return body.decode("utf-8", errors="backslashreplace")


def cmd_sign(args: argparse.Namespace, env: Mapping[str, str], out: Callable[[str], None]) -> int:
    raw = parse_request(read_input(args.file))
    result, resolved, region, service = sign_request(raw.request, args, env)
    creds = resolved.credentials
    show = args.show_secrets
    body = result.request.body
    if not isinstance(body, bytes):  # an aws-chunked stream: render it whole, the output is text anyway
        body = b"".join(sigv4.types.iter_body(body))
    signed = render_request(result.request, raw, body).decode("utf-8", errors="backslashreplace")
    if args.json:
        record: dict[str, Any] = {"string_to_sign": result.string_to_sign, "signature": result.signature,
                                  "signed_request": signed}
        if isinstance(result, sigv4.SigningResult):
            record.update(canonical_request=result.canonical_request, credential_scope=result.credential_scope,
                          signed_headers=list(result.signed_headers))
            record["authorization" if result.authorization else "url"] = result.authorization or result.url
        else:
            record["url"] = result.url
        out(redact(json.dumps(record, indent=2, ensure_ascii=False), creds, show_token=show))
    elif args.explain:
        out(explain(result, creds, region, service))
        out("\n6. Signed request:\n" + redact(signed, creds, show_token=show))
    else:
        out(redact(signed, creds, show_token=show))
    return 0


# -------------------------------------------------------------- transport ---
# HTTP/1.1 over TCP or TLS with h11: h11 frames the bytes, this section owns
# the sockets. The request goes out with exactly the user's headers, order and
# casing; only a missing Host or Content-Length is added (and shown with -v).


class NetworkError(Exception):
    """Connecting, TLS or reading failed: printed as one line, exit status 3."""


@dataclass(frozen=True)
class TransportOptions:
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    ca_bundle: str | None = None
    insecure: bool = False


@dataclass
class Exchange:
    """One request/response on the wire, with timing (seconds) and the raw bytes seen."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    sent: bytearray
    received: bytearray
    timing: dict[str, float]
    added_headers: list[tuple[str, str]]


def split_authority(authority: str, scheme: str) -> tuple[str, int]:
    """(host, port) of `host[:port]`, IPv6 literals in brackets, default port by scheme."""
    authority = authority.rpartition("@")[2]
    if authority.startswith("["):
        host, _, rest = authority[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = authority.partition(":")
    if port and not port.isdigit():
        raise UsageError(f"URL authority {authority!r}: port {port!r} is not a number")
    return host, int(port) if port else (443 if scheme == "https" else 80)


def proxy_for(scheme: str, host: str, env: Mapping[str, str]) -> str | None:
    """The proxy URL from HTTPS_PROXY/HTTP_PROXY unless NO_PROXY matches `host`."""
    def get(name: str) -> str:
        return env.get(name) or env.get(name.lower()) or ""
    for entry in filter(None, (e.strip() for e in get("NO_PROXY").split(","))):
        if entry == "*" or host == entry.lstrip(".") or host.endswith("." + entry.lstrip(".")):
            return None
    return get("HTTPS_PROXY" if scheme == "https" else "HTTP_PROXY") or None


def _tls_context(options: TransportOptions, warn: Callable[[str], None]) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=options.ca_bundle)
    if options.insecure:
        warn("sigv4: warning: --insecure: the server's TLS certificate is not checked")
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class Connection:
    """A keep-alive HTTP/1.1 connection to one origin (through a proxy when the environment says so)."""

    def __init__(self, scheme: str, authority: str, options: TransportOptions, env: Mapping[str, str],
                 warn: Callable[[str], None] = lambda _: None) -> None:
        import h11
        self._h11 = h11
        self.scheme, self.authority, self.options = scheme, authority, options
        self.host, self.port = split_authority(authority, scheme)
        self.proxy = proxy_for(scheme, self.host, env)
        self._warn = warn
        self._sock: Any = None
        self._conn: Any = None

    def _open(self, sent: bytearray, received: bytearray) -> None:
        import socket
        target_host, target_port = self.host, self.port
        if self.proxy:
            proxy = sigv4.Request("GET", self.proxy)
            target_host, target_port = split_authority(proxy.authority, proxy.scheme or "http")
        try:
            sock = socket.create_connection((target_host, target_port), timeout=self.options.connect_timeout)
        except OSError as err:
            raise NetworkError(f"cannot connect to {target_host}:{target_port}: {err.strerror or err}") from None
        sock.settimeout(self.options.read_timeout)
        # Head and body go out in separate writes; without NODELAY, Nagle waits for the server's delayed ACK.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.proxy and self.scheme == "https":
            sock = self._tunnel(sock, sent, received)
        if self.scheme == "https":
            try:
                sock = _tls_context(self.options, self._warn).wrap_socket(sock, server_hostname=self.host)
            except ssl.SSLError as err:
                sock.close()
                raise NetworkError(f"TLS with {self.host}:{self.port} failed: {err.reason or err}") from None
            except OSError as err:
                sock.close()
                raise NetworkError(f"TLS with {self.host}:{self.port} failed: {err}") from None
        self._sock = sock
        self._conn = self._h11.Connection(self._h11.CLIENT)

    def _tunnel(self, sock: Any, sent: bytearray, received: bytearray) -> Any:
        """CONNECT through the proxy, so TLS runs end to end with the origin."""
        h11 = self._h11
        conn = h11.Connection(h11.CLIENT)
        origin = f"{self.host}:{self.port}" if ":" not in self.host else f"[{self.host}]:{self.port}"
        data = conn.send(h11.Request(method="CONNECT", target=origin, headers=[("Host", origin)]))
        sent += data
        sock.sendall(data)
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                chunk = sock.recv(65536)
                received += chunk
                conn.receive_data(chunk)
                continue
            if isinstance(event, h11.Response):
                if event.status_code != 200:
                    raise NetworkError(f"proxy {self.proxy} refused CONNECT {origin}: HTTP {event.status_code}")
                return sock

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock = self._conn = None

    def request(self, request: sigv4.Request, *, body_file: Any = None, sink: Any = None) -> Exchange:
        """Send `request` (its body, or `body_file` streamed) and read the whole response.

        The body goes to `sink` (a binary file) when given, else into `Exchange.body`.
        """
        import time
        h11 = self._h11
        sent, received = bytearray(), bytearray()
        started = time.perf_counter()
        if self._conn is None or self._conn.our_state is not h11.IDLE:
            self.close()
            self._open(sent, received)
        connected = time.perf_counter()
        headers, added = list(request.headers), []
        if request.header("host") is None:
            added.append(("Host", self.authority))
        body = request.body if isinstance(request.body, bytes) else b""
        if request.header("content-length") is None and request.header("transfer-encoding") is None \
                and (body or body_file is not None or request.method in ("POST", "PUT", "PATCH")):
            size = os.fstat(body_file.fileno()).st_size if body_file is not None else len(body)
            added.append(("Content-Length", str(size)))
        target = request.url if self.proxy and self.scheme == "http" else request.target
        try:
            self._send(h11.Request(method=request.method, target=target, headers=[*headers, *added]), sent)
            for chunk in sigv4.types.iter_body(body_file if body_file is not None else body):
                self._send(h11.Data(data=chunk), sent)
            self._send(h11.EndOfMessage(), sent)
            response, data = self._read_response(received, sink)
        except h11.LocalProtocolError as err:
            self.close()
            raise UsageError(f"request cannot be sent as HTTP/1.1: {err}") from None
        except h11.RemoteProtocolError as err:
            self.close()
            raise NetworkError(f"the server's response is not valid HTTP/1.1: {err}") from None
        except TimeoutError:
            self.close()
            raise NetworkError(f"no response from {self.host}:{self.port} within {self.options.read_timeout:g} s") from None
        except OSError as err:
            self.close()
            raise NetworkError(f"connection to {self.host}:{self.port} failed: {err.strerror or err}") from None
        done = time.perf_counter()
        if self._conn.our_state is h11.DONE and self._conn.their_state is h11.DONE:
            self._conn.start_next_cycle()
        else:
            self.close()
        return Exchange(
            status=response.status_code, reason=response.reason.decode("latin-1"),
            headers=[(n.decode("latin-1"), v.decode("latin-1")) for n, v in response.headers.raw_items()],
            body=data, sent=sent, received=received, added_headers=added,
            timing={"connect_s": connected - started, "total_s": done - started},
        )

    def _send(self, event: Any, sent: bytearray) -> None:
        data = self._conn.send(event)
        if data:
            sent += data
            self._sock.sendall(data)

    def _read_response(self, received: bytearray, sink: Any) -> tuple[Any, bytes]:
        h11 = self._h11
        response, parts = None, []
        while True:
            event = self._conn.next_event()
            if event is h11.NEED_DATA:
                chunk = self._sock.recv(65536)
                received += chunk
                self._conn.receive_data(chunk)
            elif isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                if sink is not None:
                    sink.write(event.data)
                else:
                    parts.append(bytes(event.data))
            elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                if response is None:
                    raise NetworkError("the server closed the connection without a response")
                return response, b"".join(parts)


def send_request(request: sigv4.Request, options: TransportOptions, env: Mapping[str, str],
                 warn: Callable[[str], None], **kwargs: Any) -> Exchange:
    if request.scheme not in ("http", "https"):
        raise UsageError(f"URL {request.url!r}: needs an http:// or https:// endpoint (use --endpoint)")
    connection = Connection(request.scheme, request.authority, options, env, warn)
    try:
        return connection.request(request, **kwargs)
    finally:
        connection.close()


# ------------------------------------------------- send, call, diff, explain ---


def _transport_options(args: argparse.Namespace) -> TransportOptions:
    return TransportOptions(args.connect_timeout, args.read_timeout, args.ca_bundle, args.insecure)


def _warn(text: str) -> None:
    print(text, file=sys.stderr)


def with_endpoint(request: sigv4.Request, endpoint: str) -> sigv4.Request:
    """Point `request` at another scheme://host[:port]; path, query and headers stay as built."""
    target = sigv4.Request("GET", endpoint)
    if not target.scheme:
        raise UsageError(f"--endpoint {endpoint!r}: expected http(s)://host[:port]")
    return request.with_url(f"{target.scheme}://{target.authority}{request.target}")


STALE_AUTH_HEADERS = ("authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256")


def curl_command(request: sigv4.Request, body: bytes) -> str:
    import shlex
    parts = ["curl", "-sS", "--path-as-is", "-X", request.method, shlex.quote(request.url)]
    for name, value in request.headers:
        parts += ["-H", shlex.quote(f"{name}: {value}" if value else f"{name};")]
    if body:
        parts += ["--data-binary", shlex.quote(body_text(body))]
    return " ".join(parts)


def har_entry(request: sigv4.Request, body: bytes, exchange: Exchange | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"request": {
        "method": request.method, "url": request.url, "httpVersion": "HTTP/1.1",
        "headers": [{"name": n, "value": v} for n, v in request.headers],
        "queryString": [{"name": n, "value": v} for n, v in sigv4.canonical.query_pairs(request.query)],
        "bodySize": len(body),
    }}
    if body:
        entry["request"]["postData"] = {"mimeType": request.header("content-type") or "", "text": body_text(body)}
    if exchange is not None:
        entry["response"] = {"status": exchange.status, "statusText": exchange.reason, "httpVersion": "HTTP/1.1",
                             "headers": [{"name": n, "value": v} for n, v in exchange.headers],
                             "content": {"size": len(exchange.body), "text": body_text(exchange.body)}}
        entry["time"] = round(exchange.timing["total_s"] * 1000, 3)
    return entry


def render_response(exchange: Exchange) -> str:
    head = [f"HTTP/1.1 {exchange.status} {exchange.reason}", *(f"{n}: {v}" for n, v in exchange.headers)]
    return "\n".join(head) + "\n\n" + body_text(exchange.body)


def cmd_send(args: argparse.Namespace, env: Mapping[str, str], out: Callable[[str], None]) -> int:
    raw = parse_request(read_input(args.file), scheme=args.scheme)
    request = raw.request
    if args.endpoint:
        request = with_endpoint(request, args.endpoint)
    body_file = open_file(args.body_file, "rb") if args.body_file else None
    try:
        if body_file is not None:
            # The file replaces the request file's body, so its size replaces any stale Content-Length.
            size = str(os.fstat(body_file.fileno()).st_size)
            request = request.with_body(body_file)
            if request.header("content-length") not in (None, size):
                request = request.with_header("Content-Length", size)
        creds = None
        if args.sign:
            result, resolved, _, _ = sign_request(request.without_headers(STALE_AUTH_HEADERS), args, env)
            creds = resolved.credentials
            request = result.request
        body = request.body if isinstance(request.body, bytes) else b""
        show = args.show_secrets
        # Without --sign there are no credentials, but the request may still carry its own token.
        creds = creds or sigv4.Credentials("", "", request_token(request))
        if args.curl or args.har:
            text = curl_command(request, body) if args.curl else json.dumps(har_entry(request, body), indent=2)
            out(redact(text, creds, show_token=show))
            return 0
        sink = open_file(args.output, "wb") if args.output else None
        try:
            exchange = send_request(request, _transport_options(args), env, _warn, body_file=body_file, sink=sink)
        finally:
            if sink is not None:
                sink.close()
    finally:
        if body_file is not None:
            body_file.close()
    if args.verbose:
        for name, value in exchange.added_headers:
            _warn(f"* added {name}: {value}")
        _warn(redact("> " + body_text(bytes(exchange.sent)).replace("\n", "\n> "), creds, show_token=show))
        _warn("< " + body_text(bytes(exchange.received)).replace("\n", "\n< "))
    if args.json:
        record = {"request": har_entry(request, body)["request"], "response": har_entry(request, body, exchange)["response"],
                  "timing": exchange.timing}
        out(redact(json.dumps(record, indent=2, ensure_ascii=False), creds, show_token=show))
    elif not args.verbose:
        out(render_response(exchange))
    return 0


SERVICE_ENDPOINT_REGIONS = {"account": "us-east-1", "organizations": "us-east-1"}


def service_endpoint(service: str, signing_name: str, region: str, env: Mapping[str, str],
                     override: str | None, profile: str | None) -> tuple[str, str]:
    """(endpoint URL, signing region) as the AWS CLI resolves them."""
    global_region = SERVICE_ENDPOINT_REGIONS.get(service)
    signing_region = global_region or region
    env_name = "AWS_ENDPOINT_URL_" + service.upper().replace("-", "_").replace(" ", "_")
    endpoint = (override or env.get(env_name) or env.get("AWS_ENDPOINT_URL")
                or profile_setting(profile, "endpoint_url", env)
                or f"https://{signing_name or service}.{signing_region}.amazonaws.com")
    return endpoint, signing_region


def call_params(args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if args.input:
        text = args.input
        if args.input.startswith("@"):
            try:
                text = read_input(args.input[1:]).decode("utf-8")
            except UnicodeDecodeError as err:
                raise UsageError(f"{args.input[1:]}: --input file is not UTF-8 (byte offset {err.start})") from None
        try:
            params = json.loads(text)
        except ValueError as err:
            raise UsageError(f"--input: not valid JSON ({err})") from None
        if not isinstance(params, dict):
            raise UsageError("--input: must be a JSON object of operation parameters")
    for item in args.params:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"parameter {item!r}: expected Name=Value")
        try:
            params[name] = json.loads(value)
        except ValueError:
            params[name] = value
    return params


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        import base64
        return base64.b64encode(value).decode()
    raise TypeError(type(value).__name__)


def cmd_call(args: argparse.Namespace, env: Mapping[str, str], out: Callable[[str], None]) -> int:
    import wire
    try:
        model = wire.load_model(args.model or args.service)
        if args.protocol == "query":
            # The Account API also answers its Query form (Action=...&Version=...), from the same model.
            from wire.service.queryform import query_model
            model = query_model(model)
        params = call_params(args)
        wire.validate(model, args.operation, params)
        resolved = resolve_credentials(args.profile, env)
        region = args.region or resolved.region or "us-east-1"
        endpoint, signing_region = service_endpoint(args.service, model.signing_name, region, env,
                                                    args.endpoint_url, args.profile)
        request = wire.serialize(model, args.operation, params, endpoint=endpoint, method=args.method)
    except wire.WireError as err:
        raise UsageError(str(err)) from None
    algorithm = "v2" if args.sigv2 else "v4"
    result = sigv4.sign(request, resolved.credentials, region=signing_region,
                        service=model.signing_name or args.service, timestamp=parse_date(None), algorithm=algorithm)
    body = result.request.body if isinstance(result.request.body, bytes) else b""
    if args.dry_run:
        out(redact(render_request(result.request, body=body).decode("utf-8", "backslashreplace"), resolved.credentials))
        return 0
    exchange = send_request(result.request, _transport_options(args), env, _warn)
    try:
        output = wire.parse_response(model, args.operation, exchange.status, exchange.headers, exchange.body)
    except wire.ServiceError as err:
        print(f"{err.code}: {err.message}", file=sys.stderr)
        return 1
    except wire.DecodeError as err:
        raise NetworkError(f"the response does not fit the model: {err}") from None
    out(json.dumps(output, indent=2, default=_json_default, ensure_ascii=False))
    return 0


def _read_sent(path: str, scheme: str) -> Any:
    """A signed request from a raw file, a capture (curl -v, HAR, aws --debug) or a `send --json` record."""
    from wire.capture import CaptureError, parse_capture
    data = read_input(path)
    try:
        record = json.loads(data)
    except ValueError:
        record = None
    if isinstance(record, dict) and "request" in record and "timing" in record:
        data = json.dumps({"request": record["request"]}).encode()
    try:
        return parse_capture(data, scheme=scheme)
    except CaptureError as err:
        raise UsageError(f"{path}: {err}") from None


def _print_diagnosis(diagnosis: Any, as_json: bool, out: Callable[[str], None]) -> None:
    from wire.diagnose import render_text
    out(json.dumps(diagnosis.to_json(), indent=2, ensure_ascii=False) if as_json else render_text(diagnosis))


def cmd_diff(args: argparse.Namespace, env: Mapping[str, str], out: Callable[[str], None]) -> int:
    from wire.diagnose import diagnose, read_error
    capture = _read_sent(args.sent, args.scheme)
    complaint = read_error(None, [], read_input(args.response))
    secret = resolve_credentials(args.profile, env).credentials if args.secret else None
    _print_diagnosis(diagnose(capture.request, complaint, secret=secret), args.json, out)
    return 0


def cmd_explain(args: argparse.Namespace, env: Mapping[str, str], out: Callable[[str], None]) -> int:
    from wire.diagnose import diagnose, read_error
    capture = _read_sent(args.file, args.scheme)
    complaint = None
    if capture.response_body is not None:
        complaint = read_error(capture.response_status, list(capture.response_headers), capture.response_body)
    creds = resolve_credentials(args.profile, env).credentials
    _print_diagnosis(diagnose(capture.request, complaint, secret=creds, response_date=capture.response_date),
                     args.json, out)
    return 0


def cmd_verify(args: argparse.Namespace, env: Mapping[str, str], out: Callable[[str], None]) -> int:
    raw = parse_request(read_input(args.file), scheme=args.scheme)
    creds = resolve_credentials(args.profile, env).credentials
    now = parse_date(args.now)
    lookup = lambda key_id: creds if key_id == creds.access_key_id else None  # noqa: E731
    try:
        identity = sigv4.verify(raw.request, lookup, now=now, s3=args.s3)
    except sigv4.VerificationError as err:
        lines = [f"FAILED ({err.reason}): {err}"]
        if err.canonical_request is not None:
            lines += ["", "Expected canonical request:", visible(err.canonical_request)]
        if err.string_to_sign is not None:
            lines += ["", "Expected string-to-sign:", visible(err.string_to_sign)]
        out(redact("\n".join(lines), creds))
        return 1
    scope = "/".join(filter(None, (identity.scope_date, ",".join(identity.regions), identity.service)))
    out(f"OK: {identity.algorithm} signature by {identity.access_key_id}" + (f" for {scope}" if scope else "")
        + (" (presigned)" if identity.presigned else ""))
    return 0


def cmd_whoami(args: argparse.Namespace, env: Mapping[str, str], out: Callable[[str], None]) -> int:
    resolved = resolve_credentials(args.profile, env)
    creds = resolved.credentials
    kind = {"AKIA": "long-term (IAM user)", "ASIA": "temporary (needs a session token)"}.get(
        creds.access_key_id[:4], "unknown prefix (not an AWS-issued key id?)")
    record = {
        "source": resolved.source,
        "access_key_id": creds.access_key_id[:4] + "…" + creds.access_key_id[-4:],
        "key_type": kind,
        "session_token": "present" if creds.session_token else "absent",
        "expiration": resolved.expiration,
        "region": resolved.region,
    }
    if creds.access_key_id.startswith("ASIA") and not creds.session_token:
        record["warning"] = "temporary key id without a session token: AWS will reject its signatures"
    out(json.dumps(record, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in record.items() if v))
    return 0


# ------------------------------------------ serve (local Account endpoint) ---
# The local Account Management endpoint's I/O: sockets framed by h11, SQLite
# state, the trail file, the clock and entropy. `wire.service.handle` decides
# everything else, so this section only moves bytes and commits.
#
# Threads, one per connection, rather than asyncio: the handler, sigv4 and
# sqlite3 are synchronous and CPU-bound (an event loop would only add
# executor hops around them), a local endpoint serves a handful of clients,
# and blocking sockets with timeouts give slow-client protection directly.
# The accept loop is ours (a listener with a short timeout so stop() is
# noticed) because it also tracks live connections for a clean shutdown.


@dataclass(frozen=True)
class ServeLimits:
    max_header_bytes: int = 16 * 1024
    max_body_bytes: int = 1024 * 1024
    #: A request (its head and body) must arrive within this many seconds of its first byte; idle
    #: keep-alive connections are closed after it too.
    client_timeout: float = 10.0


def state_dir(env: Mapping[str, str]) -> Path:
    """The per-user state directory: $XDG_STATE_HOME/sigv4-toolkit (default ~/.local/state/sigv4-toolkit)."""
    base = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local" / "state")
    return Path(base) / "sigv4-toolkit"


class SqliteStore:
    """`wire.service.Store` on SQLite: one connection; every request is one transaction, committed
    before its response (the server's lock serializes requests; BEGIN IMMEDIATE guards other processes)."""

    def __init__(self, path: str) -> None:
        import sqlite3
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        #: Set inside a transaction to roll it back instead of committing it.
        self.discard = False
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before the response acknowledges it.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("CREATE TABLE IF NOT EXISTS records (account_id TEXT NOT NULL, kind TEXT NOT NULL, "
                         "key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (account_id, kind, key))")

    def transaction(self) -> Any:
        from contextlib import contextmanager

        @contextmanager
        def scope() -> Any:
            self._db.execute("BEGIN IMMEDIATE")
            self.discard = False
            try:
                yield self
                self._db.execute("ROLLBACK" if self.discard else "COMMIT")
            except BaseException:
                # A failed COMMIT (full disk, I/O error) may leave the transaction open; SQLite may also
                # have rolled it back already.
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
        return scope()

    def get(self, account_id: str, kind: str, key: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT value FROM records WHERE account_id=? AND kind=? AND key=?",
                               (account_id, kind, key)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, account_id: str, kind: str, key: str, record: dict[str, Any]) -> None:
        self._db.execute("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)",
                         (account_id, kind, key, json.dumps(record, sort_keys=True)))

    def delete(self, account_id: str, kind: str, key: str) -> bool:
        cursor = self._db.execute("DELETE FROM records WHERE account_id=? AND kind=? AND key=?",
                                  (account_id, kind, key))
        return cursor.rowcount > 0

    def items(self, account_id: str, kind: str) -> dict[str, dict[str, Any]]:
        rows = self._db.execute("SELECT key, value FROM records WHERE account_id=? AND kind=?", (account_id, kind))
        return {key: json.loads(value) for key, value in rows}

    def close(self) -> None:
        self._db.close()


class TrailLog:
    """The CloudTrail JSON-lines file: each record appended, flushed and fsynced before the response."""

    def __init__(self, path: Path) -> None:
        import threading
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        _drop_torn_record(path)
        self._file = open(path, "a", encoding="utf-8")
        self._lock = threading.Lock()

    def append(self, event: Mapping[str, Any]) -> None:
        line = json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            self._file.write(line)
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


def _drop_torn_record(path: Path, chunk: int = 1 << 16) -> None:
    """Cut a last line without its newline: an append that a crash or a full disk interrupted. Its call
    was never answered (records are fsynced before responses), and left there it would swallow the next record."""
    if not path.exists():
        return
    with open(path, "r+b") as trail:
        end = trail.seek(0, os.SEEK_END)
        cut = end
        while cut > 0:
            start = max(0, cut - chunk)
            trail.seek(start)
            newline = trail.read(cut - start).rfind(b"\n")
            if newline >= 0:
                cut = start + newline + 1
                break
            cut = start
        if cut < end:
            trail.truncate(cut)
            os.fsync(trail.fileno())


class AccountApp:
    """One request in, one committed reply out: the clock, entropy, store transaction and trail around `handle`."""

    def __init__(self, endpoint: Any, store: SqliteStore, trail: TrailLog, log: Callable[[str], None]) -> None:
        import threading
        self.endpoint, self.store, self.trail, self.log = endpoint, store, trail, log
        self._lock = threading.Lock()

    def respond(self, request: sigv4.Request, source_ip: str) -> Any:
        from wire.service import handle
        with self._lock:
            with self.store.transaction() as transaction:
                reply = handle(request, endpoint=self.endpoint, now=datetime.now(timezone.utc), store=self.store,
                               entropy=os.urandom, source_ip=source_ip)
                # As on AWS, a call answered with an error leaves no trace in the state.
                transaction.discard = reply.status >= 400
        self.trail.append(reply.event)
        for notice in reply.notices:
            self.log(f"serve: {notice}")
        return reply


class _Refusal(Exception):
    """The HTTP layer refuses the request before it reaches the service (400, 408, 413, 431)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _read_request(conn: Any, sock: Any, limits: ServeLimits) -> tuple[str, str, list[tuple[str, str]], bytes] | None:
    """The next request's (method, target, headers, body); None when the client closed or idled out."""
    import time

    import h11
    head: Any = None
    body = bytearray()
    deadline: float | None = None
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            remaining = limits.client_timeout if deadline is None else deadline - time.monotonic()
            if remaining <= 0:
                raise _Refusal(408, f"the request did not arrive within {limits.client_timeout:g} s")
            sock.settimeout(remaining)
            try:
                data = sock.recv(65536)
            except TimeoutError:
                if deadline is None:
                    return None  # idle keep-alive connection: close quietly
                raise _Refusal(408, f"the request did not arrive within {limits.client_timeout:g} s") from None
            if deadline is None and data:
                deadline = time.monotonic() + limits.client_timeout
            conn.receive_data(data)
        elif isinstance(event, h11.Request):
            head = event
            # h11 bounds a head that arrives in pieces; one that arrives whole is measured here.
            size = len(event.target) + sum(len(n) + len(v) + 4 for n, v in event.headers.raw_items())
            if size > limits.max_header_bytes:
                raise _Refusal(431, f"the request head ({size} bytes) is over the {limits.max_header_bytes}-byte limit")
            length = dict(event.headers).get(b"content-length")
            if length is not None and int(length) > limits.max_body_bytes:
                raise _Refusal(413, f"the body ({int(length)} bytes) is over the {limits.max_body_bytes}-byte limit")
            if conn.they_are_waiting_for_100_continue:
                sock.sendall(conn.send(h11.InformationalResponse(status_code=100, headers=[])))
        elif isinstance(event, h11.Data):
            body += event.data
            if len(body) > limits.max_body_bytes:
                raise _Refusal(413, f"the body is over the {limits.max_body_bytes}-byte limit")
        elif isinstance(event, h11.EndOfMessage):
            headers = [(n.decode("latin-1"), v.decode("utf-8", "surrogateescape")) for n, v in head.headers.raw_items()]
            return head.method.decode("ascii"), head.target.decode("utf-8", "surrogateescape"), headers, bytes(body)
        elif isinstance(event, h11.ConnectionClosed):
            return None


def _send_response(conn: Any, sock: Any, status: int, headers: Sequence[tuple[str, str]], body: bytes, *,
                   head: bool = False) -> None:
    from email.utils import formatdate
    from http import HTTPStatus

    import h11
    framing = [("Content-Length", str(len(body))), ("Date", formatdate(usegmt=True))]
    reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
    # One write per response: a head and body sent apart meet Nagle and delayed ACKs (+40 ms each).
    data = conn.send(h11.Response(status_code=status, headers=[*headers, *framing], reason=reason))
    # The answer to HEAD declares its body's length but carries no body (h11 refuses one).
    payload = conn.send(h11.Data(data=body)) if body and not head else b""
    sock.sendall(data + payload + conn.send(h11.EndOfMessage()))


def _refuse(conn: Any, sock: Any, status: int, message: str, code: str | None = None, *, head: bool = False) -> None:
    import h11
    if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
        return
    headers = [("Content-Type", "application/json"), ("Connection", "close")]
    try:
        _send_response(conn, sock, status, [*headers, *([("x-amzn-ErrorType", code)] if code else [])],
                       json.dumps({"message": message}).encode(), head=head)
        _linger(sock)
    except (h11.LocalProtocolError, OSError):
        pass


def _linger(sock: Any, seconds: float = 0.5, most: int = 4 << 20) -> None:
    """Read and drop what the client is still sending, briefly: closing with unread input makes
    the kernel send a reset, which can destroy the refusal before the client reads it."""
    import socket
    import time
    sock.shutdown(socket.SHUT_WR)
    deadline, dropped = time.monotonic() + seconds, 0
    while dropped < most and (remaining := deadline - time.monotonic()) > 0:
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            return
        if not chunk:
            return
        dropped += len(chunk)


def serve_connection(sock: Any, peer: str, app: AccountApp, limits: ServeLimits, stopping: Any) -> None:
    """Serve requests on one connection until it closes, errs, idles out or the server stops."""
    import h11
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=limits.max_header_bytes)
    try:
        while not stopping.is_set():
            try:
                received = _read_request(conn, sock, limits)
            except _Refusal as refusal:
                _refuse(conn, sock, refusal.status, str(refusal))
                return
            except h11.RemoteProtocolError as err:
                _refuse(conn, sock, err.error_status_hint, f"malformed HTTP/1.1 request: {err}")
                return
            if received is None:
                return
            method, target, headers, body = received
            try:
                reply = app.respond(sigv4.Request(method, target, headers, body), peer)
            except Exception as err:  # a bug must cost one request, not the server
                app.log(f"serve: internal error on {method} {target}: {err!r}")
                _refuse(conn, sock, 500, "The local endpoint failed; the call may have been applied; see its log.",
                        "InternalServerException", head=method == "HEAD")
                return
            _send_response(conn, sock, reply.status, reply.headers, reply.body, head=method == "HEAD")
            if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                return
            conn.start_next_cycle()
    except OSError:
        return  # the client went away
    finally:
        sock.close()


class LocalServer:
    """The accept loop: a listening socket and one thread per connection."""

    def __init__(self, app: AccountApp, host: str = "127.0.0.1", port: int = 0,
                 limits: ServeLimits = ServeLimits()) -> None:
        import socket
        import threading
        self.app, self.limits = app, limits
        self._listener = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
        self._listener.settimeout(0.2)  # accept() wakes up this often to notice stop()
        self.host, self.port = self._listener.getsockname()[:2]
        self._stopping = threading.Event()
        self._live: dict[Any, threading.Thread] = {}
        self._lock = threading.Lock()
        self._acceptor = threading.Thread(target=self._accept, name="serve-accept", daemon=True)

    @property
    def url(self) -> str:
        return f"http://[{self.host}]:{self.port}" if ":" in self.host else f"http://{self.host}:{self.port}"

    def start(self) -> "LocalServer":
        self._acceptor.start()
        return self

    def _accept(self) -> None:
        import socket
        import threading
        while not self._stopping.is_set():
            try:
                sock, peer = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            thread = threading.Thread(target=self._run, args=(sock, peer[0]), daemon=True)
            with self._lock:
                self._live[sock] = thread
            thread.start()

    def _run(self, sock: Any, peer: str) -> None:
        try:
            serve_connection(sock, peer, self.app, self.limits, self._stopping)
        finally:
            with self._lock:
                self._live.pop(sock, None)

    def stop(self) -> None:
        """Stop accepting, let in-flight requests finish, close idle connections."""
        import socket
        self._stopping.set()
        self._acceptor.join()
        self._listener.close()
        with self._lock:
            live = list(self._live.items())
        for sock, _ in live:
            try:
                sock.shutdown(socket.SHUT_RD)  # wakes a recv() waiting for the next request
            except OSError:
                pass
        for _, thread in live:
            thread.join(self.limits.client_timeout + 1)

    def __enter__(self) -> "LocalServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def load_accounts(path: str | None) -> Any:
    """The Directory from an --accounts file (or the documented default identity when None)."""
    import wire
    from wire.service import DEFAULT_ACCOUNTS, ConfigError, load_directory
    from wire.service.policy import PolicyError
    known_actions = tuple(wire.load_model("account").operations)
    if path is None:
        return load_directory(DEFAULT_ACCOUNTS, known_actions=known_actions)
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        return load_directory(document, known_actions=known_actions)
    except OSError as err:
        raise UsageError(f"--accounts {path}: {err.strerror or err}") from None
    except json.JSONDecodeError as err:
        raise UsageError(f"--accounts {path}: not JSON: {err}") from None
    except (ConfigError, PolicyError) as err:
        raise UsageError(f"--accounts {path}: {err}") from None


def build_app(directory: Any, state: str, trail: Path, region_delay: float, log: Callable[[str], None]) -> AccountApp:
    from datetime import timedelta

    import wire
    from wire.service import Endpoint, Settings
    endpoint = Endpoint(wire.load_model("account"), directory, Settings(region_delay=timedelta(seconds=region_delay)))
    return AccountApp(endpoint, SqliteStore(state), TrailLog(trail), log)


def _trail_path(args: argparse.Namespace, env: Mapping[str, str]) -> Path:
    return Path(args.log) if args.log else state_dir(env) / "account-trail.jsonl"


def cmd_serve(args: argparse.Namespace, env: Mapping[str, str], out: Callable[[str], None]) -> int:
    import signal
    import threading
    from wire.service import DEFAULT_ACCOUNTS

    def log(line: str) -> None:
        out(line)
        sys.stdout.flush()

    state = args.state or str(state_dir(env) / "account.db")
    app = build_app(load_accounts(args.accounts), state, _trail_path(args, env), args.region_delay, log)
    limits = ServeLimits(args.max_header_bytes, args.max_body_bytes, args.client_timeout)
    try:
        server = LocalServer(app, args.host, args.port, limits).start()
    except OSError as err:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {err.strerror or err}") from None
    log(f"serving AWS Account Management (2021-02-01) on {server.url}")
    log(f"state {state}; trail {app.trail.path}")
    if args.accounts is None:
        default = DEFAULT_ACCOUNTS["accounts"][0]
        # AWS's published example key pair, created for local use only; printing it is the point.
        log(f"default identity: account {default['account_id']} (management; member "
            f"{', '.join(default['members'])}), AWS_ACCESS_KEY_ID={default['access_key_id']} "
            f"AWS_SECRET_ACCESS_KEY={default['secret_access_key']}")
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.2):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.stop()
        app.store.close()
        app.trail.close()
    log("stopped")
    return 0


def cmd_trail(args: argparse.Namespace, env: Mapping[str, str], out: Callable[[str], None]) -> int:
    import time
    path = _trail_path(args, env)
    if not path.exists() and not args.follow:
        raise UsageError(f"trail {path}: no such file (has `serve` run with this --log?)")
    while not path.exists():
        time.sleep(0.2)
    with open(path, encoding="utf-8") as trail:
        while True:
            position = trail.tell()
            line = trail.readline()
            if line.endswith("\n"):
                try:
                    record = json.loads(line)
                    name = record.get("eventName")
                except (ValueError, AttributeError):
                    raise UsageError(f"trail {path}: a line is not a trail record (a JSON object)") from None
                if args.event_name is None or name == args.event_name:
                    out(line.rstrip("\n"))
                    sys.stdout.flush()
            elif not args.follow:
                return 0
            else:
                trail.seek(position)  # a partly written line is read again once complete
                time.sleep(0.2)


DEMO_CALLS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("PutAlternateContact", {"AlternateContactType": "SECURITY", "Name": "Ana Lima", "Title": "CISO",
                             "EmailAddress": "security@example.com", "PhoneNumber": "+1 555 0100"}),
    ("GetAlternateContact", {"AlternateContactType": "SECURITY"}),
    ("ListRegions", {"MaxResults": 5, "RegionOptStatusContains": ["ENABLED_BY_DEFAULT"]}),
)


def cmd_demo(args: argparse.Namespace, env: Mapping[str, str], out: Callable[[str], None]) -> int:
    import tempfile

    import wire
    from wire.service import DEFAULT_ACCOUNTS
    default = DEFAULT_ACCOUNTS["accounts"][0]
    creds = sigv4.Credentials(default["access_key_id"], default["secret_access_key"])
    region, service = "us-east-1", "account"
    with tempfile.TemporaryDirectory(prefix="sigv4-demo-") as scratch:
        app = build_app(load_accounts(None), ":memory:", Path(scratch) / "trail.jsonl", 60, out)
        with LocalServer(app) as server:
            out(f"Local AWS Account Management endpoint on {server.url} (in-process, loopback only, "
                f"example credentials {creds.access_key_id})")
            # No proxy settings: the demo never leaves the loopback interface.
            connection = Connection("http", f"{server.host}:{server.port}", TransportOptions(), {})
            try:
                for number, (operation, params) in enumerate(DEMO_CALLS, 1):
                    request = wire.serialize(app.endpoint.model, operation, params, endpoint=server.url)
                    result = sigv4.sign(request, creds, region=region, service=service,
                                        timestamp=datetime.now(timezone.utc))
                    out(f"\n=== {number}. {operation} {json.dumps(params)}")
                    out(explain(result, creds, region, service))
                    exchange = connection.request(result.request)
                    out(f"\n<- HTTP {exchange.status} {exchange.reason}")
                    out(body_text(exchange.body) or "(empty body)")
            finally:
                connection.close()
        records = app.trail.path.read_text(encoding="utf-8").splitlines()
        app.store.close()
        app.trail.close()
    out(f"\n{len(records)} CloudTrail records written; events: {', '.join(json.loads(r)['eventName'] for r in records)}")
    return 0


def add_server_commands(commands: Any) -> None:
    """`serve`, `trail` and `demo`: the local Account Management endpoint."""
    serve = commands.add_parser("serve", help="run the local AWS Account Management endpoint")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    serve.add_argument("--state", help="SQLite file (default $XDG_STATE_HOME/sigv4-toolkit/account.db); :memory: allowed")
    serve.add_argument("--accounts", help="identities JSON ({\"accounts\": [...]}); default: the example identity")
    serve.add_argument("--log", help="CloudTrail JSON-lines file (default next to the state)")
    serve.add_argument("--region-delay", type=float, default=60.0, help="seconds an EnableRegion/DisableRegion takes")
    serve.add_argument("--max-body-bytes", type=int, default=ServeLimits.max_body_bytes)
    serve.add_argument("--max-header-bytes", type=int, default=ServeLimits.max_header_bytes)
    serve.add_argument("--client-timeout", type=float, default=ServeLimits.client_timeout,
                       help="seconds a request may take to arrive (slow clients get 408)")
    serve.set_defaults(handler=cmd_serve)
    trail = commands.add_parser("trail", help="print the local endpoint's CloudTrail records (JSON lines)")
    trail.add_argument("--log", help="the trail file (default: the one `serve` writes by default)")
    trail.add_argument("--follow", "-f", action="store_true", help="keep printing records as they are appended")
    trail.add_argument("--event-name", help="only records of this operation")
    trail.set_defaults(handler=cmd_trail)
    demo = commands.add_parser("demo", help="start the endpoint in-process and make signed calls to it")
    demo.set_defaults(handler=cmd_demo)


# -------------------------------------------------------------- argparse ---

class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _signing_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", help="profile from ~/.aws/credentials and ~/.aws/config")
    parser.add_argument("--region", help="signing region (default: AWS_REGION, profile, host name, us-east-1)")
    parser.add_argument("--service", help="signing service name (default: from the host name)")
    parser.add_argument("--date", help="signing time YYYYMMDDTHHMMSSZ (default: now, UTC)")
    parser.add_argument("--presign", action="store_true", help="sign into the URL's query instead of headers")
    parser.add_argument("--expires", type=int, default=3600, help="presigned URL lifetime in seconds (1..604800)")
    parser.add_argument("--unsigned-payload", action="store_true", help="sign UNSIGNED-PAYLOAD instead of the body hash")
    parser.add_argument("--s3", action="store_true", help="S3 rules: no path normalization, single encoding, x-amz-content-sha256")
    parser.add_argument("--no-normalize-path", action="store_true")
    parser.add_argument("--no-double-encode", action="store_true")
    parser.add_argument("--omit-session-token", action="store_true", help="send the token but leave it out of the signature")
    parser.add_argument("--algorithm", choices=["v4", "v4a", "v2"], default="v4", help="signature version (default v4)")
    parser.add_argument("--region-set", help="SigV4a region set, comma-separated or * (default: --region)")
    parser.add_argument("--chunked", action="store_true", help="sign the body as aws-chunked (streaming) upload")
    parser.add_argument("--chunk-size", type=int, default=65536, help="aws-chunked chunk size in bytes (default 65536)")
    parser.add_argument("--trailer", choices=["crc32", "crc32c", "sha1", "sha256"],
                        help="with --chunked: a signed trailing checksum of this kind")


def _transport_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--connect-timeout", type=float, default=10.0, help="seconds (default 10)")
    parser.add_argument("--read-timeout", type=float, default=60.0, help="seconds (default 60)")
    parser.add_argument("--ca-bundle", help="PEM file of CA certificates to trust instead of the system's")
    parser.add_argument("--insecure", action="store_true", help="do not check the TLS certificate (warns)")


def _capture_flags(parser: argparse.ArgumentParser, *, json_output: bool) -> None:
    """Flags of the commands that read an already signed request."""
    parser.add_argument("--profile")
    parser.add_argument("--scheme", default="https", help="scheme for a request file with a Host header")
    if json_output:
        parser.add_argument("--json", action="store_true")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sigv4", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sign = commands.add_parser("sign", help="sign a raw HTTP request and print it")
    sign.add_argument("file", nargs="?", default="-", help="raw request file, or - for stdin")
    _signing_flags(sign)
    sign.add_argument("--explain", action="store_true", help="walk through every signing step")
    sign.add_argument("--json", action="store_true", help="print one JSON object with every intermediate")
    sign.add_argument("--show-secrets", action="store_true",
                      help="print the session token in the signed request (masked by default); never the secret key")
    sign.set_defaults(handler=cmd_sign)

    send = commands.add_parser("send", help="send a raw HTTP request (optionally re-signed) and print the response")
    send.add_argument("file", nargs="?", default="-", help="raw request file, or - for stdin")
    _signing_flags(send)
    _transport_flags(send)
    send.add_argument("--sign", action="store_true", help="strip old auth headers and sign now")
    send.add_argument("--scheme", default="https", help="scheme for a request file with a Host header")
    send.add_argument("--endpoint", help="send to this http(s)://host[:port] instead of the Host header's")
    send.add_argument("--body-file", help="stream the body from this file instead of the request file's body")
    send.add_argument("-o", "--output", help="write the response body to this file")
    send.add_argument("-v", "--verbose", action="store_true", help="print the exact bytes sent and received (stderr)")
    send.add_argument("--curl", action="store_true", help="print an equivalent curl command instead of sending")
    send.add_argument("--har", action="store_true", help="print the request as a HAR entry instead of sending")
    send.add_argument("--json", action="store_true", help="print a JSON record of request, response and timing")
    send.add_argument("--show-secrets", action="store_true", help="do not mask the session token")
    send.set_defaults(handler=cmd_send)

    call = commands.add_parser("call", help="call an API operation from its model")
    call.add_argument("service", help="service name: 'account' (shipped) or any model in an installed botocore")
    call.add_argument("operation")
    call.add_argument("params", nargs="*", help="Name=Value (Value parsed as JSON when it is JSON)")
    call.add_argument("--input", help="operation parameters as JSON, or @file")
    call.add_argument("--model", help="a botocore-format service model file (.json or .json.gz)")
    call.add_argument("--profile")
    call.add_argument("--region")
    call.add_argument("--endpoint-url")
    call.add_argument("--protocol", choices=["query"], help="call the operation through the Query API form")
    call.add_argument("--method", choices=["GET", "POST"], help="Query protocols: send as GET or POST")
    call.add_argument("--sigv2", action="store_true", help="sign with SigV2 (Query protocols)")
    call.add_argument("--dry-run", action="store_true", help="print the signed request instead of sending it")
    _transport_flags(call)
    call.set_defaults(handler=cmd_call)

    diff = commands.add_parser("diff", help="explain a signature error: our canonical request vs the server's")
    diff.add_argument("sent", help="the signed request as sent (raw, curl -v, HAR, aws --debug, send --json)")
    diff.add_argument("response", help="the server's error response (body or whole raw response), - for stdin")
    diff.add_argument("--secret", action="store_true", help="also check the signature with your credentials")
    _capture_flags(diff, json_output=True)
    diff.set_defaults(handler=cmd_diff)

    explain_cmd = commands.add_parser("explain", help="recompute a captured signed request and say what disagrees")
    explain_cmd.add_argument("file", nargs="?", default="-")
    _capture_flags(explain_cmd, json_output=True)
    explain_cmd.set_defaults(handler=cmd_explain)

    verify = commands.add_parser("verify", help="verify a signed raw request with your credentials")
    verify.add_argument("file", nargs="?", default="-")
    _capture_flags(verify, json_output=False)
    verify.add_argument("--now", help="verification time YYYYMMDDTHHMMSSZ (default: now, UTC)")
    verify.add_argument("--s3", action="store_true", help="S3 canonicalization rules")
    verify.set_defaults(handler=cmd_verify)

    whoami = commands.add_parser("whoami", help="which credentials would sign, from where (never the secret)")
    whoami.add_argument("--profile")
    whoami.add_argument("--json", action="store_true")
    whoami.set_defaults(handler=cmd_whoami)
    add_server_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    out = lambda text: print(text)  # noqa: E731
    try:
        args = build_parser().parse_args(argv)
        return int(args.handler(args, env, out))
    except (UsageError, sigv4.SigningError) as err:
        print(f"sigv4: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except NetworkError as err:
        print(f"sigv4: network error: {err}", file=sys.stderr)
        return EXIT_NETWORK
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
