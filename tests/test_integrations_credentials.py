"""Credential providers: environment, shared files, credential_process, static, and the thread-safe cache."""

from __future__ import annotations

import json
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

import cli
import sigv4
from sigv4.integrations import (
    CachingProvider,
    CredentialsError,
    ResolvedCredentials,
    default_chain,
    from_environment,
    from_process,
    from_profile,
    resolve_credentials,
    static,
)
from sigv4.integrations.credentials import profile_setting

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
T0 = datetime(2030, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def aws_dir(tmp_path):
    (tmp_path / "credentials").write_text(
        f"[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = {SECRET}\n"
        f"[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = {SECRET}\naws_session_token = tok\n")
    (tmp_path / "config").write_text(
        "[default]\nregion = eu-west-1\n[profile dev]\nregion = ap-south-1\nendpoint_url = http://localhost:1\n"
        f"[profile conf]\naws_access_key_id = AKIDCONF\naws_secret_access_key = {SECRET}\n")
    return tmp_path


def env_for(aws_dir, **extra: str) -> dict[str, str]:
    return {"AWS_SHARED_CREDENTIALS_FILE": str(aws_dir / "credentials"), "AWS_CONFIG_FILE": str(aws_dir / "config"),
            **extra}


def test_environment() -> None:
    found = from_environment({"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": SECRET,
                              "AWS_SESSION_TOKEN": "tok", "AWS_CREDENTIAL_EXPIRATION": "2030-01-01T00:00:00Z",
                              "AWS_REGION": "us-west-2"})
    assert found == ResolvedCredentials(sigv4.Credentials("AKID", SECRET, "tok"), "env", T0, "us-west-2")
    assert found.expiration == "2030-01-01T00:00:00Z"
    with pytest.raises(CredentialsError, match="missing: AWS_SECRET_ACCESS_KEY$"):
        from_environment({"AWS_ACCESS_KEY_ID": "AKID"})
    with pytest.raises(CredentialsError, match="missing: AWS_ACCESS_KEY_ID$"):
        from_environment({"AWS_SECRET_ACCESS_KEY": SECRET})
    with pytest.raises(CredentialsError, match="AWS_CREDENTIAL_EXPIRATION"):
        from_environment({"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": SECRET,
                          "AWS_CREDENTIAL_EXPIRATION": "soon"})


def test_profiles(aws_dir) -> None:
    env = env_for(aws_dir)
    assert from_profile(None, env).credentials.access_key_id == "AKIDDEFAULT"
    assert from_profile(None, env).region == "eu-west-1"
    dev = from_profile("dev", env)
    assert dev.credentials == sigv4.Credentials("AKIDDEV", SECRET, "tok") and dev.region == "ap-south-1"
    assert from_profile(None, {**env, "AWS_PROFILE": "conf"}).credentials.access_key_id == "AKIDCONF"
    assert profile_setting("dev", "endpoint_url", env) == "http://localhost:1"
    with pytest.raises(CredentialsError, match="profile 'nope' has none"):
        from_profile("nope", env)


def test_home_of_an_injected_environment(aws_dir) -> None:
    (aws_dir / ".aws").mkdir()
    (aws_dir / "credentials").rename(aws_dir / ".aws" / "credentials")
    assert from_profile(None, {"HOME": str(aws_dir)}).credentials.access_key_id == "AKIDDEFAULT"


def test_resolution_order(aws_dir) -> None:
    env = env_for(aws_dir, AWS_ACCESS_KEY_ID="AKIDENV", AWS_SECRET_ACCESS_KEY=SECRET)
    assert resolve_credentials(None, env).source == "env"
    assert resolve_credentials("dev", env).credentials.access_key_id == "AKIDDEV"  # an explicit profile wins
    assert default_chain(None, env)().source == "env"


def process_script(tmp_path, output: str, status: int = 0) -> str:
    script = tmp_path / "proc.py"
    script.write_text(f"import sys\nsys.stdout.write({output!r})\nsys.exit({status})\n")
    return f"{sys.executable} {script}"


def test_credential_process(tmp_path) -> None:
    good = json.dumps({"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": SECRET, "SessionToken": "t",
                       "Expiration": "2030-01-01T00:00:00Z"})
    found = from_process(process_script(tmp_path, good), profile="p")
    assert found.credentials == sigv4.Credentials("AKIDPROC", SECRET, "t") and found.expiry == T0
    (tmp_path / "config").write_text(f"[profile p]\ncredential_process = {process_script(tmp_path, good)}\n")
    assert from_profile("p", {"AWS_CONFIG_FILE": str(tmp_path / "config"),
                              "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}).expiry == T0


@pytest.mark.parametrize("output, status, message", [
    ("not json", 0, "not JSON with AccessKeyId"),
    ('{"AccessKeyId": "A"}', 0, "not JSON with AccessKeyId"),
    ('["list"]', 0, "not JSON with AccessKeyId"),
    (json.dumps({"AccessKeyId": "A", "SecretAccessKey": "supersecret"}), 3, "exited with status 3"),
    # The expiration's text is not repeated either: nothing a process prints reaches a message (issue 22).
    (json.dumps({"AccessKeyId": "A", "SecretAccessKey": "supersecret", "Expiration": "x"}), 0,
     "the expiration is not an ISO 8601 time"),
])
def test_credential_process_failures_name_the_profile_not_the_secret(tmp_path, output, status, message) -> None:
    with pytest.raises(CredentialsError, match=message) as caught:
        from_process(process_script(tmp_path, output, status), profile="p")
    assert "supersecret" not in str(caught.value) and "profile 'p'" in str(caught.value)
    assert isinstance(caught.value, sigv4.SigningError)


def test_credentials_that_have_already_expired_are_refused_as_botocore_refuses_them(tmp_path, capsys) -> None:
    stale = json.dumps({"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": SECRET,
                        "Expiration": "2001-01-01T00:00:00Z"})  # a helper's stale cache
    (tmp_path / "config").write_text(f"[profile p]\ncredential_process = {process_script(tmp_path, stale)}\n")
    env = {"AWS_CONFIG_FILE": str(tmp_path / "config"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
           "AWS_EC2_METADATA_DISABLED": "true"}
    with pytest.raises(CredentialsError, match=r"^credential_process \(profile p\): the credentials it gave have "
                                               r"already expired$"):
        resolve_credentials("p", env)
    assert cli.main(["call", "sts", "GetCallerIdentity", "--profile", "p", "--endpoint-url", "http://127.0.0.1:9"],
                    env) == 2  # refused before anything is signed or sent
    assert capsys.readouterr().err.endswith("the credentials it gave have already expired\n")
    with pytest.raises(CredentialsError, match="^env: the credentials it gave have already expired$"):
        resolve_credentials(None, {"AWS_ACCESS_KEY_ID": "ASIAX", "AWS_SECRET_ACCESS_KEY": SECRET,
                                   "AWS_SESSION_TOKEN": "t", "AWS_CREDENTIAL_EXPIRATION": "2020-01-01T00:00:00Z"})


def test_malformed_file(tmp_path) -> None:
    (tmp_path / "config").write_text("no section header\n")
    with pytest.raises(CredentialsError, match="not a valid AWS config file"):
        from_profile(None, {"AWS_CONFIG_FILE": str(tmp_path / "config")})


# -- CachingProvider --------------------------------------------------------------

class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def expiring(calls: list[int], clock: Clock, lifetime: timedelta = timedelta(minutes=15)):
    def provider() -> ResolvedCredentials:
        calls.append(1)
        return ResolvedCredentials(sigv4.Credentials(f"AKID{len(calls)}", SECRET), "test", clock.now + lifetime)
    return provider


def test_refreshes_ahead_of_expiry() -> None:
    calls: list[int] = []
    clock = Clock()
    cached = CachingProvider(expiring(calls, clock), refresh_ahead=timedelta(minutes=5), clock=clock)
    assert cached().credentials.access_key_id == "AKID1"
    clock.now += timedelta(minutes=9)
    assert cached().credentials.access_key_id == "AKID1"
    clock.now += timedelta(minutes=2)  # 4 minutes left: refresh
    assert cached().credentials.access_key_id == "AKID2" and len(calls) == 2


def test_failed_refresh_keeps_valid_credentials_until_they_expire() -> None:
    clock = Clock()
    state = {"fail": False}

    def provider() -> ResolvedCredentials:
        if state["fail"]:
            raise CredentialsError("source down")
        return ResolvedCredentials(sigv4.Credentials("AKID", SECRET), "test", clock.now + timedelta(minutes=10))

    cached = CachingProvider(provider, refresh_ahead=timedelta(minutes=5), clock=clock)
    cached()
    state["fail"] = True
    clock.now += timedelta(minutes=7)
    assert cached().credentials.access_key_id == "AKID"  # still valid for 3 minutes
    clock.now += timedelta(minutes=4)
    with pytest.raises(CredentialsError, match="source down"):
        cached()


def test_static_and_plain_credentials_never_refresh() -> None:
    creds = sigv4.Credentials("AKID", SECRET)
    assert static(creds)().credentials is creds
    calls: list[int] = []
    cached = CachingProvider(lambda: calls.append(1) or creds)
    assert [cached().credentials for _ in range(5)] == [creds] * 5 and calls == [1]


def test_provider_returning_something_else_is_an_error() -> None:
    with pytest.raises(CredentialsError, match="returned dict"):
        CachingProvider(lambda: {"AccessKeyId": "A"})()  # type: ignore[arg-type,return-value]


def test_threads_share_one_refresh() -> None:
    calls: list[int] = []
    clock = Clock()
    inner = expiring(calls, clock)

    def slow() -> ResolvedCredentials:
        time.sleep(0.05)  # widen the race window; no timing is asserted
        return inner()

    cached = CachingProvider(slow, clock=clock)
    barrier = threading.Barrier(16)
    seen: list[str] = []

    def worker() -> None:
        barrier.wait()
        seen.append(cached().credentials.access_key_id)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [1] and seen == ["AKID1"] * 16


def test_threads_do_not_queue_behind_a_refresh_ahead_of_expiry() -> None:
    """A source that is down (or slow) while the cached credentials are still valid: one thread tries it, the
    others sign with the cached credentials meanwhile, rather than each wait for the lock and try the source
    again in turn (a herd of serial refreshes, every request delayed by all of them)."""
    clock = Clock()
    calls: list[int] = []
    others_done = threading.Event()

    def provider() -> ResolvedCredentials:
        calls.append(1)
        if len(calls) > 1:
            others_done.wait(timeout=1)  # held until every other thread has its answer (bounded: a queue)
            raise CredentialsError("source down")
        return ResolvedCredentials(sigv4.Credentials("AKID", SECRET), "test", clock.now + timedelta(minutes=10))

    cached = CachingProvider(provider, refresh_ahead=timedelta(minutes=5), clock=clock)
    cached()
    clock.now += timedelta(minutes=7)  # 3 minutes left: a refresh is due, the credentials still valid
    seen: list[str] = []
    barrier = threading.Barrier(16)

    def worker() -> None:
        barrier.wait()
        seen.append(cached().credentials.access_key_id)
        if len(seen) == 15:
            others_done.set()

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == ["AKID"] * 16 and len(calls) == 2  # the first fetch, then one refresh for all 16
    clock.now += timedelta(minutes=4)  # expired: every caller waits for the source, and is refused with its error
    with pytest.raises(CredentialsError, match="source down"):
        cached()


def test_credential_process_runs_without_a_shell_and_checks_field_types(tmp_path) -> None:
    from sigv4.integrations.credentials import CredentialsError, from_process
    marker = tmp_path / "marker"
    with pytest.raises(CredentialsError):
        from_process(f"true; touch {marker}")  # a shell would run the second command
    assert not marker.exists()
    with pytest.raises(CredentialsError, match="cannot run 'no-such-program-xyz'"):
        from_process("no-such-program-xyz --flag")
    script = tmp_path / "numbers.sh"
    script.write_text('#!/bin/sh\necho \'{"AccessKeyId": 1, "SecretAccessKey": 2}\'\n')
    script.chmod(0o755)
    with pytest.raises(CredentialsError, match="not JSON with AccessKeyId"):
        from_process(str(script))
