"""`cli.py sign`: output forms, credential sources, errors, and secrets never printed."""

from __future__ import annotations

import json
import re
import stat
import sys
from pathlib import Path

import pytest
from freezegun import freeze_time

import cli
from cli_run import run_cli
from wire.endpoints import GLOBAL_ENDPOINT_REGIONS

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLETOKEN"
ENV = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": SECRET, "HOME": "/nonexistent"}
REQ = b"GET /?Param1=value1 HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z"
SUITE_SIGNATURE = "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"


def run(capsys, args, env=ENV, stdin: bytes | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", type("S", (), {"buffer": __import__("io").BytesIO(stdin)})())
    code = cli.main(args, env)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def req_file(tmp_path: Path) -> str:
    path = tmp_path / "get.req"
    path.write_bytes(REQ)
    return str(path)


def test_sign_prints_the_signed_request(capsys, req_file) -> None:
    code, out, err = run(capsys, ["sign", req_file, "--service", "service", "--date", "20150830T123600Z"])
    assert code == 0 and err == ""
    # The HTTP message exactly: the head ends with a blank line, the request's own line ends (LF here).
    assert out.endswith(f"SignedHeaders=host;x-amz-date, Signature={SUITE_SIGNATURE}\n\n")
    assert out.startswith("GET /?Param1=value1 HTTP/1.1\nHost:example.amazonaws.com\n")


def test_sign_json_has_the_documented_keys(capsys, req_file) -> None:
    code, out, _ = run(capsys, ["sign", req_file, "--service", "service", "--date", "20150830T123600Z", "--json"])
    record = json.loads(out)
    assert {"canonical_request", "string_to_sign", "signature", "authorization", "signed_request"} <= set(record)
    assert record["signature"] == SUITE_SIGNATURE
    code, out, _ = run(capsys, ["sign", req_file, "--service", "service", "--date", "20150830T123600Z",
                                "--json", "--presign", "--expires", "60"])
    record = json.loads(out)
    assert "X-Amz-Expires=60" in record["url"] and "authorization" not in record


def test_sign_from_stdin_infers_service_and_region(capsys, monkeypatch) -> None:
    raw = b"GET / HTTP/1.1\nHost: account.eu-west-1.amazonaws.com\n\n"
    code, out, _ = run(capsys, ["sign", "-", "--json"], stdin=raw, monkeypatch=monkeypatch)
    assert "/eu-west-1/account/aws4_request" in json.loads(out)["authorization"]


def test_an_absolute_form_target_without_host_infers_the_scope_from_its_url(capsys, monkeypatch, tmp_path) -> None:
    """`GET https://iam.amazonaws.com/... HTTP/1.1` (a proxy's request line, no Host): before, `--service:
    required`, though the URL names the service."""
    raw = b"GET https://account.eu-west-1.amazonaws.com/?a=1 HTTP/1.1\n\n"
    code, out, err = run(capsys, ["sign", "-"], stdin=raw, monkeypatch=monkeypatch)
    assert code == 0 and "/eu-west-1/account/aws4_request" in out, err
    (tmp_path / "signed.req").write_text(out)
    code, out, err = run(capsys, ["verify", str(tmp_path / "signed.req")])
    assert code == 0 and out.startswith("OK: ") and "/eu-west-1/account" in out, (out, err)


@freeze_time("2021-02-01 10:20:30")
def test_default_date_is_now(capsys, req_file) -> None:
    _, out, _ = run(capsys, ["sign", req_file, "--service", "service", "--json"])
    assert json.loads(out)["string_to_sign"].split("\n")[1] == "20210201T102030Z"


def test_explain_walks_every_step_and_masks_secrets(capsys, req_file) -> None:
    env = {**ENV, "AWS_SESSION_TOKEN": TOKEN}
    code, out, _ = run(capsys, ["sign", req_file, "--service", "service", "--date", "20150830T123600Z",
                                "--explain"], env=env)
    assert code == 0
    for step in ("Canonical request", "String-to-sign", "Credential scope", "kSigning", "Signature ="):
        assert step in out
    assert "x-amz-date:20150830T123600Z↵" in out
    assert SECRET not in out and TOKEN not in out


def test_profiles_and_credential_process(capsys, req_file, tmp_path) -> None:
    creds = tmp_path / "credentials"
    creds.write_text(f"[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = {SECRET}\n")
    script = tmp_path / "proc.sh"
    script.write_text('#!/bin/sh\necho \'{"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": "s3cr3t", '
                      '"SessionToken": "tok", "Expiration": "2030-01-01T00:00:00Z"}\'\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    config = tmp_path / "config"
    config.write_text(f"[profile proc]\ncredential_process = {script}\nregion = ap-south-1\n")
    env = {"AWS_SHARED_CREDENTIALS_FILE": str(creds), "AWS_CONFIG_FILE": str(config)}
    _, out, _ = run(capsys, ["sign", req_file, "--service", "s", "--profile", "dev", "--json"], env=env)
    assert "Credential=AKIDDEV/" in json.loads(out)["authorization"]
    _, out, _ = run(capsys, ["sign", req_file, "--service", "s", "--json"], env={**env, "AWS_PROFILE": "proc"})
    record = json.loads(out)
    assert "Credential=AKIDPROC/" in record["authorization"] and "/ap-south-1/s/" in record["authorization"]
    # The credential process's token signs and travels: the JSON's signed request replays.
    assert "X-Amz-Security-Token:tok\n" in record["signed_request"] and "x-amz-security-token:tok\n" in \
        record["canonical_request"] and "SignedHeaders=host;x-amz-date;x-amz-security-token" in out


@pytest.mark.parametrize("args, env, message", [
    (["sign", "/no/such/file"], ENV, "/no/such/file: cannot read"),
    (["sign", "{req}", "--service", "s", "--date", "yesterday"], ENV, "--date 'yesterday': expected YYYYMMDDTHHMMSSZ"),
    (["sign", "{req}", "--service", "s"], {"HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"},
     "no credentials"),
    (["sign", "{bad}"], ENV, "request line"),
    (["sign", "{req}", "--service", "s", "--presign", "--expires", "0"], ENV, "expires: 0 is out of range"),
    (["frobnicate"], ENV, "invalid choice"),
    (["verify", "{req}", "--now", "2026-01-01"], ENV, "--now '2026-01-01': expected YYYYMMDDTHHMMSSZ"),
    (["sign", "{req}", "--region", ""], ENV, "--region: empty (an unset shell variable?)"),  # was the default, unsaid
    (["sign", "{req}", "--service", "", "--presign"], ENV, "--service: empty"),
    (["sign", "--presign-post", "--bucket", "b", "--key", "k", "--region", ""], ENV, "--region: empty"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, req_file, args, env, message) -> None:
    bad = tmp_path / "bad.req"
    bad.write_bytes(b"this is not http\n\n")
    args = [a.format(req=req_file, bad=bad) for a in args]
    code, out, err = run(capsys, args, env=env)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


@pytest.mark.parametrize("body", [b"hello\n", b"hell"])
def test_a_content_length_other_than_the_body_is_refused_in_one_line(capsys, tmp_path, body) -> None:
    path = tmp_path / "put.req"
    path.write_bytes(b"PUT /k HTTP/1.1\r\nHost: example.amazonaws.com\r\nContent-Length: 5\r\n\r\n" + body)
    for command in (["sign"], ["send", "--sign", "--endpoint", "http://127.0.0.1:9"]):
        code, out, err = run(capsys, [*command, str(path), "--service", "svc"])
        assert code == 2 and out == "" and err.count("\n") == 1
        assert f"Content-Length: 5 but the body is {len(body)} bytes" in err


def test_a_key_id_without_its_secret_names_the_missing_variable(capsys, req_file) -> None:
    # botocore: "Partial credentials found in env, missing: AWS_SECRET_ACCESS_KEY"
    env = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"}
    for command in (["sign", req_file, "--service", "s"], ["whoami"]):
        code, out, err = run(capsys, command, env=env)
        assert (code, out) == (2, "") and err == ("sigv4: error: partial credentials found in the environment, "
                                                  "missing: AWS_SECRET_ACCESS_KEY\n")


def test_no_output_contains_the_secret(capsys, req_file) -> None:
    env = {**ENV, "AWS_SESSION_TOKEN": TOKEN}
    for extra in ([], ["--json"], ["--explain"], ["--presign"], ["--presign", "--json"], ["--presign", "--explain"]):
        code, out, err = run(capsys, ["sign", req_file, "--service", "service", *extra], env=env)
        assert code == 0 and SECRET not in out + err and (TOKEN in out) == ("--explain" not in extra), extra


def test_show_secrets_reveals_the_token_but_never_the_secret_key(capsys, req_file) -> None:
    env = {**ENV, "AWS_SESSION_TOKEN": TOKEN}
    _, out, _ = run(capsys, ["sign", req_file, "--service", "service", "--explain", "--show-secrets"], env=env)
    assert f"x-amz-security-token:{TOKEN}" in out and SECRET not in out


def test_sign_v4a_with_region_set_then_verify(capsys, req_file, tmp_path) -> None:
    code, out, _ = run(capsys, ["sign", req_file, "--service", "s3", "--algorithm", "v4a",
                                "--region-set", "us-east-1,us-west-2", "--date", "20150830T123600Z"])
    assert code == 0 and "AWS4-ECDSA-P256-SHA256 Credential=AKIDEXAMPLE/20150830/s3/aws4_request" in out
    assert "X-Amz-Region-Set:us-east-1,us-west-2" in out
    signed = tmp_path / "signed.req"
    signed.write_text(out)
    code, out, _ = run(capsys, ["verify", str(signed), "--now", "20150830T123900Z"])
    assert code == 0 and out.startswith("OK: AWS4-ECDSA-P256-SHA256 signature by AKIDEXAMPLE")


def test_verify_reports_reason_and_expected_strings(capsys, req_file, tmp_path) -> None:
    _, out, _ = run(capsys, ["sign", req_file, "--service", "service", "--date", "20150830T123600Z"])
    tampered = tmp_path / "tampered.req"
    tampered.write_text(out.replace("Param1=value1", "Param1=value2"))
    code, out, _ = run(capsys, ["verify", str(tampered), "--now", "20150830T123600Z"])
    assert code == 1 and out.startswith("FAILED (signature_mismatch)")
    assert "Expected canonical request:" in out and "Param1=value2↵" in out and SECRET not in out
    code, out, _ = run(capsys, ["verify", str(tampered), "--now", "20150830T133600Z"])
    assert code == 1 and out.startswith("FAILED (skew)")


def test_sign_chunked_with_trailer_and_v2(capsys, tmp_path, monkeypatch) -> None:
    put = b"PUT /b/k HTTP/1.1\nHost:s3.amazonaws.com\n\n" + b"a" * 10000
    code, out, _ = run(capsys, ["sign", "-", "--service", "s3", "--s3", "--chunked", "--chunk-size", "8192",
                                "--trailer", "crc32", "--date", "20150830T123600Z"], stdin=put, monkeypatch=monkeypatch)
    assert code == 0 and "X-Amz-Decoded-Content-Length:10000" in out and "x-amz-checksum-crc32:" in out
    assert out.count(";chunk-signature=") == 3  # two data chunks and the final empty chunk
    get = b"GET /?Action=DescribeJobFlows&Version=2009-03-31 HTTP/1.1\nHost:elasticmapreduce.amazonaws.com\n\n"
    code, out, _ = run(capsys, ["sign", "-", "--algorithm", "v2", "--explain"], stdin=get, monkeypatch=monkeypatch)
    assert code == 0 and "SigV2 string-to-sign" in out and "SignatureVersion=2" in out


def test_sign_presign_scheme_http_prints_an_http_url(capsys, tmp_path) -> None:
    # `sign --presign` of a request with only a Host header once printed https:// with no way to ask for http.
    req = tmp_path / "local.req"
    req.write_bytes(b"GET /bkt/k HTTP/1.1\r\nHost: 127.0.0.1:9000\r\n\r\n")
    args = ["sign", str(req), "--presign", "--service", "s3", "--date", "20150830T123600Z"]
    code, out, _ = run(capsys, [*args, "--scheme", "http"])
    assert code == 0 and out.startswith("http://127.0.0.1:9000/bkt/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&")
    code, https, _ = run(capsys, args)
    assert code == 0 and https == "https" + out[4:]  # the scheme is not signed: the same signature
    code, _, err = run(capsys, [*args, "--scheme", "ftp"])
    assert code == 2 and err.count("\n") == 1 and "--scheme" in err


def test_help_texts_read_right(capsys) -> None:
    def help_of(*args: str) -> str:
        with pytest.raises(SystemExit):
            run(capsys, [*args, "--help"])
        return " ".join(capsys.readouterr().out.split())  # argparse wraps lines: compare words

    token_help = help_of("token")
    assert " a eks" not in token_help and " a elasticache" not in token_help and " a msk" not in token_help
    for kind in ("eks", "msk", "elasticache"):  # no host to take a region from
        assert "default: AWS_REGION, the profile's, us-east-1" in help_of("token", kind), kind
    assert "default: the host's region, AWS_REGION" in help_of("token", "rds")
    assert re.search(r"--profile PROFILE \S", help_of("verify"))  # described, not bare
    assert "seconds a region takes to change (default 60)" in help_of("serve")


def test_a_region_the_host_names_wins_over_the_profiles(tmp_path: Path) -> None:
    """With AWS_DEFAULT_REGION=us-east-1 (set once, for most work), a request to sqs.eu-west-1 was signed for
    us-east-1, which SQS in eu-west-1 refuses; a global host still takes the profile's region, --region decides."""
    request = tmp_path / "r.req"
    env = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_DEFAULT_REGION": "us-east-1",
           "HOME": "/nonexistent"}
    for host, args, scope in [("sqs.eu-west-1.amazonaws.com", [], "/eu-west-1/sqs/"),
                              ("sqs.eu-west-1.amazonaws.com", ["--region", "eu-central-1"], "/eu-central-1/sqs/"),
                              ("runtime.sagemaker.ap-south-1.amazonaws.com", ["--service", "sagemaker"],
                               "/ap-south-1/sagemaker/"),
                              ("bucket.s3.amazonaws.com", [], "/us-east-1/s3/")]:
        request.write_text(f"GET / HTTP/1.1\nHost: {host}\n\n")
        code, out, err = run_cli(["sign", str(request), *args], env)
        assert (code, err) == (0, "") and scope in out.decode(), (host, out)
    code, out, _ = run_cli(["sign", str(request)], dict(env, AWS_DEFAULT_REGION="eu-west-1"))
    assert code == 0 and "/eu-west-1/s3/" in out.decode()  # S3's global name serves each bucket in its region
    # A global service's one endpoint answers only us-east-1's scope (IAM refused the eu-west-1 it was signed for).
    for host, scope in [("iam.amazonaws.com", "/us-east-1/iam/"), ("sts.amazonaws.com", "/us-east-1/sts/"),
                        ("route53.amazonaws.com", "/us-east-1/route53/")]:
        request.write_text(f"GET / HTTP/1.1\nHost: {host}\n\n")
        code, out, _ = run_cli(["sign", str(request)], dict(env, AWS_DEFAULT_REGION="eu-west-1"))
        assert code == 0 and scope in out.decode(), (host, out)
    # The oracle: botocore's global endpoints without a region in their host name (but S3's, above).
    import botocore
    endpoints = json.loads((Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
    aws = next(partition for partition in endpoints["partitions"] if partition["partition"] == "aws")
    for service in aws["services"].values():
        endpoint = service["endpoints"].get(service.get("partitionEndpoint"), {})
        if endpoint.get("hostname", "").count(".") == 2 and endpoint["hostname"] != "s3.amazonaws.com":
            assert GLOBAL_ENDPOINT_REGIONS[endpoint["hostname"]] == endpoint["credentialScope"]["region"]
