"""`sigv4`: sign, explain, verify, send and debug AWS requests from raw HTTP text.

Strategy: this module parses arguments, runs the commands and prints. It
reads files, the environment and the clock, hands plain values to the pure
`sigv4` and `wire` packages, and moves bytes through the edge modules
(`wire/transport/` for HTTP, `wire/service/app.py`, `sqlite_store.py` and
`trail_log.py` for the local endpoint). Every
failure the user can cause ends as one line on stderr and exit status 2
(3 for network failures); secrets and tokens are masked in every output.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NoReturn

import sigv4
from sigv4.explain import explain, visible
from sigv4.raw import parse_request, render_request
from sigv4.redact import redact, request_token
from wire.export import body_text, curl_command, har_entry, render_response
from wire.service.app import build_app
from wire.transport.client import Connection, NetworkError, RequestError, TransportOptions, send_request
from wire.transport.server import LocalServer, ServeLimits

EXIT_USAGE = 2
EXIT_NETWORK = 3


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit status 2."""


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

def state_dir(env: Mapping[str, str]) -> Path:
    """The per-user state directory: $XDG_STATE_HOME/sigv4-toolkit (default ~/.local/state/sigv4-toolkit)."""
    base = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local" / "state")
    return Path(base) / "sigv4-toolkit"

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


def _trail_path(args: argparse.Namespace, env: Mapping[str, str]) -> Path:
    return Path(args.log) if args.log else state_dir(env) / "account-trail.jsonl"


def cmd_serve(args: argparse.Namespace, env: Mapping[str, str], out: Callable[[str], None]) -> int:
    import signal
    import threading
    from wire.service import DEFAULT_ACCOUNTS

    def log(line: str) -> None:
        out(line)
        sys.stdout.flush()

    if args.max_connections < 1:
        raise UsageError(f"--max-connections {args.max_connections}: must be at least 1")
    state = args.state or str(state_dir(env) / "account.db")
    app = build_app(load_accounts(args.accounts), state, _trail_path(args, env), args.region_delay, log)
    limits = ServeLimits(args.max_header_bytes, args.max_body_bytes, args.client_timeout, args.max_connections,
                         args.max_buffered_bytes)
    try:
        server = LocalServer(app, args.host, args.port, limits).start()
    except OSError as err:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {err.strerror or err}") from None
    log(f"serving AWS Account Management (2021-02-01) on {server.url}")
    log(f"state {state}; trail {app.trail.path}" + (f" ({app.recovered} record(s) committed before a crash "
                                                      "appended)" if app.recovered else ""))
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
    serve.add_argument("--max-connections", type=int, default=ServeLimits.max_connections,
                       help="connections served at once; beyond it new ones wait to be accepted")
    serve.add_argument("--max-buffered-bytes", type=int, default=ServeLimits.max_buffered_bytes,
                       help="request body bytes held across connections; beyond it 503 with Retry-After")
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
    except (UsageError, RequestError, sigv4.SigningError) as err:
        print(f"sigv4: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except NetworkError as err:
        print(f"sigv4: network error: {err}", file=sys.stderr)
        return EXIT_NETWORK
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
