"""The space of known signer mistakes and transit changes, and the search for the one that explains a signature.

Strategy: a `View` is a request reduced to what its canonical request is built
from, plus the knobs signers disagree on (path encoding and normalization, how
a `+` reads, how the query is encoded and ordered, header whitespace). Each
entry of `VARIANTS` is a small generator: given a view, it yields the views a
known mistake would have made of it (the Host port dropped, the query left in
sent order, the body re-serialized...), each with a `Mistake` that says, in
direction-free words, what the variant holds and what the request holds.
`search` renders every single variant, then every pair, and stops at the first
whose canonical request a predicate accepts. The predicate is the proof: the
SHA-256 of the server's canonical request (from its string-to-sign), or, with
the secret, the signature the client sent. Nothing here knows about servers,
secrets or envelopes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Literal
from urllib.parse import unquote

from sigv4.canonical import (
    CanonicalRequest,
    CanonicalRules,
    canonical_header_value,
    canonical_query,
    canonical_uri,
    query_pairs,
    uri_encode,
)
from sigv4.payload import EMPTY_SHA256, UNSIGNED_PAYLOAD

__all__ = ["CHARSET", "Match", "Mistake", "SEARCH_BUDGET", "VARIANTS", "View", "search", "split_port"]

#: How the canonical query is built: SigV4's rule, or one of the ways signers get it wrong.
QueryForm = Literal["canonical", "sent-order", "wire", "double", "decoded", "bare-empty", "no-empty", "name-sorted"]


@dataclass(frozen=True, slots=True)
class View:
    """The request reduced to what its canonical request is built from, plus the rule knobs."""

    method: str
    path: str
    query: str  # raw, as on the wire, without X-Amz-Signature
    headers: tuple[tuple[str, str], ...]  # (lowercase name, value), request order
    signed: tuple[str, ...]
    payload_hash: str
    rules: CanonicalRules
    #: The body bytes when the capture shows them (for re-serialization variants).
    body: bytes | None = None
    query_form: QueryForm = "canonical"
    raw_header_values: bool = False  # header values signed without collapsing inner spaces
    verbatim_path: bool = False  # the path signed as is, not URI-encoded

    def canonical(self) -> str:
        """The canonical request this view renders to."""
        uri = self.path if self.verbatim_path else canonical_uri(self.path, self.rules)
        return CanonicalRequest(self.method, uri, self._query(), self._headers(), ";".join(self.signed),
                                self.payload_hash).render()

    def _query(self) -> str:
        return _QUERY_FORMS[self.query_form](self.query, self.rules.plus_is_space)

    def _headers(self) -> tuple[tuple[str, str], ...]:
        values: dict[str, list[str]] = {}
        for name, value in self.headers:
            values.setdefault(name, []).append(value.strip() if self.raw_header_values else canonical_header_value(value))
        return tuple((n, ",".join(values.get(n, []))) for n in self.signed)

    def header(self, name: str) -> str | None:
        """The first value of header `name` (lowercase), None when absent."""
        return next((v for n, v in self.headers if n == name), None)

    def with_header(self, name: str, value: str | None) -> View:
        """Replace header `name` (None: drop it)."""
        kept = tuple(h for h in self.headers if h[0] != name)
        return replace(self, headers=kept if value is None else ((name, value), *kept))


def _wire_pairs(query: str) -> list[tuple[str, str]]:
    return [(n, v) for n, _, v in (p.partition("=") for p in query.split("&") if p)]


def _joined(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{n}={v}" for n, v in pairs)


def _encoded(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(uri_encode(n, keep_slash=False), uri_encode(v, keep_slash=False)) for n, v in pairs]


#: Query form -> renderer of (raw query, plus_is_space).
_QUERY_FORMS: dict[str, Callable[[str, bool], str]] = {
    "canonical": lambda q, plus: canonical_query(query_pairs(q, plus_is_space=plus)),
    # curl 7.88 `--aws-sigv4` and many hand-rolled signers: encoded, but in the order sent.
    "sent-order": lambda q, plus: _joined(_encoded(query_pairs(q, plus_is_space=plus))),
    # botocore for a URL that already has a query: the text as sent, sorted, never re-encoded.
    "wire": lambda q, plus: _joined(sorted(_wire_pairs(q))),
    # the text as sent taken for decoded values and encoded again (`%2F` -> `%252F`).
    "double": lambda q, plus: canonical_query(_wire_pairs(q)),
    # decoded and never encoded again (`a/b c`).
    "decoded": lambda q, plus: _joined(sorted(query_pairs(q, plus_is_space=plus))),
    # `?acl` signed as `acl`, not `acl=`.
    "bare-empty": lambda q, plus: "&".join(p.removesuffix("=") for p in
                                           canonical_query(query_pairs(q, plus_is_space=plus)).split("&")),
    # Python's `parse_qs`/`parse_qsl` without keep_blank_values: `x=` and `x` are dropped.
    "no-empty": lambda q, plus: canonical_query([(n, v) for n, v in query_pairs(q, plus_is_space=plus) if v]),
    # sorted by name alone (a stable sort, or a dict of lists): repeated keys keep their values in sent order.
    "name-sorted": lambda q, plus: _joined(sorted(_encoded(query_pairs(q, plus_is_space=plus)), key=lambda p: p[0])),
}


@dataclass(frozen=True, slots=True)
class Mistake:
    """One known mistake, in words that read in either direction.

    `variant` describes what the variant view holds and `actual` what the
    request holds; `origin` says who usually makes this mistake.
    """

    kind: str
    variant: str
    actual: str
    origin: str

    def as_signed(self) -> str:
        """Words for a variant that reproduces the client's signature."""
        return f"the client signed {self.variant}, but the request carries {self.actual} ({self.origin})"

    def as_received(self) -> str:
        """Words for a variant that reproduces the server's canonical request."""
        # The capture is the request as sent, so what the server canonicalized otherwise was changed on the way
        # or read its own way there: a signer's habit cannot be why (it would show in the signature, not here).
        origin = _IN_TRANSIT if self.origin.startswith("a signer ") else self.origin
        return f"the server canonicalized {self.variant}, where the request as sent has {self.actual} ({origin})"


_IN_TRANSIT = ("changed between the client and the server: a proxy, load balancer or middleware rewrote it, "
               "or the server reads it its own way")


Made = tuple[View, Mistake]
Variant = Callable[[View], Iterator[Made]]


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


# -- path ------------------------------------------------------------------------------


#: (rule, kind, (variant, actual, origin) when the request's service has the rule on, ... when off);
#: `{ours}`/`{theirs}` are the canonical URIs under the service's rule and the flipped one.
_PATH_RULES: tuple[tuple[str, str, tuple[str, str, str], tuple[str, str, str]], ...] = (
    ("double_encode", "path-encoding",
     ("the path encoded once (`{theirs}`, S3's rule)", "a path this service encodes twice (`{ours}`)",
      "a signer using S3's rule for another service"),
     ("the path encoded twice (`{theirs}`)", "an S3 path, which is encoded once (`{ours}`)",
      "a signer using the generic rule for S3")),
    ("normalize_path", "path-normalization",
     ("the path as sent (`{theirs}`)", "`//`, `.` or `..` segments this service removes (`{ours}`)",
      "a signer that does not normalize the path"),
     ("the path normalized (`{theirs}`)", "an S3 key whose `//`, `.` or `..` segments are kept (`{ours}`)",
      "a signer or HTTP library that normalizes S3 keys")),
)


def _path_rules(v: View) -> Iterator[Made]:
    for rule, kind, when_on, when_off in _PATH_RULES:
        on = bool(v.rules._asdict()[rule])
        flipped = replace(v, rules=v.rules._replace(**{rule: not on}))
        ours, theirs = canonical_uri(v.path, v.rules), canonical_uri(v.path, flipped.rules)
        if ours != theirs:
            variant, actual, origin = when_on if on else when_off
            shown = {"ours": _short(ours), "theirs": _short(theirs)}
            yield flipped, Mistake(kind, variant.format(**shown), actual.format(**shown), origin)


def _trailing_slash(v: View) -> Iterator[Made]:
    if v.path in ("", "/"):
        return
    other = v.path[:-1] if v.path.endswith("/") else v.path + "/"
    had = "with" if v.path.endswith("/") else "without"
    yield replace(v, path=other), Mistake(
        "trailing-slash", f"the path `{_short(other)}`", f"`{_short(v.path)}` ({had} the trailing slash)",
        "a trailing slash added or dropped between signing and sending")


def _path_rewrites(v: View) -> Iterator[Made]:
    path = v.path
    if "%2f" in path.lower():
        yield replace(v, path=re.sub("%2[fF]", "/", path)), Mistake(
            "path-encoding", "a plain `/` for `%2F`", f"`{_short(path)}`",
            "an encoded slash decoded in transit, or encoded after signing")
    if "%" in path and unquote(path) != path:
        yield replace(v, path=unquote(path)), Mistake(
            "path-encoding", f"the path decoded (`{_short(unquote(path))}`)", f"`{_short(path)}`",
            "a path decoded by a proxy, or encoded by the HTTP library after signing")
    if "%" in path and unquote(path) != path:
        yield replace(v, path=unquote(path), verbatim_path=True), Mistake(
            "path-encoding", f"the path not URI-encoded at all (`{_short(unquote(path))}`)", f"`{_short(path)}`",
            "a signer that does not encode the path: `:` in a Lambda qualifier or a Bedrock model id, `=` in a "
            "Hive-style S3 key")
    if "//" in path:
        collapsed = re.sub("/{2,}", "/", path)
        yield replace(v, path=collapsed), Mistake(
            "path-normalization", f"the path with `//` collapsed (`{_short(collapsed)}`)", f"`{_short(path)}`",
            "an HTTP library or proxy that merges slashes")
    # The other way: the client signed a `//` that was collapsed on the way (requests 2.32 strips a leading one).
    for at in [i for i, c in enumerate(path) if c == "/"][:16]:
        doubled = path[:at] + "/" + path[at:]
        yield replace(v, path=doubled), Mistake(
            "path-normalization", f"the path `{_short(doubled)}`", f"`{_short(path)}` (a `//` collapsed in transit)",
            "an HTTP library that collapses `//` (requests 2.32 strips a leading one), or a proxy that merges slashes")
    encoded = uri_encode(path, keep_slash=True)
    if encoded != path:
        yield replace(v, path=encoded), Mistake(
            "path-encoding", f"the path encoded once more (`{_short(encoded)}`)", f"`{_short(path)}`",
            "a path encoded before signing and again when sent, or decoded in transit")
    if "+" in path:
        yield replace(v, path=path.replace("+", "%20")), Mistake(
            "path-encoding", "a space (`%20`) where the path has `+`", f"`{_short(path)}`",
            "a `+` in the path read as a space")
    elif "%20" in path:
        yield replace(v, path=path.replace("%20", "+")), Mistake(
            "path-encoding", "`+` where the path has a space (`%20`)", f"`{_short(path)}`",
            "a space in the path encoded as `+` by a form encoder")


# -- query -------------------------------------------------------------------------------


def _plus(v: View) -> Iterator[Made]:
    if "+" not in v.query:
        return
    if v.rules.plus_is_space:
        yield replace(v, rules=v.rules._replace(plus_is_space=False)), Mistake(
            "plus-space", "each `+` in the query as a literal plus (`%2B`)", "`+` read as a space",
            "the signer and the server read `+` differently")
    else:
        yield replace(v, rules=v.rules._replace(plus_is_space=True)), Mistake(
            "plus-space", "each `+` in the query as a space (`%20`)", "`+`, which SigV4 reads as a literal plus (`%2B`)",
            "form-style decoding of the query")


def _query_forms(v: View) -> Iterator[Made]:
    if not v.query or v.query_form != "canonical":
        return
    base = v._query()
    plus = "+" in v.query
    forms: tuple[tuple[QueryForm, str, str, str, str], ...] = (
        ("sent-order", "query-order", "the query parameters in the order sent",
         "parameters that sort differently", "a signer that does not sort the query, as curl 7.88 `--aws-sigv4`"),
        ("wire", "plus-space" if plus else "query-encoding",
         "the query text as sent, sorted but not re-encoded" + (" (`+` kept as `+`)" if plus else ""),
         "values SigV4 encodes as `%XX`" + (" (`+` as `%2B`)" if plus else ""),
         "botocore's reading of a URL that already has a query"),
        ("double", "query-encoding", "the query values encoded twice (`%` as `%25`)", "values encoded once",
         "already-encoded values encoded again"),
        ("decoded", "query-encoding", "the query values decoded and not encoded",
         "values with reserved characters SigV4 encodes", "a signer that does not encode query values"),
        ("bare-empty", "query-empty-value", "a parameter without a value as `x`", "`x=`, as SigV4 renders it",
         "a signer that drops the `=` of empty values"),
        ("no-empty", "query-empty-value", "the query without its parameters that have no value",
         "parameters with empty values", "Python's `parse_qs`/`parse_qsl`, which drop blank values by default"),
        ("name-sorted", "query-order", "repeated parameters sorted by name only (their values in the order sent)",
         "repeated parameters, which SigV4 sorts by value too", "a signer that sorts by name alone"),
    )
    for form, kind, variant, actual, origin in forms:
        made = replace(v, query_form=form)
        if made._query() != base:
            yield made, Mistake(kind, variant, actual, origin)


def _appended(v: View) -> Iterator[Made]:
    """One parameter left out: added to the URL after signing (a cache buster, a tracking id, pagination)."""
    pairs = _wire_pairs(v.query)
    if len(pairs) < 2:
        return
    for name in list(dict.fromkeys(n for n, _ in pairs if not n.startswith("X-Amz-")))[:8]:
        kept = _joined([(n, val) for n, val in pairs if n != name])
        yield replace(v, query=kept), Mistake(
            "query-encoding", f"the query without `{_short(unquote(name), 30)}`",
            f"`{_short(unquote(name), 30)}` in the query", "a parameter appended to the URL after signing")


# -- headers -------------------------------------------------------------------------------

CHARSET = re.compile(r"\s*;\s*charset=[^;]*", re.I)


def split_port(host: str) -> tuple[str, str]:
    """(host, port) of a Host value; IPv6 literals keep their brackets."""
    if host.startswith("["):
        end = host.find("]")
        rest = host[end + 1:]
        return host[:end + 1], rest[1:] if rest.startswith(":") else ""
    name, sep, port = host.rpartition(":")
    return (name, port) if sep and port.isdigit() and ":" not in name else (host, "")


def _host(v: View) -> Iterator[Made]:
    host = v.header("host")
    if host is None or "host" not in v.signed:
        return
    name, port = split_port(host)
    origin = ("the port added or dropped between signing and the server (hand-rolled signers drop it, proxies "
              "rewrite Host)")
    if name.startswith("["):
        bare = name[1:-1] + (f":{port}" if port else "")
        yield v.with_header("host", bare), Mistake("host-port", f"`host:{bare}` (IPv6 without brackets)",
                                                   f"`Host: {host}`", origin)
    if port:
        yield v.with_header("host", name), Mistake("host-port", f"`host:{name}` (no port)", f"`Host: {host}`", origin)
        return
    for default in ("443", "80"):
        yield v.with_header("host", f"{host}:{default}"), Mistake(
            "host-port", f"`host:{host}:{default}`", f"`Host: {host}` (no port)", origin)
    if name.count(":") >= 2 and not name.startswith("["):
        yield v.with_header("host", f"[{host}]"), Mistake("host-port", f"`host:[{host}]`", f"`Host: {host}`", origin)


#: Names of the local machine that local endpoints (moto, LocalStack, MinIO) are reached by: a URL presigned under
#: one and fetched under another (a container's endpoint, then the host's) no longer matches its signature.
_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]", "localhost.localstack.cloud")


def _loopback_name(v: View) -> Iterator[Made]:
    host = v.header("host")
    if host is None or "host" not in v.signed:
        return
    name, port = split_port(host)
    if name.lower() not in _LOOPBACK_NAMES:
        return
    for other in _LOOPBACK_NAMES:
        if other != name.lower():
            signed = other + (f":{port}" if port else "")
            yield v.with_header("host", signed), Mistake(
                "header-changed", f"`host:{signed}`", f"`Host: {host}`",
                "the same machine under another name: a URL made for one endpoint name and sent to another")


def _charset(v: View) -> Iterator[Made]:
    value = v.header("content-type")
    if value is None or "content-type" not in v.signed:
        return
    if CHARSET.search(value):
        bare = CHARSET.sub("", value)
        yield v.with_header("content-type", bare), Mistake(
            "header-changed", f"`content-type:{bare}` (no charset)", f"`Content-Type: {value}`",
            "a proxy or HTTP library adds or drops the charset after signing")
    else:
        for charset in ("utf-8", "UTF-8"):  # botocore and requests write it in lower case, browsers in upper
            full = f"{value}; charset={charset}"
            yield v.with_header("content-type", full), Mistake(
                "header-changed", f"`content-type:{full}`", f"`Content-Type: {value}` (no charset)",
                "a proxy or HTTP library adds or drops the charset after signing")


def _content_type_case(v: View) -> Iterator[Made]:
    value = v.header("content-type")
    if value is None or "content-type" not in v.signed:
        return
    for other in dict.fromkeys((value.lower(), re.sub(r"(?i)charset=utf-8", "charset=UTF-8", value),
                                re.sub(r"(?i)charset=utf-8", "charset=utf-8", value))):
        if other != value:
            yield v.with_header("content-type", other), Mistake(
                "header-changed", f"`content-type:{other}`", f"`Content-Type: {value}`",
                "a proxy or HTTP library rewrites the Content-Type's case after signing")


#: What HTTP libraries and proxies put in Accept-Encoding.
_ACCEPT_ENCODINGS = ("identity", "gzip", "gzip, deflate", "gzip, deflate, br", "gzip, deflate, br, zstd", "br")


def _accept_encoding(v: View) -> Iterator[Made]:
    value = v.header("accept-encoding")
    if value is None or "accept-encoding" not in v.signed:
        return
    for other in _ACCEPT_ENCODINGS:
        if other != value:
            yield v.with_header("accept-encoding", other), Mistake(
                "header-changed", f"`accept-encoding:{other}`", f"`Accept-Encoding: {value}`",
                "Accept-Encoding rewritten in transit (a proxy, a CDN, the HTTP library)")


def _whitespace(v: View) -> Iterator[Made]:
    if any(canonical_header_value(value) != value.strip() for _, value in v.headers):
        yield replace(v, raw_header_values=True), Mistake(
            "header-changed", "header values with their inner runs of spaces kept",
            "values whose spaces SigV4 collapses to one", "a signer that does not trim header values")


def _dropped(v: View) -> Iterator[Made]:
    for name in v.signed:
        if name != "host" and v.header(name) is not None:
            yield v.with_header(name, None), Mistake(
                "header-dropped", f"no `{name}` header", f"the signed header `{name}`",
                "removed in transit by a proxy or load balancer")


# -- body and method -------------------------------------------------------------------------

_JSON_FORMS = ((",", ":"), (", ", ": "))


def _reserialized(body: bytes) -> Iterator[tuple[bytes, str]]:
    text = body.decode("utf-8", errors="strict")
    if text.lstrip().startswith(("{", "[")):
        data = json.loads(text)
        for separators in _JSON_FORMS:
            for sort_keys in (False, True):
                yield json.dumps(data, separators=separators, sort_keys=sort_keys).encode(), \
                    "the same JSON serialized differently"
        for indent in (2, 4):
            yield json.dumps(data, indent=indent).encode(), "the same JSON serialized differently"
    elif "=" in text and "\n" not in text:
        yield text.replace("+", "%20").encode(), "the form body with `%20` where it now has `+`"
        yield text.replace("%20", "+").encode(), "the form body with `+` where it now has `%20`"
        yield "&".join(sorted(text.split("&"))).encode(), "the form body with its fields in another order"
    yield body.rstrip(b"\r\n"), "the body without its trailing newline"
    yield body + b"\n", "the body with a trailing newline"


def _payload(v: View) -> Iterator[Made]:
    if v.payload_hash.startswith("STREAMING-"):
        return
    if v.payload_hash != EMPTY_SHA256:
        yield replace(v, payload_hash=EMPTY_SHA256), Mistake(
            "payload-hash", "the hash of an empty body", f"a body (payload hash `{v.payload_hash[:16]}…`)",
            "a body set or changed after signing, or dropped in transit")
    if v.payload_hash != UNSIGNED_PAYLOAD:
        yield replace(v, payload_hash=UNSIGNED_PAYLOAD), Mistake(
            "payload-hash", "`UNSIGNED-PAYLOAD`", "a hashed payload", "the payload signed unsigned (S3 style)")
    if not v.body:
        return
    try:
        candidates = list(_reserialized(v.body))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return
    seen = {v.payload_hash}
    for body, words in candidates:
        digest = hashlib.sha256(body).hexdigest()
        if digest not in seen:
            seen.add(digest)
            yield replace(v, payload_hash=digest), Mistake(
                "payload-hash", f"{words} (hash `{digest[:16]}…`)", f"a body hashing to `{v.payload_hash[:16]}…`",
                "the body re-serialized or re-encoded between signing and the server")


_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH")


def _method(v: View) -> Iterator[Made]:
    for method in _METHODS:
        if method != v.method:
            yield replace(v, method=method), Mistake("method", f"the method {method}", f"{v.method}",
                                                     "a method changed after signing (redirect, HTTP library)")


#: Mistake families, most common first: on a tie (two variants giving the same
#: canonical request) the earlier one is named.
VARIANTS: tuple[Variant, ...] = (
    _query_forms, _plus, _host, _loopback_name, _charset, _content_type_case, _accept_encoding, _trailing_slash, _path_rules,
    _path_rewrites, _appended, _payload, _whitespace, _dropped, _method,
)


@dataclass(frozen=True, slots=True)
class Match:
    """The mistakes (one or two) whose variant `search` accepted, and its canonical request."""

    mistakes: tuple[Mistake, ...]
    canonical: str


def _candidates(view: View, pairs: bool) -> Iterator[tuple[tuple[Mistake, ...], View]]:
    """Every single variant of `view`, family by family, then (when `pairs`) every pair of variants from two
    families, the earlier family first."""
    singles: list[tuple[int, View, Mistake]] = []
    for index, family in enumerate(VARIANTS):
        for made, mistake in family(view):
            yield (mistake,), made
            singles.append((index, made, mistake))
    for index, first, first_mistake in singles if pairs else ():
        for family in VARIANTS[index + 1:]:
            for made, mistake in family(first):
                yield (first_mistake, mistake), made


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


#: How many characters of canonical requests one search renders at most: thousands of variants of an
#: ordinary request, a few hundred of one with a 30 KB query, so time stays bounded whatever the size.
SEARCH_BUDGET = 1 << 24


def search(view: View, accept: Callable[[str], bool], *, pairs: bool = True,
           budget: int = SEARCH_BUDGET) -> Match | None:
    """The first single variant of `view`, else the first pair from two families, whose canonical request
    `accept` takes; None when none does, or when `budget` characters of canonical requests were rendered
    without a match. Each distinct canonical request is tried once."""
    # Digests, not the texts: memory stays a constant per variant tried, whatever the request's size.
    seen = {_digest(view.canonical())}
    for mistakes, made in _candidates(view, pairs):
        text = made.canonical()
        budget -= len(text)
        if budget < 0:
            return None
        if (key := _digest(text)) in seen:
            continue
        seen.add(key)
        if accept(text):
            return Match(mistakes, text)
    return None
