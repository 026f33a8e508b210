"""IAM authentication tokens against their reference implementations at a frozen time.

Oracles: botocore's `generate_db_auth_token`, `generate_db_connect_auth_token`
and `generate_db_connect_admin_auth_token`; awscli's `aws eks get-token`
(TokenGenerator over its STS client); `aws-msk-iam-sasl-signer-python`.
ElastiCache and Neptune have no installed reference: their documented recipes
are rebuilt with botocore's signers (SigV4QueryAuth on `http://<cache>/`,
SigV4Auth on `GET /opencypher` with `Host: host:port`), and every token is
also verified with `sigv4.verify` and checked for the recipe's URL shape.
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path
from urllib.parse import quote
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli_run import run_cli
from sigv4 import Credentials, InvalidParameterError, Request, tokens, verify

botocore_session = pytest.importorskip("botocore.session", reason="botocore is in the test extra")
from botocore.auth import SigV4Auth, SigV4QueryAuth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials as BotoCredentials  # noqa: E402
from freezegun import freeze_time  # noqa: E402

NOW = datetime(2024, 2, 29, 23, 59, 58, tzinfo=timezone.utc)
KEY_ID, SECRET, TOKEN = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "FQoGZXIvYXdzEXAMPLETOKEN+/="
SESSION = [None, TOKEN]


def _creds(token: str | None) -> Credentials:
    return Credentials(KEY_ID, SECRET, token)


@pytest.fixture()
def session(request: pytest.FixtureRequest) -> Iterator[object]:
    with mock.patch.dict(os.environ, {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, clear=True):
        s = botocore_session.Session()
        s.set_credentials(KEY_ID, SECRET, request.param)
        yield s


def _lookup(token: str | None):  # type: ignore[no-untyped-def]
    return lambda key: _creds(token) if key == KEY_ID else None


@pytest.mark.parametrize("session", SESSION, indirect=True, ids=["long-term", "session"])
@pytest.mark.parametrize("host,port,user", [
    ("mydb.123456789012.us-east-1.rds.amazonaws.com", 5432, "iam_user"),
    ("mydb.cluster-abc.eu-west-1.rds.amazonaws.com", 3306, "app user@x/y+z"),
    ("10.0.0.1", 443, "ünïcode"),
])
def test_rds_equals_botocore(session, host: str, port: int, user: str) -> None:  # type: ignore[no-untyped-def]
    region = "eu-west-1" if "eu-west-1" in host else "us-east-1"
    with freeze_time(NOW):
        expected = session.create_client("rds", region_name=region).generate_db_auth_token(host, port, user)
    ours = tokens.rds(host, port, user, _creds(session.get_credentials().token), region, NOW)
    assert ours == expected
    assert ours.startswith(f"{host}:{port}/?Action=connect&DBUser=")
    assert "X-Amz-Expires=900&" in ours


@pytest.mark.parametrize("session", SESSION, indirect=True, ids=["long-term", "session"])
@pytest.mark.parametrize("admin", [False, True])
def test_dsql_equals_botocore(session, admin: bool) -> None:  # type: ignore[no-untyped-def]
    host = "abcdefghijklmnopqrst234567.dsql.us-east-1.on.aws"
    with freeze_time(NOW):
        client = session.create_client("dsql", region_name="us-east-1")
        reference = client.generate_db_connect_admin_auth_token if admin else client.generate_db_connect_auth_token
        expected = reference(host, "us-east-1")
    assert tokens.dsql(host, _creds(session.get_credentials().token), "us-east-1", NOW, admin=admin) == expected
    assert expected.startswith(f"{host}/?Action={'DbConnectAdmin' if admin else 'DbConnect'}&")


@pytest.mark.parametrize("session", SESSION, indirect=True, ids=["long-term", "session"])
@pytest.mark.parametrize("region,cluster", [("us-west-2", "my-cluster"), ("us-east-1", "prod_1"),
                                            ("eu-central-1", "a.b-c")])
def test_eks_equals_aws_eks_get_token(session, region: str, cluster: str) -> None:  # type: ignore[no-untyped-def]
    from awscli.customizations.eks.get_token import STSClientFactory, TokenGenerator
    with freeze_time(NOW):
        expected = TokenGenerator(STSClientFactory(session).get_sts_client(region_name=region)).get_token(cluster)
    ours = tokens.eks(cluster, _creds(session.get_credentials().token), region, NOW)
    assert ours == expected
    assert ours.startswith("k8s-aws-v1.") and not ours.endswith("=")
    url = base64.urlsafe_b64decode(ours[11:] + "==").decode()
    assert url.startswith(f"https://sts.{region}.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&")
    assert "X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Expires=60&" in url


@pytest.mark.parametrize("token", SESSION, ids=["long-term", "session"])
@pytest.mark.parametrize("region", ["us-east-1", "ap-southeast-2"])
def test_msk_equals_the_msk_signer(token: str | None, region: str) -> None:
    signer = pytest.importorskip("aws_msk_iam_sasl_signer.MSKAuthTokenProvider",
                                 reason="aws-msk-iam-sasl-signer-python is in the test extra")
    construct = getattr(signer, "__construct_auth_token")
    user_agent = getattr(signer, "__get_user_agent__")()
    with freeze_time(NOW):
        expected, expiry_ms = construct(region, BotoCredentials(KEY_ID, SECRET, token))
    assert tokens.msk(_creds(token), region, NOW, user_agent=user_agent) == expected
    assert expiry_ms == int((NOW + timedelta(seconds=900)).timestamp() * 1000)
    assert tokens.describe(expected, NOW).expires_at == NOW + timedelta(seconds=900)


@pytest.mark.parametrize("token", SESSION, ids=["long-term", "session"])
@pytest.mark.parametrize("serverless", [False, True])
def test_elasticache_follows_the_documented_recipe(token: str | None, serverless: bool) -> None:
    ours = tokens.elasticache("my-replication-group", "iam-user-01", _creds(token), "us-east-1", NOW,
                              serverless=serverless)
    shape = (r"my-replication-group/\?Action=connect&User=iam-user-01" + ("&ResourceType=ServerlessCache" if serverless
                                                                           else "")
             + r"&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20240229%2Fus-east-1%2Felasticache"
             r"%2Faws4_request&X-Amz-Date=20240229T235958Z&X-Amz-SignedHeaders=host&X-Amz-Expires=900"
             + ("&X-Amz-Security-Token=FQoGZXIvYXdzEXAMPLETOKEN%2B%2F%3D" if token else "")
             + r"&X-Amz-Signature=[0-9a-f]{64}")
    assert re.fullmatch(shape, ours), ours
    # The recipe (AWS's Java example) presigns `GET http://<cache name>/?Action=connect&User=...` for 900 s.
    params = {"Action": "connect", "User": "iam-user-01", **({"ResourceType": "ServerlessCache"} if serverless else {})}
    request = AWSRequest(method="GET", url="http://my-replication-group/", params=params)
    with freeze_time(NOW):
        SigV4QueryAuth(BotoCredentials(KEY_ID, SECRET, token), "elasticache", "us-east-1", expires=900).add_auth(request)
    assert ours.rpartition("X-Amz-Signature=")[2] == request.prepare().url.rpartition("X-Amz-Signature=")[2]
    identity = verify(Request("GET", "http://" + ours), _lookup(token), now=NOW + timedelta(seconds=899),
                      expected_service="elasticache")
    assert identity.signed_headers == ("host",)


@pytest.mark.parametrize("token", SESSION, ids=["long-term", "session"])
@pytest.mark.parametrize("port", [8182, 443])
def test_neptune_follows_the_documented_recipe(token: str | None, port: int) -> None:
    host = "db.cluster-abc.us-east-1.neptune.amazonaws.com"
    ours = tokens.neptune(host, port, _creds(token), "us-east-1", NOW)
    # AWS's Bolt example: SigV4Auth over GET <url>/opencypher with Host set from the URL (a bolt:// URL keeps the
    # port, whatever it is), dumped as JSON with HttpMethod.
    request = AWSRequest(method="GET", url=f"bolt://{host}:{port}/opencypher")
    request.headers.add_header("Host", f"{host}:{port}")
    with freeze_time(NOW):
        SigV4Auth(BotoCredentials(KEY_ID, SECRET, token), "neptune-db", "us-east-1").add_auth(request)
    expected = {h: request.headers[h] for h in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token", "Host")}
    expected["HttpMethod"] = request.method
    assert ours == json.dumps(expected)
    assert json.loads(ours)["Host"] == f"{host}:{port}"
    decoded = tokens.decode(ours)
    assert verify(decoded.request, _lookup(token), now=NOW, expected_service="neptune-db").service == "neptune-db"


def _all_tokens(token: str | None) -> dict[str, str]:
    creds = _creds(token)
    return {
        "rds": tokens.rds("mydb.123456789012.us-east-1.rds.amazonaws.com", 5432, "u", creds, "us-east-1", NOW),
        "dsql": tokens.dsql("abc.dsql.us-east-1.on.aws", creds, "us-east-1", NOW, admin=True),
        "eks": tokens.eks("c1", creds, "us-east-1", NOW),
        "elasticache": tokens.elasticache("cache-1", "u", creds, "us-east-1", NOW, serverless=True),
        "msk": tokens.msk(creds, "us-east-1", NOW),
        "neptune": tokens.neptune("db.cluster-abc.us-east-1.neptune.amazonaws.com", 8182, creds, "us-east-1", NOW),
        "memorydb": tokens.memorydb("cluster-1", "u", creds, "us-east-1", NOW),
        "bedrock": tokens.bedrock(creds, "us-west-2", NOW, 3600),
        "keyspaces": tokens.keyspaces("0123456789abcdefghijklmnopqrstuv", creds, "us-east-1", NOW),
        "mongodb": tokens.mongodb(bytes(range(64)), creds, NOW, "sts.us-west-2.amazonaws.com"),
        "vault": tokens.vault(creds, "us-east-1", NOW, server_id="vault.example.com", role="dev"),
        "codecommit": tokens.codecommit("my-repo", creds, "eu-west-1", NOW),
        # SMTP carries no session token: the password comes from the key alone (see test_tokens_oracles)
        "ses_smtp": tokens.ses_smtp(Credentials(KEY_ID, SECRET), "us-east-1"),
    }


_LIFETIMES = {"rds": 900, "dsql": 900, "eks": 900, "elasticache": 900, "msk": 900, "neptune": 300, "memorydb": 900,
              "bedrock": 3600, "keyspaces": 900, "mongodb": 900, "vault": 900, "codecommit": 900}
#: Kinds whose decoded request `sigv4.verify` checks as their server does (EKS signs a header the token does not
#: carry; CodeCommit signs no payload hash line; Keyspaces, MONGODB-AWS and SES SMTP carry no whole request).
_VERIFIABLE = ("rds", "dsql", "elasticache", "memorydb", "msk", "neptune", "bedrock", "vault")


@pytest.mark.parametrize("kind", tokens.KINDS)
@pytest.mark.parametrize("token", SESSION, ids=["long-term", "session"])
def test_decode_and_describe_every_kind(kind: str, token: str | None) -> None:
    text = _all_tokens(token)[kind]
    report = tokens.describe(text, NOW + timedelta(seconds=30))
    assert report.token.kind == kind and report.ok, report.problems
    lines = tokens.render_report(report, NOW)
    assert lines[1] == f"for: {tokens.RECIPES[kind].purpose}"  # type: ignore[index]
    if kind == "ses_smtp":  # a derived key: no signature, no expiry
        assert report.auth is None and report.expires_at is None
        assert "stops working: never by itself" in "\n".join(lines)
        return
    assert report.auth.service == tokens.RECIPES[kind].service  # type: ignore[index,union-attr]
    assert report.expires_at == NOW + timedelta(seconds=_LIFETIMES[kind])
    if kind in _VERIFIABLE:
        verify(report.token.request, _lookup(token), now=NOW, expected_service=report.auth.service)  # type: ignore[arg-type,union-attr]
    expired = tokens.describe(text, report.expires_at)  # type: ignore[arg-type]
    assert [p for p in expired.problems if p.startswith("expired:")]
    assert not token or all(token not in line and "FQoG" not in line for line in lines)
    assert any(line.startswith("stops working: ") for line in lines)


def test_describe_flags_a_scope_that_does_not_fit_the_recipe() -> None:
    url = tokens.rds("mydb.x.eu-west-1.rds.amazonaws.com", 5432, "u", _creds(None), "us-east-1", NOW)
    report = tokens.describe(url, NOW)
    assert any("region 'us-east-1', but the host" in p for p in report.problems)
    wrong_service = url.replace("%2Frds-db%2F", "%2Frds%2F")
    assert any("service 'rds'" in p for p in tokens.describe(wrong_service, NOW).problems)


@pytest.mark.parametrize("call,field", [
    (lambda c: tokens.rds("https://db", 5432, "u", c, "us-east-1", NOW), "host"),
    (lambda c: tokens.rds("db", 0, "u", c, "us-east-1", NOW), "port"),
    (lambda c: tokens.rds("db", True, "u", c, "us-east-1", NOW), "port"),
    (lambda c: tokens.rds("db", 5432, "", c, "us-east-1", NOW), "user"),
    (lambda c: tokens.rds("db", 5432, "a\r\nb", c, "us-east-1", NOW), "user"),
    (lambda c: tokens.dsql("db/x", c, "us-east-1", NOW), "host"),
    (lambda c: tokens.eks("", c, "us-east-1", NOW), "cluster"),
    (lambda c: tokens.elasticache("my cache", "u", c, "us-east-1", NOW), "cache_name"),
    (lambda c: tokens.neptune("db", 70000, c, "us-east-1", NOW), "port"),
    (lambda c: tokens.msk(c, "", NOW), "region"),
])
def test_bad_input_names_the_field(call, field: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidParameterError, match=f"^{field}: "):
        call(_creds(None))


@pytest.mark.parametrize("text", ["", "hello", "k8s-aws-v1.!!!", "{not json", '{"Host": 1}',
                                  "db:5432/?Action=connect", "aHR0cHM6Ly9leGFtcGxlLmNvbS8"])
def test_decode_refuses_what_is_no_token(text: str) -> None:
    with pytest.raises(InvalidParameterError, match="^token: "):
        tokens.decode(text)


# -- the command line: `sigv4 token KIND ...`, `sigv4 explain TOKEN` ---------------------------------------------

CLI_ENV = {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": TOKEN,
           "AWS_EC2_METADATA_DISABLED": "true"}


@pytest.mark.parametrize("argv, expected", [
    (["rds", "--host", "db.x.eu-west-1.rds.amazonaws.com", "--port", "5432", "--user", "app"],
     lambda c: tokens.rds("db.x.eu-west-1.rds.amazonaws.com", 5432, "app", c, "eu-west-1", NOW)),
    (["dsql", "--host", "abc.dsql.us-east-1.on.aws", "--admin"],
     lambda c: tokens.dsql("abc.dsql.us-east-1.on.aws", c, "us-east-1", NOW, admin=True)),
    (["eks", "--cluster", "prod", "--region", "us-west-2"], lambda c: tokens.eks("prod", c, "us-west-2", NOW)),
    (["elasticache", "--cache-name", "c1", "--user", "u", "--serverless", "--region", "eu-central-1"],
     lambda c: tokens.elasticache("c1", "u", c, "eu-central-1", NOW, serverless=True)),
    (["msk", "--region", "ap-south-1"], lambda c: tokens.msk(c, "ap-south-1", NOW)),
    (["neptune", "--host", "n.cluster-1.us-east-2.neptune.amazonaws.com", "--port", "8182"],
     lambda c: tokens.neptune("n.cluster-1.us-east-2.neptune.amazonaws.com", 8182, c, "us-east-2", NOW)),
    (["memorydb", "--cluster-name", "c1", "--user", "u", "--region", "eu-west-1"],
     lambda c: tokens.memorydb("c1", "u", c, "eu-west-1", NOW)),
    (["bedrock", "--region", "us-west-2"], lambda c: tokens.bedrock(c, "us-west-2", NOW)),
    (["bedrock", "--expires", "900"], lambda c: tokens.bedrock(c, "us-east-1", NOW, 900)),
    (["keyspaces", "--nonce", "nonce=0123456789abcdefghijklmnopqrstuv", "--region", "eu-central-1"],
     lambda c: tokens.keyspaces("0123456789abcdefghijklmnopqrstuv", c, "eu-central-1", NOW)),
    (["mongodb", "--server-nonce", base64.b64encode(bytes(64)).decode(), "--sts-host", "sts.us-west-2.amazonaws.com"],
     lambda c: tokens.mongodb(bytes(64), c, NOW, "sts.us-west-2.amazonaws.com")),
    (["vault", "--server-id", "vault.example.com", "--role", "dev"],
     lambda c: tokens.vault(c, "us-east-1", NOW, server_id="vault.example.com", role="dev")),
    (["vault"], lambda c: tokens.vault(c, "us-east-1", NOW)),
    (["codecommit", "--repository", "my-repo", "--region", "ap-south-1"],
     lambda c: tokens.codecommit("my-repo", c, "ap-south-1", NOW)),
])
def test_cli_token_prints_the_library_token(capsys: pytest.CaptureFixture[str], argv: list[str], expected) -> None:  # type: ignore[no-untyped-def]
    import cli
    assert cli.main(["token", *argv, "--date", "20240229T235958Z"], CLI_ENV) == 0
    assert capsys.readouterr().out == expected(_creds(TOKEN)) + "\n"


def test_cli_ses_smtp_prints_the_password_of_a_long_term_key(capsys: pytest.CaptureFixture[str]) -> None:
    import cli
    env = {**CLI_ENV, "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
           "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
    del env["AWS_SESSION_TOKEN"]
    assert cli.main(["token", "ses-smtp", "--region", "us-east-2"], env) == 0
    password = capsys.readouterr().out
    assert password == "BMPPgbAHoFVbze1Ud0oA5uNdXRwUXUZ+qOwphGJbl/cS\n"  # AWS's published example
    assert cli.main(["explain", password.strip()], env) == 0
    assert capsys.readouterr().out.startswith("token: ses_smtp (ses)\nfor: the SES SMTP password")


@pytest.mark.parametrize("argv", [["bedrock"], ["keyspaces", "--nonce", "0123456789abcdefghijklmnopqrstuv"],
                                  ["mongodb", "--server-nonce", base64.b64encode(bytes(64)).decode()],
                                  ["vault", "--server-id", "v"], ["codecommit", "--repository", "r"],
                                  ["memorydb", "--cluster-name", "c", "--user", "u"]])
def test_cli_token_then_explain_round_trips_with_a_session_token(capsys: pytest.CaptureFixture[str],
                                                                 argv: list[str]) -> None:
    """`sigv4 token KIND ... | sigv4 explain -`: the token carries the session token, the explanation masks it."""
    import cli
    assert cli.main(["token", *argv], CLI_ENV) == 0
    token = capsys.readouterr().out.strip()
    unwrap = {"bedrock": lambda t: base64.b64decode(t.removeprefix("bedrock-api-key-")).decode(),
              "mongodb": lambda t: base64.b64decode(t).decode("latin-1"),
              "vault": lambda t: base64.b64decode(json.loads(t)["iam_request_headers"]).decode()}
    text = unwrap.get(argv[0], str)(token)
    assert TOKEN in text or quote(TOKEN, safe="") in text
    assert cli.main(["explain", token], CLI_ENV) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"token: {argv[0]} (") and "ok: " in out, out
    assert TOKEN not in out and quote(TOKEN, safe="") not in out and "FQoG" not in out


def test_cli_explain_decodes_a_token_and_masks_the_session_token(capsys: pytest.CaptureFixture[str]) -> None:
    import cli
    fresh = tokens.eks("prod", _creds(TOKEN), "us-east-1", datetime.now(timezone.utc))
    assert cli.main(["explain", fresh], CLI_ENV) == 0
    out = capsys.readouterr().out
    assert out.startswith("token: eks (sts)\n") and "stops working: " in out and TOKEN not in out
    stale = tokens.rds("db", 5432, "u", _creds(None), "us-east-1", NOW)
    assert cli.main(["explain", stale], CLI_ENV) == 1
    assert "problem: expired: stopped working at 2024-03-01T00:14:58Z" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["token", "rds", "--host", "db", "--port", "0", "--user", "u"], "port: 0 must be an integer 1..65535"),
    (["token", "rds", "--host", "db", "--user", "u"], "the following arguments are required: --port"),
    (["token", "eks", "--cluster", "c\x01"], "cluster: 'c\\x01' contains a control character"),
    (["token", "redshift"], "invalid choice: 'redshift'"),
    (["token", "ses-smtp"], "credentials: SES SMTP signs in with an IAM user's access key and secret only"),
    (["token", "mongodb", "--server-nonce", "AAAA"], "server_nonce: must be 64 bytes"),
    (["token", "bedrock", "--expires", "43201"], "expires: 43201 must be an integer 1..43200 seconds"),
    (["token", "keyspaces"], "the following arguments are required: --nonce"),
])
def test_cli_token_errors_are_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    import cli
    assert cli.main(argv, CLI_ENV) == 2
    err = capsys.readouterr().err
    assert err.startswith("sigv4: error: ") and message in err and err.count("\n") == 1


# -- differential, any input: botocore and our tokens agree -----------------------------------------------------

_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
_hosts = st.lists(_label, min_size=2, max_size=5).map(".".join)
_regions = st.sampled_from(["us-east-1", "eu-west-3", "ap-northeast-2", "sa-east-1", "us-gov-west-1", "cn-north-1"])
_times = st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(timezone.utc))
_users = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=20)


@settings(max_examples=20, deadline=None)
@given(host=_hosts, port=st.integers(1, 65535), user=_users, region=_regions, when=_times,
       token=st.sampled_from(SESSION))
def test_rds_and_dsql_equal_botocore_for_any_input(host: str, port: int, user: str, region: str, when: datetime,
                                                    token: str | None) -> None:
    s = botocore_session.Session()
    s.set_credentials(KEY_ID, SECRET, token)
    with mock.patch.dict(os.environ, {}, clear=True), freeze_time(when):
        rds_client = s.create_client("rds", region_name=region)
        expected = rds_client.generate_db_auth_token(host, port, user)
        dsql_client = s.create_client("dsql", region_name=region)
        expected_dsql = dsql_client.generate_db_connect_admin_auth_token(host, region)
    assert tokens.rds(host, port, user, _creds(token), region, when) == expected
    assert tokens.dsql(host, _creds(token), region, when, admin=True) == expected_dsql


@pytest.mark.parametrize("text, message", [
    # a token pasted without its signature (cut at the first `&` by a shell, or a URL of the recipe unsigned)
    ("mydb.x.us-east-1.rds.amazonaws.com:5432/?Action=connect&DBUser=u", "token: no Authorization header"),
    # an EKS token whose base64 was mangled in a copy: a token error, not "cannot read (No such file)"
    ("k8s-aws-v1.!!!!", "token: does not decode to a presigned URL"),
])
def test_cli_explain_of_a_broken_token_is_one_line(capsys: pytest.CaptureFixture[str], text: str,
                                                    message: str) -> None:
    import cli
    assert cli.main(["explain", text], CLI_ENV) == 2
    err = capsys.readouterr().err
    assert err.startswith("sigv4: error: ") and message in err and err.count("\n") == 1, err


def test_cli_explain_reads_a_token_from_stdin_or_a_file(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    """`sigv4 token msk | sigv4 explain -` and `sigv4 token eks > t; sigv4 explain t`, as people chain them."""
    import io

    import cli
    fresh = tokens.msk(_creds(TOKEN), "us-east-1", datetime.now(timezone.utc))
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(fresh.encode() + b"\n")))
    assert cli.main(["explain", "-"], CLI_ENV) == 0
    assert capsys.readouterr().out.startswith("token: msk (kafka-cluster)\n")
    saved = tmp_path / "eks.tok"
    saved.write_text(tokens.eks("prod", _creds(None), "us-east-1", datetime.now(timezone.utc)) + "\n")
    assert cli.main(["explain", str(saved)], CLI_ENV) == 0
    assert capsys.readouterr().out.startswith("token: eks (sts)\n")


@pytest.mark.parametrize("exec_info", [None, '{"apiVersion": "client.authentication.k8s.io/v1", "kind": '
                                       '"ExecCredential", "spec": {"interactive": false}}',
                                       '{"apiVersion": "client.authentication.k8s.io/v1alpha1"}',
                                       '{"apiVersion": "client.authentication.k8s.io/v2"}', "{not json"],
                         ids=["unset", "v1", "v1alpha1", "unknown", "malformed"])
def test_token_eks_exec_credential_equals_aws_eks_get_token(capsys: pytest.CaptureFixture[str],
                                                           exec_info: str | None) -> None:
    import awscli
    import cli
    from awscli.clidriver import create_clidriver
    env = {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": TOKEN,
           "HOME": "/nonexistent", **({"KUBERNETES_EXEC_INFO": exec_info} if exec_info else {})}
    data_path = {"AWS_DATA_PATH": os.path.join(os.path.dirname(awscli.__file__), "data")}  # its own models
    with mock.patch.dict(os.environ, {**env, **data_path}, clear=True), freeze_time(NOW):
        assert create_clidriver().main(["eks", "get-token", "--cluster-name", "prod", "--region", "eu-west-1"]) == 0
    theirs = capsys.readouterr()
    assert cli.main(["token", "eks", "--cluster", "prod", "--region", "eu-west-1", "--exec-credential", "--date",
                     f"{NOW:%Y%m%dT%H%M%SZ}"], env) == 0
    ours = capsys.readouterr()
    assert json.loads(ours.out) == json.loads(theirs.out)  # field by field: kind, apiVersion, spec, status
    assert ours.out == theirs.out and ours.err == theirs.err  # and byte for byte, warnings included


def test_a_keyspaces_answer_signed_in_year_9999_is_a_typed_error() -> None:
    answer = "signature=7a3c,access_key=AKIDEXAMPLE,amzdate=9999-12-31T23:59:59.000Z"
    with pytest.raises(InvalidParameterError, match="past year 9999"):
        tokens.describe(answer, datetime(2026, 1, 1, tzinfo=timezone.utc))
    code, out, err = run_cli(["explain", answer], {"HOME": "/nonexistent"})
    assert (code, out) == (2, b"") and err.count("\n") == 1 and "past year 9999" in err


def test_explain_reads_the_exec_credential_kubectl_runs(tmp_path: Path) -> None:
    """`sigv4 token eks --exec-credential | sigv4 explain -` (or `aws eks get-token`'s JSON): its token is read."""
    code, document, err = run_cli(["token", "eks", "--cluster", "prod", "--exec-credential"], CLI_ENV)
    assert (code, err) == (0, "") and document.count(b"\n") > 5
    saved = tmp_path / "exec-credential.json"
    saved.write_bytes(document)
    for where in (str(saved), document.decode()):
        code, out, err = run_cli(["explain", where], CLI_ENV)
        assert (code, err) == (0, "") and out.decode().startswith("token: eks (sts)\n")
        assert "ok: scope fits the recipe" in out.decode() and TOKEN not in out.decode()
    assert tokens.exec_credential_token('{"kind": "Other", "status": {"token": "x"}}')[:1] == "{"


def test_a_deeply_nested_kubernetes_exec_info_is_a_warning_not_a_crash() -> None:
    env = dict(CLI_ENV, KUBERNETES_EXEC_INFO="[" * 30000 + "]" * 30000)
    code, out, err = run_cli(["token", "eks", "--cluster", "prod", "--exec-credential"], env)
    assert code == 0 and json.loads(out)["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert err.startswith("Error parsing KUBERNETES_EXEC_INFO, defaulting to client.authentication.k8s.io/v1beta1.")


@pytest.mark.parametrize("args, flag", [
    (["mongodb", "--server-nonce", base64.b64encode(bytes(64)).decode(), "--region", "eu-west-1"], "--region"),
    (["ses-smtp", "--date", "20200101T000000Z"], "--date"),
])
def test_a_flag_a_token_kind_does_not_use_is_refused_not_ignored(args: list[str], flag: str) -> None:
    """MONGODB-AWS signs for the region of the server's STS host and an SES SMTP password has no time:
    `--region eu-west-1` and `--date` were taken and dropped, the help offering them."""
    code, out, err = run_cli(["token", *args], {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET,
                                                "HOME": "/nonexistent"})
    assert (code, out) == (2, b"") and f"unrecognized arguments: {flag}" in err
