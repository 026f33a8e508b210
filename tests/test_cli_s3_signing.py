"""The CLI's S3 signing: `sign --presign-post` (text, JSON, masking, bad input), a crc64nvme-trailer upload
signed and then verified from the saved file, and a presigned POST form uploaded to moto's S3 server."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
from pathlib import Path
from datetime import datetime, timezone
from typing import Any

import boto3
import pytest
import requests

import cli
import sigv4
from sigv4.checksums import checksum_value

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE/TOKEN=="
ENV = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": SECRET, "HOME": "/nonexistent"}
WHEN = "20240304T050607Z"


def run(capsys: Any, args: list[str], env: dict[str, str] = ENV) -> tuple[int, str, str]:
    code = cli.main(args, env)
    out, err = capsys.readouterr()
    return code, out, err


def test_presign_post_prints_url_then_fields(capsys: Any) -> None:
    code, out, _ = run(capsys, ["sign", "--presign-post", "--bucket", "photos", "--key", "up/${filename}",
                                "--condition", '["starts-with", "$Content-Type", "image/"]',
                                "--condition", '["content-length-range", 1, 1048576]',
                                "--field", "Content-Type=image/png", "--region", "eu-west-3", "--date", WHEN,
                                "--expires", "600"])
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "https://photos.s3.eu-west-3.amazonaws.com/"
    fields = dict(line.split("=", 1) for line in lines[1:])
    assert list(fields) == ["Content-Type", "key", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "policy",
                            "x-amz-signature"]
    assert fields["x-amz-credential"] == "AKIDEXAMPLE/20240304/eu-west-3/s3/aws4_request"
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert policy["expiration"] == "2024-03-04T05:16:07Z"
    assert ["content-length-range", 1, 1048576] in policy["conditions"]
    assert SECRET not in out


def test_presign_post_field_without_a_condition_gets_an_exact_one(capsys: Any) -> None:
    """`--field x-amz-meta-owner=ann` alone: S3 (and `verify_post`) refused the upload, "no policy condition covers
    it"; the field now gets its exact condition, one the user wrote is kept, and the form verifies."""
    code, out, err = run(capsys, ["sign", "--presign-post", "--bucket", "b", "--key", "k", "--date", WHEN, "--json",
                                  "--field", "x-amz-meta-owner=ann", "--field", "Content-Type=image/png",
                                  "--condition", '["starts-with", "$Content-Type", "image/"]', "--field", "x-ignore-a=1"])
    fields = json.loads(out)["fields"]
    conditions = json.loads(base64.b64decode(fields["policy"]))["conditions"]
    assert code == 0 and {"x-amz-meta-owner": "ann"} in conditions and {"Content-Type": "image/png"} not in conditions
    assert not any("x-ignore-a" in json.dumps(condition) for condition in conditions), conditions
    creds = sigv4.Credentials("AKIDEXAMPLE", SECRET)
    identity = sigv4.verify_post(fields, {"AKIDEXAMPLE": creds}.get, now=datetime(2024, 3, 4, 5, 10,
                                                                                    tzinfo=timezone.utc), bucket="b")
    assert identity.access_key_id == "AKIDEXAMPLE"


def test_presign_post_json_carries_the_token_and_policy_the_upload_needs(capsys: Any) -> None:
    env = {**ENV, "AWS_SESSION_TOKEN": TOKEN}
    args = ["sign", "--presign-post", "--bucket", "b", "--key", "k", "--date", WHEN, "--json"]
    code, out, _ = run(capsys, args, env)
    record = json.loads(out)
    assert code == 0 and set(record) == {"url", "fields"}
    fields = record["fields"]
    assert fields["x-amz-security-token"] == TOKEN and TOKEN in base64.b64decode(fields["policy"]).decode()
    assert SECRET not in out


@pytest.mark.parametrize("extra, message", [
    (["--condition", "[starts-with"], "condition '[starts-with': not JSON"),
    (["--condition", '["starts-with", "$bucket", "x"]'], "only an exact match"),
    (["--condition", '["content-length-range", 9, 1]'], "0 <= minimum <= maximum"),
    (["--field", "no-equals-sign"], "--field 'no-equals-sign': expected NAME=VALUE"),
    (["--expires", "0"], "expires"),
    (["--service", "sqs"], "service"),
])
def test_presign_post_bad_input_is_one_line_and_exit_2(capsys: Any, extra: list[str], message: str) -> None:
    code, out, err = run(capsys, ["sign", "--presign-post", "--bucket", "b", "--key", "k", *extra])
    assert code == 2 and out == "" and message in err and err.count("\n") == 1 and "Traceback" not in err


def test_presign_post_needs_bucket_and_key(capsys: Any) -> None:
    code, _, err = run(capsys, ["sign", "--presign-post", "--bucket", "b"])
    assert code == 2 and "--bucket and --key are required" in err


def test_crc64nvme_trailer_signed_then_verified_from_the_saved_file(capsysbinary: Any, tmp_path: Path) -> None:
    data = b"hello world " * 9000
    request = tmp_path / "put.req"
    request.write_bytes(b"PUT /bucket/obj HTTP/1.1\r\nHost: localhost:5000\r\n"
                        b"x-amz-decoded-content-length: %d\r\n\r\n" % len(data) + data)
    code = cli.main(["sign", str(request), "--s3", "--service", "s3", "--chunked", "--trailer", "crc64nvme",
                     "--date", WHEN], ENV)
    signed_bytes = capsysbinary.readouterr().out
    assert code == 0 and b"X-Amz-Trailer: x-amz-checksum-crc64nvme" in signed_bytes
    assert b"\r\nx-amz-checksum-crc64nvme:" + checksum_value("crc64nvme", data).encode() + b"\r\n" in signed_bytes
    signed = tmp_path / "signed.req"
    signed.write_bytes(signed_bytes)
    verify = ["verify", str(signed), "--s3", "--now", WHEN, "--scheme", "http"]
    code = cli.main(verify, ENV)
    assert code == 0 and capsysbinary.readouterr().out.startswith(b"OK: AWS4-HMAC-SHA256 signature by AKIDEXAMPLE")
    # Another trailing checksum: the trailer signature (which signs it) no longer verifies.
    right, wrong = (checksum_value("crc64nvme", body).encode() for body in (data, b"other"))
    signed.write_bytes(signed_bytes.replace(b"crc64nvme:" + right, b"crc64nvme:" + wrong))
    code = cli.main(verify, ENV)
    out = capsysbinary.readouterr().out
    # The decoder's message names the body once ("aws-chunked body: aws-chunked body, trailer..." once said it twice).
    assert code == 1 and out.startswith(b"FAILED (signature_mismatch): aws-chunked body, trailer "), out[:120]



def test_presigned_s3_url_verified_without_the_s3_flag(capsys: Any, tmp_path: Path) -> None:
    # `sigv4 verify url.txt` of a URL from `sign --presign --service s3` once failed (signature_mismatch) without
    # --s3: an S3 scope now implies S3's rules in sign and verify alike; --no-s3 opts out, and then says why.
    request = tmp_path / "get.req"
    request.write_bytes(b"GET http://127.0.0.1:9/bkt/a//k%20x HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n")
    code, url, err = run(capsys, ["sign", str(request), "--presign", "--service", "s3", "--date", WHEN])
    assert code == 0 and "/bkt/a//k%20x?" in url, err
    saved = tmp_path / "url.txt"
    saved.write_text(url)
    code, out, err = run(capsys, ["verify", str(saved), "--now", WHEN])
    assert code == 0 and out.startswith("OK: AWS4-HMAC-SHA256 signature by AKIDEXAMPLE") and "(presigned)" in out
    code, out, err = run(capsys, ["verify", str(saved), "--now", WHEN, "--s3"])
    assert code == 0 and out.startswith("OK: AWS4-HMAC-SHA256 signature by AKIDEXAMPLE"), out + err
    code, out, err = run(capsys, ["verify", str(saved), "--now", WHEN, "--no-s3"])
    assert code == 1 and out.startswith("FAILED (signature_mismatch)")
    assert out.rstrip().endswith("hint: the scope names s3, which signs by S3's rules: try without --no-s3"), out


def test_trailer_without_chunked_is_refused(capsys: Any, tmp_path: Path) -> None:
    # `sign --trailer crc64nvme` without `--chunked` once signed a plain request, no trailer, exit 0.
    request = tmp_path / "put.req"
    request.write_bytes(b"PUT /bucket/obj HTTP/1.1\r\nHost: localhost:5000\r\n\r\nhello")
    code, out, err = run(capsys, ["sign", str(request), "--trailer", "crc64nvme", "--s3", "--service", "s3"])
    assert (code, out) == (2, "") and err.count("\n") == 1 and "--trailer" in err and "--chunked" in err, err


@pytest.fixture(scope="module")
def moto_endpoint() -> Any:
    server_module = pytest.importorskip("moto.server", reason="moto is in the test extra")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_presigned_post_form_uploads_to_moto(capsys: Any, moto_endpoint: str) -> None:
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1", aws_access_key_id="test",
                      aws_secret_access_key="test")
    s3.create_bucket(Bucket="forms")
    code, out, _ = run(capsys, ["sign", "--presign-post", "--bucket", "forms", "--key", "up/${filename}",
                                "--url", f"{moto_endpoint}/forms", "--json",
                                "--condition", '["content-length-range", 1, 1024]'],
                       {**ENV, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "testsecret"})
    form = json.loads(out)
    assert code == 0 and form["url"] == f"{moto_endpoint}/forms"
    response = requests.post(form["url"], data=form["fields"], files={"file": ("note.txt", b"posted body")},
                             timeout=30)
    assert response.status_code in (200, 204), response.text
    assert s3.get_object(Bucket="forms", Key="up/note.txt")["Body"].read() == b"posted body"


def test_20_mib_put_with_a_crc64nvme_trailer_to_moto(capsys: Any, moto_endpoint: str, tmp_path: Path) -> None:
    """`send --sign --chunked --trailer crc64nvme --body-file`: streamed aws-chunked to moto's S3, read back identical."""
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1", aws_access_key_id="test",
                      aws_secret_access_key="test")
    s3.create_bucket(Bucket="chunked")
    data = hashlib.shake_256(b"twenty mebibytes").digest(20 << 20)
    (tmp_path / "big.bin").write_bytes(data)
    (tmp_path / "put.req").write_text(f"PUT /chunked/big.bin HTTP/1.1\nHost: {moto_endpoint.partition('//')[2]}\n\n")
    code, out, err = run(capsys, ["send", str(tmp_path / "put.req"), "--sign", "--s3", "--service", "s3", "--scheme",
                                  "http", "--chunked", "--trailer", "crc64nvme", "--body-file", str(tmp_path / "big.bin")],
                         {**ENV, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "testsecret"})
    assert code == 0 and out.startswith("HTTP/1.1 200"), (out[:300], err)
    assert s3.get_object(Bucket="chunked", Key="big.bin")["Body"].read() == data


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return str(path)


@pytest.mark.parametrize("service", ["s3", "s3express", "s3-outposts"])
def test_sign_for_an_s3_service_signs_by_s3_rules_without_the_flag(capsys: Any, tmp_path: Path, service: str) -> None:
    # S3 rules: the path kept as written (no // folding, no double encoding) and x-amz-content-sha256 sent.
    req = _write(tmp_path, "r.req", "GET /a//b/k%20x HTTP/1.1\r\nHost: bucket.example.com\r\n\r\n")
    args = ["sign", req, "--service", service, "--region", "us-east-1", "--date", WHEN, "--json"]
    code, out, _ = run(capsys, args)
    implied = json.loads(out)
    assert code == 0 and implied["canonical_request"].startswith("GET\n/a//b/k%20x\n")
    assert "x-amz-content-sha256:" in implied["canonical_request"]
    code, out, _ = run(capsys, [*args, "--s3"])
    assert code == 0 and json.loads(out)["signature"] == implied["signature"]
    code, out, _ = run(capsys, [*args, "--no-s3"])
    generic = json.loads(out)
    assert code == 0 and generic["canonical_request"].startswith("GET\n/a/b/k%2520x\n")
    assert generic["signature"] != implied["signature"]


def test_sign_no_s3_and_s3_together_is_a_usage_error(capsys: Any, tmp_path: Path) -> None:
    req = _write(tmp_path, "r.req", "GET / HTTP/1.1\r\nHost: bucket.example.com\r\n\r\n")
    code, _, err = run(capsys, ["sign", req, "--service", "s3", "--s3", "--no-s3"])
    assert code == 2 and err.count("\n") == 1 and "--no-s3" in err



def test_send_sign_for_s3_signs_by_s3_rules(capsys: Any, tmp_path: Path) -> None:
    req = _write(tmp_path, "r.req", "PUT /bkt/a//k HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\nhi")
    args = ["send", req, "--sign", "--service", "s3", "--date", WHEN, "--scheme", "http", "--curl"]
    code, out, _ = run(capsys, args)
    assert code == 0 and "X-Amz-Content-SHA256: 8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4" in out
    assert "http://127.0.0.1:9/bkt/a//k" in out
    code, out, _ = run(capsys, [*args, "--no-s3"])
    assert code == 0 and "x-amz-content-sha256" not in out.lower()


@pytest.mark.parametrize("key, condition", [
    ("photos/cat.png", '["starts-with", "$key", "uploads/"]'),
    ("photos/${filename}", '["starts-with", "$key", "uploads/"]'),
    ("photos/cat.png", '{"key": "photos/dog.png"}'),
])
def test_presign_post_refuses_a_key_its_own_condition_rules_out(capsys: Any, key: str, condition: str) -> None:
    # Such a form was once printed, exit 0: every upload with it fails at S3 (AccessDenied, policy condition).
    code, out, err = run(capsys, ["sign", "--presign-post", "--bucket", "b", "--key", key, "--condition", condition,
                                  "--date", WHEN])
    assert (code, out) == (2, "") and err.count("\n") == 1, err
    assert key in err and json.dumps(json.loads(condition)) in err and "ruled out" in err


@pytest.mark.parametrize("key, condition", [
    ("uploads/cat.png", '["starts-with", "$key", "uploads/"]'),
    ("uploads/${filename}", '["starts-with", "$key", "uploads/"]'),
    ("${filename}", '["starts-with", "$key", "uploads/"]'),  # a file named uploads/... fits
    ("uploads/${filename}", '["starts-with", "$key", "uploads/2024-"]'),
    ("any", '["starts-with", "$key", ""]'),
])
def test_presign_post_keeps_a_key_its_conditions_admit(capsys: Any, key: str, condition: str) -> None:
    code, out, err = run(capsys, ["sign", "--presign-post", "--bucket", "b", "--key", key, "--condition", condition,
                                  "--date", WHEN])
    assert code == 0 and err == "" and f"key={key}\n" in out


@pytest.mark.parametrize("host, scope", [
    ("examplebucket.s3.amazonaws.com", ("s3", "us-east-1")),
    ("my.dotted.bucket.s3.eu-west-3.amazonaws.com", ("s3", "eu-west-3")),
    ("b.s3-us-west-2.amazonaws.com", ("s3", "us-west-2")),
    ("b.s3.dualstack.ap-southeast-2.amazonaws.com:443", ("s3", "ap-southeast-2")),
    ("s3.amazonaws.com", ("s3", "us-east-1")),
    ("s3.us-gov-west-1.amazonaws.com", ("s3", "us-gov-west-1")),
    ("account.us-east-1.amazonaws.com", ("account", "us-east-1")),
    ("sts.amazonaws.com", ("sts", "us-east-1")),
    ("example.com", (None, None)),
    # Once read as the first two labels: service "a1b2c3", "search-logs", "bedrock-runtime"...
    ("a1b2c3.execute-api.eu-west-1.amazonaws.com", ("execute-api", "eu-west-1")),
    ("search-logs-abc.us-east-1.es.amazonaws.com", ("es", "us-east-1")),
    ("a1b2c3-ats.iot.us-east-1.amazonaws.com", ("iotdata", "us-east-1")),
    ("bedrock-runtime.us-west-2.amazonaws.com", ("bedrock", "us-west-2")),
    ("runtime.sagemaker.us-east-1.amazonaws.com", ("sagemaker", "us-east-1")),
    ("vpce-0a1b-c2d3.sts.us-east-1.vpce.amazonaws.com", ("sts", "us-east-1")),
    ("dynamodb.cn-north-1.amazonaws.com.cn", ("dynamodb", "cn-north-1")),
    ("dynamodb.us-east-1.api.aws", ("dynamodb", "us-east-1")),
    ("a1b2c3.lambda-url.eu-west-1.on.aws", ("lambda", "eu-west-1")),
    ("email.amazonaws.com", ("ses", "us-east-1")),
    ("foo.bar.amazonaws.com", (None, None)),
])
def test_the_scope_of_an_aws_host_name(host: str, scope: tuple[str | None, str | None]) -> None:
    # A virtual-hosted bucket's host was once read as service "examplebucket", region "s3".
    from wire.endpoints import infer_scope
    assert infer_scope(host) == scope


def test_every_botocore_service_host_is_signed_for_botocores_signing_name(capsys: Any, tmp_path: Path) -> None:
    """The oracle: botocore's models, `endpointPrefix.REGION.amazonaws.com` signed for `signingName`."""
    import botocore.session
    from wire.endpoints import infer_scope
    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    for name in session.get_available_services():
        metadata = loader.load_service_model(name, "service-2")["metadata"]
        expected = metadata.get("signingName") or metadata["endpointPrefix"]
        assert infer_scope(f"{metadata['endpointPrefix']}.ap-south-2.amazonaws.com") == (expected, "ap-south-2"), name
    req = _write(tmp_path, "r.req", "POST /model/m/invoke HTTP/1.1\r\nHost: bedrock-runtime.us-west-2.amazonaws.com\r\n\r\n")
    code, out, _ = run(capsys, ["sign", req, "--date", WHEN])
    assert code == 0 and "Credential=AKIDEXAMPLE/20240304/us-west-2/bedrock/aws4_request" in out


def test_sign_presign_of_a_virtual_hosted_bucket_needs_no_service(capsys: Any, tmp_path: Path) -> None:
    req = _write(tmp_path, "r.req", "GET /a//cat%201.jpg HTTP/1.1\r\nHost: examplebucket.s3.amazonaws.com\r\n\r\n")
    code, url, _ = run(capsys, ["sign", req, "--presign", "--date", WHEN])
    assert code == 0 and "X-Amz-Credential=AKIDEXAMPLE%2F20240304%2Fus-east-1%2Fs3%2Faws4_request" in url
    signed = _write(tmp_path, "p.req", f"GET {url.strip().split('amazonaws.com', 1)[1]} HTTP/1.1\r\n"
                                       "Host: examplebucket.s3.amazonaws.com\r\n\r\n")
    code, out, _ = run(capsys, ["verify", signed, "--now", WHEN])
    assert code == 0 and out.startswith("OK: AWS4-HMAC-SHA256 signature by AKIDEXAMPLE for 20240304/us-east-1/s3")
