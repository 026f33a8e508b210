"""S3 end to end from the command line, against moto's S3 server, as a user types it:
create a bucket, put a 20 MiB object from a file in signed aws-chunked encoding
with a CRC64NVME trailer, get it back identical with `-o`, list it, fetch it with
a URL from `sign --presign`, upload another with a `sign --presign-post` form,
delete both. The signed upload is also written with
`--dry-run` and read back by `verify --s3`, which checks every chunk signature
and the trailer (moto does not)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import requests

import cli
from sigv4.checksums import checksum_value

ROOT = Path(__file__).resolve().parent.parent
ENV = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "HOME": "/nonexistent"}
SIZE = 20 * 1024 * 1024


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args), ENV)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def big_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("s3") / "big.bin"
    # Not all one byte: a wrong chunk boundary or a dropped frame would still compare equal.
    path.write_bytes(hashlib.shake_256(b"sigv4-toolkit").digest(SIZE))
    return path


def test_s3_round_trip(capsys, moto_endpoint: str, big_file: Path, tmp_path: Path) -> None:
    at = ["--endpoint-url", moto_endpoint]
    code, out, err = run(capsys, "call", "s3", "CreateBucket", "Bucket=toolkit-bucket", *at)
    assert code == 0, err
    code, out, err = run(capsys, "call", "s3", "PutObject", "Bucket=toolkit-bucket", "Key=dir/big object.bin",
                         f"Body=@{big_file}", "ChecksumAlgorithm=CRC64NVME", *at)
    assert code == 0, err
    assert json.loads(out)["ChecksumCRC64NVME"] == checksum_value("crc64nvme", big_file.read_bytes())
    assert json.loads(out)["ETag"].strip('"') == hashlib.md5(big_file.read_bytes()).hexdigest()

    got = tmp_path / "got.bin"
    code, out, err = run(capsys, "call", "s3", "GetObject", "Bucket=toolkit-bucket", "Key=dir/big object.bin",
                         "-o", str(got), *at)
    assert code == 0, err
    assert json.loads(out)["ContentLength"] == SIZE and "Body" not in json.loads(out)
    assert got.read_bytes() == big_file.read_bytes()
    # `-o -`: the payload on stdout, alone (`sigv4 call s3 GetObject ... -o - | tar x`).
    piped = subprocess.run([sys.executable, str(ROOT / "cli.py"), "call", "s3", "GetObject", "Bucket=toolkit-bucket",
                            "Key=dir/big object.bin", "-o", "-", *at], env={**os.environ, **ENV},
                           capture_output=True, cwd=tmp_path, timeout=120)
    assert piped.returncode == 0 and piped.stdout == big_file.read_bytes(), piped.stderr
    assert not (tmp_path / "-").exists()

    code, out, err = run(capsys, "call", "s3", "ListObjectsV2", "Bucket=toolkit-bucket", *at)
    assert code == 0, err
    assert [(o["Key"], o["Size"]) for o in json.loads(out)["Contents"]] == [("dir/big object.bin", SIZE)]

    raw = tmp_path / "get.http"
    host = moto_endpoint.removeprefix("http://")
    raw.write_bytes(f"GET /toolkit-bucket/dir/big%20object.bin HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    code, out, err = run(capsys, "sign", str(raw), "--presign", "--s3", "--service", "s3", "--region", "us-east-1")
    assert code == 0, err
    url = out.strip().replace("https://", "http://", 1)  # the raw request names no scheme; the signature has none
    assert "X-Amz-Signature=" in url
    with urllib.request.urlopen(url) as response:  # noqa: S310  a local moto server
        assert response.read() == big_file.read_bytes()

    code, out, err = run(capsys, "sign", "--presign-post", "--bucket", "toolkit-bucket", "--key", "posted/${filename}",
                         "--url", f"{moto_endpoint}/toolkit-bucket", "--json",
                         "--condition", '["content-length-range", 1, 1024]')
    assert code == 0, err
    form = json.loads(out)
    posted = requests.post(form["url"], data=form["fields"], files={"file": ("note.txt", b"posted body")}, timeout=30)
    assert posted.status_code in (200, 204), posted.text
    code, out, err = run(capsys, "call", "s3", "ListObjectsV2", "Bucket=toolkit-bucket", *at)
    assert code == 0, err
    assert sorted(o["Key"] for o in json.loads(out)["Contents"]) == ["dir/big object.bin", "posted/note.txt"]

    for key in ("dir/big object.bin", "posted/note.txt"):
        code, out, err = run(capsys, "call", "s3", "DeleteObject", "Bucket=toolkit-bucket", f"Key={key}", *at)
        assert code == 0, err
    code, out, err = run(capsys, "call", "s3", "ListObjectsV2", "Bucket=toolkit-bucket", *at)
    assert code == 0 and "Contents" not in json.loads(out)
    code, out, err = run(capsys, "call", "s3", "GetObject", "Bucket=toolkit-bucket", "Key=dir/big object.bin",
                         "-o", str(tmp_path / "none.bin"), *at)
    assert (code, err.split(":")[0]) == (1, "NoSuchKey") and not (tmp_path / "none.bin").exists()
    piped = subprocess.run([sys.executable, str(ROOT / "cli.py"), "call", "s3", "GetObject", "Bucket=toolkit-bucket",
                            "Key=dir/big object.bin", "-o", "-", *at], env={**os.environ, **ENV},
                           capture_output=True, cwd=tmp_path, timeout=120)
    assert (piped.returncode, piped.stdout, piped.stderr.split(b":")[0]) == (1, b"", b"NoSuchKey")
    code, out, err = run(capsys, "call", "s3", "DeleteBucket", "Bucket=toolkit-bucket", *at)
    assert code == 0, err


def test_signed_chunked_upload_verifies(big_file: Path, tmp_path: Path) -> None:
    signed = tmp_path / "put.http"
    env = {**os.environ, **ENV, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, str(ROOT / "cli.py")]
    with signed.open("wb") as sink:
        subprocess.run([*command, "call", "s3", "PutObject", "Bucket=b", "Key=k", f"Body=fileb://{big_file}",
                        "--endpoint-url", "http://127.0.0.1:9", "--dry-run"], env=env, stdout=sink, check=True)
    head = signed.read_bytes()[:2000].decode("latin-1")
    for line in ("Content-Encoding: aws-chunked", "X-Amz-Trailer: x-amz-checksum-crc32", "Expect: 100-continue",
                 f"X-Amz-Decoded-Content-Length: {SIZE}", "X-Amz-Content-SHA256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"):
        assert line in head
    verified = subprocess.run([*command, "verify", str(signed), "--s3", "--scheme", "http"], env=env,
                              capture_output=True, text=True)
    assert verified.returncode == 0 and verified.stdout.startswith("OK: AWS4-HMAC-SHA256"), verified.stdout



def test_named_checksum_algorithm_is_the_trailer_of_a_streamed_upload(capsys, tmp_path: Path) -> None:
    # `ChecksumAlgorithm=CRC64NVME Body=@file` once sent `x-amz-sdk-checksum-algorithm: CRC64NVME` with an
    # `x-amz-checksum-crc32` trailer (S3 refuses the pair); the trailer is the algorithm named, as the aws CLI sends.
    from sigv4.checksums import checksum_value
    body = tmp_path / "small.bin"
    body.write_bytes(b"0123456789" * 1000)
    code, out, err = run(capsys, "call", "s3", "PutObject", "ChecksumAlgorithm=CRC64NVME", "Bucket=b", "Key=k",
                         f"Body=@{body}", "--endpoint-url", "http://127.0.0.1:9", "--dry-run")
    assert code == 0, err
    assert "X-Amz-Trailer: x-amz-checksum-crc64nvme\r\n" in out and "x-amz-checksum-crc32" not in out
    assert f"x-amz-checksum-crc64nvme:{checksum_value('crc64nvme', body.read_bytes())}\r\n" in out
    signed = tmp_path / "put.http"
    signed.write_bytes(out.encode("latin-1"))
    assert run(capsys, "verify", str(signed), "--scheme", "http")[0] == 0

def test_s3_requests_as_sdks_address_them(capsys) -> None:
    code, out, _ = run(capsys, "call", "s3", "ListObjectsV2", "Bucket=my-bucket", "Prefix=a/", "--region", "eu-west-1",
                       "--dry-run")
    assert code == 0 and out.startswith("GET /?list-type=2&prefix=a%2F HTTP/1.1\r\nHost: my-bucket.s3.eu-west-1.amazonaws.com")
    code, out, _ = run(capsys, "call", "s3", "ListObjectsV2", "Bucket=my.bucket", "--dry-run")
    assert out.startswith("GET /my.bucket?list-type=2 HTTP/1.1\r\nHost: s3.us-east-1.amazonaws.com")
    code, out, _ = run(capsys, "call", "s3", "DeleteObjects", "--input",
                       json.dumps({"Bucket": "bkt", "Delete": {"Objects": [{"Key": "a"}]}}), "--dry-run")
    assert "x-amz-checksum-crc32: " in out and "x-amz-sdk-checksum-algorithm: CRC32" in out


def test_s3_usage_errors(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "call", "s3", "PutObject", "Bucket=b", "Key=k", f"Body=@{tmp_path / 'missing'}",
                       "--dry-run")
    assert code == 2 and err.startswith("sigv4: error: ") and "missing" in err and "Traceback" not in err
    code, _, err = run(capsys, "call", "s3", "GetObject", "Bucket=b", "--dry-run")
    assert code == 2 and "Key" in err


@pytest.mark.parametrize("service, operation, host", [
    ("route53", "ListHostedZones", "route53.amazonaws.com"),
    ("cloudfront", "ListDistributions", "cloudfront.amazonaws.com"),
])
def test_global_rest_xml_services_sign_for_us_east_1(capsys, service: str, operation: str, host: str) -> None:
    code, out, _ = run(capsys, "call", service, operation, "--region", "eu-west-1", "--dry-run")
    assert code == 0 and f"\r\nHost: {host}\r\n" in out and "/us-east-1/" + service + "/aws4_request" in out
