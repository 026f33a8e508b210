"""`sigv4`: sign, explain, verify, send and debug AWS requests from raw HTTP text.

Strategy: this module parses arguments, runs the commands and prints; the
rest is in the edge modules (`wire/transport/`: files, signing from the
flags, the HTTP client and server, the clock-skew retry, `call`'s request;
`wire/service/app.py`, `sqlite_store.py` and `trail_log.py` for the local
endpoint), which hand plain values to the pure `sigv4` and `wire` packages. Every failure the user can cause ends
as one line on stderr and exit status 2 (3 for network failures). Artifacts carry the session token,
explanations and logs mask it, the secret key is never printed. A signed request is written byte for byte.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import sys
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from datetime import datetime, timezone
from typing import Any, NoReturn

import sigv4
from sigv4 import cloudfront, tokens, websocket
from sigv4.canonical import S3_SERVICES
from sigv4.checksums import CHECKSUMS
from sigv4.chunked_decode import verify_message
from sigv4.errors import StreamDecodeError
from sigv4.explain import explain, result_record, verification_report
from sigv4.integrations.credentials import resolve_credentials
from sigv4.integrations.whoami import describe
from sigv4.raw import parse_request
from sigv4.redact import masked_token_note, redact, redact_artifact
from wire.endpoints import with_endpoint
from wire.export import (body_bytes, body_text, curl_command, har_entry, http_message, json_default, render_response,
                         send_record, service_error_line, signed_request_fields, transcript)
from wire.service.app import DEFAULT_IDENTITY_NOTICE, build_app, load_accounts, state_path, trail_path
from wire.service.demo import run_demo
from wire.service.identities import ConfigError
from wire.service.trail_log import TrailError, read_trail
from wire.transport import cloudfront_cli, proxy_cli, rolesanywhere_cli, signing
from wire.transport.client import NetworkError, NotTLSError, RequestError, TransportOptions, ca_bundle, seconds
from wire.transport.files import Download, InputError, open_body, read_answer, read_capture, read_input
from wire.transport.resend import send_signed, with_body_file
from wire.transport.server import ListenError, ServeLimits, serve_until_signal, start_server
from wire.transport.signing import (STALE_AUTH_HEADERS, FlagError, flag_signer, parse_date, presign_note,
                                    presign_post_with_flags, presign_wss_with_flags)

EXIT_USAGE = 2
EXIT_NETWORK = 3
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a writer whose reader left
NOT_TLS_HINT = "; the server speaks plain HTTP: use --scheme http or an http:// endpoint"


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit status 2."""


def write(data: bytes, creds: sigv4.Credentials | None, *, newline: bool = False) -> None:
    """Write the artifact `data` to stdout exactly (token kept, secret key masked); `newline` ends it with one."""
    data = redact_artifact(data.decode("latin-1"), creds).encode("latin-1")
    sys.stdout.flush()
    view = memoryview(data + (b"\n" if newline and not data.endswith(b"\n") else b""))
    while view:  # a pipe whose reader left takes part of a big write without error (`| head`); the rest raises
        view = view[sys.stdout.buffer.write(view):]
    sys.stdout.buffer.flush()


def cmd_sign(args: argparse.Namespace, env: Mapping[str, str], out: Callable[[str], None]) -> int:
    if args.presign_post:  # a browser upload's URL and form fields: no request file is read
        post, resolved = presign_post_with_flags(args, env)
        out(redact_artifact(post.render(as_json=args.json), resolved.credentials))
        return 0
    if args.wss:
        return out(presign_wss_with_flags(args, env)) or 0
    raw = parse_request(read_input(args.file), scheme=args.scheme)
    signer = flag_signer(raw.request, args, env)
    result, creds, show = signer.sign(raw.request), signer.resolved.credentials, args.show_secrets
    message = http_message(result.request, raw)
    if args.json:
        record = {**result_record(result), **signed_request_fields(message)}
        out(redact_artifact(json.dumps(record, indent=2, ensure_ascii=False), creds))
    elif args.explain:
        out(explain(result, creds, signer.region, signer.service, show_token=show,
                    then=("Signed request", body_text(message))))
    elif args.presign:
        out(redact_artifact(result.url, creds))
        _warn(presign_note(result))
    else:
        write(message, creds, newline=args.newline)
    return 0


def _transport_options(args: argparse.Namespace) -> TransportOptions:
    return TransportOptions(args.connect_timeout, args.read_timeout, args.ca_bundle, args.insecure)


def _warn(text: str) -> None:
    if text:  # an empty warning is none
        print(text, file=sys.stderr)


def cmd_send(args: argparse.Namespace, env: Mapping[str, str], out: Callable[[str], None]) -> int:
    raw = parse_request(read_input(args.file), scheme=args.scheme)
    request = with_endpoint(raw.request, args.endpoint) if args.endpoint else raw.request
    creds, show = None, args.show_secrets
    with ExitStack() as files:
        if body_file := files.enter_context(open_body(args.body_file)) if args.body_file else None:
            request = with_body_file(request, body_file, chunked=args.sign and args.chunked)
        unsigned = request.without_headers(STALE_AUTH_HEADERS)
        if signer := flag_signer(unsigned, args, env) if args.sign else None:
            request, creds = signer.sign(unsigned).request, signer.resolved.credentials
        if args.curl or args.har:
            file = None if args.sign and args.chunked else args.body_file  # else its aws-chunked stream, whole
            body = b"" if file else body_bytes(request)
            text = curl_command(request, body, file) if args.curl else json.dumps(har_entry(request, body), indent=2)
            out(redact_artifact(text, creds))
            return 0
        sink = files.enter_context(Download(args.output)) if args.output else None
        request, exchange = send_signed(request, _transport_options(args), env, _warn, sink=sink,
                                        resign=(lambda skew: signer.sign(unsigned, skew).request)
                                        if signer and not args.date else None,
                                        rewind=filter(None, (body_file,)))
        report = _warn if sink is not None and sink.deliver() else out  # `-o -`: stdout holds the body alone
    for line in transcript(exchange) if args.verbose else ():
        _warn(redact(line, creds, show_token=show))
    if args.json:
        report(redact(json.dumps(send_record(request, exchange), indent=2, ensure_ascii=False), creds, show_token=show))
    elif not args.verbose:
        report(redact(render_response(exchange), creds, show_token=show))
    return 0


def cmd_call(args: argparse.Namespace, env: Mapping[str, str], out: Callable[[str], None]) -> int:
    import wire
    from wire import s3
    from wire.transport.calls import prepare_call
    with ExitStack() as files:
        try:
            call = prepare_call(args, env, files, _transport_options(args), _warn)
        except wire.WireError as err:
            raise UsageError(str(err)) from None
        if args.dry_run:
            if call.express is not None:
                _warn("sigv4: a directory bucket: the CreateSession request; the operation is signed with its session")
            write(http_message(call.preview()), call.credentials, newline=args.newline)
            return 0
        first, sink = call.signed(), files.enter_context(Download(args.output)) if args.output else None
        _, exchange = send_signed(first, _transport_options(args), env, _warn, resign=call.signed, sink=sink)
        # An error document, not the payload: out of the file.
        body = sink.take() if sink is not None and exchange.status >= 300 else exchange.body
        try:
            output = call.parse_response(exchange.status, exchange.headers, body)
        except wire.ServiceError as err:
            _warn(redact(service_error_line(err, exchange.reason, body), call.credentials))
            if found := s3.redirect_region(exchange.status, exchange.headers, body):
                _warn(f"sigv4: the bucket is in {found}: call again with --region {found}")
            return 1
        except wire.DecodeError as err:
            raise NetworkError(f"the response does not fit the model: {err}") from None
        if sink is not None and sink.deliver():  # `-o -`: stdout holds the payload alone
            return 0
    if sink is not None:  # the payload went to the file
        output = {name: value for name, value in output.items() if not isinstance(value, bytes)}
    out(json.dumps(output, indent=2, default=json_default, ensure_ascii=False))
    return 0


def _print_diagnosis(capture: Any, answer: Any, secret: sigv4.Credentials | None, notes: Sequence[str], as_json: bool,
                     out: Callable[[str], None]) -> None:
    """What `wire.debugger.diagnose` makes of `capture`'s signed request and the `answer` to it, as text or JSON."""
    from wire.debugger.diagnose import diagnose_capture
    from wire.debugger.diagnosis_text import render_text
    notes = [*notes, *filter(None, [masked_token_note(capture.request)])]  # `****`: a copy from a log
    diagnosis = diagnose_capture(capture, answer, secret=secret, notes=notes)
    out(json.dumps(diagnosis.to_json(), indent=2, ensure_ascii=False) if as_json else render_text(diagnosis))


def cmd_diff(args: argparse.Namespace, env: Mapping[str, str], out: Callable[[str], None]) -> int:
    capture, answer = read_capture(args.sent, scheme=args.scheme, pick=args.pick), read_answer(args.response)
    secret = resolve_credentials(args.profile, env).credentials if args.secret else None
    _print_diagnosis(capture, answer, secret, capture.notes, args.json, out)
    return 0


def cmd_explain(args: argparse.Namespace, env: Mapping[str, str], out: Callable[[str], None]) -> int:
    data = None if args.file != "-" and not os.path.isfile(args.file) else read_input(args.file)
    text = tokens.exec_credential_token(args.file if data is None else data.decode("utf-8", "replace").strip())
    # An IAM authentication token or a presigned WebSocket URL: decoded, its scope checked, when it stops working.
    reader = tokens if tokens.looks_like_token(text) else websocket if websocket.looks_like_url(text) else None
    if "\n" not in text and reader is not None:
        report = reader.describe(text, now := datetime.now(timezone.utc))
        out("\n".join(reader.render_report(report, now)))
        return 0 if report.ok else 1
    if cloudfront.looks_signed(text):  # a CloudFront signed URL: its policy, expiry and key pair id
        lines, valid = cloudfront.explain(text, datetime.now(timezone.utc))
        out("\n".join(lines))
        return 0 if valid else 1
    capture = read_capture(args.file, scheme=args.scheme, pick=args.pick, data=text.encode() if data is None else data)
    try:
        secret, notes = resolve_credentials(args.profile, env).credentials, []
    except sigv4.SigningError:
        secret, notes = None, ["no credentials found, so the signature is not checked (scope, time and headers are); "
                               "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or --profile to check it"]
    _print_diagnosis(capture, capture.answer, secret, [*capture.notes, *notes], args.json, out)
    return 0


def cmd_verify(args: argparse.Namespace, env: Mapping[str, str], out: Callable[[str], None]) -> int:
    raw = parse_request(read_input(args.file), scheme=args.scheme)
    creds = resolve_credentials(args.profile, env).credentials
    now = parse_date(args.now, "--now")
    lookup = lambda key_id: creds if key_id == creds.access_key_id else None  # noqa: E731
    try:
        identity = verify_message(raw.request, body_bytes(raw.request), lookup, now=now, s3=args.s3,
                                  omit_session_token=args.omit_session_token)
    except sigv4.VerificationError as err:
        out(redact(verification_report(err, raw.request), creds))
        if err.reason == "signature_mismatch" and args.s3 is False and err.auth and err.auth.service in S3_SERVICES:
            out(f"hint: the scope names {err.auth.service}, which signs by S3's rules: try without --no-s3")
        return 1
    except StreamDecodeError as err:
        out(f"FAILED ({err.reason}): {err}")  # the decoder's message names the aws-chunked body
        return 1
    scope = "/".join(filter(None, (identity.scope_date, ",".join(identity.regions), identity.service)))
    out(f"OK: {identity.algorithm} signature by {identity.access_key_id}" + (f" for {scope}" if scope else "")
        + (" (presigned)" if identity.presigned else ""))
    return 0


def cmd_whoami(args: argparse.Namespace, env: Mapping[str, str], out: Callable[[str], None]) -> int:
    record = describe(resolve_credentials(args.profile, env))
    out(json.dumps(record, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in record.items() if v))
    return 0


def cmd_token(args: argparse.Namespace, env: Mapping[str, str], out: Callable[[str], None]) -> int:
    resolved, kind = resolve_credentials(args.profile, env), args.kind.replace("-", "_")  # ses-smtp -> ses_smtp
    fields = {name: getattr(args, name) for name in tokens.FIELDS[kind]}
    region = args.region or tokens.region_in_host(str(fields.get("host") or "")) or resolved.region or "us-east-1"
    token = tokens.issue(kind, resolved.credentials, region, when := parse_date(args.date), **fields)
    if getattr(args, "exec_credential", False):  # what kubectl's exec plugin reads, as `aws eks get-token` prints it
        token, warning = tokens.exec_credential(token, when, env.get("KUBERNETES_EXEC_INFO"))
        _warn(warning or "")
    out(token)
    return 0


def cmd_proxy(args: argparse.Namespace, env: Mapping[str, str], out: Callable[[str], None]) -> int:
    limits = _limits(args)
    try:
        app, banner = proxy_cli.build(args, env, _warn, _transport_options(args))
    except ValueError as err:  # a flag's value, UpstreamError among them
        raise UsageError(str(err)) from None
    server = start_server(app, args.host, args.port, limits)
    _warn(banner(server.url))
    serve_until_signal(server, lambda: _reader_gone(sys.stderr))  # its log's reader left (`2>&1 | head`): stop
    if _reader_gone(sys.stderr):
        raise BrokenPipeError
    return 0


def cmd_serve(args: argparse.Namespace, env: Mapping[str, str], out: Callable[[str], None]) -> int:
    import threading
    broken = threading.Event()  # the log's reader left (`serve | head`): stop, quietly

    def log(line: str) -> None:
        try:
            if not broken.is_set():
                out(line)
                sys.stdout.flush()
        except BrokenPipeError:
            broken.set()

    state = state_path(args.state, env)
    limits = _limits(args)
    try:
        directory = load_accounts(args.accounts)
    except ConfigError as err:
        raise UsageError(f"--accounts {err}") from None
    app = build_app(directory, state, trail_path(args.log, env, state), args.region_delay, log)
    server = start_server(app, args.host, args.port, limits)
    log(f"serving AWS Account Management (2021-02-01) on {server.url}")
    log(f"state {state}; trail {app.trail.path or 'not kept (--log FILE keeps one)'}"
        + (f" ({app.recovered} record(s) committed before a crash appended)" if app.recovered else ""))
    if args.accounts is None:
        log(DEFAULT_IDENTITY_NOTICE)
    try:
        serve_until_signal(server, broken.is_set)
    finally:
        app.close()
    log("stopped")
    if broken.is_set():
        raise BrokenPipeError
    return 0


def cmd_trail(args: argparse.Namespace, env: Mapping[str, str], out: Callable[[str], None]) -> int:
    path = trail_path(args.log, env)
    if not path.exists() and not args.follow:
        raise UsageError(f"trail {path}: no such file (has `serve` run with this --log?)")
    for line, record in read_trail(path, follow=args.follow, stop=_reader_gone):
        if args.event_name is None or record.get("eventName") == args.event_name:
            out(line)
            sys.stdout.flush()
    if args.follow:  # a follow ends only when the reader has gone (`trail --follow | head`)
        raise BrokenPipeError
    return 0


def _port(text: str) -> int:
    if not text.lstrip("-").isdigit() or not 0 <= int(text) <= 65535:
        raise UsageError(f"--port: {text} is not 0..65535")
    return int(text)


def _listen_flags(parser: argparse.ArgumentParser) -> None:
    """Where `serve` and `proxy` listen, and the limits they share."""
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default loopback only)")
    parser.add_argument("--port", type=_port, default=0, help="0 picks a free port (printed)")
    parser.add_argument("--max-body-bytes", type=int, default=ServeLimits.max_body_bytes)
    parser.add_argument("--max-header-bytes", type=int, default=ServeLimits.max_header_bytes)
    parser.add_argument("--client-timeout", type=seconds, default=ServeLimits.client_timeout,
                        help="seconds a request may take to arrive (slow clients get 408)")
    parser.add_argument("--max-connections", type=int, default=ServeLimits.max_connections,
                        help="connections served at once; beyond it the idle or slowest makes room")
    parser.add_argument("--max-buffered-bytes", type=int, default=ServeLimits.max_buffered_bytes,
                        help="request body bytes held across connections; beyond it 503 with Retry-After")


def _limits(args: argparse.Namespace) -> ServeLimits:
    for flag, least in (("max_connections", 1), ("max_header_bytes", 1), ("max_body_bytes", 0),
                        ("max_buffered_bytes", 0)):
        if getattr(args, flag) < least:
            raise UsageError(f"--{flag.replace('_', '-')} {getattr(args, flag)}: must be at least {least}")
    return ServeLimits(args.max_header_bytes, args.max_body_bytes, args.client_timeout, args.max_connections,
                       args.max_buffered_bytes)


def add_embedding_commands(commands: Any) -> None:
    """`token` (IAM authentication tokens) and `proxy` (the signing reverse proxy)."""
    token = commands.add_parser("token", help="print an IAM authentication token or derived password (rds, eks, ...)")
    kinds = token.add_subparsers(dest="kind", required=True, parser_class=_Parser)
    for kind in tokens.KINDS:
        parser = kinds.add_parser(kind.replace("_", "-"), help=tokens.RECIPES[kind].purpose)
        for arg in tokens.RECIPES[kind].args:
            parser.add_argument("--" + arg.name.replace("_", "-"), **arg.cli_options())  # type: ignore[arg-type]
        parser.set_defaults(region=None, date=None)  # a kind that signs for no region (mongodb) or time has no flag
        if "region" in tokens.RECIPES[kind].inputs:
            parser.add_argument("--region", help="default: " + ("the host's region, " if "host" in tokens.FIELDS[kind]
                                                                 else "") + "AWS_REGION, the profile's, us-east-1")
        parser.add_argument("--profile")
        if "timestamp" in tokens.RECIPES[kind].inputs:
            parser.add_argument("--date", help="signing time YYYYMMDDTHHMMSSZ (default: now, UTC)")
    kinds.choices["eks"].add_argument("--exec-credential", action="store_true", help="as `aws eks get-token` prints it")
    proxy = commands.add_parser("proxy", help="a local reverse proxy that signs every request for an AWS endpoint")
    proxy_cli.add_flags(proxy)
    _listen_flags(proxy)
    _transport_flags(proxy)


def add_server_commands(commands: Any) -> None:
    """`serve`, `trail` and `demo`: the local Account Management endpoint."""
    serve = commands.add_parser("serve", help="run the local AWS Account Management endpoint")
    _listen_flags(serve)
    serve.add_argument("--state", help="SQLite file (default $XDG_STATE_HOME/sigv4-toolkit/account.db); :memory: allowed")
    serve.add_argument("--accounts", help="identities JSON ({\"accounts\": [...]}); default: the example identity")
    serve.add_argument("--log", help="CloudTrail JSON-lines file (default next to the state)")
    serve.add_argument("--region-delay", type=seconds, default=60.0, help="seconds a region takes to change (default 60)")
    trail = commands.add_parser("trail", help="print the local endpoint's CloudTrail records (JSON lines)")
    trail.add_argument("--log", help="the trail file (default: the one `serve` writes by default)")
    trail.add_argument("--follow", "-f", action="store_true", help="keep printing records as they are appended")
    trail.add_argument("--event-name", help="only records of this operation")
    commands.add_parser("demo", help="start the endpoint in-process and make signed calls to it")


# -------------------------------------------------------------- argparse ---

class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _signing_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", help="profile from ~/.aws/credentials and ~/.aws/config")
    parser.add_argument("--region", help="signing region (default: the host name's, AWS_REGION, profile, us-east-1)")
    parser.add_argument("--service", help="signing service name (default: from the host name)")
    parser.add_argument("--date", help="signing time YYYYMMDDTHHMMSSZ (default: now, UTC)")
    parser.add_argument("--presign", action="store_true", help="sign into the URL's query instead of headers")
    parser.add_argument("--expires", type=int, help="presigned URL lifetime in seconds (1..604800; default 3600)")
    parser.add_argument("--unsigned-payload", action="store_true", help="sign UNSIGNED-PAYLOAD instead of the body hash")
    _s3_flags(parser)
    parser.add_argument("--no-normalize-path", action="store_true")
    parser.add_argument("--no-double-encode", action="store_true")
    parser.add_argument("--omit-session-token", action="store_true", help="send the token but leave it out of the signature")
    parser.add_argument("--algorithm", choices=["v4", "v4a", "v2"], default="v4", help="signature version (default v4; v2: S3's SigV2 for S3, else Query SigV2)")
    parser.add_argument("--region-set", help="SigV4a region set, comma-separated or * (default: --region)")
    parser.add_argument("--chunked", action="store_true", help="sign the body as aws-chunked (streaming) upload")
    parser.add_argument("--chunk-size", type=int, default=65536, help="aws-chunked chunk size in bytes (default 65536)")
    parser.add_argument("--trailer", choices=list(CHECKSUMS),
                        help="with --chunked: a signed trailing checksum of this kind")


def _s3_flags(parser: argparse.ArgumentParser) -> None:
    """`--s3`/`--no-s3` (`args.s3`: True, False, or None: S3's rules when the scope's service is S3-like)."""
    rules = parser.add_mutually_exclusive_group()
    rules.add_argument("--s3", action="store_true", default=None, help="S3 rules: no path normalization, single "
                       "encoding, x-amz-content-sha256 (the default for s3, s3express, s3-outposts, ...)")
    rules.add_argument("--no-s3", dest="s3", action="store_false", help="generic rules even for an S3 service")


def _transport_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--connect-timeout", type=seconds, default=10.0, help="seconds (default 10)")
    parser.add_argument("--read-timeout", type=seconds, default=60.0, help="seconds (default 60)")
    parser.add_argument("--ca-bundle", type=ca_bundle, help="PEM file of CA certificates to trust, not the system's")
    parser.add_argument("--insecure", action="store_true", help="do not check the TLS certificate (warns)")


def _scheme_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scheme", choices=["https", "http"], default="https",
                        help="scheme for a request file with a Host header (default https)")


def _capture_flags(parser: argparse.ArgumentParser, *, json_output: bool) -> None:
    """Flags of the commands that read an already signed request (diff and explain: a capture, with --json)."""
    parser.add_argument("--profile", help="profile whose credentials check the signature (default: the chain's)")
    _scheme_flag(parser)
    if json_output:
        parser.add_argument("--pick", type=int, help="a capture of several requests: read request N (default: "
                                                      "the last that failed)")
        parser.add_argument("--json", action="store_true")


NEWLINE_HELP = "end the printed request with a newline, for a terminal (it then no longer replays byte for byte)"


#: Each command's function: (arguments, environment, print) -> exit status. A command added elsewhere
#: with `set_defaults(handler=...)` runs too: `main` calls `args.handler`.
COMMANDS: dict[str, Callable[[argparse.Namespace, Mapping[str, str], Callable[[str], None]], int]] = {
    "sign": cmd_sign, "send": cmd_send, "call": cmd_call, "diff": cmd_diff, "explain": cmd_explain,
    "verify": cmd_verify, "whoami": cmd_whoami, "serve": cmd_serve, "trail": cmd_trail,
    "token": cmd_token, "proxy": cmd_proxy, "demo": lambda args, env, out: run_demo(out) or 0,
}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sigv4", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {sigv4.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sign = commands.add_parser("sign", help="sign a raw HTTP request and print it")
    sign.add_argument("file", nargs="?", default="-", help="raw request file, or - for stdin (--wss: the endpoint)")
    _signing_flags(sign)
    sign.add_argument("--wss", choices=websocket.PRESET_NAMES, help="presign this service's WebSocket handshake")
    sign.add_argument("--explain", action="store_true", help="walk through every signing step")
    sign.add_argument("--json", action="store_true", help="print one JSON object with every intermediate")
    sign.add_argument("--show-secrets", action="store_true", help="show the session token in --explain too")
    sign.add_argument("--newline", action="store_true", help=NEWLINE_HELP)
    _scheme_flag(sign)
    post = sign.add_argument_group("S3 presigned POST: print the upload URL and form fields; reads no request")
    post.add_argument("--presign-post", action="store_true", help="build a browser upload form (--json: {url, fields})")
    post.add_argument("--bucket", help="the bucket the form uploads to")
    post.add_argument("--key", help="the object key; ending in ${filename}: any key with that prefix")
    post.add_argument("--condition", action="append", default=[], metavar="JSON", help="a policy condition "
                      """(repeatable): '{"acl": "private"}', '["content-length-range", 1, 1048576]'""")
    post.add_argument("--field", action="append", default=[], metavar="NAME=VALUE",
                      help="a prefilled form field (--wss: a query parameter)")
    post.add_argument("--url", help="the form's action URL (default: the bucket's virtual-hosted endpoint)")

    send = commands.add_parser("send", help="send a raw HTTP request (optionally re-signed) and print the response")
    send.add_argument("file", nargs="?", default="-", help="raw request file, or - for stdin")
    _signing_flags(send)
    _transport_flags(send)
    send.add_argument("--sign", action="store_true", help="strip old auth headers and sign now")
    _scheme_flag(send)
    send.add_argument("--endpoint", help="send to this http(s)://host[:port] instead of the Host header's")
    send.add_argument("--body-file", help="stream the body from this file instead of the request file's body")
    send.add_argument("-o", "--output", help="write the response body to this file, - stdout (the rest to stderr)")
    send.add_argument("-v", "--verbose", action="store_true", help="print the exact bytes sent and received (stderr)")
    send.add_argument("--curl", action="store_true", help="print an equivalent curl command instead of sending")
    send.add_argument("--har", action="store_true", help="print the request as a HAR entry instead of sending")
    send.add_argument("--json", action="store_true", help="print a JSON record of request, response and timing")
    send.add_argument("--show-secrets", action="store_true", help="show the session token in -v, --json, responses")

    call = commands.add_parser("call", help="call an API operation from its model")
    call.add_argument("service", help="service name: 'account' (shipped) or any model in an installed botocore")
    call.add_argument("operation")
    call.add_argument("params", nargs="*", help="Name=Value, read by the member's type (JSON or the aws CLI's shorthand for structures, lists, maps)")
    call.add_argument("--input", help="operation parameters as JSON, or @FILE or file://FILE")
    call.add_argument("--model", help="a botocore-format service model file (.json or .json.gz)")
    call.add_argument("--profile")
    call.add_argument("--region")
    call.add_argument("--endpoint-url")
    call.add_argument("--protocol", metavar="NAME", help="call over another protocol the model lists (cloudwatch: "
                      "smithy-rpc-v2-cbor); query also calls the Account API through its Query form")
    call.add_argument("--method", choices=["GET", "POST"], help="Query protocols: send as GET or POST")
    call.add_argument("--sigv2", action="store_true", help="sign with SigV2 (Query protocols)")
    call.add_argument("--dry-run", action="store_true", help="print the signed request instead of sending it")
    call.add_argument("-o", "--output", help="write a streamed payload (S3 GetObject's Body) to this file, - stdout")
    call.add_argument("--newline", action="store_true", help=NEWLINE_HELP)
    _transport_flags(call)

    diff = commands.add_parser("diff", help="explain a signature error: our canonical request vs the server's")
    diff.add_argument("sent", help="the signed request as sent (raw, curl -v, HAR, aws --debug, send --json)")
    diff.add_argument("response", help="the server's error response (body or whole raw response), - for stdin")
    diff.add_argument("--secret", action="store_true", help="also check the signature with your credentials")
    _capture_flags(diff, json_output=True)

    explain_cmd = commands.add_parser("explain", help="recompute a captured signed request and say what disagrees; "
                                                      "or decode an IAM authentication token or a CloudFront signed URL")
    explain_cmd.add_argument("file", nargs="?", default="-", help="a capture file, - for stdin, or a token")
    _capture_flags(explain_cmd, json_output=True)

    verify = commands.add_parser("verify", help="verify a signed raw request with your credentials")
    verify.add_argument("file", nargs="?", default="-")
    _capture_flags(verify, json_output=False)
    verify.add_argument("--now", help="verification time YYYYMMDDTHHMMSSZ (default: now, UTC)")
    verify.add_argument("--omit-session-token", action="store_true", help="a presigned URL's token is not signed")
    _s3_flags(verify)

    whoami = commands.add_parser("whoami", help="which credentials would sign, from where (never the secret)")
    whoami.add_argument("--profile")
    whoami.add_argument("--json", action="store_true")
    add_server_commands(commands)
    add_embedding_commands(commands)
    for module in (cloudfront_cli, rolesanywhere_cli):
        module.add_parser(commands, _Parser)
    for name, handler in COMMANDS.items():
        commands.choices[name].set_defaults(handler=handler)
    return parser


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The parsed command line; `call` takes its options and Name=Value parameters in any order."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] != ["call"]:
        return parser.parse_args(argv)
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    args = commands.choices["call"].parse_intermixed_args(argv[1:])
    args.command = "call"
    return args


def _reader_gone(stream: Any = None) -> bool:
    """Whether `stream` (default stdout) is a pipe whose reader has left (`| head` done): a waiting command ends
    then, not at its next write, which may never come."""
    try:
        poller = select.poll()
        poller.register((stream or sys.stdout).fileno(), 0)  # no events asked: POLLERR/POLLHUP, a pipe with no reader
        return bool(poller.poll(0))
    except (OSError, ValueError, AttributeError):  # no file descriptor (captured in tests), no poll (Windows)
        return False


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush does not fail again on a closed pipe."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # a captured stdout (tests) has no file descriptor
        pass


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    try:
        args = parse_args(argv)
        code = int(args.handler(args, env, print))
        sys.stdout.flush()  # inside the try: a reader that left (`| head`) shows up here
        return code
    except (UsageError, InputError, FlagError, ListenError, RequestError, TrailError, sigv4.SigningError) as err:
        _warn(redact(f"sigv4: error: {err}"))  # an error only explains: a token it quotes is masked
        return EXIT_USAGE
    except NetworkError as err:
        _warn(redact(f"sigv4: network error: {err}") + (NOT_TLS_HINT if isinstance(err, NotTLSError) else ""))
        return EXIT_NETWORK
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except SystemExit:  # --help and --version print, then exit: flush here, where a closed pipe is caught
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _quiet_stdout()
        raise
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
