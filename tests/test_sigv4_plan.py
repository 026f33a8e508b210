"""Header plans (`sigv4.plan`) give what the general edit and canonicalization give with the values put in directly."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigv4 import Credentials, InvalidHeaderError, InvalidParameterError, Request, sign
from sigv4.canonical import DEFAULT_UNSIGNED_HEADERS, CanonicalRequest, canonical_headers
from sigv4.plan import DATE, PAYLOAD, make_plan
from sigv4.types import edited_headers

NOW = datetime(2015, 8, 30, 12, 36, tzinfo=timezone.utc)
TOKEN_CHARS = "!#$%&'*+-.^_`|~abcXYZ019"
names = st.text(TOKEN_CHARS, min_size=1, max_size=6) | st.sampled_from(
    ["X-Amz-Date", "x-amz-content-sha256", "Host", "Authorization"])
values = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="\x7f") | st.just("\t"),
                 max_size=12)
headers = st.lists(st.tuples(names, values), max_size=6).map(tuple)
dates = st.sampled_from(["20150830T123600Z", "20240229T000000Z"])
hashes = st.sampled_from(["UNSIGNED-PAYLOAD", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"])


@given(headers, st.booleans(), st.lists(st.tuples(names, values), max_size=2), dates, hashes,
       st.sampled_from([DEFAULT_UNSIGNED_HEADERS, frozenset(), frozenset({"x-amz-date", "host"})]))
def test_a_filled_plan_is_the_general_edit_and_canonicalization(
        original, with_payload_hole, fixed, date, payload_hash, unsigned) -> None:
    holes = {"x-amz-date": DATE, **({"x-amz-content-sha256": PAYLOAD} if with_payload_hole else {})}
    fixed = [(n, v) for n, v in fixed if n.lower() not in {"x-amz-date", "x-amz-content-sha256"}]
    sets = [*fixed, ("X-Amz-Date", "")] + ([("X-Amz-Content-SHA256", "")] if with_payload_hole else [])
    direct = [(n, (date, payload_hash)[holes[n.lower()]] if n.lower() in holes else v) for n, v in sets]
    drops = ("authorization",)
    try:
        expected_headers = edited_headers(original, direct, drops)
        pairs, signed = canonical_headers(expected_headers, unsigned)
    except Exception as general_error:
        with pytest.raises(type(general_error)):
            make_plan(original, sets, holes, drops, unsigned)
        return
    plan = make_plan(original, sets, holes, drops, unsigned, appended=(("X-Amz-Security-Token", "t"),))
    got_headers, got_pairs = plan.fill(date, payload_hash)
    assert got_headers == (*expected_headers, ("X-Amz-Security-Token", "t"))
    assert (got_pairs, plan.signed_headers) == (pairs, signed)


def test_a_streaming_payload_name_with_control_bytes_is_refused() -> None:
    # The payload hash goes into a header and the canonical request unchecked by the plan: it is checked up front.
    request = Request("PUT", "https://s3.amazonaws.com/b/k", body=b"x")
    with pytest.raises(InvalidParameterError, match="payload"):
        sign(request, Credentials("AKID", "SECRET"), region="us-east-1", service="s3", timestamp=NOW, s3=True,
             payload="STREAMING-X\r\nInjected: yes")


_fresh = itertools.count()


@given(headers, st.booleans(), st.booleans(), st.binary(max_size=8))
def test_a_shape_signs_the_same_whether_seen_once_or_again(original, s3, with_token, body) -> None:
    """A first sighting gets a one-off plan, later ones a cached plan with holes: same signatures."""
    original = (*original, ("X-Fresh", str(next(_fresh))))  # a shape never signed before
    creds = Credentials("AKID", "SECRET", "token%s" if with_token else None)
    request = Request("PUT", "https://example.amazonaws.com/a%20b?x=1", original, body)
    later = datetime(2015, 8, 30, 12, 36, 1, tzinfo=timezone.utc)
    try:
        first = sign(request, creds, region="us-east-1", service="s3", timestamp=NOW, s3=s3)
    except InvalidHeaderError:
        return  # refused the same way every time (tests/test_sigv4_hardening.py)
    second = sign(request.with_body(body + b"!"), creds, region="us-east-1", service="s3", timestamp=later, s3=s3)
    again = sign(request, creds, region="us-east-1", service="s3", timestamp=NOW, s3=s3)
    assert again == first
    # A shape seen again is signed from its kept plan: the same canonical text as rendered from its fields.
    fields = again.canonical
    assert again.canonical_request == CanonicalRequest(fields.method, fields.uri, fields.query, fields.headers,
                                                       fields.signed_headers, fields.payload_hash).render()
    assert second.canonical_request == first.canonical_request.replace(first.amz_date, second.amz_date).replace(
        first.payload_hash, second.payload_hash)


@given(st.lists(st.binary(max_size=8), min_size=3, max_size=6), st.booleans(), st.booleans(),
       st.sampled_from(["/", "/a%20b/../c", "/k?x=1&y=%FF"]), st.lists(st.sampled_from([0, 1, 86400]), min_size=6))
def test_a_kept_preparation_signs_as_a_fresh_one(bodies, s3, with_token, target, offsets) -> None:
    """From a shape's second signature on, `sign` reuses what it prepared for that shape (sigv4.signer._PREPARED),
    the date put in anew for another second of the day: each result equals the one signed with every cache
    emptied first."""
    from sigv4 import signer  # its caches, emptied for the fresh signatures

    creds = Credentials("AKID", "SECRET", "token" if with_token else None)
    headers = (("Content-Type", "text/plain"), ("X-Fresh", str(next(_fresh))), ("User-Agent", "test"))
    requests = [Request("PUT", f"https://example.amazonaws.com{target}", headers, body) for body in bodies]
    times = [NOW + timedelta(seconds=offset) for offset in offsets]
    kept = [sign(request, creds, region="us-east-1", service="s3", timestamp=when, s3=s3)
            for request, when in zip(requests, times)]
    assert len(signer._PREPARED) >= 1
    for request, when, result in zip(requests, times, kept):
        signer._PREPARED.clear()
        signer._SIGN_PLANS._plans.clear()
        signer._SIGN_PLANS._seen.clear()
        fresh = sign(request, creds, region="us-east-1", service="s3", timestamp=when, s3=s3)
        assert result == fresh
        assert result.canonical_request == CanonicalRequest(*result.canonical[:6]).render()
