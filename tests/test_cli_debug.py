"""`call` against moto's server, and `diff` / `explain` from files, as a user runs them."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from html import escape
from pathlib import Path

import pytest

import cli
import sigv4
from wire.debugger.capture import parse_capture
from wire.debugger.diagnose import diagnose_answer

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
ENV = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": SECRET, "HOME": "/nonexistent"}
FIXTURES = Path(__file__).parent / "fixtures" / "errors"
NOW = datetime(2026, 11, 24, 18, 0, tzinfo=timezone.utc)


def run(capsys, args, env=ENV):
    code = cli.main(args, env)
    out, err = capsys.readouterr()
    return code, out, err


def test_call_account_round_trip_against_moto(capsys, moto_endpoint) -> None:
    common = ["--endpoint-url", moto_endpoint]
    code, out, err = run(capsys, ["call", "account", "PutAlternateContact", *common, "--input", json.dumps({
        "AlternateContactType": "BILLING", "EmailAddress": "bill@example.com", "Name": "Bill",
        "PhoneNumber": "+1-555-0100", "Title": "CFO"})])
    assert code == 0, err
    code, out, err = run(capsys, ["call", "account", "GetAlternateContact", "AlternateContactType=BILLING", *common])
    assert code == 0, err
    assert json.loads(out)["AlternateContact"]["EmailAddress"] == "bill@example.com"
    code, out, err = run(capsys, ["call", "account", "DeleteAlternateContact", "AlternateContactType=BILLING", *common])
    assert code == 0, err
    code, out, err = run(capsys, ["call", "account", "GetAlternateContact", "AlternateContactType=BILLING", *common])
    assert code == 1 and err.startswith("ResourceNotFoundException")


def test_call_endpoint_from_environment_and_dry_run(capsys) -> None:
    env = {**ENV, "AWS_ENDPOINT_URL_ACCOUNT": "http://127.0.0.1:9/custom"}
    code, out, _ = run(capsys, ["call", "account", "GetAlternateContact", "AlternateContactType=SECURITY",
                                "--dry-run"], env=env)
    assert code == 0 and out.startswith("POST /custom/getAlternateContact HTTP/1.1")
    assert "/us-east-1/account/aws4_request" in out and SECRET not in out
    code, out, _ = run(capsys, ["call", "account", "ListRegions", "--dry-run", "--region", "eu-west-1"])
    assert "Host: account.us-east-1.amazonaws.com" in out  # a global service signs for us-east-1


AWS_HOST = "account.us-east-1.amazonaws.com"


@pytest.mark.parametrize("ignore, host", [("true", AWS_HOST), ("TRUE", AWS_HOST), ("false", "127.0.0.1:9"),
                                          ("", "127.0.0.1:9")])
def test_call_honours_aws_ignore_configured_endpoint_urls(capsys, ignore, host) -> None:
    # botocore's switch back to AWS's endpoints (an emulator's AWS_ENDPOINT_URL kept set); --endpoint-url still wins
    env = {**ENV, "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ENDPOINT_URL_ACCOUNT": "http://127.0.0.1:9",
           "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": ignore}
    code, out, _ = run(capsys, ["call", "account", "ListRegions", "--dry-run"], env=env)
    assert code == 0 and f"\nHost: {host}\r\n" in out
    code, out, _ = run(capsys, ["call", "account", "ListRegions", "--dry-run", "--endpoint-url", "http://h:1"], env=env)
    assert code == 0 and "\nHost: h:1\r\n" in out


@pytest.mark.parametrize("args, message", [
    (["call", "account", "NoSuchOperation"], "unknown operation 'NoSuchOperation'"),
    (["call", "account", "GetAlternateContact", "AlternateContactType=FOO"], "AlternateContactType"),
    (["call", "account", "PutAccountName", "--input", "{not json"], "--input: not valid JSON"),
    (["call", "nosuchservice", "Op"], "nosuchservice"),
])
def test_call_bad_input_is_one_line_exit_2(capsys, args, message) -> None:
    code, out, err = run(capsys, args)
    assert code == 2 and message in err and err.count("\n") == 1, err


def _signed(tmp_path: Path, perturb=None) -> tuple[Path, sigv4.SigningResult]:
    request = sigv4.Request("POST", "https://account.us-east-1.amazonaws.com/getContactInformation",
                            [("Content-Type", "application/json")], b"{}")
    sent = sigv4.sign(request, sigv4.Credentials("AKIDEXAMPLE", SECRET), region="us-east-1", service="account",
                      timestamp=NOW)
    server_view = perturb(sent.request) if perturb else sent.request
    path = tmp_path / "sent.req"
    path.write_bytes(sigv4.raw.render_request(sent.request, body=b"{}"))
    return path, sigv4.sign(server_view.without_headers(["authorization"]), sigv4.Credentials("AKIDEXAMPLE", SECRET),
                            region="us-east-1", service="account", timestamp=NOW)


def _complaint(tmp_path: Path, fixture: str, server: sigv4.SigningResult) -> Path:
    text = (FIXTURES / fixture).read_text()
    quote = escape if fixture.endswith(".xml") else (lambda s: json.dumps(s)[1:-1])
    body = text.replace("$canonical_request", quote(server.canonical_request)).replace(
        "$string_to_sign", quote(server.string_to_sign))
    path = tmp_path / fixture
    path.write_text(body)
    return path


def test_diff_names_a_header_changed_in_transit(capsys, tmp_path) -> None:
    sent, server = _signed(tmp_path, lambda r: r.with_header("Content-Type", "application/json; charset=utf-8"))
    code, out, _ = run(capsys, ["diff", str(sent), str(_complaint(tmp_path, "json-invalid-signature.json", server))])
    assert code == 0 and "content-type" in out
    code, out, _ = run(capsys, ["diff", str(sent), str(_complaint(tmp_path, "query-signature-does-not-match.xml",
                                                                    server)), "--json"])
    assert "content-type" in json.dumps(json.loads(out))


def test_diff_with_secret_says_the_key_differs(capsys, tmp_path) -> None:
    sent, server = _signed(tmp_path)
    complaint = _complaint(tmp_path, "json-invalid-signature.json", server)
    code, out, _ = run(capsys, ["diff", str(sent), str(complaint), "--secret"],
                       env={**ENV, "AWS_SECRET_ACCESS_KEY": "a-different-secret"})
    assert code == 0 and "secret" in out.lower() and "a-different-secret" not in out


def test_explain_a_curl_capture(capsys, tmp_path) -> None:
    _, server = _signed(tmp_path)
    lines = [f"> {server.request.method} {server.request.target} HTTP/1.1"]
    lines += [f"> {n}: {v}" for n, v in server.request.headers] + [">", "< HTTP/1.1 200 OK", "<"]
    capture = tmp_path / "curl.txt"
    capture.write_text("\n".join(lines) + "\n")
    code, out, err = run(capsys, ["explain", str(capture)])
    assert code == 0, err
    assert SECRET not in out


def test_diff_unreadable_sent_is_exit_2(capsys, tmp_path) -> None:
    junk = tmp_path / "junk"
    junk.write_bytes(b"\x00\x01 nothing")
    code, _, err = run(capsys, ["diff", str(junk), str(junk)])
    assert code == 2 and err.count("\n") == 1


def test_a_saved_send_json_record_feeds_diff(capsys, tmp_path) -> None:
    from local_http import http_server
    raw = tmp_path / "r.req"
    raw.write_bytes(b"POST /getContactInformation HTTP/1.1\nHost: account.us-east-1.amazonaws.com\n"
                    b"Content-Type: application/json\n\n{}")
    with http_server(lambda req, body: (403, [("x-amzn-ErrorType", "InvalidSignatureException")],
                                        b'{"message": "The request signature we calculated does not match"}')) as (url, _):
        code, out, err = run(capsys, ["send", str(raw), "--endpoint", url, "--sign", "--json"])
    assert code == 0, err
    record = tmp_path / "record.json"
    record.write_text(out)
    response = tmp_path / "response.json"
    response.write_text(json.loads(out)["response"]["content"]["text"])
    code, out, err = run(capsys, ["diff", str(record), str(response)])
    assert code == 0, err
    assert "InvalidSignatureException" in out or "signature" in out.lower()


# -- issue 12: explain without credentials, a capture as RESPONSE, --json shape, --pick ------------------------

CAPTURES = Path(__file__).parent / "fixtures" / "capture"
NO_CREDENTIALS = {"HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/nonexistent/c", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/k"}


def test_explain_without_credentials_reports_what_it_can(capsys) -> None:
    code, out, err = run(capsys, ["explain", str(CAPTURES / "curl-v-progress-iam-unsorted.txt"), "--scheme", "http"],
                         env=NO_CREDENTIALS)
    assert code == 0, err
    assert "Signed (Authorization header): AKIDEXAM…/20261129/us-east-1/iam/aws4_request" in out
    assert "[query-order, likely]" in out and "no credentials found, so the signature is not checked" in out
    code, out, err = run(capsys, ["explain", str(CAPTURES / "curl-v-progress-iam-unsorted.txt"), "--scheme", "http",
                                  "--json"], env=NO_CREDENTIALS)
    data = json.loads(out)
    assert data["causes"][0] == {"kind": "query-order", "message": data["causes"][0]["message"], "evidence": "likely",
                                 "ours": None, "theirs": None}
    assert any("no credentials found" in note for note in data["notes"])


def test_explain_with_credentials_proves_the_cause_and_json_shape(capsys) -> None:
    code, out, err = run(capsys, ["explain", str(CAPTURES / "curl-v-progress-iam-unsorted.txt"), "--scheme", "http",
                                  "--json"])
    assert code == 0, err
    data = json.loads(out)
    assert [(c["kind"], c["evidence"]) for c in data["causes"]] == [("query-order", "proved")]
    assert isinstance(data["notes"], list) and SECRET not in out


def test_explain_picks_the_failed_request_and_pick_reads_another(capsys) -> None:
    log = str(CAPTURES / "aws-debug-iam-two-pages.log")
    code, out, err = run(capsys, ["explain", log])
    assert code == 0, err
    assert "[header-changed, proved]" in out and "read request 2 (POST /, 403)" in out and "--pick N" in out
    code, out, err = run(capsys, ["explain", log, "--pick", "1"])
    assert code == 0 and "the server answered 200: it accepted the request" in out and "Causes: none found" in out
    code, _, err = run(capsys, ["explain", log, "--pick", "9"])
    assert code == 2 and "request 9 does not exist" in err and err.count("\n") == 1


def test_diff_reads_the_response_out_of_a_har_or_a_capture(capsys, tmp_path) -> None:
    log = str(CAPTURES / "aws-debug-iam-two-pages.log")
    code, out, err = run(capsys, ["diff", log, log])
    assert code == 0, err
    assert "Server said: 403 SignatureDoesNotMatch [query-xml, signature-mismatch]" in out
    assert "[header-changed, proved]" in out
    har = tmp_path / "empty.har"
    har.write_text(json.dumps({"log": {"version": "1.2", "entries": [
        {"request": {"method": "GET", "url": "https://a.example/", "headers": []}}]}}))
    code, _, err = run(capsys, ["diff", log, str(har)])
    assert code == 2 and "holds no response" in err


def test_explain_reads_what_send_har_printed(capsys, tmp_path) -> None:
    raw = tmp_path / "r.req"
    raw.write_bytes(b"POST /?b=2&a=1 HTTP/1.1\nHost: sts.amazonaws.com\nContent-Type: application/x-www-form-urlencoded\n"
                    b"\nAction=GetCallerIdentity&Version=2011-06-15")
    code, out, err = run(capsys, ["send", str(raw), "--sign", "--har", "--region", "us-east-1", "--service", "sts"])
    assert code == 0, err
    har = tmp_path / "entry.har"
    har.write_text(out)
    code, out, err = run(capsys, ["explain", str(har), "--json"])
    assert code == 0, err
    data = json.loads(out)
    assert data["signature_check"]["ours_matches"] is True and data["causes"] == []
    assert data["params"]["service"] == "sts"


def test_explain_without_the_secret_when_the_server_strings_agree(capsys) -> None:
    """A body edited after signing, before it was sent (`sign > f; sed ... f; send --json`): the server's
    canonical request agrees with the capture, so only the secret can tell the key from the body; the
    report lists both and does not ask for the server's canonical request, which it has."""
    env = {"HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"}
    code, out, err = run(capsys, ["explain", str(CAPTURES / "send-json-serve-body-edited-after-signing.json"),
                                  "--json"], env=env)
    assert code == 0, err
    causes = json.loads(out)["causes"]
    assert causes[0]["evidence"] == "likely" and "payload-hash" in [c["kind"] for c in causes]
    assert not any("or the server's canonical request" in c["message"] for c in causes), causes
    assert all(c["message"].endswith("--secret would settle it") for c in causes), causes
    code, out, err = run(capsys, ["explain", str(CAPTURES / "send-json-serve-body-edited-after-signing.json"),
                                  "--json"], env={**env, "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
                                                  "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"})
    first = json.loads(out)["causes"][0]
    assert (first["kind"], first["evidence"]) == ("payload-hash", "proved")


@pytest.mark.parametrize("with_secret", [False, True])
def test_explain_does_not_blame_the_signature_for_an_error_that_is_not_about_it(capsys, with_secret: bool) -> None:
    """curl --aws-sigv4 against `sigv4 serve`, answered 400 MalformedQueryString: no signature cause is named
    (it was a `secret` cause, first), and a note says the error is not a signature error."""
    env = {"HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"}
    if with_secret:
        env.update(AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE", AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    code, out, err = run(capsys, ["explain", str(CAPTURES / "curl-trace-ascii-serve-malformed-query.txt"), "--scheme",
                                  "http", "--json"], env=env)
    assert code == 0, err
    report = json.loads(out)
    assert report["causes"] == [], report["causes"]
    assert any("MalformedQueryString is not a signature error" in note for note in report["notes"]), report["notes"]
    assert not any("no canonical request" in note for note in report["notes"]), report["notes"]


def test_diff_names_a_server_reading_the_path_differently_when_the_client_signed_right(capsys) -> None:
    """requests-aws4auth `PUT /bucket/ü.txt` to moto: the signature verifies with the secret over our canonical
    request, the server sent no strings. Besides a wrong secret, a server that reads `%C3%BC` differently
    (S3-compatible stores, emulators) is named, as a likely cause, first: the endpoint is not AWS's."""
    env = {"HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCESS_KEY_ID": "AKIARZPUZDIKO73EZUYU",
           "AWS_SECRET_ACCESS_KEY": "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"}
    sent, answer = (str(CAPTURES / f"raw-aws4auth-moto-s3-unicode-key.{ext}") for ext in ("req", "resp"))
    code, out, err = run(capsys, ["diff", sent, answer, "--secret", "--scheme", "http", "--json"], env=env)
    assert code == 0, err
    causes = json.loads(out)["causes"]
    assert [(c["kind"], c["evidence"]) for c in causes] == [("path-encoding", "likely"), ("secret", "likely")], causes
    assert "emulators" in causes[0]["message"] and "`/qa-bucket/%C3%BC.txt`" in causes[0]["message"], causes[0]


MOTO_KEY = {"HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCESS_KEY_ID": "AKIARZPUZDIKKH4RMBY6",
            "AWS_SECRET_ACCESS_KEY": "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"}


@pytest.mark.parametrize("with_secret", [False, True])
def test_a_body_the_log_does_not_show_is_not_proved_changed(capsys, with_secret: bool) -> None:
    """boto3's debug log of an S3 PutObject does not show the body (a BytesIO): its x-amz-content-sha256 is not
    the empty body's hash, and that proves nothing (it was `payload-hash, proved`, first). Right by SigV4 and
    refused by moto: moto's reading of `%2B` is named first, at an endpoint that is not AWS's."""
    env = MOTO_KEY if with_secret else NO_CREDENTIALS
    code, out, err = run(capsys, ["explain", str(CAPTURES / "boto3-debug-moto-s3-put-plus-key.log"), "--scheme",
                                  "http", "--json"], env=env)
    assert code == 0, err
    causes = json.loads(out)["causes"]
    assert "payload-hash" not in [c["kind"] for c in causes], causes
    assert all(c["evidence"] == "likely" for c in causes), causes
    if with_secret:
        assert [c["kind"] for c in causes] == ["path-encoding", "secret"], causes
    else:
        assert "BOTO_DISABLE_CRT=true" in causes[0]["message"], causes[0]


def test_the_aws_clis_s3_ls_refused_by_moto_names_the_query_escapes(capsys) -> None:
    """`aws s3 ls` against moto with signature checks: right by SigV4, refused (moto reads `delimiter=%2F` as
    `/`). The query's escapes come first at this endpoint; at AWS's the rotated key does."""
    log = CAPTURES / "aws-debug-moto-s3-ls.log"
    code, out, err = run(capsys, ["explain", str(log), "--scheme", "http", "--json"], env=MOTO_KEY)
    assert code == 0, err
    causes = json.loads(out)["causes"]
    assert [(c["kind"], c["evidence"]) for c in causes] == [("query-encoding", "likely"), ("secret", "likely")], causes
    assert "`delimiter=%2F`" in causes[0]["message"] and "moto" in causes[0]["message"], causes[0]
    # Without the secret: whoever signed, this endpoint (not AWS's) may read the escapes its own way.
    code, out, err = run(capsys, ["explain", str(log), "--scheme", "http", "--json"], env=NO_CREDENTIALS)
    causes = json.loads(out)["causes"]
    assert [(c["kind"], c["evidence"]) for c in causes] == [("secret", "likely"), ("query-encoding", "likely")], causes
    creds = sigv4.Credentials(MOTO_KEY["AWS_ACCESS_KEY_ID"], MOTO_KEY["AWS_SECRET_ACCESS_KEY"])
    at_aws = sigv4.sign(sigv4.Request("GET", "https://qa-bucket.s3.us-east-1.amazonaws.com/?list-type=2&delimiter=%2F"),
                        creds, region="us-east-1", service="s3", s3=True,
                        timestamp=datetime(2026, 12, 7, 13, 58, 13, tzinfo=timezone.utc)).request  # the log's time
    refusal = parse_capture(log.read_bytes(), scheme="http").answer
    causes = diagnose_answer(at_aws, refusal, secret=creds).causes
    assert [(c.kind, c.evidence) for c in causes] == [("secret", "likely"), ("query-encoding", "likely")], causes


def test_s3s_missing_content_sha256_is_named_not_dismissed(capsys) -> None:
    """curl 7.88 `--aws-sigv4 ...:s3` PUT: S3 answers 400 InvalidRequest "Missing required header for this request:
    x-amz-content-sha256". It was "not a signature error ... no signing cause"; the signer left out a header S3
    requires signed."""
    code, out, err = run(capsys, ["explain", str(CAPTURES / "curl-v-guard-s3-put-no-content-sha256.txt"), "--scheme",
                                  "http", "--json"], env=NO_CREDENTIALS)
    assert code == 0, err
    first = json.loads(out)["causes"][0]
    assert (first["kind"], first["evidence"]) == ("header-unsigned", "proved"), first
    assert "x-amz-content-sha256: UNSIGNED-PAYLOAD" in first["message"], first


def test_a_presigned_url_fetched_by_curl_is_not_blamed_on_curls_signer(capsys) -> None:
    """boto3 presigned a URL with a wrong secret (its query `versionId=...&response-content-type=...` unsorted, as
    botocore sends it); curl fetched it. The User-Agent is curl's, but curl signed nothing: it was
    `query-order, likely ... the client is curl` first; the secret is."""
    capture = str(CAPTURES / "curl-v-guard-s3-presigned-by-boto3-wrong-secret.txt")
    code, out, err = run(capsys, ["explain", capture, "--scheme", "http", "--json"], env=NO_CREDENTIALS)
    assert code == 0, err
    causes = json.loads(out)["causes"]
    assert (causes[0]["kind"], causes[0]["evidence"]) == ("secret", "likely"), causes
    assert "query-order" not in [c["kind"] for c in causes] and "presigner" in causes[0]["message"], causes
    # The guard's strings agree with ours: it read `text%2Fplain` as SigV4 does, so its reading is no suspect.
    assert [c["kind"] for c in causes] == ["secret"], causes
    code, out, err = run(capsys, ["explain", capture, "--scheme", "http", "--json"],
                         env={**MOTO_KEY, "AWS_SECRET_ACCESS_KEY": "wrongsecret"})
    first = json.loads(out)["causes"][0]
    assert (first["kind"], first["evidence"]) == ("secret", "proved"), first


def test_a_url_presigned_for_one_name_of_the_machine_and_fetched_at_another_is_proved(capsys) -> None:
    """A URL presigned for `127.0.0.1:14566` and fetched at `localhost:14566` (an emulator reached by another
    name than the one its URLs were made for): with the secret, the signed Host is found. It was "secret,
    likely: ... does not verify ... over any known signer mistake"."""
    code, out, err = run(capsys, ["explain", str(CAPTURES / "curl-v-guard-s3-presigned-for-127-fetched-at-localhost.txt"),
                                  "--scheme", "http", "--json"], env=MOTO_KEY)
    assert code == 0, err
    first = json.loads(out)["causes"][0]
    assert (first["kind"], first["evidence"]) == ("header-changed", "proved"), first
    assert "`host:127.0.0.1:14566`" in first["message"] and "`Host: localhost:14566`" in first["message"], first


def test_a_botocore_log_without_status_lines_is_read_at_the_request_that_failed(capsys) -> None:
    """boto3's `set_stream_logger("botocore")` logs the answers' bodies but no status: a failed call then an
    accepted one. It read the accepted one ("the last (none failed)") and diagnosed its GetCallerIdentityResponse
    as a refusal; the failed one is the one whose body names an error."""
    code, out, err = run(capsys, ["explain", str(CAPTURES / "boto3-botocore-logger-sts-failed-then-accepted.log"),
                                  "--scheme", "http", "--json"], env=NO_CREDENTIALS)
    assert code == 0, err
    report = json.loads(out)
    assert report["complaint"]["code"] == "SignatureDoesNotMatch", report["complaint"]
    assert any("read request 1 (POST /, status not logged), the last that failed" in n for n in report["notes"])
    assert report["causes"][0]["kind"] == "secret", report["causes"]


def test_a_signed_header_dropped_in_transit_is_named_from_the_guards_words(capsys) -> None:
    """A relay strips the signed `x-amz-checksum-crc32` from boto3's PutObject; the guard (as `sigv4 serve`)
    answers "SignedHeaders: x-amz-checksum-crc32 listed but absent from the request". S3's code for it,
    AuthorizationHeaderMalformed, was read as a wrong region and no cause was named."""
    code, out, err = run(capsys, ["explain", str(CAPTURES / "boto3-debug-relay-drops-signed-checksum-header.log"),
                                  "--scheme", "http", "--json"], env=NO_CREDENTIALS)
    assert code == 0, err
    causes = json.loads(out)["causes"]
    assert [(c["kind"], c["evidence"]) for c in causes] == [("header-dropped", "proved")], causes
    assert "`x-amz-checksum-crc32`" in causes[0]["message"] and "in transit" in causes[0]["message"], causes


def test_a_capture_without_host_is_told_to_add_it_not_proved_to_have_dropped_it(capsys) -> None:
    """requests' `PreparedRequest.headers` have no Host (http.client adds it): a request saved from them was
    `header-dropped, proved: host is listed in SignedHeaders but the request does not carry it`, first,
    though no HTTP/1.1 request reaches a server without one."""
    code, out, err = run(capsys, ["explain", str(CAPTURES / "raw-aws4auth-prepared-headers-without-host.txt"),
                                  "--scheme", "http", "--json"], env=NO_CREDENTIALS)
    assert code == 0, err
    report = json.loads(out)
    assert "header-dropped" not in [c["kind"] for c in report["causes"]], report["causes"]
    assert all(c["evidence"] == "likely" for c in report["causes"]), report["causes"]
    assert any("no Host header" in note and "add the `Host:` line" in note for note in report["notes"])


def test_explain_of_a_mistyped_file_name_says_there_is_no_such_file(capsys, tmp_path) -> None:
    """`explain` also takes a token or a URL as its argument; a file name that does not exist was reported as
    "capture: not raw HTTP, curl -v or --trace output, ..." as if the file had been read."""
    code, _, err = run(capsys, ["explain", str(tmp_path / "capture.txt")], env=NO_CREDENTIALS)
    assert code == 2 and err == f"sigv4: error: {tmp_path / 'capture.txt'}: no such file, and not a token, a signed URL or " \
        "a capture\n", err


def test_what_the_client_logged_is_called_the_clients_not_ours(capsys) -> None:
    """awscurl encodes `prefix=a%20b` again and logs what it signed; the cause compared that with the server's
    strings but called the client's side "ours" (`query parameter prefix: ours a%2520b`), as if the debugger
    had computed it. The secret awscurl -v prints with its arguments is never repeated."""
    code, out, err = run(capsys, ["explain", str(CAPTURES / "awscurl-v-guard-s3-query-encoded-twice.txt"), "--scheme",
                                  "http"], env=NO_CREDENTIALS)
    assert code == 0, err
    assert "[query-encoding, proved] the client logged what it signed, and the server's differs: query parameter " \
           "`prefix`: the client's `a%2520b`, the server's `a%20b`" in out, out
    assert "jc+zYyevYmUGP4lhmX9+23iWLNOllFAh3R1W85Bp" not in out


def test_the_secret_is_named_once_however_many_sources_prove_it(capsys) -> None:
    """`aws s3 cp --debug` (botocore's Python signer) with a wrong secret, explained with the right one: the logged
    strings prove the key, and the given secret's check says the same; the report listed `secret` twice."""
    code, out, err = run(capsys, ["explain", str(CAPTURES / "aws-debug-python-signer-guard-s3-cp-wrong-secret.log"),
                                  "--scheme", "http", "--json"], env=MOTO_KEY)
    assert code == 0, err
    causes = json.loads(out)["causes"]
    assert [(c["kind"], c["evidence"]) for c in causes] == [("secret", "proved")], causes


def test_a_clienterror_as_a_script_prints_it_is_read_with_its_code(capsys, tmp_path) -> None:
    """What a boto3 script shows of the answer is `str(ClientError)`: "An error occurred (AuthFailure) when calling
    the DescribeVpcs operation: ...". Its code was not read ("(no code)"), so EC2's AuthFailure (an unknown key id)
    came after the secret."""
    signed = sigv4.sign(sigv4.Request("POST", "https://ec2.us-east-1.amazonaws.com/", [
        ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"), ("User-Agent", "Boto3/1.35.0")],
        b"Action=DescribeVpcs&Version=2016-11-15"), sigv4.Credentials("AKIDEXAMPLE", SECRET), region="us-east-1",
        service="ec2", timestamp=NOW).request
    sent, error = tmp_path / "sent.req", tmp_path / "error.txt"
    head = "".join(f"{name}: {value}\r\n" for name, value in signed.headers)
    sent.write_bytes(f"POST / HTTP/1.1\r\n{head}\r\nAction=DescribeVpcs&Version=2016-11-15".encode())
    error.write_text("botocore.exceptions.ClientError: An error occurred (AuthFailure) when calling the DescribeVpcs "
                     "operation: AWS was not able to validate the provided access credentials\n")
    code, out, err = run(capsys, ["diff", str(sent), str(error), "--json"], env=NO_CREDENTIALS)
    assert code == 0, err
    report = json.loads(out)
    assert report["complaint"]["code"] == "AuthFailure", report["complaint"]
    assert [c["kind"] for c in report["causes"]][:2] == ["access-key", "secret"], report["causes"]


@pytest.mark.parametrize("error", ["boto3-botocore-logger-serve-sts-call-invalid-action.log", "clienterror"])
def test_an_error_without_status_that_no_signature_refusal_carries_names_no_signing_cause(capsys, tmp_path,
                                                                                          error: str) -> None:
    """An answer whose status was not captured (botocore's logger alone; botocore's ClientError text) with a code
    such as InvalidAction or ValidationException: it got `secret, likely` first, as if it were a refusal."""
    capture = str(CAPTURES / "boto3-botocore-logger-serve-sts-call-invalid-action.log")
    args = ["explain", capture]
    if error == "clienterror":
        text = tmp_path / "error.txt"
        text.write_text("An error occurred (ValidationException) when calling the GetCallerIdentity operation: 1 "
                        "validation error detected\n")
        args = ["diff", capture, str(text)]
    code, out, err = run(capsys, [*args, "--scheme", "http", "--json"], env=NO_CREDENTIALS)
    assert code == 0, err
    report = json.loads(out)
    assert report["causes"] == [], report["causes"]
    assert any("(status not captured)" in n and "is not a signature error" in n for n in report["notes"]), report


def test_a_query_re_encoded_on_the_way_is_not_blamed_on_the_server(capsys) -> None:
    """`aws s3api list-objects-v2 --prefix "a b" --debug` through a relay that re-encodes the query form-style: the
    client sent `prefix=a%20b`, the guard read `a+b`. The cause said "the server read a space as a literal `+`",
    sending the user to the server; the `+` was written on the way."""
    code, out, err = run(capsys, ["explain", str(CAPTURES / "aws-debug-relay-reencodes-query-plus-for-space.log"),
                                  "--scheme", "http", "--json"], env=NO_CREDENTIALS)
    assert code == 0, err
    first = json.loads(out)["causes"][0]
    assert (first["kind"], first["evidence"]) == ("plus-space", "proved"), first
    assert "re-encoded on the way" in first["message"] and "the server read a space" not in first["message"], first


def test_a_path_encoded_again_on_the_way_is_not_blamed_on_the_signer(capsys) -> None:
    """curl `--aws-sigv4` GET of `my%20file(1).txt` through a relay that encodes the path again: the guard's
    CanonicalRequest has `my%2520file`. The server's string was explained by a signer's habit ("a signer using the
    generic rule for S3"), though curl signed the path as sent: the path changed between client and server."""
    code, out, err = run(capsys, ["explain", str(CAPTURES / "curl-v-relay-encodes-s3-path-again.txt"), "--scheme",
                                  "http", "--json"], env=NO_CREDENTIALS)
    assert code == 0, err
    first = json.loads(out)["causes"][0]
    assert (first["kind"], first["evidence"]) == ("path-encoding", "proved"), first
    assert "my%2520file" in first["message"] and "between the client and the server" in first["message"], first
    assert "a signer" not in first["message"], first


def test_a_capture_without_host_takes_the_servers_host_when_it_sent_its_canonical_request(capsys) -> None:
    """requests-aws4auth's request printed from `PreparedRequest.headers` (no Host: http.client adds it), refused
    with S3's CanonicalRequest. The first cause was "header `host`: ours ``, the server's `127.0.0.1:14600`:
    changed after signing", proved, though the Host was never missing; the real cause (aws4auth signs the space
    requests sends as `+` as `%20`) was hidden."""
    capture = str(CAPTURES / "raw-aws4auth-prepared-no-host-guard-s3-list-plus.txt")
    code, out, err = run(capsys, ["explain", capture, "--scheme", "http", "--json"], env=NO_CREDENTIALS)
    assert code == 0, err
    report = json.loads(out)
    assert "host" not in " ".join(c["message"] for c in report["causes"] if c["evidence"] == "proved"), report
    assert report["causes"][0]["kind"] == "plus-space", report["causes"]
    assert any("host:127.0.0.1:14600" in note for note in report["notes"]), report["notes"]
    code, out, err = run(capsys, ["explain", capture, "--scheme", "http", "--json"], env={
        **NO_CREDENTIALS, "AWS_ACCESS_KEY_ID": "AKIDQATEST0000000001",
        "AWS_SECRET_ACCESS_KEY": "qa/testsecret+key0000000000000000000000"})
    first = json.loads(out)["causes"][0]
    assert (first["kind"], first["evidence"]) == ("plus-space", "proved"), first
    assert "qa/testsecret" not in out


JS_KEY = {**NO_CREDENTIALS, "AWS_ACCESS_KEY_ID": "AKIDQATEST0000000001"}


def test_the_javascript_sdks_printed_request_and_error_are_a_capture(capsys, tmp_path) -> None:
    """What a JavaScript SDK v3 user has: `console.log(args.request)` in a middleware and `console.error(err)`.
    Neither was read ("capture: not raw HTTP, ..."), and the printed error as `diff`'s RESPONSE had no code."""
    capture = CAPTURES / "js-sdk-v3-s3-put-wrong-secret.txt"
    code, out, err = run(capsys, ["explain", str(capture), "--scheme", "http", "--json"], env=NO_CREDENTIALS)
    assert code == 0, err
    report = json.loads(out)
    assert (report["complaint"]["code"], report["complaint"]["status"]) == ("SignatureDoesNotMatch", 403), report
    assert [(c["kind"], c["evidence"]) for c in report["causes"]] == [("secret", "likely")], report["causes"]
    # The request is rebuilt exactly as it went out: with the secret it was signed with, the signature verifies.
    code, out, err = run(capsys, ["explain", str(capture), "--scheme", "http", "--json"],
                         env={**JS_KEY, "AWS_SECRET_ACCESS_KEY": "wrongsecret"})
    first = json.loads(out)["causes"][0]
    assert (first["kind"], first["evidence"]) == ("secret", "proved"), first
    assert "wrongsecret" not in out
    text = capture.read_text()
    sent, error = tmp_path / "request.txt", tmp_path / "error.txt"
    sent.write_text(text[text.index("HttpRequest {"):text.index("SignatureDoesNotMatch:")])
    error.write_text(text[text.index("SignatureDoesNotMatch:"):])
    code, out, err = run(capsys, ["diff", str(sent), str(error), "--json"], env=NO_CREDENTIALS)
    assert code == 0, err
    report = json.loads(out)
    assert report["complaint"]["code"] == "SignatureDoesNotMatch" and report["complaint"]["status"] == 403, report
    assert [c["kind"] for c in report["causes"]] == ["secret"], report["causes"]


def test_the_javascript_sdks_query_re_encoded_on_the_way_is_named(capsys) -> None:
    """ListObjectsV2 `Prefix: "a b+c"` (sent `a%20b%2Bc`) through a relay that writes the space as `+`."""
    code, out, err = run(capsys, ["explain", str(CAPTURES / "js-sdk-v3-s3-list-relay-reencodes-query.txt"),
                                  "--scheme", "http", "--json"], env=NO_CREDENTIALS)
    assert code == 0, err
    first = json.loads(out)["causes"][0]
    assert (first["kind"], first["evidence"]) == ("plus-space", "proved"), first
    assert "re-encoded on the way" in first["message"], first


def test_a_request_time_changed_on_the_way_is_not_a_clock_skew(capsys) -> None:
    """S3's RequestTimeTooSkewed with RequestTime 17:00:00, for a request the log shows signed at 17:15:25, the
    server's own time: X-Amz-Date was replaced after signing. The cause was "clock skew ... sync the clock", for a
    clock that was right."""
    code, out, err = run(capsys, ["explain", str(CAPTURES / "boto3-debug-guard-s3-get-amz-date-replaced-after-"
                                                            "signing.log"), "--scheme", "http", "--json"],
                         env=NO_CREDENTIALS)
    assert code == 0, err
    causes = json.loads(out)["causes"]
    assert (causes[0]["kind"], causes[0]["evidence"]) == ("header-changed", "proved"), causes
    assert "X-Amz-Date" in causes[0]["message"] and "clock-skew" not in [c["kind"] for c in causes], causes


def test_a_stale_session_token_is_proved_by_the_credentials_given(capsys) -> None:
    """The JavaScript SDK sent an old session token (400 InvalidToken). Explained with the user's current
    credentials (another token for the same key), it stayed "the session token is invalid for this key ...,
    likely", beside an unknown key; the credentials show the token sent is not theirs. Neither token is printed."""
    capture = str(CAPTURES / "js-sdk-v3-s3-get-stale-session-token.txt")
    current = "FwoGZXIvYXdzEQATESTSESSIONTOKENqa0123456789abcdefTOKEN"
    code, out, err = run(capsys, ["explain", capture, "--scheme", "http", "--json"], env={
        **NO_CREDENTIALS, "AWS_ACCESS_KEY_ID": "ASIAQATEST0000000002",
        "AWS_SECRET_ACCESS_KEY": "qa/tempsecret+key000000000000000000000000", "AWS_SESSION_TOKEN": current})
    assert code == 0, err
    causes = json.loads(out)["causes"]
    assert [(c["kind"], c["evidence"]) for c in causes] == [("token", "proved")], causes
    assert "stale" in causes[0]["message"], causes
    assert "abcdefOLDTK" not in out and current not in out and "qa/tempsecret" not in out


def test_a_javascript_request_printed_before_signing_says_where_to_print_it(capsys) -> None:
    """A middleware at the `build` step prints the request before the SDK signs it. The first cause was
    "algorithm, proved: ... not signed", for a request that reached the server signed."""
    code, out, err = run(capsys, ["explain", str(CAPTURES / "js-sdk-v3-s3-put-printed-at-build-step.txt")],
                         env=NO_CREDENTIALS)
    assert (code, out) == (2, ""), out
    assert "printed before the SDK signed it" in err and 'step: "finalizeRequest"' in err and err.count("\n") == 1


def test_aws4s_printed_options_and_answer_are_a_capture(capsys) -> None:
    """mhart/aws4 users print the signed options (`console.log(opts)`) and the answer: it was read as a broken HAR
    ("HAR: not JSON"). The body rebuilt after signing is proved with the secret."""
    capture = str(CAPTURES / "aws4-node-sts-body-rebuilt-after-signing.txt")
    code, out, err = run(capsys, ["explain", capture, "--scheme", "http", "--json"],
                         env={**JS_KEY, "AWS_SECRET_ACCESS_KEY": "qa/testsecret+key0000000000000000000000"})
    assert code == 0, err
    report = json.loads(out)
    assert (report["complaint"]["code"], report["complaint"]["status"]) == ("SignatureDoesNotMatch", 403), report
    first = report["causes"][0]
    assert (first["kind"], first["evidence"]) == ("payload-hash", "proved") and "another order" in first["message"]
    assert "qa/testsecret" not in out


@pytest.mark.parametrize("status", ["²", "4030000000000000000000", "99"])
def test_a_printed_javascript_error_with_an_odd_status_is_read_without_it(capsys, tmp_path, status) -> None:
    """`$metadata.httpStatusCode: ²` passed `str.isdigit` and made int() raise: a traceback from `diff`."""
    sent, _ = _signed(tmp_path)
    answer = tmp_path / "err.txt"
    answer.write_text("SignatureDoesNotMatch: m\n    at f (a.js:1:1) {\n  '$metadata': { httpStatusCode: "
                      f"{status} }}\n}}\n")
    code, out, err = run(capsys, ["diff", str(sent), str(answer), "--json"], env=NO_CREDENTIALS)
    assert code == 0, err
    complaint = json.loads(out)["complaint"]
    assert (complaint["code"], complaint["status"]) == ("SignatureDoesNotMatch", None), complaint


def test_aws4s_options_printed_unsigned_say_to_print_them_after_signing(capsys, tmp_path) -> None:
    """aws4's options printed before `aws4.sign` were told to add an SDK middleware at `finalizeRequest`."""
    printed = tmp_path / "opts.txt"
    printed.write_text("{\n  host: 'sts.amazonaws.com',\n  path: '/',\n  headers: { 'Content-Type': 'x' }\n}\n")
    code, out, err = run(capsys, ["explain", str(printed)], env=NO_CREDENTIALS)
    assert (code, out) == (2, "") and err.count("\n") == 1, err
    assert "after `aws4.sign(" in err and "finalizeRequest" not in err, err
