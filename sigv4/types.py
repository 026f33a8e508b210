"""Immutable values the signer works on: the request, the credentials, the result.

Strategy: a `Request` holds the request exactly as the user wrote it (the URL
text, header names with their casing and order, duplicates kept); every
canonicalization happens later, in `sigv4.canonical`, so the original is never
lost and a signed request differs from its input only by what signing added.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import IO, NamedTuple, Union

from .errors import InvalidHeaderError, InvalidParameterError
from .redact import mask_token_params

#: A body is bytes, or a stream the signer reads only when asked to hash it.
Body = Union[bytes, IO[bytes], Iterable[bytes]]


@dataclass(frozen=True, slots=True)
class Credentials:
    """An access key pair, optionally with a session token. Secrets never appear in repr."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)




# scheme "://" authority, then path and query up to any fragment (RFC 3986
# section 3: the scheme and authority hold no "/", "?" or "#").
_ABSOLUTE_URL = re.compile(r"([^:/?#]*)://([^/?#]*)([^#]*)")


class _URLParts(NamedTuple):
    """An absolute URL's parts; an origin-form target has an empty scheme and authority."""

    scheme: str  # lowercase
    authority: str
    target: str  # path and query, up to any fragment


# Clients send to the same few URLs over and over; requests are built fresh for each call.
@lru_cache(maxsize=1024)
def _split_url(url: str) -> _URLParts:
    """The parts of an absolute URL or an origin-form target."""
    absolute = _ABSOLUTE_URL.match(url)
    if absolute is None:
        return _URLParts("", "", url)
    scheme, authority, target = absolute.groups()
    return _URLParts(scheme.lower(), authority, target if target.startswith("/") else "/" + target)


#: Headers that carry a session token (S3 Express One Zone directory buckets have their own): masked in reprs.
_TOKEN_HEADERS = frozenset({"x-amz-security-token", "x-amz-s3session-token"})


class _RequestFields(NamedTuple):
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: Body


# A NamedTuple, as immutable as a frozen dataclass, with the same fields, equality and hash: requests are built
# fresh for every call and copied by every signature, and a tuple is built in one C call where a frozen dataclass
# sets its fields one Python call at a time.
class Request(_RequestFields):
    """An HTTP request as the user built it.

    `url` is either absolute (`https://host/path?query`) or an origin-form
    target (`/path?query`, with the host in a `Host` header). The path and
    query are kept exactly as given: no decoding, no re-encoding.
    """

    __slots__ = ()

    def __new__(
        cls,
        method: str,
        url: str,
        headers: Iterable[tuple[str, str]] | Mapping[str, str] = (),
        body: Body = b"",
    ) -> Request:
        pairs = tuple(headers)
        # A plain loop, inline: almost all pairs are tuples of str already, kept as they are; any other is rebuilt.
        for pair in pairs:
            if pair.__class__ is not tuple:
                break
            try:
                name, value = pair
            except ValueError:  # not a pair: refused below, by name
                break
            if name.__class__ is not str or value.__class__ is not str:
                break
        else:
            return tuple.__new__(cls, (method, url, pairs, body))
        if isinstance(headers, Mapping):  # as requests and httpx take them; iterating one gives only the names
            pairs = tuple(headers.items())
        return tuple.__new__(cls, (method, url, tuple([_header_pair(pair) for pair in pairs]), body))

    @property
    def _parts(self) -> _URLParts:
        """The URL's parts (split once per distinct URL, see `_split_url`)."""
        return _split_url(self[1])

    def _copy(self, url: str | None = None, headers: tuple[tuple[str, str], ...] | None = None,
              body: Body | None = None) -> Request:
        # Internal copies skip re-validating headers that are already tuples of str.
        return request_of((self.method, self.url if url is None else url, self.headers if headers is None else headers,
                           self.body if body is None else body))

    def __repr__(self) -> str:
        # A session token rides in a header or the query; repr is for logs, so it is masked there.
        headers = tuple((n, "****" if n.lower() in _TOKEN_HEADERS else v) for n, v in self.headers)
        url = mask_token_params(self.url)
        # A SigV2 form body carries it as a parameter.
        return (f"Request(method={self.method!r}, url={url!r}, headers={headers!r}, "
                f"body={mask_token_params(repr(self.body))})")

    # -- URL parts -------------------------------------------------------
    @property
    def scheme(self) -> str:
        """Lowercase; empty for an origin-form target."""
        return self._parts.scheme

    @property
    def authority(self) -> str:
        """Empty for an origin-form target."""
        return self._parts.authority

    @property
    def target(self) -> str:
        """The path and query, as given, up to any fragment of an absolute URL."""
        return self._parts.target

    @property
    def path(self) -> str:
        return self._parts.target.partition("?")[0]

    @property
    def query(self) -> str:
        """The raw query string (without `?`); empty when there is none."""
        return self._parts.target.partition("?")[2]

    # -- headers ---------------------------------------------------------
    def header(self, name: str) -> str | None:
        """The first value of header `name` (case-insensitive), or None."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def edit_headers(self, sets: Iterable[tuple[str, str]] = (), drops: Iterable[str] = ()) -> Request:
        """Set and drop headers in one pass (see `edited_headers`)."""
        return self._copy(headers=edited_headers(self.headers, sets, drops))

    def append_headers(self, headers: Iterable[tuple[str, str]]) -> Request:
        """Add headers after the existing ones, as given; a name already present is repeated, not replaced."""
        return self._copy(headers=self.headers + tuple([(str(n), str(v)) for n, v in headers]))

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


def _header_pair(pair: object) -> tuple[str, str]:
    """A header given other than as two str, as two str: a number is its text, bytes (as requests and httpx
    take them) their ISO-8859-1 text, as HTTP sends them; anything else, whose text is not what would be meant
    (None, a bool, a pair of another length), is refused by name."""
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise InvalidHeaderError(f"headers: {pair!r} is not a (name, value) pair")
    return _header_text(pair[0], pair[0]), _header_text(pair[0], pair[1])


def _header_text(name: object, part: object) -> str:
    if isinstance(part, (bytes, bytearray)):
        return part.decode("latin-1")
    if not isinstance(part, (str, int)) or isinstance(part, bool):
        raise InvalidHeaderError(f"header {name!r}: names and values must be str, bytes or int, not "
                                 f"{type(part).__name__}")
    return str(part)


#: A Request of its four fields (method, URL, headers, body), the headers already tuples of str, built in C: the
#: signer's copy of every request it signs.
request_of: Callable[[tuple[str, str, tuple[tuple[str, str], ...], Body]], Request] = partial(tuple.__new__, Request)


def edited_headers(headers: tuple[tuple[str, str], ...], sets: Iterable[tuple[str, str]] = (),
                   drops: Iterable[str] = ()) -> tuple[tuple[str, str], ...]:
    """`headers` with `sets` set and `drops` dropped, in one pass.

    A set header replaces the first occurrence of its name in place (later
    duplicates are dropped) or is appended, in the order given; `drops`
    names are removed. Names compare case-insensitively.
    """
    return edit_headers_at(headers, sets, drops)[0]


def edit_headers_at(headers: tuple[tuple[str, str], ...], sets: Iterable[tuple[str, str]] = (),
                    drops: Iterable[str] = ()) -> tuple[tuple[tuple[str, str], ...], dict[str, int]]:
    """`edited_headers`, and the index where each set header landed (by lowercase name)."""
    # Plain loops: on Python 3.11 a comprehension is a function call of its
    # own, and the signer edits a few headers on every request.
    pending: dict[str, tuple[str, str]] = {}
    for name, value in sets:
        pending[name.lower()] = (name, value)
    drop: set[str] = set()
    for name in drops:
        drop.add(name.lower())
    out: list[tuple[str, str]] = []
    landed: dict[str, int] = {}
    for header in headers:
        key = header[0].lower()
        if key in drop:
            continue
        if key in pending:
            landed[key] = len(out)
            out.append((header[0], pending.pop(key)[1]))
            drop.add(key)
        else:
            out.append(header)
    for key, header in pending.items():
        landed[key] = len(out)
        out.append(header)
    return tuple(out), landed


def iter_body(body: Body, chunk_size: int = 1 << 16) -> Iterator[bytes]:
    """Yield a body's bytes in chunks; streams are read lazily, once. Raises InvalidParameterError for a body
    (or a chunk) that is not bytes: text has no one byte form to sign."""
    if isinstance(body, (bytes, bytearray, memoryview)):
        if body:
            yield bytes(body)
        return
    check_body(body)
    read = getattr(body, "read", None)
    if read is not None:
        while chunk := read(chunk_size):
            yield chunk if chunk.__class__ is bytes else _binary(chunk)
        return
    for chunk in body:
        if chunk:
            yield chunk if isinstance(chunk, bytes) else _binary(chunk)  # bytes kept as they are (a `HashedChunk`)


def check_body(body: object) -> None:
    """InvalidParameterError unless `body` is bytes, a binary file or an iterable (of bytes, checked as read)."""
    if isinstance(body, str) or not (isinstance(body, (bytes, bytearray, memoryview)) or hasattr(body, "read")
                                     or hasattr(body, "__iter__")):
        raise InvalidParameterError(f"body: {type(body).__name__!r} is not bytes, a binary file or an iterable of "
                                    "bytes (encode text first, e.g. text.encode('utf-8'))")


def _binary(chunk: object) -> bytes:
    if isinstance(chunk, (bytes, bytearray, memoryview)):
        return bytes(chunk)
    raise InvalidParameterError(f"body: read a {type(chunk).__name__} chunk, not bytes (a text file or an "
                                "iterable of str: open the file in binary mode, encode the text)")
