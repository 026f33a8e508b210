"""Secrets at the edge: masks go where a secret can appear, and a session token never reaches stdout or stderr.

Two token shapes: a realistic STS-like token (long, with `/`, `+`, `=`) and the dummy `test` local emulators use,
which only masking by place can handle (a substring rule would eat every `test` in the output).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from cli_run import run_cli
import sigv4
from local_http import http_server
from sigv4.raw import parse_request
from sigv4.redact import mask_tokens, redact

LONG_TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+EXAMPLE+token/with=padding=="
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
GET_OBJECT = b"GET /test-bucket/testing.txt HTTP/1.1\r\nHost: localhost:4566\r\n\r\n"


#: Every place a token is shown: a header line (raw, canonical, JSON-escaped) or a query parameter.
TOKEN_PLACES = re.compile(r"(?i)(?:x-amz-security-token[ \t]*:[ \t]*|(?<![\w-])(?:X-Amz-Security-Token|SecurityToken)=)"
                          r"([^\s&\"\\<]*)")


def run(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    code, out, err = run_cli(args, env)
    return code, out.decode("utf-8", "replace"), err


def env_for(key: str, secret: str, token: str | None = None) -> dict[str, str]:
    env = {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "HOME": "/nonexistent"}
    return {**env, "AWS_SESSION_TOKEN": token} if token else env


def test_dummy_credentials_leave_the_request_intact(tmp_path: Path) -> None:
    path = tmp_path / "get.req"
    path.write_bytes(GET_OBJECT)
    code, out, err = run(["sign", str(path), "--service", "s3", "--s3"], env_for("test", "test"))
    assert code == 0 and err == ""
    assert out.startswith("GET /test-bucket/testing.txt HTTP/1.1\r\n") and "Credential=test/" in out
    assert "****" not in out


@pytest.mark.parametrize("variable, value, said", [
    ("AWS_SECRET_ACCESS_KEY", SECRET + "\r", r"ends in '\r'"),  # `export ...=$(cat key.txt)` of a CRLF file
    ("AWS_SECRET_ACCESS_KEY", SECRET + "\n", r"ends in '\n'"),
    ("AWS_SECRET_ACCESS_KEY", " " + SECRET, "starts with ' '"),
    ("AWS_SESSION_TOKEN", LONG_TOKEN + "\r", r"ends in '\r'"),
    ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE\r", r"ends in '\r'"),
])
@pytest.mark.parametrize("command", [["sign", "--service", "s3"], ["verify"], ["whoami"]])
def test_a_credential_variable_with_a_line_end_is_refused_naming_it(tmp_path: Path, variable: str, value: str,
                                                                    said: str, command: list[str]) -> None:
    """Before, the secret's line end was signed into the signature (SignatureDoesNotMatch at AWS, no word here)."""
    path = tmp_path / "get.req"
    path.write_bytes(GET_OBJECT)
    env = {**env_for("AKIDEXAMPLE", SECRET, LONG_TOKEN), variable: value}
    code, out, err = run([*command, *([] if command == ["whoami"] else [str(path)])], env)
    assert (code, out) == (2, "") and err == f"sigv4: error: {variable} {said}: no AWS credential holds whitespace " \
        "or control characters (a line end copied from a file?); remove it\n"
    assert SECRET not in err and "wJalr" not in err


@pytest.mark.parametrize("token", [LONG_TOKEN, "test"], ids=["sts-like", "dummy"])
def test_sign_keeps_the_token_in_what_it_produces_and_masks_it_in_explanations(tmp_path: Path, token: str) -> None:
    path = tmp_path / "get.req"
    path.write_bytes(GET_OBJECT)
    env = env_for("test", "test", token)
    encoded = sigv4.canonical.uri_encode(token, keep_slash=False)
    for extra in ([], ["--json"], ["--presign"], ["--presign", "--json"], ["--algorithm", "v4a"]):
        code, out, err = run(["sign", str(path), "--service", "s3", "--s3", *extra], env)
        assert code == 0 and "/test-bucket/testing.txt" in out, (extra, err)
        shown = TOKEN_PLACES.findall(out)
        assert shown and set(shown) <= {token, encoded} and "****" not in out, (extra, shown)
    for extra in (["--explain"], ["--presign", "--explain"]):
        code, out, err = run(["sign", str(path), "--service", "s3", "--s3", *extra], env)
        shown = {value.rstrip("↵") for value in TOKEN_PLACES.findall(out)}  # ↵: the explanation's line ends
        assert shown == {"****"} and LONG_TOKEN not in out, (extra, shown)
        # The masked line keeps its `↵` as every other line: it once went with the token, as if no newline followed.
        assert "--presign" in extra or "│ x-amz-security-token:****↵\n" in out, out
        code, out, _ = run(["sign", str(path), "--service", "s3", "--s3", *extra, "--show-secrets"], env)
        assert {value.rstrip("↵") for value in TOKEN_PLACES.findall(out)} <= {token, encoded}, extra


def test_a_servers_echo_of_the_token_is_masked_in_send_verbose_and_json(tmp_path: Path) -> None:
    def echoes_canonical_request(request, body):  # type: ignore[no-untyped-def]
        token = dict(request.headers)[b"x-amz-security-token"].decode()
        canonical = f"GET\n/\n\nhost:x\nx-amz-date:20260101T000000Z\nx-amz-security-token:{token}\n"
        return 403, [("Content-Type", "application/xml")], (
            f"<Error><Code>SignatureDoesNotMatch</Code><CanonicalRequest>{canonical}</CanonicalRequest>"
            f"<StringToSign>x</StringToSign></Error>").encode()

    path = tmp_path / "get.req"
    path.write_bytes(b"GET / HTTP/1.1\r\nHost: example.amazonaws.com\r\n\r\n")
    with http_server(echoes_canonical_request) as (url, recorder):
        for extra in (["-v"], ["--json"], []):
            code, out, err = run(["send", str(path), "--sign", "--service", "service", "--endpoint", url, *extra],
                                 env_for("AKIDEXAMPLE", SECRET, LONG_TOKEN))
            assert code == 0 and LONG_TOKEN not in out + err, extra
            shown = TOKEN_PLACES.findall(out + err)
            assert shown and set(shown) == {"****"}, (extra, shown)
    assert LONG_TOKEN.encode() in recorder.raw[0]  # it did travel: only the printing masks it


def test_reprs_mask_the_token() -> None:
    creds = sigv4.Credentials("AKIDEXAMPLE", SECRET, LONG_TOKEN)
    form = sigv4.Request("POST", "https://sdb.amazonaws.com/", [("Content-Type", "application/x-www-form-urlencoded")],
                         b"Action=ListDomains&Version=2009-04-15")
    result = sigv4.sign(form, creds, region="us-east-1", service="sdb", algorithm="v2",
                        timestamp=datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert isinstance(result, sigv4.SigV2Result) and result.in_body
    encoded = sigv4.canonical.uri_encode(LONG_TOKEN, keep_slash=False)
    for text in (repr(result), repr(result.request), str(result)):
        assert LONG_TOKEN not in text and encoded not in text and "SecurityToken=****" in text
    raw = parse_request(b"GET / HTTP/1.1\nHost: h\nX-Amz-Security-Token:  " + LONG_TOKEN.encode() + b"\n\n")
    assert LONG_TOKEN not in repr(raw) and "X-Amz-Security-Token:  ****" in repr(raw)
    assert raw.header_lines[1].endswith(LONG_TOKEN)  # the value itself is untouched: rendering needs it


def test_masking_is_by_place() -> None:
    assert mask_tokens("GET /test-bucket/testing.txt?x-id=test") == "GET /test-bucket/testing.txt?x-id=test"
    assert mask_tokens("a=1&X-Amz-Security-Token=abc%2Fdef&b=2") == "a=1&X-Amz-Security-Token=****&b=2"
    assert mask_tokens('"x-amz-security-token:abc\\nhost:x"') == '"x-amz-security-token:****\\nhost:x"'
    assert mask_tokens('{"name": "X-Amz-Security-Token", "value": "abc"}') == \
        '{"name": "X-Amz-Security-Token", "value": "****"}'
    assert mask_tokens("MySecurityToken=keep") == "MySecurityToken=keep"
    # A secret long enough that a match is no coincidence is also masked where it should never be.
    creds = sigv4.Credentials("AKIDEXAMPLE", SECRET, LONG_TOKEN)
    assert redact(f"oops {SECRET} {LONG_TOKEN}", creds) == "oops **** ****"
    assert redact("test testing", sigv4.Credentials("test", "test", "test")) == "test testing"
