"""The library as an engineer embeds it (`import sigv4`): results are values (pickled, copied, compared), and
input of the wrong type is refused by a typed error naming the field, never an AttributeError, a bare
TypeError or ValueError from deep inside, and never signed as something else (a dict's names, "None", b'...').
"""

from __future__ import annotations

import asyncio
import copy
import io
import pickle
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

import sigv4
from sigv4 import Credentials, Request, presign, sign, verify

NOW = datetime(2015, 8, 30, 12, 36, tzinfo=timezone.utc)
CREDS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token")
REQUEST = Request("PUT", "https://bucket.s3.amazonaws.com/a.txt?x=1", [("Content-Type", "text/plain")], b"hello")


@pytest.mark.parametrize("make", [
    lambda: sign(REQUEST, CREDS, region="us-east-1", service="s3", timestamp=NOW, s3=True),
    lambda: sign(REQUEST, CREDS, region="*", service="s3", timestamp=NOW, algorithm="v4a", deterministic=True),
    lambda: presign(REQUEST, CREDS, region="us-east-1", service="s3", timestamp=NOW, s3=True),
], ids=["sign-v4", "sign-v4a", "presign"])
def test_a_signing_result_pickles_and_copies_as_a_value(make: Callable[[], sigv4.SigningResult]) -> None:
    result = make()
    for again in (pickle.loads(pickle.dumps(result)), copy.deepcopy(result), copy.copy(result)):
        assert again == result and hash(again) == hash(result)
        assert again.canonical_request == result.canonical_request and again.signed_headers == result.signed_headers


def _sign(request: Any = REQUEST, creds: Any = CREDS) -> object:
    return sign(request, creds, region="us-east-1", service="s3", timestamp=NOW, s3=True)


@pytest.mark.parametrize("call, error, message", [
    (lambda: _sign(creds=None), sigv4.InvalidParameterError, "credentials: expected a sigv4.Credentials, got NoneType"),
    (lambda: _sign(creds=("AKID", "secret")), sigv4.InvalidParameterError, "credentials: expected .* got tuple"),
    (lambda: presign(REQUEST, None, region="us-east-1", service="s3", timestamp=NOW),  # type: ignore[arg-type]
     sigv4.InvalidParameterError, "credentials: expected"),
    (lambda: _sign(creds=Credentials(1, 2)), sigv4.InvalidParameterError,  # type: ignore[arg-type]
     "credentials: the access key id and secret access key must be str"),
    (lambda: _sign(Request("GET", b"https://h/")), sigv4.InvalidParameterError,  # type: ignore[arg-type]
     "request: the method and URL must be str, not str and bytes"),
    (lambda: _sign(("GET", "https://h/")), sigv4.InvalidParameterError, "request: expected a sigv4.Request, got tuple"),
    (lambda: _sign(REQUEST.with_body("héllo")), sigv4.InvalidParameterError,  # type: ignore[arg-type]
     r"body: 'str' is not bytes.*encode"),
    (lambda: _sign(REQUEST.with_body(5)), sigv4.InvalidParameterError, "body: 'int' is not bytes"),  # type: ignore[arg-type]
    (lambda: _sign(REQUEST.with_body(io.StringIO("hello"))), sigv4.InvalidParameterError,  # type: ignore[arg-type]
     "body: read a str chunk, not bytes"),
    (lambda: sigv4.payload_hash("hello"), sigv4.InvalidParameterError, "body: 'str' is not bytes"),  # type: ignore[arg-type]
    (lambda: sigv4.payload_hash(["he", "llo"]), sigv4.InvalidParameterError, "body: read a str chunk"),  # type: ignore[list-item]
    (lambda: Request("GET", "https://h/", [("X-A", None)]), sigv4.InvalidHeaderError,  # type: ignore[list-item]
     "header 'X-A': names and values must be str, bytes or int, not NoneType"),
    (lambda: Request("GET", "https://h/", [("X-A", True)]), sigv4.InvalidHeaderError, "not bool"),  # type: ignore[list-item]
    (lambda: Request("GET", "https://h/", [("X-A", "1", "2")]), sigv4.InvalidHeaderError,  # type: ignore[list-item]
     r"headers: \('X-A', '1', '2'\) is not a \(name, value\) pair"),
    (lambda: sign(REQUEST, CREDS, region=5, service="s3", timestamp=NOW),  # type: ignore[call-overload]
     sigv4.InvalidParameterError, "region: expected a str \\(or a SigV4a region set\\), got int"),
    (lambda: sign(REQUEST, CREDS, region=["us-east-1", 2], service="s3", timestamp=NOW, algorithm="v4a"),  # type: ignore[call-overload]
     sigv4.InvalidParameterError, "region: region set entries must be str, not int"),
    (lambda: sign(REQUEST, CREDS, region="us-east-1", service=None, timestamp=NOW),  # type: ignore[call-overload]
     sigv4.InvalidParameterError, "service: expected a str, got NoneType"),
    (lambda: sign(REQUEST, CREDS, region="us-east-1", service="s3", timestamp=NOW, payload=b"UNSIGNED-PAYLOAD"),  # type: ignore[call-overload]
     sigv4.InvalidParameterError, "payload: expected a str or None, got bytes"),
    (lambda: sign(REQUEST, CREDS, region="us-east-1", service="s3", timestamp=NOW, unsigned_headers=[None]),  # type: ignore[list-item]
     sigv4.InvalidParameterError, "unsigned_headers: header names must be str, not NoneType"),
], ids=["creds-none", "creds-tuple", "presign-creds-none", "creds-of-ints", "url-bytes", "request-tuple",
        "body-str", "body-int", "body-text-file", "payload-hash-str", "payload-hash-str-chunks", "header-none",
        "header-bool", "header-triple", "region-int",
        "region-set-int", "service-none", "payload-bytes", "unsigned-none"])
def test_wrong_types_are_refused_by_name(call: Callable[[], object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call()


def test_headers_given_as_a_mapping_are_its_pairs() -> None:
    """requests and httpx take a dict of headers, and bytes values; iterating a dict yields only its names
    (two-letter ones unpacked into a name and a value), and str(b"v") is "b'v'", not what is sent."""
    typed: dict[str, str] = {"X-A": "café", "ab": "2"}  # a Mapping[str, str] type-checks as headers
    as_dict = Request("GET", "https://h/", {"X-A": b"caf\xe9", "ab": "2", "Content-Length": 0})  # type: ignore[arg-type]
    pairs = [("X-A", "café"), ("ab", "2"), ("Content-Length", "0")]
    assert as_dict == Request("GET", "https://h/", pairs)
    assert Request("GET", "https://h/", typed) == Request("GET", "https://h/", pairs[:2])
    assert _sign(as_dict) == _sign(Request("GET", "https://h/", pairs))


def test_the_requests_adapter_signs_and_sends_a_bytes_header_as_requests_sends_it() -> None:
    import requests

    from sigv4.integrations.requests import SigV4Auth
    prepared = requests.Request("GET", "https://bucket.s3.amazonaws.com/k", headers={"X-Amz-Meta-A": b"v"},
                                auth=SigV4Auth(CREDS, region="us-east-1", service="s3")).prepare()
    assert prepared.headers["X-Amz-Meta-A"] == "v" and "x-amz-meta-a" in prepared.headers["Authorization"]


def test_one_unsigned_header_given_as_a_str_is_that_header() -> None:
    """A str is an Iterable[str] (a type checker passes it): its letters are not the header names meant."""
    given = sign(REQUEST, CREDS, region="us-east-1", service="s3", timestamp=NOW, s3=True,
                 unsigned_headers="content-type")
    assert "content-type" not in given.signed_headers
    assert given == sign(REQUEST, CREDS, region="us-east-1", service="s3", timestamp=NOW, s3=True,
                         unsigned_headers=["Content-Type"])


def test_verify_refuses_options_of_the_wrong_type_and_reads_one_region_as_one() -> None:
    signed = sign(REQUEST, CREDS, region="us-east-1", service="s3", timestamp=NOW, s3=True).request
    lookup = {CREDS.access_key_id: CREDS}.get
    with pytest.raises(sigv4.InvalidTimestampError, match="now: expected a timezone-aware datetime, got str"):
        verify(signed, lookup, now="20150830T123600Z")  # type: ignore[arg-type]
    with pytest.raises(sigv4.InvalidParameterError, match="max_skew: expected a timedelta, got int"):
        verify(signed, lookup, now=NOW, max_skew=300)  # type: ignore[arg-type]
    # a str is a Collection[str] to a type checker: it is one region, not a set of letters
    assert verify(signed, lookup, now=NOW, allowed_regions="us-east-1").regions == ("us-east-1",)
    with pytest.raises(sigv4.VerificationError, match="region 'us-east-1' does not include any of us-west-2$"):
        verify(signed, lookup, now=NOW, allowed_regions="us-west-2")
    assert verify(signed, lookup, now=NOW + timedelta(minutes=5), max_skew=timedelta(minutes=5)).service == "s3"


def _errors() -> list[BaseException]:
    """One of each error an embedder catches, as the library raises it (a ServiceError parsed from an answer)."""
    import wire
    from sigv4.errors import StreamSignatureError
    from sigv4.integrations import CredentialsError
    model = wire.load_model("sts")
    caught: list[BaseException] = []
    for call in (
        lambda: wire.parse_response(model, "GetCallerIdentity", 403, [],
                                    b"<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message></Error>"
                                    b"<RequestId>rid</RequestId></ErrorResponse>"),
        lambda: wire.serialize(model, "AssumeRole", {}, endpoint="https://sts.amazonaws.com"),
        lambda: verify(sign(REQUEST, CREDS, region="us-east-1", service="s3", timestamp=NOW, s3=True).request,
                       {CREDS.access_key_id: CREDS}.get, now=NOW + timedelta(hours=1)),
    ):
        with pytest.raises(Exception) as info:
            call()
        caught.append(info.value)
    return caught + [StreamSignatureError("chunk 2: signature mismatch", offset=9, index=2, string_to_sign="s"),
                     CredentialsError("profile 'x': not found"), sigv4.InvalidParameterError("expires: out of range")]


def test_errors_pickle_and_copy_with_their_fields() -> None:
    """An error crossing a process boundary (multiprocessing, a process pool's future) is pickled: it comes back
    the same class with the same message and fields (ServiceError's code, ValidationError's violations, ...)."""
    import wire
    errors = _errors()
    assert [type(error).__name__ for error in errors[:3]] == ["ServiceError", "ValidationError", "VerificationError"]
    for error in errors:
        for again in (pickle.loads(pickle.dumps(error)), copy.copy(error), copy.deepcopy(error)):
            assert type(again) is type(error) and str(again) == str(error) and again.args == error.args
            assert vars(again) == vars(error)
    service_error = pickle.loads(pickle.dumps(errors[0]))
    assert isinstance(service_error, wire.ServiceError)
    assert (service_error.code, service_error.status, service_error.request_id) == ("AccessDenied", 403, "rid")
    assert str(pickle.loads(pickle.dumps(errors[1]))) == "RoleArn: is required; RoleSessionName: is required"


def test_wire_refuses_an_endpoint_or_status_of_the_wrong_type_by_name() -> None:
    import wire
    model = wire.load_model("sts")
    for endpoint in (None, b"https://sts.amazonaws.com"):
        with pytest.raises(wire.SerializationError, match=f"endpoint {endpoint!r} is not an http"):
            wire.serialize(model, "GetCallerIdentity", {}, endpoint=endpoint)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="status: expected the HTTP status as an int, got str"):
        wire.parse_response(model, "GetCallerIdentity", "403", [], b"")  # type: ignore[arg-type]


def _blocking_source(waited: list[bool]) -> Callable[[], Any]:
    """A credential source that stays busy (as IMDS or STS would, over the network) until a task on the event
    loop has run meanwhile, or a second has passed: `waited` says which."""
    import threading

    from sigv4.integrations import ResolvedCredentials
    started, loop_ran = threading.Event(), threading.Event()

    def provider() -> ResolvedCredentials:
        started.set()
        waited.append(loop_ran.wait(timeout=1))
        return ResolvedCredentials(CREDS, "test", NOW + timedelta(days=36500))

    async def meanwhile() -> None:
        while not started.is_set():
            await asyncio.sleep(0.001)
        loop_ran.set()
    provider.meanwhile = meanwhile  # type: ignore[attr-defined]
    return provider


def test_async_clients_fetch_credentials_off_the_event_loop() -> None:
    """httpx's AsyncClient and aiohttp: a credential refresh runs in a worker thread, so the loop's other tasks
    run meanwhile (before, it blocked the loop for as long as the source took)."""
    import aiohttp
    import httpx

    from sigv4.integrations.aiohttp import SigV4Auth as AiohttpAuth
    from sigv4.integrations.httpx import SigV4Auth as HttpxAuth
    from verifying_server import verifying_server

    async def with_httpx(provider: Any) -> int:
        transport = httpx.MockTransport(lambda request: httpx.Response(200 if "Signature=" in request.headers.get(
            "authorization", "") else 403))
        async with httpx.AsyncClient(auth=HttpxAuth(provider, region="us-east-1", service="s3"),
                                     transport=transport) as client:
            response, _ = await asyncio.gather(client.get("https://bucket.s3.amazonaws.com/k"), provider.meanwhile())
            return response.status_code

    async def with_aiohttp(provider: Any, url: str) -> int:
        async with aiohttp.ClientSession(middlewares=(AiohttpAuth(provider, region="us-east-1", service="s3"),)) as s:
            async def get() -> int:
                async with s.get(url + "/b/k") as response:
                    return response.status
            status, _ = await asyncio.gather(get(), provider.meanwhile())
            return status

    waited: list[bool] = []
    assert asyncio.run(with_httpx(_blocking_source(waited))) == 200
    with verifying_server({CREDS.access_key_id: CREDS}, s3=True) as server:
        assert asyncio.run(with_aiohttp(_blocking_source(waited), server.url)) == 200
    assert waited == [True, True]


def test_concurrent_async_requests_share_one_credential_fetch() -> None:
    import httpx

    from sigv4.integrations import ResolvedCredentials
    from sigv4.integrations.httpx import SigV4Auth as HttpxAuth
    calls: list[int] = []

    def provider() -> ResolvedCredentials:
        calls.append(1)
        time.sleep(0.05)  # widen the window in which the other requests ask too; no timing is asserted
        return ResolvedCredentials(CREDS, "test", NOW + timedelta(days=36500))

    async def main() -> list[int]:
        transport = httpx.MockTransport(lambda request: httpx.Response(200))
        async with httpx.AsyncClient(auth=HttpxAuth(provider, region="us-east-1", service="s3"),
                                     transport=transport) as client:
            responses = await asyncio.gather(*(client.get(f"https://b.s3.amazonaws.com/{n}") for n in range(8)))
            return [response.status_code for response in responses]

    assert asyncio.run(main()) == [200] * 8 and calls == [1]
