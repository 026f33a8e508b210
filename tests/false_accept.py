"""The false-accept property, as a seeded generator shared by tests/test_verify_exact.py and
benchmarks/fuzz_false_accept.py: sign a generated request, mutate it as it could arrive at a server, and
check that `verify` accepts a mutant only if `verified_request` (what a server acts on) is the signed one's.

Requests are generated as a server receives them (an origin-form target, a Host header, the target and
header values read from bytes with `surrogateescape`, so `\\udcff` is the raw byte 0xFF) and hold what
tempts a lossy reader: `%FF`/`%FE`, `+`/`%2B`/`%20`, invalid escapes, escape case, non-ASCII text, U+00A0,
tabs, repeated names, `.` and `..` segments. Variants: v4 and v4a header-signed, v4/v4a presigned, v2
(GET query or POST form), S3's SigV2 (header-signed or presigned, path-style or virtual-hosted, sub-resources
among other parameters, unsigned headers beside the signed ones) and aws-chunked bodies (every signed
framing, checked by the chunk decoder).
"""

from __future__ import annotations

import base64
import hashlib
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sigv4 import Credentials, Identity, Request, VerificationError, presign, s3v2, sign, v2, verify
from sigv4.chunked_decode import ChunkData, Trailer, decoder_for
from sigv4.errors import SigningError, StreamDecodeError
from sigv4.verified import VerifiedRequest, verified_request

VARIANTS = ("v4", "v4a", "presigned", "v2", "s3v2", "chunked")
T = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
NOW = T + timedelta(minutes=1)
CREDS = Credentials("AKIDEXACT", "exact/secret+key")
TEMP = Credentials("ASIAEXACT", "exact/temp", "token+/=value")
KEYS = {c.access_key_id: c for c in (CREDS, TEMP)}
HOST = "svc.example.com"

#: Pieces of generated names, values and paths: each tempts some lossy reading.
PIECES = ["a", "b", "Z", "0", "~", "-", ".", "_", "%41", "%61", "%FF", "%FE", "%ff", "%C3%A9", "%c3%a9", "é", "\udcff",
          "\udcfe", "+", "%2B", "%2b", "%20", " ", "%25", "%ZZ", "%", "%2", "\u00a0", "%3D", "%26", "%2F", "/"]
PATH_PIECES = ["a", "b", "%41", "A", "%FF", "%FE", "é", "%C3%A9", "\udcff", "+", "%2B", ".", "..", "%2F", "~", "%7E"]
VALUE_PIECES = ["v", "w", "  ", " ", "\t", "\u00a0", "é", "\udcff", ",", "%FF", "+"]
#: What a byte-level edit writes: single characters of every kind a wire reader treats specially.
EDITS = ["a", "A", "%", "+", " ", "&", "=", "/", ".", "#", "?", "F", "f", "E", "2", "B", "\u00a0", "\udcff", "\udcfe",
         "é", "\t", ",", ";", "%2B", "%20", "%FF", "%FE", "&&", "//", "/./", "/../"]


@dataclass(frozen=True)
class Case:
    """A signed request as a server receives it, and how `verify` must be called on it."""

    variant: str
    request: Request
    options: dict[str, object]


def _text(rng: random.Random, pieces: list[str], most: int) -> str:
    return "".join(rng.choice(pieces) for _ in range(rng.randint(1, most)))


def _received(signed: Request) -> Request:
    """`signed` as a server builds it: an origin-form target and the Host header a client sends."""
    headers = signed.headers if signed.header("host") else (("Host", signed.authority), *signed.headers)
    return Request(signed.method, signed.target, headers, signed.body)


def signed_case(rng: random.Random, variant: str) -> Case:
    """A generated request signed by `variant` (not "chunked": see `chunked_case`)."""
    creds = rng.choice([CREDS, TEMP])
    path = "/" + "/".join(_text(rng, PATH_PIECES, 3) for _ in range(rng.randint(0, 3)))
    pairs = [(_text(rng, PIECES, 3), _text(rng, PIECES, 4)) for _ in range(rng.randint(0, 4))]
    query = "&".join(f"{n}={v}" if rng.random() < 0.9 else n for n, v in pairs)
    headers = [(f"X-Custom-{i}", _text(rng, VALUE_PIECES, 4).strip(" \t") or "v") for i in range(rng.randint(0, 3))]
    if headers and rng.random() < 0.3:
        headers.append((headers[0][0].lower(), "again"))  # a repeated header: its values join with ","
    body = rng.randbytes(rng.randint(0, 24))
    if variant == "v2":
        form = rng.random() < 0.5
        method = "POST" if form else rng.choice(["GET", "DELETE"])
        if form:
            headers.append(("Content-Type", v2.FORM_CONTENT_TYPE))
            # A form body is UTF-8 text (SigV2 refuses any other): a raw byte that is not is sent as its escape.
            text = (query or "Action=Run").replace("\udcff", "%FF").replace("\udcfe", "%FE")
            body, query = text.encode("utf-8"), ""
        request = Request(method, f"https://{HOST}{path}" + (f"?{query}" if query else ""), headers, body)
        signed = v2.sign(request, creds, timestamp=T, signature_method=rng.choice(["HmacSHA256", "HmacSHA1"])).request
        return Case(variant, _received(signed), {})
    if variant == "s3v2":
        return _s3v2_case(rng, creds, path, pairs, headers, body)
    method = rng.choice(["GET", "PUT", "POST", "DELETE"])
    request = Request(method, f"https://{HOST}{path}" + (f"?{query}" if query else ""), headers, body)
    options: dict[str, object] = {"s3": rng.random() < 0.3}
    algorithm = "v4a" if variant == "v4a" or (variant == "presigned" and rng.random() < 0.3) else "v4"
    signer: Callable[..., object] = presign if variant == "presigned" else sign
    result = signer(request, creds, region="us-east-1", service="svc", timestamp=T, algorithm=algorithm,
                    content_sha256_header=rng.random() < 0.5, **options)
    return Case(variant, _received(result.request), options)  # type: ignore[attr-defined]


#: Sub-resources (signed by S3's SigV2) and parameters it leaves unsigned, as query names.
S3V2_NAMES = ["acl", "versionId", "uploadId", "partNumber", "response-content-type", "tagging", "prefix", "max-keys",
              "x-amz-meta-q"]


def _s3v2_case(rng: random.Random, creds: Credentials, path: str, pairs: list[tuple[str, str]],
               headers: list[tuple[str, str]], body: bytes) -> Case:
    host = rng.choice([HOST, "bkt.s3.amazonaws.com", "bkt.s3.eu-west-1.amazonaws.com"])
    headers = [*headers, ("x-amz-meta-m", _text(rng, VALUE_PIECES, 3).strip(" \t") or "m")]
    if rng.random() < 0.5:
        headers.append(("Content-Type", rng.choice(["text/plain", "application/x-www-form-urlencoded", "a b"])))
    if rng.random() < 0.5:
        headers.append(("Content-MD5", base64.b64encode(hashlib.md5(body).digest()).decode()))
    while True:
        named = [(rng.choice(S3V2_NAMES), value) if rng.random() < 0.7 else (name, value) for name, value in pairs]
        query = "&".join(f"{n}={v}" if rng.random() < 0.8 else n for n, v in named)
        request = Request(rng.choice(["GET", "PUT", "DELETE", "HEAD"]), f"https://{host}{path}"
                          + (f"?{query}" if query else ""), headers, body)
        try:
            if rng.random() < 0.5:
                signed = s3v2.presign(request, creds, expires=int(NOW.timestamp()) + 60).request
            else:
                signed = s3v2.sign(request, creds, timestamp=T).request
        except SigningError:  # a sub-resource whose decoded value holds `&`: refused, drawn again
            pairs = [(name, value.replace("%26", "")) for name, value in pairs]
            continue
        return Case("s3v2", _received(signed), {})


# -- mutations ------------------------------------------------------------------------------------

def _edit(rng: random.Random, text: str, start: int = 0) -> str:
    """One edit at a position at or after `start`: replace, insert or delete one piece."""
    if len(text) <= start:
        return text + rng.choice(EDITS)
    at = rng.randint(start, len(text) - 1)
    kind = rng.random()
    if kind < 0.4:
        return text[:at] + rng.choice(EDITS) + text[at + 1:]
    if kind < 0.8:
        return text[:at] + rng.choice(EDITS) + text[at:]
    return text[:at] + text[at + 1:]


def _recode(rng: random.Random, text: str, start: int) -> str:
    """Write one character another way: as its %XX escape (either case), an escape as its character, a
    `+` as `%2B`/`%20`/space and back, an escape's hex in the other case; or change an escape's byte."""
    if len(text) <= start:
        return text
    at = rng.randint(start, len(text) - 1)
    if text[at] == "%" and len(text) > at + 2:
        escape = text[at:at + 3]
        if rng.random() < 0.3:  # another byte: %FF -> %FE
            return text[:at + rng.randint(1, 2)] + rng.choice("0123456789ABCDEFabcdef") + text[at + 3:]
        if rng.random() < 0.5:
            return text[:at] + (escape.lower() if escape != escape.lower() else escape.upper()) + text[at + 3:]
        try:
            char = bytes.fromhex(escape[1:]).decode("utf-8", "surrogateescape")
        except ValueError:
            return text
        return text[:at] + char + text[at + 3:]
    if text[at] in "+ ":
        return text[:at] + rng.choice(["%2B", "%20", "+", " ", "%2b"]) + text[at + 1:]
    raw = text[at].encode("utf-8", "surrogateescape")
    escaped = "".join(f"%{b:02X}" if rng.random() < 0.5 else f"%{b:02x}" for b in raw)
    return text[:at] + escaped + text[at + 1:]


def _shuffle_query(rng: random.Random, target: str) -> str:
    path, sep, query = target.partition("?")
    parts = query.split("&")
    choice = rng.random()
    if choice < 0.4:
        rng.shuffle(parts)
    elif choice < 0.7 and parts:
        parts.insert(rng.randint(0, len(parts)), rng.choice(parts))
    elif parts:
        parts.pop(rng.randrange(len(parts)))
    return path + "?" + "&".join(parts)


def _mutate_headers(rng: random.Random, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    headers = list(headers)
    index = rng.randrange(len(headers))
    name, value = headers[index]
    choice = rng.random()
    if choice < 0.25:
        headers[index] = (name, _edit(rng, value))
    elif choice < 0.35:
        headers[index] = (_edit(rng, name), value)
    elif choice < 0.45:
        headers[index] = (name.swapcase(), value)
    elif choice < 0.55:
        headers[index] = (name, rng.choice([" ", "\t", "\u00a0", "  "]).join(value.split(" ")) or value)
    elif choice < 0.7:  # the same name again: a duplicate, or a value split in two at a comma
        first, _, rest = value.partition(",")
        if rest:
            headers[index] = (name, first)
            headers.insert(index + 1, (name, rest))
        else:
            headers.insert(rng.randint(0, len(headers)), (name, rng.choice([value, "other", ""])))
    elif choice < 0.8:
        headers.append(("Host", rng.choice([HOST, "evil.example.com"])))
    elif choice < 0.9:
        rng.shuffle(headers)
    else:
        headers.pop(index)
    return headers


def mutate(rng: random.Random, request: Request) -> Request:
    """One generated mutation of a received request."""
    method, target, headers, body = request.method, request.target, list(request.headers), request.body
    query_at = target.find("?") + 1 if "?" in target else len(target)
    choice = rng.random()
    if choice < 0.05:
        method = rng.choice([method.lower(), _edit(rng, method), method + "X"])
    elif choice < 0.2:
        target = _edit(rng, target, 1)
    elif choice < 0.3:
        target = _recode(rng, target, 1)
    elif choice < 0.5 and query_at < len(target):
        target = _recode(rng, target, query_at) if rng.random() < 0.6 else _edit(rng, target, query_at)
    elif choice < 0.6 and query_at < len(target):
        target = _shuffle_query(rng, target)
    elif choice < 0.85 and headers:
        headers = _mutate_headers(rng, headers)
    elif isinstance(body, bytes):
        data = bytearray(body)
        if data and rng.random() < 0.5:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif data and rng.random() < 0.5:
            del data[rng.randrange(len(data))]
        else:
            data.insert(rng.randint(0, len(data)), rng.choice(b"+%&= a\xff"))
        body = bytes(data)
    else:
        target = _edit(rng, target, 1)
    return Request(method, target, headers, body)


# -- the check ------------------------------------------------------------------------------------

#: Outcomes: rejected; accepted, and what a server acts on is the signed request's (a form SigV4 leaves
#: unsigned: header case, pair order...); unchanged (the mutation was a no-op); FALSE ACCEPT; ERROR (an
#: exception other than the documented ones).
OUTCOMES = ("rejected", "accepted_same", "unchanged", "false_accept", "error")


def _verify(request: Request, options: dict[str, object]) -> Identity:
    return verify(request, KEYS.get, now=NOW, **options)  # type: ignore[arg-type]


def _view(request: Request, identity: Identity, options: dict[str, object]) -> VerifiedRequest:
    return verified_request(request, identity, **options)  # type: ignore[arg-type]


def check(case: Case, mutant: Request, signed_view: VerifiedRequest) -> str:
    """The outcome (one of OUTCOMES) of `verify` on `mutant`."""
    if mutant == case.request:
        return "unchanged"
    try:
        identity = _verify(mutant, case.options)
    except VerificationError:
        return "rejected"
    except Exception:  # noqa: BLE001 - the property counts every other exception as a failure
        return "error"
    return "accepted_same" if _view(mutant, identity, case.options) == signed_view else "false_accept"


# -- aws-chunked ------------------------------------------------------------------------------------

CHUNKED_PAYLOADS = ("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
                    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER")


@dataclass(frozen=True)
class ChunkedCase:
    request: Request  # headers only: the body is `wire`
    identity: Identity
    wire: bytes
    decoded: tuple[bytes, tuple[tuple[str, str], ...]]


def _decode(case: ChunkedCase, wire: bytes) -> tuple[bytes, tuple[tuple[str, str], ...]]:
    """(data, trailer headers with lowercase names) of an aws-chunked body; StreamDecodeError if it fails."""
    decoder = decoder_for(case.identity, case.request)
    events = decoder.feed(wire)
    decoder.close()
    trailer = tuple((n.lower(), v) for e in events if isinstance(e, Trailer) for n, v in e.headers)
    return b"".join(e.data for e in events if isinstance(e, ChunkData)), trailer


def chunked_case(rng: random.Random) -> ChunkedCase:
    payload = rng.choice(CHUNKED_PAYLOADS)
    data = rng.randbytes(rng.randint(0, 9000))
    request = Request("PUT", f"https://{HOST}/bucket/key", [("x-amz-decoded-content-length", str(len(data)))], data)
    result = sign(request, rng.choice([CREDS, TEMP]), region="us-east-1", service="s3", timestamp=T, s3=True,
                  payload=payload, chunk_size=8192, trailer_checksum="crc32" if payload.endswith("TRAILER") else None,
                  algorithm="v4a" if "ECDSA" in payload else "v4")
    wire = b"".join(result.request.body)  # type: ignore[arg-type]
    received = _received(result.request.with_body(b""))
    identity = _verify(received, {"s3": True})
    case = ChunkedCase(received, identity, wire, (b"", ()))
    return ChunkedCase(received, identity, wire, _decode(case, wire))


def _frame_positions(wire: bytes) -> list[int]:
    """Offsets in the frame text (size lines, signatures, trailer): where a lossy parser would slip."""
    positions: list[int] = []
    start = 0
    while (end := wire.find(b"\r\n", start)) != -1:
        line = wire[start:end]
        if b";" in line or b":" in line or len(line) <= 16:
            positions.extend(range(start, end + 2))
        start = end + 2
    return positions or [0]


def mutate_wire(rng: random.Random, wire: bytes) -> bytes:
    data = bytearray(wire)
    at = rng.choice(_frame_positions(wire)) if rng.random() < 0.8 or not data else rng.randrange(len(data))
    choice = rng.random()
    edit = rng.choice([b"0", b"a", b"A", b"f", b"F", b"*", b";", b"=", b":", b" ", b"\t", b"\r\n", b"\xc2\xa0",
                       b"\xff", b"-", b"x"])
    if choice < 0.4 and data:
        data[at:at + 1] = edit
    elif choice < 0.7:
        data[at:at] = edit
    elif choice < 0.9 and data:
        del data[at]
    elif data:
        data[at] = bytes([data[at]]).swapcase()[0] if bytes([data[at]]).isalpha() else data[at] ^ 1
    return bytes(data)


def check_chunked(case: ChunkedCase, wire: bytes) -> str:
    if wire == case.wire:
        return "unchanged"
    try:
        decoded = _decode(case, wire)
    except StreamDecodeError:
        return "rejected"
    except Exception:  # noqa: BLE001 - the property counts every other exception as a failure
        return "error"
    return "accepted_same" if decoded == case.decoded else "false_accept"


# -- a run --------------------------------------------------------------------------------------

def run(variant: str, cases: int, seed: int, mutants_per_request: int = 8) -> Counter[str]:
    """Outcome counts of `cases` mutants of `variant`, from signed requests generated with `seed`."""
    rng = random.Random(f"{variant}/{seed}")
    counts: Counter[str] = Counter()
    while sum(counts.values()) < cases:
        if variant == "chunked":
            chunked = chunked_case(rng)
            for _ in range(min(mutants_per_request, cases - sum(counts.values()))):
                counts[check_chunked(chunked, mutate_wire(rng, chunked.wire))] += 1
            continue
        case = signed_case(rng, variant)
        signed_view = _view(case.request, _verify(case.request, case.options), case.options)
        for _ in range(min(mutants_per_request, cases - sum(counts.values()))):
            counts[check(case, mutate(rng, case.request), signed_view)] += 1
    return counts
