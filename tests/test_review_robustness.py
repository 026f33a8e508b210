"""Crafted inputs from the second reader's review: each once crashed or leaked, each must now be handled."""

from __future__ import annotations

from datetime import datetime, timezone

from sigv4 import Credentials, Request, sign
from wire.debugger.diagnose import diagnose, read_error

CREDS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
WHEN = datetime(2015, 8, 30, 12, 36, tzinfo=timezone.utc)


def test_diagnose_with_a_secret_reads_a_non_ascii_signature_as_not_matching() -> None:
    signed = sign(Request("GET", "https://example.amazonaws.com/"), CREDS, region="us-east-1", service="service",
                  timestamp=WHEN).request
    authorization = signed.header("authorization") or ""
    forged = signed.with_header("Authorization", authorization.rpartition("Signature=")[0] + "Signature=\u00e9")
    diagnosis = diagnose(forged, None, secret=CREDS)
    assert diagnosis.signature_check is not None and not diagnosis.signature_check.ours_matches


def test_read_error_is_total_on_unicode_digits_and_huge_skew_windows() -> None:
    bodies = [
        "<Error><Code>RequestTimeTooSkewed</Code><MaxAllowedSkewMilliseconds>\u00b2</MaxAllowedSkewMilliseconds></Error>",
        "<Error><Code>RequestTimeTooSkewed</Code><MaxAllowedSkewMilliseconds>" + "9" * 30
        + "</MaxAllowedSkewMilliseconds></Error>",
        '{"message": "Signature expired: 20150830T123600Z is now earlier than 20150830T124600Z '
        '(20150830T125100Z - ' + "9" * 30 + ' min.)"}',
    ]
    for body in bodies:
        complaint = read_error(403, [], body.encode("utf-8"))
        assert complaint.allowed_skew is None


def _run_cli(capsys, args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    import cli
    code = cli.main(args, env)
    out, err = capsys.readouterr()
    return code, out, err


# A real STS token is base64: it holds '/', '+' and '=', which a URL carries percent-encoded.
STS_TOKEN = "FwoGZXIvYXdzEB4aDG/Ex+ample/Token+Value=="
TOKEN_ENV = {"AWS_ACCESS_KEY_ID": CREDS.access_key_id, "AWS_SECRET_ACCESS_KEY": CREDS.secret_access_key,
             "AWS_SESSION_TOKEN": STS_TOKEN, "HOME": "/nonexistent"}


def test_cli_masks_a_percent_encoded_session_token_in_presigned_and_sigv2_explanations(capsys, tmp_path) -> None:
    from sigv4.canonical import uri_encode
    path = tmp_path / "get.req"
    path.write_bytes(b"GET /?Action=List HTTP/1.1\r\nHost: example.amazonaws.com\r\n\r\n")
    encoded = uri_encode(STS_TOKEN, keep_slash=False)
    for flags in (["--presign", "--explain"], ["--algorithm", "v2", "--explain"]):
        code, out, err = _run_cli(capsys, ["sign", str(path), "--service", "svc", "--date", "20150830T123600Z",
                                           *flags], TOKEN_ENV)
        assert code == 0, err
        assert STS_TOKEN not in out + err and encoded not in out + err, flags
    # The URL and the SigV2 request are what was asked for: they carry the token, percent-encoded, to work.
    for flags in (["--presign"], ["--presign", "--json"], ["--algorithm", "v2"]):
        code, out, err = _run_cli(capsys, ["sign", str(path), "--service", "svc", "--date", "20150830T123600Z",
                                           *flags], TOKEN_ENV)
        assert code == 0 and encoded in out and STS_TOKEN not in err, flags


def test_cli_unreadable_body_file_output_file_and_non_utf8_input_are_one_line_exit_2(capsys, tmp_path) -> None:
    request = tmp_path / "put.req"
    request.write_bytes(b"PUT /x HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n")
    not_utf8 = tmp_path / "input.json"
    not_utf8.write_bytes(b"\xff\xfe{}")
    env = {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET", "HOME": "/nonexistent"}
    for args, where in (
        (["send", str(request), "--scheme", "http", "--body-file", str(tmp_path / "missing.bin")], "missing.bin"),
        (["send", str(request), "--scheme", "http", "-o", str(tmp_path / "no" / "dir" / "out")], "out"),
        (["call", "account", "GetAlternateContact", "--input", f"@{not_utf8}", "--dry-run"], "input.json"),
    ):
        code, out, err = _run_cli(capsys, args, env)
        assert code == 2 and out == "", (args, err)
        assert err.count("\n") == 1 and where in err and "Traceback" not in err, err


def test_har_and_aws_debug_captures_refuse_control_bytes_in_headers() -> None:
    import json

    import pytest

    from wire.debugger.capture import CaptureError, parse_capture

    def har(headers: list[tuple[str, str]], method: str = "GET") -> bytes:
        return json.dumps({"request": {"method": method, "url": "https://example.amazonaws.com/",
                                       "headers": [{"name": n, "value": v} for n, v in headers]}}).encode()

    debug = (b"2024-01-02 03:04:05,678 - MainThread - botocore.endpoint - DEBUG - Sending http request: "
             b"<AWSPreparedRequest stream_output=False, method=GET, url=https://example.amazonaws.com/, "
             b"headers={'X-Evil': b'a\\r\\nInjected: 1'}>\n")
    for data in (har([("X-Evil", "a\r\nInjected: 1")]), har([("Bad Name\n", "x")]),
                 har([("Host", "h")], method="GET\r\nX: y"), debug):
        with pytest.raises(CaptureError):
            parse_capture(data)
    assert parse_capture(har([("X-Fine", "a\tb")])).request.header("x-fine") == "a\tb"


def test_raw_parser_refuses_control_bytes_in_a_folded_continuation_line() -> None:
    import pytest

    from sigv4.errors import RequestParseError
    from sigv4.raw import parse_request

    with pytest.raises(RequestParseError, match="X-A"):
        parse_request(b"GET / HTTP/1.1\nHost: a\nX-A: b\n \x01c\n\n")
    assert parse_request(b"GET / HTTP/1.1\nHost: a\nX-A: b\n \tc\n\n").request.header("x-a") == "b c"
