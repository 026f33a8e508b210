"""`cli.py send`: exact bytes on the wire, streaming, keep-alive, timeouts, TLS, proxies, errors."""

from __future__ import annotations

import json
import socket
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

import cli
import sigv4
from local_http import connect_proxy, http_server, self_signed
from wire.transport.client import Connection, TransportOptions

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
ENV = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": "TOKEN123",
       "HOME": "/nonexistent"}
RAW = (b"POST /path?a=1 HTTP/1.1\r\nHost: example.amazonaws.com\r\nX-Custom-Case: Value\r\n"
       b"content-type: text/plain\r\nContent-Length: 5\r\n\r\nhello")


def run(capsys, args, env=ENV):
    code = cli.main(args, env)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def req_file(tmp_path: Path) -> Path:
    path = tmp_path / "r.req"
    path.write_bytes(RAW)
    return path


def test_send_puts_exactly_the_users_bytes_on_the_wire(capsys, req_file) -> None:
    with http_server() as (url, recorder):
        code, out, err = run(capsys, ["send", str(req_file), "--endpoint", url])
    assert code == 0 and out.startswith("HTTP/1.1 200 ") and out.rstrip().endswith("got 5")
    assert recorder.raw[0] == RAW  # order, casing and spacing as written (CRLF on the wire)


def test_send_adds_only_what_is_missing_and_shows_it(capsys, tmp_path) -> None:
    path = tmp_path / "r.req"
    path.write_bytes(b"PUT /x HTTP/1.1\nHost: example.com\n\nabc")
    with http_server() as (url, recorder):
        code, out, err = run(capsys, ["send", str(path), "--endpoint", url, "-v"])
    assert code == 0 and "* added Content-Length: 3" in err and "> PUT /x HTTP/1.1" in err and "< HTTP/1.1 200" in err
    assert recorder.raw[0] == b"PUT /x HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\n\r\nabc"


def test_send_sign_replaces_stale_auth_and_masks_the_token(capsys, tmp_path) -> None:
    path = tmp_path / "r.req"
    path.write_bytes(b"GET / HTTP/1.1\nHost: example.amazonaws.com\nAuthorization: stale\n"
                     b"X-Amz-Date: 19990101T000000Z\nX-Amz-Security-Token: old\n\n")
    with http_server() as (url, recorder):
        code, out, err = run(capsys, ["send", str(path), "--endpoint", url, "--sign", "--service", "svc", "-v"])
    assert code == 0
    request, _ = recorder.requests[0]
    headers = dict((n.decode(), v.decode()) for n, v in request.headers.raw_items())
    assert "stale" not in str(headers) and headers["X-Amz-Security-Token"] == "TOKEN123"
    signed = sigv4.Request("GET", "https://example.amazonaws.com/", list(headers.items()))
    identity = sigv4.verify(signed, lambda key: sigv4.Credentials("AKIDEXAMPLE", SECRET, "TOKEN123"),
                            now=datetime.now(timezone.utc))
    assert identity.access_key_id == "AKIDEXAMPLE"
    assert "TOKEN123" not in out + err and SECRET not in out + err


def test_streams_a_body_file_and_writes_the_response_to_a_file(capsys, tmp_path, req_file) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"z" * 3_000_000)
    target = tmp_path / "resp.bin"
    with http_server() as (url, recorder):
        code, out, _ = run(capsys, ["send", str(req_file), "--endpoint", url, "--body-file", str(big),
                                    "-o", str(target), "--sign", "--service", "svc"])
    assert code == 0 and target.read_bytes() == b"got 3000000"
    assert len(recorder.requests[0][1]) == 3_000_000


def test_keep_alive_reuses_the_connection() -> None:
    with http_server() as (url, recorder):
        request = sigv4.Request("GET", url + "/", [("Host", "x")])
        connection = Connection("http", url.split("//")[1], TransportOptions(), {})
        try:
            assert [connection.request(request).status for _ in range(3)] == [200, 200, 200]
        finally:
            connection.close()
    assert recorder.connections == 1


def test_json_record_and_curl_and_har(capsys, req_file) -> None:
    with http_server() as (url, _):
        code, out, _ = run(capsys, ["send", str(req_file), "--endpoint", url, "--json"])
    record = json.loads(out)
    assert record["response"]["status"] == 200 and record["request"]["method"] == "POST" and "total_s" in record["timing"]
    code, out, _ = run(capsys, ["send", str(req_file), "--curl", "--sign", "--service", "svc"])
    assert out.startswith("curl -sS --path-as-is -X POST 'https://example.amazonaws.com/path?a=1'")
    assert "X-Amz-Security-Token: TOKEN123" in out  # an export the user runs: whole
    code, out, _ = run(capsys, ["send", str(req_file), "--har", "--sign", "--service", "svc"])
    assert {"name": "X-Amz-Security-Token", "value": "TOKEN123"} in json.loads(out)["request"]["headers"]


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:9/prefix", "http://127.0.0.1:9/?x=1"])
def test_an_endpoint_with_a_path_or_query_is_refused_not_dropped(capsys, req_file, endpoint) -> None:
    code, out, err = run(capsys, ["send", str(req_file), "--endpoint", endpoint])
    target = endpoint.removeprefix("http://127.0.0.1:9")
    assert (code, out, err) == (2, "", f"sigv4: error: --endpoint '{endpoint}': expected http(s)://host[:port], "
                                       f"without the path and query '{target}'\n")


def test_the_curl_export_of_a_body_starting_with_at_sends_the_body_not_the_file_it_names(capsys, tmp_path) -> None:
    # `--data-binary '@/etc/hostname'` makes curl send that file's bytes instead: not what was signed.
    body = b"@/etc/hostname"
    (tmp_path / "r.req").write_bytes(b"PUT /bucket/key HTTP/1.1\r\nHost: example.com\r\n\r\n" + body)
    with http_server() as (url, recorder):
        code, out, _ = run(capsys, ["send", str(tmp_path / "r.req"), "--sign", "--service", "s3", "--endpoint", url,
                                    "--curl"])
        assert code == 0
        done = subprocess.run(["sh", "-c", out], capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert recorder.requests[-1][1] == body  # what x-amz-content-sha256 signed


def test_tls_with_a_self_signed_certificate(capsys, tmp_path, req_file) -> None:
    context, cert = self_signed(tmp_path)
    with http_server(tls=context) as (url, recorder):
        url = url.replace("127.0.0.1", "localhost")
        code, _, err = run(capsys, ["send", str(req_file), "--endpoint", url])
        assert code == 3 and "TLS" in err and err.count("\n") == 1
        code, out, _ = run(capsys, ["send", str(req_file), "--endpoint", url, "--ca-bundle", str(cert)])
        assert code == 0 and "got 5" in out
        code, out, err = run(capsys, ["send", str(req_file), "--endpoint", url, "--insecure"])
        assert code == 0 and "--insecure" in err


def test_https_through_a_connect_proxy(capsys, tmp_path, req_file) -> None:
    context, cert = self_signed(tmp_path)
    with http_server(tls=context) as (url, recorder), connect_proxy() as (proxy, seen):
        url = url.replace("127.0.0.1", "localhost")
        env = {**ENV, "HTTPS_PROXY": proxy}
        code, out, err = run(capsys, ["send", str(req_file), "--endpoint", url, "--ca-bundle", str(cert)], env=env)
        assert code == 0 and "got 5" in out and seen == [url.split("//")[1]]
        code, out, _ = run(capsys, ["send", str(req_file), "--endpoint", url, "--ca-bundle", str(cert)],
                           env={**env, "NO_PROXY": "localhost"})
        assert code == 0 and len(seen) == 1


def test_ipv6_loopback(capsys, req_file) -> None:
    try:
        server = http_server(host="::1")
        url, recorder = server.__enter__()
    except OSError:
        pytest.xfail("this machine has no IPv6 loopback")
    try:
        code, out, _ = run(capsys, ["send", str(req_file), "--endpoint", url])
        assert code == 0 and "got 5" in out
    finally:
        server.__exit__(None, None, None)


@pytest.mark.parametrize("case", ["refused", "timeout", "unparseable", "space-in-target", "endpoint-without-host"])
def test_failures_are_one_line(capsys, tmp_path, req_file, case) -> None:
    args = ["send", str(req_file)]
    if case == "refused":
        with socket.socket() as bound:  # bound but never listening: connecting is refused
            bound.bind(("127.0.0.1", 0))
            url = f"http://127.0.0.1:{bound.getsockname()[1]}"
            code, out, err = run(capsys, [*args, "--endpoint", url, "--connect-timeout", "2"])
        assert code == 3 and "cannot connect" in err
    elif case == "timeout":
        with http_server(delay=2) as (url, _):
            code, out, err = run(capsys, [*args, "--endpoint", url, "--read-timeout", "0.3"])
        assert code == 3 and "no response" in err
    elif case == "unparseable":
        req_file.write_bytes(b"\x00\x01garbage")
        code, out, err = run(capsys, args)
        assert code == 2
    elif case == "endpoint-without-host":  # bad input, not a network error (exit 3, "cannot connect to :80")
        code, out, err = run(capsys, [*args, "--endpoint", "http://"])
        assert code == 2 and "--endpoint 'http://': expected http(s)://host[:port]" in err
    else:
        req_file.write_bytes(b"GET /a b HTTP/1.1\nHost: x\n\n")
        with http_server() as (url, _):
            code, out, err = run(capsys, [*args, "--endpoint", url])
        assert code == 2 and "HTTP/1.1" in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("flag", ["--read-timeout", "--connect-timeout"])
@pytest.mark.parametrize("value", ["nan", "-1", "0", "1e400", "inf"])
def test_a_timeout_that_is_no_number_of_seconds_is_refused(capsys, req_file, flag, value) -> None:
    code, out, err = run(capsys, ["send", str(req_file), "--endpoint", "http://127.0.0.1:9", flag, value])
    assert (code, out, err) == (2, "", f"sigv4: error: argument {flag}: invalid seconds value: '{value}'\n")


@pytest.mark.parametrize("port", ["70000", "\u00b2", "\uff14\uff15"])
@pytest.mark.parametrize("command", [["send", "r.req", "--endpoint"], ["call", "sqs", "ListQueues", "--endpoint-url"]])
def test_an_endpoint_port_out_of_range_or_not_ascii_digits_is_refused(capsys, tmp_path, monkeypatch, port,
                                                                     command) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.req").write_bytes(RAW)
    code, out, err = run(capsys, [*command, f"http://127.0.0.1:{port}"])  # 70000 would reach port 4464
    assert (code, out) == (2, "")
    assert err == (f"sigv4: error: URL authority '127.0.0.1:{port}': port '{port}' is not a number from 0 to 65535\n")


def test_whoami_never_shows_the_secret(capsys) -> None:
    code, out, _ = run(capsys, ["whoami", "--json"], env={**ENV, "AWS_ACCESS_KEY_ID": "ASIAEXAMPLEKEY1234"})
    record = json.loads(out)
    assert record["source"] == "env" and record["key_type"].startswith("temporary")
    assert record["session_token"] == "present" and SECRET not in out and "TOKEN123" not in out


def test_a_token_the_request_already_carries_is_exported_whole_and_masked_in_the_transcript(capsys, tmp_path) -> None:
    path = tmp_path / "r.req"
    path.write_bytes(b"GET /?X-Amz-Security-Token=QUERY%2FTOKEN HTTP/1.1\nHost: example.com\n"
                     b"X-Amz-Security-Token: HEADERTOKEN\n\n")
    for extra in (["--curl"], ["--har"]):
        code, out, _ = run(capsys, ["send", str(path), *extra])
        assert code == 0 and "HEADERTOKEN" in out and "QUERY%2FTOKEN" in out  # the export replays
    with http_server() as (url, _):
        code, out, err = run(capsys, ["send", str(path), "--endpoint", url, "-v"])
        assert code == 0 and "HEADERTOKEN" not in out + err and "QUERY%2FTOKEN" not in out + err
        code, out, err = run(capsys, ["send", str(path), "--endpoint", url, "-v", "--show-secrets"])
    assert "HEADERTOKEN" in err


def test_send_sign_honours_the_sigv4a_region_set(capsys, req_file) -> None:
    with http_server() as (url, recorder):
        code, _, err = run(capsys, ["send", str(req_file), "--endpoint", url, "--sign", "--service", "s3",
                                    "--algorithm", "v4a", "--region-set", "us-east-1,us-west-2"])
    assert code == 0, err
    headers = {n.decode().lower(): v.decode() for n, v in recorder.requests[0][0].headers.raw_items()}
    assert headers["x-amz-region-set"] == "us-east-1,us-west-2"
    assert headers["authorization"].startswith("AWS4-ECDSA-P256-SHA256 Credential=AKIDEXAMPLE/")


def test_output_dash_writes_the_body_to_stdout_and_the_head_to_stderr(tmp_path, req_file, monkeypatch) -> None:
    """`-o -` means stdout, as everywhere in this CLI (it created a file named `-`)."""
    from cli_run import run_cli
    monkeypatch.chdir(tmp_path)
    with http_server() as (url, recorder):
        code, out, err = run_cli(["send", str(req_file), "--endpoint", url, "-o", "-"], ENV)
    assert code == 0 and out == b"got 5" and err.startswith("HTTP/1.1 200 ")
    assert not (tmp_path / "-").exists()
