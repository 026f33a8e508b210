"""moto's server with signature checking on, and the debugger on what it refused.

moto checks signatures once `INITIAL_NO_AUTH_ACTION_COUNT` actions have run:
the fixture lets two through (create a user and its access key), then every
request is verified with botocore's signer against that key. moto answers a
mismatch with its `<ErrorResponse><Errors><Error>` body and no strings, so
what decides the cause is the secret: the search for the signer mistake that
reproduces the signature sent.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from sigv4 import Credentials, Request, sign
from wire.debugger.diagnose import Diagnosis, diagnose_answer
from wire.debugger.diagnosis_text import render_text

pytest.importorskip("moto.server", reason="moto is in the test extra")
boto3 = pytest.importorskip("boto3", reason="boto3 is in the test extra")
from moto_checking import moto_checking_signatures  # noqa: E402

FORM = ("Content-Type", "application/x-www-form-urlencoded")
BODY = b"Action=ListUsers&Version=2010-05-08"


@pytest.fixture(scope="module")
def moto_iam() -> Iterator[tuple[str, Credentials]]:
    with moto_checking_signatures(2) as url:
        iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE",
                           aws_secret_access_key="unchecked")
        iam.create_user(UserName="alice")
        key = iam.create_access_key(UserName="alice")["AccessKey"]
        yield url, Credentials(key["AccessKeyId"], key["SecretAccessKey"])


def _send(request: Request) -> tuple[int, list[tuple[str, str]], bytes]:
    body = request.body if isinstance(request.body, bytes) else b""
    sent = urllib.request.Request(request.url, data=body or None, method=request.method,
                                  headers={n: v for n, v in request.headers if n.lower() != "host"})
    try:
        with urllib.request.urlopen(sent) as response:
            return response.status, list(response.headers.items()), response.read()
    except urllib.error.HTTPError as err:
        return err.code, list(err.headers.items()), err.read()


def _signed(url: str, creds: Credentials, *headers: tuple[str, str], body: bytes = BODY) -> Any:
    return sign(Request("POST", url + "/", [FORM, *headers], body), creds, region="us-east-1", service="iam",
                timestamp=datetime.now(timezone.utc).replace(microsecond=0))


def _check(diagnosis: Diagnosis, kind: str, words: str, creds: Credentials) -> None:
    first = diagnosis.causes[0]
    assert (first.kind, first.evidence) == (kind, "proved"), render_text(diagnosis)
    assert words in first.message, render_text(diagnosis)
    assert creds.secret_access_key not in render_text(diagnosis)


def test_moto_accepts_the_signature_of_an_unchanged_request(moto_iam: tuple[str, Credentials]) -> None:
    url, creds = moto_iam
    status, _, body = _send(_signed(url, creds).request)
    assert status == 403 and b"<Code>AccessDenied</Code>" in body  # verified, then refused by policy


def test_charset_added_in_transit(moto_iam: tuple[str, Credentials]) -> None:
    url, creds = moto_iam
    arrived = _signed(url, creds).request.with_header("Content-Type", FORM[1] + "; charset=utf-8")
    answer = _send(arrived)
    assert answer[0] == 403 and b"<Code>SignatureDoesNotMatch</Code>" in answer[2]
    _check(diagnose_answer(arrived, answer, secret=creds), "header-changed",
           "the client signed `content-type:application/x-www-form-urlencoded` (no charset), but the request "
           "carries `Content-Type: application/x-www-form-urlencoded; charset=utf-8`", creds)
    unproved = diagnose_answer(arrived, answer).causes[0]
    assert unproved.evidence == "likely" and "would settle it" in unproved.message


def test_form_fields_reordered_in_transit(moto_iam: tuple[str, Credentials]) -> None:
    url, creds = moto_iam
    arrived = _signed(url, creds).request.with_body(b"Version=2010-05-08&Action=ListUsers")
    answer = _send(arrived)
    assert b"<Code>SignatureDoesNotMatch</Code>" in answer[2]
    _check(diagnose_answer(arrived, answer, secret=creds), "payload-hash",
           "the client signed the form body with its fields in another order", creds)


def test_hand_rolled_signer_drops_the_host_port(moto_iam: tuple[str, Credentials]) -> None:
    url, creds = moto_iam
    host = url.split("/")[2]
    without_port = _signed(url, creds, ("Host", host.split(":")[0]))
    sent = without_port.request.with_header("Host", host)  # the port goes back on when the library sends it
    answer = _send(sent)
    assert b"<Code>SignatureDoesNotMatch</Code>" in answer[2]
    _check(diagnose_answer(sent, answer, secret=creds), "host-port",
           f"the client signed `host:127.0.0.1` (no port), but the request carries `Host: {host}`", creds)
