"""MONGODB-AWS and Vault IAM logins end to end: the server's side rebuilds the signed GetCallerIdentity, moto's STS answers.

A MongoDB server (or Vault) does not check the signature itself: it rebuilds
the request from the client's payload (`tokens.mongodb_sts_request`,
`tokens.vault_sts_request`) and forwards it to STS, which does. Here moto
plays STS with signature checking on (after the setup actions, as in
test_diagnose_moto), for an IAM user's key and for temporary credentials of
an assumed role; a rebuild with another nonce is refused, so the check is real.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from datetime import datetime, timezone
from urllib.parse import urlsplit

import pytest

from sigv4 import Credentials, Request, tokens

pytest.importorskip("moto.server", reason="moto is in the test extra")
boto3 = pytest.importorskip("boto3", reason="boto3 is in the test extra")
from moto_checking import moto_checking_signatures  # noqa: E402

ADMIN = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                             "Action": "sts:AssumeRole"}]})


@pytest.fixture(scope="module")
def moto_sts() -> Iterator[tuple[int, dict[str, Credentials]]]:
    """moto on loopback checking every signature after the five setup actions; alice's key and a role session."""
    with moto_checking_signatures(5) as url:
        setup = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE",
                     aws_secret_access_key="unchecked")
        iam = boto3.client("iam", **setup)
        iam.create_user(UserName="tokens-alice")
        iam.put_user_policy(UserName="tokens-alice", PolicyName="all", PolicyDocument=ADMIN)
        key = iam.create_access_key(UserName="tokens-alice")["AccessKey"]
        role = iam.create_role(RoleName="tokens-app", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        iam.put_role_policy(RoleName="tokens-app", PolicyName="all", PolicyDocument=ADMIN)
        alice = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
        sts = boto3.client("sts", **{**setup, "aws_access_key_id": alice.access_key_id,
                                     "aws_secret_access_key": alice.secret_access_key})
        temporary = sts.assume_role(RoleArn=role, RoleSessionName="s1")["Credentials"]
        yield int(urlsplit(url).port or 0), {
            "long-term": alice, "session": Credentials(temporary["AccessKeyId"], temporary["SecretAccessKey"],
                                                       temporary["SessionToken"])}


def _forward(port: int, request: Request) -> tuple[int, str]:
    """Send `request` as signed (its Host header included) to moto on loopback, as mongod or Vault sends it to STS."""
    target = urlsplit(request.url)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        body = request.body if isinstance(request.body, bytes) else b""
        connection.request(request.method, target.path or "/", body, dict(request.headers))
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


@pytest.mark.parametrize("who, arn", [("long-term", ":user/tokens-alice"), ("session", ":assumed-role/tokens-app/s1")])
def test_mongodb_payload_is_accepted_by_sts(moto_sts: tuple[int, dict[str, Credentials]], who: str,
                                            arn: str) -> None:
    port, creds = moto_sts
    nonce = bytes(range(64))
    payload = tokens.mongodb(nonce, creds[who], _now())
    status, body = _forward(port, tokens.mongodb_sts_request(payload, nonce))
    assert status == 200 and arn in body, body
    # The nonce is signed: a server that rebuilds with another nonce (a replayed payload) is refused.
    status, body = _forward(port, tokens.mongodb_sts_request(payload, bytes(64)))
    assert status == 403 and "SignatureDoesNotMatch" in body, body


@pytest.mark.parametrize("who, arn", [("long-term", ":user/tokens-alice"), ("session", ":assumed-role/tokens-app/s1")])
@pytest.mark.parametrize("server_id", [None, "vault.example.com"])
def test_vault_login_body_is_accepted_by_sts(moto_sts: tuple[int, dict[str, Credentials]], who: str, arn: str,
                                             server_id: str | None) -> None:
    port, creds = moto_sts
    payload = tokens.vault(creds[who], "us-east-1", _now(), server_id=server_id, role="dev")
    request = tokens.vault_sts_request(payload)
    status, body = _forward(port, request)
    assert status == 200 and arn in body, body
    if server_id:  # the server id is signed: Vault's check of it cannot be stripped in transit
        headers = [(n, "other" if n == "X-Vault-AWS-IAM-Server-ID" else v) for n, v in request.headers]
        forged = Request(request.method, request.url, headers, request.body)
        assert _forward(port, forged)[0] == 403
