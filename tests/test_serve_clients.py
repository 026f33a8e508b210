"""`sigv4 serve` as real clients meet it (curl `--aws-sigv4`, boto3, the aws CLI): what each is answered
when it gets something wrong."""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import sigv4
from tests.local_http import counting_relay
from tests.serve_fixtures import DEFAULT, Running, endpoint, serving  # noqa: F401  (fixture)
from wire.auth_refusal import MAX_SKEW
from wire.transport.server import ServeLimits


def curl(running: Running, *args: str, secret: str = DEFAULT["secret_access_key"]) -> str:
    return subprocess.run(["curl", "-sS", "--aws-sigv4", "aws:amz:us-east-1:account",
                           "--user", f"{DEFAULT['access_key_id']}:{secret}", *args, f"{running.url}/"],
                          capture_output=True, text=True, timeout=30, check=True).stdout


@pytest.mark.parametrize("form", ["Action=CloseAccount&Version=2021-02-01", "Action=ListRegions&Version=2011-06-15",
                                  "Version=2021-02-01"])
def test_a_query_call_with_a_wrong_secret_is_refused_for_its_signature_before_its_action(
        endpoint: Running, form: str) -> None:
    """curl with a wrong secret and an Action the service lacks (or a wrong Version, or none): AWS refuses the
    signature first; the endpoint answered InvalidAction (MissingAction), hiding the real mistake."""
    wrong = curl(endpoint, "--data", form, secret="not-the-secret")
    assert "<Code>SignatureDoesNotMatch</Code>" in wrong, wrong
    right = curl(endpoint, "--data", form)
    assert "<Code>InvalidAction</Code>" in right or "<Code>MissingAction</Code>" in right, right


def _curl_post(running: Running, key: str, secret: str, path: Path, *headers: str) -> tuple[str, str, int]:
    """curl --aws-sigv4 POST of the file `path` to getContactInformation with `Expect: 100-continue`: (status,
    body, bytes of the body it uploaded)."""
    out = subprocess.run(["curl", "-sS", "--aws-sigv4", "aws:amz:us-east-1:account", "--user", f"{key}:{secret}",
                          "-H", "Content-Type: application/json", "-H", "Expect: 100-continue", *headers,
                          "--expect100-timeout", "30", "--data-binary", f"@{path}",
                          "-w", "\n%{http_code} %{size_upload}", f"{running.url}/getContactInformation"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    body, _, tail = out.rpartition("\n")
    status, uploaded = tail.split()
    return status, body, int(uploaded)


def test_curl_expecting_100_continue_is_refused_from_the_head_when_the_head_decides(
        endpoint: Running, tmp_path: Path) -> None:
    """The endpoint sent 100 Continue before checking the signature: curl uploaded its whole body (curl asks
    for 100 Continue on bodies over 1 MiB) to be refused for its key. Now what the head decides is answered
    at once; a signature over the body's hash still needs the body (100 Continue, as before)."""
    path = tmp_path / "padded.json"
    path.write_text("{}" + " " * 200_000)
    key, secret = DEFAULT["access_key_id"], DEFAULT["secret_access_key"]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    status, body, uploaded = _curl_post(endpoint, "AKIDUNKNOWNKEY000000", secret, path)
    assert (status, uploaded) == ("403", 0) and "UnrecognizedClientException" in body, body
    status, body, uploaded = _curl_post(endpoint, key, "not-the-secret", path, "-H", f"x-amz-content-sha256: {digest}")
    assert (status, uploaded) == ("403", 0) and "InvalidSignatureException" in body, body
    status, body, uploaded = _curl_post(endpoint, key, "not-the-secret", path)  # its payload line is the body's hash
    assert (status, uploaded) == ("403", path.stat().st_size) and "InvalidSignatureException" in body, body
    status, body, uploaded = _curl_post(endpoint, key, secret, path)
    assert status != "403" and uploaded == path.stat().st_size, body
    assert [json.loads(line)["errorCode"] for line in endpoint.trail.read_text().splitlines()][:3] == [
        "UnrecognizedClientException", "InvalidSignatureException", "InvalidSignatureException"]


def test_boto3_put_object_with_a_wrong_secret_sends_no_body(endpoint: Running) -> None:
    """boto3's S3 PutObject sends `Expect: 100-continue`: its 2 MiB body (over the 1 MiB limit) got the HTTP
    layer's 413 instead of the endpoint's refusal; a smaller one was uploaded whole to be refused."""
    with counting_relay(endpoint.server.port) as (relayed, sent):
        s3 = boto3.client("s3", endpoint_url=relayed, region_name="us-east-1", aws_access_key_id=DEFAULT["access_key_id"],
                          aws_secret_access_key="not-the-secret",
                          config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}))
        for size in (2 * 1024 * 1024, 300_000):
            with pytest.raises(ClientError) as caught:
                s3.put_object(Bucket="b", Key="k", Body=b"x" * size)
            assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert sum(sent) < 64 * 1024, sent


def test_a_body_over_the_limit_is_refused_in_the_calls_protocol(tmp_path: Path) -> None:
    """The 413 was `{"message": ...}` with no error type: boto3 read no code from it. A head the endpoint
    refuses (an unknown key) is answered as such before the size."""
    with serving(tmp_path, limits=ServeLimits(max_body_bytes=300)) as running:
        def put(key: str) -> dict[str, Any]:
            account = boto3.client("account", endpoint_url=running.url, region_name="us-east-1",
                                   aws_access_key_id=key, aws_secret_access_key=DEFAULT["secret_access_key"],
                                   config=Config(retries={"max_attempts": 1}))
            with pytest.raises(ClientError) as caught:
                account.put_contact_information(ContactInformation={
                    "AddressLine1": "x" * 400, "City": "c", "CountryCode": "US", "FullName": "n",
                    "PhoneNumber": "+15555550100", "PostalCode": "1"})
            response: dict[str, Any] = caught.value.response
            return response
        error = put(DEFAULT["access_key_id"])
        assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("RequestEntityTooLarge", 413)
        assert put("AKIDUNKNOWNKEY000000")["Error"]["Code"] == "UnrecognizedClientException"


def test_a_request_refused_from_its_head_is_never_answered_as_a_call(endpoint: Running) -> None:
    """The server refuses a head (`screen`, before 100 Continue) at one instant and `respond` answers it, its
    body never read, at the next: a request dated just over the skew ahead passed the second check and was
    run on an empty body although its signature covers the hash of the body it was about to send."""
    body = json.dumps({"MaxResults": 1}).encode()
    request = sigv4.Request("POST", f"{endpoint.url}/listRegions", [("Content-Type", "application/json")], body)
    signed = sigv4.sign(request, sigv4.Credentials(DEFAULT["access_key_id"], DEFAULT["secret_access_key"]),
                        service="account", region="us-east-1", content_sha256_header=True,
                        timestamp=datetime.now(timezone.utc) + MAX_SKEW + timedelta(seconds=2.5)).request
    unread = signed.with_body(iter(()))  # as the server hands over a request it answers from its head
    assert endpoint.app.screen(unread)  # too far ahead: refused before the body is asked for
    time.sleep(3)  # the date is within the skew now
    reply = endpoint.app.respond(unread, "127.0.0.1")
    assert reply.status == 400 and b"IncompleteBody" in bytes(reply.body), reply
