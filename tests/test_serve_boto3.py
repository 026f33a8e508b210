"""boto3 against the real local endpoint: all 15 operations, the paginator, every modelled error as ClientError."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.serve_fixtures import DEFAULT, Running, endpoint, serving  # noqa: F401  (fixture)
from tests.service_helpers import MODEL
from wire.service.account import REGIONS

MEMBER = "444455556666"
MODELLED = frozenset(MODEL.error_shapes)
CONTACT = {"Name": "Ana", "Title": "CFO", "EmailAddress": "ana@example.com", "PhoneNumber": "+1 555 0100"}
CONTACT_INFO = {"FullName": "Ana Lima", "AddressLine1": "1 Main St", "City": "Lisbon", "PostalCode": "1000-001",
                "CountryCode": "PT", "PhoneNumber": "+351 21 000 0000"}


def client(running: Running, secret: str = DEFAULT["secret_access_key"], region: str = "eu-west-1") -> Any:
    return boto3.client("account", endpoint_url=running.url, region_name=region,
                        aws_access_key_id=DEFAULT["access_key_id"], aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}))


def error(call: Any, **params: Any) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    response = caught.value.response
    code = response["Error"]["Code"]
    if code in MODELLED:  # botocore raises the model's own exception class for modelled errors
        assert isinstance(caught.value, getattr(call.__self__.exceptions, code))
    return response["ResponseMetadata"]["HTTPStatusCode"], code, response["Error"]["Message"]


def test_alternate_contacts(endpoint: Running) -> None:
    account = client(endpoint)
    account.put_alternate_contact(AlternateContactType="OPERATIONS", **CONTACT)
    got = account.get_alternate_contact(AlternateContactType="OPERATIONS")["AlternateContact"]
    assert got == {**CONTACT, "AlternateContactType": "OPERATIONS"}
    account.delete_alternate_contact(AlternateContactType="OPERATIONS")
    assert error(account.get_alternate_contact, AlternateContactType="OPERATIONS")[:2] == (
        404, "ResourceNotFoundException")
    assert error(account.delete_alternate_contact, AlternateContactType="OPERATIONS")[1] == "ResourceNotFoundException"


def test_contact_information_and_account_name(endpoint: Running) -> None:
    account = client(endpoint)
    assert error(account.get_contact_information)[1] == "ResourceNotFoundException"
    account.put_contact_information(ContactInformation=CONTACT_INFO)
    assert account.get_contact_information()["ContactInformation"] == CONTACT_INFO
    account.put_account_name(AccountName="Production")
    info = account.get_account_information()
    assert (info["AccountId"], info["AccountName"], info["AccountState"]) == ("111122223333", "Production", "ACTIVE")
    assert info["AccountCreatedDate"].tzinfo is not None
    assert error(account.get_gov_cloud_account_information)[:2] == (404, "ResourceNotFoundException")


def test_list_regions_with_the_botocore_paginator(endpoint: Running) -> None:
    pages = list(client(endpoint).get_paginator("list_regions").paginate(PaginationConfig={"PageSize": 4}))
    assert len(pages) == -(-len(REGIONS) // 4)
    assert [r["RegionName"] for page in pages for r in page["Regions"]] == sorted(REGIONS)
    filtered = client(endpoint).list_regions(RegionOptStatusContains=["ENABLED_BY_DEFAULT"])["Regions"]
    assert {r["RegionOptStatus"] for r in filtered} == {"ENABLED_BY_DEFAULT"}


def test_region_opt_in_lifecycle(tmp_path: Path) -> None:
    # A delay long enough for the two in-progress calls on a loaded machine (0.5 s was not, once),
    # then polled: the test takes about the delay, not a worst-case sleep.
    with serving(tmp_path, region_delay=2.0) as running:
        account = client(running)
        account.enable_region(RegionName="me-south-1")
        assert account.get_region_opt_status(RegionName="me-south-1")["RegionOptStatus"] == "ENABLING"
        assert error(account.disable_region, RegionName="me-south-1")[:2] == (409, "ConflictException")
        deadline = time.monotonic() + 30
        while (status := account.get_region_opt_status(RegionName="me-south-1")["RegionOptStatus"]) == "ENABLING":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert status == "ENABLED"
        status, code, _ = error(account.disable_region, RegionName="us-west-2")
        assert (status, code) == (400, "ValidationException")


def test_primary_email_update(endpoint: Running) -> None:
    account = client(endpoint)
    before = account.get_primary_email(AccountId=MEMBER)["PrimaryEmail"]
    assert account.start_primary_email_update(AccountId=MEMBER, PrimaryEmail="new@example.com")["Status"] == "PENDING"
    code = next(line for line in endpoint.log if "one-time code" in line).rsplit(": ", 1)[1]
    assert error(account.accept_primary_email_update, AccountId=MEMBER, PrimaryEmail="new@example.com",
                 Otp="ZZZZZ9" if code != "ZZZZZ9" else "ZZZZZ8")[1] == "ValidationException"
    assert account.get_primary_email(AccountId=MEMBER)["PrimaryEmail"] == before
    accepted = account.accept_primary_email_update(AccountId=MEMBER, PrimaryEmail="new@example.com", Otp=code)
    assert accepted["Status"] == "ACCEPTED"
    assert account.get_primary_email(AccountId=MEMBER)["PrimaryEmail"] == "new@example.com"
    assert code not in endpoint.trail.read_text()


def test_account_id_rules(endpoint: Running) -> None:
    account = client(endpoint)
    account.put_alternate_contact(AlternateContactType="BILLING", AccountId=MEMBER, **CONTACT)
    assert account.get_alternate_contact(AlternateContactType="BILLING", AccountId=MEMBER)["AlternateContact"]
    assert error(account.get_alternate_contact, AlternateContactType="BILLING")[1] == "ResourceNotFoundException"
    for named in ("111122223333", "999988887777"):
        assert error(account.get_account_information, AccountId=named)[:2] == (403, "AccessDeniedException")


def test_validation_exception_has_the_field_list(endpoint: Running) -> None:
    with pytest.raises(ClientError) as caught:
        client(endpoint).put_account_name(AccountName="\t")  # outside the model's [ -;=?-~]+ pattern
    response = caught.value.response
    assert response["Error"]["Code"] == "ValidationException"
    assert response["reason"] == "fieldValidationFailed"
    assert response["fieldList"][0]["name"] == "AccountName"


def test_wrong_secret_is_invalid_signature_with_the_canonical_string(endpoint: Running) -> None:
    status, code, message = error(client(endpoint, secret="not-the-secret").list_regions)
    assert (status, code) == (403, "InvalidSignatureException")
    assert "The Canonical String for this request should have been\n'POST\n/listRegions\n" in message


def test_every_call_is_in_the_trail(endpoint: Running) -> None:
    account = client(endpoint, region="ap-southeast-2")
    account.list_regions()
    error(client(endpoint, secret="nope").list_regions)
    records = [json.loads(line) for line in endpoint.trail.read_text().splitlines()]
    assert [(r["eventName"], r.get("errorCode")) for r in records] == [
        ("ListRegions", None), ("ListRegions", "InvalidSignatureException")]
    assert records[0]["awsRegion"] == "ap-southeast-2" and "Boto3" in records[0]["userAgent"]
    assert DEFAULT["secret_access_key"] not in endpoint.trail.read_text()
