"""Replay correctness: what `sigv4 sign` and `call --dry-run` print is the request, byte for byte, and reads back.

Each test saves the output to a file the way a user would (`sigv4 sign req > signed.req`) and hands that file to
`verify` and to `send`, which sends it to a loopback server that verifies every signature and chunk
(tests/verifying_server.py).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

import cli
from cli_run import run_cli
import sigv4
from sigv4.raw import parse_request, render_request
from local_http import http_server
from verifying_server import verifying_server

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
CREDS = sigv4.Credentials("AKIDEXAMPLE", SECRET)
ENV = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": SECRET, "HOME": "/nonexistent"}
POST = b"POST /items HTTP/1.1\r\nHost: example.amazonaws.com\r\nContent-Type: application/json\r\n\r\n{}"


def run(args: list[str], env: dict[str, str] = ENV) -> tuple[int, bytes, str]:
    return run_cli(args, env)


def saved(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def replays(tmp_path: Path, signed: bytes, *, s3: bool = False) -> dict[str, object]:
    """`verify` accepts the saved output and `send` of it gets 200 from the verifying server: the server's record."""
    path = saved(tmp_path, "signed.req", signed)
    code, out, err = run(["verify", path, *(["--s3"] if s3 else [])])
    assert code == 0 and out.startswith(b"OK: "), (out, err)
    with verifying_server({"AKIDEXAMPLE": CREDS}, s3=s3) as server:
        code, out, err = run(["send", path, "--endpoint", server.url])
    assert code == 0 and out.startswith(b"HTTP/1.1 200 "), (out, err)
    return dict(json.loads(out.partition(b"\n\n")[2]))


def test_sign_writes_exactly_the_requests_bytes_and_they_replay(tmp_path: Path) -> None:
    code, signed, err = run(["sign", saved(tmp_path, "post.req", POST), "--service", "service"])
    assert code == 0 and err == ""
    when = datetime.strptime(parse_request(signed).request.header("x-amz-date") or "", "%Y%m%dT%H%M%SZ")
    result = sigv4.sign(parse_request(POST).request, CREDS, region="us-east-1", service="service",
                        timestamp=when.replace(tzinfo=timezone.utc))
    # The body is the last thing written: no newline after it, or the server would hash `{}\n`.
    assert signed == render_request(result.request, parse_request(POST), b"{}")
    assert signed.endswith(b"\r\n\r\n{}")
    assert replays(tmp_path, signed)["body"] == "{}"


def test_newline_is_an_explicit_terminal_form(tmp_path: Path) -> None:
    _, signed, _ = run(["sign", saved(tmp_path, "post.req", POST), "--service", "service", "--newline"])
    assert signed.endswith(b"{}\n")


def test_a_request_without_body_ends_with_its_blank_line(tmp_path: Path) -> None:
    get = b"GET /?a=1 HTTP/1.1\nHost: example.amazonaws.com\n\n"
    _, signed, _ = run(["sign", saved(tmp_path, "get.req", get), "--service", "service"])
    assert signed.endswith(b"\n\n") and not signed.endswith(b"\n\n\n")
    replays(tmp_path, signed)


def test_call_dry_run_output_replays(tmp_path: Path) -> None:
    with verifying_server({"AKIDEXAMPLE": CREDS}) as server:
        code, signed, err = run(["call", "account", "PutAccountName", "AccountName=Replay", "--dry-run",
                                 "--endpoint-url", server.url])
        head, _, body = signed.partition(b"\r\n\r\n")
        assert code == 0 and json.loads(body) == {"AccountName": "Replay"} and signed.endswith(b"}"), (signed, err)
        code, out, err = run(["send", saved(tmp_path, "call.req", signed), "--scheme", "http"])
    assert code == 0 and out.startswith(b"HTTP/1.1 200 "), (out, err)
    assert json.loads(out.partition(b"\n\n")[2])["body"] == signed.partition(b"\r\n\r\n")[2].decode()


@pytest.mark.parametrize("trailer", [None, "crc32c"])
def test_sign_chunked_output_reads_back_in_verify_and_send(tmp_path: Path, trailer: str | None) -> None:
    body = bytes(range(256)) * 80  # 20 KiB: three 8 KiB chunks, binary
    request = b"PUT /bucket/key HTTP/1.1\r\nHost: bucket.s3.amazonaws.com\r\n\r\n" + body
    flags = ["--service", "s3", "--s3", "--chunked", "--chunk-size", "8192", *(["--trailer", trailer] if trailer else [])]
    code, signed, err = run(["sign", saved(tmp_path, "put.req", request), *flags])
    assert code == 0 and b"Content-Encoding: aws-chunked" in signed, err
    record = replays(tmp_path, signed, s3=True)
    assert record["body"] == body.decode("latin-1") and str(record["payload_hash"]).startswith("STREAMING-")
    # A flipped byte in a chunk fails verification with the chunk's reason.
    broken = saved(tmp_path, "broken.req", signed.replace(bytes(range(16)), b"X" * 16, 1))
    code, out, _ = run(["verify", broken, "--s3"])
    assert code == 1 and out.startswith(b"FAILED (signature_mismatch): aws-chunked body")


@pytest.mark.parametrize("trailer", [None, "crc32"])
def test_sign_chunked_of_a_request_written_with_lf_reads_back(tmp_path: Path, trailer: str | None) -> None:
    """A request typed with `printf '...\\n'` (LF lines, as the README's examples) signed `--chunked`: its head keeps
    LF, the chunk stream has CRLF (and ends in CRLF CRLF); the file must still split at the head's blank line."""
    request = b"PUT /bucket/key HTTP/1.1\nHost: bucket.s3.amazonaws.com\nContent-Type: text/plain\n\nhello chunked world"
    flags = ["--service", "s3", "--s3", "--chunked", *(["--trailer", trailer] if trailer else [])]
    code, signed, err = run(["sign", saved(tmp_path, "put.req", request), *flags])
    assert code == 0 and b"\n\n" in signed, err
    assert replays(tmp_path, signed, s3=True)["body"] == "hello chunked world"


def test_send_sign_chunked_sends_the_chunk_stream(tmp_path: Path) -> None:
    request = b"PUT /bucket/key HTTP/1.1\r\nHost: bucket.s3.amazonaws.com\r\n\r\n" + b"x" * 10000
    with verifying_server({"AKIDEXAMPLE": CREDS}, s3=True) as server:
        code, out, err = run(["send", saved(tmp_path, "put.req", request), "--sign", "--chunked", "--s3",
                              "--service", "s3", "--chunk-size", "8192", "--trailer", "sha256",
                              "--endpoint", server.url])
        assert code == 0 and out.startswith(b"HTTP/1.1 200 "), (out, err)
        assert json.loads(out.partition(b"\n\n")[2])["body"] == "x" * 10000
        # --body-file: the decoded length is the file's size, the stream is read from the file.
        body_file = saved(tmp_path, "body.bin", b"y" * 20000)
        head = saved(tmp_path, "head.req", b"PUT /bucket/key HTTP/1.1\r\nHost: bucket.s3.amazonaws.com\r\n\r\n")
        code, out, err = run(["send", head, "--body-file", body_file, "--sign", "--chunked", "--s3",
                              "--service", "s3", "--chunk-size", "8192", "--endpoint", server.url])
        assert code == 0 and out.startswith(b"HTTP/1.1 200 "), (out, err)
        assert json.loads(out.partition(b"\n\n")[2])["body"] == "y" * 20000
        sent = server.received[-1]
        assert dict((n.lower(), v) for n, v in sent.headers)["x-amz-decoded-content-length"] == "20000"


def test_a_request_with_a_chunked_transfer_coding_signs_verifies_and_sends_its_payload(tmp_path: Path) -> None:
    """`Transfer-Encoding: chunked` frames the body on the wire (the JS SDK and Java clients send it so): the
    payload is what the chunks carry. Before, `verify` hashed the framing and `send` framed it a second time."""
    head = b"POST /items HTTP/1.1\r\nHost: example.amazonaws.com\r\nTransfer-Encoding: chunked\r\n\r\n"
    framed = head + b"3\r\n{\"a\r\n4;ext=1\r\n\": 1\r\n1\r\n}\r\n0\r\n\r\n"
    code, signed, err = run(["sign", saved(tmp_path, "chunked.req", framed), "--service", "service"])
    assert code == 0 and signed.endswith(b"\r\n\r\n8\r\n{\"a\": 1}\r\n0\r\n\r\n"), (signed, err)
    assert replays(tmp_path, signed)["body"] == '{"a": 1}'
    # A capture of another signer's chunked request (botocore signs the payload) verifies as it is.
    request = AWSRequest("POST", "https://example.amazonaws.com/items", data=b'{"a": 1}',
                         headers={"Transfer-Encoding": "chunked"})
    SigV4Auth(BotoCredentials("AKIDEXAMPLE", SECRET), "service", "us-east-1").add_auth(request)
    captured = b"".join([b"POST /items HTTP/1.1\r\n", *(f"{n}: {v}\r\n".encode() for n, v in request.headers.items()),
                         b"Host: example.amazonaws.com\r\n\r\n5\r\n{\"a\":\r\n3\r\n 1}\r\n0\r\n\r\n"])
    code, out, err = run(["verify", saved(tmp_path, "captured.req", captured)])
    assert code == 0 and out.startswith(b"OK: "), (out, err)
    # --chunked: the aws-chunked stream's Content-Length frames it, without the transfer coding beside it.
    put = framed.replace(b"POST /items", b"PUT /bucket/key").replace(b"example.amazonaws.com", b"bucket.s3.amazonaws.com")
    code, signed, err = run(["sign", saved(tmp_path, "put.req", put), "--service", "s3", "--chunked"])
    signed_head = signed.partition(b"\r\n\r\n")[0]
    assert code == 0 and b"\nContent-Length:" in signed_head and b"Transfer-Encoding" not in signed_head, err
    assert replays(tmp_path, signed, s3=True)["body"] == '{"a": 1}'
    code, out, err = run(["verify", saved(tmp_path, "torn.req", head + b"8\r\n{\"a\"")])
    assert code == 2 and err.count("\n") == 1 and "Transfer-Encoding is chunked" in err, err


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("sh") is None, reason="curl and sh are needed")
@pytest.mark.parametrize("body_from", [[], ["--body-file"], ["--body-file", "--chunked", "--chunk-size", "8192"]])
def test_send_curl_runs_and_sends_every_byte_as_signed(tmp_path: Path, body_from: list[str]) -> None:
    """The exported command, run by a POSIX shell, sends the body signed: a binary one (a NUL, bytes that are
    not UTF-8, printf's `%` and `\\`) and a --body-file's. Before, the body went out as `\\xNN` text, and a
    --body-file's not at all, and curl's default form Content-Type came with it."""
    body = bytes(range(256)) * 40 + b"%d %% \\n '\n"
    head = b"PUT /bucket/key HTTP/1.1\r\nHost: bucket.s3.amazonaws.com\r\n\r\n"
    request = saved(tmp_path, "put.req", head if body_from else head + body)
    flags = [*body_from[:1], *([saved(tmp_path, "body.bin", body)] if body_from else []), *body_from[1:]]
    with verifying_server({"AKIDEXAMPLE": CREDS}, s3=True) as server:
        code, out, err = run(["send", request, "--sign", "--service", "s3", "--endpoint", server.url, "--curl", *flags])
        assert code == 0 and out.count(b"\n") == 1, err
        sent = subprocess.run(["sh", "-c", out.decode()], capture_output=True, cwd=tmp_path, timeout=30)
    record = json.loads(sent.stdout)
    assert record["body"] == body.decode("latin-1") and record["key"] == "AKIDEXAMPLE", record
    assert "content-type" not in {name.lower() for name, _ in server.received[-1].headers}


def test_send_har_of_a_binary_body_reads_back_as_the_bytes_signed(tmp_path: Path) -> None:
    """`send --har`: a body that is not UTF-8 is written base64 (`"encoding": "base64"`), so `explain` of the HAR
    verifies the signature. Before, its text was `\\xd5...` escapes and explain blamed the payload hash."""
    body = bytes(range(256))
    request = saved(tmp_path, "put.req", b"PUT /bucket/key HTTP/1.1\r\nHost: bucket.s3.amazonaws.com\r\n\r\n" + body)
    code, out, err = run(["send", request, "--sign", "--service", "s3", "--har"])
    assert code == 0 and json.loads(out)["request"]["postData"]["encoding"] == "base64", err
    code, out, err = run(["explain", saved(tmp_path, "put.har", out)])
    assert code == 0 and b"Causes: none found" in out and b"the signature sent verifies" in out, (out, err)


def test_presign_prints_the_url_and_the_url_reads_back(tmp_path: Path) -> None:
    get = b"GET /report?page=2 HTTP/1.1\nHost: example.amazonaws.com\n\n"
    code, out, err = run(["sign", saved(tmp_path, "get.req", get), "--service", "service", "--presign",
                          "--expires", "300"])
    url = out.decode()
    assert code == 0 and url.startswith("https://example.amazonaws.com/report?page=2&X-Amz-Algorithm=") \
        and url.count("\n") == 1 and "X-Amz-Expires=300" in url and "X-Amz-Signature=" in url
    replays(tmp_path, out)


@pytest.mark.parametrize("service", ["s3", "service"])
def test_presign_of_a_raw_target_with_a_space_and_unicode_prints_a_url_that_reads_back(tmp_path: Path,
                                                                                       service: str) -> None:
    """A request line typed as people type it (`/café déjà.txt?x=a b`): the URL printed is percent-encoded, as
    clients send it, and signed so. Before, it kept the space and the `é`: curl refused it, verify could not
    read it back."""
    get = "GET /bucket/café déjà.txt?prefix=été&x=a b HTTP/1.1\nHost: example.amazonaws.com\n\n".encode()
    code, out, err = run(["sign", saved(tmp_path, "get.req", get), "--service", service, "--presign"])
    url = out.decode()
    assert code == 0 and url.startswith("https://example.amazonaws.com/bucket/caf%C3%A9%20d%C3%A9j%C3%A0.txt?"
                                        "prefix=%C3%A9t%C3%A9&x=a%20b&X-Amz-Algorithm="), (url, err)
    assert url.isascii() and " " not in url.strip()
    replays(tmp_path, out, s3=service == "s3")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out == f"sigv4 {sigv4.__version__}\n"


@pytest.mark.parametrize("order", [
    ["GetAlternateContact", "AlternateContactType=BILLING", "--dry-run", "--region", "eu-west-1"],
    ["GetAlternateContact", "--dry-run", "AlternateContactType=BILLING", "--region", "eu-west-1"],
    ["--region", "eu-west-1", "GetAlternateContact", "--dry-run", "AlternateContactType=BILLING"],
    ["GetAlternateContact", "--region", "eu-west-1", "AlternateContactType=BILLING", "--dry-run"],
])
def test_call_takes_options_and_parameters_in_any_order(order: list[str]) -> None:
    code, out, err = run(["call", "account", *order])
    assert code == 0 and err == "", err
    assert out.startswith(b"POST /getAlternateContact HTTP/1.1\r\n") and out.endswith(b'"BILLING"}'), out


@pytest.mark.parametrize("body", [b"<html><body>502 Bad Gateway</body></html>\n", b"", b"\xff\xfe" * 400],
                         ids=["html", "empty", "binary-long"])
def test_call_with_an_undecodable_error_body_prints_status_request_id_and_body(body: bytes) -> None:
    def gateway(request, data):  # type: ignore[no-untyped-def]
        return 502, [("Content-Type", "text/html"), ("x-amzn-RequestId", "req-7f3a")], body

    with http_server(gateway) as (url, _):
        code, out, err = run(["call", "account", "ListRegions", "--endpoint-url", url])
    assert code == 1 and out == b"" and err.count("\n") == 1, err
    assert err.startswith("HTTP 502, ") and "request id req-7f3a" in err and not err.startswith(":")
    assert ("502 Bad Gateway" in err) if body.startswith(b"<html>") else True
    assert "(empty body)" in err if not body else len(err) < 700


def test_a_request_without_scheme_sent_to_plain_http_gets_a_hint(tmp_path: Path) -> None:
    # http.server answers the TLS hello with an HTTP 400, as plain-HTTP servers do: OpenSSL's WRONG_VERSION_NUMBER.
    with verifying_server({"AKIDEXAMPLE": CREDS}) as server:
        authority = server.url.partition("//")[2]
        path = saved(tmp_path, "plain.req", f"GET / HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode())
        code, out, err = run(["send", path])
        assert code == 3 and out == b"" and err.count("\n") == 1, err
        assert "TLS" in err and "--scheme http" in err and "http://" in err
        code, out, _ = run(["send", path, "--scheme", "http", "--sign", "--service", "service"])
        assert code == 0 and out.startswith(b"HTTP/1.1 200 ")


SQS_DENIED = (b'<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error>'
              b'<Type>Sender</Type><Code>AccessDenied</Code><Message>Access to the resource is denied.</Message>'
              b'<Detail/></Error><RequestId>5f1e9a7c-sqs</RequestId></ErrorResponse>')


@pytest.mark.parametrize("body, line", [
    (SQS_DENIED, "AccessDenied: Access to the resource is denied.\n"),
    # (no reason phrase after the status: the test server sends none)
    (b"\x89PNG\r\nnot an envelope", "HTTP 403, request id req-9b2c: \\x89PNG\\r\\nnot an envelope\n"),
], ids=["xml-envelope", "unreadable"])
def test_call_to_a_json_service_answered_with_another_protocols_error(body: bytes, line: str) -> None:
    # SQS speaks awsJson1_0; a 403 with an XML body was once "network error: the response does not fit the
    # model", exit 3: it is a service error (exit 1), read from the XML envelope or, unreadable, shown as is.
    def denied(request, data):  # type: ignore[no-untyped-def]
        return 403, [("Content-Type", "text/xml"), ("x-amzn-RequestId", "req-9b2c")], body

    with http_server(denied) as (url, _):
        code, out, err = run(["call", "sqs", "ListQueues", "--endpoint-url", url, "--region", "us-east-1"])
    assert (code, out, err) == (1, b"", line)
