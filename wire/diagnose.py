"""Why a signature was refused: recompute ours from the signed request, compare with the server's.

Strategy: no secret is needed for the comparison. The signed request carries
everything our side of it needs (algorithm, credential scope, signed-header
list, request time, payload hash), so `signature_params` reads it back and a
`_View` (the request reduced to what the canonical request is built from,
plus the rule knobs) renders our canonical request and string-to-sign. The
server's side comes from `wire.complaint`. Causes are found by small rule
functions run from a table: each compares one component (method, path,
query, each header, payload hash, date, scope) or reads one fact of the
complaint (time window, expected region...). When the server sent only its
string-to-sign, its fourth line is the SHA-256 of its canonical request, so
we search a table of known alternative rules (and pairs of them) for the
variant of our view whose hash reproduces it. With a secret, the same search
finds the variant the *client* must have signed. Rendering (text and JSON)
redacts session tokens; the secret is only ever an HMAC key here.
"""

from __future__ import annotations

import difflib
import hashlib
import hmac
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote

from sigv4.canonical import (
    CanonicalRequest,
    CanonicalRules,
    canonical_header_value,
    canonical_query,
    canonical_uri,
    normalize_path,
    query_pairs,
    uri_encode,
)
from sigv4.keys import signing_key
from sigv4.payload import EMPTY_SHA256, UNSIGNED_PAYLOAD, payload_hash
from sigv4.types import Credentials, Request
from wire.complaint import ServerComplaint, read_error, split_response
from wire.errors import WireError

__all__ = [
    "Cause", "Diagnosis", "DiagnoseError", "DiffRow", "ServerComplaint", "SignatureCheck", "SignatureParams",
    "diagnose", "line_diff", "read_error", "render_text", "signature_params", "split_response",
]

#: Services whose signer neither normalizes nor double-encodes the path.
S3_SERVICES = frozenset({"s3", "s3-object-lambda", "s3-outposts", "s3express"})


class DiagnoseError(WireError, ValueError):
    """The sent request carries no readable SigV4 signature (the message names the missing part)."""


# -- reading the signature back out of the request --------------------------------


@dataclass(frozen=True, slots=True)
class SignatureParams:
    """What the client declared when it signed: from the Authorization header or a presigned query."""

    algorithm: str
    access_key_id: str
    scope_date: str
    region: str
    service: str
    terminator: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str
    presigned: bool
    expires: int | None

    @property
    def scope(self) -> str:
        return f"{self.scope_date}/{self.region}/{self.service}/{self.terminator}"


def _authorization_fields(value: str) -> tuple[str, dict[str, str]]:
    algorithm, _, rest = value.strip().partition(" ")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, item = part.strip().partition("=")
        if sep:
            fields[key.strip()] = item.strip()
    return algorithm, fields


def _basic_date(http_date: str) -> str | None:
    try:
        return parsedate_to_datetime(http_date).strftime("%Y%m%dT%H%M%SZ")
    except (TypeError, ValueError, IndexError):
        return None


def signature_params(request: Request) -> SignatureParams:
    """Read the SigV4 parameters a signed request carries; raise `DiagnoseError` naming what is missing."""
    authorization = request.header("authorization")
    query = dict(query_pairs(request.query))
    if authorization is not None:
        algorithm, fields = _authorization_fields(authorization)
        where = "Authorization header"
        credential, signed, signature = (fields.get(k) for k in ("Credential", "SignedHeaders", "Signature"))
        amz_date = request.header("x-amz-date") or _basic_date(request.header("date") or "")
        expires = None
    elif "X-Amz-Signature" in query:
        where = "presigned query"
        algorithm = query.get("X-Amz-Algorithm", "")
        credential, signed, signature = (query.get(k) for k in
                                         ("X-Amz-Credential", "X-Amz-SignedHeaders", "X-Amz-Signature"))
        amz_date = query.get("X-Amz-Date")
        expires_text = query.get("X-Amz-Expires", "")
        expires = int(expires_text) if expires_text.isdigit() else None
    else:
        raise DiagnoseError("request: no Authorization header and no X-Amz-Signature query parameter (not signed)")
    for name, value in (("Credential", credential), ("SignedHeaders", signed), ("Signature", signature),
                        ("X-Amz-Date (or Date)", amz_date)):
        if not value:
            raise DiagnoseError(f"{where}: {name} is missing or empty")
    assert credential and signed and signature and amz_date  # narrowed by the loop above
    parts = credential.split("/")
    if len(parts) < 5:
        raise DiagnoseError(f"{where}: Credential {credential!r} must be KEY/date/region/service/aws4_request")
    scope_date, region, service, terminator = parts[-4:]
    return SignatureParams(algorithm, "/".join(parts[:-4]), scope_date, region, service, terminator,
                           signed_headers=tuple(signed.split(";")), signature=signature, amz_date=amz_date,
                           presigned=authorization is None, expires=expires)


# -- our canonical request, and the variants of it ------------------------------------


@dataclass(frozen=True, slots=True)
class _View:
    """The request reduced to what its canonical request is built from, plus the rule knobs."""

    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]  # (lowercase name, value), request order
    signed: tuple[str, ...]
    payload_hash: str
    rules: CanonicalRules
    bare_empty_values: bool = False  # render `?x` as `x` (some clients) instead of SigV4's `x=`
    raw_header_values: bool = False  # sign header values untrimmed (some clients)

    def canonical(self) -> str:
        pairs = query_pairs(self.query, plus_is_space=self.rules.plus_is_space)
        query = canonical_query(pairs)
        if self.bare_empty_values:
            query = "&".join(p.removesuffix("=") for p in query.split("&"))
        values: dict[str, list[str]] = {}
        for name, value in self.headers:
            values.setdefault(name, []).append(value.strip() if self.raw_header_values else canonical_header_value(value))
        headers = tuple((n, ",".join(values.get(n, []))) for n in self.signed)
        return CanonicalRequest(self.method, canonical_uri(self.path, self.rules), query, headers,
                                ";".join(self.signed), self.payload_hash).render()

    def header(self, name: str) -> str | None:
        return next((v for n, v in self.headers if n == name), None)

    def with_header(self, name: str, value: str | None) -> _View:
        """Replace header `name` (None: drop it)."""
        kept = tuple(h for h in self.headers if h[0] != name)
        return replace(self, headers=kept if value is None else ((name, value), *kept))


def _without_signature_param(query: str) -> str:
    return "&".join(p for p in query.split("&") if p and unquote(p.partition("=")[0]) != "X-Amz-Signature")


def _our_payload_hash(request: Request, params: SignatureParams) -> str:
    declared = request.header("x-amz-content-sha256")
    if declared:
        return declared
    if params.presigned and params.service in S3_SERVICES:
        return UNSIGNED_PAYLOAD
    return payload_hash(request.body)


def _view(request: Request, params: SignatureParams) -> _View:
    s3 = params.service in S3_SERVICES
    return _View(
        method=request.method, path=request.path, query=_without_signature_param(request.query),
        headers=tuple((n.lower(), v) for n, v in request.headers), signed=params.signed_headers,
        payload_hash=_our_payload_hash(request, params),
        rules=CanonicalRules(normalize_path=not s3, double_encode=not s3),
    )


def _string_to_sign(params: SignatureParams, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{params.algorithm}\n{params.amz_date}\n{params.scope}\n{digest}"


def _signature(secret: str, params: SignatureParams, string_to_sign: str) -> str:
    key = signing_key(secret, params.scope_date, params.region, params.service)
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def _same_signature(computed: str, sent: str) -> bool:
    """Constant-time. Compared as bytes: a captured signature may hold any text, and
    compare_digest raises on a non-ASCII str."""
    return hmac.compare_digest(computed.encode("utf-8"), sent.encode("utf-8"))


#: A variant: the view as some other rule or some change in transit would make
#: it, and the words for it; None when the rule cannot apply to this request.
Variant = Callable[[_View], tuple[_View, str] | None]


def _toggle_double_encode(v: _View) -> tuple[_View, str]:
    words = ("the path is encoded once (as S3 does), not twice" if v.rules.double_encode
             else "the path is encoded twice (as every service but S3 does), not once")
    return replace(v, rules=v.rules._replace(double_encode=not v.rules.double_encode)), words


def _toggle_normalize(v: _View) -> tuple[_View, str]:
    words = ("the path is left raw (`//`, `.` and `..` segments kept)" if v.rules.normalize_path
             else "the path is normalized (`//`, `.` and `..` segments removed)")
    return replace(v, rules=v.rules._replace(normalize_path=not v.rules.normalize_path)), words


def _toggle_plus(v: _View) -> tuple[_View, str] | None:
    if "+" not in v.query:
        return None
    words = ("a `+` in the query is read as a literal plus (`%2B`), not a space" if v.rules.plus_is_space
             else "a `+` in the query is read as a space (`%20`), not a literal plus (`%2B`)")
    return replace(v, rules=v.rules._replace(plus_is_space=not v.rules.plus_is_space)), words


def _bare_empty_values(v: _View) -> tuple[_View, str] | None:
    if not any(not value for _, value in query_pairs(v.query)):
        return None
    return replace(v, bare_empty_values=True), "a query parameter without a value is signed as `x`, not `x=`"


def _raw_header_values(v: _View) -> tuple[_View, str] | None:
    if all(canonical_header_value(value) == value.strip() for _, value in v.headers):
        return None
    return replace(v, raw_header_values=True), "header values are signed without collapsing inner spaces"


def _path_slash_decoded(v: _View) -> tuple[_View, str] | None:
    if "%2f" not in v.path.lower():
        return None
    return replace(v, path=re.sub("%2[fF]", "/", v.path)), "an encoded slash `%2F` in the path arrives as `/`"


def _path_decoded(v: _View) -> tuple[_View, str] | None:
    if "%" not in v.path:
        return None
    return replace(v, path=unquote(v.path)), "the path arrives percent-decoded (a proxy decoded it)"


def _path_encoded(v: _View) -> tuple[_View, str]:
    return replace(v, path=uri_encode(v.path, keep_slash=True)), "the path arrives encoded once more (`%` became `%25`)"


def _path_plus_space(v: _View) -> tuple[_View, str] | None:
    if "+" in v.path:
        return replace(v, path=v.path.replace("+", "%20")), "a `+` in the path is read as a space (`%20`)"
    if "%20" in v.path:
        return replace(v, path=v.path.replace("%20", "+")), "a space in the path is sent as `+`, not `%20`"
    return None


def _split_port(host: str) -> tuple[str, str]:
    """(host, port) of a Host value; IPv6 literals keep their brackets."""
    if host.startswith("["):
        end = host.find("]")
        rest = host[end + 1:]
        return host[:end + 1], rest[1:] if rest.startswith(":") else ""
    name, sep, port = host.rpartition(":")
    return (name, port) if sep and port.isdigit() and ":" not in name else (host, "")


def _host_port(v: _View) -> tuple[_View, str] | None:
    host = v.header("host")
    if host is None or "host" not in v.signed:
        return None
    name, port = _split_port(host)
    if port:
        return v.with_header("host", name), f"the Host header arrives without its port (`{name}`, not `{host}`)"
    with_port = f"{name}:443"
    return v.with_header("host", with_port), f"the Host header arrives with a port (`{with_port}`, not `{host}`)"


def _host_default_http_port(v: _View) -> tuple[_View, str] | None:
    host = v.header("host")
    if host is None or "host" not in v.signed or _split_port(host)[1]:
        return None
    return v.with_header("host", f"{host}:80"), f"the Host header arrives with port 80 (`{host}:80`)"


def _host_brackets(v: _View) -> tuple[_View, str] | None:
    host = v.header("host")
    if host is None or "host" not in v.signed:
        return None
    name, port = _split_port(host)
    suffix = f":{port}" if port else ""
    if name.startswith("["):
        bare = name[1:-1] + suffix
        return v.with_header("host", bare), f"the IPv6 Host arrives without brackets (`{bare}`)"
    if name.count(":") >= 2:
        bracketed = f"[{host}]"
        return v.with_header("host", bracketed), f"the IPv6 Host arrives with brackets (`{bracketed}`)"
    return None


_CHARSET = re.compile(r"\s*;\s*charset=[^;]*", re.I)


def _content_type_charset(v: _View) -> tuple[_View, str] | None:
    value = v.header("content-type")
    if value is None or "content-type" not in v.signed:
        return None
    if _CHARSET.search(value):
        bare = _CHARSET.sub("", value)
        return v.with_header("content-type", bare), f"content-type arrives without its charset (`{bare}`)"
    full = f"{value}; charset=utf-8"
    return v.with_header("content-type", full), f"content-type arrives with `; charset=utf-8` (`{full}`)"


def _empty_body(v: _View) -> tuple[_View, str] | None:
    if v.payload_hash in (EMPTY_SHA256, UNSIGNED_PAYLOAD) or v.payload_hash.startswith("STREAMING-"):
        return None
    return replace(v, payload_hash=EMPTY_SHA256), "the body arrives empty (payload hash of no bytes)"


def _unsigned_payload(v: _View) -> tuple[_View, str] | None:
    if v.payload_hash == UNSIGNED_PAYLOAD:
        return None
    return replace(v, payload_hash=UNSIGNED_PAYLOAD), "the payload is signed as `UNSIGNED-PAYLOAD`"


def _header_dropped(name: str) -> Variant:
    def variant(v: _View) -> tuple[_View, str] | None:
        if v.header(name) is None:
            return None
        return v.with_header(name, None), f"the signed header `{name}` does not reach the server (dropped in transit)"
    return variant


#: Rules and transit changes tried, in order, against the server's hash.
_FIXED_VARIANTS: tuple[Variant, ...] = (
    _toggle_double_encode, _toggle_normalize, _path_slash_decoded, _path_decoded, _path_encoded, _path_plus_space,
    _toggle_plus, _bare_empty_values, _host_port, _host_default_http_port, _host_brackets, _content_type_charset,
    _raw_header_values, _empty_body, _unsigned_payload,
)


def _variants(view: _View) -> tuple[Variant, ...]:
    droppable = (_header_dropped(n) for n in view.signed if n != "host")
    return (*_FIXED_VARIANTS, *droppable)


@dataclass(frozen=True, slots=True)
class _Match:
    words: tuple[str, ...]
    canonical: str


def _search(view: _View, accept: Callable[[str], bool]) -> _Match | None:
    """The first single variant, else pair, of `view` whose canonical request `accept`s."""
    base = view.canonical()
    variants = _variants(view)
    singles: list[tuple[_View, str]] = []
    for variant in variants:
        made = variant(view)
        if made is None or made[0].canonical() == base:
            continue
        if accept(made[0].canonical()):
            return _Match((made[1],), made[0].canonical())
        singles.append(made)
    for (first, first_words), variant in itertools.product(singles, variants):
        made = variant(first)
        if made is not None and made[1] != first_words and accept(made[0].canonical()):
            return _Match((first_words, made[1]), made[0].canonical())
    return None


def _sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- diffs ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One row of a side-by-side diff: "same", "changed", "ours-only" or "theirs-only"."""

    status: str
    ours: str | None
    theirs: str | None


def line_diff(ours: str, theirs: str) -> tuple[DiffRow, ...]:
    """Align two texts line by line (split on LF only, so a stray CR stays visible)."""
    left, right = ours.split("\n"), theirs.split("\n")
    rows: list[DiffRow] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, left, right, autojunk=False).get_opcodes():
        if op == "equal":
            rows += [DiffRow("same", line, line) for line in left[i1:i2]]
            continue
        pairs = itertools.zip_longest(left[i1:i2], right[j1:j2])
        rows += [DiffRow("changed" if a is not None and b is not None else "ours-only" if b is None else "theirs-only",
                         a, b) for a, b in pairs]
    return tuple(rows)


# -- causes -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cause:
    """One reason, in words. `kind` is a fixed vocabulary word (path, query, header, clock-skew, ...)."""

    kind: str
    message: str
    ours: str | None = None
    theirs: str | None = None


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """With a secret: the signatures our and the server's string-to-sign give, against the one sent."""

    provided: str
    ours: str
    ours_matches: bool
    theirs: str | None
    theirs_matches: bool | None


@dataclass(frozen=True, slots=True)
class _Context:
    sent: Request
    complaint: ServerComplaint | None
    params: SignatureParams | None
    view: _View | None
    ours_canonical: str | None
    ours_sts: str | None
    theirs_canonical: str | None
    theirs_sts: str | None
    secret: str | None
    response_date: datetime | None


def _duration(delta: timedelta) -> str:
    seconds = int(abs(delta.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else "", f"{secs} s" if secs or not seconds else ""]
    return " ".join(p for p in parts if p)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _skew_cause(request_time: datetime, server_time: datetime, window: timedelta | None, source: str) -> Cause:
    skew = request_time - server_time
    direction = "behind" if skew < timedelta(0) else "ahead of"
    allowed = f"; allowed ±{_duration(window)}" if window else ""
    return Cause("clock-skew",
                 f"clock skew: the request time {_iso(request_time)} is {_duration(skew)} {direction} the server's "
                 f"clock {_iso(server_time)} ({source}{allowed}); sign with the current time (sync the clock, NTP)",
                 _iso(request_time), _iso(server_time))


def _parse_amz_date(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def _time_causes(ctx: _Context) -> list[Cause]:
    c = ctx.complaint
    if c is None or c.request_time is None or c.server_time is None:
        return []
    return [_skew_cause(c.request_time, c.server_time, c.allowed_skew, f"server said {c.code or c.kind}")]


def _expired_causes(ctx: _Context) -> list[Cause]:
    c, p = ctx.complaint, ctx.params
    assert c is not None
    signed_at = _parse_amz_date(p.amz_date) if p else None
    expires_at = c.expires_at or (signed_at + timedelta(seconds=p.expires) if signed_at and p and p.expires else None)
    if expires_at is None or c.server_time is None:
        return [Cause("expired", "the presigned request has expired; presign it again with a longer X-Amz-Expires")]
    return [Cause("expired", f"the presigned request expired at {_iso(expires_at)}; the server's clock read "
                             f"{_iso(c.server_time)} ({_duration(c.server_time - expires_at)} later)"
                             + (f"; it was signed at {p.amz_date} for X-Amz-Expires={p.expires}" if p else ""),
                  _iso(expires_at), _iso(c.server_time))]


def _scope_causes(ctx: _Context) -> list[Cause]:
    c, p = ctx.complaint, ctx.params
    assert c is not None
    causes = []
    if c.region_expected or c.region_sent:
        sent = c.region_sent or (p.region if p else "?")
        expected = f"; the endpoint expects `{c.region_expected}`" if c.region_expected else ""
        causes.append(Cause("scope-region", f"region in the credential scope is `{sent}`{expected}: sign for the "
                                            "endpoint's region", sent, c.region_expected))
    if c.service_expected:
        sent = p.service if p else "?"
        causes.append(Cause("scope-service", f"service in the credential scope is `{sent}`; the endpoint expects "
                                             f"`{c.service_expected}`", sent, c.service_expected))
    if c.scope_date_sent or c.scope_date_expected:
        causes.append(Cause("scope-date", f"date in the credential scope `{c.scope_date_sent}` is not the date of the "
                                          f"request time `{c.scope_date_expected}` (X-Amz-Date)",
                            c.scope_date_sent, c.scope_date_expected))
    return causes


def _payload_complaint_causes(ctx: _Context) -> list[Cause]:
    c = ctx.complaint
    assert c is not None
    body = ctx.sent.body if isinstance(ctx.sent.body, bytes) else None
    body_hash = hashlib.sha256(body).hexdigest() if body is not None else None
    if body_hash is not None and body_hash == c.client_sha256:
        hint = "the body we have hashes to the header's value, so the body changed in transit"
    elif body_hash is not None and body_hash == c.server_sha256:
        hint = "the body we have hashes to the server's value, so x-amz-content-sha256 was computed over other bytes"
    else:
        hint = "x-amz-content-sha256 must be the SHA-256 of the exact bytes sent"
    return [Cause("payload-hash", f"body hash: ours (x-amz-content-sha256) {c.client_sha256}, the server's "
                                  f"{c.server_sha256}; {hint}", c.client_sha256, c.server_sha256)]


def _incomplete_causes(ctx: _Context) -> list[Cause]:
    c = ctx.complaint
    assert c is not None
    parts = ", ".join(c.missing) or "a part the server did not name"
    return [Cause("incomplete-signature", f"the signature is incomplete: the server found no {parts}; the "
                                          "Authorization header needs Credential=, SignedHeaders= and Signature=, "
                                          "X-Amz-Date (or Date) must be present, and host must be signed")]


def _token_causes(ctx: _Context) -> list[Cause]:
    c = ctx.complaint
    assert c is not None
    token = ctx.sent.header("x-amz-security-token") or dict(query_pairs(ctx.sent.query)).get("X-Amz-Security-Token")
    key = ctx.params.access_key_id if ctx.params else ""
    if c.kind == "token-expired":
        return [Cause("token", "the session token has expired: fetch fresh temporary credentials")]
    if not token and key.startswith("ASIA"):
        return [Cause("token", f"temporary key {key[:8]}… is used without X-Amz-Security-Token: send its session token")]
    return [Cause("token", "the session token is invalid for this key (wrong token for the key, a long-term AKIA key "
                           "sent with a token, or a token from another partition/region)")]


def _access_key_causes(ctx: _Context) -> list[Cause]:
    key = ctx.params.access_key_id if ctx.params else "(unknown)"
    return [Cause("access-key", f"the access key id {key[:8]}… is not known to this endpoint (wrong key, deleted "
                                "key, or an endpoint in another partition)")]


def _mismatch_causes(ctx: _Context) -> list[Cause]:
    if ctx.theirs_sts is not None or ctx.secret is not None:
        return []
    return [Cause("no-server-strings", "the server sent neither its canonical request nor its string-to-sign, so "
                                       "nothing can be compared without the secret: give it to check the signature")]


#: Complaint kind -> the rule that reads its facts.
_COMPLAINT_RULES: dict[str, Callable[[_Context], list[Cause]]] = {
    "signature-expired": _time_causes,
    "signature-not-yet-current": _time_causes,
    "clock-skew": _time_causes,
    "request-expired": _expired_causes,
    "wrong-region": _scope_causes,
    "wrong-scope": _scope_causes,
    "payload-hash": _payload_complaint_causes,
    "incomplete-signature": _incomplete_causes,
    "token-expired": _token_causes,
    "token-invalid": _token_causes,
    "unknown-access-key": _access_key_causes,
    "signature-mismatch": _mismatch_causes,
}


def _complaint_causes(ctx: _Context) -> list[Cause]:
    rule = _COMPLAINT_RULES.get(ctx.complaint.kind) if ctx.complaint else None
    return rule(ctx) if rule else []


@dataclass(frozen=True, slots=True)
class _Parts:
    """A rendered canonical request cut back into its components."""

    method: str
    uri: str
    query: str
    headers: dict[str, str]
    signed: str
    payload: str


def _parts(canonical: str) -> _Parts | None:
    lines = canonical.split("\n")
    if len(lines) < 6 or lines[-3] != "":
        return None
    headers = dict(line.partition(":")[::2] for line in lines[3:-3])
    return _Parts(lines[0], lines[1], lines[2], headers, lines[-2], lines[-1])


def _path_words(ours: str, theirs: str) -> str:
    #: (transform, words when theirs == transform(ours), words when ours == transform(theirs))
    rules: tuple[tuple[Callable[[str], str], str, str], ...] = (
        (lambda p: uri_encode(p, keep_slash=True),
         "the server's path is ours encoded once more (double encoding on its side, single on ours)",
         "our path is the server's encoded once more (we double-encode, the server encoded once, as for S3)"),
        (lambda p: re.sub("%(25)?2[fF]", "/", p),
         "our encoded slash `%2F` is a plain `/` on the server's side (decoded in transit)",
         "the server's path has an encoded slash `%2F` where ours has `/`"),
        (normalize_path,
         "the server normalized the path (removed `//`, `.` or `..`) and we did not",
         "we normalized the path (removed `//`, `.` or `..`) and the server did not"),
        (lambda p: re.sub("%(25)?2[bB]", "%20", p),
         "`+` vs `%20`: a `+` in our path is a space on the server's side",
         "`+` vs `%20`: the server kept a `+` where ours has a space"),
    )
    for transform, theirs_is_more, ours_is_more in rules:
        if transform(ours) == theirs:
            return theirs_is_more
        if transform(theirs) == ours:
            return ours_is_more
    return "the path differs"


def _query_params(query: str) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for part in query.split("&") if query else ():
        name, _, value = part.partition("=")
        params.setdefault(name, []).append(value)
    return params


def _query_words(ours: list[str] | None, theirs: list[str] | None) -> str:
    if ours is None:
        return "only in the server's canonical query"
    if theirs is None:
        return "only in ours (the server did not see it)"
    if [v.replace("%2B", "%20") for v in ours] == theirs:
        return "`+` vs `%20`: the server read a `+` as a space"
    if [v.replace("%20", "%2B") for v in ours] == theirs:
        return "`+` vs `%20`: the server read a space as a literal `+`"
    return "value differs"


def _header_words(name: str, ours: str | None, theirs: str | None) -> str:
    if ours is None:
        return "only the server signed it"
    if theirs is None:
        return "only we signed it"
    if not theirs and ours:
        return "it arrived empty or not at all (dropped in transit)"
    if _CHARSET.sub("", ours) == _CHARSET.sub("", theirs):
        return "the charset parameter was added or removed in transit"
    if name == "host" and _split_port(ours)[0] == _split_port(theirs)[0]:
        return "the port was added or removed (proxy or HTTP library rewrote Host)"
    if name == "host" and ours.replace("[", "").replace("]", "") == theirs.replace("[", "").replace("]", ""):
        return "IPv6 brackets differ"
    if " ".join(ours.split()) == " ".join(theirs.split()):
        return "whitespace differs"
    return "changed after signing (proxy, HTTP library or a later edit)"


def _canonical_causes(ctx: _Context) -> list[Cause]:
    if ctx.ours_canonical is None or ctx.theirs_canonical is None:
        return []
    ours, theirs = _parts(ctx.ours_canonical), _parts(ctx.theirs_canonical)
    if ours is None or theirs is None:
        return [] if ctx.ours_canonical == ctx.theirs_canonical else \
            [Cause("canonical-request", "the canonical requests differ (see the diff)")]
    causes = []
    if ours.method != theirs.method:
        causes.append(Cause("method", f"method: ours {ours.method}, the server's {theirs.method}", ours.method, theirs.method))
    if ours.uri != theirs.uri:
        causes.append(Cause("path", f"path encoding: {_path_words(ours.uri, theirs.uri)}", ours.uri, theirs.uri))
    our_query, their_query = _query_params(ours.query), _query_params(theirs.query)
    for name in sorted(our_query.keys() | their_query.keys()):
        a, b = our_query.get(name), their_query.get(name)
        if a != b:
            causes.append(Cause("query", f"query parameter `{name}`: {_query_words(a, b)}",
                                "&".join(a) if a is not None else None, "&".join(b) if b is not None else None))
    for name in sorted(ours.headers.keys() | theirs.headers.keys()):
        ours_value, theirs_value = ours.headers.get(name), theirs.headers.get(name)
        if ours_value != theirs_value:
            causes.append(Cause("header", f"header `{name}`: {_header_words(name, ours_value, theirs_value)}",
                                ours_value, theirs_value))
    if ours.signed != theirs.signed:
        causes.append(Cause("signed-headers", "the signed-header lists differ", ours.signed, theirs.signed))
    if ours.payload != theirs.payload:
        causes.append(Cause("payload-hash", f"body hash: ours {ours.payload}, the server's {theirs.payload}"
                                            + ("; the server received an empty body" if theirs.payload == EMPTY_SHA256 else ""),
                            ours.payload, theirs.payload))
    return causes


def _sts_causes(ctx: _Context) -> list[Cause]:
    if ctx.ours_sts is None or ctx.theirs_sts is None:
        return []
    ours, theirs = ctx.ours_sts.split("\n"), ctx.theirs_sts.split("\n")
    if len(ours) != 4 or len(theirs) != 4:
        return [] if ours == theirs else [Cause("string-to-sign", "the strings-to-sign differ (see the diff)")]
    causes = []
    if ours[0] != theirs[0]:
        causes.append(Cause("algorithm", f"algorithm: ours {ours[0]}, the server's {theirs[0]}", ours[0], theirs[0]))
    if ours[1] != theirs[1]:
        causes.append(Cause("request-date", f"request time: ours {ours[1]}, the server's {theirs[1]} (X-Amz-Date "
                                            "changed, or Date and X-Amz-Date disagree)", ours[1], theirs[1]))
    for kind, a, b in zip(("scope-date", "scope-region", "scope-service", "scope-terminator"),
                          ours[2].split("/"), theirs[2].split("/")):
        if a != b:
            causes.append(Cause(kind, f"credential scope {kind.removeprefix('scope-')}: ours `{a}`, the server's `{b}`", a, b))
    return causes


def _missing_header_causes(ctx: _Context) -> list[Cause]:
    if ctx.view is None:
        return []
    present = {n for n, _ in ctx.view.headers}
    return [Cause("missing-signed-header", f"`{name}` is listed in SignedHeaders but the request does not carry it")
            for name in ctx.view.signed if name not in present]


def _response_date_causes(ctx: _Context) -> list[Cause]:
    signed_at = _parse_amz_date(ctx.params.amz_date) if ctx.params else None
    if ctx.response_date is None or signed_at is None:
        return []
    if ctx.complaint and ctx.complaint.server_time is not None:
        return []  # the complaint's own times are more precise than the Date header
    if abs(signed_at - ctx.response_date) < timedelta(minutes=1):
        return []
    return [_skew_cause(signed_at, ctx.response_date, None, "against the response Date header")]


_CAUSE_RULES: tuple[Callable[[_Context], list[Cause]], ...] = (
    _complaint_causes, _canonical_causes, _sts_causes, _missing_header_causes, _response_date_causes,
)


# -- the diagnosis ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """Our side, the server's side, their line diffs and the causes found."""

    complaint: ServerComplaint | None
    params: SignatureParams | None
    ours_canonical_request: str | None
    ours_string_to_sign: str | None
    theirs_canonical_request: str | None
    theirs_string_to_sign: str | None
    #: True when the server's canonical request is our reconstruction (a variant reproduced its hash).
    theirs_reconstructed: bool
    canonical_diff: tuple[DiffRow, ...]
    string_to_sign_diff: tuple[DiffRow, ...]
    causes: tuple[Cause, ...]
    signature_check: SignatureCheck | None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; session tokens are redacted, the secret was never here."""
        redacted: dict[str, Any] = _redact_tree(_as_json(self))
        return redacted


def _as_json(value: Any) -> Any:
    if isinstance(value, (Diagnosis, Cause, DiffRow, SignatureCheck, SignatureParams, ServerComplaint)):
        return {name: _as_json(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, (tuple, list)):
        return [_as_json(v) for v in value]
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


def _secret_causes(ctx: _Context) -> tuple[list[Cause], SignatureCheck | None]:
    """The key's share of the story: what is left when both strings agree, and what a secret proves."""
    p, view = ctx.params, ctx.view
    if p is None or view is None or ctx.ours_sts is None:
        return [], None
    same = ctx.theirs_sts == ctx.ours_sts and ctx.theirs_canonical in (None, ctx.ours_canonical)
    mismatch = ctx.complaint is not None and ctx.complaint.kind == "signature-mismatch"
    causes: list[Cause] = []
    if ctx.secret is None:
        if same and mismatch:
            causes.append(Cause("secret", "the server computed the same canonical request and string-to-sign as we "
                                          "do, so what differs is the key: the secret access key used to sign is not "
                                          f"the one AWS holds for {p.access_key_id[:8]}… (or the client signed "
                                          "something other than what it sent; give the secret to tell which)"))
        return causes, None
    ours_sig = _signature(ctx.secret, p, ctx.ours_sts)
    ours_ok = _same_signature(ours_sig, p.signature)
    theirs_sig = _signature(ctx.secret, p, ctx.theirs_sts) if ctx.theirs_sts else None
    theirs_ok = _same_signature(theirs_sig, p.signature) if theirs_sig else None
    check = SignatureCheck(p.signature, ours_sig, ours_ok, theirs_sig, theirs_ok)
    if ours_ok and mismatch and ctx.theirs_sts is None:
        causes.append(Cause("signature", "with the given secret our signature equals the one sent, but the server "
                                         "sent no string-to-sign to compare: either the request changed in transit "
                                         f"or AWS holds a different secret for {p.access_key_id[:8]}…"))
    elif ours_ok and same and mismatch:
        causes.append(Cause("secret", "with the given secret our signature equals the one sent, and the server "
                                      "computed the same string-to-sign: AWS holds a different secret for "
                                      f"{p.access_key_id[:8]}… (rotated key, wrong profile, or key id and secret "
                                      "from different pairs)"))
    elif ours_ok:
        causes.append(Cause("signature", "with the given secret the signature in the request verifies against our "
                                         "recomputation: the client signed exactly what it sent"))
    else:
        found = _search(view, lambda canonical: _same_signature(
            _signature(ctx.secret or "", p, _string_to_sign(p, canonical)), p.signature))
        if found:
            causes.append(Cause("client-rule", "the client signed a different canonical request than the one the "
                                               "request implies: " + "; and ".join(found.words)))
        else:
            causes.append(Cause("signature", "with the given secret the signature in the request does not verify: "
                                             "the client signed with another secret, or over content that differs "
                                             "from what was captured"))
    return causes, check


def diagnose(sent: Request, complaint: ServerComplaint | None = None, *, secret: Credentials | str | None = None,
             response_date: datetime | None = None) -> Diagnosis:
    """Compare the signed request `sent` with the server's `complaint` and name the causes.

    No secret is needed: our canonical request and string-to-sign are rebuilt
    from `sent` itself. With `secret` (a secret access key or `Credentials`),
    the diagnosis also says whether the signature sent verifies. With
    `complaint` None it explains `sent` alone (signature check, skew against
    `response_date`, missing signed headers). Never prints or returns the secret.
    """
    secret_key = secret.secret_access_key if isinstance(secret, Credentials) else secret
    try:
        params: SignatureParams | None = signature_params(sent)
        unreadable = None
    except DiagnoseError as err:
        params, unreadable = None, Cause("unreadable", f"our side cannot be recomputed: {err}")
    view = _view(sent, params) if params else None
    ours_canonical = view.canonical() if view else None
    ours_sts = _string_to_sign(params, ours_canonical) if params and ours_canonical is not None else None
    theirs_canonical = complaint.canonical_request if complaint else None
    theirs_sts = complaint.string_to_sign if complaint else None
    match: _Match | None = None
    search_causes: list[Cause] = []
    if view and theirs_sts and theirs_canonical is None and ours_sts != theirs_sts:
        their_hash = theirs_sts.split("\n")[-1].strip()
        if ours_sts and ours_sts.split("\n")[-1] != their_hash:
            match = _search(view, lambda canonical: _sha256_hex(canonical) == their_hash)
            search_causes.append(
                Cause("alternative-rule", "the server's canonical-request hash is reproduced when "
                                          + "; and ".join(match.words)) if match else
                Cause("canonical-request", "the server's canonical request differs from ours (its hash "
                                           f"{their_hash[:16]}… is not ours), and no known rule or transit change "
                                           "reproduces it: a header value or the body changed in a way we cannot see"))
            theirs_canonical = match.canonical if match else None
    ctx = _Context(sent, complaint, params, view, ours_canonical, ours_sts, theirs_canonical, theirs_sts,
                   secret_key, response_date)
    causes = [unreadable] if unreadable else []
    causes += search_causes
    for rule in _CAUSE_RULES:
        causes += rule(ctx)
    secret_causes, check = _secret_causes(ctx)
    causes += secret_causes
    return Diagnosis(
        complaint=complaint, params=params, ours_canonical_request=ours_canonical, ours_string_to_sign=ours_sts,
        theirs_canonical_request=theirs_canonical, theirs_string_to_sign=theirs_sts,
        theirs_reconstructed=match is not None,
        canonical_diff=line_diff(ours_canonical, theirs_canonical) if ours_canonical and theirs_canonical else (),
        string_to_sign_diff=line_diff(ours_sts, theirs_sts) if ours_sts and theirs_sts else (),
        causes=tuple(causes), signature_check=check,
    )


# -- rendering ------------------------------------------------------------------------

_TOKEN_LINE = re.compile(r"(?im)^(x-amz-security-token:)(.*)$")
_TOKEN_PARAM = re.compile(r"(?i)(X-Amz-Security-Token=)([^&\s']*)")


def _fingerprint(match: re.Match[str]) -> str:
    value = match.group(2)
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:8]
    return f"{match.group(1)}<redacted {len(value)} chars sha256:{digest}>"


def redact(text: str) -> str:
    """Replace session tokens by a fingerprint (length and hash prefix), so differences stay visible."""
    return _TOKEN_PARAM.sub(_fingerprint, _TOKEN_LINE.sub(_fingerprint, text))


def _redact_tree(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redact_tree(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact_tree(item) for item in value]
    return value


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _visible(line: str | None) -> str:
    """Control bytes as escapes, a tab as `\\t`, trailing spaces as `·`."""
    if line is None:
        return ""
    shown = _CONTROL.sub(lambda m: "\\r" if m.group() == "\r" else f"\\x{ord(m.group()):02x}",
                         redact(line).replace("\t", "\\t"))
    stripped = shown.rstrip(" ")
    return stripped + "·" * (len(shown) - len(stripped))


_MARKS = {"same": " ", "changed": "!", "ours-only": "-", "theirs-only": "+"}


def _first_difference(a: str, b: str) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def render_diff(rows: tuple[DiffRow, ...], left_title: str = "ours", right_title: str = "server's") -> list[str]:
    """Side-by-side lines: `!` changed, `-` only ours, `+` only theirs; `¶` marks each line end."""
    cells = []
    for index, row in enumerate(rows):
        end = "" if index == len(rows) - 1 else "¶"
        cells.append((row, _visible(row.ours) + (end if row.ours is not None else ""),
                      _visible(row.theirs) + (end if row.theirs is not None else "")))
    width = min(max([len(left_title)] + [len(left) for _, left, _ in cells]), 88)
    out = [f"  {left_title:<{width}} | {right_title}"]
    for row, left, right in cells:
        out.append(f"{_MARKS[row.status]} {left:<{width}} | {right}")
        if row.status == "changed":
            at = _first_difference(left, right)
            out.append(f"  {' ' * at + '^':<{width}} | {' ' * at}^")
    return out


def render_text(diagnosis: Diagnosis) -> str:
    """The human report: complaint, side-by-side diffs with visible whitespace, then causes. Tokens redacted."""
    lines: list[str] = []
    c, p = diagnosis.complaint, diagnosis.params
    if c is not None:
        first = redact(c.message.strip().split("\n")[0]) if c.message else ""
        lines.append(f"Server said: {c.status or '-'} {c.code or '(no code)'} [{c.envelope}, {c.kind}] {first}")
    if p is not None:
        how = "presigned URL" if p.presigned else "Authorization header"
        lines.append(f"Signed ({how}): {p.access_key_id[:8]}…/{p.scope}, request time {p.amz_date}, "
                     f"signed headers {';'.join(p.signed_headers)}")
    for title, rows in (("Canonical request", diagnosis.canonical_diff), ("String-to-sign", diagnosis.string_to_sign_diff)):
        if rows:
            note = " (server's side reconstructed from its hash)" if title == "Canonical request" and \
                diagnosis.theirs_reconstructed else ""
            lines += ["", f"{title}{note}:", *render_diff(rows)]
    for title, text, rows in (("canonical request", diagnosis.ours_canonical_request, diagnosis.canonical_diff),
                              ("string-to-sign", diagnosis.ours_string_to_sign, diagnosis.string_to_sign_diff)):
        if text and not rows:
            shown = [_visible(line) for line in text.split("\n")]
            lines += ["", f"Our {title} (the server sent none):", *(f"  {line}¶" for line in shown[:-1]), f"  {shown[-1]}"]
    check = diagnosis.signature_check
    if check is not None:
        lines += ["", f"Signature sent:                          {check.provided}",
                  f"Given secret over our string-to-sign:    {check.ours} "
                  f"({'matches' if check.ours_matches else 'differs'})"]
        if check.theirs is not None:
            lines.append(f"Given secret over server's string-to-sign: {check.theirs} "
                         f"({'matches' if check.theirs_matches else 'differs'})")
    lines += ["", "Causes:" if diagnosis.causes else "Causes: none found (the strings agree)"]
    lines += [f"  {i}. [{cause.kind}] {redact(cause.message)}" for i, cause in enumerate(diagnosis.causes, 1)]
    return "\n".join(lines) + "\n"

