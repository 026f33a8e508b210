"""`sigv4 credential-process rolesanywhere`: Roles Anywhere credentials as a `credential_process` prints them.

Strategy: a drop-in for `aws_signing_helper credential-process`: the same
flags (`sigv4.integrations.rolesanywhere.SETTINGS`, one table), or a profile's
`rolesanywhere_*` keys (`--profile`; flags given win), then CreateSession
through `from_rolesanywhere` and the JSON of the credential_process protocol on
stdout. The JSON holds the secret key: it is the artifact asked for, read by
the SDK that runs the command. Failures raise CredentialsError (exit 2).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import Any

from sigv4.integrations.shared_files import SharedFiles
from sigv4.integrations.rolesanywhere import (SETTINGS, RolesAnywhereSettings, credential_process_output,
                                              from_rolesanywhere, profile_key)


def add_parser(commands: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    """Add `credential-process rolesanywhere` to the `commands` sub-parsers."""
    process = commands.add_parser("credential-process", help="print credentials as credential_process JSON")
    sources = process.add_subparsers(dest="source", required=True, parser_class=parser_class)
    parser = sources.add_parser("rolesanywhere", help="IAM Roles Anywhere CreateSession with an X.509 certificate "
                                                      "(the flags of aws_signing_helper credential-process)")
    for flag, (required, help_text) in SETTINGS.items():
        parser.add_argument("--" + flag, help=help_text + (" (required)" if required else ""))
    parser.add_argument("--profile", help="read the settings from this profile's rolesanywhere_* keys")
    process.set_defaults(handler=run)


def run(args: argparse.Namespace, env: Mapping[str, str], out: Callable[[str], None]) -> int:
    """Print the credential_process JSON of one CreateSession; returns the exit status."""
    section = SharedFiles.read(env).merged(args.profile) if args.profile else {}
    values = {flag: getattr(args, flag.replace("-", "_")) or section.get(profile_key(flag)) for flag in SETTINGS}
    where = "credential-process rolesanywhere" + (f" (profile {args.profile!r})" if args.profile else "")
    out(credential_process_output(from_rolesanywhere(RolesAnywhereSettings.from_values(values, where), env)))
    return 0
