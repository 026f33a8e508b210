"""Verification accepts only what was signed (issue 22, false accepts): each finding through the public API,
the CLI or `sigv4 serve`, then the property over generated mutants (tests/false_accept.py) for v4, v4a,
presigned, v2 and aws-chunked: an accepted mutant has the signed request's `verified_request`.

Oracles: `sigv4.verified` decodes a request as a server does, as bytes (header values, path and SigV2
host apart from the verifier's code; the query by the one reading both share, held lossless by its own
property below); the Account endpoint's stored state for what `serve` acted on.
"""

from __future__ import annotations

import importlib
import random
import socket
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cli
from sigv4 import Credentials, Request, VerificationError, parse_auth, presign, sign, v2, verify
from sigv4.canonical import canonical_query, canonical_query_without, query_bytes, query_component, query_pairs
from sigv4.checksums import checksum_value
from sigv4.chunked_decode import decoder_for
from sigv4.errors import StreamDecodeError
from sigv4.post import ConditionNotMetError, presign_post, starts_with, verify_post
from sigv4.verified import verified_request
from tests import false_accept
from tests import test_diagnose as diag
from tests.serve_fixtures import DEFAULT, Running, serving
from wire.debugger.diagnose import diagnose

T = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
CREDS = Credentials("AKIDEXACT", "exact/secret")
SCOPE = dict(region="us-east-1", service="svc", timestamp=T)


def _reason(request: Request, **options: Any) -> str:
    with pytest.raises(VerificationError) as info:
        verify(request, {CREDS.access_key_id: CREDS}.get, now=T, **options)
    return info.value.reason


def _accepted(request: Request, **options: Any) -> bool:
    try:
        verify(request, {CREDS.access_key_id: CREDS}.get, now=T, **options)
    except VerificationError:
        return False
    return True


# -- 1. two encodings of a query byte ----------------------------------------------------------------

@pytest.mark.parametrize("algorithm", ["v4", "v4a"])
@pytest.mark.parametrize("presigned", [False, True], ids=["header", "presigned"])
@pytest.mark.parametrize("signed_text, resent", [
    ("x=%FF", "x=%FE"),  # two invalid UTF-8 bytes: both read as U+FFFD with errors="replace"
    ("x=%C3", "x=%C4"),  # a truncated sequence
    ("%FF=1", "%FE=1"),  # in a name
    ("x=%FF", "x=\udcfe"),  # the other byte sent raw (a server reads it with surrogateescape)
])
def test_a_query_byte_that_is_not_utf8_verifies_only_as_itself(algorithm: str, presigned: bool, signed_text: str,
                                                               resent: str) -> None:
    signer = presign if presigned else sign
    signed = signer(Request("GET", f"https://svc.example.com/?{signed_text}"), CREDS, algorithm=algorithm,
                    **SCOPE).request  # type: ignore[operator]
    assert _accepted(signed)
    assert _reason(signed.with_url(signed.url.replace(signed_text, resent, 1))) == "signature_mismatch"


byte_pairs = st.lists(st.tuples(st.binary(max_size=6), st.binary(max_size=6)), max_size=4)


def _written(data: bytes, draw: st.DrawFn) -> str:
    """`data` as a query component some client may send: each byte escaped (either case) or, where it may
    stand for itself, raw; a byte that is not ASCII raw is the lone surrogate a server reads it as."""
    out = []
    for byte in data:
        raw = chr(byte) if byte < 0x80 else chr(0xDC00 + byte)
        escaped = f"%{byte:02X}" if draw(st.booleans()) else f"%{byte:02x}"
        out.append(raw if chr(byte) not in "&=+%#" and byte > 0x20 and draw(st.booleans()) else escaped)
    return "".join(out)


@settings(max_examples=100, deadline=None)
@given(byte_pairs, st.data())
def test_the_query_reading_is_lossless_and_its_canonical_form_one_to_one(pairs: list[tuple[bytes, bytes]],
                                                                         data: st.DataObject) -> None:
    """`query_bytes` gives back exactly the bytes a query was written from, however written; two queries
    share a canonical form exactly when their pairs are the same bytes, in any order."""
    def query(items: list[tuple[bytes, bytes]]) -> str:
        return "&".join(f"{_written(n, data.draw)}={_written(v, data.draw)}" for n, v in items)

    text = query(pairs)
    assert query_bytes(text) == pairs
    shuffled = data.draw(st.permutations(pairs))
    assert canonical_query(query_pairs(query(shuffled))) == canonical_query(query_pairs(text))
    flat = bytearray(b"".join(n + v for n, v in pairs))
    if flat:  # one byte of one name or value replaced by another (`%FF` by `%FE` was the bug)
        at = data.draw(st.integers(0, len(flat) - 1))
        flat[at] ^= data.draw(st.integers(1, 255))
        changed, start = [], 0
        for name, value in pairs:
            changed.append((bytes(flat[start:start + len(name)]), bytes(flat[start + len(name):start + len(name) + len(value)])))
            start += len(name) + len(value)
        assert canonical_query(query_pairs(query(changed))) != canonical_query(query_pairs(text))


query_text = st.text(st.sampled_from("%&=+aZ09-_.~/ fF2E3%\u00e9\udcff"), max_size=24)


@settings(max_examples=300, deadline=None)
@given(query_text, st.booleans())
def test_query_pairs_read_as_query_bytes(text: str, plus_is_space: bool) -> None:
    """`query_pairs`' shortcut for ASCII text (only a part holding an escape decoded) reads what `query_bytes`
    reads, part for part: the one reading of a query, which verification canonicalizes; and so does
    `query_component` (S3's SigV2 reads its parameters one by one)."""
    pairs = [(name.decode("utf-8", "surrogateescape"), value.decode("utf-8", "surrogateescape"))
             for name, value in query_bytes(text, plus_is_space=plus_is_space)]
    assert query_pairs(text, plus_is_space=plus_is_space) == pairs
    assert [(query_component(name, plus_is_space=plus_is_space), query_component(value, plus_is_space=plus_is_space))
            for name, _, value in (part.partition("=") for part in text.split("&") if part)] == pairs


# Pieces of queries both in canonical form and not: escapes of reserved and unreserved bytes, in either case.
query_piece = st.sampled_from(["a", "Z", "0", "-", ".", "_", "~", "=", "&", "%2F", "%2f", "%41", "%3D", "%26", "%20",
                               "%E9", "%7E", "%7F", "%5F", "%2D", "%", "%Z", "+", "/", " ", "\u00e9"])


@settings(max_examples=400, deadline=None)
@given(st.lists(query_piece, max_size=12).map("".join), st.booleans(),
       st.sampled_from([frozenset(), frozenset({"a"}), frozenset({"X-Amz-Signature", "a~"})]))
def test_a_query_in_canonical_form_canonicalizes_as_any_other(text: str, plus_is_space: bool,
                                                              dropped: frozenset[str]) -> None:
    """`canonical_query_without`'s shortcut for a query already in canonical form (only sorted) gives what
    decoding and encoding every pair gives: the canonical form stays one to one."""
    pairs = query_pairs(text, plus_is_space=plus_is_space)
    assert canonical_query_without(text, plus_is_space, dropped) == canonical_query(
        [pair for pair in pairs if pair[0] not in dropped])


def test_every_escape_canonicalizes_as_its_byte() -> None:
    """Each `%XY` (hex digits of either case, and not hex) as a name and as a value, against decoding and
    encoding it: the shortcut keeps exactly the escapes that are their own canonical form."""
    digits = "0123456789ABCDEFabcdefGz"
    for escape in (f"%{x}{y}" for x in digits for y in digits):
        for text in (f"a={escape}", f"{escape}=a", f"a{escape}b"):
            assert canonical_query_without(text, False, frozenset()) == canonical_query(query_pairs(text)), text


@pytest.mark.parametrize("claimed", [False, True], ids=["verify", "parse_auth-then-verify"])
@pytest.mark.parametrize("kind", ["presigned", "v2-query", "v2-form"])
def test_the_parameters_are_decoded_once(monkeypatch: pytest.MonkeyPatch, kind: str, claimed: bool) -> None:
    """A request's query (or SigV2 form) is decoded once, whether a server calls verify alone or parse_auth and
    then verify(claimed=...) as `sigv4 serve` and the signature guard do: decoding is most of the work there."""
    verify_module = importlib.import_module("sigv4.verify")
    unique = f"{kind}{claimed}{random.random()}"  # a request no earlier test has had verified
    if kind == "presigned":
        signed = presign(Request("GET", f"https://svc.example.com/{unique}?b=%2F&a=1"), CREDS, **SCOPE).request
    else:
        form = kind == "v2-form"
        url = "https://svc.example.com/" + ("" if form else f"?Action=Go&Id={unique}")
        signed = v2.sign(Request("POST" if form else "GET", url,
                                 [("Content-Type", v2.FORM_CONTENT_TYPE)] if form else [],
                                 f"Action=Go&Id={unique}".encode() if form else b""), CREDS, timestamp=T).request
    read: list[str] = []
    real = verify_module.query_pairs
    monkeypatch.setattr(verify_module, "query_pairs", lambda text, **options: read.append(text) or real(text, **options))
    monkeypatch.setattr(v2, "query_pairs", lambda text, **options: read.append(text) or real(text, **options))
    claim = parse_auth(signed) if claimed else None
    verify(signed, {CREDS.access_key_id: CREDS}.get, now=T, claimed=claim)
    assert len(read) == 1, read


def test_the_same_byte_written_two_ways_still_verifies() -> None:
    """What a server decodes alike may differ on the wire: `%41` is `A`, `%ff` is `%FF`, a raw 0xFF is `%FF`."""
    signed = sign(Request("GET", "https://svc.example.com/?x=A%FF&y=%C3%A9"), CREDS, **SCOPE).request
    for resent in ("x=%41%ff&y=é", "y=%c3%a9&x=A\udcff"):
        assert _accepted(signed.with_url("https://svc.example.com/?" + resent)), resent


def test_cli_verify_refuses_the_other_byte(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = {"AWS_ACCESS_KEY_ID": CREDS.access_key_id, "AWS_SECRET_ACCESS_KEY": CREDS.secret_access_key,
           "HOME": "/nonexistent"}
    raw = tmp_path / "get.req"
    raw.write_bytes(b"GET /?x=%FF HTTP/1.1\r\nHost: svc.example.com\r\n\r\n")
    assert cli.main(["sign", str(raw), "--service", "svc", "--date", "20240506T070809Z"], env) == 0
    signed = capsys.readouterr().out
    (tmp_path / "signed.req").write_text(signed)
    (tmp_path / "resent.req").write_text(signed.replace("x=%FF", "x=%FE"))
    assert cli.main(["verify", str(tmp_path / "signed.req"), "--now", "20240506T070809Z"], env) == 0
    capsys.readouterr()
    assert cli.main(["verify", str(tmp_path / "resent.req"), "--now", "20240506T070809Z"], env) == 1
    assert capsys.readouterr().out.startswith("FAILED (signature_mismatch)")


def test_a_header_value_keeps_its_unicode_spaces() -> None:
    """AWS folds runs of spaces and tabs; U+00A0 and U+2003 are bytes of the value (str.split() folded them)."""
    signed = sign(Request("GET", "https://svc.example.com/", [("X-Note", "a\u00a0b")]), CREDS, **SCOPE).request
    assert _accepted(signed.with_header("X-Note", "a\u00a0b"))
    for resent in ("a b", "a\u2003b", "a\u0085b"):
        assert _reason(signed.with_header("X-Note", resent)) == "signature_mismatch", repr(resent)
    folded = sign(Request("GET", "https://svc.example.com/", [("X-Note", "a  b")]), CREDS, **SCOPE).request
    assert _accepted(folded.with_header("X-Note", " a \t b "))  # AWS's own rule still holds


def test_a_fragment_in_a_target_is_refused() -> None:
    """`/a#x` was canonicalized as `/a`, while a server routes by `/a#x`."""
    signed = sign(Request("GET", "https://svc.example.com/a", [("Host", "svc.example.com")]), CREDS, **SCOPE).request
    received = Request("GET", "/a", signed.headers)
    assert _accepted(received)
    assert _reason(Request("GET", "/a#x", signed.headers)) == "malformed_request"


def test_two_host_headers_are_refused() -> None:
    signed = sign(Request("GET", "https://svc.example.com/"), CREDS, **SCOPE).request
    assert _reason(signed.append_headers([("Host", "other.example.com")])) == "malformed_request"


@pytest.mark.parametrize("where, text", [
    ("X-Amz-Date", "\u0662\u0660\u0662\u0664" "0506T070809Z"),  # Arabic-Indic digits: int() reads them
    ("Credential", "AKIDEXACT/20240506/us\udcfeeast-1/svc/aws4_request"),  # a byte that is not UTF-8
])
def test_scope_and_dates_are_ascii(where: str, text: str) -> None:
    """Unicode digits parsed as the same date; a non-ASCII scope ended in UnicodeEncodeError."""
    signed = presign(Request("GET", "https://svc.example.com/"), CREDS, **SCOPE).request
    field = "X-Amz-Credential" if where == "Credential" else "X-Amz-Date"
    old = dict(query_bytes(signed.query))[field.encode()].decode()
    resent = signed.with_url(signed.url.replace(f"{field}={old.replace('/', '%2F')}", f"{field}={text}"))
    assert _reason(resent) == "malformed_auth"


def test_an_unsigned_checksum_header_is_trimmed_of_spaces_and_tabs_only() -> None:
    body = b"checked body"
    crc = checksum_value("crc32", body)
    signed = sign(Request("PUT", "https://svc.example.com/k", [("x-amz-checksum-crc32", crc)], body), CREDS,
                  unsigned_headers=["x-amz-checksum-crc32"], **SCOPE).request
    assert _accepted(signed.with_header("x-amz-checksum-crc32", f" {crc}\t"))
    assert _reason(signed.with_header("x-amz-checksum-crc32", f"\u00a0{crc}")) == "checksum"


# -- 2. SigV2 --------------------------------------------------------------------------------------

def _v2_signed(method: str = "GET") -> Request:
    request = Request(method, "https://svc.example.com/?Action=Run&Name=Ana%2BBob", [("Host", "svc.example.com")])
    return v2.sign(request, CREDS, timestamp=T).request


def test_sigv2_signs_the_method_as_sent() -> None:
    signed = _v2_signed()
    assert _accepted(signed)
    assert _reason(Request("get", signed.url, signed.headers)) == "signature_mismatch"
    lower = _v2_signed("get")
    assert _accepted(lower) and _reason(Request("GET", lower.url, lower.headers)) == "signature_mismatch"


@pytest.mark.parametrize("hosts", [["svc.example.com", "evil.example.com"], ["evil.example.com", "svc.example.com"],
                                   ["svc.example.com", "svc.example.com"]])
def test_sigv2_refuses_two_host_headers(hosts: list[str]) -> None:
    signed = _v2_signed()
    resent = Request("GET", signed.url, [("Host", host) for host in hosts])
    assert _reason(resent) == "malformed_request"


def test_sigv2_refuses_a_host_whose_lowercase_is_ascii() -> None:
    """`\\u212a` (KELVIN SIGN) lowercases to `k`: `svc.example.\\u212am` would verify for `svc.example.km`."""
    signed = v2.sign(Request("GET", "https://svc.example.km/?Action=Run"), CREDS, timestamp=T).request
    assert _accepted(signed.with_header("Host", "svc.example.km"))
    assert _reason(signed.with_header("Host", "svc.example.\u212am")) == "malformed_request"


# -- 2. the endpoint acts on what it verified --------------------------------------------------------

def _send(running: Running, request: Request) -> tuple[int, bytes]:
    """Send `request` (origin-form target, its Host header) over a socket; (status, body)."""
    head = f"{request.method} {request.target} HTTP/1.1\r\n" + "".join(
        f"{n}: {v}\r\n" for n, v in request.headers) + f"Content-Length: {len(request.body)}\r\nConnection: close\r\n\r\n"  # type: ignore[arg-type]
    with socket.create_connection((running.server.host, running.server.port), timeout=10) as sock:
        sock.sendall(head.encode("utf-8", "surrogateescape") + request.body)  # type: ignore[operator]
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def _query_call(running: Running, query: str, signer: str, resend: tuple[str, str] | None = None) -> tuple[int, bytes]:
    creds = Credentials(DEFAULT["access_key_id"], DEFAULT["secret_access_key"])
    host = f"{running.server.host}:{running.server.port}"
    request = Request("GET", f"http://{host}/?{query}", [("Host", host)])
    now = datetime.now(timezone.utc)
    if signer == "v2":
        signed = v2.sign(request, creds, timestamp=now).request
    else:
        signed = sign(request, creds, region="us-east-1", service="account", timestamp=now).request
    target = signed.target if resend is None else signed.target.replace(*resend)
    return _send(running, Request("GET", target, signed.headers))


def _account_name(running: Running, signer: str) -> bytes:
    status, body = _query_call(running, "Action=GetAccountInformation&Version=2021-02-01", signer)
    assert status == 200, body
    return body.partition(b"<AccountName>")[2].partition(b"</AccountName>")[0]


@pytest.mark.parametrize("signer", ["v4", "v2"])
def test_serve_stores_the_plus_that_was_verified(tmp_path: Path, signer: str) -> None:
    """Signed `AccountName=Ana%2BBob`, resent as `Ana+Bob`: both are a plus to the verifier, so the endpoint
    stores `Ana+Bob` (parse_qsl read a space and stored `Ana Bob`)."""
    put = "Action=PutAccountName&Version=2021-02-01&AccountName=Ana%2BBob"
    with serving(tmp_path) as running:
        status, body = _query_call(running, put, signer, resend=("Ana%2BBob", "Ana+Bob"))
        assert status == 200, body
        assert _account_name(running, signer) == b"Ana+Bob"


@pytest.mark.parametrize("query, message", [
    ("Action=PutAccountName&Version=2021-02-01&AccountName=%FF", b"is not UTF-8"),
    ("Action=PutAccountName&Version=2021-02-01&AccountName=a&AccountName=b", b"given more than once"),
    ("Action=GetAccountInformation&Action=PutAccountName&Version=2021-02-01&AccountName=x", b"given more than once"),
])
def test_serve_refuses_a_form_it_could_read_two_ways(tmp_path: Path, query: str, message: bytes) -> None:
    """A byte that is not UTF-8 (once a U+FFFD for any such byte); a repeated name (the signature covers the pairs
    sorted, and the router took the first Action while the decoder took the last)."""
    with serving(tmp_path) as running:
        status, body = _query_call(running, query, "v4")
        assert status == 400 and b"MalformedQueryString" in body and message in body, body


def test_serve_refuses_a_header_it_acts_on_given_twice(tmp_path: Path) -> None:
    """Two Content-Type headers, both signed: SigV4 covers them joined (`application/json,text/plain`), the
    endpoint read the first and applied the call."""
    creds = Credentials(DEFAULT["access_key_id"], DEFAULT["secret_access_key"])
    with serving(tmp_path) as running:
        host = f"{running.server.host}:{running.server.port}"
        body = b'{"AccountName": "Twice"}'
        request = Request("POST", f"http://{host}/putAccountName", [
            ("Host", host), ("Content-Type", "application/json"), ("Content-Type", "text/plain")], body)
        signed = sign(request, creds, region="us-east-1", service="account", timestamp=datetime.now(timezone.utc))
        status, answer = _send(running, signed.request)
        assert status == 400 and b"content-type header is given more than once" in answer, answer
        assert _account_name(running, "v4") != b"Twice"


# -- chunked and POST forms ----------------------------------------------------------------------------

def test_a_chunked_trailer_is_read_byte_for_byte() -> None:
    """A trailer value padded with U+00A0 was trimmed (str.strip()), one holding a byte that is not UTF-8 read
    as U+FFFD: either verified as the value signed."""
    data = b"d" * 9000
    request = Request("PUT", "https://b.s3.amazonaws.com/k", [("x-amz-decoded-content-length", str(len(data)))], data)
    result = sign(request, CREDS, region="us-east-1", service="s3", timestamp=T, s3=True, chunk_size=8192,
                  payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", trailer_checksum="crc32")
    wire = b"".join(result.request.body)  # type: ignore[arg-type]
    headers = result.request.with_body(b"")
    identity = verify(headers, {CREDS.access_key_id: CREDS}.get, now=T)
    decoder = decoder_for(identity, headers)
    decoder.feed(wire)
    decoder.close()
    for changed in (b"x-amz-checksum-crc32:\xc2\xa0", b"x-amz-checksum-crc32:\xff"):
        decoder = decoder_for(identity, headers)
        with pytest.raises(StreamDecodeError):
            decoder.feed(wire.replace(b"x-amz-checksum-crc32:", changed))
            decoder.close()


def test_a_post_content_type_item_is_trimmed_of_spaces_and_tabs_only() -> None:
    post = presign_post(CREDS, bucket="b", key="k", region="us-east-1", timestamp=T,
                        conditions=[starts_with("Content-Type", "image/")], fields={"Content-Type": "image/png"})
    form = dict(post.fields)
    assert verify_post({**form, "Content-Type": "image/png, \timage/gif"}, {CREDS.access_key_id: CREDS}.get, now=T,
                       bucket="b")
    with pytest.raises(ConditionNotMetError):
        verify_post({**form, "Content-Type": "\u00a0image/png"}, {CREDS.access_key_id: CREDS}.get, now=T, bucket="b")


def test_the_debugger_hashes_a_query_byte_that_is_not_utf8() -> None:
    """The lossless query reading gives `%FF` as a lone surrogate: the mistake search hashes it as the byte
    (it raised UnicodeEncodeError once U+FFFD was gone)."""
    request = diag.sts_request(url=diag.STS_URL + "?Filter=%FF")
    server = diag.signed(request.with_url(diag.STS_URL + "?Filter=%FE"))
    assert diagnose(diag.signed(request).request, diag.server_says("rest-json-sts-only.http", server)).causes


def test_a_post_field_name_is_lowercased_in_ascii_only() -> None:
    """`\u212aey`.lower() is `key`: the form verified with a field a server does not read as `key`."""
    post = presign_post(CREDS, bucket="b", key="k", region="us-east-1", timestamp=T)
    form = dict(post.fields)
    key = form.pop("key")
    assert verify_post({**form, "KEY": key}, {CREDS.access_key_id: CREDS}.get, now=T, bucket="b")
    with pytest.raises(ConditionNotMetError):
        verify_post({**form, "\u212aey": "k"}, {CREDS.access_key_id: CREDS}.get, now=T, bucket="b")


# -- 3. the property ----------------------------------------------------------------------------------

@pytest.mark.parametrize("variant", false_accept.VARIANTS)
def test_an_accepted_mutant_is_the_signed_request(variant: str) -> None:
    """1,500 mutants per variant (the long run: benchmarks/fuzz_false_accept.py): no accept of a changed
    request, no exception but the documented ones; the generator both breaks and keeps signatures."""
    counts = false_accept.run(variant, 1500, seed=22)
    assert counts["false_accept"] == 0 and counts["error"] == 0, counts
    assert counts["rejected"] > 500, counts
    assert variant == "chunked" or counts["accepted_same"] > 100, counts


def test_verified_request_reads_a_query_as_a_server_does() -> None:
    signed = sign(Request("GET", "https://svc.example.com/a/./b?y=%2b&x=a+b&x=%FF&z", [("X-B", " c \t d ")]),
                  CREDS, **SCOPE).request
    identity = verify(signed, {CREDS.access_key_id: CREDS}.get, now=T + timedelta(seconds=1))
    view = verified_request(signed, identity)
    assert view.path == b"/a/b"
    assert view.query == ((b"x", b"a+b"), (b"x", b"\xff"), (b"y", b"+"), (b"z", b""))
    assert dict(view.headers)["x-b"] == b"c d" and view.body == b""


# -- 6. the per-shape plan reads a request as the general path does ------------------------------------------
# `verify` keeps what it works out from a request's shape (all but the X-Amz-Date value, the signature and the
# body); `claimed=parse_auth(...)` takes the general path. Both must give the same Identity or the same refusal.

def _outcome(request: Request, lookup: Any, general: bool, **options: Any) -> tuple[object, ...]:
    try:
        claimed = parse_auth(request, plus_is_space=options.get("plus_is_space", False)) if general else None
        identity = verify(request, lookup, claimed=claimed, **options)
    except VerificationError as err:
        auth = None if err.auth is None else vars(err.auth)
        return ("refused", err.reason, str(err), auth, err.canonical_request, err.string_to_sign)
    return ("verified", vars(identity))


def _same_both_ways(request: Request, lookup: Any = None, **options: Any) -> tuple[object, ...]:
    """("verified",) or ("refused", reason), the same both ways."""
    lookup = lookup or false_accept.KEYS.get
    options.setdefault("now", false_accept.NOW)
    planned = _outcome(request, lookup, False, **options)
    assert planned == _outcome(request, lookup, True, **options)
    return planned[:2] if planned[0] == "refused" else planned[:1]


@pytest.mark.parametrize("creds", [false_accept.CREDS, false_accept.TEMP], ids=["long-term", "temporary"])
def test_planned_matches_general_over_dates_signatures_and_options(creds: Credentials) -> None:
    base = Request("POST", "https://svc.example.com/a/b?x=1&y=%20", [("Content-Type", "text/plain"),
                   ("X-Custom", "v")], b"body")
    outcomes = set()
    for seconds in (0, 1, 59, 3600, 86400):  # one shape: the date and signature change, and the day's scope
        when = false_accept.T + timedelta(seconds=seconds)
        signed = sign(base, creds, region="us-east-1", service="svc", timestamp=when).request
        headers = list(signed.headers)
        at = next(i for i, (n, _) in enumerate(headers) if n == "Authorization")
        date_at = next(i for i, (n, _) in enumerate(headers) if n == "X-Amz-Date")
        tampered = headers[at][1][:-1] + ("0" if headers[at][1][-1] != "0" else "1")
        variants = [
            signed,
            Request(signed.method, signed.url, [*headers[:at], (headers[at][0], tampered), *headers[at + 1:]],
                    signed.body),
            Request(signed.method, signed.url, [*headers[:at], (headers[at][0], headers[at][1] + ", X=1"),
                                                *headers[at + 1:]], signed.body),
            Request(signed.method, signed.url, headers, b"other body"),
            Request(signed.method, signed.url, [*headers[:date_at], ("X-Amz-Date", "20241301T000000Z"),
                                                *headers[date_at + 1:]], signed.body),
        ]
        for request in variants:
            for options in ({}, {"now": when}, {"now": when, "expected_service": "other"},
                            {"now": when, "allowed_regions": {"eu-west-1"}}, {"now": when, "s3": True},
                            {"now": when, "max_skew": timedelta(0)}):
                outcomes.add(_same_both_ways(request, **options))
            outcomes.add(_same_both_ways(request, {}.get, now=when))
            outcomes.add(_same_both_ways(request, {creds.access_key_id: false_accept.CREDS
                                                   if creds is false_accept.TEMP else false_accept.TEMP}.get,
                                         now=when))
    # Every kind of outcome was met: each check ran on the planned path.
    assert {o[1] for o in outcomes if o[0] == "refused"} >= {"signature_mismatch", "malformed_auth", "skew", "scope",
                                                             "unknown_key", "payload_hash"}
    assert ("verified",) in outcomes


def test_planned_matches_general_over_mutants() -> None:
    rng = random.Random("planned")
    for variant in ("v4", "presigned", "s3v2"):
        for _ in range(60):
            case = false_accept.signed_case(rng, variant)
            _same_both_ways(case.request, **case.options)
            for _ in range(6):
                _same_both_ways(false_accept.mutate(rng, case.request), **case.options)
