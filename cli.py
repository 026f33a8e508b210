"""`sigv4`: sign, explain, verify, send and debug AWS requests from raw HTTP text.

Strategy: this module is the I/O edge of the toolkit. It reads files, the
environment, the clock and credential sources, then hands plain values to
the pure `sigv4` and `wire` packages and prints what comes back. Every
failure the user can cause ends as one line on stderr and exit status 2
(3 for network failures); secrets and tokens are masked in every output.
"""

from __future__ import annotations

import argparse
import configparser
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NoReturn

import sigv4
from sigv4.keys import derive_steps
from sigv4.raw import RawRequest, parse_request, render_request

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
            text = text.replace(secret, "****")
    return text


# ------------------------------------------------------------ credentials ---

@dataclass(frozen=True)
class ResolvedCredentials:
    credentials: sigv4.Credentials
    source: str  # "env", "profile <name> (<file>)", "credential_process (<profile>)"
    expiration: str | None = None
    region: str | None = None


def _aws_file(env: Mapping[str, str], var: str, default: str) -> Path:
    return Path(env.get(var) or Path.home() / ".aws" / default).expanduser()


def _read_ini(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as err:
        raise UsageError(f"{path}: not a valid AWS config file ({err.__class__.__name__})") from None
    return parser


def _profile_section(config: configparser.RawConfigParser, profile: str) -> dict[str, str]:
    for name in (profile, f"profile {profile}"):
        if config.has_section(name):
            return dict(config.items(name))
    return {}


def _credential_process(command: str, profile: str) -> tuple[sigv4.Credentials, str | None]:
    try:
        done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        raise UsageError(f"credential_process of profile {profile!r}: timed out after 60 s") from None
    if done.returncode != 0:
        raise UsageError(f"credential_process of profile {profile!r}: exited with status {done.returncode}")
    try:
        data = json.loads(done.stdout)
        creds = sigv4.Credentials(data["AccessKeyId"], data["SecretAccessKey"], data.get("SessionToken"))
    except (ValueError, KeyError, TypeError):
        raise UsageError(
            f"credential_process of profile {profile!r}: output is not JSON with AccessKeyId and SecretAccessKey"
        ) from None
    return creds, data.get("Expiration")


def resolve_credentials(profile: str | None, env: Mapping[str, str]) -> ResolvedCredentials:
    """Find credentials as the AWS CLI does: an explicit profile, else the
    environment, else the AWS_PROFILE or default profile of the shared files."""
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if profile is None and env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        creds = sigv4.Credentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"],
                                  env.get("AWS_SESSION_TOKEN") or None)
        return ResolvedCredentials(creds, "env", None, region)
    name = profile or env.get("AWS_PROFILE") or "default"
    cred_file = _aws_file(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials")
    conf_file = _aws_file(env, "AWS_CONFIG_FILE", "config")
    config = _profile_section(_read_ini(conf_file), name)
    shared = _profile_section(_read_ini(cred_file), name)
    region = region or config.get("region")
    for section, path in ((shared, cred_file), (config, conf_file)):
        if section.get("aws_access_key_id") and section.get("aws_secret_access_key"):
            creds = sigv4.Credentials(section["aws_access_key_id"], section["aws_secret_access_key"],
                                      section.get("aws_session_token") or None)
            return ResolvedCredentials(creds, f"profile {name} ({path})", None, region)
    command = config.get("credential_process") or shared.get("credential_process")
    if command:
        creds, expiration = _credential_process(command, name)
        return ResolvedCredentials(creds, f"credential_process (profile {name})", expiration, region)
    raise UsageError(
        f"no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give a profile in "
        f"{cred_file} / {conf_file} (profile {name!r} has none)"
    )


def profile_setting(profile: str | None, key: str, env: Mapping[str, str]) -> str | None:
    """One setting (e.g. `region`, `endpoint_url`) of the active profile in the config file."""
    name = profile or env.get("AWS_PROFILE") or "default"
    return _profile_section(_read_ini(_aws_file(env, "AWS_CONFIG_FILE", "config")), name).get(key)


# ------------------------------------------------------------------ input ---

def read_input(path: str) -> bytes:
    try:
        return sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as err:
        raise UsageError(f"{path}: cannot read ({err.strerror})") from None


def parse_date(text: str | None) -> datetime:
    """`--date YYYYMMDDTHHMMSSZ`, or now (UTC) when absent."""
    if text is None:
        return datetime.now(timezone.utc)
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


def explain(result: sigv4.SigningResult, creds: sigv4.Credentials, region: str, service: str) -> str:
    """A step-by-step account of one signature, secrets masked."""
    date = result.amz_date[:8]
    steps = derive_steps(creds.secret_access_key, date, region, service)
    short = lambda key: key.hex()[:8] + "…"  # noqa: E731  derived keys are secrets too
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
        "4. Signing key derivation (HMAC-SHA256 chain; derived keys shortened):",
        f"   kDate    = HMAC(\"AWS4\" + secret, \"{date}\")       = {short(steps.date_key)}",
        f"   kRegion  = HMAC(kDate, \"{region}\")  = {short(steps.region_key)}",
        f"   kService = HMAC(kRegion, \"{service}\")  = {short(steps.service_key)}",
        f"   kSigning = HMAC(kService, \"aws4_request\") = {short(steps.signing_key)}",
        "",
        f"5. Signature = hex(HMAC(kSigning, string-to-sign)) = {result.signature}",
    ]
    if result.authorization:
        parts.append(f"   Authorization: {result.authorization}")
    else:
        parts.append(f"   URL: {result.url}")
    return redact("\n".join(parts), creds)


# ------------------------------------------------------------------- sign ---

def _sign_options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "s3": args.s3,
        "normalize_path": False if args.no_normalize_path else None,
        "double_encode": False if args.no_double_encode else None,
        "payload": sigv4.UNSIGNED_PAYLOAD if args.unsigned_payload else None,
        "omit_session_token": args.omit_session_token,
    }


def _scope_args(args: argparse.Namespace, request: sigv4.Request, resolved: ResolvedCredentials) -> tuple[str, str]:
    service, region = infer_scope(request.header("host"))
    region = args.region or resolved.region or region or "us-east-1"
    service = args.service or service
    if not service:
        raise UsageError("--service: required (the host name does not say which service this is)")
    return region, service


def sign_raw(raw: RawRequest, args: argparse.Namespace, env: Mapping[str, str]) -> tuple[sigv4.SigningResult, ResolvedCredentials, str, str]:
    resolved = resolve_credentials(args.profile, env)
    region, service = _scope_args(args, raw.request, resolved)
    options = dict(region=region, service=service, timestamp=parse_date(args.date), **_sign_options(args))
    if args.presign:
        result = sigv4.presign(raw.request, resolved.credentials, expires=args.expires, **options)
    else:
        result = sigv4.sign(raw.request, resolved.credentials, **options)
    return result, resolved, region, service


def body_text(body: bytes) -> str:
    return body.decode("utf-8", errors="backslashreplace")


def cmd_sign(args: argparse.Namespace, env: Mapping[str, str], out: Callable[[str], None]) -> int:
    raw = parse_request(read_input(args.file))
    result, resolved, region, service = sign_raw(raw, args, env)
    creds = resolved.credentials
    show = args.show_secrets
    signed = raw.render(result.request).decode("utf-8", errors="backslashreplace")
    if args.json:
        record = {
            "canonical_request": result.canonical_request,
            "string_to_sign": result.string_to_sign,
            "signature": result.signature,
            "credential_scope": result.credential_scope,
            "signed_headers": list(result.signed_headers),
            "signed_request": signed,
        }
        record["authorization" if result.authorization else "url"] = result.authorization or result.url
        out(redact(json.dumps(record, indent=2, ensure_ascii=False), creds, show_token=show))
    elif args.explain:
        out(explain(result, creds, region, service))
        out("\n6. Signed request:\n" + redact(signed, creds, show_token=show))
    else:
        out(redact(signed, creds, show_token=show))
    return 0


# ------------------------------------------ serve (local Account endpoint) ---


def add_server_commands(commands: Any) -> None:
    """`serve`, `trail` and `demo`: the local Account Management endpoint."""


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
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
