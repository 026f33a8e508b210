"""`sigv4 cloudfront sign-url|sign-cookies|verify`: CloudFront signed URLs and cookies from the command line.

Strategy: the flags are one table (`_FLAGS`) shared by the sub-commands; this
module reads the key files and the clock, turns the flags into the arguments
of the pure `sigv4.cloudfront` functions, and prints what they return. A
canned policy unless a custom one is asked for (`--policy`, `--starts`, `--ip`
or `--resource`). Bad flags raise `FlagError`, unreadable files `InputError`:
the command line prints one line and exits 2.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from sigv4 import VerificationError, cloudfront

from .files import read_input
from .signing import FlagError, now

_WHEN_HELP = "epoch seconds, YYYYMMDDTHHMMSSZ or ISO 8601 (2030-01-01T00:00:00Z)"
_SIGNING = ("sign-url", "sign-cookies")
_MAX_EXPIRES_IN = 100 * 366 * 86400  # a century: more is a typo, and past year 9999 no time can be written
#: flag -> (the sub-commands that take it, argparse keywords).
_FLAGS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "url": (_SIGNING + ("verify",), {"help": "the URL (sign-cookies: the canned policy's resource; verify: the URL "
                                             "asked for, signed unless --cookie carries the signature)"}),
    "--key-pair-id": (_SIGNING, {"required": True, "help": "the CloudFront public key's id (K2JCJMDEHXQW5F)"}),
    "--private-key": (_SIGNING, {"required": True, "help": "PEM file of the RSA private key"}),
    "--expires": (_SIGNING, {"help": f"when the URL stops working: {_WHEN_HELP}"}),
    "--expires-in": (_SIGNING, {"type": int, "default": 3600, "help": "seconds from now (default 3600)"}),
    "--starts": (_SIGNING, {"help": f"custom policy: not valid before ({_WHEN_HELP})"}),
    "--ip": (_SIGNING, {"help": "custom policy: the viewer's address or CIDR range"}),
    "--resource": (_SIGNING, {"help": "custom policy: the resource, * and ? as wildcards (default: the URL)"}),
    "--policy": (_SIGNING, {"help": "custom policy: a JSON policy file, signed as is"}),
    "--hash-algorithm": (_SIGNING, {"choices": list(cloudfront.HASH_ALGORITHMS), "default": "SHA1",
                                    "help": "SHA1 (default, what botocore signs) or SHA256 (Hash-Algorithm=SHA256)"}),
    "--json": (("sign-cookies",), {"action": "store_true", "help": "print the cookies as a JSON object"}),
    "--public-key": (("verify",), {"action": "append", "required": True, "metavar": "ID=FILE",
                                   "help": "a key pair id and its PEM public key (repeatable)"}),
    "--cookie": (("verify",), {"action": "append", "default": [], "metavar": "NAME=VALUE",
                               "help": "the request's cookies: NAME=VALUE (repeatable) or a Cookie header's value "
                                       "(what sign-cookies prints); CloudFront-* ones are read"}),
    "--client-ip": (("verify",), {"help": "the viewer's address, for a policy with IpAddress"}),
    "--now": (("verify",), {"help": f"the verification time ({_WHEN_HELP}; default now)"}),
}
_HELP = {"sign-url": "print a signed URL", "sign-cookies": "print signed cookies (a Cookie header's value)",
         "verify": "check a signed URL (or cookies) as CloudFront would: exit 0 valid, 1 not"}


def add_parser(commands: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    """Add `cloudfront` and its sub-commands to the `commands` sub-parsers."""
    cloudfront_cmd = commands.add_parser("cloudfront", help="CloudFront signed URLs and cookies (RSA key pairs)")
    actions = cloudfront_cmd.add_subparsers(dest="action", required=True, parser_class=parser_class)
    for action, help_text in _HELP.items():
        parser = actions.add_parser(action, help=help_text)
        for flag, (where, options) in _FLAGS.items():
            if action in where:
                parser.add_argument(flag, **options)
    cloudfront_cmd.set_defaults(handler=run)


def parse_when(text: str, flag: str) -> datetime:
    """A time flag as an aware UTC datetime; raises FlagError naming `flag`."""
    if text.isascii() and text.isdigit():  # '²' is a digit to isdigit, not to int()
        try:
            return datetime.fromtimestamp(int(text), timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise FlagError(f"{flag} {text}: past the end of year 9999") from None
    try:
        return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise FlagError(f"{flag} {text!r}: expected {_WHEN_HELP}") from None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed


def _signing_arguments(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """(resource for a canned policy, the `expires`/`policy` keyword) the flags ask for."""
    custom = args.starts or args.ip or args.resource or "*" in args.url  # a wildcard needs a custom policy
    if args.policy is not None:
        if custom or args.expires:
            raise FlagError("--policy: the policy file says everything; leave out --expires, --starts, --ip, "
                            "--resource")
        return args.url, {"policy": read_input(args.policy).decode("utf-8", "replace").strip()}
    if not args.expires and not 0 < args.expires_in <= _MAX_EXPIRES_IN:
        raise FlagError(f"--expires-in {args.expires_in}: must be 1..{_MAX_EXPIRES_IN} seconds")
    expires = parse_when(args.expires, "--expires") if args.expires else now() + timedelta(seconds=args.expires_in)
    if not custom:
        return args.url, {"expires": expires}
    return args.url, {"policy": cloudfront.policy(
        args.resource or args.url, expires, ip_address=args.ip,
        starts=parse_when(args.starts, "--starts") if args.starts else None)}


def _verify(args: argparse.Namespace, out: Callable[[str], None]) -> int:
    keys: dict[str, cloudfront.PublicKey] = {}
    for item in args.public_key:
        key_id, sep, path = item.partition("=")
        if not sep or not key_id or not path:
            raise FlagError(f"--public-key {item!r}: expected ID=FILE")
        keys[key_id] = read_input(path)
    cookies = {name: value for item in args.cookie for name, value in cloudfront.cookie_header(item).items()}
    when = parse_when(args.now, "--now") if args.now else now()
    try:
        access = cloudfront.verify(args.url, keys, when, cookies=cookies, client_ip=args.client_ip)
    except VerificationError as err:
        out(f"FAILED ({err.reason}): {err}")
        return 1
    out(f"OK: signed {access.source} by key pair {access.key_pair_id} "
        f"({'canned' if access.canned else 'custom'} policy), valid until {access.expires:%Y-%m-%dT%H:%M:%SZ}")
    return 0


def run(args: argparse.Namespace, env: Mapping[str, str], out: Callable[[str], None]) -> int:
    """Run `sigv4 cloudfront <action>`; returns the exit status."""
    if args.action == "verify":
        return _verify(args, out)
    resource, when = _signing_arguments(args)
    key = read_input(args.private_key)
    if args.action == "sign-url":
        out(cloudfront.sign_url(resource, args.key_pair_id, key, hash_algorithm=args.hash_algorithm, **when))
        return 0
    cookies = cloudfront.sign_cookies(resource, args.key_pair_id, key, hash_algorithm=args.hash_algorithm, **when)
    out(json.dumps(cookies, indent=2) if args.json else "; ".join(f"{k}={v}" for k, v in cookies.items()))
    return 0
