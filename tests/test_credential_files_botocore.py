"""The shared files and the environment read as botocore reads them: the same files and variables given to
`botocore.session.Session(profile=...)` (`get_credentials()`, `get_config_variable('region')`,
`create_client(...).meta.endpoint_url`) and to our chain (`resolve_credentials`, `sigv4 call --dry-run`)
give the same key, session token, region and endpoint, or both refuse.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pickle
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import botocore.credentials
import botocore.session
import botocore.tokens
import h11
import pytest

from cli_run import run_cli
from local_http import http_server
from sigv4.integrations import CredentialsError, resolve_credentials

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def keys(key_id: str) -> str:
    return f"aws_access_key_id = {key_id}\naws_secret_access_key = {SECRET}\n"


def _env(tmp_path: Path, config: str, credentials: str, extra: dict[str, str]) -> dict[str, str]:
    (tmp_path / "config").write_text(config)
    (tmp_path / "credentials").write_text(credentials)
    return {"HOME": str(tmp_path), "AWS_CONFIG_FILE": str(tmp_path / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"), "AWS_EC2_METADATA_DISABLED": "true",
            "PATH": os.environ.get("PATH", ""), **extra}


@pytest.fixture
def as_environ(monkeypatch: pytest.MonkeyPatch):
    """Make `env` the whole process environment (botocore reads os.environ)."""
    def apply(env: dict[str, str]) -> None:
        for name in list(os.environ):
            monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
    return apply


def botocore_sees(profile: str | None) -> Any:
    try:
        session = botocore.session.Session(profile=profile)
        found = session.get_credentials()
        return (found.access_key, found.token, session.get_config_variable("region")) if found else None
    except botocore.exceptions.BotoCoreError:
        return "refused"


def we_see(profile: str | None, env: dict[str, str]) -> Any:
    try:
        found = resolve_credentials(profile, env)
    except CredentialsError:
        return "refused"
    return found.credentials.access_key_id, found.credentials.session_token, found.region


CASES = {
    # AWS_DEFAULT_PROFILE names the profile when AWS_PROFILE does not, and wins when both do (botocore reads it first)
    "default-profile-variable": ("[profile p]\n" + keys("AKIDP") + "region = eu-west-1\n[default]\n" + keys("AKIDD"),
                                 "", {"AWS_DEFAULT_PROFILE": "p"}, None),
    "default-profile-variable-first": ("[profile p]\n" + keys("AKIDP") + "[profile q]\n" + keys("AKIDQ"), "",
                                       {"AWS_DEFAULT_PROFILE": "p", "AWS_PROFILE": "q"}, None),
    "default-profile-variable-missing": ("[default]\n" + keys("AKIDD"), "", {"AWS_DEFAULT_PROFILE": "nope"}, None),
    # the profile's region may sit in the credentials file, which wins over the config file's
    "region-in-credentials-file": ("", "[default]\n" + keys("AKIDD") + "region = ap-south-1\n", {}, None),
    "region-credentials-file-wins": ("[default]\nregion = eu-west-2\n",
                                     "[default]\n" + keys("AKIDD") + "region = ap-south-1\n", {}, None),
    "region-of-env-keys-from-credentials-file": ("", "[default]\nregion = ap-south-1\n",
                                                 {"AWS_ACCESS_KEY_ID": "AKIDE", "AWS_SECRET_ACCESS_KEY": SECRET}, None),
    # the session token of older tools (aws-vault and boto 2 set it)
    "security-token-variable": ("", "", {"AWS_ACCESS_KEY_ID": "ASIAE", "AWS_SECRET_ACCESS_KEY": SECRET,
                                         "AWS_SECURITY_TOKEN": "TOKEN"}, None),
    # section names: `[name]` is no profile in the config file; in the credentials file a section is its name as is
    "config-section-without-prefix": ("[p]\n" + keys("AKIDBARE"), "", {}, "p"),
    "credentials-section-with-prefix": ("", "[profile p]\n" + keys("AKIDPREFIX"), {}, "p"),
    "quoted-profile-name": ('[profile "my app"]\n' + keys("AKIDQUOTED"), "", {}, "my app"),
    "later-default-section-wins": ("[default]\n" + keys("AKIDD1") + "[profile default]\n" + keys("AKIDD2"), "", {},
                                   None),
    # a key id without its secret is refused, not passed over
    "partial-keys-in-credentials-file": ("[default]\n" + keys("AKIDCONF"), "[default]\naws_access_key_id = AKIDHALF\n",
                                         {}, None),
}


@pytest.mark.parametrize("config, credentials, extra, profile", CASES.values(), ids=CASES.keys())
def test_same_credentials_and_region_as_botocore(tmp_path, as_environ, config, credentials, extra, profile) -> None:
    env = _env(tmp_path, config, credentials, extra)
    as_environ(env)
    expected = botocore_sees(profile)
    assert expected is not None
    assert we_see(profile, env) == expected


def test_partial_keys_name_what_is_missing(tmp_path) -> None:
    env = _env(tmp_path, "", "[default]\naws_access_key_id = AKIDHALF\n", {})
    with pytest.raises(CredentialsError, match="aws_access_key_id without aws_secret_access_key"):
        resolve_credentials(None, env)


# -- configured endpoints: `sigv4 call` and botocore's client ------------------------------------------

def _dry_run_host(args: list[str], env: dict[str, str]) -> str:
    code, out, err = run_cli(["call", *args, "--dry-run"], env)
    assert code == 0, err
    host = next(line for line in out.decode().splitlines() if line.lower().startswith("host:"))
    return host.split(":", 1)[1].strip()


def _botocore_host(service: str, profile: str | None) -> str:
    client = botocore.session.Session(profile=profile).create_client(service, region_name="us-east-1")
    return client.meta.endpoint_url.split("://", 1)[1].rstrip("/")


SERVICES = ("[services local]\naccount =\n  endpoint_url = http://127.0.0.1:4566\n"
            "api_gateway =\n  endpoint_url = http://127.0.0.1:4567\n")
ENDPOINT_CASES = {
    # a profile's `services` section: per service, before the profile's endpoint_url
    "services-section": ("[default]\nservices = local\nendpoint_url = http://127.0.0.1:9\n" + keys("AKIDD") + SERVICES,
                         {}, ["account", "GetContactInformation"]),
    "services-section-keyed-by-service-id": ("[default]\nservices = local\n" + keys("AKIDD") + SERVICES, {},
                                             ["apigateway", "GetRestApis"]),
    "services-section-other-service": ("[default]\nservices = local\nendpoint_url = http://127.0.0.1:9\n"
                                       + keys("AKIDD") + SERVICES, {}, ["sts", "GetCallerIdentity"]),
    "env-before-services-section": ("[default]\nservices = local\n" + keys("AKIDD") + SERVICES,
                                    {"AWS_ENDPOINT_URL": "http://127.0.0.1:7"}, ["account", "GetContactInformation"]),
    # the variable is named by the service id: API Gateway -> AWS_ENDPOINT_URL_API_GATEWAY
    "variable-named-by-service-id": ("[default]\n" + keys("AKIDD"),
                                     {"AWS_ENDPOINT_URL_API_GATEWAY": "http://127.0.0.1:8"}, ["apigateway", "GetRestApis"]),
    # ignore_configured_endpoint_urls in the profile ignores the variables and the profile's settings...
    "ignored-by-profile": ("[default]\nignore_configured_endpoint_urls = true\nendpoint_url = http://127.0.0.1:9\n"
                           "services = local\n" + keys("AKIDD") + SERVICES,
                           {"AWS_ENDPOINT_URL": "http://127.0.0.1:7"}, ["account", "GetContactInformation"]),
    # ...unless the variable says otherwise
    "variable-overrules-profile": ("[default]\nignore_configured_endpoint_urls = true\n" + keys("AKIDD"),
                                   {"AWS_ENDPOINT_URL": "http://127.0.0.1:7", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS":
                                    "false"}, ["account", "GetContactInformation"]),
    "active-profile-by-default-profile-variable": ("[profile p]\nendpoint_url = http://127.0.0.1:5\n" + keys("AKIDP"),
                                                   {"AWS_DEFAULT_PROFILE": "p"}, ["account", "GetContactInformation"]),
}


@pytest.mark.parametrize("config, extra, args", ENDPOINT_CASES.values(), ids=ENDPOINT_CASES.keys())
def test_same_endpoint_as_botocore(tmp_path, as_environ, config, extra, args) -> None:
    env = _env(tmp_path, config, "", {"AWS_REGION": "us-east-1", **extra})
    as_environ(env)
    assert _dry_run_host(args, env) == _botocore_host(args[0], None)


def test_a_missing_services_section_is_one_line(tmp_path) -> None:
    env = _env(tmp_path, "[default]\nservices = gone\n" + keys("AKIDD"), "", {"AWS_REGION": "us-east-1"})
    code, out, err = run_cli(["call", "account", "GetContactInformation", "--dry-run"], env)
    assert (code, out) == (2, b"") and err.count("\n") == 1 and "[services gone]" in err, err


def test_assume_role_calls_sts_where_the_services_section_says(tmp_path, moto_endpoint) -> None:
    # Chained roles all call STS where the active profile says, as botocore's one session does: its services
    # section before its endpoint_url (a dead loopback port, as is the middle profile's, which is not asked).
    dead = "endpoint_url = http://127.0.0.1:9\n"
    config = (f"[profile app]\nrole_arn = arn:aws:iam::123456789012:role/app\nsource_profile = middle\n"
              f"services = local\n{dead}[profile middle]\nrole_arn = arn:aws:iam::123456789012:role/middle\n"
              f"source_profile = base\n{dead}[profile base]\n{keys('AKIDBASE')}"
              f"[services local]\nsts =\n  endpoint_url = {moto_endpoint}\n")
    found = resolve_credentials("app", _env(tmp_path, config, "", {}))
    assert found.source == "assume-role (profile app)" and found.credentials.session_token


def test_sso_calls_the_portal_where_the_services_section_says(tmp_path, as_environ, monkeypatch) -> None:
    """botocore's SSO client is its session's, so the active profile's services section (and endpoint_url) say
    where the portal is; the same config gives the same credentials to both (the portal a loopback fake)."""
    cache = tmp_path / ".aws" / "sso" / "cache"
    cache.mkdir(parents=True)
    # botocore fixes its cache directory when it is imported, from the HOME of then
    for holder in (botocore.tokens.SSOTokenProvider, botocore.credentials.SSOProvider):
        monkeypatch.setattr(holder, "_SSO_TOKEN_CACHE_DIR", str(cache))
    expires = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    (cache / (hashlib.sha1(b"corp").hexdigest() + ".json")).write_text(json.dumps(
        {"accessToken": "bearer-123", "expiresAt": expires, "region": "us-east-1"}))
    later = int((datetime.now(timezone.utc) + timedelta(hours=1)).timestamp()) * 1000

    def portal(request: h11.Request, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        assert dict(request.headers)[b"x-amz-sso_bearer_token"] == b"bearer-123"
        return 200, [("Content-Type", "application/json")], json.dumps({"roleCredentials": {
            "accessKeyId": "ASIASSO", "secretAccessKey": SECRET, "sessionToken": "sso-token",
            "expiration": later}}).encode()

    with http_server(portal) as (url, recorder):
        config = ("[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Admin\n"
                  "services = local\nendpoint_url = http://127.0.0.1:9\n"
                  "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n"
                  f"[services local]\nsso =\n  endpoint_url = {url}\n")
        env = _env(tmp_path, config, "", {})
        as_environ(env)
        assert we_see("dev", env) == ("ASIASSO", "sso-token", None) == botocore_sees("dev")
    assert len(recorder.requests) == 2


def _recording_sts(calls: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    """A loopback STS answering every AssumeRole; records (RoleArn, the key id that signed the call)."""
    def respond(request: h11.Request, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        params = dict(parse_qsl(body.decode()))
        signer = dict(request.headers)[b"authorization"].decode().split("Credential=")[1].split("/")[0]
        calls.append((params["RoleArn"], signer))
        expires = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return 200, [("Content-Type", "text/xml")], (
            f"<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult><Credentials>"
            f"<AccessKeyId>ASIA{len(calls)}</AccessKeyId><SecretAccessKey>{SECRET}</SecretAccessKey>"
            f"<SessionToken>token{len(calls)}</SessionToken><Expiration>{expires}</Expiration></Credentials>"
            f"<AssumedRoleUser><AssumedRoleId>AROA:s</AssumedRoleId><Arn>{params['RoleArn']}</Arn></AssumedRoleUser>"
            f"</AssumeRoleResult></AssumeRoleResponse>").encode()
    return respond


@pytest.mark.parametrize("config, credentials", [
    ("[profile app]\nrole_arn = arn:aws:iam::123456789012:role/app\nsource_profile = base\n"
     "[profile base]\nrole_arn = arn:aws:iam::123456789012:role/base\nsource_profile = root\n" + keys("AKIDBASE")
     + "[profile root]\n" + keys("AKIDROOT"), ""),
    # the usual split: the role in the config file, the keys of the same profile in the credentials file
    ("[profile app]\nrole_arn = arn:aws:iam::123456789012:role/app\nsource_profile = base\n"
     "[profile base]\nrole_arn = arn:aws:iam::123456789012:role/base\nsource_profile = root\n"
     "[profile root]\n" + keys("AKIDROOT"), "[base]\n" + keys("AKIDBASE")),
], ids=["same-file", "keys-in-credentials-file"])
def test_a_source_profile_with_keys_gives_its_keys_not_its_role(tmp_path, as_environ, config, credentials) -> None:
    """botocore assumes `app` with `base`'s keys (one AssumeRole): the trust policy of `app` names the user
    `base`, whose role `base` it need not trust. The environment's web identity does not apply to a source."""
    ours: list[tuple[str, str]] = []
    theirs: list[tuple[str, str]] = []
    (tmp_path / "token").write_text("header.payload.signature")
    web = {"AWS_WEB_IDENTITY_TOKEN_FILE": str(tmp_path / "token"), "AWS_ROLE_ARN": "arn:aws:iam::1:role/web"}
    for calls, resolve in ((ours, lambda env: resolve_credentials("app", env)),
                           (theirs, lambda env: botocore.session.Session(profile="app").get_credentials()
                            .get_frozen_credentials())):
        with http_server(_recording_sts(calls)) as (url, _):
            env = _env(tmp_path, config, credentials, {"AWS_ENDPOINT_URL_STS": url, "AWS_REGION": "us-east-1",
                                                      "AWS_DEFAULT_REGION": "us-east-1", **web})
            as_environ(env)
            resolve(env)
    assert ours == theirs == [("arn:aws:iam::123456789012:role/app", "AKIDBASE")]


def test_variables_in_the_files_paths_are_expanded(tmp_path, as_environ) -> None:
    # as an env file or a systemd unit passes them, unexpanded: botocore expands them
    (tmp_path / "aws").mkdir()
    env = _env(tmp_path, "", "", {"AWS_CONFIG_FILE": "${AWS_DIR}/config", "AWS_SHARED_CREDENTIALS_FILE":
                                  "$AWS_DIR/credentials", "AWS_DIR": str(tmp_path / "aws")})
    (tmp_path / "aws" / "credentials").write_text("[default]\n" + keys("AKIDEXPANDED"))
    (tmp_path / "aws" / "config").write_text("[default]\nregion = eu-north-1\n")
    as_environ(env)
    assert we_see(None, env) == botocore_sees(None) == ("AKIDEXPANDED", None, "eu-north-1")


def _login_cache(directory: Path, session: str, expires: datetime) -> None:
    """The cache `aws login` writes for `session` (the DPoP key a throwaway P-256 key)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())
    directory.mkdir(parents=True, exist_ok=True)
    (directory / (hashlib.sha256(session.encode()).hexdigest() + ".json")).write_text(json.dumps({
        "accessToken": {"accessKeyId": "ASIALOGIN", "secretAccessKey": SECRET, "sessionToken": "login-token",
                        "accountId": "111122223333", "expiresAt": expires.strftime("%Y-%m-%dT%H:%M:%SZ")},
        "tokenType": "aws_sigv4", "refreshToken": "refresh", "clientId": "arn:aws:signin:::devtools/same-device",
        "dpopKey": key.decode()}))


@pytest.mark.parametrize("cache_variable", [False, True], ids=["home", "AWS_LOGIN_CACHE_DIRECTORY"])
def test_an_aws_login_session_gives_its_cached_credentials(tmp_path, as_environ, cache_variable) -> None:
    directory = tmp_path / ("elsewhere" if cache_variable else ".aws/login/cache")
    _login_cache(directory, "arn:aws:iam::111122223333:user/me", datetime.now(timezone.utc) + timedelta(hours=1))
    config = "[profile console]\nlogin_session = arn:aws:iam::111122223333:user/me\nregion = eu-west-1\n"
    env = _env(tmp_path, config, "", {"AWS_LOGIN_CACHE_DIRECTORY": "$HOME/elsewhere"} if cache_variable else {})
    as_environ(env)
    assert we_see("console", env) == botocore_sees("console") == ("ASIALOGIN", "login-token", "eu-west-1")


def _sign_in(seen: list[dict[str, Any]], refused: bool = False, answer: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    """A loopback Sign-In: CreateOAuth2Token checks the DPoP proof (ES256 by the key its `jwk` names, for this
    POST and URL) and answers new credentials (or `answer`), or refuses the refresh token as expired."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    def b64(text: str) -> bytes:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

    def respond(request: h11.Request, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        headers = dict(request.headers)
        header, payload, signature = headers[b"dpop"].decode().split(".")
        jwk, claims = json.loads(b64(header))["jwk"], json.loads(b64(payload))
        public = ec.EllipticCurvePublicNumbers(int.from_bytes(b64(jwk["x"]), "big"), int.from_bytes(b64(jwk["y"]), "big"),
                                               ec.SECP256R1()).public_key()
        raw = b64(signature)
        public.verify(encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
                      f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))  # raises when it does not verify
        host = headers[b"host"].decode()
        seen.append({"target": request.target.decode(), "body": json.loads(body), "htm": claims["htm"],
                     "htu": claims["htu"].replace(host, "HOST"), "authorization": b"authorization" in headers})
        if refused:
            return 401, [("Content-Type", "application/json"), ("x-amzn-ErrorType", "AccessDeniedException")], \
                b'{"error": "TOKEN_EXPIRED", "message": "the session has expired"}'
        return 200, [("Content-Type", "application/json")], json.dumps(answer or {
            "accessToken": {"accessKeyId": "ASIAREFRESHED", "secretAccessKey": SECRET, "sessionToken": "fresh"},
            "tokenType": "aws_sigv4", "expiresIn": 900, "refreshToken": "refresh-2"}).encode()
    return respond


def test_expiring_aws_login_credentials_are_refreshed_as_botocore_does(tmp_path, as_environ) -> None:
    """Within 5 minutes of expiry both refresh through Sign-In with the same request and DPoP proof form, and
    both write the new credentials and refresh token back to the cache."""
    ours: list[dict[str, Any]] = []
    theirs: list[dict[str, Any]] = []
    config = "[profile console]\nlogin_session = me\nregion = eu-west-1\n"
    cache = tmp_path / ".aws/login/cache"
    entry = cache / (hashlib.sha256(b"me").hexdigest() + ".json")
    for seen, resolve in ((ours, lambda env: we_see("console", env)), (theirs, lambda env: botocore_sees("console"))):
        _login_cache(cache, "me", datetime.now(timezone.utc) + timedelta(minutes=2))
        with http_server(_sign_in(seen)) as (url, _):
            env = _env(tmp_path, config, "", {"AWS_ENDPOINT_URL_SIGNIN": url, "AWS_LOGIN_CACHE_DIRECTORY": str(cache)})
            as_environ(env)
            assert resolve(env) == ("ASIAREFRESHED", "fresh", "eu-west-1")
        written = json.loads(entry.read_text())
        assert written["refreshToken"] == "refresh-2" and written["accessToken"]["accountId"] == "111122223333"
    assert ours == theirs == [{"target": "/v1/token", "htm": "POST", "htu": "http://HOST/v1/token",
                               "authorization": False, "body": {"clientId": "arn:aws:signin:::devtools/same-device",
                                                                "grantType": "refresh_token", "refreshToken": "refresh"}}]


@pytest.mark.parametrize("rotated", [True, False], ids=["refresh-token-rotated", "no-refresh-token"])
def test_an_aws_login_answer_without_credentials_leaves_a_cache_that_reads_back(tmp_path, rotated) -> None:
    """Sign-In answering 200 without credentials: refused, naming what the answer lacks, and the cache is not
    overwritten with an entry no one can read; a refresh token the answer rotated is kept, so the next refresh
    (here answered in full) uses it rather than the spent one."""
    cache = tmp_path / ".aws/login/cache"
    _login_cache(cache, "me", datetime.now(timezone.utc) + timedelta(minutes=2))
    entry = cache / (hashlib.sha256(b"me").hexdigest() + ".json")
    before = json.loads(entry.read_text())
    seen: list[dict[str, Any]] = []
    partial = {"tokenType": "aws_sigv4", "expiresIn": 900, **({"refreshToken": "refresh-2"} if rotated else {})}
    for answer in (partial, {**partial, "accessToken": {"accessKeyId": "ASIAREFRESHED"}}):
        with http_server(_sign_in(seen, answer=answer)) as (url, _):
            env = _env(tmp_path, "[profile console]\nlogin_session = me\n", "", {"AWS_ENDPOINT_URL_SIGNIN": url})
            with pytest.raises(CredentialsError, match="the answer lacks .*; run aws login --profile console") as caught:
                resolve_credentials("console", env)
            # the error carries none of the cache's secrets (it may be logged, or pickled to another process)
            assert not {"refresh-2", "refresh", before["dpopKey"]} & set(map(str, vars(caught.value).values())), \
                vars(caught.value)
            assert b"PRIVATE KEY" not in pickle.dumps(caught.value) and b"refresh-2" not in pickle.dumps(caught.value)
        assert json.loads(entry.read_text()) == ({**before, "refreshToken": "refresh-2"} if rotated else before)
    with http_server(_sign_in(seen)) as (url, _):
        env = _env(tmp_path, "[profile console]\nlogin_session = me\n", "", {"AWS_ENDPOINT_URL_SIGNIN": url})
        assert resolve_credentials("console", env).credentials.access_key_id == "ASIAREFRESHED"
    assert [call["body"]["refreshToken"] for call in seen] == ["refresh"] + ["refresh-2" if rotated else "refresh"] * 2


def test_an_aws_login_refresh_refused_says_to_sign_in_again(tmp_path) -> None:
    _login_cache(tmp_path / ".aws/login/cache", "me", datetime.now(timezone.utc) - timedelta(minutes=1))
    seen: list[dict[str, Any]] = []
    with http_server(_sign_in(seen, refused=True)) as (url, _):
        env = _env(tmp_path, "[profile console]\nlogin_session = me\n", "", {"AWS_ENDPOINT_URL_SIGNIN": url})
        with pytest.raises(CredentialsError, match="AccessDeniedException: the session has expired; run aws login "
                                                   "--profile console") as caught:
            resolve_credentials("console", env)
    assert SECRET not in str(caught.value) and "PRIVATE KEY" not in str(caught.value)
    env = _env(tmp_path, "[profile console]\nlogin_session = other\n", "", {})
    with pytest.raises(CredentialsError, match="no `aws login` session 'other' cached at .*; run aws login"):
        resolve_credentials("console", env)
