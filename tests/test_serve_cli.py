"""`cli.py demo`, `trail` and `serve`'s start-up errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import cli
from tests.serve_fixtures import DEFAULT
from wire.service.trail_log import TrailLog

ROOT = Path(__file__).resolve().parent.parent


def test_demo_signs_calls_and_prints_each_exchange(capsys) -> None:
    assert cli.main(["demo"], {}) == 0
    out, err = capsys.readouterr()
    assert err == ""
    for operation in ("PutAlternateContact", "GetAlternateContact", "ListRegions"):
        assert f". {operation} " in out
    assert out.count("1. Canonical request") == 3 and out.count("<- HTTP 200 OK") == 3
    assert '"Name":"Ana Lima"' in out and '"RegionOptStatus":"ENABLED_BY_DEFAULT"' in out
    assert "3 CloudTrail records written" in out
    assert DEFAULT["secret_access_key"] not in out


def test_trail_filters_by_event_name(tmp_path: Path, capsys) -> None:
    log = tmp_path / "trail.jsonl"
    records = [{"eventName": name, "eventID": str(i)} for i, name in enumerate(["ListRegions", "PutAccountName",
                                                                                 "ListRegions"])]
    log.write_text("".join(json.dumps(r) + "\n" for r in records) + '{"eventName": "Partial')
    assert cli.main(["trail", "--log", str(log), "--event-name", "ListRegions"], {}) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["eventID"] for line in lines] == ["0", "2"]


def test_trail_without_a_log_is_a_usage_error(tmp_path: Path, capsys) -> None:
    assert cli.main(["trail", "--log", str(tmp_path / "missing.jsonl")], {}) == 2
    assert "no such file" in capsys.readouterr().err


def test_serve_refuses_a_bad_accounts_file(tmp_path: Path, capsys) -> None:
    accounts = tmp_path / "accounts.json"
    accounts.write_text(json.dumps({"accounts": [{"access_key_id": "A", "secret_access_key": "s",
                                                  "account_id": "123"}]}))
    code = cli.main(["serve", "--accounts", str(accounts), "--state", ":memory:", "--log", str(tmp_path / "t")], {})
    assert code == 2
    assert "accounts[0].account_id: '123' is not a 12-digit account id" in capsys.readouterr().err


@pytest.mark.parametrize("extra", [[], ["--protocol", "query", "--method", "GET"], ["--protocol", "query"],
                                   ["--protocol", "query", "--method", "GET", "--sigv2"]])
def test_call_drives_the_local_endpoint_over_rest_and_query(tmp_path: Path, capsys, extra) -> None:
    from tests.serve_fixtures import start, stop
    running = start(tmp_path)
    env = {"AWS_ACCESS_KEY_ID": DEFAULT["access_key_id"], "AWS_SECRET_ACCESS_KEY": DEFAULT["secret_access_key"],
           "HOME": str(tmp_path)}
    common = ["--endpoint-url", running.url, *extra]
    try:
        assert cli.main(["call", "account", "PutAlternateContact", "AlternateContactType=BILLING", "Name=Bo",
                         "Title=CFO", "EmailAddress=bo@example.com", "PhoneNumber=+1-555-0100", *common], env) == 0
        assert cli.main(["call", "account", "GetAlternateContact", "AlternateContactType=BILLING", *common], env) == 0
        assert '"EmailAddress": "bo@example.com"' in capsys.readouterr().out
        assert cli.main(["call", "account", "GetAlternateContact", "AlternateContactType=SECURITY", *common], env) == 1
        assert capsys.readouterr().err.startswith("ResourceNotFoundException")
        wrong = {**env, "AWS_SECRET_ACCESS_KEY": "not-the-secret"}
        assert cli.main(["call", "account", "ListRegions", *common], wrong) == 1
        code = capsys.readouterr().err.split(":")[0]
        assert code == ("SignatureDoesNotMatch" if extra else "InvalidSignatureException")
    finally:
        stop(running)


def test_a_record_torn_by_a_crash_does_not_swallow_the_next_one(tmp_path: Path, capsys) -> None:
    # A crash (or a full disk) mid-append leaves a line without its newline; that call was never
    # answered, so its fragment goes, and the next server's first record is a line of its own.
    log = tmp_path / "trail.jsonl"
    log.write_text('{"eventName": "ListRegions", "eventID": "0"}\n{"eventName": "PutAcc')
    trail = TrailLog(log)
    trail.append({"eventName": "GetPrimaryEmail", "eventID": "1"})
    trail.close()
    assert cli.main(["trail", "--log", str(log)], {}) == 0
    assert [json.loads(line)["eventID"] for line in capsys.readouterr().out.splitlines()] == ["0", "1"]


def test_a_call_answered_with_an_error_leaves_no_state(tmp_path: Path) -> None:
    import sigv4
    from datetime import datetime, timezone
    from tests.serve_fixtures import start, stop
    running = start(tmp_path)
    try:
        creds = sigv4.Credentials(DEFAULT["access_key_id"], DEFAULT["secret_access_key"])
        bad = sigv4.Request("POST", running.url + "/getAlternateContact", [("Content-Type", "application/json")],
                            b'{"AlternateContactType": "BILLING"}')
        signed = sigv4.sign(bad, creds, region="us-east-1", service="account", timestamp=datetime.now(timezone.utc))
        reply = running.app.respond(signed.request, "127.0.0.1")
        assert reply.status == 404
        with running.app.store.transaction() as store:
            assert list(store._db.execute("SELECT count(*) FROM records"))[0][0] == 0
    finally:
        stop(running)


def test_trail_refuses_a_file_that_is_not_a_trail(tmp_path: Path, capsys) -> None:
    log = tmp_path / "not-a-trail.jsonl"
    log.write_text("hello\n")
    assert cli.main(["trail", "--log", str(log)], {}) == 2
    err = capsys.readouterr().err
    assert "not a trail record" in err and err.count("\n") == 1


def _one_line_error(capsys, argv: list[str]) -> str:
    code = cli.main(argv, {"AWS_EC2_METADATA_DISABLED": "true"})
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("sigv4: error: ") and err.count("\n") == 1, (code, err)
    return err


def test_serve_refuses_an_accounts_file_that_is_not_text(tmp_path: Path, capsys) -> None:
    accounts = tmp_path / "accounts.json"
    accounts.write_bytes(b"\xec\x00\xff binary")
    err = _one_line_error(capsys, ["serve", "--accounts", str(accounts), "--state", ":memory:"])
    assert f"{accounts}: not UTF-8" in err


@pytest.mark.parametrize("content", [None, b"\xec\x00\xff binary\n"], ids=["a directory", "binary"])
def test_trail_refuses_a_directory_or_a_binary_file(tmp_path: Path, capsys, content: bytes | None) -> None:
    log = tmp_path / "log"
    if content is None:
        log.mkdir()
    else:
        log.write_bytes(content)
    err = _one_line_error(capsys, ["trail", "--log", str(log)])
    assert str(log) in err


@pytest.mark.parametrize("command", [["serve", "--state", ":memory:"],
                                     ["proxy", "--upstream", "http://127.0.0.1:9", "--service", "s3"]])
@pytest.mark.parametrize("port", ["-1", "65536", "99999"])
def test_a_port_out_of_range_is_refused_in_one_line(capsys, command: list[str], port: str) -> None:
    err = _one_line_error(capsys, [*command, "--port", port])
    assert f"--port: {port} is not 0..65535" in err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_in_memory_writes_nothing_and_stops_on_a_signal(tmp_path: Path, sig: signal.Signals) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", ""), "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_ACCESS_KEY_ID": DEFAULT["access_key_id"], "AWS_SECRET_ACCESS_KEY": DEFAULT["secret_access_key"]}
    serve = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "serve", "--state", ":memory:"], env=env,
                             cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = (serve.stdout.readline() if serve.stdout else "").rsplit(" on ", 1)[-1].strip()
        assert url.startswith("http://127.0.0.1:"), serve.stderr.read() if serve.stderr else ""
        assert (serve.stdout.readline() if serve.stdout else "") == \
            "state :memory:; trail not kept (--log FILE keeps one)\n"
        assert cli.main(["call", "account", "PutAccountName", "AccountName=Mine", "--endpoint-url", url], env) == 0
    finally:
        serve.send_signal(sig)  # idle now: it stops at once (the loop waits on the signal, not a poll)
        out, err = serve.communicate(timeout=30)
    assert serve.returncode == 0 and out.endswith("stopped\n") and err == ""
    assert [path for path in tmp_path.rglob("*") if path != home] == []  # not under HOME, not in the cwd


PROXY = ["proxy", "--upstream", "http://127.0.0.1:9", "--service", "s3"]


@pytest.mark.parametrize("argv, says", [
    (["serve", "--state", ":memory:", "--region-delay", "nan"], "argument --region-delay: invalid seconds value: 'nan'"),
    (["serve", "--region-delay", "inf", "--state", ":memory:"], "argument --region-delay: invalid seconds value: 'inf'"),
    (["serve", "--region-delay", "-1"], "argument --region-delay: invalid seconds value: '-1'"),
    (["serve", "--state", ":memory:", "--max-body-bytes", "-5"], "--max-body-bytes -5: must be at least 0"),
    (["serve", "--max-buffered-bytes", "-1", "--state", ":memory:"], "--max-buffered-bytes -1: must be at least 0"),
    ([*PROXY, "--max-header-bytes", "0"], "--max-header-bytes 0: must be at least 1"),
    ([*PROXY, "--ca-bundle", "/nonexistent/ca.pem"], "argument --ca-bundle: /nonexistent/ca.pem: No such file"),
    (["proxy", "--ca-bundle", str(ROOT / "README.md"), "--upstream", "https://127.0.0.1:9", "--service", "s3"],
     f"argument --ca-bundle: {ROOT / 'README.md'}: [X509: NO_CERTIFICATE_OR_CRL_FOUND]"),
    (["proxy", "--verify", "--accounts", "/nonexistent/accounts.json", "--upstream", "http://127.0.0.1:9"],
     "--accounts /nonexistent/accounts.json: No such file"),
])
def test_a_bad_limit_bundle_or_accounts_flag_is_refused_in_one_line_at_start(capsys, argv: list[str], says: str) -> None:
    """Each was taken: `--region-delay nan` ended in a traceback, negative limits served (refusing every request), a
    missing --ca-bundle failed every TLS connection later with 502, and the guard's --accounts error did not name
    the flag."""
    err = _one_line_error(capsys, argv)
    assert f"sigv4: error: {says}" in err, err
