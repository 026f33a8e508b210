"""Canonicalization: the request as AWS sees it when it computes a signature.

Strategy: every rule of the SigV4 canonical request is a small pure function
over text, and `CanonicalRequest` is a plain value whose `render()` is the
exact string that gets hashed. The rules that vary between services (S3 or
not, path normalization, double encoding, how a `+` in a query reads) are
fields of `CanonicalRules`, never hidden state.

Spec: https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache, partial
from typing import NamedTuple
from urllib.parse import quote, unquote_to_bytes

from .errors import InvalidHeaderError, InvalidParameterError, SigningError
from .redact import mask_token_params

#: Signing names whose requests AWS canonicalizes with S3's rules (no path
#: normalization, single URI encoding, `x-amz-content-sha256`).
S3_SERVICES = frozenset({"s3", "s3express", "s3-object-lambda", "s3-outposts"})

#: Headers never signed by default: the signature itself, headers that proxies
#: and HTTP libraries add or rewrite in transit, and hop-by-hop headers.
DEFAULT_UNSIGNED_HEADERS = frozenset({
    "authorization", "user-agent", "x-amzn-trace-id", "expect",
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
    "te", "trailer", "transfer-encoding", "upgrade",
})

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
# Control bytes other than horizontal tab are never valid in a field value.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


# A NamedTuple: it keys the canonical URI cache on every signature, and a
# tuple hashes in C where a frozen dataclass runs a generated __hash__.
class CanonicalRules(NamedTuple):
    """How a request is canonicalized: the knobs AWS services differ on."""

    normalize_path: bool = True
    double_encode: bool = True
    #: Read a raw `+` in the query as a space (HTML form style) instead of a literal plus.
    plus_is_space: bool = False


class _CanonicalParts(NamedTuple):
    method: str
    uri: str
    query: str
    headers: tuple[tuple[str, str], ...]  # lowercase name, canonical value; sorted
    signed_headers: str
    payload_hash: str
    #: The canonical request's text, what `render()` returns and what gets hashed: the parts above, rendered.
    text: str


# A NamedTuple: one is built per signature, and a tuple is built in C where a frozen dataclass sets its seven
# fields one Python call at a time. The signer builds it with the text it already has (`with_text`).
class CanonicalRequest(_CanonicalParts):
    """The six parts of a canonical request, and its text; `render()` is what gets hashed."""

    __slots__ = ()

    def __new__(cls, method: str, uri: str, query: str, headers: tuple[tuple[str, str], ...], signed_headers: str,
                payload_hash: str) -> CanonicalRequest:
        text = render_canonical(method, uri, query, map(":".join, headers), signed_headers, payload_hash)
        return tuple.__new__(cls, (method, uri, query, headers, signed_headers, payload_hash, text))

    def __repr__(self) -> str:
        # The session token is a signed header or query parameter; reprs end up in logs, so mask it.
        headers = tuple((n, "****" if n == "x-amz-security-token" else v) for n, v in self.headers)
        return (f"CanonicalRequest(method={self.method!r}, uri={self.uri!r}, query={mask_token_params(self.query)!r}, "
                f"headers={headers!r}, signed_headers={self.signed_headers!r}, payload_hash={self.payload_hash!r})")

    def render(self) -> str:
        return self.text

    def __getnewargs__(self) -> tuple[str, str, str, tuple[tuple[str, str], ...], str, str]:
        # pickle and copy rebuild through __new__, which takes the six parts and renders the text itself
        return self.method, self.uri, self.query, self.headers, self.signed_headers, self.payload_hash


#: A CanonicalRequest of its seven fields, `text` given (it must be what the other six render to), built in C.
with_text: Callable[[tuple[str, str, str, tuple[tuple[str, str], ...], str, str, str]], CanonicalRequest] = partial(
    tuple.__new__, CanonicalRequest)


def render_canonical(method: str, uri: str, query: str, header_lines: Iterable[str], signed_headers: str,
                     payload_hash: str) -> str:
    """The canonical request text of these parts (`CanonicalRequest.render`); `header_lines` are `name:value`."""
    # One join: the empty line ends the header block.
    return "\n".join((method, uri, query, *header_lines, "", signed_headers, payload_hash))


_UNRESERVED = {False: re.compile(r"[A-Za-z0-9\-._~]*\Z"), True: re.compile(r"[A-Za-z0-9\-._~/]*\Z")}


def uri_encode(text: str, *, keep_slash: bool) -> str:
    """RFC 3986 encoding as SigV4 wants it: only unreserved characters (and `/`
    when asked) stay as they are; everything else becomes `%XX` of its UTF-8."""
    return text if _UNRESERVED[keep_slash].match(text) else _quote(text, keep_slash)


@lru_cache(maxsize=4096)
def _quote(text: str, keep_slash: bool) -> str:
    # A lone surrogate \udc80-\udcff stands for a byte that is not UTF-8 (a server reads the wire that way,
    # `surrogateescape`, and so does `query_pairs`): it encodes back to that byte.
    return quote(wire_bytes(text, "URI component"), safe="/~" if keep_slash else "~")


def wire_bytes(text: str, where: str, error: type[SigningError] = InvalidParameterError) -> bytes:
    """The bytes `text` stands for: UTF-8, a lone surrogate \udc80-\udcff being the byte it escapes (how a
    server reads bytes that are not UTF-8: `surrogateescape`).

    Raises `error` (naming `where`) for any other lone surrogate: no byte string reads as it.
    """
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as err:
        raise error(f"{where} {text[:80]!r}: lone surrogate U+{ord(text[err.start]):04X} at offset {err.start} "
                    "is not text and stands for no byte") from None


def normalize_path(path: str) -> str:
    """Remove `.`/`..` segments and empty segments (RFC 3986 5.2.4 plus `//`).

    A trailing slash survives unless the last segment was `.` or `..`
    (`/a/b/..` -> `/a`), as AWS's C signer and botocore do.
    """
    if not path:
        return "/"
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment and segment != ".":
            kept.append(segment)
    lead = "/" if path.startswith("/") else ""
    trail = "/" if path.endswith("/") and kept else ""
    return (lead + "/".join(kept) + trail) or "/"


def _encode_keeping_escapes(path: str) -> str:
    """Encode a path once: existing `%XX` escapes are kept as they are."""
    out: list[str] = []
    last = 0
    for match in _ESCAPE.finditer(path):
        out.append(uri_encode(path[last:match.start()], keep_slash=True))
        out.append(match.group(0))
        last = match.end()
    out.append(uri_encode(path[last:], keep_slash=True))
    return "".join(out)


# Services see the same few paths, queries and header names over and over, so
# their canonical forms are cached (bounded); only header values vary freely.
@lru_cache(maxsize=1024)
def canonical_uri(path: str, rules: CanonicalRules) -> str:
    """The canonical URI for a raw request path (as sent on the wire)."""
    if rules.normalize_path:
        path = normalize_path(path)
    elif not path:
        path = "/"
    if rules.double_encode:
        # The path on the wire is already percent-encoded once; encoding it
        # again (`%` included) is the "double encoding" AWS documents.
        return uri_encode(path, keep_slash=True)
    return _encode_keeping_escapes(path)


def query_bytes(query: str, *, plus_is_space: bool = False) -> list[tuple[bytes, bytes]]:
    """The (name, value) pairs of a raw query or form as the bytes they stand for, order and repeats kept.

    `&`-separated parts, empty ones dropped (`?x` and `?x=` both give `(b"x", b"")`), split at the first `=`;
    each `%XX` becomes its byte (an invalid escape such as `%ZZ` stays as written), `+` a space only when
    `plus_is_space`. `query` is text as a server reads the wire: a byte that is not UTF-8 is a lone
    surrogate (`surrogateescape`, see `wire_bytes`). Nothing is lost (errors="replace" once read every
    invalid byte as U+FFFD, so `%FF` verified as `%FE`). This is the one reading of a query: verification
    canonicalizes it (`query_pairs`) and a server acts on it (`wire.http.decode_query`, `sigv4.verified`).
    Raises InvalidParameterError for a lone surrogate other than \udc80-\udcff.
    """
    raw = wire_bytes(query, "query")
    if plus_is_space:
        raw = raw.replace(b"+", b" ")
    pairs = []
    for part in raw.split(b"&"):
        if part:
            name, _, value = part.partition(b"=")
            pairs.append((unquote_to_bytes(name), unquote_to_bytes(value)))
    return pairs


def query_pairs(query: str, *, plus_is_space: bool = False) -> list[tuple[str, str]]:
    """`query_bytes` as text: each name and value read as UTF-8, a byte that is not UTF-8 kept as a lone
    surrogate, so that pairs are equal exactly when their bytes are (and so are their canonical forms,
    `canonical_query`). Raises InvalidParameterError as `query_bytes` does.
    """
    if not query.isascii():
        return [(name.decode("utf-8", "surrogateescape"), value.decode("utf-8", "surrogateescape"))
                for name, value in query_bytes(query, plus_is_space=plus_is_space)]
    # ASCII text is its own bytes and reads as itself: only a part holding an escape is decoded (as `query_bytes`
    # does), at a tenth of the cost of reading every part as bytes (the bulk of a presigned URL's verification).
    if plus_is_space:
        query = query.replace("+", " ")
    return [(_unescaped(name) if "%" in name else name, _unescaped(value) if "%" in value else value)
            for name, _, value in [part.partition("=") for part in query.split("&") if part]]


def _unescaped(text: str) -> str:
    """ASCII `text` with its `%XX` escapes decoded (`query_pairs`)."""
    return unquote_to_bytes(text).decode("utf-8", "surrogateescape")


def query_component(raw: str, *, plus_is_space: bool = False) -> str:
    """One raw name or value of a query, read as `query_pairs` reads it. Raises InvalidParameterError as it does."""
    if not raw.isascii():
        data = wire_bytes(raw, "query")
        return unquote_to_bytes(data.replace(b"+", b" ") if plus_is_space else data).decode("utf-8", "surrogateescape")
    if plus_is_space:
        raw = raw.replace("+", " ")
    return _unescaped(raw) if "%" in raw else raw


@lru_cache(maxsize=1024)
def canonical_query_string(query: str, plus_is_space: bool = False) -> str:
    """The canonical query of a raw query string (see `query_pairs`, `canonical_query`)."""
    return canonical_query_without(query, plus_is_space, frozenset())


# What a query already in canonical form holds: unreserved characters, `%XX` escapes, the separators.
_QUERY_CHARS = re.compile(r"[A-Za-z0-9\-._~%&=]*\Z")
# An escape that is not canonical: not two uppercase hex digits, or of an unreserved byte (`%41` is written `A`).
_OTHER_ESCAPE = re.compile(r"%(?:(?![0-9A-F]{2})|2[DE]|3[0-9]|[46][1-9A-F]|[57][0-9A]|5F|7E)")


def canonical_query_without(query: str, plus_is_space: bool, dropped: frozenset[str]) -> str:
    """The canonical query of a raw query string without the parameters named in `dropped` (names that encode
    as themselves, such as `X-Amz-Signature`). Raises InvalidParameterError as `query_pairs` does."""
    parts = [part.partition("=") for part in query.split("&") if part]
    if (_QUERY_CHARS.match(query) and _OTHER_ESCAPE.search(query) is None
            and not any("=" in value for _, _, value in parts)):
        # Every name and value is already the encoding of what it decodes to (as SDKs send a presigned URL), and a
        # name equals a dropped one exactly when it decodes to it: only the order is left to make. (A part
        # without `=` sorts as `name=`, which it renders as.)
        return "&".join([f"{name}={value}" for name, _, value in sorted(parts) if name not in dropped])
    return canonical_query(pair for pair in query_pairs(query, plus_is_space=plus_is_space) if pair[0] not in dropped)


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    """Encode each name and value, sort by encoded name then value, join."""
    encoded = sorted((uri_encode(n, keep_slash=False), uri_encode(v, keep_slash=False)) for n, v in pairs)
    return "&".join(f"{n}={v}" for n, v in encoded)


@lru_cache(maxsize=1024)
def _header_key(name: str) -> str:
    """The lowercase form of a header name; InvalidHeaderError unless it is an HTTP token.

    Cached: a service sends the same few names on every request.
    """
    if _TOKEN.match(name) is None:
        raise InvalidHeaderError(f"header name {name!r}: must be an HTTP token (letters, digits and !#$%&'*+-.^_`|~)")
    return name.lower()


def check_method(method: str) -> None:
    """InvalidParameterError unless `method` is an HTTP token (RFC 9110 9.1), as every method on the wire is."""
    if _TOKEN.match(method) is None:
        raise InvalidParameterError(f"method {method!r}: must be an HTTP token (letters, digits and !#$%&'*+-.^_`|~)")


def _control_byte_error(name: str, bad: re.Match[str]) -> InvalidHeaderError:
    return InvalidHeaderError(
        f"header {name!r}: value has control byte 0x{ord(bad.group()):02x} at offset {bad.start()} "
        "(CR, LF and other control bytes are not allowed)"
    )


def check_header(name: str, value: str) -> None:
    """Raise InvalidHeaderError unless `name` is an HTTP token and `value` has no control bytes."""
    _header_key(name)
    bad = _CONTROL.search(value)
    if bad:
        raise _control_byte_error(name, bad)


def check_one_host(lower_names: list[str]) -> None:
    """Raise InvalidHeaderError when Host is among a request's header names (`lower_names`, lowercase) more than
    once: which one a server routes by would be a guess, so RFC 9112 3.2 has it refused (400), and no verifier
    accepts what was signed over both."""
    if lower_names.count("host") > 1:
        raise InvalidHeaderError("Host: the header is sent more than once")


def canonical_header_value(value: str) -> str:
    """Trim, and collapse inner runs of spaces and tabs to one space (AWS's rule, over ASCII whitespace only).

    str.split() alone would also fold Unicode spaces (U+00A0, U+2003, U+0085...), which are bytes of the
    value on the wire: `a\u00a0b` would verify as `a b`.
    """
    if value.isascii():  # ASCII whitespace other than space and tab is a control byte, refused before this
        return " ".join(value.split())
    return " ".join([word for word in value.replace("\t", " ").split(" ") if word])


# Services send the same few headers (content type, target, host, the date
# within one second) on request after request: each (name, value) is checked
# and canonicalized once. Only successes are cached; a bad header raises every time.
@lru_cache(maxsize=1024)
def canonical_header(name: str, value: str) -> tuple[str, str]:
    """(lowercase name, canonical value) of one header, checked as by `check_header`."""
    key = _header_key(name)
    bad = _CONTROL.search(value)
    if bad:
        raise _control_byte_error(name, bad)
    if not value.isascii():
        wire_bytes(value, f"header {name!r}: value", InvalidHeaderError)
    return key, canonical_header_value(value)


def canonical_headers(
    headers: Sequence[tuple[str, str]], unsigned: frozenset[str]
) -> tuple[tuple[tuple[str, str], ...], str]:
    """Return (sorted canonical header pairs, signed-headers string).

    Every header is checked as by `check_header` (unsigned ones too).
    Repeated headers are joined with `,` in their original order.
    """
    merged: dict[str, str] = {}
    for name, value in headers:
        key, value = canonical_header(name, value)
        if key not in unsigned:
            merged[key] = f"{merged[key]},{value}" if key in merged else value
    # Names are unique keys, so sorting the pairs sorts by name alone.
    pairs = tuple(sorted(merged.items()))
    return pairs, ";".join([name for name, _ in pairs])
