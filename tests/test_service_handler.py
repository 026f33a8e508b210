"""The pure Account service: every operation's rules, the AccountId rules, validation, routing and trail records."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

import sigv4
import wire
from tests.service_helpers import CONTACT, CONTACT_INFO, CREDS, MANAGEMENT, MEMBER, MODEL, Service, error_of
from wire.service import ConfigError, load_directory
from wire.service.account import REGIONS


@pytest.fixture
def service() -> Service:
    return Service()


# -- alternate contacts, contact information, account name ------------------------------


def test_alternate_contact_put_get_delete(service: Service) -> None:
    for kind in ("BILLING", "OPERATIONS", "SECURITY"):
        service.ok("PutAlternateContact", {**CONTACT, "AlternateContactType": kind, "Name": kind.title()})
    got = service.ok("GetAlternateContact", {"AlternateContactType": "SECURITY"})
    assert got["AlternateContact"] == {**CONTACT, "AlternateContactType": "SECURITY", "Name": "Security"}
    service.ok("DeleteAlternateContact", {"AlternateContactType": "SECURITY"})
    for operation in ("GetAlternateContact", "DeleteAlternateContact"):
        status, code, body = error_of(service.call(operation, {"AlternateContactType": "SECURITY"}))
        assert (status, code) == (404, "ResourceNotFoundException")
        assert body["message"] == "No contact of the inputted alternate contact type found."
    assert service.ok("GetAlternateContact", {"AlternateContactType": "BILLING"})["AlternateContact"]["Name"] == "Billing"


def test_contact_information_missing_then_put_and_get(service: Service) -> None:
    status, code, _ = error_of(service.call("GetContactInformation"))
    assert (status, code) == (404, "ResourceNotFoundException")
    service.ok("PutContactInformation", {"ContactInformation": CONTACT_INFO})
    assert service.ok("GetContactInformation")["ContactInformation"] == CONTACT_INFO


def test_account_information_and_name(service: Service) -> None:
    first = service.ok("GetAccountInformation")
    assert first["AccountId"] == MANAGEMENT and first["AccountState"] == "ACTIVE"
    assert first["AccountCreatedDate"] == service.now
    service.ok("PutAccountName", {"AccountName": "Prod"})
    service.now += timedelta(days=1)
    again = service.ok("GetAccountInformation")
    assert again["AccountName"] == "Prod" and again["AccountCreatedDate"] == first["AccountCreatedDate"]


def test_govcloud_answers_not_found_for_an_account_without_govcloud(service: Service) -> None:
    status, code, body = error_of(service.call("GetGovCloudAccountInformation"))
    assert (status, code) == (404, "ResourceNotFoundException")
    assert "GovCloud" in body["message"]


# -- regions --------------------------------------------------------------------------------


def test_list_regions_pages_and_filters(service: Service) -> None:
    names: list[str] = []
    token = None
    while True:
        page = service.ok("ListRegions", {"MaxResults": 7, **({"NextToken": token} if token else {})})
        assert len(page["Regions"]) <= 7
        names += [r["RegionName"] for r in page["Regions"]]
        token = page.get("NextToken")
        if token is None:
            break
    assert names == sorted(REGIONS)
    disabled = service.ok("ListRegions", {"RegionOptStatusContains": ["DISABLED"]})["Regions"]
    assert {r["RegionName"] for r in disabled} == {n for n, s in REGIONS.items() if s == "DISABLED"}


def test_list_regions_refuses_a_forged_token(service: Service) -> None:
    status, code, body = error_of(service.call("ListRegions", {"NextToken": "%%%not-base64"}))
    assert (status, code) == (400, "ValidationException")
    assert body["fieldList"][0]["name"] == "NextToken"


def test_enable_then_disable_region_after_the_delay(service: Service) -> None:
    def status() -> str:
        return str(service.ok("GetRegionOptStatus", {"RegionName": "af-south-1"})["RegionOptStatus"])

    assert status() == "DISABLED"
    service.ok("EnableRegion", {"RegionName": "af-south-1"})
    assert status() == "ENABLING"
    for operation in ("EnableRegion", "DisableRegion"):
        conflict = error_of(service.call(operation, {"RegionName": "af-south-1"}))
        assert conflict[:2] == (409, "ConflictException")
    service.now += timedelta(seconds=60)
    assert status() == "ENABLED"
    enabled = service.ok("ListRegions", {"RegionOptStatusContains": ["ENABLED"]})["Regions"]
    assert enabled == [{"RegionName": "af-south-1", "RegionOptStatus": "ENABLED"}]
    service.ok("EnableRegion", {"RegionName": "af-south-1"})  # already enabled: nothing to do
    service.ok("DisableRegion", {"RegionName": "af-south-1"})
    assert status() == "DISABLING"
    service.now += timedelta(seconds=61)
    assert status() == "DISABLED"


@pytest.mark.parametrize("operation", ["EnableRegion", "DisableRegion"])
def test_regions_enabled_by_default_cannot_change(service: Service, operation: str) -> None:
    status, code, body = error_of(service.call(operation, {"RegionName": "us-east-1"}))
    assert (status, code) == (400, "ValidationException")
    assert body["reason"] == "invalidRegionOptTarget" and body["fieldList"][0]["name"] == "RegionName"


def test_unknown_region_is_a_validation_error(service: Service) -> None:
    status, code, _ = error_of(service.call("GetRegionOptStatus", {"RegionName": "xx-nowhere-9"}))
    assert (status, code) == (400, "ValidationException")


# -- primary email --------------------------------------------------------------------------


def test_primary_email_update_with_the_one_time_code(service: Service) -> None:
    before = service.ok("GetPrimaryEmail", {"AccountId": MEMBER})["PrimaryEmail"]
    start = service.call("StartPrimaryEmailUpdate", {"AccountId": MEMBER, "PrimaryEmail": "new@example.com"})
    assert start.status == 200 and json.loads(start.body) == {"Status": "PENDING"}
    (notice,) = start.notices
    code = notice.rsplit(": ", 1)[1]
    assert len(code) == 6 and code.isalnum()
    assert code not in json.dumps(start.event)
    wrong = "000000" if code != "000000" else "111111"
    status, kind, body = error_of(service.call("AcceptPrimaryEmailUpdate",
                                               {"AccountId": MEMBER, "PrimaryEmail": "new@example.com", "Otp": wrong}))
    assert (status, kind, body["fieldList"][0]["name"]) == (400, "ValidationException", "Otp")
    assert service.ok("GetPrimaryEmail", {"AccountId": MEMBER})["PrimaryEmail"] == before
    accepted = service.call("AcceptPrimaryEmailUpdate", {"AccountId": MEMBER, "PrimaryEmail": "new@example.com",
                                                        "Otp": code})
    assert json.loads(accepted.body) == {"Status": "ACCEPTED"}
    assert accepted.event["requestParameters"]["Otp"] == "HIDDEN_DUE_TO_SECURITY_REASONS"
    assert service.ok("GetPrimaryEmail", {"AccountId": MEMBER})["PrimaryEmail"] == "new@example.com"
    status, kind, _ = error_of(service.call("AcceptPrimaryEmailUpdate",
                                            {"AccountId": MEMBER, "PrimaryEmail": "new@example.com", "Otp": code}))
    assert (status, kind) == (404, "ResourceNotFoundException")


def test_primary_email_in_use_is_a_conflict(service: Service) -> None:
    current = service.ok("GetPrimaryEmail", {"AccountId": MEMBER})["PrimaryEmail"]
    reply = service.call("StartPrimaryEmailUpdate", {"AccountId": MEMBER, "PrimaryEmail": current})
    assert error_of(reply)[:2] == (409, "ConflictException")


# -- AccountId rules -------------------------------------------------------------------------

STANDALONE = {"accounts": [{"access_key_id": "AKIDSTANDALONE", "secret_access_key": "s3cr3t",
                            "account_id": "777788889999"}]}


def test_management_account_reaches_its_member(service: Service) -> None:
    service.ok("PutAlternateContact", {**CONTACT, "AlternateContactType": "BILLING", "AccountId": MEMBER})
    assert service.ok("GetAlternateContact", {"AlternateContactType": "BILLING", "AccountId": MEMBER})
    assert error_of(service.call("GetAlternateContact", {"AlternateContactType": "BILLING"}))[0] == 404
    reply = service.call("GetAlternateContact", {"AlternateContactType": "BILLING", "AccountId": MEMBER})
    assert reply.event["recipientAccountId"] == MEMBER


@pytest.mark.parametrize("account_id", [MANAGEMENT, "999999999999"], ids=["itself", "not-a-member"])
def test_management_account_cannot_name_itself_or_strangers(service: Service, account_id: str) -> None:
    status, code, _ = error_of(service.call("GetAccountInformation", {"AccountId": account_id}))
    assert (status, code) == (403, "AccessDeniedException")


def test_standalone_account_cannot_name_any_account() -> None:
    service = Service(STANDALONE)
    creds = sigv4.Credentials("AKIDSTANDALONE", "s3cr3t")
    assert service.ok("GetAccountInformation", creds=creds)["AccountId"] == "777788889999"
    status, code, _ = error_of(service.call("GetAccountInformation", {"AccountId": MEMBER}, creds=creds))
    assert (status, code) == (403, "AccessDeniedException")


def test_govcloud_uses_standard_account_id(service: Service) -> None:
    reply = service.call("GetGovCloudAccountInformation", {"StandardAccountId": MANAGEMENT})
    assert error_of(reply)[:2] == (403, "AccessDeniedException")


@pytest.mark.parametrize("document, fragment", [
    ({}, "accounts: expected a non-empty list"),
    ({"accounts": [{"access_key_id": "A", "secret_access_key": "s"}]}, "accounts[0].account_id: required"),
    ({"accounts": [{"access_key_id": "A", "secret_access_key": "s", "account_id": "12"}]}, "12-digit"),
    ({"accounts": [{"access_key_id": "A", "secret_access_key": "s", "account_id": MANAGEMENT, "members": [MEMBER]}]},
     "only a management account"),
    ({"accounts": [{"access_key_id": "A", "secret_access_key": "s", "account_id": MANAGEMENT, "colour": 1}]},
     "accounts[0].colour: unknown key"),
])
def test_accounts_document_errors_name_the_entry(document: dict, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_directory(document)
    assert fragment in str(caught.value)


# -- validation, routing, content ----------------------------------------------------------


def test_validation_lists_every_field(service: Service) -> None:
    reply = service.call("PutAlternateContact", {**CONTACT, "AlternateContactType": "BILLINGS",
                                                 "EmailAddress": "no-at-sign"})
    status, code, body = error_of(reply)
    assert (status, code) == (400, "ValidationException")
    assert body["reason"] == "fieldValidationFailed"
    assert {f["name"] for f in body["fieldList"]} == {"AlternateContactType", "EmailAddress"}
    assert body["message"].startswith("2 validation errors detected: ")


def _raw(service: Service, method: str, path: str, body: bytes, content_type: str = "application/json"):
    request = sigv4.Request(method, f"http://127.0.0.1:8080{path}", [("Content-Type", content_type)], body)
    return service.serve(sigv4.sign(request, CREDS, region="us-east-1", service="account",
                                    timestamp=service.now).request)


@pytest.mark.parametrize("method, path", [("POST", "/noSuchOperation"), ("GET", "/getAlternateContact"),
                                          ("POST", "/")])
def test_unknown_routes_answer_missing_authentication_token(service: Service, method: str, path: str) -> None:
    status, code, body = error_of(_raw(service, method, path, b"{}"))
    assert (status, code, body["message"]) == (403, "MissingAuthenticationTokenException",
                                               "Missing Authentication Token")


def test_body_that_is_not_json_typed(service: Service) -> None:
    reply = _raw(service, "POST", "/getAlternateContact", b"AlternateContactType=BILLING",
                 "application/x-www-form-urlencoded")
    assert error_of(reply)[:2] == (415, "UnsupportedMediaTypeException")


@pytest.mark.parametrize("body", [b"{", b"[1]", b'{"MaxResults": "ten"}', b"\xff"])
def test_malformed_json_is_a_serialization_exception(service: Service, body: bytes) -> None:
    assert error_of(_raw(service, "POST", "/listRegions", body))[:2] == (400, "SerializationException")


def test_every_reply_has_a_request_id_matching_the_trail(service: Service) -> None:
    for reply in (service.call("ListRegions"), _raw(service, "POST", "/nope", b"")):
        request_id = dict(reply.headers)["x-amzn-RequestId"]
        assert reply.event["requestID"] == request_id and reply.event["eventID"] != request_id


def test_trail_record_shape(service: Service) -> None:
    ok = service.call("GetRegionOptStatus", {"RegionName": "us-east-1"})
    event = ok.event
    assert {k: event[k] for k in ("eventVersion", "eventSource", "eventName", "awsRegion", "readOnly",
                                  "recipientAccountId", "eventTime")} == {
        "eventVersion": "1.08", "eventSource": "account.amazonaws.com", "eventName": "GetRegionOptStatus",
        "awsRegion": "us-east-1", "readOnly": True, "recipientAccountId": MANAGEMENT,
        "eventTime": "2026-11-24T19:00:00Z"}
    assert event["userIdentity"]["accessKeyId"] == "AKIAIOSFODNN7EXAMPLE"
    assert event["responseElements"] == {"RegionName": "us-east-1", "RegionOptStatus": "ENABLED_BY_DEFAULT"}
    assert "errorCode" not in event
    refused = service.call("EnableRegion", {"RegionName": "us-east-1"}, region="eu-west-1").event
    assert (refused["errorCode"], refused["readOnly"], refused["awsRegion"]) == ("ValidationException", False,
                                                                                  "eu-west-1")


def test_success_round_trips_through_the_model(service: Service) -> None:
    reply = service.call("GetRegionOptStatus", {"RegionName": "af-south-1"})
    assert wire.parse_response(MODEL, "GetRegionOptStatus", reply.status, reply.headers, reply.body) == {
        "RegionName": "af-south-1", "RegionOptStatus": "DISABLED"}



def test_a_lone_surrogate_from_a_json_escape_still_makes_a_utf8_trail_record(service: Service) -> None:
    # JSON may spell a lone surrogate (\udce9); the record must still encode as UTF-8 for the trail file.
    body = b'{"AlternateContactType":"BILLING","Name":"An\\udce9","Title":"CFO","EmailAddress":"a@example.com",' \
           b'"PhoneNumber":"+1 555 0100"}'
    request = sigv4.Request("POST", "http://127.0.0.1:8080/putAlternateContact",
                            [("Content-Type", "application/json")], body)
    reply = service.serve(sigv4.sign(request, CREDS, region="us-east-1", service="account",
                                     timestamp=service.now).request)
    assert reply.event["requestParameters"]["Name"] == "An\ufffd"
    json.dumps(reply.event, ensure_ascii=False).encode("utf-8")
