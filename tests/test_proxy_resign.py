"""`sigv4 proxy --resign`: a credential boundary, proved with real clients against moto checking signatures.

moto checks every signature once `INITIAL_NO_AUTH_ACTION_COUNT` actions have
run: the fixture creates a user with an allow-all policy and its access key
(the real credentials, known only to the proxy), then turns the checks on.
The clients (boto3, `python3 -m awscli`) hold only the placeholder key; what
reaches moto carries the real key's signatures, or is refused by moto.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

import sigv4
from sigv4.integrations import static
from wire.transport.resign import Placeholder, ResigningProxy
from wire.transport.server import LocalServer, ServeLimits

moto_server = pytest.importorskip("moto.server", reason="moto is in the test extra")
boto3 = pytest.importorskip("boto3", reason="boto3 is in the test extra")
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from moto import settings  # noqa: E402
from moto.core.authorization import ActionAuthenticatorMixin  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = sigv4.Credentials("PLACEHOLDERKEY", "placeholder-secret")
ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


@pytest.fixture(scope="module")
def moto_checked() -> Iterator[tuple[str, sigv4.Credentials]]:
    """moto's server checking signatures, and the real credentials it knows."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    saved = settings.INITIAL_NO_AUTH_ACTION_COUNT
    ActionAuthenticatorMixin.request_count = 0
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 3
    try:
        iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIDSETUP",
                           aws_secret_access_key="unchecked")
        iam.create_user(UserName="real")
        iam.put_user_policy(UserName="real", PolicyName="all", PolicyDocument=ALLOW_ALL)
        key = iam.create_access_key(UserName="real")["AccessKey"]
        yield url, sigv4.Credentials(key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        settings.INITIAL_NO_AUTH_ACTION_COUNT = saved
        server.stop()


@contextmanager
def resigning(upstream: str | None, real: sigv4.Credentials, *accept: Placeholder, allow: tuple[str, ...] = (),
              env: dict[str, str] | None = None, **extra: Any) -> Iterator[tuple[str, list[str]]]:
    log: list[str] = []
    app = ResigningProxy({p.access_key_id: p for p in accept or (Placeholder(PLACEHOLDER.access_key_id),)},
                         allow, upstream, None, None, static(real), env or {}, log.append, **extra)
    server = LocalServer(app, "127.0.0.1", 0, ServeLimits()).start()
    try:
        yield server.url, log
    finally:
        server.stop()


def client(service: str, url: str, creds: sigv4.Credentials = PLACEHOLDER, **config: Any) -> Any:
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id=creds.access_key_id,
                        aws_secret_access_key=creds.secret_access_key,
                        config=Config(retries={"max_attempts": 1}, **config))


def test_moto_refuses_the_placeholder_itself(moto_checked: tuple[str, sigv4.Credentials]) -> None:
    """The premise: without the proxy, the placeholder gets nowhere."""
    url, _ = moto_checked
    with pytest.raises(ClientError) as refused:
        client("sts", url).get_caller_identity()
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_boto3_with_placeholders_reaches_sqs_dynamodb_sts_through_the_proxy(
        moto_checked: tuple[str, sigv4.Credentials]) -> None:
    upstream, real = moto_checked
    with resigning(upstream, real) as (url, log):
        assert client("sts", url).get_caller_identity()["Arn"].endswith(":user/real")
        sqs = client("sqs", url)
        queue = sqs.create_queue(QueueName="boundary")["QueueUrl"]
        sqs.send_message(QueueUrl=queue, MessageBody="hello")
        assert sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"] == "hello"
        dynamodb = client("dynamodb", url)
        dynamodb.create_table(TableName="t", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                              BillingMode="PAY_PER_REQUEST")
        dynamodb.put_item(TableName="t", Item={"k": {"S": "v"}})
        assert dynamodb.get_item(TableName="t", Key={"k": {"S": "v"}})["Item"] == {"k": {"S": "v"}}
    assert all(real.secret_access_key not in line and real.access_key_id not in line for line in log)
