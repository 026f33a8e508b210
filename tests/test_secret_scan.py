"""A scan of every command run with temporary credentials: the secret key appears nowhere (stdout, stderr, files
written, what the endpoint and the proxy log or answer), and the session token only in what the user asked to
produce (a signed request, a presigned URL or form, an export, a token; `--show-secrets` explanations).

Each subcommand of `sigv4` runs with representative flags: the ones that talk to a server against loopback
servers (a verifying one that accepts the credentials; one that refuses echoing the canonical request with the
token, as S3 does), `serve` and `proxy` as processes. A subcommand of the parser left out fails the test, so a new
subcommand is scanned too.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

import cli
from cli_run import run_cli
from local_http import http_server
from pki import pem, rsa_key
from test_temporary_credentials import KEY_ID, SECRET, TEMPORARY, TOKEN
from verifying_server import verifying_server

ROOT = Path(__file__).resolve().parent.parent
#: Every form a secret could be printed in: raw, percent-encoded (a URL), JSON-escaped.
SECRET_FORMS = (SECRET, quote(SECRET, safe=""), json.dumps(SECRET)[1:-1])
TOKEN_FORMS = (TOKEN, quote(TOKEN, safe=""), quote(TOKEN, safe="-_.~"), json.dumps(TOKEN)[1:-1])


def echoes_the_token(request, body):  # type: ignore[no-untyped-def]
    """A 403 SignatureDoesNotMatch quoting the canonical request, token included, as S3 answers."""
    token = dict(request.headers).get(b"x-amz-security-token", b"").decode()
    canonical = f"GET\n/\n\nhost:x\nx-amz-date:20260101T000000Z\nx-amz-security-token:{token}\n"
    return 403, [("Content-Type", "application/xml")], (
        "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the "
        f"signature you provided.</Message><CanonicalRequest>{canonical}</CanonicalRequest>"
        f"<StringToSign>AWS4-HMAC-SHA256\n20260101T000000Z\nx</StringToSign></Error>").encode()


class Scan:
    """Outputs seen, each marked as an artifact (may hold the token) or not."""

    def __init__(self, env: dict[str, str], work: Path) -> None:
        self.env, self.work = env, work
        self.ran: set[str] = set()

    def check(self, what: str, text: str, *, artifact: bool) -> None:
        assert not [form for form in SECRET_FORMS if form in text], f"{what}: the secret key is shown"
        if not artifact:
            assert not [form for form in TOKEN_FORMS if form in text], f"{what}: the session token is shown"

    def run(self, *args: str, artifact: bool = False, code: int | None = 0) -> str:
        """`sigv4 ARGS` in-process; stdout may hold the token when it is an `artifact`, stderr never."""
        self.ran.add(args[0])
        status, out, err = run_cli(list(args), self.env)
        text = out.decode("utf-8", "replace")
        assert code is None or status == code, (args, status, err)
        self.check(f"{args} stdout", text, artifact=artifact)
        self.check(f"{args} stderr", err, artifact=False)
        return text

    def process(self, *args: str) -> subprocess.Popen[str]:
        self.ran.add(args[0])
        return subprocess.Popen([sys.executable, str(ROOT / "cli.py"), *args], env=self.env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=self.work)

    def stopped(self, process: subprocess.Popen[str], what: str) -> str:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
        self.check(f"{what} stdout", out, artifact=False)
        self.check(f"{what} stderr", err, artifact=False)
        return out + err


@pytest.fixture
def scan(tmp_path: Path) -> Iterator[Scan]:
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", ""), "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": TOKEN,
           "AWS_REGION": "us-east-1", "PYTHONPATH": str(ROOT)}
    (tmp_path / "work").mkdir()
    yield Scan(env, tmp_path / "work")


def test_no_command_shows_the_secret_and_only_artifacts_show_the_token(scan: Scan, tmp_path: Path) -> None:
    given, work = tmp_path / "given", scan.work  # given: the test's own files (inputs, saved artifacts)
    given.mkdir()
    with verifying_server({KEY_ID: TEMPORARY}) as good, http_server(echoes_the_token) as (refusing, _):
        request = given / "get.req"
        request.write_bytes(f"GET /k?a=1 HTTP/1.1\r\nHost: {good.url.removeprefix('http://')}\r\n\r\n".encode())
        put = given / "put.req"
        put.write_bytes(b"PUT /k HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello")
        # sign: every form of its output.
        for extra in ([], ["--json"], ["--presign"], ["--presign", "--json"], ["--algorithm", "v4a"],
                      ["--algorithm", "v2"], ["--unsigned-payload"], ["--omit-session-token"]):
            scan.run("sign", str(request), "--service", "svc", "--scheme", "http", *extra, artifact=True)
        scan.run("sign", str(put), "--service", "s3", "--chunked", "--trailer", "crc32", artifact=True)
        for extra in (["--explain"], ["--presign", "--explain"], ["--algorithm", "v2", "--explain"]):
            scan.run("sign", str(request), "--service", "svc", *extra)
        scan.run("sign", str(request), "--service", "svc", "--explain", "--show-secrets", artifact=True)
        for extra in ([], ["--json"]):
            scan.run("sign", "--presign-post", "--bucket", "b", "--key", "k", *extra, artifact=True)
        for preset in ("iot", "appsync"):
            endpoint = {"iot": "abc-ats.iot.us-east-1.amazonaws.com", "appsync": "x.appsync-api.us-east-1.amazonaws.com"}
            scan.run("sign", "--wss", preset, endpoint[preset], artifact=True)
            scan.run("sign", "--wss", preset, endpoint[preset], "--explain")
        scan.run("sign", str(put), "--service", "svc", "--date", "yesterday", code=2)
        signed = given / "signed.req"
        signed.write_text(scan.run("sign", str(request), "--service", "svc", "--scheme", "http", artifact=True))
        # send: to a server that accepts, and to one that refuses quoting the token back.
        for url in (good.url, refusing):
            for extra in ([], ["-v"], ["--json"], ["-o", str(work / "body.out")]):
                scan.run("send", str(request), "--sign", "--service", "svc", "--endpoint", url, *extra)
        scan.run("send", str(signed), "--scheme", "http", "-v")
        for extra in (["--curl"], ["--har"]):
            scan.run("send", str(request), "--sign", "--service", "svc", *extra, artifact=True)
        scan.run("send", str(request), "--sign", "--service", "svc", "--endpoint", "http://127.0.0.1:9", code=3)
        # call: the dry run is an artifact; an answer or a refusal is not.
        scan.run("call", "sts", "GetCallerIdentity", "--endpoint-url", good.url, "--dry-run", artifact=True)
        scan.run("call", "s3", "GetObject", "Bucket=b", "Key=k", "--endpoint-url", good.url, "--dry-run",
                 artifact=True)
        scan.run("call", "s3", "GetObject", "Bucket=b", "Key=k", "--endpoint-url", refusing, "-o",
                 str(work / "object.out"), code=1)
        scan.run("call", "sts", "GetCallerIdentity", "--endpoint-url", refusing, code=1)
        # The debugger reads captures: a refusal quoting the token back, a masked copy, a token.
        answer = given / "answer.xml"
        answer.write_bytes(echoes_the_token(type("R", (), {"headers": [(b"x-amz-security-token",
                                                                         TOKEN.encode())]})(), b"")[2])
        for extra in ([], ["--secret"], ["--json"]):
            scan.run("diff", str(signed), str(answer), "--scheme", "http", *extra)
        for extra in ([], ["--json"]):
            scan.run("explain", str(signed), "--scheme", "http", *extra)
        scan.run("verify", str(signed), "--scheme", "http")
        tampered = given / "tampered.req"
        tampered.write_text(signed.read_text().replace("/k?a=1", "/k?a=2"))
        scan.run("verify", str(tampered), "--scheme", "http", code=1)
        for extra in ([], ["--json"]):
            scan.run("whoami", *extra)
        rds = scan.run("token", "rds", "--host", "db.example.com", "--port", "5432", "--user", "app",
                       artifact=True).strip()
        scan.run("explain", rds, code=None)
        scan.run("token", "dsql", "--host", "c.dsql.us-east-1.on.aws", "--admin", artifact=True)
        scan.run("token", "eks", "--cluster", "prod", artifact=True)
        scan.run("token", "elasticache", "--cache-name", "c", "--user", "u", artifact=True)
        scan.run("token", "msk", artifact=True)
        scan.run("token", "neptune", "--host", "n.example.com", "--port", "8182", artifact=True)
        scan.run("token", "eks", "--cluster", "prod", "--exec-credential", artifact=True)
        for kind in (["memorydb", "--cluster-name", "c", "--user", "u"], ["bedrock"], ["vault", "--role", "r"],
                     ["keyspaces", "--nonce", "0123456789abcdefghijklmnopqrstuv"], ["codecommit", "--repository", "r"],
                     ["mongodb", "--server-nonce", base64.b64encode(bytes(64)).decode()]):
            scan.run("token", *kind, artifact=True)
        scan.run("token", "ses-smtp", code=2)  # an IAM user's keys only: refused for temporary credentials
        # Commands that sign with other keys than AWS credentials: they never see the secret, nor show it.
        private_key = given / "cloudfront.pem"
        private_key.write_bytes(pem(rsa_key()))
        scan.run("cloudfront", "sign-url", "https://d111111abcdef8.cloudfront.net/a.mp4", "--key-pair-id", "K2JC",
                 "--private-key", str(private_key), "--expires-in", "600")
        scan.run("credential-process", "rolesanywhere", code=2)  # no certificate: refused in one line
        # proxy: its log and the refusal it relays.
        proxy = scan.process("proxy", "--upstream", refusing, "--service", "svc")
        try:
            url = re.search(r"(http://127\.0\.0\.1:\d+)", proxy.stderr.readline() if proxy.stderr else "")
            assert url, "the proxy did not start"
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(url.group(1) + "/", timeout=30)
            scan.check("the body the proxy relays", refused.value.read().decode(), artifact=False)
        finally:
            log = scan.stopped(proxy, "proxy")
        assert "SignatureDoesNotMatch" in log or "signature" in log.lower()
        # proxy --verify (the signature guard): a request it passes, and a masked copy it refuses and diagnoses.
        accounts = given / "accounts.json"
        accounts.write_text(json.dumps({"accounts": [{
            "access_key_id": KEY_ID, "secret_access_key": SECRET, "session_token": TOKEN,
            "account_id": "111122223333", "arn": "arn:aws:sts::111122223333:assumed-role/Admin/alice"}]}))
        guard = scan.process("proxy", "--verify", "--accounts", str(accounts), "--upstream", good.url, "--service",
                             "svc")
        try:
            url = re.search(r"(http://127\.0\.0\.1:\d+)", guard.stderr.readline() if guard.stderr else "")
            assert url, "the guard did not start"
            assert scan.run("send", str(signed), "--endpoint", url.group(1)).startswith("HTTP/1.1 200 ")
            masked = given / "masked.req"
            masked.write_text(signed.read_text().replace(TOKEN, "****"))
            assert scan.run("send", str(masked), "--endpoint", url.group(1)).startswith("HTTP/1.1 403 ")
            scan.run("send", str(masked), "--endpoint", url.group(1), "-v")
        finally:
            scan.stopped(guard, "proxy --verify")
    # serve: an assumed role signs; its log and its trail.
    trail = work / "trail.jsonl"
    serve = scan.process("serve", "--accounts", str(accounts), "--state", ":memory:", "--log", str(trail))
    try:
        endpoint = re.search(r"(http://127\.0\.0\.1:\d+)", serve.stdout.readline() if serve.stdout else "")
        assert endpoint, "serve did not start"
        scan.run("call", "account", "ListRegions", "--endpoint-url", endpoint.group(1))
        scan.run("call", "account", "GetContactInformation", "--endpoint-url", endpoint.group(1), code=1)
        scan.env["AWS_SESSION_TOKEN"] = TOKEN[::-1]  # a wrong token: refused, and recorded
        scan.run("call", "account", "ListRegions", "--endpoint-url", endpoint.group(1), code=1)
        scan.env["AWS_SESSION_TOKEN"] = TOKEN
    finally:
        scan.stopped(serve, "serve")
    scan.run("trail", "--log", str(trail))
    scan.run("demo")
    # Every file a command wrote (outputs, the trail, anything under HOME): neither the secret nor the token.
    written = [path for path in tmp_path.rglob("*") if path.is_file() and given not in path.parents]
    assert {path.name for path in written} >= {"body.out", "trail.jsonl"}
    for path in written:
        # `send -o`: the response body byte for byte as the server sent it (a payload is never rewritten),
        # here a refusal quoting the token back: the server's words, not ours.
        scan.check(str(path), path.read_bytes().decode("latin-1"), artifact=path.name == "body.out")
    commands = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert scan.ran == set(commands.choices), f"commands not scanned: {set(commands.choices) - scan.ran}"
