"""boto3 clients whose HTTP sends are answered by the pure service handler (no sockets).

botocore signs and serializes as it would for AWS; a `before-send` hook hands
the prepared request to `wire.service.handle` and gives botocore the reply,
so its own error parsing (ClientError codes and messages) is exercised too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config

import sigv4
from tests.service_helpers import ENDPOINT_URL, Service


class _Raw:
    """The `raw` object botocore reads a response body from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def _body(request: AWSPreparedRequest) -> bytes:
    body = request.body
    if body is None:
        return b""
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def client(service: Service, access_key_id: str, secret: str, token: str | None = None) -> Any:
    """A boto3 `account` client signing with the given keys, served by `service`."""

    def send(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        headers = [(name, value.decode("utf-8") if isinstance(value, bytes) else value)
                   for name, value in request.headers.items()]
        reply = service.serve(sigv4.Request(request.method, request.url, headers, _body(request)))
        return AWSResponse(request.url, reply.status, dict(reply.headers), _Raw(reply.body))

    session = boto3.Session(aws_access_key_id=access_key_id, aws_secret_access_key=secret,
                            aws_session_token=token, region_name="us-east-1")
    made = session.client("account", endpoint_url=ENDPOINT_URL,
                          config=Config(retries={"max_attempts": 1}, parameter_validation=True))
    made.meta.events.register("before-send", send)
    return made
