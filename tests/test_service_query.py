"""The Query form through the handler: every operation by GET and POST, signed with SigV4 (header or
presigned URL) or SigV2 (HmacSHA256, HmacSHA1), decoded with our own Query decoder, equal to the REST
answer for the same state; signature failures as SignatureDoesNotMatch; the same trail record."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

import sigv4
import wire
from sigv4 import v2
from tests.service_helpers import CONTACT, CONTACT_INFO, CREDS, ENDPOINT_URL, MEMBER, MODEL, Service
from wire.errors import ServiceError
from wire.service.queryform import query_model
from wire.xml import parse as parse_xml

QUERY = query_model(MODEL)

#: Every operation, in an order where each finds the state it needs (errors are compared too).
SCRIPT: list[tuple[str, dict[str, Any]]] = [
    ("PutAlternateContact", {**CONTACT, "AlternateContactType": "BILLING"}),
    ("GetAlternateContact", {"AlternateContactType": "BILLING"}),
    ("DeleteAlternateContact", {"AlternateContactType": "BILLING"}),
    ("GetAlternateContact", {"AlternateContactType": "BILLING"}),
    ("PutContactInformation", {"ContactInformation": CONTACT_INFO}),
    ("GetContactInformation", {}),
    ("PutAccountName", {"AccountName": "Ana & Co <prod>"}),
    ("GetAccountInformation", {}),
    ("GetAccountInformation", {"AccountId": MEMBER}),
    ("GetGovCloudAccountInformation", {}),
    ("ListRegions", {"MaxResults": 3, "RegionOptStatusContains": ["ENABLED_BY_DEFAULT", "DISABLED"]}),
    ("GetRegionOptStatus", {"RegionName": "af-south-1"}),
    ("EnableRegion", {"RegionName": "af-south-1"}),
    ("DisableRegion", {"RegionName": "af-south-1"}),
    ("DisableRegion", {"RegionName": "us-east-1"}),
    ("StartPrimaryEmailUpdate", {"AccountId": MEMBER, "PrimaryEmail": "new@example.com"}),
    ("AcceptPrimaryEmailUpdate", {"AccountId": MEMBER, "PrimaryEmail": "new@example.com", "Otp": "<from notice>"}),
    ("GetPrimaryEmail", {"AccountId": MEMBER}),
]

Outcome = tuple[Any, ...]


def _outcome(model: wire.Model, operation: str, reply: Any) -> Outcome:
    try:
        return ("ok", wire.parse_response(model, operation, reply.status, reply.headers, reply.body))
    except ServiceError as err:
        # `message` and the x-amzn-ErrorType header member are where restJson1 puts them, not error data.
        data = {k: v for k, v in err.data.items() if k not in ("message", "errorType")}
        return ("error", reply.status, err.code, err.message, data)


def rest_call(service: Service, operation: str, params: dict[str, Any]) -> Any:
    return service.call(operation, params)


def _query_request(service: Service, operation: str, params: dict[str, Any], method: str | None) -> sigv4.Request:
    return wire.serialize(QUERY, operation, params, endpoint=ENDPOINT_URL, method=method)


def v4(method: str | None) -> Callable[[Service, str, dict[str, Any]], Any]:
    def call(service: Service, operation: str, params: dict[str, Any]) -> Any:
        request = _query_request(service, operation, params, method)
        return service.serve(sigv4.sign(request, CREDS, region="us-east-1", service="account",
                                        timestamp=service.now).request)
    return call


def v4_presigned(service: Service, operation: str, params: dict[str, Any]) -> Any:
    request = _query_request(service, operation, params, "GET")
    return service.serve(sigv4.presign(request, CREDS, region="eu-west-1", service="account",
                                       timestamp=service.now).request)


def sigv2(method: str | None, signature_method: v2.SignatureMethod) -> Callable[[Service, str, dict[str, Any]], Any]:
    def call(service: Service, operation: str, params: dict[str, Any]) -> Any:
        request = _query_request(service, operation, params, method)
        return service.serve(v2.sign(request, CREDS, timestamp=service.now, signature_method=signature_method).request)
    return call


TRANSPORTS: dict[str, Callable[[Service, str, dict[str, Any]], Any]] = {
    "GET-v4": v4("GET"), "POST-v4": v4(None), "GET-v4-presigned": v4_presigned,
    "GET-v2-HmacSHA256": sigv2("GET", "HmacSHA256"), "POST-v2-HmacSHA256": sigv2(None, "HmacSHA256"),
    "GET-v2-HmacSHA1": sigv2("GET", "HmacSHA1"), "POST-v2-HmacSHA1": sigv2(None, "HmacSHA1"),
}


def run_script(call: Callable[[Service, str, dict[str, Any]], Any], model: wire.Model) -> list[tuple[Outcome, Any]]:
    service = Service()
    results = []
    code = ""
    for operation, params in SCRIPT:
        if "Otp" in params:
            params = {**params, "Otp": code}
        reply = call(service, operation, params)
        code = next((m.group(1) for n in reply.notices if (m := re.search(r"code .*: (\w+)$", n))), code)
        results.append((_outcome(model, operation, reply), reply))
    return results


@pytest.fixture(scope="module")
def rest_results() -> list[tuple[Outcome, Any]]:
    return run_script(rest_call, MODEL)


def test_script_covers_every_operation() -> None:
    assert {operation for operation, _ in SCRIPT} == set(MODEL.operations)


def test_rest_script_has_successes_and_modelled_errors(rest_results: list[tuple[Outcome, Any]]) -> None:
    outcomes = [outcome for outcome, _ in rest_results]
    assert sum(o[0] == "ok" for o in outcomes) >= 14
    assert {o[2] for o in outcomes if o[0] == "error"} == {"ResourceNotFoundException", "ConflictException",
                                                          "ValidationException"}
    assert outcomes[-1] == ("ok", {"PrimaryEmail": "new@example.com"})


@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
def test_every_operation_by_query_equals_rest(transport: str, rest_results: list[tuple[Outcome, Any]]) -> None:
    query_results = run_script(TRANSPORTS[transport], QUERY)
    for (operation, _), (rest, rest_reply), (query, query_reply) in zip(SCRIPT, rest_results, query_results):
        assert query == rest, operation
        assert query_reply.headers[0] == ("Content-Type", "text/xml")
        root = parse_xml(query_reply.body)
        request_id = dict(query_reply.headers)["x-amzn-RequestId"]
        if query[0] == "ok":
            assert root.tag == f"{operation}Response" and root.child(f"{operation}Result") is not None
            assert root.child("ResponseMetadata").child("RequestId").text == request_id  # type: ignore[union-attr]
        else:
            assert root.tag == "ErrorResponse" and root.child("RequestId").text == request_id  # type: ignore[union-attr]
            assert root.child("Error").child("Type").text == "Sender"  # type: ignore[union-attr]


def test_the_trail_record_is_the_same_for_both_forms(rest_results: list[tuple[Outcome, Any]]) -> None:
    query_results = run_script(TRANSPORTS["POST-v4"], QUERY)
    for (operation, _), (_, rest_reply), (_, query_reply) in zip(SCRIPT, rest_results, query_results):
        assert query_reply.event == rest_reply.event, operation


@pytest.mark.parametrize("method", ["GET", None])
def test_wrong_sigv2_signature_is_signature_does_not_match(method: str | None) -> None:
    service = Service()
    request = _query_request(service, "PutAccountName", {"AccountName": "A&B <x>"}, method)
    wrong = sigv4.Credentials(CREDS.access_key_id, "not-the-secret")
    signed = v2.sign(request, wrong, timestamp=service.now)
    reply = service.serve(signed.request)
    assert reply.status == 403
    with pytest.raises(ServiceError) as caught:
        wire.parse_response(QUERY, "PutAccountName", reply.status, reply.headers, reply.body)
    assert caught.value.code == "SignatureDoesNotMatch"
    # The server computed the same string-to-sign as the client (only the key differs), and says so.
    assert f"'{signed.string_to_sign}'" in caught.value.message
    assert "&amp;" in reply.body.decode() and "A%26B" in signed.string_to_sign
    # The trail records the fault as the service raised it, in the same words for both forms.
    assert reply.event["errorCode"] == "InvalidSignatureException"


def test_wrong_sigv4_signature_on_a_get_is_signature_does_not_match() -> None:
    service = Service()
    request = _query_request(service, "ListRegions", {"MaxResults": 2}, "GET")
    signed = sigv4.sign(request, sigv4.Credentials(CREDS.access_key_id, "nope"), region="us-east-1",
                        service="account", timestamp=service.now)
    reply = service.serve(signed.request)
    with pytest.raises(ServiceError) as caught:
        wire.parse_response(QUERY, "ListRegions", reply.status, reply.headers, reply.body)
    assert caught.value.code == "SignatureDoesNotMatch"
    assert f"'{signed.canonical_request}'" in caught.value.message
    assert f"'{signed.string_to_sign}'" in caught.value.message


def test_front_end_refusals_in_query_words() -> None:
    service = Service()
    unsigned = service.serve(_query_request(service, "ListRegions", {}, "GET"))
    long_get = service.serve(sigv4.Request("GET", f"{ENDPOINT_URL}/?Action=PutAccountName&Version=2021-02-01"
                                                  f"&AccountName={'a' * 9000}"))
    unknown = sigv4.Request("GET", f"{ENDPOINT_URL}/?Action=CloseAccount&Version=2021-02-01")
    signed = sigv4.sign(unknown, CREDS, region="us-east-1", service="account", timestamp=service.now).request
    wrong = sigv4.sign(unknown, sigv4.Credentials(CREDS.access_key_id, "nope"), region="us-east-1",
                       service="account", timestamp=service.now).request
    codes = []
    # An unknown Action is looked up only once the request is authenticated, as AWS's front end does.
    for reply in (unsigned, long_get, service.serve(signed), service.serve(wrong), service.serve(unknown)):
        with pytest.raises(ServiceError) as caught:
            wire.parse_response(QUERY, "ListRegions", reply.status, reply.headers, reply.body)
        codes.append((reply.status, caught.value.code))
    assert codes == [(403, "MissingAuthenticationToken"), (414, "RequestURITooLong"), (400, "InvalidAction"),
                     (403, "SignatureDoesNotMatch"), (403, "MissingAuthenticationToken")]


@pytest.mark.parametrize("transport", ["GET-v4", "GET-v2-HmacSHA256", "POST-v2-HmacSHA256"])
def test_a_one_time_code_in_a_mismatched_query_is_kept_out_of_the_trail(transport: str) -> None:
    # The canonical query (SigV4 GET) and SigV2's string-to-sign carry every parameter, the Otp too.
    service = Service()
    params = {"AccountId": MEMBER, "PrimaryEmail": "new@example.com", "Otp": "K7Q2ZX"}
    request = _query_request(service, "AcceptPrimaryEmailUpdate", params, "GET" if "GET" in transport else None)
    wrong = sigv4.Credentials(CREDS.access_key_id, "not-the-secret")
    signed = (v2.sign(request, wrong, timestamp=service.now) if "v2" in transport else
              sigv4.sign(request, wrong, region="us-east-1", service="account", timestamp=service.now)).request
    reply = service.serve(signed)
    assert reply.event["errorCode"] == "InvalidSignatureException" and "K7Q2ZX" in reply.body.decode()
    assert "K7Q2ZX" not in json.dumps(reply.event)
