"""`sigv4 ... | head`: when the reader has gone, every command ends quietly (no BrokenPipeError traceback).

Each command runs as a real process whose stdout is a pipe with its read end already closed, which is what
`head` leaves behind once it has its lines: the first write fails with EPIPE.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

import sigv4
from sigv4.raw import parse_request, render_request
from tests.serve_fixtures import DEFAULT, Running, endpoint  # noqa: F401  (fixture)
from verifying_server import verifying_server

ROOT = Path(__file__).resolve().parent.parent
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
ENV = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": SECRET, "HOME": "/nonexistent",
       "AWS_EC2_METADATA_DISABLED": "true", "PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}


def into_closed_pipe(args: list[str], env: dict[str, str] = ENV) -> subprocess.CompletedProcess[str]:
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], stdout=write, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, env=env, text=True, timeout=60)
    finally:
        os.close(write)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    request = tmp_path / "post.req"
    request.write_bytes(b"POST / HTTP/1.1\r\nHost: example.amazonaws.com\r\nContent-Type: application/json\r\n\r\n{}")
    signed = tmp_path / "signed.req"
    result = sigv4.sign(parse_request(request.read_bytes()).request, sigv4.Credentials("AKIDEXAMPLE", SECRET),
                        region="us-east-1", service="service", timestamp=datetime.now(timezone.utc))
    signed.write_bytes(render_request(result.request, body=b"{}"))
    error = tmp_path / "error.xml"
    error.write_text("<Error><Code>SignatureDoesNotMatch</Code><Message>no</Message></Error>")
    trail = tmp_path / "trail.jsonl"
    trail.write_text("".join(json.dumps({"eventName": f"Op{i}"}) + "\n" for i in range(100)))
    return {"request": str(request), "signed": str(signed), "error": str(error), "trail": str(trail),
            "state": str(tmp_path / "state.db"), "log": str(tmp_path / "serve-trail.jsonl")}


NOTE = ("sigv4: note: the URL is valid only for POST, with the body it signed, with the signed headers content-type "
        "sent as signed\n")
COMMANDS = {
    "sign": ["sign", "{request}", "--service", "service"],
    "sign --json": ["sign", "{request}", "--service", "service", "--json"],
    "sign --explain": ["sign", "{request}", "--service", "service", "--explain"],
    "sign --presign": ["sign", "{request}", "--service", "service", "--presign"],
    "verify": ["verify", "{signed}"],
    "send --curl": ["send", "{signed}", "--curl"],
    "call --dry-run": ["call", "account", "ListRegions", "--dry-run"],
    "diff": ["diff", "{signed}", "{error}"],
    "explain": ["explain", "{signed}"],
    "whoami": ["whoami"],
    "trail": ["trail", "--log", "{trail}"],
    "demo": ["demo"],
    "serve": ["serve", "--state", "{state}", "--log", "{log}"],
    "--version": ["--version"],
    "--help": ["--help"],
}


@pytest.mark.parametrize("name", COMMANDS)
def test_a_closed_pipe_ends_the_command_quietly(name: str, files: dict[str, str]) -> None:
    done = into_closed_pipe([arg.format(**files) for arg in COMMANDS[name]])
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr
    # (--presign notes on stderr, still open, that the URL needs the signed content-type header.)
    assert done.stderr in ("", NOTE) and done.returncode in (0, 141), (done.returncode, done.stderr)


def test_send_and_call_over_the_network_end_quietly(files: dict[str, str], endpoint: Running) -> None:  # noqa: F811
    with verifying_server({"AKIDEXAMPLE": sigv4.Credentials("AKIDEXAMPLE", SECRET)}) as server:
        done = into_closed_pipe(["send", files["signed"], "--endpoint", server.url])
        assert done.returncode == 141 and done.stderr == "", done.stderr
        done = into_closed_pipe(["send", files["signed"], "--endpoint", server.url, "-v"])
        assert "Traceback" not in done.stderr  # -v writes to stderr, which is still open
    env = {**ENV, "AWS_ACCESS_KEY_ID": DEFAULT["access_key_id"], "AWS_SECRET_ACCESS_KEY": DEFAULT["secret_access_key"]}
    done = into_closed_pipe(["call", "account", "ListRegions", "--endpoint-url", endpoint.url], env)
    assert done.returncode == 141 and done.stderr == "", done.stderr


@pytest.mark.parametrize("records", [3, 100])
def test_trail_follow_ends_with_141_once_head_has_gone(files: dict[str, str], tmp_path: Path, records: int) -> None:
    # `sigv4 trail --follow | head -n 2`: once head has its lines and leaves, trail --follow ends with 141, also
    # when it has printed every record and is waiting for more (it once waited on, for ever, then exited 0).
    trail = tmp_path / f"trail{records}.jsonl"
    trail.write_text("".join(json.dumps({"eventName": f"Op{i}"}) + "\n" for i in range(records)))
    args = [sys.executable, str(ROOT / "cli.py"), "trail", "--follow", "--log", str(trail)]
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                          env=ENV) as process:
        assert process.stdout is not None and process.stderr is not None
        assert [process.stdout.readline() for _ in range(2)] == [b'{"eventName": "Op0"}\n', b'{"eventName": "Op1"}\n']
        process.stdout.close()  # what head does once it has its lines
        try:
            code = process.wait(timeout=30)  # not a timing check: without the fix it never ends
        finally:
            process.kill()
        assert (code, process.stderr.read()) == (141, b"")


def test_a_big_signed_request_whose_reader_leaves_ends_with_141(tmp_path: Path) -> None:
    """`sigv4 sign big.req | head -c 10` with PYTHONUNBUFFERED=1 (as container images set it; stdout's bytes are
    then written unbuffered): the pipe took part of the one big write, no error, and the command exited 0 with
    the rest dropped; now the rest is written too, fails, and the command ends with 141."""
    request = tmp_path / "big.req"
    request.write_bytes(b"PUT /b/k HTTP/1.1\r\nHost: b.s3.amazonaws.com\r\n\r\n" + b"x" * (8 << 20))
    args = [sys.executable, str(ROOT / "cli.py"), "sign", str(request), "--unsigned-payload"]
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                          env={**ENV, "PYTHONUNBUFFERED": "1"}) as process:
        assert process.stdout is not None and process.stderr is not None
        assert os.read(process.stdout.fileno(), 10) == b"PUT /b/k H"
        process.stdout.close()  # what head -c 10 does
        try:
            code = process.wait(timeout=60)
        finally:
            process.kill()
        assert (code, process.stderr.read()) == (141, b"")


@pytest.mark.parametrize("mode", [["--upstream", "http://127.0.0.1:9", "--service", "s3"],
                                  ["--resign", "--accept", "PLACEHOLDER"]], ids=["proxy", "proxy --resign"])
def test_a_proxy_whose_log_reader_leaves_ends_with_141(mode: list[str]) -> None:
    """`sigv4 proxy ... 2>&1 | head -n 1`: once head left, the proxy stayed up but dropped every connection (its
    log line failed in the middle of each request); now it ends, as `serve | head` does."""
    args = [sys.executable, str(ROOT / "cli.py"), "proxy", *mode, "--port", "0"]
    with subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                          env=ENV) as process:
        assert process.stderr is not None
        assert process.stderr.readline().startswith(b"sigv4 proxy")
        process.stderr.close()  # what head does once it has its line
        try:
            code = process.wait(timeout=30)  # not a timing check: without the fix it never ends
        finally:
            process.kill()
        assert code == 141
