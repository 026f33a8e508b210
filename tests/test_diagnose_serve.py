"""boto3 against `sigv4 serve`, with a "proxy" between them, and the debugger on what each side saw.

botocore's `before-send` hook records the request exactly as botocore signed it
(the client-side capture a user has from `aws --debug`), then changes it the way
a proxy or HTTP library does; the local endpoint refuses it with its AWS-shaped
error (the canonical request and string-to-sign it computed), recorded from
`response-received`. `diagnose_answer` gets only those two, as `sigv4 diff` does.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest
from botocore.config import Config
from botocore.exceptions import ClientError

from sigv4 import Credentials, Request
from tests.serve_fixtures import DEFAULT, Running, endpoint  # noqa: F401  (fixture)
from wire.debugger.diagnose import Diagnosis, diagnose_answer
from wire.debugger.diagnosis_text import render_text

CREDS = Credentials(DEFAULT["access_key_id"], DEFAULT["secret_access_key"])


def _through_proxy(running: Running, change: Callable[[AWSPreparedRequest], None], *,
                   secret: str = DEFAULT["secret_access_key"]) -> tuple[Request, Any]:
    """Call ListRegions through `change`; return (the request as signed, the server's answer)."""
    client = boto3.client("account", endpoint_url=running.url, region_name="us-east-1",
                          aws_access_key_id=DEFAULT["access_key_id"], aws_secret_access_key=secret,
                          config=Config(retries={"max_attempts": 1}))
    seen: dict[str, Any] = {}

    def before_send(request: AWSPreparedRequest, **_: Any) -> None:
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        headers = [(n, v.decode() if isinstance(v, bytes) else v) for n, v in request.headers.items()]
        seen["sent"] = Request(request.method, request.url, headers, body)
        change(request)

    def received(response_dict: dict[str, Any] | None = None, **_: Any) -> None:
        if response_dict is not None:
            seen["answer"] = (response_dict["status_code"], list(response_dict["headers"].items()),
                              response_dict["body"])

    client.meta.events.register("before-send.account.ListRegions", before_send)
    client.meta.events.register("response-received.account.ListRegions", received)
    with pytest.raises(ClientError):
        client.list_regions(MaxResults=5)
    return seen["sent"], seen["answer"]


def _add_charset(request: AWSPreparedRequest) -> None:
    value = request.headers["Content-Type"]
    request.headers["Content-Type"] = (value.decode() if isinstance(value, bytes) else value) + "; charset=utf-8"


def _set_header(name: str, value: str) -> Callable[[AWSPreparedRequest], None]:
    def change(request: AWSPreparedRequest) -> None:
        request.headers[name] = value
    return change


def _reserialize(request: AWSPreparedRequest) -> None:
    request.body = json.dumps(json.loads(request.body or b"{}"), separators=(",", ":")).encode()  # JSON.stringify's form
    request.headers["Content-Length"] = str(len(request.body))


@pytest.fixture
def running(endpoint: Running) -> Iterator[Running]:  # noqa: F811  (the fixture imported above)
    yield endpoint


@pytest.mark.parametrize(("change", "kind", "words"), [
    (_add_charset, "header-changed", "the server canonicalized `content-type:application/json; charset=utf-8`, "
                                     "where the request as sent has `Content-Type: application/json` (no charset)"),
    (_set_header("X-Amz-Date", "20240102T030405Z"), "header-changed",
     "X-Amz-Date was changed between signing and the server"),
    (_reserialize, "payload-hash", "the server canonicalized the same JSON serialized differently"),
], ids=["charset-added", "date-rewritten", "body-reserialized"])
def test_a_proxy_change_is_proved_from_the_servers_strings(running: Running, change: Callable[[Any], None],
                                                          kind: str, words: str) -> None:
    sent, answer = _through_proxy(running, change)
    assert answer[0] in (400, 403)
    for secret in (None, CREDS):
        diagnosis = diagnose_answer(sent, answer, secret=secret)
        first = diagnosis.causes[0]
        assert (first.kind, first.evidence) == (kind, "proved"), render_text(diagnosis)
        assert words in first.message, render_text(diagnosis)
        _no_secret(diagnosis)


def test_a_secret_the_server_does_not_hold_is_proved_with_the_clients_secret(running: Running) -> None:
    sent, answer = _through_proxy(running, lambda request: None, secret="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEX")
    diagnosis = diagnose_answer(sent, answer, secret="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEX")
    first = diagnosis.causes[0]
    assert (first.kind, first.evidence) == ("secret", "proved"), render_text(diagnosis)
    assert "AWS holds a different secret" in first.message
    unproved = diagnose_answer(sent, answer).causes[0]
    assert (unproved.kind, unproved.evidence) == ("secret", "likely") and "would settle it" in unproved.message


def _no_secret(diagnosis: Diagnosis) -> None:
    shown = render_text(diagnosis) + json.dumps(diagnosis.to_json())
    assert CREDS.secret_access_key not in shown
