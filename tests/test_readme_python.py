"""Every ```python block of README.md runs as written, read top to bottom as one session (a block may use what an
earlier one defined, as a reader who follows along has it).

What the README leaves to the reader is given here, and only that: a response to decode, what a server sent
(a Keyspaces challenge, MongoDB's nonce, a request received), the upload's bytes and files of keys and
certificates. A request the README sends to AWS goes to a local server instead (loopback only).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

import pki
from local_http import http_server
from sigv4 import Credentials, Request, s3v2
from wire import cbor

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
BLOCKS = re.findall(r"^```python\n(.*?)^```", README, re.S | re.M)
CREDS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")


def _given(tmp_path: Path) -> dict[str, object]:
    """The names a README block uses that no block defines: inputs from outside the toolkit."""
    trust = pki.pki()
    cloudfront_key = pki.rsa_key(1)
    for name, data in (("private_key.pem", pki.pem(cloudfront_key)), ("public_key.pem", pki.public_pem(cloudfront_key)),
                       ("workload.pem", pki.pem(trust.leaf)), ("workload.key", pki.pem(trust.leaf_key))):
        (tmp_path / name).write_bytes(data)
    received = s3v2.sign(Request("GET", "https://photos.s3.amazonaws.com/cat.png"), CREDS,
                         timestamp=datetime.now(timezone.utc)).request
    return {
        # a CloudWatch answer over RPCv2 CBOR, for `wire.parse_response`
        "status": 200, "headers": {"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor"},
        "body": cbor.encode({"Metrics": []}),
        "challenge": "nonce=0123456789abcdef0123456789abcdef",  # Keyspaces' SigV4 challenge
        "server_nonce": bytes(range(64)), "sts_host": "sts.amazonaws.com",  # MONGODB-AWS's `s` and `h`
        "received": received,  # the request an S3 server received, for `verify`
        "data": b"x" * 70000,  # an upload's bytes
        "ca_certificate": trust.intermediate,  # Roles Anywhere's trust anchor: the workload certificate's issuer
    }


def test_the_readme_has_its_python_blocks() -> None:
    assert len(BLOCKS) >= 10 and all(block.strip() for block in BLOCKS)


def test_every_python_block_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    # a long-term key: the tokens block ends with an SES SMTP password, which temporary credentials cannot make
    for name, value in (("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"), ("AWS_SECRET_ACCESS_KEY", "secret"),
                        ("AWS_EC2_METADATA_DISABLED", "true"), ("HOME", str(tmp_path))):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    scope = _given(tmp_path)
    with http_server() as (url, _):
        for index, block in enumerate(BLOCKS):
            code = block.replace("https://dynamodb.us-east-1.amazonaws.com/", url + "/")
            try:
                exec(compile(code, f"README.md python block {index + 1}", "exec"), scope)
            except Exception as err:  # the block and its error, as the reader would see them
                pytest.fail(f"README python block {index + 1} fails: {err!r}\n{block}")
    assert isinstance(scope["result"], dict)
