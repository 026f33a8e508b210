"""The credential chain, each provider against a real endpoint.

STS (AssumeRole, AssumeRoleWithWebIdentity, GetCallerIdentity) is moto's
ThreadedMotoServer on loopback, reached through AWS_ENDPOINT_URL_STS or
AWS_ENDPOINT_URL as botocore reads them; the SSO portal, the container
credentials endpoint and the instance metadata service are small local
HTTP servers (tests/local_http.py) that check what botocore's providers send:
the bearer token header, the Authorization token, the IMDSv2 token PUT first.
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import h11
import pytest

import cli
import sigv4
import wire
from local_http import http_server
from sigv4.integrations import (
    CredentialsError,
    NoCredentialsError,
    default_chain,
    from_container,
    from_imds,
    resolve_credentials,
)
from sigv4.integrations import container, sts

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
ROLE = "arn:aws:iam::123456789012:role/deploy"
LATER = datetime.now(timezone.utc) + timedelta(hours=1)


def _env(tmp_path: Path, config: str = "", credentials: str = "", **extra: str) -> dict[str, str]:
    (tmp_path / "config").write_text(config)
    (tmp_path / "credentials").write_text(credentials)
    return {"HOME": str(tmp_path), "AWS_CONFIG_FILE": str(tmp_path / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"), "AWS_EC2_METADATA_DISABLED": "true",
            **extra}


def _caller(found: sigv4.integrations.ResolvedCredentials, env: dict[str, str]) -> str:
    """The ARN moto's GetCallerIdentity names for the credentials (signed by us, decoded by wire)."""
    return str(sts.call("GetCallerIdentity", {}, found.credentials, region="us-east-1", env=env)["Arn"])


# -- STS: web identity and roles ---------------------------------------------------------------------------

def test_web_identity_from_the_environment(tmp_path: Path, moto_endpoint: str) -> None:
    (tmp_path / "token").write_text("eyJhbGciOiJSUzI1NiJ9.e30.sig\n")
    env = _env(tmp_path, AWS_ENDPOINT_URL_STS=moto_endpoint, AWS_WEB_IDENTITY_TOKEN_FILE=str(tmp_path / "token"),
               AWS_ROLE_ARN=ROLE, AWS_ROLE_SESSION_NAME="ci-run")
    found = resolve_credentials(None, env)
    assert found.source == "assume-role-with-web-identity"
    assert found.credentials.session_token and found.expiry is not None and found.expiry > datetime.now(timezone.utc)
    assert _caller(found, env).endswith("assumed-role/deploy/ci-run")


def test_assume_role_from_a_source_profile_with_external_id_and_duration(tmp_path: Path, moto_endpoint: str) -> None:
    env = _env(tmp_path, f"[profile app]\nrole_arn = {ROLE}\nsource_profile = base\nexternal_id = abc\n"
                         "duration_seconds = 900\nrole_session_name = me\nregion = eu-west-1\n",
               f"[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = {SECRET}\n",
               AWS_ENDPOINT_URL=moto_endpoint)
    found = resolve_credentials("app", env)
    assert found.source == "assume-role (profile app)" and found.region == "eu-west-1"
    assert found.expiry is not None
    assert timedelta(seconds=800) < found.expiry - datetime.now(timezone.utc) <= timedelta(seconds=900)
    assert _caller(found, env).endswith("assumed-role/deploy/me")


def test_role_chains_through_role_profiles_and_credential_source(tmp_path: Path, moto_endpoint: str) -> None:
    config = (f"[profile top]\nrole_arn = arn:aws:iam::123456789012:role/top\nsource_profile = middle\n"
              f"[profile middle]\nrole_arn = arn:aws:iam::123456789012:role/middle\nsource_profile = base\n"
              f"[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = {SECRET}\n"
              f"[profile fromenv]\nrole_arn = {ROLE}\ncredential_source = Environment\n")
    env = _env(tmp_path, config, AWS_ENDPOINT_URL_STS=moto_endpoint, AWS_ENDPOINT_URL="http://127.0.0.1:9")
    assert "assumed-role/top/" in _caller(resolve_credentials("top", env), env)
    with_env = {**env, "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": SECRET}
    assert resolve_credentials("fromenv", with_env).source == "assume-role (profile fromenv)"


@pytest.mark.parametrize("config, message", [
    (f"[profile m]\nrole_arn = {ROLE}\nsource_profile = m\nmfa_serial = arn:aws:iam::1:mfa/me\n",
     "requires an MFA code .*cannot prompt"),
    ("[profile a]\nrole_arn = r\nsource_profile = b\n[profile b]\nrole_arn = r\nsource_profile = a\n",
     r"source_profile loops \(a -> b -> a\)"),
    (f"[profile m]\nrole_arn = {ROLE}\n", "exactly one of source_profile and credential_source"),
    (f"[profile m]\nrole_arn = {ROLE}\ncredential_source = Somewhere\n", "credential_source 'Somewhere'"),
    (f"[profile m]\nrole_arn = {ROLE}\nsource_profile = m\nduration_seconds = 1h\n", "duration_seconds '1h'"),
])
def test_role_profiles_refuse_what_cannot_work(tmp_path: Path, config: str, message: str) -> None:
    env = _env(tmp_path, config, "[m]\naws_access_key_id = AKID\naws_secret_access_key = x\n"
               if "profile m]" in config else "")
    profile = "m" if "profile m]" in config else "a"
    with pytest.raises(CredentialsError, match=message):
        resolve_credentials(profile, env)


def test_sts_errors_carry_the_code_and_never_a_secret(tmp_path: Path) -> None:
    def refuse(request: h11.Request, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        return 403, [("Content-Type", "text/xml")], (
            b"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not allowed</Message>"
            b"</Error><RequestId>r1</RequestId></ErrorResponse>")
    with http_server(refuse) as (url, recorder):
        env = _env(tmp_path, f"[profile app]\nrole_arn = {ROLE}\nsource_profile = app\n",
                   f"[app]\naws_access_key_id = AKIDBASE\naws_secret_access_key = {SECRET}\n",
                   AWS_ENDPOINT_URL_STS=url)
        with pytest.raises(CredentialsError, match="AssumeRole: AccessDenied: not allowed") as caught:
            resolve_credentials("app", env)
    assert SECRET not in str(caught.value)
    request, body = recorder.requests[0]
    assert b"Action=AssumeRole" in body and dict(request.headers)[b"authorization"].startswith(b"AWS4-HMAC-SHA256 ")


# -- SSO ----------------------------------------------------------------------------------------------------

def _sso_portal(expected_token: str):  # type: ignore[no-untyped-def]
    def respond(request: h11.Request, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        headers = dict(request.headers)
        query = parse_qs(urlsplit(request.target.decode()).query)
        if headers.get(b"x-amz-sso_bearer_token") != expected_token.encode() or b"authorization" in headers:
            return 401, [("Content-Type", "application/json"), ("x-amzn-ErrorType", "UnauthorizedException")], \
                b'{"message": "Session token not found or invalid"}'
        assert urlsplit(request.target.decode()).path == "/federation/credentials"
        assert query == {"role_name": ["Admin"], "account_id": ["111122223333"]}
        return 200, [("Content-Type", "application/json")], json.dumps({"roleCredentials": {
            "accessKeyId": "ASIASSO", "secretAccessKey": SECRET, "sessionToken": "sso-session",
            "expiration": int(LATER.timestamp()) * 1000}}).encode()
    return respond


def _cache_token(home: Path, key: str, token: str, expires: datetime) -> None:
    cache = home / ".aws" / "sso" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    (cache / (hashlib.sha1(key.encode()).hexdigest() + ".json")).write_text(json.dumps({
        "accessToken": token, "expiresAt": expires.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": "us-east-1"}))


@pytest.mark.parametrize("form", ["sso_session", "legacy"])
def test_sso_reads_the_token_cache_and_calls_get_role_credentials(tmp_path: Path, form: str) -> None:
    if form == "sso_session":
        config = ("[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Admin\n"
                  "region = us-west-2\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n"
                  "sso_region = us-east-1\n")
        key = "corp"
    else:
        config = ("[profile dev]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n"
                  "sso_account_id = 111122223333\nsso_role_name = Admin\nregion = us-west-2\n")
        key = "https://corp.awsapps.com/start"
    _cache_token(tmp_path, key, "bearer-123", LATER)
    with http_server(_sso_portal("bearer-123")) as (url, recorder):
        env = _env(tmp_path, config, AWS_ENDPOINT_URL_SSO=url)
        found = resolve_credentials("dev", env)
    assert found.source == "sso (profile dev)" and found.region == "us-west-2"
    assert found.credentials == sigv4.Credentials("ASIASSO", SECRET, "sso-session")
    assert found.expiry == LATER.replace(microsecond=0)
    assert recorder.requests[0][0].method == b"GET"


def test_sso_refuses_an_expired_or_missing_token(tmp_path: Path) -> None:
    config = ("[profile dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = Admin\n"
              "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n")
    env = _env(tmp_path, config)
    with pytest.raises(CredentialsError, match="not found; run aws sso login --sso-session corp"):
        resolve_credentials("dev", env)
    _cache_token(tmp_path, "corp", "bearer-123", datetime.now(timezone.utc) - timedelta(minutes=1))
    with pytest.raises(CredentialsError, match="expired .*; run aws sso login --sso-session corp") as caught:
        resolve_credentials("dev", env)
    assert "bearer-123" not in str(caught.value)
    _cache_token(tmp_path, "corp", "stale", LATER)
    with http_server(_sso_portal("bearer-123")) as (url, _):
        with pytest.raises(CredentialsError, match="UnauthorizedException: Session token not found"):
            resolve_credentials("dev", {**env, "AWS_ENDPOINT_URL": url})
    # a front end's HTML page (no code to read): the status, never an empty message nor the page
    with http_server(lambda request, body: (403, [("Content-Type", "text/html")], b"<html>denied</html>")) as (url, _):
        with pytest.raises(CredentialsError) as caught:
            resolve_credentials("dev", {**env, "AWS_ENDPOINT_URL": url})
    assert str(caught.value) == "SSO GetRoleCredentials (1/Admin): HTTP 403"
    # an empty answer (its code is the status, as botocore reads it) says the same
    with http_server(lambda request, body: (403, [], b"")) as (url, _):
        with pytest.raises(CredentialsError) as caught:
            resolve_credentials("dev", {**env, "AWS_ENDPOINT_URL": url})
    assert str(caught.value) == "SSO GetRoleCredentials (1/Admin): HTTP 403"
    with pytest.raises(wire.ServiceError, match="^HTTP 403: an error answer whose body could not be read$"):
        wire.parse_response(wire.load_model("sso"), "GetRoleCredentials", 403, {}, b"<html>denied</html>")


# -- container ----------------------------------------------------------------------------------------------

def _container_endpoint(token: str):  # type: ignore[no-untyped-def]
    def respond(request: h11.Request, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        if dict(request.headers).get(b"authorization") != token.encode():
            return 401, [], b"bad token"
        return 200, [("Content-Type", "application/json")], json.dumps({
            "AccessKeyId": "ASIACONTAINER", "SecretAccessKey": SECRET, "Token": "ctoken",
            "Expiration": LATER.strftime("%Y-%m-%dT%H:%M:%SZ")}).encode()
    return respond


def test_container_credentials_with_a_token_file(tmp_path: Path) -> None:
    (tmp_path / "pod-token").write_text("pod-identity-token\n")
    with http_server(_container_endpoint("pod-identity-token")) as (url, recorder):
        env = _env(tmp_path, AWS_CONTAINER_CREDENTIALS_FULL_URI=f"{url}/v1/credentials",
                   AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=str(tmp_path / "pod-token"),
                   AWS_CONTAINER_AUTHORIZATION_TOKEN="ignored-when-the-file-is-set")
        found = resolve_credentials(None, env)
        assert found.source == "container-role"
        assert found.credentials == sigv4.Credentials("ASIACONTAINER", SECRET, "ctoken")
        assert recorder.requests[0][0].target == b"/v1/credentials"
        with pytest.raises(CredentialsError, match="HTTP 401"):
            from_container({**env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "",
                            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "wrong"})
        assert from_container({**env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "",
                               "AWS_CONTAINER_AUTHORIZATION_TOKEN": "pod-identity-token"}).expiry is not None


@pytest.mark.parametrize("env, expected", [
    ({"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc"}, "http://169.254.170.2/v2/credentials/abc"),
    ({"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials"},
     "http://169.254.170.23/v1/credentials"),
    ({"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://[fd00:ec2::23]/v1/credentials"},
     "http://[fd00:ec2::23]/v1/credentials"),
    ({"AWS_CONTAINER_CREDENTIALS_FULL_URI": "https://creds.example.com/x"}, "https://creds.example.com/x"),
    ({"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://creds.example.com/x"}, CredentialsError),
    ({"AWS_CONTAINER_AUTHORIZATION_TOKEN": "a\r\nInjected: yes", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1/"},
     CredentialsError),
])
def test_container_endpoint_rules(env: dict[str, str], expected: object) -> None:
    if expected is CredentialsError:
        with pytest.raises(CredentialsError):
            container.credentials_url(env)
            container.authorization(env)
    else:
        assert container.credentials_url(env) == expected


# -- instance metadata ----------------------------------------------------------------------------------------

class FakeImds:
    """IMDS answering as EC2 does with IMDSv2 required, or (v1=True) also without a token."""

    def __init__(self, *, v1: bool = False, token_status: int = 200, hang_put: bool = False) -> None:
        self.v1, self.token_status, self.hang_put = v1, token_status, hang_put
        self.seen: list[tuple[str, str, bool]] = []
        self.release = threading.Event()

    def __call__(self, request: h11.Request, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        method, path, headers = request.method.decode(), request.target.decode(), dict(request.headers)
        self.seen.append((method, path, b"x-aws-ec2-metadata-token" in headers))
        if method == "PUT":
            if self.hang_put:  # as if the answer died one hop short (HttpPutResponseHopLimit 1 in a container)
                self.release.wait(5)
            if headers.get(b"x-aws-ec2-metadata-token-ttl-seconds") != b"21600" or self.token_status != 200:
                return self.token_status if self.token_status != 200 else 400, [], b""
            return 200, [], b"imds-token"
        if headers.get(b"x-aws-ec2-metadata-token") != b"imds-token" and not self.v1:
            return 401, [], b""
        if path == "/latest/meta-data/iam/security-credentials/":
            return 200, [], b"web-role\n"
        if path == "/latest/meta-data/iam/security-credentials/web-role":
            return 200, [], json.dumps({"Code": "Success", "AccessKeyId": "ASIAIMDS", "SecretAccessKey": SECRET,
                                        "Token": "itoken", "Expiration": LATER.strftime("%Y-%m-%dT%H:%M:%SZ")}
                                       ).encode()
        return 404, [], b""


def test_imds_v2_token_first_then_role_then_credentials(tmp_path: Path) -> None:
    fake = FakeImds()
    with http_server(fake) as (url, _):
        env = _env(tmp_path, AWS_EC2_METADATA_DISABLED="false", AWS_EC2_METADATA_SERVICE_ENDPOINT=url + "/")
        found = resolve_credentials(None, env)
    assert found.source == "iam-role (web-role)" and found.credentials.access_key_id == "ASIAIMDS"
    assert fake.seen == [("PUT", "/latest/api/token", False),
                         ("GET", "/latest/meta-data/iam/security-credentials/", True),
                         ("GET", "/latest/meta-data/iam/security-credentials/web-role", True)]


def test_imds_falls_back_to_v1_only_when_allowed(tmp_path: Path) -> None:
    with http_server(FakeImds(v1=True, token_status=403)) as (url, _):
        env = _env(tmp_path, AWS_EC2_METADATA_DISABLED="false", AWS_EC2_METADATA_SERVICE_ENDPOINT=url)
        assert from_imds(env).credentials.access_key_id == "ASIAIMDS"
        with pytest.raises(CredentialsError, match="answered HTTP 403; no IMDSv2 token"):
            from_imds({**env, "AWS_EC2_METADATA_V1_DISABLED": "true"})


def test_imds_token_lost_to_the_hop_limit(tmp_path: Path) -> None:
    fake = FakeImds(v1=True, hang_put=True)
    with http_server(fake) as (url, _):
        env = _env(tmp_path, AWS_EC2_METADATA_DISABLED="false", AWS_EC2_METADATA_SERVICE_ENDPOINT=url,
                   AWS_METADATA_SERVICE_TIMEOUT="0.2")
        try:
            with pytest.raises(CredentialsError, match=r"hop limit \(HttpPutResponseHopLimit\) must be at least 2"):
                from_imds({**env, "AWS_EC2_METADATA_V1_DISABLED": "true"})
            assert from_imds(env).source == "iam-role (web-role)"  # botocore's fallback: IMDSv1
        finally:
            fake.release.set()


def test_imds_disabled_and_the_chain_with_nothing_configured(tmp_path: Path) -> None:
    env = _env(tmp_path)
    with pytest.raises(CredentialsError, match="disabled by AWS_EC2_METADATA_DISABLED"):
        from_imds(env)
    with pytest.raises(NoCredentialsError, match="no credentials: "):
        resolve_credentials(None, env)
    with http_server(lambda request, body: (404, [], b"")) as (url, _):
        with pytest.raises(NoCredentialsError, match="no credentials: .*no IMDSv2 token"):
            resolve_credentials(None, {**env, "AWS_EC2_METADATA_DISABLED": "",
                                       "AWS_EC2_METADATA_SERVICE_ENDPOINT": url, "AWS_EC2_METADATA_V1_DISABLED": "true"})


def test_a_mistyped_aws_profile_is_an_error_not_a_walk_to_instance_metadata(tmp_path: Path, capsys) -> None:
    fake = FakeImds()
    with http_server(fake) as (imds_url, _):
        env = _env(tmp_path, "[profile prod]\nregion = eu-west-1\n", AWS_PROFILE="prdo",
                   AWS_EC2_METADATA_DISABLED="false", AWS_EC2_METADATA_SERVICE_ENDPOINT=imds_url)
        with pytest.raises(CredentialsError, match="profile 'prdo': not found in "):
            resolve_credentials(None, env)
        code = cli.main(["call", "sts", "GetCallerIdentity", "--endpoint-url", "http://127.0.0.1:9"], env)
        assert fake.seen == []  # as botocore's ProfileNotFound: the metadata service is never asked
        # the environment's keys still win over AWS_PROFILE, as in botocore's chain
        keys = {**env, "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": SECRET}
        assert resolve_credentials(None, keys).source == "env"
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("sigv4: error: profile 'prdo': not found in ") and err.count("\n") == 1


def test_keys_in_the_environment_still_take_the_profiles_region(tmp_path: Path, capsys) -> None:
    # CI's usual setup: keys exported, the region where `aws configure` put it. boto3 calls eu-west-1; we called
    # and signed for us-east-1.
    env = _env(tmp_path, "[default]\nregion = eu-west-1\n[profile dev]\nregion = ap-south-1\n",
               AWS_ACCESS_KEY_ID="AKIDENV", AWS_SECRET_ACCESS_KEY=SECRET)
    for extra, region in (({}, "eu-west-1"), ({"AWS_PROFILE": "dev"}, "ap-south-1"),
                          ({"AWS_PROFILE": "dev", "AWS_DEFAULT_REGION": "sa-east-1"}, "sa-east-1")):
        found = resolve_credentials(None, {**env, **extra})
        assert (found.source, found.region) == ("env", region)
        assert cli.main(["call", "sqs", "ListQueues", "--dry-run"], {**env, **extra}) == 0
        out = capsys.readouterr().out
        assert f"\nHost: sqs.{region}.amazonaws.com\r\n" in out and f"/{region}/sqs/aws4_request" in out


# -- order and caching ------------------------------------------------------------------------------------------

def test_order_environment_then_profile_then_container_then_imds(tmp_path: Path) -> None:
    fake = FakeImds()
    with http_server(fake) as (imds_url, _), http_server(_container_endpoint("t")) as (container_url, _):
        env = _env(tmp_path, f"[profile keys]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = {SECRET}\n",
                   AWS_EC2_METADATA_DISABLED="false", AWS_EC2_METADATA_SERVICE_ENDPOINT=imds_url,
                   AWS_CONTAINER_CREDENTIALS_FULL_URI=container_url, AWS_CONTAINER_AUTHORIZATION_TOKEN="t")
        assert resolve_credentials(None, env).source == "container-role"
        assert resolve_credentials(None, {**env, "AWS_PROFILE": "keys"}).credentials.access_key_id == "AKIDPROFILE"
        assert resolve_credentials(None, {**env, "AWS_ACCESS_KEY_ID": "AKIDENV",
                                          "AWS_SECRET_ACCESS_KEY": SECRET}).source == "env"
        del env["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
        assert resolve_credentials(None, env).source == "iam-role (web-role)"
    with pytest.raises(CredentialsError, match="profile 'nope': not found"):
        resolve_credentials("nope", env)


def test_the_chain_is_cached_until_shortly_before_expiry(tmp_path: Path) -> None:
    fake = FakeImds()
    with http_server(fake) as (url, _):
        provider = default_chain(None, _env(tmp_path, AWS_EC2_METADATA_DISABLED="false",
                                            AWS_EC2_METADATA_SERVICE_ENDPOINT=url))
        first = provider()
        threads = [threading.Thread(target=provider) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert provider() is first and len(fake.seen) == 3


# -- the shipped model subsets ------------------------------------------------------------------------------------

@pytest.mark.parametrize("service, name, operations", [
    ("sts", "sts-credentials", {"AssumeRole", "AssumeRoleWithWebIdentity", "GetCallerIdentity"}),
    ("sso", "sso-credentials", {"GetRoleCredentials"}),
    ("sso-oidc", "sso-oidc-token", {"CreateToken"}),
    ("signin", "signin-token", {"CreateOAuth2Token"}),
])
def test_shipped_subsets_are_botocore_models_cut_to_the_operations_used(service: str, name: str,
                                                                         operations: set[str]) -> None:
    from botocore.loaders import Loader
    from test_wire_account import _without_documentation as strip

    import wire

    ours = json.loads((Path(wire.__file__).parent / "models" / f"{name}.json").read_text())
    theirs = strip(Loader().load_service_model(service, "service-2"))
    assert isinstance(theirs, dict) and set(ours["operations"]) == operations
    assert ours["metadata"] == theirs["metadata"]
    assert all(ours["operations"][op] == theirs["operations"][op] for op in operations)
    assert all(ours["shapes"][shape] == theirs["shapes"][shape] for shape in ours["shapes"])


def test_whoami_names_the_provider_that_won_and_the_expiry(tmp_path: Path, moto_endpoint: str,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    import cli
    (tmp_path / "token").write_text("eyJhbGciOiJSUzI1NiJ9.e30.sig")
    env = _env(tmp_path, AWS_ENDPOINT_URL_STS=moto_endpoint, AWS_WEB_IDENTITY_TOKEN_FILE=str(tmp_path / "token"),
               AWS_ROLE_ARN=ROLE)
    assert cli.main(["whoami", "--json"], env) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["source"] == "assume-role-with-web-identity" and record["session_token"] == "present"
    assert datetime.fromisoformat(record["expiration"].replace("Z", "+00:00")) > datetime.now(timezone.utc)
    assert cli.main(["whoami"], _env(tmp_path)) == 2
    assert capsys.readouterr().err.startswith("sigv4: error: no credentials: ")


def test_role_sources_from_instance_metadata_and_web_identity_from_the_profile(tmp_path: Path,
                                                                              moto_endpoint: str) -> None:
    (tmp_path / "token").write_text("eyJhbGciOiJSUzI1NiJ9.e30.sig")
    config = (f"[profile ec2]\nrole_arn = arn:aws:iam::123456789012:role/from-ec2\n"
              f"credential_source = Ec2InstanceMetadata\n"
              f"[profile oidc]\nrole_arn = arn:aws:iam::123456789012:role/oidc\n"
              f"web_identity_token_file = {tmp_path / 'token'}\nrole_session_name = gha\n")
    fake = FakeImds()
    with http_server(fake) as (url, _):
        env = _env(tmp_path, config, AWS_ENDPOINT_URL_STS=moto_endpoint, AWS_EC2_METADATA_DISABLED="false",
                   AWS_EC2_METADATA_SERVICE_ENDPOINT=url)
        found = resolve_credentials("ec2", env)
        assert found.source == "assume-role (profile ec2)" and "assumed-role/from-ec2/" in _caller(found, env)
        assert [method for method, _, _ in fake.seen] == ["PUT", "GET", "GET"]
        oidc = resolve_credentials("oidc", env)
    assert oidc.source == "assume-role-with-web-identity"
    assert _caller(oidc, env).endswith("assumed-role/oidc/gha")
