"""`sigv4 proxy`'s flags and the app they choose: the signing reverse proxy, or the credential boundary.

Strategy: `add_flags` defines every `sigv4 proxy` flag (the CLI only calls
it), `build` turns the parsed flags into the app for the edge's server and the
line printed once it listens: `--resign` (with `--intercept`) is
`wire.transport.resign`, `--verify` `wire.transport.guard`, otherwise
`wire.transport.proxy`. Bad flag values raise ValueError (or the guard's
`FlagError`) with the flag's name; the CLI prints it in one line.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import Any

from wire.transport.client import TransportOptions
from wire.transport.guard import add_guard_flags, guard_for
from wire.transport.proxy import proxy_for
from wire.transport.resign import resigning_proxy

__all__ = ["add_flags", "build"]


def add_flags(parser: argparse.ArgumentParser) -> None:
    """Add the `sigv4 proxy` flags (the listening and transport ones are the CLI's, shared with `serve`)."""
    parser.add_argument("--upstream", help="https://host[:port][/path] of the AWS endpoint (optional with --resign: "
                                           "the standard endpoint of each request's service and region)")
    parser.add_argument("--service", help="signing service name (s3 gets S3's rules); with --resign, default: "
                                          "each request's credential scope")
    parser.add_argument("--region", help="default: from the upstream host (--resign: the request's scope), "
                                         "AWS_REGION, the profile's, us-east-1")
    parser.add_argument("--profile")
    parser.add_argument("--resign", action="store_true",
                        help="re-sign requests signed with a placeholder (--accept) with the proxy's credentials")
    parser.add_argument("--accept", action="append", default=[], metavar="KEY_ID[:SECRET]",
                        help="a placeholder identity (repeatable); with a secret its signatures are verified")
    parser.add_argument("--allow", action="append", default=[], metavar="ACTION",
                        help="allow only these actions (repeatable; service:Operation, wildcards)")
    parser.add_argument("--intercept", action="store_true",
                        help="HTTPS_PROXY mode: terminate CONNECT to AWS hosts with a local CA's certificates")
    parser.add_argument("--ca-dir", help="the --intercept CA's directory (default: the state directory's proxy-ca)")
    add_guard_flags(parser)


def build(args: argparse.Namespace, env: Mapping[str, str], log: Callable[[str], None],
          options: TransportOptions) -> tuple[Any, Callable[[str], str]]:
    """(the app, the start line given the server's URL) the flags ask for. Raises ValueError naming the flag
    (`UpstreamError` is one) or `FlagError` (the guard's), `sigv4.SigningError` when no credentials are found."""
    boundary = [f for f in ("accept", "allow", "intercept") if getattr(args, f)]
    if args.verify:
        if args.resign or boundary or args.upstream is None:
            raise ValueError("proxy --verify: needs --upstream URL; --resign, --accept, --allow and --intercept "
                             "belong to the credential boundary")
        return guard_for(args, log, options)
    if args.resign:
        app, _, lines = resigning_proxy(args, env, log, options)
        return app, lambda url: f"sigv4 proxy --resign: {url}; " + "\n".join(lines)
    for flag in ("upstream", "service"):
        if getattr(args, flag) is None:
            raise ValueError(f"proxy: --{flag} is required (optional with --resign only)")
    if boundary:
        raise ValueError(f"proxy: --{boundary[0]} belongs to --resign")
    plain, first = proxy_for(args.upstream, args.service, args.region, args.profile, env, log, options)
    return plain, lambda url: (
        f"sigv4 proxy: {url} -> {args.upstream} (service {args.service}, region {plain.region}; credentials from "
        f"{first.source}; bodies up to {args.max_body_bytes} bytes, --max-body-bytes"
        + (", except uploads with a Content-Length, streamed)" if args.service == "s3" else ")"))
