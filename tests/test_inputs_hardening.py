"""Inputs that once ended in a traceback, a 500 or unbounded memory (issue 22): each now gets a typed error
(library), one line on stderr and exit 2 (CLI), or a 4xx with its trail record (`serve`)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import h11
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sigv4
import wire
from cli_run import run_cli
from local_http import http_server
from serve_fixtures import DEFAULT, serving
from sigv4 import Credentials, Request, VerificationError
from sigv4.bounded import json_loads
from sigv4.chunked_decode import decoder_for, verify_message
from sigv4.errors import InvalidParameterError, StreamDecodeError
from sigv4.integrations import CredentialsError, from_container, from_imds, resolve_credentials
from sigv4.integrations import container
from sigv4.integrations.rolesanywhere import RolesAnywhereSettings
from sigv4.post import parse_policy
from wire import cbor
from wire.debugger.complaint import response_date, split_response
from wire.scalars import parse_timestamp
from wire.transport.client import RequestError, TransportOptions, send_request

CREDS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
ENV = {"AWS_ACCESS_KEY_ID": CREDS.access_key_id, "AWS_SECRET_ACCESS_KEY": CREDS.secret_access_key,
       "AWS_REGION": "us-east-1", "HOME": "/nonexistent"}
DEEP_JSON = "[" * 1000 + "]" * 1000
SECRET_WORD = "hunter2-secret-answer"


def lookup(key_id: str) -> Credentials | None:
    return CREDS if key_id == CREDS.access_key_id else None


def one_line_error(code: int, err: str) -> str:
    assert code == 2 and err.count("\n") == 1 and err.startswith("sigv4: error: "), err
    return err


# -- times near year 1 and 9999 ------------------------------------------------------------------------------

PRESIGNED_9999 = ("https://example.amazonaws.com/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F"
                  "99991231%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=99991231T235959Z&X-Amz-Expires=3600"
                  "&X-Amz-SignedHeaders=host&X-Amz-Signature=" + "0" * 64)
V2 = ("https://example.amazonaws.com/?AWSAccessKeyId=AKIDEXAMPLE&SignatureVersion=2&SignatureMethod=HmacSHA256"
      "&Signature=x")


@pytest.mark.parametrize("url, headers", [
    (PRESIGNED_9999, []),
    (V2 + "&Timestamp=9999-12-31T23:59:59-01:00", []),
    (V2 + "&Expires=9999-12-31T23:59:59-01:00", []),
    (V2 + "&Timestamp=0001-01-01T00:00:00%2B01:00", []),
    ("https://example.amazonaws.com/", [("Date", "Fri, 31 Dec 9999 23:59:59 -0100"), (
        "Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/99991231/us-east-1/service/aws4_request, "
                         "SignedHeaders=date;host, Signature=" + "0" * 64)]),
])
def test_verify_refuses_times_past_the_calendar_as_malformed(url: str, headers: list[tuple[str, str]]) -> None:
    request = Request("GET", url, [("Host", "example.amazonaws.com"), *headers])
    with pytest.raises(VerificationError) as caught:
        sigv4.verify(request, lookup, now=NOW)
    assert caught.value.reason == "malformed_auth"


def test_cli_verify_of_a_url_presigned_for_year_9999_is_one_line(tmp_path: Path) -> None:
    raw = tmp_path / "request.txt"
    raw.write_bytes(f"GET {PRESIGNED_9999.partition('.com')[2]} HTTP/1.1\r\nHost: example.amazonaws.com\r\n\r\n"
                    .encode())
    code, out, err = run_cli(["verify", str(raw), "--now", "20240501T120000Z"], ENV)
    assert (code, err) == (1, "") and out.decode().startswith("FAILED (malformed_auth): ") and b"past year 9999" in out


def test_serve_answers_4xx_and_writes_the_trail_record_for_times_past_the_calendar(tmp_path: Path) -> None:
    base = PRESIGNED_9999.partition(".com/?")[2].replace("service", "account").replace("example", "x")
    paths = ["/?Action=ListRegions&Version=2021-02-01&" + base,
             "/?Action=ListRegions&Version=2021-02-01&AWSAccessKeyId=" + DEFAULT["access_key_id"]
             + "&SignatureVersion=2&SignatureMethod=HmacSHA256&Signature=x&Timestamp="
             + quote("9999-12-31T23:59:59-01:00")]
    with serving(tmp_path) as running:
        statuses = [send_request(Request("GET", running.url + path), TransportOptions(5, 10, None), {},
                                 print).status for path in paths]
    assert statuses == [403, 403]
    assert len(running.trail.read_text().splitlines()) == len(paths)
    assert not any("internal error" in line for line in running.log)


def test_call_refuses_timestamps_past_the_calendar_in_one_line(tmp_path: Path) -> None:
    model = {"metadata": {"protocol": "json", "apiVersion": "1", "targetPrefix": "T", "endpointPrefix": "svc"},
             "operations": {"Op": {"name": "Op", "input": {"shape": "In"}}},
             "shapes": {"In": {"type": "structure", "members": {"When": {"shape": "T"}}}, "T": {"type": "timestamp"}}}
    path = tmp_path / "model.json"
    path.write_text(json.dumps(model))
    for text in ("9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"):
        code, out, err = run_cli(["call", "svc", "Op", f"When={text}", "--model", str(path), "--dry-run"], ENV)
        assert "within years 1..9999" in one_line_error(code, err)


@pytest.mark.parametrize("kind, flags", [
    ("rds", ["--host", "db.example.com", "--port", "5432", "--user", "me"]),
    ("neptune", ["--host", "db.example.com", "--port", "8182"]),
    ("eks", ["--cluster", "c"]),
])
def test_explain_of_a_token_signed_in_year_9999_is_one_line(kind: str, flags: list[str]) -> None:
    code, token, err = run_cli(["token", kind, *flags, "--date", "99991231T235959Z"], ENV)
    assert code == 0, err
    code, out, err = run_cli(["explain", token.decode().strip()], ENV)
    assert "past year 9999" in one_line_error(code, err)


@pytest.mark.parametrize("head", [
    f"GET {PRESIGNED_9999.partition('.com')[2]} HTTP/1.1\r\nHost: example.amazonaws.com\r\n",
    "GET / HTTP/1.1\r\nHost: example.amazonaws.com\r\nDate: Fri, 31 Dec 9999 23:59:59 -0100\r\nAuthorization: "
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/99991231/us-east-1/service/aws4_request, SignedHeaders=date;host, "
    "Signature=00\r\n",
], ids=["presigned", "date-header"])
def test_explain_of_a_capture_signed_in_year_9999_diagnoses_it(tmp_path: Path, head: str) -> None:
    capture = tmp_path / "request.txt"
    capture.write_text(head + "\r\n")
    code, out, err = run_cli(["explain", str(capture)], ENV)
    assert (code, err) == (0, "") and b"Causes (most likely first):" in out


def test_a_codecommit_url_with_an_unbalanced_bracket_is_no_token() -> None:
    # Found by tests/fuzz_harness.py: urllib's "Invalid IPv6 URL" ValueError escaped `describe`.
    with pytest.raises(InvalidParameterError, match="CodeCommit URL"):
        sigv4.tokens.describe("https://AKIDEXAMPLE:20240501T120000Z" + "0" * 64 + "@[git-codecommit.us-east-1."
                              "amazonaws.com/v1/repos/repo", NOW)


def test_presign_post_whose_expiry_is_past_the_calendar_is_one_line() -> None:
    code, out, err = run_cli(["sign", "--presign-post", "--bucket", "b", "--key", "k", "--date", "99991231T235959Z"],
                             ENV)
    assert "past year 9999" in one_line_error(code, err)


def test_decoders_refuse_times_past_the_calendar() -> None:
    with pytest.raises(cbor.CBORDecodeError, match="outside years"):
        cbor.decode(b"\xc0" + cbor.encode("9999-12-31T23:59:59-01:00"))
    with pytest.raises(wire.DecodeError, match="out of range"):
        parse_timestamp("9999-12-31T23:59:59-01:00")
    assert response_date([("Date", "Fri, 31 Dec 9999 23:59:59 -0100")]) is None


def _credentials_json(**fields: object) -> bytes:
    return json.dumps({"AccessKeyId": "ASIAX", "SecretAccessKey": SECRET_WORD, "Token": "t", **fields}).encode()


def _answering(status: int, body: bytes):  # type: ignore[no-untyped-def]
    def respond(request: h11.Request, _: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        return status, [("Content-Type", "application/json")], body
    return respond


@pytest.mark.parametrize("status, body, message", [
    (200, _credentials_json(Expiration="9999-12-31T23:59:59-01:00"), "within years 1..9999"),
    (200, _credentials_json(Expiration=10**20), "within years 1..9999"),
    (200, DEEP_JSON.encode(), "not JSON"),
    (500, _credentials_json(), "HTTP 500"),
])
def test_container_answers_are_typed_errors_that_never_repeat_the_body(status: int, body: bytes,
                                                                       message: str) -> None:
    with http_server(_answering(status, body)) as (url, _):
        with pytest.raises(CredentialsError, match=message) as caught:
            from_container({"AWS_CONTAINER_CREDENTIALS_FULL_URI": url + "/creds"})
    assert SECRET_WORD not in str(caught.value)


def _profile_with_process(tmp_path: Path, script: str) -> dict[str, str]:
    program = tmp_path / "process.py"
    program.write_text(script)
    (tmp_path / "config").write_text(f"[profile p]\ncredential_process = {sys.executable} {program}\n")
    (tmp_path / "credentials").write_text("")
    return {"HOME": str(tmp_path), "AWS_CONFIG_FILE": str(tmp_path / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"), "AWS_EC2_METADATA_DISABLED": "true"}


@pytest.mark.parametrize("output, message", [
    (_credentials_json(Version=1, Expiration="9999-12-31T23:59:59-01:00").decode(), "within years 1..9999"),
    (DEEP_JSON, "not JSON"),
    (_credentials_json(Version=1)[:-1].decode(), "not JSON"),
])
def test_credential_process_answers_are_typed_errors_that_never_repeat_the_output(tmp_path: Path, output: str,
                                                                                   message: str) -> None:
    env = _profile_with_process(tmp_path, f"print({output!r})")
    with pytest.raises(CredentialsError, match=message) as caught:
        resolve_credentials("p", env)
    assert SECRET_WORD not in str(caught.value)


def test_credential_process_output_is_read_in_bounded_memory(tmp_path: Path) -> None:
    env = _profile_with_process(tmp_path, "import sys\nsys.stdout.write(' ' * 50_000_000)\n")
    tracemalloc.start()
    try:
        with pytest.raises(CredentialsError, match="printed more than"):
            resolve_credentials("p", env)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20


# -- nesting ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["ContactInformation=" + DEEP_JSON],
    ["ContactInformation=" + "{a=" * 1000 + "b" + "}" * 1000],
    ["ContactInformation=" + "[" * 1000 + "]" * 1000 + ""],
    ["--input", '{"a":' * 1000 + "1" + "}" * 1000],
    ["--input", '{"ContactInformation":' + '{"a":' * 900 + "1" + "}" * 901],
])
def test_call_refuses_deep_nesting_in_one_line(args: list[str]) -> None:
    code, out, err = run_cli(["call", "account", "PutContactInformation", *args, "--dry-run"], ENV)
    assert "nested" in one_line_error(code, err)


def test_deeply_nested_token_json_and_post_policies_are_typed_errors() -> None:
    code, out, err = run_cli(["explain", '{"Authorization":' * 1000 + "1" + "}" * 1000], ENV)
    assert "nested" in one_line_error(code, err)
    with pytest.raises(InvalidParameterError, match="nested"):
        parse_policy(base64.b64encode(json.dumps({"expiration": "2030-01-01T00:00:00Z"})[:-1].encode()
                                      + b', "conditions": ' + DEEP_JSON.encode() + b"}").decode())


# -- XML in encodings we cannot read --------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["no-such-encoding", "utf-32", "shift_jis"])
def test_parse_response_keeps_its_contract_for_xml_in_unreadable_encodings(encoding: str) -> None:
    body = (f'<?xml version="1.0" encoding="{encoding}"?><ErrorResponse><Error><Code>Throttling</Code>'
            "</Error></ErrorResponse>").encode()
    for model_name, operation in (("sts-credentials", "AssumeRole"), ("s3", "ListBuckets"), ("ec2", "DescribeRegions")):
        model = wire.load_model(model_name)
        with pytest.raises(wire.ServiceError):
            wire.parse_response(model, operation, 400, [], body)
        with pytest.raises(wire.DecodeError):
            wire.parse_response(model, operation, 200, [], body)


def test_call_answered_with_xml_in_an_unreadable_encoding_prints_the_service_error() -> None:
    body = b'<?xml version="1.0" encoding="utf-32"?><ErrorResponse><Error><Code>X</Code></Error></ErrorResponse>'
    with http_server(_answering(400, body)) as (url, _):
        code, out, err = run_cli(["call", "account", "GetContactInformation", "--endpoint-url", url,
                                  "--protocol", "query"], ENV)
    # No code could be read: the status, request id and body's start, as for any unreadable error body.
    assert (code, out, err) == (1, b"", f"HTTP 400, request id (none): {body.decode()}\n")


def test_the_proxy_relays_an_error_in_an_unreadable_encoding_and_keeps_serving() -> None:
    from test_proxy import fetch, proxy
    body = b'<?xml version="1.0" encoding="nope"?><Error><Code>RequestTimeTooSkewed</Code></Error>'
    with http_server(_answering(403, body)) as (upstream, _), proxy(upstream, "s3", CREDS) as (url, log):
        assert fetch(url + "/b/k") == (403, body)
        assert fetch(url + "/b/k")[0] == 403
    assert not any("Traceback" in line or "LookupError" in line for line in log)


def test_sts_answering_xml_in_an_unknown_encoding_is_a_credentials_error(tmp_path: Path) -> None:
    body = b'<?xml version="1.0" encoding="no-such-encoding"?><AssumeRoleResponse/>'
    with http_server(_answering(200, body)) as (url, _):
        (tmp_path / "config").write_text("[profile r]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
                                         "source_profile = r\n")
        (tmp_path / "credentials").write_text("[r]\naws_access_key_id = AKID\naws_secret_access_key = x\n")
        env = {"HOME": str(tmp_path), "AWS_CONFIG_FILE": str(tmp_path / "config"), "AWS_ENDPOINT_URL_STS": url,
               "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"), "AWS_EC2_METADATA_DISABLED": "true"}
        with pytest.raises(CredentialsError, match="does not fit the model"):
            resolve_credentials("r", env)


# -- numbers: '²' and 5,000 digits ----------------------------------------------------------------------------

@pytest.mark.parametrize("declared", ["\u00b2", "9" * 5000, " 12a"], ids=["superscript", "5000-digits", "letters"])
def test_decoded_content_length_that_is_no_number_is_a_typed_error(declared: str) -> None:
    # The length left unsigned, so that verification passes and the body's decoder meets the text (verified by
    # the generic rules: S3's refuse an x-amz-* header sent unsigned before any decoder runs).
    request = Request("PUT", "https://s3.amazonaws.com/b/k", [("x-amz-decoded-content-length", "0")])
    signed = sigv4.sign(request, CREDS, region="us-east-1", service="s3", timestamp=NOW,
                        payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                        unsigned_headers=("x-amz-decoded-content-length", "authorization")).request
    signed = signed.with_header("x-amz-decoded-content-length", declared)
    identity = sigv4.verify(signed, lookup, now=NOW, s3=False)
    with pytest.raises(InvalidParameterError, match="x-amz-decoded-content-length"):
        decoder_for(identity, signed)
    with pytest.raises(StreamDecodeError) as caught:
        verify_message(signed, b"0\r\n\r\n", lookup, now=NOW, s3=False)
    with pytest.raises(VerificationError, match="x-amz-decoded-content-length must be signed"):
        sigv4.verify(signed, lookup, now=NOW)
    assert caught.value.reason == "malformed" and caught.value.offset == 0


def test_sign_chunked_with_a_unicode_digit_length_is_one_line(tmp_path: Path) -> None:
    raw = tmp_path / "put.txt"
    raw.write_bytes("PUT /b/k HTTP/1.1\nHost: s3.amazonaws.com\nx-amz-decoded-content-length: \u00b2\n"
                    "Content-Length: 3\n\nabc".encode())
    code, out, err = run_cli(["sign", "--chunked", "--date", "20240501T120000Z", str(raw)], ENV)
    assert "x-amz-decoded-content-length" in one_line_error(code, err)


def test_container_token_and_duration_seconds_that_cannot_be_used_are_credentials_errors(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="non-ASCII"):
        container.authorization({"AWS_CONTAINER_AUTHORIZATION_TOKEN": "t\u00f6ken"})
    (tmp_path / "config").write_text("[profile m]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
                                     f"source_profile = m\nduration_seconds = {'9' * 5000}\n")
    (tmp_path / "credentials").write_text("[m]\naws_access_key_id = AKID\naws_secret_access_key = x\n")
    env = {"HOME": str(tmp_path), "AWS_CONFIG_FILE": str(tmp_path / "config"),
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"), "AWS_EC2_METADATA_DISABLED": "true"}
    with pytest.raises(CredentialsError, match="duration_seconds"):
        resolve_credentials("m", env)


@pytest.mark.parametrize("name, text", [("AWS_METADATA_SERVICE_TIMEOUT", "nan"),
                                        ("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "1e400")])
def test_instance_metadata_settings_that_are_no_usable_number_are_credentials_errors(name: str, text: str) -> None:
    with pytest.raises(CredentialsError, match=name):
        from_imds({name: text})


@pytest.mark.parametrize("duration", ["\u00b2", "9" * 5000])
def test_a_roles_anywhere_session_duration_that_is_no_number_is_a_credentials_error(duration: str) -> None:
    values = {"certificate": "c.pem", "private-key": "k.pem", "trust-anchor-arn": "arn:t", "profile-arn": "arn:p",
              "role-arn": "arn:r", "session-duration": duration}
    with pytest.raises(CredentialsError, match="session-duration"):
        RolesAnywhereSettings.from_values(values, "test")


def test_a_non_ascii_header_is_a_request_error_not_a_traceback() -> None:
    with http_server() as (url, _):
        with pytest.raises(RequestError, match="not ASCII"):
            send_request(Request("GET", url, [("X-Name", "J\u00f6rg")]), TransportOptions(5, 5, None), {}, print)


# -- linear time and bounded memory ---------------------------------------------------------------------------

def test_a_response_of_two_million_one_byte_chunks_is_read_in_linear_time() -> None:
    # A watchdog, not a timing assertion: linear reading takes about a second, the quadratic one took hours.
    program = ("from wire.debugger.complaint import split_response\n"
               "data = (b'HTTP/1.1 403 Forbidden\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n'\n"
               "        + b'1\\r\\nx\\r\\n' * 2_000_000 + b'0\\r\\n\\r\\n')\n"
               "assert split_response(data)[2] == b'x' * 2_000_000\n")
    done = subprocess.run([sys.executable, "-c", program], cwd=Path(__file__).parent.parent, timeout=120,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert split_response(b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3;x=1\nabc\r\n0\n\n")[2] == b"abc"


def test_cbor_decoding_takes_memory_bounded_by_a_small_multiple_of_the_input() -> None:
    data = b"\x9a" + (1 << 18).to_bytes(4, "big") + b"\xa0" * (1 << 18)  # 262,144 empty maps: some 19 MB
    tracemalloc.start()
    try:
        with pytest.raises(cbor.CBORDecodeError, match="memory"):
            cbor.decode(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= (cbor.MEMORY_FACTOR + 2) * len(data) + cbor.MEMORY_FLOOR
    many_small = [{"Name": f"instance-{i}", "State": "running", "Count": i} for i in range(2_000)]
    assert cbor.decode(cbor.encode(many_small)) == many_small


@pytest.mark.parametrize("hex_", ["a2f5010102", "a2f93c00010102", "a20102f502", "a2f4010002"])
def test_cbor_true_one_and_one_point_zero_are_distinct_keys_not_duplicates(hex_: str) -> None:
    with pytest.raises(cbor.CBORDecodeError, match="distinct in CBOR") as caught:
        cbor.decode(bytes.fromhex(hex_))
    assert "duplicate" not in str(caught.value)
    with pytest.raises(cbor.CBORDecodeError, match="duplicate"):
        cbor.decode(bytes.fromhex("a2f501f502"))


@settings(max_examples=300, deadline=None)
@given(st.one_of(
    st.binary(max_size=40).map(lambda tail: b"{" + tail), st.binary(max_size=40).map(lambda tail: b"[" + tail),
    st.builds(lambda value: json.dumps(value).encode(), st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
        max_leaves=8))))
def test_bounded_json_loads_reads_bytes_as_json_loads_does(data: bytes) -> None:
    """The bounded reader hands text it decoded itself straight to json's decoder: the same value or a ValueError."""
    try:
        expected = json.loads(data)
    except ValueError:
        with pytest.raises(ValueError):
            json_loads(data)
    else:
        assert json_loads(data) == expected
