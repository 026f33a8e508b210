"""`sigv4 sign --algorithm v2` of an S3 request: S3's own SigV2 (`Authorization: AWS KEY:signature`, with
--presign `?AWSAccessKeyId=&Expires=&Signature=`), equal to botocore's HmacV1Auth / HmacV1QueryAuth, verified
by `sigv4 verify`, the session token in the artifact and masked in --explain; other services keep Query SigV2;
`send --sign --algorithm v2` to moto's S3."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from email.utils import format_datetime
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
from botocore.auth import HmacV1Auth, HmacV1QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

import cli

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE/TOKEN+=="
ENV = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": SECRET, "HOME": "/nonexistent"}
TEMP = {**ENV, "AWS_SESSION_TOKEN": TOKEN}
WHEN, LATER = "20240304T050607Z", "20240304T050707Z"
T = datetime(2024, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
#: The reproduction (path-style) and a virtual-hosted PUT with a sub-resource and signed headers.
REQUESTS = [
    (b"GET /b/k HTTP/1.1\nHost: s3.amazonaws.com\n\n", "/b/k"),
    (b"PUT /cat.png?acl&prefix=x HTTP/1.1\nHost: photos.s3.amazonaws.com\nContent-Type: image/png\n"
     b"x-amz-acl: public-read\nContent-Length: 3\n\nabc", "/photos/cat.png"),
]


def run(capsys: Any, monkeypatch: Any, args: list[str], stdin: bytes = b"",
        env: dict[str, str] = ENV) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", type("S", (), {"buffer": BytesIO(stdin)})())
    code = cli.main(args, env)
    out, err = capsys.readouterr()
    return code, out, err


def _botocore(raw: bytes, auth_path: str, auth: HmacV1Auth) -> AWSRequest:
    head, _, body = raw.partition(b"\n\n")
    start, *lines = head.decode().split("\n")
    method, target, _ = start.split(" ")
    headers = dict(line.split(": ", 1) for line in lines)
    request = AWSRequest(method, f"https://{headers.pop('Host')}{target}", headers=headers, data=body)
    request.auth_path = auth_path
    auth.add_auth(request)
    return request


@pytest.mark.parametrize(("raw", "auth_path"), REQUESTS)
@pytest.mark.parametrize("env", [ENV, TEMP], ids=["keys", "session"])
def test_header_signature_is_botocores_and_verifies(capsys: Any, monkeypatch: Any, tmp_path: Path, raw: bytes,
                                                    auth_path: str, env: dict[str, str]) -> None:
    code, out, err = run(capsys, monkeypatch, ["sign", "-", "--algorithm", "v2", "--date", WHEN], raw, env)
    assert code == 0 and not err
    boto = HmacV1Auth(BotoCredentials("AKIDEXAMPLE", SECRET, env.get("AWS_SESSION_TOKEN")))
    boto._get_date = lambda: format_datetime(T, usegmt=True)  # type: ignore[method-assign]
    theirs = _botocore(raw, auth_path, boto)
    assert f"\nAuthorization: {theirs.headers['Authorization']}\n" in out
    assert "SignatureVersion" not in out and "AWS4" not in out
    assert (f"\nx-amz-security-token: {TOKEN}\n" in out) == ("AWS_SESSION_TOKEN" in env)  # the artifact: whole
    (tmp_path / "signed.req").write_text(out)
    code, out, _ = run(capsys, monkeypatch, ["verify", str(tmp_path / "signed.req"), "--now", LATER], env=env)
    assert code == 0 and out == "OK: HmacSHA1 signature by AKIDEXAMPLE for s3\n"


@pytest.mark.parametrize(("raw", "auth_path"), REQUESTS)
@pytest.mark.parametrize("env", [ENV, TEMP], ids=["keys", "session"])
def test_presigned_url_is_botocores_and_verifies(capsys: Any, monkeypatch: Any, raw: bytes, auth_path: str,
                                                 env: dict[str, str]) -> None:
    code, url, err = run(capsys, monkeypatch, ["sign", "-", "--algorithm", "v2", "--presign", "--expires", "600",
                                               "--date", WHEN], raw, env)
    assert code == 0 and url.startswith("https://") and "&Signature=" in url
    expires = int(T.timestamp()) + 600
    boto = HmacV1QueryAuth(BotoCredentials("AKIDEXAMPLE", SECRET, env.get("AWS_SESSION_TOKEN")), expires=600)
    boto._get_date = lambda: str(expires)  # type: ignore[method-assign]
    theirs = dict(parse_qsl(urlsplit(_botocore(raw, auth_path, boto).url).query))
    ours = dict(parse_qsl(urlsplit(url.strip()).query))
    assert ours["Signature"] == theirs["Signature"] and ours["Expires"] == theirs["Expires"] == str(expires)
    assert ours.get("x-amz-security-token") == env.get("AWS_SESSION_TOKEN")
    # The URL is sent with the headers it signed (the note names them); a server receives it so.
    signed = [line for line in raw.partition(b"\n\n")[0].decode().split("\n")[1:]
              if line.split(":")[0].lower() in ("host", "content-type", "x-amz-acl")]
    if len(signed) > 1:
        assert "content-type, x-amz-acl" in err
    target = urlsplit(url.strip())
    received = f"{raw.split(b' ')[0].decode()} {target.path}?{target.query} HTTP/1.1\n" + "\n".join(signed) + "\n\n"
    body = raw.partition(b"\n\n")[2]
    received = received.replace("\n\n", f"\nContent-Length: {len(body)}\n\n") if body else received
    code, out, _ = run(capsys, monkeypatch, ["verify", "-", "--now", LATER], received.encode() + body, env)
    assert code == 0 and out == "OK: HmacSHA1 signature by AKIDEXAMPLE for s3 (presigned)\n"


@pytest.mark.parametrize("presign", [[], ["--presign"]], ids=["header", "url"])
def test_explain_shows_the_string_to_sign_with_the_token_masked(capsys: Any, monkeypatch: Any,
                                                                presign: list[str]) -> None:
    code, out, _ = run(capsys, monkeypatch, ["sign", "-", "--algorithm", "v2", "--explain", "--date", WHEN,
                                             *presign], REQUESTS[0][0], TEMP)
    assert code == 0 and "S3 SigV2 string-to-sign" in out and "x-amz-security-token:****↵" in out
    assert ("Expires, x-amz-*" in out and f"  4 │ {int(T.timestamp()) + 3600}↵" in out if presign
            else "  4 │ Mon,·04·Mar·2024·05:06:07·GMT↵" in out)
    assert "HMAC-SHA1" in out and "TOKEN" not in out and SECRET not in out
    code, out, _ = run(capsys, monkeypatch, ["sign", "-", "--algorithm", "v2", "--explain", "--show-secrets",
                                             *presign], REQUESTS[0][0], TEMP)
    assert code == 0 and TOKEN in out.replace("%2F", "/").replace("%2B", "+").replace("%3D", "=")


def test_json_has_the_string_to_sign_and_authorization(capsys: Any, monkeypatch: Any) -> None:
    code, out, _ = run(capsys, monkeypatch, ["sign", "-", "--algorithm", "v2", "--json", "--date", WHEN],
                       REQUESTS[0][0])
    record = json.loads(out)
    assert code == 0 and record["string_to_sign"] == "GET\n\n\nMon, 04 Mar 2024 05:06:07 GMT\n/b/k"
    assert record["authorization"] == f"AWS AKIDEXAMPLE:{record['signature']}"


@pytest.mark.parametrize("flags", [["--chunked"], ["--unsigned-payload"], ["--region-set", "*"],
                                   ["--chunked", "--trailer", "crc32"], ["--omit-session-token"]])
def test_flags_s3_sigv2_has_no_use_for_are_refused_in_one_line(capsys: Any, monkeypatch: Any,
                                                               flags: list[str]) -> None:
    code, out, err = run(capsys, monkeypatch, ["sign", "-", "--algorithm", "v2", *flags], REQUESTS[0][0])
    named = [flag for flag in flags if flag.startswith("--")]
    assert code == 2 and not out and err.count("\n") == 1 and all(flag in err for flag in named)
    assert "S3's SigV2" in err


@pytest.mark.parametrize(("raw", "flags"), [
    (b"GET /?Action=DescribeJobFlows&Version=2009-03-31 HTTP/1.1\nHost: elasticmapreduce.amazonaws.com\n\n", []),
    (REQUESTS[0][0], ["--no-s3"]),  # S3's host, S3's rules opted out of: the Query form, as before
])
def test_other_services_keep_query_sigv2(capsys: Any, monkeypatch: Any, raw: bytes, flags: list[str]) -> None:
    code, out, _ = run(capsys, monkeypatch, ["sign", "-", "--algorithm", "v2", "--date", WHEN, *flags], raw)
    assert code == 0 and "SignatureVersion=2&SignatureMethod=HmacSHA256" in out and "Authorization" not in out


def test_send_sign_v2_puts_and_gets_from_moto(capsys: Any, monkeypatch: Any, moto_endpoint: str) -> None:
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1", aws_access_key_id="test",
                 aws_secret_access_key="test").create_bucket(Bucket="sigv2cli")
    host = moto_endpoint.partition("//")[2]
    put = f"PUT /sigv2cli/hello.txt HTTP/1.1\nHost: {host}\nContent-Length: 5\n\nhello".encode()
    code, out, err = run(capsys, monkeypatch, ["send", "-", "--sign", "--algorithm", "v2", "--service", "s3",
                                               "--scheme", "http", "-v"], put, TEMP)
    assert code == 0 and "< HTTP/1.1 200" in err and "Authorization: AWS AKIDEXAMPLE:" in err
    assert "x-amz-security-token: ****" in err and TOKEN not in out + err  # -v explains: the token masked
    get = f"GET /sigv2cli/hello.txt HTTP/1.1\nHost: {host}\n\n".encode()
    code, out, _ = run(capsys, monkeypatch, ["send", "-", "--sign", "--algorithm", "v2", "--service", "s3",
                                             "--scheme", "http"], get)
    assert code == 0 and "200" in out.partition("\n")[0] and out.endswith("\n\nhello\n")
