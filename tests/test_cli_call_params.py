"""`sigv4 call` read by the model's member types, as typed by a user; `call` and `send --sign` retry a clock-skew error once."""

from __future__ import annotations

import json
import os
import re
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest

import cli
from tests.serve_fixtures import DEFAULT, start, stop
from verifying_server import verifying_server

ENV = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "HOME": "/nonexistent"}


def run(capsys, args: list[str], env: dict[str, str] = ENV) -> tuple[int, str, str]:
    code = cli.main(args, env)
    out, err = capsys.readouterr()
    return code, out, err


def test_sqs_message_body_42_is_a_string(capsys) -> None:
    code, out, err = run(capsys, ["call", "sqs", "SendMessage", "QueueUrl=https://sqs.us-east-1.amazonaws.com/1/q",
                                  "MessageBody=42", "--dry-run"])
    assert code == 0, err
    assert '"MessageBody":"42"' in out


def test_account_strings_that_look_like_json(capsys) -> None:
    code, out, err = run(capsys, ["call", "account", "PutAlternateContact", "AlternateContactType=BILLING", "Name=123",
                                  "Title=true", "EmailAddress=a@example.com", "PhoneNumber=1", "--dry-run"])
    assert code == 0, err
    body = json.loads(out.rstrip().rpartition("\r\n\r\n")[2])
    assert body == {"AlternateContactType": "BILLING", "Name": "123", "Title": "true", "EmailAddress": "a@example.com",
                    "PhoneNumber": "1"}


def test_shorthand_on_the_wire(capsys) -> None:
    code, out, err = run(capsys, ["call", "ec2", "DescribeInstances",
                                  "Filters=[{Name=instance-state-name,Values=[running,stopped]}]",
                                  "InstanceIds=i-1,i-2", "MaxResults=5", "DryRun=true", "--dry-run"])
    assert code == 0, err
    assert out.rstrip().endswith("Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=instance-state-name"
                                 "&Filter.1.Value.1=running&Filter.1.Value.2=stopped&InstanceId.1=i-1&InstanceId.2=i-2"
                                 "&MaxResults=5&DryRun=true")


def test_blob_from_a_file_and_from_stdin(capsys, tmp_path: Path, monkeypatch) -> None:
    blob = tmp_path / "b.bin"
    blob.write_bytes(b"\x00\xff")
    code, out, _ = run(capsys, ["call", "kms", "Encrypt", "KeyId=k", f"Plaintext=fileb://{blob}", "--dry-run"])
    assert code == 0 and '"Plaintext":"AP8="' in out
    code, out, _ = run(capsys, ["call", "kms", "Encrypt", "KeyId=k", "Plaintext=text", "--dry-run"])
    assert code == 0 and '"Plaintext":"dGV4dA=="' in out


@pytest.mark.parametrize("command", [["call", "s3", "PutObject", "Bucket=b", "Key=k", "Body=@{fifo}", "--dry-run"],
                                     ["send", "{req}", "--sign", "--service", "s3", "--chunked", "--body-file", "{fifo}",
                                      "--curl"]])
def test_an_upload_body_from_a_pipe_has_its_size_framed(capsys, tmp_path: Path, command: list[str]) -> None:
    # `Body=@<(gzip -c f)` or a FIFO: no size, no rewinding; it was a traceback (not seekable), or framed as 0 bytes.
    fifo, req = tmp_path / "fifo", tmp_path / "r.req"
    os.mkfifo(fifo)
    req.write_bytes(b"PUT /b/k HTTP/1.1\r\nHost: b.s3.amazonaws.com\r\n\r\n")
    writer = threading.Thread(target=fifo.write_bytes, args=(b"piped body",))
    writer.start()
    code, out, err = run(capsys, [arg.format(fifo=fifo, req=req) for arg in command])
    writer.join(5)
    assert code == 0, err
    assert "x-amz-decoded-content-length: 10" in out.lower() and "piped body" in out


#: (argv after `call`, member, shape type): each refused in one line, exit 2.
REFUSED = [
    (["ec2", "DescribeInstances", "MaxResults=five"], "MaxResults", "integer"),
    (["dynamodb", "UpdateGlobalTableSettings", "GlobalTableName=g", "GlobalTableProvisionedWriteCapacityUnits=1.5"],
     "GlobalTableProvisionedWriteCapacityUnits", "long"),
    (["cloudwatch", "PutMetricAlarm", "AlarmName=a", "Threshold=high"], "Threshold", "double"),
    (["ec2", "DescribeInstances", "DryRun=yes"], "DryRun", "boolean"),
    (["cloudwatch", "DescribeAlarmHistory", "StartDate=yesterday"], "StartDate", "timestamp"),
    (["ec2", "DescribeInstances", "Filters=[{Name=a"], "Filters", None),
]


@pytest.mark.parametrize("argv, member, kind", REFUSED)
def test_refusals_are_one_line_exit_2(capsys, argv, member, kind) -> None:
    code, out, err = run(capsys, ["call", *argv, "--dry-run"])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"sigv4: error: {member}: ")
    if kind:
        assert f"({kind}), got '" in err


def test_every_scalar_type_refuses_in_one_line_exit_2(capsys, tmp_path: Path) -> None:
    """A model (`--model`) with one member of each scalar type, each given text it must refuse."""
    from test_params import SCALAR_REFUSALS
    model = {"metadata": {"protocol": "json", "apiVersion": "1", "targetPrefix": "T", "endpointPrefix": "svc"},
             "operations": {"Op": {"name": "Op", "input": {"shape": "In"}}},
             "shapes": {"In": {"type": "structure",
                               "members": {f"The{kind.title()}": {"shape": kind} for kind in SCALAR_REFUSALS}},
                        **{kind: {"type": kind} for kind in SCALAR_REFUSALS}}}
    path = tmp_path / "model.json"
    path.write_text(json.dumps(model))
    for kind, texts in SCALAR_REFUSALS.items():
        for text in texts:
            code, out, err = run(capsys, ["call", "svc", "Op", f"The{kind.title()}={text}", "--model", str(path),
                                          "--dry-run"])
            assert code == 2 and out == "" and err.count("\n") == 1, err
            assert err.startswith(f"sigv4: error: The{kind.title()}: expected "), err
            shown = repr(text if len(text) <= 60 else text[:60] + "...")
            assert err.rstrip().endswith(f"({kind}), got {shown}"), err
    code, out, err = run(capsys, ["call", "svc", "Op", "TheInteger=7", "TheTimestamp=0", "TheBoolean=FALSE",
                                  "--model", str(path), "--dry-run"])
    assert code == 0 and out.rstrip().endswith('{"TheInteger":7,"TheTimestamp":0,"TheBoolean":false}'), out + err


def test_a_missing_file_is_one_line(capsys) -> None:
    code, _, err = run(capsys, ["call", "kms", "Encrypt", "KeyId=k", "Plaintext=@/nonexistent/x", "--dry-run"])
    assert code == 2 and err == "sigv4: error: /nonexistent/x: cannot read (No such file or directory)\n"


def test_parameters_from_files_as_aws_cli_users_type_them(capsys, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "item.json").write_text('{"pk": {"S": "from-file"}}')
    (tmp_path / "in.json").write_text('{"TableName": "t", "Item": {"pk": {"S": "from-input"}}}')
    base = ["call", "dynamodb", "PutItem", "--dry-run"]
    for argv, item in ((["--input", "file://in.json"], "from-input"), (["--input", "@in.json"], "from-input"),
                       (["TableName=t", "Item@=file://item.json"], "from-file")):
        code, out, err = run(capsys, [*base, *argv])
        assert code == 0 and out.endswith(f'"Item":{{"pk":{{"S":"{item}"}}}}}}'), out + err
    # the aws CLI's `--item file://item.json` typed as Name=Value: the refusal says how it is written here
    code, out, err = run(capsys, [*base, "TableName=t", "Item=file://item.json"])
    assert (code, out) == (2, "")
    assert err == ("sigv4: error: Item: shorthand syntax: expected '=' at character 17, found end of text "
                   "(a value read from a file is written Item@=file://item.json)\n")


@pytest.mark.parametrize("service,operation,member", [("iam", "CreateUser", "UserName"), ("sqs", "SendMessage", "MessageBody"),
                                                      ("s3", "GetObject", "Key"), ("lambda", "GetFunction", "FunctionName")])
def test_a_parameter_that_is_not_utf8_is_one_line(capsys, service, operation, member) -> None:
    # what Python makes of argv bytes that are not UTF-8 (a Latin-1 terminal, a file name): lone surrogates
    typed = os.fsdecode(b"caf\xe9")
    given = {"iam": [], "sqs": ["QueueUrl=https://sqs.us-east-1.amazonaws.com/1/q"], "s3": ["Bucket=b"], "lambda": []}
    code, out, err = run(capsys, ["call", service, operation, *given[service], f"{member}={typed}", "--dry-run"])
    assert (code, out, err) == (2, "", f"sigv4: error: {member}: byte 0xe9 at offset 3 is not UTF-8 text\n")


@pytest.mark.parametrize("service,operation,given", [("sqs", "ListQueues", []),
                                                     ("s3", "GetBucketPolicy", ["Bucket=b"])])
def test_output_file_for_an_answer_without_a_blob_payload_is_refused(capsys, tmp_path: Path, service, operation,
                                                                      given) -> None:
    # It sent the call, wrote the raw answer to the file and printed `{}` (the members decoded from nothing), exit 0.
    code, out, err = run(capsys, ["call", service, operation, *given, "-o", str(tmp_path / "out"),
                                  "--endpoint-url", "http://127.0.0.1:9"])
    assert (code, out) == (2, "") and not (tmp_path / "out").exists()
    assert err == f"sigv4: error: -o: {operation}'s answer has no blob payload to write to a file; it is printed\n"


# -- clock skew ---------------------------------------------------------------------

@pytest.fixture
def late_clock(monkeypatch) -> None:
    """The CLI's clock 20 minutes behind the servers'."""
    from wire.transport import signing
    real = signing.now
    monkeypatch.setattr(signing, "now", lambda: real() - timedelta(minutes=20))


def test_call_retries_once_on_a_skew_error(capsys, tmp_path: Path, late_clock) -> None:
    running = start(tmp_path)
    env = {"AWS_ACCESS_KEY_ID": DEFAULT["access_key_id"], "AWS_SECRET_ACCESS_KEY": DEFAULT["secret_access_key"],
           "HOME": str(tmp_path)}
    try:
        code, out, err = run(capsys, ["call", "account", "ListRegions", "--endpoint-url", running.url], env)
    finally:
        stop(running)
    assert code == 0, err
    assert "RegionName" in out
    assert re.match(r"\* the server's clock is \+1(19[5-9]|20[0-5]) s from ours", err) and err.count("\n") == 1, err


@pytest.mark.parametrize("s3", [True, False])
def test_send_sign_retries_once_on_a_skew_error(capsys, tmp_path: Path, late_clock, s3) -> None:
    import sigv4
    keys = {"test": sigv4.Credentials("test", "test")}
    request = tmp_path / "r.req"
    request.write_bytes(b"PUT /b/k HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\nhello")
    output = tmp_path / "out.json"
    with verifying_server(keys, s3=s3) as server:
        extra = ["--s3"] if s3 else []
        code, out, err = run(capsys, ["send", str(request), "--sign", "--endpoint", server.url, "--region", "us-east-1",
                                      "--service", "s3" if s3 else "svc", "-o", str(output), *extra])
        assert len(server.received) == 2
    assert code == 0, err
    assert re.match(r"\* the server's clock is \+1(19[5-9]|20[0-5]) s from ours", err), err
    assert json.loads(output.read_text())["body"] == "hello"  # the retry's answer only


def test_no_retry_with_a_fixed_date(capsys, tmp_path: Path) -> None:
    import sigv4
    request = tmp_path / "r.req"
    request.write_bytes(b"GET /b/k HTTP/1.1\r\nHost: example.com\r\n\r\n")
    with verifying_server({"test": sigv4.Credentials("test", "test")}) as server:
        code, out, err = run(capsys, ["send", str(request), "--sign", "--endpoint", server.url, "--region", "us-east-1",
                                      "--service", "svc", "--date", f"{datetime(2020, 1, 1):%Y%m%dT%H%M%SZ}"])
        assert len(server.received) == 1
    assert code == 0 and out.startswith("HTTP/1.1 400") and err == ""


@pytest.mark.parametrize("typed", ["ListObjectsV2", "list-objects-v2", "list_objects_v2"])
def test_an_operation_by_its_api_aws_cli_or_boto3_name(capsys, typed: str) -> None:
    code, out, err = run(capsys, ["call", "s3", typed, "Bucket=b", "--endpoint-url", "http://127.0.0.1:9",
                                  "--dry-run"])
    assert code == 0, err
    assert out.startswith("GET /b?list-type=2 HTTP/1.1\r\n")


def test_an_ec2_operation_by_its_aws_cli_name(capsys) -> None:
    code, out, err = run(capsys, ["call", "ec2", "describe-instances", "InstanceIds=i-1", "--region", "us-east-1",
                                  "--dry-run"])
    assert code == 0, err
    assert out.endswith("Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-1")


@pytest.mark.parametrize(("service", "typed", "said"), [
    ("ec2", "describe-instance", "unknown operation 'describe-instance'; did you mean DescribeInstances or "),
    ("ec2", "frobnicate", "unknown operation 'frobnicate'; the model has "),
    ("account", "frob", "unknown operation 'frob'; the model has 15 operations: AcceptPrimaryEmailUpdate, "),
])
def test_an_unknown_operation_is_one_short_line(capsys, service: str, typed: str, said: str) -> None:
    code, out, err = run(capsys, ["call", service, typed, "--dry-run"])
    assert (code, out) == (2, "")
    assert err.startswith(f"sigv4: error: {said}") and err.count("\n") == 1 and len(err) < 400


@pytest.mark.parametrize("typed", ["2024-05-01", "2024-05-01T12:00", "2024-05-01 12:00:00", "2024-05-01T12:00:00.123Z",
                                   "2024-05-01T12:00:00+0200", "20240501T120000Z", "1714564800", "1714564800.5",
                                   "Wed, 01 May 2024 12:00:00 GMT", "01 May 2024 12:00:00 +0200"])
def test_a_timestamp_as_users_type_it_is_the_instant_botocore_reads(capsys, typed: str) -> None:
    from botocore.utils import parse_to_aware_datetime
    code, out, err = run(capsys, ["call", "s3", "GetObject", "Bucket=b", "Key=k", f"IfModifiedSince={typed}",
                                  "--endpoint-url", "http://127.0.0.1:9", "--dry-run"])
    assert code == 0, err
    expected = parse_to_aware_datetime(typed).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert f"\r\nIf-Modified-Since: {expected}\r\n" in out
