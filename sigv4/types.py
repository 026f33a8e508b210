"""Immutable values the signer works on: the request, the credentials, the result.

Strategy: a `Request` holds the request exactly as the user wrote it (the URL
text, header names with their casing and order, duplicates kept); every
canonicalization happens later, in `sigv4.canonical`, so the original is never
lost and a signed request differs from its input only by what signing added.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Union

#: A body is bytes, or a stream the signer reads only when asked to hash it.
Body = Union[bytes, IO[bytes], Iterable[bytes]]


@dataclass(frozen=True, slots=True)
class Credentials:
    """An access key pair, optionally with a session token. Secrets never appear in repr."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)


def _split_url(url: str) -> tuple[str, str, str]:
    """(scheme, authority, target) of an absolute URL or an origin-form target."""
    head, sep, rest = url.partition("://")
    if not sep or "/" in head:
        return "", "", url
    end = len(rest)
    for stop in "/?#":
        index = rest.find(stop, 0, end)
        if index != -1:
            end = index
    target = rest[end:].partition("#")[0]
    return head.lower(), rest[:end], target if target.startswith("/") else "/" + target


@dataclass(frozen=True, slots=True, init=False)
class Request:
    """An HTTP request as the user built it.

    `url` is either absolute (`https://host/path?query`) or an origin-form
    target (`/path?query`, with the host in a `Host` header). The path and
    query are kept exactly as given: no decoding, no re-encoding.
    """

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: Body
    #: URL parts, split once at construction (derived from `url`, so not compared).
    scheme: str = field(repr=False, compare=False)
    authority: str = field(repr=False, compare=False)
    target: str = field(repr=False, compare=False)

    def __init__(
        self,
        method: str,
        url: str,
        headers: Iterable[tuple[str, str]] = (),
        body: Body = b"",
    ) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "method", method)
        setattr_(self, "url", url)
        setattr_(self, "headers", tuple([(str(n), str(v)) for n, v in headers]))
        setattr_(self, "body", body)
        scheme, authority, target = _split_url(url)
        setattr_(self, "scheme", scheme)
        setattr_(self, "authority", authority)
        setattr_(self, "target", target)

    def _copy(self, url: str | None = None, headers: tuple[tuple[str, str], ...] | None = None,
              body: Body | None = None) -> Request:
        # Internal copies skip re-validating headers that are already tuples of str.
        new = object.__new__(Request)
        setattr_ = object.__setattr__
        setattr_(new, "method", self.method)
        setattr_(new, "headers", self.headers if headers is None else headers)
        setattr_(new, "body", self.body if body is None else body)
        if url is None or url == self.url:
            setattr_(new, "url", self.url)
            setattr_(new, "scheme", self.scheme)
            setattr_(new, "authority", self.authority)
            setattr_(new, "target", self.target)
        else:
            setattr_(new, "url", url)
            for name, value in zip(("scheme", "authority", "target"), _split_url(url)):
                setattr_(new, name, value)
        return new

    # -- URL parts -------------------------------------------------------
    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def query(self) -> str:
        """The raw query string (without `?`); empty when there is none."""
        return self.target.partition("?")[2]

    # -- headers ---------------------------------------------------------
    def header(self, name: str) -> str | None:
        """The first value of header `name` (case-insensitive), or None."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def edit_headers(self, sets: Iterable[tuple[str, str]] = (), drops: Iterable[str] = ()) -> Request:
        """Set and drop headers in one pass.

        A set header replaces the first occurrence of its name in place (later
        duplicates are dropped) or is appended, in the order given; `drops`
        names are removed. Names compare case-insensitively.
        """
        pending = {name.lower(): (name, value) for name, value in sets}
        drop = {name.lower() for name in drops}
        out: list[tuple[str, str]] = []
        for header in self.headers:
            key = header[0].lower()
            if key in drop:
                continue
            new = pending.pop(key, None)
            if new is None:
                out.append(header)
            else:
                out.append((header[0], new[1]))
                drop.add(key)
        out.extend(pending.values())
        return self._copy(headers=tuple(out))

    def append_headers(self, headers: Iterable[tuple[str, str]]) -> Request:
        """Add headers after the existing ones, as given; a name already present is repeated, not replaced."""
        return self._copy(headers=self.headers + tuple((str(n), str(v)) for n, v in headers))

    def without_headers(self, names: Iterable[str]) -> Request:
        return self.edit_headers(drops=names)

    def with_header(self, name: str, value: str) -> Request:
        """Set `name`: replace the first occurrence in place (dropping later
        duplicates), or append it when absent."""
        return self.edit_headers(((name, value),))

    def with_url(self, url: str) -> Request:
        return self._copy(url=url)

    def with_body(self, body: Body) -> Request:
        return self._copy(body=body)


def iter_body(body: Body, chunk_size: int = 1 << 16) -> Iterator[bytes]:
    """Yield a body's bytes in chunks; streams are read lazily, once."""
    if isinstance(body, (bytes, bytearray, memoryview)):
        if body:
            yield bytes(body)
        return
    read = getattr(body, "read", None)
    if read is not None:
        while chunk := read(chunk_size):
            yield chunk
        return
    for chunk in body:
        if chunk:
            yield bytes(chunk)
