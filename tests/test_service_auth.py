"""Signature failures answer with AWS's exception types and exact texts (`wire.service.auth`)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import botocore
import pytest

import sigv4
import wire
from tests.service_helpers import CREDS, ENDPOINT_URL, MODEL, NOW, Service, error_of
from wire.auth_refusal import INVALID_TOKEN_TEXT, MISMATCH_TEXT
from wire.service.auth import SCOPE_REGIONS

TEMPORARY = {"accounts": [{"access_key_id": "ASIATEMP", "secret_access_key": "tmp-secret",
                           "session_token": "the-session-token", "account_id": "123456789012"}]}


@pytest.fixture
def service() -> Service:
    return Service()


def _refusal(reply) -> tuple[int, str, str]:
    status, code, body = error_of(reply)
    return status, code, body["message"]


def test_unsigned_request_is_missing_authentication_token(service: Service) -> None:
    request = sigv4.Request("POST", "http://127.0.0.1:8080/listRegions", [("Content-Type", "application/json")], b"{}")
    assert _refusal(service.serve(request)) == (403, "MissingAuthenticationTokenException",
                                                "Missing Authentication Token")


def test_incomplete_authorization_header_names_every_missing_part(service: Service) -> None:
    request = sigv4.Request("POST", "http://127.0.0.1:8080/listRegions",
                            [("Authorization", "AWS4-HMAC-SHA256 Signature=abc")], b"")
    assert _refusal(service.serve(request)) == (
        403, "IncompleteSignatureException",
        "Authorization header requires 'Credential' parameter. Authorization header requires 'SignedHeaders' "
        "parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        "Authorization=AWS4-HMAC-SHA256 Signature=abc")


def test_unknown_access_key_is_unrecognized_client(service: Service) -> None:
    reply = service.call("ListRegions", creds=sigv4.Credentials("AKIDUNKNOWN", "x"))
    assert _refusal(reply) == (403, "UnrecognizedClientException", INVALID_TOKEN_TEXT)
    assert reply.event["userIdentity"] == {"type": "Unknown", "accessKeyId": "AKIDUNKNOWN"}
    assert reply.event["errorCode"] == "UnrecognizedClientException"


def test_wrong_secret_quotes_the_canonical_string_and_string_to_sign(service: Service) -> None:
    request = wire.serialize(MODEL, "GetAlternateContact", {"AlternateContactType": "BILLING"}, endpoint=ENDPOINT_URL)
    client = sigv4.sign(request, sigv4.Credentials(CREDS.access_key_id, "not-the-secret"), region="us-east-1",
                        service="account", timestamp=NOW)
    status, code, message = _refusal(service.serve(client.request))
    assert (status, code) == (403, "InvalidSignatureException")
    assert message == MISMATCH_TEXT.format(canonical=client.canonical_request, string_to_sign=client.string_to_sign)
    assert message.startswith("The request signature we calculated does not match the signature you provided.")


def test_signature_expired_quotes_the_three_times(service: Service) -> None:
    reply = service.call("ListRegions", at=NOW - timedelta(minutes=45))
    assert _refusal(reply) == (403, "InvalidSignatureException", "Signature expired: 20261124T181500Z is now "
                               "earlier than 20261124T184500Z (20261124T190000Z - 15 min.)")


def test_signature_not_yet_current(service: Service) -> None:
    reply = service.call("ListRegions", at=NOW + timedelta(minutes=20))
    assert _refusal(reply) == (403, "InvalidSignatureException", "Signature not yet current: 20261124T192000Z is "
                               "still later than 20261124T191500Z (20261124T190000Z + 15 min.)")


def test_region_must_look_like_a_region(service: Service) -> None:
    assert _refusal(service.call("ListRegions", region="x")) == (
        403, "InvalidSignatureException", "Credential should be scoped to a valid region, not 'x'.")


@pytest.mark.parametrize("region", ["us-east-9", "eu-middle-1", "us-west-1-", "aws-global"])
def test_a_region_aws_does_not_have_is_refused_as_aws_does(service: Service, region: str) -> None:
    assert _refusal(service.call("ListRegions", region=region)) == (
        403, "InvalidSignatureException", f"Credential should be scoped to a valid region, not '{region}'.")


def test_the_scope_regions_are_every_partitions_regions() -> None:
    partitions = json.loads((Path(botocore.__file__).parent / "data" / "partitions.json").read_text())["partitions"]
    theirs = {name for partition in partitions for name in partition["regions"] if not name.endswith("-global")}
    assert SCOPE_REGIONS == theirs


def test_service_must_be_account(service: Service) -> None:
    assert _refusal(service.call("ListRegions", service="s3")) == (
        403, "InvalidSignatureException", "Credential should be scoped to correct service: 'account'.")


@pytest.mark.parametrize("region", ["us-east-1", "eu-central-1", "ap-southeast-2", "us-gov-west-1", "cn-north-1"])
def test_any_region_in_the_scope_is_accepted(service: Service, region: str) -> None:
    reply = service.call("ListRegions", region=region)
    assert reply.status == 200 and reply.event["awsRegion"] == region


def test_headers_sdks_add_after_signing_are_ignored(service: Service) -> None:
    request = service.signed("ListRegions", {})
    request = request.with_header("amz-sdk-invocation-id", "1b2c").with_header("amz-sdk-request", "attempt=1; max=3")
    assert service.serve(request).status == 200


def test_presigned_and_sigv4a_requests_are_verified(service: Service) -> None:
    request = wire.serialize(MODEL, "ListRegions", {}, endpoint=ENDPOINT_URL)
    presigned = sigv4.presign(request, CREDS, region="us-west-2", service="account", timestamp=NOW, expires=300)
    assert service.serve(presigned.request).status == 200
    v4a = sigv4.sign(request, CREDS, region="*", service="account", timestamp=NOW, algorithm="v4a")
    assert service.serve(v4a.request).status == 200
    late = presigned.request
    service.now = NOW + timedelta(seconds=301)
    status, code, message = _refusal(service.serve(late))
    assert (status, code) == (403, "InvalidSignatureException") and message.startswith("Signature expired: ")


def test_session_tokens_are_checked_and_never_recorded() -> None:
    service = Service(TEMPORARY)
    temporary = sigv4.Credentials("ASIATEMP", "tmp-secret", "the-session-token")
    assert service.call("ListRegions", creds=temporary).status == 200
    without = service.call("ListRegions", creds=sigv4.Credentials("ASIATEMP", "tmp-secret"))
    assert _refusal(without) == (403, "UnrecognizedClientException", INVALID_TOKEN_TEXT)
    wrong_secret = service.call("ListRegions", creds=sigv4.Credentials("ASIATEMP", "bad", "the-session-token"))
    assert "the-session-token" in error_of(wrong_secret)[2]["message"]  # the canonical string the client signed
    assert "the-session-token" not in str(wrong_secret.event) and "tmp-secret" not in str(wrong_secret.event)


@pytest.mark.parametrize("spelling", ["canonical", "lowercase-hex", "slash-unencoded"])
def test_a_presigned_session_token_is_scrubbed_from_the_trail_however_the_client_encoded_it(spelling: str) -> None:
    # A real STS token holds '/', '+' and '='; the canonical query in a mismatch message encodes them
    # as %2F, %2B, %3D, whatever spelling the client's URL used.
    token = "IQoJb3JpZ2luX2Vj//////////+wEaCXVzLWVhc3QtMSJHMEUCIQ=="
    service = Service({"accounts": [{**TEMPORARY["accounts"][0], "session_token": token}]})
    request = wire.serialize(MODEL, "ListRegions", {}, endpoint=ENDPOINT_URL)
    signed = sigv4.presign(request, sigv4.Credentials("ASIATEMP", "bad", token), region="us-east-1",
                           service="account", timestamp=NOW, expires=300).request
    url = {"canonical": signed.url,
           "lowercase-hex": re.sub(r"%[0-9A-F]{2}", lambda hit: hit[0].lower(), signed.url),
           "slash-unencoded": signed.url.replace("%2F", "/")}[spelling]
    reply = service.serve(sigv4.Request(signed.method, url, list(signed.headers), signed.body))
    assert reply.event["errorCode"] == "InvalidSignatureException"
    assert "%2F%2F%2F" in error_of(reply)[2]["message"]  # the client is shown its token
    trail = json.dumps(reply.event)
    assert "%2F%2F%2F" not in trail and "%2f%2f%2f" not in trail and "//////" not in trail
