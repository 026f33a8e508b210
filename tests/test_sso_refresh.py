"""SSO token refresh as botocore's SSOTokenProvider does it, against a local SSO OIDC and SSO portal.

The OIDC server (tests/local_http.py) answers CreateToken at AWS_ENDPOINT_URL_SSO_OIDC
and checks the request botocore sends: unsigned `POST /token` with the
refresh_token grant. The portal is the GetRoleCredentials fake of
test_credential_chain, which accepts only the token it is told to expect. The
last test runs botocore's own provider on the same cache file and server and
compares the files it leaves.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import h11
import pytest

import sigv4
from local_http import Recorder, http_server
from sigv4.integrations import CredentialsError, sso
from test_credential_chain import SECRET, _env, _sso_portal

NOW = datetime(2030, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
START_URL = "https://corp.awsapps.com/start"
SESSION_CONFIG = ("[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Admin\n"
                  f"[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n")
LEGACY_CONFIG = (f"[profile dev]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n"
                 "sso_account_id = 111122223333\nsso_role_name = Admin\n")
#: What must never appear in an error: the tokens and the client secret.
SECRETS = ("old-access-token", "old-refresh-token", "client-secret-xyz", "new-access-token", "new-refresh-token")


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _write_cache(home: Path, key: str, expires: datetime, registration: datetime = NOW + timedelta(days=80),
                 **overrides: Any) -> Path:
    """A cache entry as `aws sso login --sso-session` writes it, with the client registration."""
    path = sso.cache_path(home, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "startUrl": START_URL, "region": "us-east-1", "accessToken": "old-access-token",
        "expiresAt": _stamp(expires), "clientId": "client-id-abc", "clientSecret": "client-secret-xyz",
        "registrationExpiresAt": _stamp(registration), "refreshToken": "old-refresh-token", **overrides}))
    return path


def _oidc(status: int = 200, answer: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    """CreateToken: checks the request is botocore's (unsigned refresh_token grant) and gives `answer`."""
    def respond(request: h11.Request, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        assert request.method == b"POST" and request.target == b"/token"
        assert b"authorization" not in dict(request.headers)
        assert json.loads(body) == {"grantType": "refresh_token", "clientId": "client-id-abc",
                                    "clientSecret": "client-secret-xyz", "refreshToken": "old-refresh-token"}
        if status != 200:
            return status, [("Content-Type", "application/json"), ("x-amzn-ErrorType", "InvalidGrantException")], \
                b'{"error": "invalid_grant", "error_description": "Invalid refresh token provided"}'
        return 200, [("Content-Type", "application/json")], json.dumps(answer or {
            "accessToken": "new-access-token", "tokenType": "Bearer", "expiresIn": 28800,
            "refreshToken": "new-refresh-token"}).encode()
    return respond


@contextmanager
def _endpoints(tmp_path: Path, config: str, oidc: Any, portal_token: str) -> Iterator[tuple[dict[str, str],
                                                                                           Recorder]]:
    """The environment pointing SSO and SSO OIDC at local fakes; yields it and the OIDC recorder."""
    with http_server(oidc) as (oidc_url, recorder), http_server(_sso_portal(portal_token)) as (portal_url, _):
        yield _env(tmp_path, config, AWS_ENDPOINT_URL_SSO=portal_url, AWS_ENDPOINT_URL_SSO_OIDC=oidc_url), recorder


def _credentials(env: dict[str, str], home: Path, config_section: dict[str, str],
                 session: dict[str, str] | None) -> sigv4.integrations.ResolvedCredentials:
    return sso.sso_credentials("dev", config_section, session, env, home, now=NOW)


PROFILE = {"sso_session": "corp", "sso_account_id": "111122223333", "sso_role_name": "Admin"}
SESSION = {"sso_start_url": START_URL, "sso_region": "us-east-1"}
LEGACY = {"sso_start_url": START_URL, "sso_region": "us-east-1", "sso_account_id": "111122223333",
          "sso_role_name": "Admin"}


def test_a_token_within_the_window_is_refreshed_written_back_and_used(tmp_path: Path) -> None:
    path = _write_cache(tmp_path, "corp", NOW + timedelta(minutes=14, seconds=59))
    with _endpoints(tmp_path, SESSION_CONFIG, _oidc(), "new-access-token") as (env, recorder):
        found = _credentials(env, tmp_path, PROFILE, SESSION)
    assert found.credentials == sigv4.Credentials("ASIASSO", SECRET, "sso-session")
    assert len(recorder.requests) == 1
    assert json.loads(path.read_text()) == {
        "startUrl": START_URL, "region": "us-east-1", "accessToken": "new-access-token",
        "expiresAt": _stamp(NOW + timedelta(hours=8)), "clientId": "client-id-abc",
        "clientSecret": "client-secret-xyz", "registrationExpiresAt": _stamp(NOW + timedelta(days=80)),
        "refreshToken": "new-refresh-token"}
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # the temporary file was renamed, not left
    assert path.stat().st_mode & 0o077 == 0


def test_the_chain_refreshes_through_the_profile(tmp_path: Path) -> None:
    path = _write_cache(tmp_path, "corp", datetime.now(timezone.utc) - timedelta(minutes=1))
    with _endpoints(tmp_path, SESSION_CONFIG, _oidc(), "new-access-token") as (env, recorder):
        found = sigv4.integrations.resolve_credentials("dev", env)
    assert found.source == "sso (profile dev)" and len(recorder.requests) == 1
    assert json.loads(path.read_text())["accessToken"] == "new-access-token"


def test_a_token_outside_the_window_is_not_refreshed(tmp_path: Path) -> None:
    path = _write_cache(tmp_path, "corp", NOW + timedelta(minutes=15))
    before = path.read_text()
    with _endpoints(tmp_path, SESSION_CONFIG, _oidc(), "old-access-token") as (env, recorder):
        _credentials(env, tmp_path, PROFILE, SESSION)
    assert recorder.requests == [] and path.read_text() == before


def test_a_failed_refresh_keeps_a_valid_token_and_names_the_login_for_an_expired_one(tmp_path: Path) -> None:
    path = _write_cache(tmp_path, "corp", NOW + timedelta(minutes=5))
    before = path.read_text()
    with _endpoints(tmp_path, SESSION_CONFIG, _oidc(400), "old-access-token") as (env, recorder):
        _credentials(env, tmp_path, PROFILE, SESSION)
        assert len(recorder.requests) == 1 and path.read_text() == before
        path = _write_cache(tmp_path, "corp", NOW - timedelta(seconds=1))
        with pytest.raises(CredentialsError, match=r"expired at .* and refreshing it failed \(SSO OIDC CreateToken "
                                                   r"\(sso-session corp\): InvalidGrantException\); "
                                                   r"run aws sso login --sso-session corp$") as caught:
            _credentials(env, tmp_path, PROFILE, SESSION)
    assert not any(secret in str(caught.value) for secret in SECRETS)


def test_an_unreachable_oidc_endpoint_is_a_failed_refresh(tmp_path: Path) -> None:
    _write_cache(tmp_path, "corp", NOW - timedelta(minutes=1))
    with socket.socket() as unused:  # a loopback port that is bound but not listening: connecting is refused
        unused.bind(("127.0.0.1", 0))
        env = _env(tmp_path, SESSION_CONFIG, AWS_ENDPOINT_URL_SSO_OIDC=f"http://127.0.0.1:{unused.getsockname()[1]}")
        with pytest.raises(CredentialsError, match="refreshing it failed .*; run aws sso login --sso-session corp"):
            _credentials(env, tmp_path, PROFILE, SESSION)


def test_legacy_profiles_are_never_refreshed(tmp_path: Path) -> None:
    path = _write_cache(tmp_path, START_URL, NOW + timedelta(minutes=5))
    with _endpoints(tmp_path, LEGACY_CONFIG, _oidc(), "old-access-token") as (env, recorder):
        _credentials(env, tmp_path, LEGACY, None)
        _write_cache(tmp_path, START_URL, NOW - timedelta(minutes=1))
        with pytest.raises(CredentialsError, match=r"expired at \S+; run aws sso login --profile dev$"):
            _credentials(env, tmp_path, LEGACY, None)
    assert recorder.requests == [] and json.loads(path.read_text())["accessToken"] == "old-access-token"


@pytest.mark.parametrize("cache", [{"registration": NOW}, {"refreshToken": None}, {"clientSecret": ""}],
                         ids=["registration-expired", "no-refresh-token", "no-client-secret"])
def test_no_refresh_without_a_live_registration_and_refresh_token(tmp_path: Path, cache: dict[str, Any]) -> None:
    _write_cache(tmp_path, "corp", NOW + timedelta(minutes=5), **cache)
    with _endpoints(tmp_path, SESSION_CONFIG, _oidc(), "old-access-token") as (env, recorder):
        _credentials(env, tmp_path, PROFILE, SESSION)
        _write_cache(tmp_path, "corp", NOW - timedelta(minutes=1), **cache)
        with pytest.raises(CredentialsError, match=r"expired at \S+; run aws sso login --sso-session corp$"):
            _credentials(env, tmp_path, PROFILE, SESSION)
    assert recorder.requests == []


@pytest.mark.parametrize("answer", [
    {"accessToken": "new-access-token", "expiresIn": 3600, "refreshToken": "new-refresh-token"},
    {"accessToken": "new-access-token", "expiresIn": 3600},
], ids=["rotated-refresh-token", "no-new-refresh-token"])
def test_the_cache_file_matches_botocores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          answer: dict[str, Any]) -> None:
    """botocore's SSOTokenProvider, on the same cache entry, server answer and clock, writes the same file."""
    from botocore.session import Session
    from botocore.tokens import SSOTokenProvider, _sso_json_dumps
    from botocore.utils import JSONFileCache

    ours_home, theirs_home = tmp_path / "ours", tmp_path / "theirs"
    ours = _write_cache(ours_home, "corp", NOW + timedelta(minutes=5))
    theirs = _write_cache(theirs_home, "corp", NOW + timedelta(minutes=5))
    with http_server(_oidc(answer=answer)) as (url, recorder):
        sso.access_token(ours, NOW, "aws sso login --sso-session corp",
                         lambda cached: sso.create_token(cached, session_name="corp", sso_region="us-east-1",
                                                         start_url=START_URL, env={"AWS_ENDPOINT_URL_SSO_OIDC": url},
                                                         now=NOW))
        (tmp_path / "config").write_text(SESSION_CONFIG)
        for name, value in {"AWS_CONFIG_FILE": str(tmp_path / "config"), "AWS_ENDPOINT_URL_SSO_OIDC": url,
                            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}.items():
            monkeypatch.setenv(name, value)
        provider = SSOTokenProvider(Session(), cache=JSONFileCache(str(theirs.parent), dumps_func=_sso_json_dumps),
                                    time_fetcher=lambda: NOW, profile_name="dev")
        assert provider.load_token().get_frozen_token().token == "new-access-token"
    assert len(recorder.requests) == 2
    assert ours.read_bytes() == theirs.read_bytes()
