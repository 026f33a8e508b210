"""Properties of the signer and the raw-request parser, and its typed errors."""

from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigv4 import (
    Credentials, InvalidHeaderError, InvalidParameterError, InvalidTimestampError, Request, RequestParseError,
    payload_hash, presign, sign,
)
from sigv4.canonical import canonical_uri, CanonicalRules, normalize_path
from sigv4.raw import parse_request, render_request

NOW = datetime(2015, 8, 30, 12, 36, tzinfo=timezone.utc)
CREDS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
SCOPE = dict(region="us-east-1", service="service", timestamp=NOW)

names = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,10}", fullmatch=True).filter(
    lambda n: n.lower() not in {"host", "authorization", "x-amz-date", "user-agent", "expect", "te", "upgrade",
                                "connection", "trailer", "keep-alive", "x-amz-security-token", "x-amz-content-sha256"})
values = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=16)
header_maps = st.dictionaries(names.map(str.lower), values, max_size=6)
targets = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), max_size=30).map(
    lambda t: "/" + t.replace("#", ""))


@settings(max_examples=200)
@given(header_maps, st.randoms(use_true_random=False))
def test_header_order_and_case_do_not_change_the_signature(headers, rnd) -> None:
    items = list(headers.items())
    shuffled = [(n.upper() if rnd.random() < 0.5 else n, v) for n, v in rnd.sample(items, len(items))]
    first = sign(Request("GET", "https://h.example/", items), CREDS, **SCOPE)
    second = sign(Request("GET", "https://h.example/", shuffled), CREDS, **SCOPE)
    assert first.signature == second.signature


@settings(max_examples=300)
@given(targets, header_maps, st.binary(max_size=32), st.booleans(), st.booleans())
def test_canonicalization_never_raises_on_valid_input(target, headers, body, s3, presigned) -> None:
    req = Request("PUT", "https://h.example" + target, headers.items(), body)
    result = (presign if presigned else sign)(req, CREDS, s3=s3, **SCOPE)
    assert result.canonical_request.count("\n") >= 6


# HTTP field values exclude surrounding whitespace, so only trimmed values can round-trip.
trimmed_header_maps = st.dictionaries(names.map(str.lower), values.map(str.strip), max_size=6)


@settings(max_examples=200)
@given(targets, trimmed_header_maps, st.binary(max_size=32))
def test_signed_request_reparses_to_itself(target, headers, body) -> None:
    signed = sign(Request("POST", "https://h.example" + target, headers.items(), body), CREDS, **SCOPE).request
    again = parse_request(render_request(signed, body=body)).request
    assert (again.method, again.url, again.headers, again.body) == (signed.method, signed.url, signed.headers, body)


@settings(max_examples=3000)
@given(st.binary(max_size=200))
def test_parser_on_arbitrary_bytes_parses_or_raises_its_own_error(data) -> None:
    try:
        parse_request(data)
    except RequestParseError:
        pass


@given(st.lists(st.sampled_from(["a", "b", ".", "..", ""]), max_size=8).map(lambda segs: "/" + "/".join(segs)))
def test_normalize_path_is_idempotent(path) -> None:
    once = normalize_path(path)
    assert normalize_path(once) == once


def test_path_rules() -> None:
    assert canonical_uri("/a%3Ab", CanonicalRules()) == "/a%253Ab"  # double encoding
    assert canonical_uri("/a%3Ab c", CanonicalRules(normalize_path=False, double_encode=False)) == "/a%3Ab%20c"
    assert canonical_uri("/a/b/..", CanonicalRules()) == "/a"
    assert canonical_uri("//a/./b/", CanonicalRules()) == "/a/b/"
    assert canonical_uri("//a/./b/", CanonicalRules(normalize_path=False, double_encode=False)) == "//a/./b/"


def test_query_rules() -> None:
    def query(url: str, **kw: bool) -> str:
        return sign(Request("GET", url), CREDS, **SCOPE, **kw).canonical.query
    assert query("https://h/?b=2&a=1&a=0") == "a=0&a=1&b=2"
    assert query("https://h/?x") == query("https://h/?x=") == "x="
    assert query("https://h/?a=%2b") == query("https://h/?a=%2B") == query("https://h/?a=+") == "a=%2B"
    assert query("https://h/?a=+", plus_is_space=True) == "a=%20"
    assert query("https://h/?k=%E1%88%B4") == query("https://h/?k=ሴ") == "k=%E1%88%B4"


def test_signing_never_mutates_its_input_and_replaces_stale_auth() -> None:
    req = Request("GET", "https://h.example/", [("Authorization", "old"), ("X-Amz-Date", "19990101T000000Z"),
                                                 ("X-Amz-Security-Token", "stale")])
    result = sign(req, CREDS, **SCOPE)
    assert req.headers[0] == ("Authorization", "old")
    assert result.request.header("x-amz-date") == "20150830T123600Z"
    assert result.request.header("x-amz-security-token") is None
    assert [n for n, _ in result.request.headers].count("Authorization") == 1
    again = sign(result.request, CREDS, **SCOPE)
    assert again.request == result.request


def test_s3_and_content_sha256_header() -> None:
    s3 = sign(Request("PUT", "https://b.s3.amazonaws.com/k", body=b"hi"), CREDS, s3=True, **SCOPE)
    assert s3.request.header("x-amz-content-sha256") == payload_hash(b"hi")
    assert "x-amz-content-sha256" in s3.signed_headers
    pre = presign(Request("GET", "https://b.s3.amazonaws.com/k"), CREDS, s3=True, **SCOPE)
    assert pre.payload_hash == "UNSIGNED-PAYLOAD" and "Content-Sha256" not in pre.url
    plain = sign(Request("POST", "https://h/", body=b"x"), CREDS, content_sha256_header=True, **SCOPE)
    assert plain.request.header("x-amz-content-sha256") == payload_hash(b"x")


def test_session_token_signed_or_omitted() -> None:
    creds = Credentials("AKID", "SECRET", "TOKEN")
    signed = sign(Request("GET", "https://h/"), creds, **SCOPE)
    assert "x-amz-security-token" in signed.signed_headers
    omitted = sign(Request("GET", "https://h/"), creds, omit_session_token=True, **SCOPE)
    assert "x-amz-security-token" not in omitted.signed_headers
    assert omitted.request.header("x-amz-security-token") == "TOKEN"
    url = presign(Request("GET", "https://h/"), creds, **SCOPE).url
    assert "X-Amz-Security-Token=TOKEN" in url


def test_streamed_bodies() -> None:
    data = b"x" * 3_000_000
    stream = io.BytesIO(data)
    stream.seek(5)
    result = sign(Request("PUT", "https://h/", body=stream), CREDS, **SCOPE)
    assert result.payload_hash == payload_hash(data[5:]) and stream.tell() == 5
    assert payload_hash(iter([data[:10], data[10:]])) == payload_hash(data)
    with pytest.raises(InvalidParameterError, match="payload: .*one-shot stream"):
        sign(Request("PUT", "https://h/", body=iter([b"a"])), CREDS, **SCOPE)
    unsigned = sign(Request("PUT", "https://h/", body=iter([b"a"])), CREDS, payload="UNSIGNED-PAYLOAD", **SCOPE)
    assert unsigned.payload_hash == "UNSIGNED-PAYLOAD"


@pytest.mark.parametrize("header, message", [
    (("X-Bad", "a\r\nInjected: 1"), r"header 'X-Bad': value has control byte 0x0d"),
    (("X-Bad", "a\nb"), r"control byte 0x0a"),
    (("X-Bad", "a\x00b"), r"control byte 0x00"),
    (("Bad Name", "v"), r"header name 'Bad Name': must be an HTTP token"),
    (("Bad:Name", "v"), r"must be an HTTP token"),
])
def test_bad_headers_are_rejected(header, message) -> None:
    with pytest.raises(InvalidHeaderError, match=message):
        sign(Request("GET", "https://h/", [header]), CREDS, **SCOPE)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(timestamp=datetime(2015, 8, 30)), InvalidTimestampError, "naive datetime"),
    (dict(region=""), InvalidParameterError, "region: must not be empty"),
    (dict(service=""), InvalidParameterError, "service: must not be empty"),
    (dict(region="us/east"), InvalidParameterError, "region: 'us/east' must not contain"),
    (dict(payload="nope"), InvalidParameterError, "payload: 'nope'"),
])
def test_bad_options_are_rejected(kwargs, error, message) -> None:
    with pytest.raises(error, match=message):
        sign(Request("GET", "https://h/"), CREDS, **{**SCOPE, **kwargs})


@pytest.mark.parametrize("expires", [0, 604801, -1, True])
def test_expiry_out_of_range(expires) -> None:
    with pytest.raises(InvalidParameterError, match=r"expires: .* 1\.\.604800"):
        presign(Request("GET", "https://h/"), CREDS, expires=expires, **SCOPE)


def test_secrets_stay_out_of_repr() -> None:
    creds = Credentials("AKID", "TOPSECRET", "SESSIONTOKEN")
    assert "TOPSECRET" not in repr(creds) and "SESSIONTOKEN" not in repr(creds)
