"""`sigv4 ARGS` in-process with stdout captured as bytes, for tests of what the CLI writes byte for byte."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Mapping

import cli


def run_cli(args: list[str], env: Mapping[str, str]) -> tuple[int, bytes, str]:
    """(exit status, stdout bytes, stderr text) of `sigv4 ARGS` with environment `env`."""
    out, err = io.BytesIO(), io.StringIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(err):
        code = cli.main(args, env)
        stdout.flush()
    return code, out.getvalue(), err.getvalue()
