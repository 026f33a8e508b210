"""`sigv4 proxy` (`--resign`, `--verify`) run from the command line and used by real clients (curl
`--aws-sigv4`, boto3, the aws CLI): what they are answered and what the proxy logs."""

from __future__ import annotations

import json
import socket
import subprocess
import urllib.error
import urllib.request

import pytest

from local_http import http_server
from proxy_process import line_with, proxy_process

boto3 = pytest.importorskip("boto3", reason="boto3 is in the test extra")
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

PLACEHOLDER, PLACEHOLDER_SECRET = "PLACEHOLDERKEY", "placeholder-secret"
REAL = {"AWS_ACCESS_KEY_ID": "AKIDREALEXAMPLE", "AWS_SECRET_ACCESS_KEY": "real/secret/EXAMPLE0123456789abcdefghij",
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}
TOKEN = "FwoGZXIvYXdzEPLACEHOLDERsessionTOKEN0123456789"


def resign_args(*extra: str) -> list[str]:
    # An upstream nothing listens on: what is refused never gets that far.
    return ["--resign", "--accept", f"{PLACEHOLDER}:{PLACEHOLDER_SECRET}", "--upstream", "http://127.0.0.1:9", *extra]


def test_resign_logs_a_refusal_with_the_debuggers_cause_as_the_guard_does() -> None:
    """A sandboxed client signing with the wrong placeholder secret: `--resign` logged verify's words ("signature:
    3f2a... does not match the one computed for the request"), where `--verify` names the debugger's cause."""
    with proxy_process(resign_args(), REAL) as proxy:
        sts = boto3.client("sts", endpoint_url=proxy.url, region_name="us-east-1", aws_access_key_id=PLACEHOLDER,
                           aws_secret_access_key="not-the-secret", aws_session_token=TOKEN,
                           config=Config(retries={"max_attempts": 1}))
        with pytest.raises(ClientError) as refused:
            sts.get_caller_identity()
        assert refused.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
        line = line_with(proxy, "refused SignatureDoesNotMatch")
        assert "refused SignatureDoesNotMatch: secret (likely): " in line, line
        # An unknown key is said as known for certain, where its placeholders come from.
        subprocess.run(["curl", "-sS", "-o", "/dev/null", "--aws-sigv4", "aws:amz:us-east-1:sts", "--user",
                        "SOMEONEELSE:whatever", "--data", "Action=GetCallerIdentity&Version=2011-06-15",
                        f"{proxy.url}/"], check=True, timeout=30)
        unknown = line_with(proxy, "refused InvalidClientTokenId")
        assert "access-key (proved): the access key id SOMEONEE… is not an identity of --accept" in unknown, unknown
    assert not [line for line in proxy.lines if TOKEN in line or PLACEHOLDER_SECRET in line], proxy.lines


def _presigned(url: str, token: str) -> str:
    """A boto3 presigned GetObject URL signed by the placeholder with a session token, for `url`."""
    s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id=PLACEHOLDER,
                      aws_secret_access_key=PLACEHOLDER_SECRET, aws_session_token=token,
                      config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    return str(s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"}, ExpiresIn=60))


def test_a_presigned_urls_session_token_is_masked_in_every_proxy_log_line(tmp_path) -> None:
    """The target of a presigned URL holds its session token: `--resign` logged it whole on success (and on
    re-signing errors), and the guard in its 502 line, where only refusals were masked."""
    accounts = tmp_path / "accounts.json"
    accounts.write_text(json.dumps({PLACEHOLDER: [PLACEHOLDER_SECRET, TOKEN]}))
    with http_server() as (upstream, _), \
            proxy_process(["--resign", "--accept", f"{PLACEHOLDER}:{PLACEHOLDER_SECRET}", "--upstream", upstream],
                          REAL) as resign, \
            proxy_process(["--verify", "--accounts", str(accounts), "--upstream", "http://127.0.0.1:9"], {}) as guard:
        for proxy, status in ((resign, 200), (guard, 502)):
            try:
                with urllib.request.urlopen(_presigned(proxy.url, TOKEN)) as answer:
                    assert answer.status == status
            except urllib.error.HTTPError as refused:
                assert refused.code == status
            line = line_with(proxy, f" {status} ")
            assert line.startswith("GET /b/k?") and "X-Amz-Security-Token=****&" in line, line
    assert not [line for line in resign.lines + guard.lines if TOKEN in line]


@pytest.mark.parametrize("mode", [["--upstream", "http://127.0.0.1:9", "--service", "execute-api"],
                                  ["--verify", "--accounts", "{accounts}", "--upstream", "http://127.0.0.1:9"]],
                         ids=["proxy", "proxy --verify"])
def test_a_request_the_http_layer_refuses_is_logged(tmp_path, mode: list[str]) -> None:
    """A body over --max-body-bytes (413) or a head over --max-header-bytes (431): the client got the refusal and
    the proxy's log, one line per request otherwise, said nothing (the guard's too, README: "The guard logs one
    line per request")."""
    accounts = tmp_path / "accounts.json"
    accounts.write_text(json.dumps({PLACEHOLDER: PLACEHOLDER_SECRET}))
    args = [arg.replace("{accounts}", str(accounts)) for arg in mode]
    with proxy_process([*args, "--max-body-bytes", "1000", "--max-header-bytes", "2000"], REAL) as proxy:
        for status, method, extra in ((413, "POST", ["--data-binary", "x" * 5000]),
                                      (431, "GET", ["-H", "X-Big: " + "y" * 3000])):
            done = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", *extra,
                                   f"{proxy.url}/upload?X-Amz-Security-Token=FwoGZXIvYXdzEtokenINtheURL"],
                                  capture_output=True, text=True, timeout=30, check=True)
            assert done.stdout == str(status)
            line = line_with(proxy, f" {status} refused: ")
            assert line.startswith(f"{method} /upload?X-Amz-Security-Token=**** {status} refused: the "), line
    assert not [line for line in proxy.lines if "FwoGZXIvYXdzEtokenINtheURL" in line]


def test_stopping_with_an_upload_in_progress_blames_no_client() -> None:
    """SIGTERM while a client is sending a body: the proxy stops at once (exit 0) and logs no "peer closed
    connection" refusal, which its own stopping caused."""
    with proxy_process(resign_args(), REAL) as proxy:
        parts = proxy.url.rsplit(":", 1)
        client = socket.create_connection((parts[0].removeprefix("http://"), int(parts[1])))
        client.sendall(b"GET /b/k HTTP/1.1\r\nHost: x\r\n\r\n")  # answered: the connection is being read
        assert client.recv(65536).startswith(b"HTTP/1.1 403 ")
        client.sendall(b"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
    client.close()
    assert not [line for line in proxy.lines if "peer closed" in line], proxy.lines
