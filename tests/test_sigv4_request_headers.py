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
