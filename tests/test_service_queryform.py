"""wire.service.queryform: which requests are Query requests, Action/Version routing, the GET limit,
the form decoded by the Query rules for every operation, and Query XML answers."""

from __future__ import annotations

from typing import Any

import pytest

import wire
from sigv4.types import Request
from wire.api import MAX_GET_URL
from wire.errors import ServiceError
from wire.service import queryform
from wire.xml import parse as parse_xml

MODEL = wire.load_model("account")
QUERY = queryform.query_model(MODEL)
URL = "http://127.0.0.1:8080"
MEMBER = "444455556666"

#: Valid input for every operation (AccountId where the operation takes it, to exercise flattening).
PARAMS: dict[str, dict[str, Any]] = {
    "AcceptPrimaryEmailUpdate": {"AccountId": MEMBER, "PrimaryEmail": "new@example.com", "Otp": "123456"},
    "DeleteAlternateContact": {"AlternateContactType": "SECURITY", "AccountId": MEMBER},
    "DisableRegion": {"RegionName": "af-south-1", "AccountId": MEMBER},
    "EnableRegion": {"RegionName": "af-south-1"},
    "GetAccountInformation": {"AccountId": MEMBER},
    "GetAlternateContact": {"AlternateContactType": "BILLING"},
    "GetContactInformation": {},
    "GetGovCloudAccountInformation": {"StandardAccountId": MEMBER},
    "GetPrimaryEmail": {"AccountId": MEMBER},
    "GetRegionOptStatus": {"RegionName": "eu-south-1"},
    "ListRegions": {"MaxResults": 5, "RegionOptStatusContains": ["ENABLED", "DISABLED"]},
    "PutAccountName": {"AccountName": "Ana & Co <dev>"},
    "PutAlternateContact": {"AlternateContactType": "BILLING", "Name": "Ana Lima", "Title": "CFO",
                            "EmailAddress": "ana@example.com", "PhoneNumber": "+1 (555) 0100"},
    "PutContactInformation": {"ContactInformation": {
        "FullName": "Ana Lima", "AddressLine1": "1 Main St", "City": "Lisbon", "PostalCode": "1000-001",
        "CountryCode": "PT", "PhoneNumber": "+351 21 000 0000"}},
    "StartPrimaryEmailUpdate": {"AccountId": MEMBER, "PrimaryEmail": "new@example.com"},
}


def query_request(operation: str, params: dict[str, Any], method: str | None) -> Request:
    return wire.serialize(QUERY, operation, params, endpoint=URL, method=method)


def refusal(call: Any) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        call()
    return caught.value


def test_params_table_covers_every_operation() -> None:
    assert set(PARAMS) == set(MODEL.operations)


@pytest.mark.parametrize("method", ["GET", None])
@pytest.mark.parametrize("operation", sorted(PARAMS))
def test_every_operation_decodes_from_get_and_post(operation: str, method: str | None) -> None:
    request = query_request(operation, PARAMS[operation], method)
    assert request.method == (method or "POST")
    assert queryform.matches(request)
    assert queryform.route(MODEL, request) == operation
    assert queryform.decode(MODEL, request) == PARAMS[operation]


def test_rest_requests_are_not_query_requests() -> None:
    rest = wire.serialize(MODEL, "GetAlternateContact", {"AlternateContactType": "BILLING"}, endpoint=URL)
    assert not queryform.matches(rest)
    assert not queryform.matches(Request("GET", f"{URL}/?Version=2021-02-01"))
    assert not queryform.matches(Request("POST", f"{URL}/", [("Content-Type", "application/json")], b"{}"))


def test_get_over_the_url_limit_points_to_post() -> None:
    request = Request("GET", f"{URL}/?Action=PutAccountName&Version=2021-02-01&AccountName=" + "a" * MAX_GET_URL)
    error = refusal(lambda: queryform.route(MODEL, request))
    assert error.status == 414 and error.code == "RequestURITooLong"
    assert "POST" in error.message and "application/x-www-form-urlencoded" in error.message
    # The same parameters as a POST form are routed.
    post = Request("POST", f"{URL}/", [("Content-Type", "application/x-www-form-urlencoded")],
                   request.query.encode())
    assert queryform.route(MODEL, post) == "PutAccountName"


def test_client_side_refuses_the_same_get() -> None:
    with pytest.raises(wire.SerializationError, match="use POST"):
        query_request("PutAccountName", {"AccountName": "a" * MAX_GET_URL}, "GET")


@pytest.mark.parametrize("query, code, message", [
    ("Action=GetAlternateContact", "InvalidAction",
     "Could not find operation GetAlternateContact for version NO_VERSION_SPECIFIED"),
    ("Action=GetAlternateContact&Version=2020-01-01", "InvalidAction",
     "Could not find operation GetAlternateContact for version 2020-01-01"),
    ("Action=CloseAccount&Version=2021-02-01", "InvalidAction",
     "Could not find operation CloseAccount for version 2021-02-01"),
    ("Action=&Version=2021-02-01", "MissingAction", "The request must contain the parameter Action."),
])
def test_action_and_version_errors(query: str, code: str, message: str) -> None:
    request = Request("GET", f"{URL}/?{query}")
    error = refusal(lambda: queryform.admit(MODEL, request, queryform.route(MODEL, request)))
    assert (error.code, error.message, error.status) == (code, message, 400)


def test_a_form_that_breaks_the_query_rules_is_malformed() -> None:
    request = Request("GET", f"{URL}/?Action=ListRegions&Version=2021-02-01&RegionOptStatusContains=x"
                             "&RegionOptStatusContains.member.1=ENABLED")
    assert refusal(lambda: queryform.decode(MODEL, request)).code == "MalformedQueryString"


def test_a_list_given_as_repeated_plain_fields_is_refused_by_name() -> None:
    """`?RegionOptStatusContains=ENABLED&RegionOptStatusContains=DISABLED` (as requests writes a list of values): the
    refusal names the field and the Query form of a list, not a Python `AttributeError`."""
    request = Request("GET", f"{URL}/?Action=ListRegions&Version=2021-02-01&RegionOptStatusContains=ENABLED"
                             "&RegionOptStatusContains=DISABLED")
    error = refusal(lambda: queryform.decode(MODEL, request))
    assert error.code == "MalformedQueryString" and "Error" not in error.message, error.message
    assert "RegionOptStatusContains.member.1" in error.message, error.message


def test_success_is_query_xml_with_result_and_request_id() -> None:
    status, headers, body = queryform.encode(MODEL, "GetAlternateContact", {"AlternateContact": {
        "AlternateContactType": "BILLING", "Name": "Ana & Co"}}, request_id="req-1")
    root = parse_xml(body)
    assert status == 200 and root.tag == "GetAlternateContactResponse"
    assert root.child("GetAlternateContactResult") is not None
    assert root.child("ResponseMetadata").child("RequestId").text == "req-1"  # type: ignore[union-attr]
    assert wire.parse_response(QUERY, "GetAlternateContact", status, headers, body) == {
        "AlternateContact": {"AlternateContactType": "BILLING", "Name": "Ana & Co"}}


def test_signature_mismatch_is_signature_does_not_match_with_escaped_strings() -> None:
    canonical = "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:h\n\nhost\nabc"
    text = "AWS4-HMAC-SHA256\n20261124T190000Z\n20261124/us-east-1/account/aws4_request\nabc"
    message = f"The request signature we calculated does not match.\n'{canonical}&<x>'\n'{text}'\n"
    status, headers, body = queryform.encode_error(
        MODEL, ServiceError("InvalidSignatureException", message, 403), request_id="req-2")
    assert status == 403 and b"&amp;&lt;x&gt;" in body
    root = parse_xml(body)
    error = root.child("Error")
    assert root.tag == "ErrorResponse" and error is not None
    assert [error.child(t).text for t in ("Type", "Code")] == ["Sender", "SignatureDoesNotMatch"]  # type: ignore[union-attr]
    assert root.child("RequestId").text == "req-2"  # type: ignore[union-attr]
    with pytest.raises(ServiceError) as caught:
        wire.parse_response(QUERY, "ListRegions", status, headers, body)
    assert caught.value.message == message and caught.value.code == "SignatureDoesNotMatch"


@pytest.mark.parametrize("json_code, query_code", sorted(queryform.QUERY_CODES.items()))
def test_front_end_codes_take_their_query_names(json_code: str, query_code: str) -> None:
    _, headers, body = queryform.encode_error(MODEL, ServiceError(json_code, "m", 403))
    with pytest.raises(ServiceError) as caught:
        wire.parse_response(QUERY, "ListRegions", 403, headers, body)
    assert caught.value.code == query_code


def test_modelled_errors_keep_their_code_and_members() -> None:
    data = {"reason": "fieldValidationFailed", "fieldList": [{"name": "RegionName", "message": "bad"}]}
    status, headers, body = queryform.encode_error(MODEL, ServiceError("ValidationException", "1 validation error",
                                                                       400, data=data))
    with pytest.raises(ServiceError) as caught:
        wire.parse_response(QUERY, "EnableRegion", status, headers, body)
    assert caught.value.code == "ValidationException" and caught.value.message == "1 validation error"
    assert caught.value.data == data
