"""Request header edits: set in place, drop, append (the signer's building blocks)."""

from __future__ import annotations

from sigv4.types import Request


def test_edit_headers_sets_in_place_drops_and_appends() -> None:
    req = Request("GET", "https://h/", [("A", "1"), ("Authorization", "old"), ("b", "2"), ("a", "dup")])
    edited = req.edit_headers([("a", "new"), ("C", "3")], ["authorization"])
    assert edited.headers == (("A", "new"), ("b", "2"), ("C", "3"))
    assert req.headers == (("A", "1"), ("Authorization", "old"), ("b", "2"), ("a", "dup"))  # input untouched


def test_append_headers_keeps_existing_names_and_order() -> None:
    req = Request("GET", "https://h/p?q=1", [("X-A", "1")])
    appended = req.append_headers([("x-a", "2"), ("Authorization", "sig")])
    assert appended.headers == (("X-A", "1"), ("x-a", "2"), ("Authorization", "sig"))
    assert (appended.url, appended.target, appended.authority) == (req.url, "/p?q=1", "h")
    assert req.headers == (("X-A", "1"),)


def test_a_request_is_an_immutable_value() -> None:
    """Request is a tuple of its four fields: what it was as a frozen dataclass still holds (no field can be
    set; equal fields make equal, equally hashed requests; a copy or a pickle round trip is the same request)."""
    import copy
    import pickle

    import pytest

    req = Request("POST", "https://h:443/p?q=1#frag", [("X-Count", 5), ["Host", "h"]], b"body")  # type: ignore[list-item]
    assert req.headers == (("X-Count", "5"), ("Host", "h"))  # pairs of str, as the signer needs them
    with pytest.raises(AttributeError):
        req.url = "https://other/"  # type: ignore[misc]
    same = Request("POST", "https://h:443/p?q=1#frag", (("X-Count", "5"), ("Host", "h")), b"body")
    assert req == same and hash(req) == hash(same)
    assert req != Request("POST", "https://h:443/p?q=1#frag", (("X-Count", "5"), ("Host", "h")), b"other")
    for twin in (copy.copy(req), copy.deepcopy(req), pickle.loads(pickle.dumps(req))):
        assert twin == req and type(twin) is Request
        assert (twin.scheme, twin.authority, twin.target) == ("https", "h:443", "/p?q=1")
    moved = req.with_url("/q?x")  # the URL's parts follow the URL
    assert (moved.scheme, moved.authority, moved.target, moved.path, moved.query) == ("", "", "/q?x", "/q", "x")
