"""`sigv4 call` rewrites parameters as botocore's `before-parameter-build` handlers do (differential: the
request botocore prepares for the same operation and values, captured before it is sent)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import botocore.session
import pytest
from botocore.config import Config

import cli

ENV = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "HOME": "/nonexistent"}
ENDPOINT = "http://127.0.0.1:9"


class _Captured(Exception):
    pass


def botocore_request(service: str, operation: str, params: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
    """The target, headers and body botocore prepares for the call."""
    session = botocore.session.Session()
    session.set_credentials("test", "test")
    client = session.create_client(service, region_name="us-east-1", endpoint_url=ENDPOINT,
                                   config=Config(retries={"max_attempts": 0}))
    seen = []

    def capture(request: Any, **_: Any) -> None:
        seen.append(request)
        raise _Captured

    client.meta.events.register("before-send", capture)
    with pytest.raises(_Captured):
        client._make_api_call(operation, params)
    url = urlsplit(seen[0].url)
    headers = {name.lower(): value.decode() if isinstance(value, bytes) else value
               for name, value in seen[0].headers.items()}
    body = seen[0].body or b""
    return url.path + ("?" + url.query if url.query else ""), headers, body.encode() if isinstance(body, str) else body


def our_request(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[str, dict[str, str], bytes]:
    """The target, headers and body `sigv4 call ... --dry-run` writes."""
    assert cli.main(["call", *args, "--dry-run", "--endpoint-url", ENDPOINT, "--region", "us-east-1"], ENV) == 0
    head, _, body = capsys.readouterr().out.partition("\r\n\r\n")
    start, *lines = head.split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return start.split(" ")[1], headers, body.encode()


@pytest.mark.parametrize("source", ["src/a b+ü.txt", "src/k%25?x=1&y.txt?versionId=3HL4kqtJ", "src/plain/key"])
def test_copy_source_is_percent_encoded_as_botocore_does(capsys: pytest.CaptureFixture[str], source: str) -> None:
    ours = our_request(capsys, ["s3", "CopyObject", "Bucket=b", "Key=k", f"CopySource={source}"])
    theirs = botocore_request("s3", "CopyObject", {"Bucket": "b", "Key": "k", "CopySource": source})
    assert ours[1]["x-amz-copy-source"] == theirs[1]["x-amz-copy-source"]
    assert ours[1]["x-amz-copy-source"].isascii()


def test_upload_part_copy_source_too(capsys: pytest.CaptureFixture[str]) -> None:
    ours = our_request(capsys, ["s3", "UploadPartCopy", "Bucket=b", "Key=k", "CopySource=src/é f", "PartNumber=1",
                                "UploadId=u"])
    assert ours[1]["x-amz-copy-source"] == "src/%C3%A9%20f"


@pytest.mark.parametrize(("args", "params"), [
    (["ListResourceRecordSets", "HostedZoneId=/hostedzone/Z123", "StartRecordName=a.example.com."],
     {"HostedZoneId": "/hostedzone/Z123", "StartRecordName": "a.example.com."}),
    (["GetChange", "Id=/change/C2682N5HXP0BZ4"], {"Id": "/change/C2682N5HXP0BZ4"}),
    (["GetHostedZone", "Id=Z123"], {"Id": "Z123"}),
])
def test_route53_ids_as_returned_are_cut_to_the_id(capsys: pytest.CaptureFixture[str], args: list[str],
                                                   params: dict[str, Any]) -> None:
    ours = our_request(capsys, ["route53", *args])
    assert ours[0] == botocore_request("route53", args[0], params)[0]
    assert "hostedzone/%2F" not in ours[0] and "change/%2F" not in ours[0]


def test_run_instances_user_data_is_sent_in_base64(capsys: pytest.CaptureFixture[str]) -> None:
    script = "#!/bin/sh\necho héllo > /tmp/x"
    args = ["ImageId=ami-1", "MinCount=1", "MaxCount=1", "ClientToken=t"]
    ours = our_request(capsys, ["ec2", "RunInstances", *args, f"UserData={script}"])
    theirs = botocore_request("ec2", "RunInstances", {"ImageId": "ami-1", "MinCount": 1, "MaxCount": 1,
                                                      "ClientToken": "t", "UserData": script})
    assert ours[2] == theirs[2]
    assert b"UserData=IyEvYmluL3NoCmVjaG8gaMOpbGxvID4gL3RtcC94" in ours[2]


def test_glacier_account_id_defaults_to_the_callers(capsys: pytest.CaptureFixture[str]) -> None:
    ours = our_request(capsys, ["glacier", "ListVaults"])
    assert ours[0] == botocore_request("glacier", "ListVaults", {})[0] == "/-/vaults"


def test_glacier_requests_carry_the_api_version(capsys: pytest.CaptureFixture[str]) -> None:
    ours = our_request(capsys, ["glacier", "ListVaults"])
    assert ours[1]["x-amz-glacier-version"] == botocore_request("glacier", "ListVaults", {})[1]["x-amz-glacier-version"]
    assert ours[1]["x-amz-glacier-version"] == "2012-06-01"


@pytest.mark.parametrize(("args", "params"), [
    (["GetRestApis"], {}),
    (["GetExport", "restApiId=a1", "stageName=prod", "exportType=swagger", "accepts=application/yaml"],
     {"restApiId": "a1", "stageName": "prod", "exportType": "swagger", "accepts": "application/yaml"}),
])
def test_api_gateway_asks_for_json_unless_the_call_names_a_type(capsys: pytest.CaptureFixture[str], args: list[str],
                                                                 params: dict[str, Any]) -> None:
    ours = our_request(capsys, ["apigateway", *args])
    assert ours[1]["accept"] == botocore_request("apigateway", args[0], params)[1]["accept"]
    assert ours[1]["accept"] == ("application/yaml" if params else "application/json")


@pytest.mark.parametrize("user_data", ["5", '{"a": 1}', "[1]"])
def test_user_data_of_another_type_is_refused_in_one_line(capsys: pytest.CaptureFixture[str], user_data: str) -> None:
    """A number or an object as `UserData` (from `--input` JSON) was base64-encoded before validation: a TypeError
    traceback, not the one-line refusal naming the field."""
    given = f'{{"MinCount": 1, "MaxCount": 1, "UserData": {user_data}}}'
    assert cli.main(["call", "ec2", "RunInstances", "--input", given, "--dry-run", "--endpoint-url", ENDPOINT, "--region", "us-east-1"], ENV) == 2
    err = capsys.readouterr().err
    assert err.startswith("sigv4: error: UserData: expected a string") and err.count("\n") == 1, err
