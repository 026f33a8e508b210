"""The tokens beyond the six, each equal byte for byte to the implementation its users run, on generated inputs.

Oracles (test extra): `aws-bedrock-token-generator`, `cassandra-sigv4`
(Keyspaces), `pymongo-auth-aws` driven through the BSON subclass pymongo
itself defines, `hvac`'s `iam_login`, `git-remote-codecommit` and the aws
CLI's `codecommit credential-helper get`. SES SMTP is checked against AWS's
published example (the AWS SDK for PHP's test vector, made with the script
in the SES guide) and that script's algorithm; MemoryDB against its
documented recipe rebuilt with botocore's SigV4QueryAuth. Each runs at a
frozen time, with and without a session token.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import io
import json
from datetime import datetime, timedelta, timezone
from unittest import mock
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigv4 import Credentials, InvalidParameterError, SigningError, tokens, verify
from token_oracles import documented_smtp_password, mongodb_context, mongodb_final_payload

pytest.importorskip("botocore", reason="botocore is in the test extra")
from botocore.auth import SigV4QueryAuth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials as BotoCredentials  # noqa: E402
from freezegun import freeze_time  # noqa: E402

NOW = datetime(2024, 2, 29, 23, 59, 58, tzinfo=timezone.utc)
KEY_ID, SECRET, TOKEN = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "FQoGZXIvYXdzEXAMPLETOKEN+/="

_b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_key_ids = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", min_size=16, max_size=20).map(lambda s: "AKIA" + s)
_secrets = st.text(_b64chars, min_size=40, max_size=40)
_session_tokens = st.none() | st.text(_b64chars + "=", min_size=1, max_size=80)
_credentials = st.builds(Credentials, _key_ids, _secrets, _session_tokens)
_regions = st.sampled_from(["us-east-1", "eu-west-3", "ap-northeast-2", "sa-east-1", "us-gov-west-1", "cn-north-1"])
# Whole seconds: every reference formats the time to the second (Keyspaces to the millisecond, tested apart).
_times = st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2035, 1, 1),
                      timezones=st.just(timezone.utc)).map(lambda t: t.replace(microsecond=0))
FEW = settings(max_examples=25, deadline=None)


def _boto(creds: Credentials) -> BotoCredentials:
    return BotoCredentials(creds.access_key_id, creds.secret_access_key, creds.session_token)


# -- Bedrock -------------------------------------------------------------------------------------------------------

@FEW
@given(creds=_credentials, region=_regions, when=_times, expires=st.integers(1, 43200))
def test_bedrock_equals_the_token_generator(creds: Credentials, region: str, when: datetime, expires: int) -> None:
    generator = pytest.importorskip("aws_bedrock_token_generator.token_generator")
    with freeze_time(when):
        expected = generator._generate_token(_boto(creds), region, expires)
        default = generator.BedrockTokenGenerator().get_token(_boto(creds), region)
    assert tokens.bedrock(creds, region, when, expires) == expected
    assert tokens.bedrock(creds, region, when) == default
    report = tokens.describe(expected, when)
    assert report.ok and report.expires_at == when + timedelta(seconds=expires), report.problems
    assert report.token.request is not None and report.token.request.method == "POST"
    verify(report.token.request, lambda key: creds if key == creds.access_key_id else None, now=when,
           expected_service="bedrock")
    if creds.session_token:  # the token is inside: a bearer token works without the caller's session
        url = base64.b64decode(expected.removeprefix("bedrock-api-key-")).decode()
        assert "X-Amz-Security-Token=" in url and url.endswith("&Version=1")


# -- Amazon Keyspaces ----------------------------------------------------------------------------------------------

_nonces = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", min_size=32, max_size=32)
# cassandra-sigv4 rounds to the millisecond and writes `.1000Z` in a second's last half millisecond; we carry
# no such timestamp (see keyspaces_timestamp), so the generated times stay clear of it.
_ms_times = st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2035, 1, 1),
                         timezones=st.just(timezone.utc)).filter(lambda t: t.microsecond < 999500)


@FEW
@given(creds=_credentials, region=_regions, when=_ms_times, nonce=_nonces)
def test_keyspaces_equals_cassandra_sigv4(creds: Credentials, region: str, when: datetime, nonce: str) -> None:
    auth = pytest.importorskip("cassandra_sigv4.auth", reason="cassandra-sigv4 is in the test extra")
    import boto3
    session = boto3.Session(aws_access_key_id=creds.access_key_id, aws_secret_access_key=creds.secret_access_key,
                            aws_session_token=creds.session_token, region_name=region)
    authenticator = auth.SigV4AuthProvider(session).new_authenticator("127.0.0.1")
    assert authenticator.initial_response() == tokens.KEYSPACES_INITIAL_RESPONSE
    with freeze_time(when):
        expected = authenticator.evaluate_challenge(f"nonce={nonce}".encode())
    assert tokens.keyspaces(nonce, creds, region, when) == expected
    assert tokens.keyspaces(f"nonce={nonce}", creds, region, when) == expected  # the challenge as sent
    report = tokens.describe(expected, when)
    assert report.ok and report.expires_at == report.auth.signing_time + timedelta(seconds=900)  # type: ignore[union-attr]
    assert (creds.session_token is not None) == expected.endswith(f",session_token={creds.session_token}")


def test_keyspaces_time_is_milliseconds_never_1000() -> None:
    # cassandra-sigv4 would write `.1000Z` here (round(999.7)); the answer keeps a well-formed time instead.
    assert tokens.keyspaces_timestamp(NOW.replace(microsecond=999700)) == "2024-02-29T23:59:58.999Z"
    assert tokens.keyspaces_timestamp(NOW.replace(microsecond=1600)) == "2024-02-29T23:59:58.002Z"
    with pytest.raises(SigningError, match="^timestamp: naive"):
        tokens.keyspaces("0123456789abcdefghijklmnopqrstuv", Credentials(KEY_ID, SECRET), "us-east-1",
                         NOW.replace(tzinfo=None))


def test_keyspaces_bad_nonce_names_the_field() -> None:
    with pytest.raises(InvalidParameterError, match="^nonce: "):
        tokens.keyspaces("short", Credentials(KEY_ID, SECRET), "us-east-1", NOW)


# -- MONGODB-AWS ---------------------------------------------------------------------------------------------------

_sts_hosts = st.sampled_from(["sts.amazonaws.com", "sts.us-west-2.amazonaws.com", "sts.eu-central-1.amazonaws.com",
                              "localhost", "sts.cn-north-1.amazonaws.com.cn"])


@FEW
@given(creds=_credentials, when=_times, host=_sts_hosts, server_half=st.binary(min_size=32, max_size=32))
def test_mongodb_equals_pymongo_auth_aws(creds: Credentials, when: datetime, host: str, server_half: bytes) -> None:
    pytest.importorskip("pymongo_auth_aws", reason="pymongo-auth-aws is in the test extra")
    pytest.importorskip("bson", reason="pymongo (bson) is in the test extra")
    with freeze_time(when):
        context = mongodb_context(creds.access_key_id, creds.secret_access_key, creds.session_token)
        server_nonce, expected = mongodb_final_payload(context, server_half, host)
    ours = tokens.mongodb(server_nonce, creds, when, host)
    assert base64.b64decode(ours) == expected
    assert tokens.mongodb(base64.b64encode(server_nonce).decode(), creds, when, host) == ours
    assert context.bson_decode(expected).get("t") == creds.session_token
    report = tokens.describe(ours, when)
    assert report.ok and report.auth is not None and report.auth.regions == (tokens.mongodb_region(host),)
    assert "x-mongodb-server-nonce" in report.auth.signed_headers


@pytest.mark.parametrize("host", ["", "a..b", ".sts.amazonaws.com", "x" * 256, "sts/amazonaws"])
def test_mongodb_refuses_a_host_the_driver_spec_refuses(host: str) -> None:
    with pytest.raises(InvalidParameterError, match="^sts_host: "):
        tokens.mongodb(bytes(64), Credentials(KEY_ID, SECRET), NOW, host)


def test_mongodb_refuses_a_nonce_that_is_not_64_bytes() -> None:
    with pytest.raises(InvalidParameterError, match="^server_nonce: "):
        tokens.mongodb(bytes(32), Credentials(KEY_ID, SECRET), NOW)


# -- HashiCorp Vault -----------------------------------------------------------------------------------------------

@FEW
@given(creds=_credentials, region=_regions, when=_times,
       server_id=st.none() | st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=30),
       role=st.none() | st.sampled_from(["dev-role", "prod"]))
def test_vault_equals_hvac_iam_login(creds: Credentials, region: str, when: datetime, server_id: str | None,
                                     role: str | None) -> None:
    aws = pytest.importorskip("hvac.api.auth_methods.aws", reason="hvac is in the test extra")
    adapter = mock.Mock()
    with freeze_time(when):
        aws.Aws(adapter).iam_login(creds.access_key_id, creds.secret_access_key, creds.session_token,
                                   header_value=server_id, role=role, region=region)
    expected = json.dumps(adapter.login.call_args.kwargs["json"])
    ours = tokens.vault(creds, region, when, server_id=server_id, role=role)
    assert ours == expected
    request = tokens.vault_sts_request(ours)
    assert request.header("X-Vault-AWS-IAM-Server-ID") == server_id
    assert request.header("X-Amz-Security-Token") == creds.session_token
    verify(request, lambda key: creds if key == creds.access_key_id else None, now=when, expected_service="sts")
    assert tokens.describe(ours, when).ok


# -- CodeCommit ----------------------------------------------------------------------------------------------------

_repositories = st.from_regex(r"[A-Za-z0-9._-]{1,40}", fullmatch=True)


@FEW
@given(creds=_credentials, region=_regions, when=_times, repository=_repositories)
def test_codecommit_equals_git_remote_codecommit(creds: Credentials, region: str, when: datetime,
                                                 repository: str) -> None:
    grc = pytest.importorskip("git_remote_codecommit", reason="git-remote-codecommit is in the test extra")
    with mock.patch.dict("os.environ", {}, clear=True), freeze_time(when):
        expected = grc.git_url(repository, "v1", region, _boto(creds))
    assert tokens.codecommit(repository, creds, region, when) == expected
    report = tokens.describe(expected, when)
    assert report.ok and report.auth is not None and report.auth.service == "codecommit", report.problems


@pytest.mark.parametrize("token", [None, TOKEN], ids=["long-term", "session"])
def test_codecommit_equals_the_aws_cli_credential_helper(capsys: pytest.CaptureFixture[str],
                                                         token: str | None) -> None:
    from awscli.customizations.codecommit import CodeCommitGetCommand
    from botocore.session import Session
    session = Session()
    session.set_credentials(KEY_ID, SECRET, token)
    asked = "protocol=https\nhost=git-codecommit.eu-west-1.amazonaws.com\npath=v1/repos/my-repo\n\n"
    with mock.patch("sys.stdin", io.StringIO(asked)), freeze_time(NOW):
        CodeCommitGetCommand(session)._run_main(argparse.Namespace(ignore_host_check=False),
                                                argparse.Namespace(region=None))
    helper = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    ours = tokens.codecommit("my-repo", Credentials(KEY_ID, SECRET, token), "eu-west-1", NOW)
    # git reads the URL's user info percent-decoded: the helper's user name and password, as they are.
    assert ours == (f"https://{quote(helper['username'], safe='')}:{helper['password']}"
                    "@git-codecommit.eu-west-1.amazonaws.com/v1/repos/my-repo")
    assert (token is not None) == helper["username"].endswith(f"%{token}")


def test_codecommit_refuses_a_repository_name_with_a_slash() -> None:
    with pytest.raises(InvalidParameterError, match="^repository: "):
        tokens.codecommit("a/b", Credentials(KEY_ID, SECRET), "us-east-1", NOW)


# -- SES SMTP ------------------------------------------------------------------------------------------------------

def test_ses_smtp_reproduces_aws_published_example() -> None:
    """AWS's example key and its SMTP password for us-east-2, from the AWS SDK for PHP's SesClientTest
    (`generateSmtpPasswordV4`), made with the script in the SES developer guide."""
    creds = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    assert tokens.ses_smtp(creds, "us-east-2") == "BMPPgbAHoFVbze1Ud0oA5uNdXRwUXUZ+qOwphGJbl/cS"


@FEW
@given(secret=_secrets | st.text(min_size=1, max_size=60), region=_regions)
def test_ses_smtp_equals_the_documented_algorithm(secret: str, region: str) -> None:
    password = tokens.ses_smtp(Credentials(KEY_ID, secret), region)
    assert password == documented_smtp_password(secret, region)
    report = tokens.describe(password, NOW)
    assert report.token.kind == "ses_smtp" and report.ok and report.expires_at is None


def test_ses_smtp_refuses_temporary_credentials_and_flags_a_retired_password() -> None:
    with pytest.raises(InvalidParameterError, match="^credentials: .*session token"):
        tokens.ses_smtp(Credentials(KEY_ID, SECRET, TOKEN), "us-east-1")
    # The retired version 2 (AWS's earlier example): HMAC of SendRawEmail alone, behind 0x02.
    legacy = base64.b64encode(b"\x02" + hmac.new(SECRET.encode(), b"SendRawEmail", hashlib.sha256).digest()).decode()
    assert [p for p in tokens.describe(legacy, NOW).problems if p.startswith("version 2: ")]


# -- MemoryDB ------------------------------------------------------------------------------------------------------

@FEW
@given(creds=_credentials, region=_regions, when=_times,
       cluster=st.from_regex(r"[a-z][a-z0-9-]{0,38}", fullmatch=True),
       user=st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=20))
def test_memorydb_follows_the_documented_recipe(creds: Credentials, region: str, when: datetime, cluster: str,
                                                user: str) -> None:
    ours = tokens.memorydb(cluster, user, creds, region, when)
    # AWS's MemoryDB guide: presign GET http://<cluster name>/?Action=connect&User=<user> for `memorydb`, 900 s.
    request = AWSRequest(method="GET", url=f"http://{cluster}/", params={"Action": "connect", "User": user})
    with freeze_time(when):
        SigV4QueryAuth(_boto(creds), "memorydb", region, expires=900).add_auth(request)
    assert ours.rpartition("X-Amz-Signature=")[2] == request.prepare().url.rpartition("X-Amz-Signature=")[2]
    assert ours.startswith(f"{cluster}/?Action=connect&User=")
    decoded = tokens.decode(ours)
    assert decoded.kind == "memorydb" and decoded.request is not None
    verify(decoded.request, lambda key: creds if key == creds.access_key_id else None, now=when,
           expected_service="memorydb")
    assert (creds.session_token is not None) == ("X-Amz-Security-Token=" in ours)


def test_memorydb_and_elasticache_tokens_tell_apart() -> None:
    creds = Credentials(KEY_ID, SECRET)
    assert tokens.decode(tokens.memorydb("c1", "u", creds, "us-east-1", NOW)).kind == "memorydb"
    assert tokens.decode(tokens.elasticache("c1", "u", creds, "us-east-1", NOW)).kind == "elasticache"
