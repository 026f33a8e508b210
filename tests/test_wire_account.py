"""The shipped Account model, and the restJson1 client/server round trips the
local Account endpoint relies on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wire
from wire_strategies import structures

MODEL = wire.load_model("account")
ENDPOINT = "https://account.us-east-1.amazonaws.com"
OPERATIONS = sorted(MODEL.operations)


def _without_documentation(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_documentation(v) for k, v in value.items() if k not in ("documentation", "documentationUrl")}
    if isinstance(value, list):
        return [_without_documentation(v) for v in value]
    return value


def test_shipped_model_matches_botocore() -> None:
    from botocore.loaders import Loader

    ours = json.loads((Path(wire.__file__).parent / "models" / "account.json").read_text())
    theirs = _without_documentation(Loader().load_service_model("account", "service-2"))
    assert ours == theirs
    assert len(MODEL.operations) == 15


def _input(op: str) -> st.SearchStrategy[dict[str, Any]]:
    shape = MODEL.operations[op].input
    return structures(shape) if shape is not None else st.just({})


def _output(op: str) -> st.SearchStrategy[dict[str, Any]]:
    shape = MODEL.operations[op].output
    return structures(shape) if shape is not None else st.just({})


@pytest.mark.parametrize("operation", OPERATIONS)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_parse_request_inverts_serialize(operation: str, data: st.DataObject) -> None:
    params = data.draw(_input(operation))
    wire.validate(MODEL, operation, params)
    request = wire.serialize(MODEL, operation, params, endpoint=ENDPOINT)
    assert wire.parse_request(MODEL, request.method, request.target, request.headers, request.body) == (operation, params)


@pytest.mark.parametrize("operation", OPERATIONS)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_parse_response_inverts_serialize_response(operation: str, data: st.DataObject) -> None:
    output = data.draw(_output(operation))
    status, headers, body = wire.serialize_response(MODEL, operation, output)
    assert wire.parse_response(MODEL, operation, status, headers, body) == output


@pytest.mark.parametrize("code", sorted(MODEL.error_shapes))
def test_serialize_error_reads_back_as_service_error(code: str) -> None:
    status, headers, body = wire.serialize_error(MODEL, code, "no way", 409, {})
    with pytest.raises(wire.ServiceError) as caught:
        wire.parse_response(MODEL, "GetAlternateContact", status, headers, body)
    assert (caught.value.code, caught.value.message, caught.value.status) == (code, "no way", 409)
    assert caught.value.data.get("message") == "no way"


def test_unmodelled_error_code() -> None:
    status, headers, body = wire.serialize_error(MODEL, "Throttling", "slow down", 429)
    with pytest.raises(wire.ServiceError) as caught:
        wire.parse_response(MODEL, "ListRegions", status, headers, body)
    assert (caught.value.code, caught.value.message, caught.value.data) == ("Throttling", "slow down", {})


def test_put_alternate_contact_request() -> None:
    params = {
        "AlternateContactType": "BILLING",
        "Name": "Ana",
        "Title": "CFO",
        "EmailAddress": "ana@example.com",
        "PhoneNumber": "+1 555 0100",
    }
    request = wire.serialize(MODEL, "PutAlternateContact", params, endpoint=ENDPOINT)
    assert (request.method, request.url) == ("POST", ENDPOINT + "/putAlternateContact")
    assert request.header("Content-Type") == "application/json"
    assert json.loads(request.body) == params


def test_endpoint_path_prefix_is_kept() -> None:
    request = wire.serialize(MODEL, "ListRegions", {}, endpoint="http://localhost:8080/account/")
    assert request.url == "http://localhost:8080/account/listRegions"


def test_validate_lists_every_violation() -> None:
    with pytest.raises(wire.ValidationError) as caught:
        wire.validate(MODEL, "PutAlternateContact", {"AlternateContactType": "FOO", "Name": "", "Extra": 1})
    rules = [str(v) for v in caught.value.violations]
    assert "AlternateContactType: 'FOO' is not one of BILLING, OPERATIONS, SECURITY" in rules
    assert "Title: is required" in rules and "EmailAddress: is required" in rules
    assert any(r.startswith("Name: length 0 is below the minimum 1") for r in rules)
    assert any(r.startswith("Extra: is not a member") for r in rules)


def test_serialize_checks_types_but_not_constraints() -> None:
    request = wire.serialize(MODEL, "GetAlternateContact", {"AlternateContactType": "FOO"}, endpoint=ENDPOINT)
    assert request.body == b'{"AlternateContactType":"FOO"}'
    with pytest.raises(wire.ValidationError, match="AlternateContactType: expected a string"):
        wire.serialize(MODEL, "GetAlternateContact", {"AlternateContactType": 3}, endpoint=ENDPOINT)


def test_validation_never_echoes_a_sensitive_value() -> None:
    model = wire.load_model("account")
    with pytest.raises(wire.ValidationError) as caught:
        wire.validate(model, "AcceptPrimaryEmailUpdate", {"AccountId": "111122223333", "Otp": "not a code!",
                                                          "PrimaryEmail": "x"})
    assert "not a code!" not in str(caught.value) and "(sensitive value)" in str(caught.value)


def test_xml_text_keeps_documents_well_formed() -> None:
    from wire.xml import element, parse, text
    root = parse(element("a", text("bad\x01byte \ud800 & <ok>")).encode("utf-8", "surrogatepass"))
    assert root.text == "bad\ufffdbyte \ufffd & <ok>"
