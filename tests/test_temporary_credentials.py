"""What the CLI produces works with temporary credentials: each artifact, made with an access key, secret and
session token from the credential chain (the environment, or a profile), is used as people use it (sent with
`sigv4 send`, fetched or posted with curl, replayed from HAR) and a verifying server (which checks the token with
the signature) answers 200. What only explains masks the token; `explain` and `verify` notice such a mask.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import sigv4
from cli_run import run_cli
from verifying_server import Server, verifying_server

KEY_ID = "ASIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+EXAMPLE+token/with=padding=="
TEMPORARY = sigv4.Credentials(KEY_ID, SECRET, TOKEN)


@pytest.fixture(params=["environment", "profile"])
def chain_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The environment of a user holding temporary credentials: in AWS_* variables, or in a profile."""
    base = {"HOME": str(tmp_path), "AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": "us-east-1"}
    if request.param == "environment":
        return {**base, "AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": TOKEN}
    credentials = tmp_path / "credentials"
    credentials.write_text(f"[temp]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n"
                           f"aws_session_token = {TOKEN}\n")
    return {**base, "AWS_SHARED_CREDENTIALS_FILE": str(credentials), "AWS_PROFILE": "temp"}


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with verifying_server({KEY_ID: TEMPORARY}) as running:
        yield running


def sigv4_cli(args: list[str], env: dict[str, str]) -> str:
    code, out, err = run_cli(args, env)
    assert code == 0, err
    assert SECRET not in out.decode() + err
    return out.decode()


def request_file(tmp_path: Path, server: Server, body: bytes = b"Action=Ping") -> Path:
    host = server.url.removeprefix("http://")
    path = tmp_path / "ping.req"
    path.write_bytes(b"POST /ping?x=1 HTTP/1.1\r\nHost: " + host.encode() + b"\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    return path


def accepted(answer: str) -> dict[str, object]:
    """The verifying server's JSON reply at the end of `answer` (a whole response or a body), which must be a 200."""
    record: dict[str, object] = json.loads(answer[answer.index("{"):])
    assert "reason" not in record, record
    assert record["key"] == KEY_ID
    return record


def sent_with_send(signed: str, tmp_path: Path, env: dict[str, str]) -> str:
    path = tmp_path / "signed.req"
    path.write_bytes(signed.encode("latin-1"))
    out = sigv4_cli(["send", str(path), "--scheme", "http"], env)
    assert out.startswith("HTTP/1.1 200 "), out
    return out


def test_a_signed_request_is_sent_as_written(tmp_path: Path, server: Server, chain_env: dict[str, str]) -> None:
    signed = sigv4_cli(["sign", str(request_file(tmp_path, server)), "--service", "svc", "--scheme", "http"],
                       chain_env)
    assert f"X-Amz-Security-Token: {TOKEN}\r\n" in signed
    assert accepted(sent_with_send(signed, tmp_path, chain_env))["body"] == "Action=Ping"


def test_sign_json_holds_a_usable_signed_request(tmp_path: Path, server: Server, chain_env: dict[str, str]) -> None:
    record = json.loads(sigv4_cli(["sign", str(request_file(tmp_path, server)), "--service", "svc", "--scheme",
                                   "http", "--json"], chain_env))
    accepted(sent_with_send(record["signed_request"], tmp_path, chain_env))


def test_a_presigned_url_is_fetched_with_curl(tmp_path: Path, server: Server, chain_env: dict[str, str]) -> None:
    get = tmp_path / "get.req"
    get.write_bytes(f"GET /object?versionId=3 HTTP/1.1\r\nHost: {server.url.removeprefix('http://')}\r\n\r\n".encode())
    url = sigv4_cli(["sign", str(get), "--service", "svc", "--scheme", "http", "--presign"], chain_env).strip()
    assert "X-Amz-Security-Token=IQoJ" in url
    done = subprocess.run(["curl", "-sS", "--fail-with-body", url], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert accepted(done.stdout)["presigned"] is True


@pytest.mark.parametrize("as_json", [False, True], ids=["lines", "json"])
def test_presigned_post_fields_upload_with_curl_f(tmp_path: Path, server: Server, chain_env: dict[str, str],
                                                  as_json: bool) -> None:
    out = sigv4_cli(["sign", "--presign-post", "--bucket", "photos", "--key", "up/${filename}", "--url",
                     f"{server.url}/photos/", *(["--json"] if as_json else [])], chain_env)
    if as_json:
        record = json.loads(out)
        url, fields = record["url"], list(record["fields"].items())
    else:
        url, *lines = out.splitlines()
        fields = [tuple(line.split("=", 1)) for line in lines]
    assert ("x-amz-security-token", TOKEN) in fields
    upload = tmp_path / "cat.txt"
    upload.write_text("meow")
    form = [arg for name, value in fields for arg in ("-F", f"{name}={value}")]
    done = subprocess.run(["curl", "-sS", "--fail-with-body", *form, "-F", f"file=@{upload}", url],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert accepted(done.stdout)["body"] == "meow"


def test_call_dry_run_output_is_sent_with_send(tmp_path: Path, server: Server, chain_env: dict[str, str]) -> None:
    signed = sigv4_cli(["call", "sts", "GetCallerIdentity", "--endpoint-url", server.url, "--dry-run"], chain_env)
    assert f"X-Amz-Security-Token: {TOKEN}" in signed
    assert accepted(sent_with_send(signed, tmp_path, chain_env))["body"] == "Action=GetCallerIdentity&Version=2011-06-15"


def test_send_curl_export_runs(tmp_path: Path, server: Server, chain_env: dict[str, str]) -> None:
    command = sigv4_cli(["send", str(request_file(tmp_path, server)), "--scheme", "http", "--sign", "--service",
                         "svc", "--curl"], chain_env)
    assert TOKEN in command
    done = subprocess.run(["sh", "-c", command.strip() + " --fail-with-body"], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert accepted(done.stdout)["body"] == "Action=Ping"


def test_send_har_export_replays(tmp_path: Path, server: Server, chain_env: dict[str, str]) -> None:
    entry = json.loads(sigv4_cli(["send", str(request_file(tmp_path, server)), "--scheme", "http", "--sign",
                                  "--service", "svc", "--har"], chain_env))["request"]
    # What a HAR replayer (a browser's devtools, Insomnia, Postman) does: method, URL, headers, postData.
    headers = {h["name"]: h["value"] for h in entry["headers"] if h["name"].lower() not in ("host", "content-length")}
    assert headers["X-Amz-Security-Token"] == TOKEN
    replay = urllib.request.Request(entry["url"], entry["postData"]["text"].encode(), headers, method=entry["method"])
    with urllib.request.urlopen(replay, timeout=30) as response:
        assert response.status == 200
        assert accepted(response.read().decode())["body"] == "Action=Ping"


# -- what only explains masks the token; a masked copy is noticed ------------------------------------------


def test_explain_masks_and_show_secrets_unmasks(tmp_path: Path, server: Server, chain_env: dict[str, str]) -> None:
    path = str(request_file(tmp_path, server))
    explained = sigv4_cli(["sign", path, "--service", "svc", "--explain"], chain_env)
    assert "x-amz-security-token:****" in explained and "X-Amz-Security-Token: ****" in explained
    assert TOKEN not in explained
    shown = sigv4_cli(["sign", path, "--service", "svc", "--explain", "--show-secrets"], chain_env)
    assert f"x-amz-security-token:{TOKEN}" in shown and f"X-Amz-Security-Token: {TOKEN}" in shown


def test_a_masked_token_is_noticed(tmp_path: Path, server: Server, chain_env: dict[str, str]) -> None:
    signed = sigv4_cli(["sign", str(request_file(tmp_path, server)), "--service", "svc", "--scheme", "http"],
                       chain_env)
    masked = tmp_path / "masked.req"
    masked.write_bytes(signed.replace(TOKEN, "****").encode("latin-1"))
    code, out, _ = run_cli(["verify", str(masked)], chain_env)
    assert code == 1 and "FAILED (token)" in out.decode() and "the session token is ****, a masked copy" in out.decode()
    explained = sigv4_cli(["explain", str(masked)], chain_env)
    assert "the session token is ****, a masked copy" in explained
    code, out, err = run_cli(["send", str(masked), "--scheme", "http"], chain_env)
    assert "sigv4: warning: the session token is ****, a masked copy" in err


def test_the_readme_urllib3_example_runs_as_written(server: Server, monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    example = next(block for block in readme.split("```python\n")[1:] if "urllib3.request(" in block)
    example = example.split("```")[0]
    assert example.count("https://dynamodb.us-east-1.amazonaws.com/") == 1
    for name, value in (("AWS_ACCESS_KEY_ID", KEY_ID), ("AWS_SECRET_ACCESS_KEY", SECRET),
                        ("AWS_SESSION_TOKEN", TOKEN), ("HOME", str(tmp_path))):
        monkeypatch.setenv(name, value)
    scope: dict[str, object] = {}
    # Run as written; only the endpoint is the verifying server's (which checks every signed header).
    exec(example.replace("https://dynamodb.us-east-1.amazonaws.com/", server.url + "/"), scope)
    response = scope["response"]
    assert response.status == 200, response.data  # type: ignore[attr-defined]
    assert ("Content-Type", "application/x-amz-json-1.0") in server.received[-1].headers
