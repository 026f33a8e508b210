"""aws-chunked bodies: the `STREAMING-*-PAYLOAD` forms of SigV4 and SigV4a.

Strategy: a streaming upload is signed in two stages. The request headers are
signed as usual with the STREAMING constant as the payload hash, giving the
*seed* signature. The body is then a fold over fixed-size chunks: each chunk's
signature covers the previous signature and the chunk's SHA-256, so
`ChunkSigner.chunk(previous, data) -> (signature, frame)` is a pure step and
the encoded body is that step applied lazily while the caller pulls bytes:
one chunk in memory at a time, whatever the body size (`encode_body` yields
each chunk's header line and then its data as read, uncopied). The last frame is the
zero-length chunk plus, for the `-TRAILER` forms, the trailing checksum header
and (signed forms) `x-amz-trailer-signature`.

Which payload frames how is one table (`FRAMINGS`): who signs the chunks
(the seed's algorithm, or nobody), whether a trailer follows, and how wide a
signature is on the wire (SigV4a DER signatures vary in length, so they are
right-padded with `*` to 144 characters and unpadded when chained).

Wire format (S3 API reference, "Transferring Payload in Multiple Chunks"):
    signed:   hex(size);chunk-signature=<sig>\\r\\n<data>\\r\\n ... 0;chunk-signature=<sig>\\r\\n<trailer>\\r\\n
    unsigned: hex(size)\\r\\n<data>\\r\\n ... 0\\r\\n<trailer>\\r\\n
    trailer:  x-amz-checksum-<alg>:<base64>\\r\\n[x-amz-trailer-signature:<sig>\\r\\n]
Chunk string-to-sign: `<alg>-PAYLOAD`, date, scope, previous signature,
SHA-256 of "", SHA-256 of the chunk. Trailer: `<alg>-TRAILER`, date, scope,
previous signature, SHA-256 of the canonical trailer (`name:value\\n` lines).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from .bounded import decimal
from .checksums import CHECKSUMS, ChecksumAlgorithm, checksum_algorithm, encoded
from .errors import InvalidParameterError
from .payload import EMPTY_SHA256
from .types import Body, Request, iter_body

DEFAULT_CHUNK_SIZE = 64 * 1024
#: S3 rejects data chunks below 8 KiB (all but the last).
MIN_CHUNK_SIZE = 8 * 1024
HMAC_ALGORITHM = "AWS4-HMAC-SHA256"
ECDSA_ALGORITHM = "AWS4-ECDSA-P256-SHA256"
#: A SigV4a chunk signature on the wire: DER hex right-padded with `*` to this width.
ECDSA_WIRE_WIDTH = 144
TRAILER_SIGNATURE_HEADER = "x-amz-trailer-signature"
CRLF = b"\r\n"

#: string-to-sign -> lowercase hex signature
Signer = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Framing:
    """How one `x-amz-content-sha256` streaming value frames the body."""

    payload: str
    algorithm: str | None  # the seed algorithm that signs each chunk; None: chunks go unsigned
    trailer: bool
    signature_width: int  # characters of a chunk signature on the wire; 0 when unsigned

    @property
    def signed(self) -> bool:
        return self.algorithm is not None


FRAMINGS: dict[str, Framing] = {f.payload: f for f in (
    Framing("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", HMAC_ALGORITHM, False, 64),
    Framing("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", HMAC_ALGORITHM, True, 64),
    Framing("STREAMING-UNSIGNED-PAYLOAD-TRAILER", None, True, 0),
    Framing("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", ECDSA_ALGORITHM, False, ECDSA_WIRE_WIDTH),
    Framing("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER", ECDSA_ALGORITHM, True, ECDSA_WIRE_WIDTH),
)}


@dataclass(frozen=True, slots=True)
class ChunkScope:
    """What every chunk string-to-sign shares with the seed request."""

    algorithm: str  # the seed's algorithm line: AWS4-HMAC-SHA256 or AWS4-ECDSA-P256-SHA256
    amz_date: str
    credential_scope: str


def _chunk_prefix(scope: ChunkScope) -> str:
    """The first three lines of every chunk string-to-sign of one upload."""
    return f"{scope.algorithm}-PAYLOAD\n{scope.amz_date}\n{scope.credential_scope}\n"


def chunk_string_to_sign(scope: ChunkScope, previous: str, chunk_sha256: str) -> str:
    """`<alg>-PAYLOAD`, date, scope, previous signature, SHA-256 of "", SHA-256 (hex) of the chunk."""
    return f"{_chunk_prefix(scope)}{previous}\n{EMPTY_SHA256}\n{chunk_sha256}"


def canonical_trailer(headers: Sequence[tuple[str, str]]) -> str:
    """Trailing headers as signed: lowercase names, values trimmed of spaces and tabs, sorted, `name:value\\n` each."""
    return "".join(f"{name}:{value}\n"
                   for name, value in sorted((n.strip(" \t").lower(), v.strip(" \t")) for n, v in headers))


def trailer_string_to_sign(scope: ChunkScope, previous: str, headers: Sequence[tuple[str, str]]) -> str:
    """`<alg>-TRAILER`, date, scope, previous signature, SHA-256 of the canonical trailer."""
    digest = hashlib.sha256(canonical_trailer(headers).encode("utf-8")).hexdigest()
    return f"{scope.algorithm}-TRAILER\n{scope.amz_date}\n{scope.credential_scope}\n{previous}\n{digest}"


def _trailer_lines(headers: Sequence[tuple[str, str]]) -> bytes:
    return b"".join(f"{name}:{value}\r\n".encode("utf-8") for name, value in headers)


class HashedChunk(bytes):
    """A chunk's bytes with their SHA-256 (hex) attached where it was computed (`sigv4.chunked_decode`, verifying
    a chunk's signature): `ChunkSigner` signs one without hashing it again, so a proxy re-signing a verified
    chunk hashes each byte once."""

    sha256: str


def _sha256_hex(data: bytes) -> str:
    return data.sha256 if isinstance(data, HashedChunk) else hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class ChunkSigner:
    """The fold step of one aws-chunked body: previous signature + chunk -> signature + frame.

    For the unsigned form `scope` and `sign` are None and the "signature"
    threaded through the fold stays the seed signature, untouched.
    """

    framing: Framing
    scope: ChunkScope | None = None
    sign: Signer | None = field(default=None, repr=False)
    # Derived once per upload: `chunk` runs once per 64 KiB, and its Python
    # overhead is what separates chunked signing from plain hashing.
    _prefix: str = field(init=False, default="", repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.framing.signed and (self.scope is None or self.sign is None):
            raise InvalidParameterError(f"payload: {self.framing.payload} signs every chunk; a scope and signer are required")
        if self.scope is not None and self.framing.signed and self.scope.algorithm != self.framing.algorithm:
            raise InvalidParameterError(
                f"payload: {self.framing.payload} needs a {self.framing.algorithm} seed signature, "
                f"not {self.scope.algorithm} (use algorithm='v4a' for the ECDSA forms, 'v4' otherwise)")
        if self.framing.signed and self.scope is not None:
            object.__setattr__(self, "_prefix", _chunk_prefix(self.scope))

    def _wire(self, signature: str) -> bytes:
        return signature.ljust(self.framing.signature_width, "*").encode("ascii")

    def _header(self, previous: str, data: bytes) -> tuple[str, bytes]:
        if not self._prefix:  # unsigned form
            return previous, b"%x\r\n" % len(data)
        assert self.sign is not None  # __post_init__ guarantees it for signed framings
        signature = self.sign(f"{self._prefix}{previous}\n{EMPTY_SHA256}\n{_sha256_hex(data)}")
        return signature, b"%x;chunk-signature=%b\r\n" % (len(data), self._wire(signature))

    def chunk(self, previous: str, data: bytes) -> tuple[str, bytes]:
        """Sign one data chunk chained to `previous`; return its signature and its frame.

        Raises InvalidParameterError for an empty chunk: a zero-length chunk ends the body (see `finish`).
        """
        if not data:
            raise InvalidParameterError("chunk: a data chunk must not be empty; the empty chunk is the final one")
        signature, header = self._header(previous, data)
        return signature, b"".join((header, data, CRLF))

    def finish(self, previous: str, trailer: Sequence[tuple[str, str]] = ()) -> tuple[str, bytes]:
        """The closing frame: the zero-length chunk, then the trailer (signed when the form is).

        Returns the last signature of the chain (the trailer's when signed) and the frame.
        """
        if bool(trailer) != self.framing.trailer:
            raise InvalidParameterError(
                f"trailer: {self.framing.payload} " + ("requires a trailing header" if self.framing.trailer
                                                        else "carries no trailer"))
        signature, header = self._header(previous, b"")
        lines = _trailer_lines(trailer)
        if trailer and self.framing.signed:
            assert self.scope is not None and self.sign is not None  # __post_init__ guarantees it for signed framings
            signature = self.sign(trailer_string_to_sign(self.scope, signature, trailer))
            lines += TRAILER_SIGNATURE_HEADER.encode("ascii") + b":" + self._wire(signature) + CRLF
        return signature, header + lines + CRLF


# -- framing a whole body --------------------------------------------------------------------------

def _frame_overhead(framing: Framing, size: int) -> int:
    extension = len(";chunk-signature=") + framing.signature_width if framing.signed else 0
    return len(f"{size:x}") + extension + 2 * len(CRLF)


def encoded_length(decoded_length: int, chunk_size: int, framing: Framing,
                   checksum: ChecksumAlgorithm | None = None) -> int:
    """The `Content-Length` of the aws-chunked encoding of `decoded_length` bytes."""
    full, rest = divmod(decoded_length, chunk_size)
    total = decoded_length + full * _frame_overhead(framing, chunk_size)
    if rest:
        total += _frame_overhead(framing, rest)
    total += _frame_overhead(framing, 0)  # the final chunk: its CRLF closes the (possibly empty) trailer
    if checksum is not None:
        total += len(checksum.header) + 1 + checksum.encoded_size + len(CRLF)
        if framing.signed:
            total += len(TRAILER_SIGNATURE_HEADER) + 1 + framing.signature_width + len(CRLF)
    return total


def _fixed_chunks(pieces: Iterable[bytes], size: int) -> Iterator[bytes]:
    """Re-cut arbitrary pieces into `size`-byte chunks (the last may be shorter), copying only what straddles."""
    pending = bytearray()
    short: bytes | None = None  # a piece under `size`, kept as it is (a sender's last chunk) until the next one
    for piece in pieces:
        if short is not None:
            pending += short
            short = None
        if not pending and len(piece) <= size:
            if len(piece) == size:
                yield piece
            else:
                short = piece
            continue
        view = memoryview(piece)
        if pending:
            take = size - len(pending)
            pending += view[:take]
            view = view[take:]
            if len(pending) < size:
                continue
            yield bytes(pending)
            pending = bytearray()
        while len(view) >= size:
            yield bytes(view[:size])
            view = view[size:]
        pending += view
    if short is not None:
        yield short
    elif pending:
        yield bytes(pending)


def encode_body(body: Body, signer: ChunkSigner, seed_signature: str, *, chunk_size: int,
                decoded_length: int, checksum: ChecksumAlgorithm | None = None) -> Iterator[bytes]:
    """Lazily yield the aws-chunked encoding of `body` in pieces: per chunk, its
    header line (after the previous chunk's closing CRLF), then its data.

    The data pieces are the chunks as read, never copied into a frame: at
    64 KiB a chunk, copying costs about as much as all the signing does
    (`ChunkSigner.chunk` gives whole frames). The body is read only as the
    caller pulls pieces. Raises InvalidParameterError (while iterating) when
    the body holds more or fewer bytes than `decoded_length`.
    """
    summer = checksum.new() if checksum is not None else None
    previous, seen, separator = seed_signature, 0, b""
    for data in _fixed_chunks(iter_body(body, chunk_size), chunk_size):
        seen += len(data)
        if seen > decoded_length:
            raise InvalidParameterError(
                f"x-amz-decoded-content-length: the body holds more than the declared {decoded_length} bytes")
        if summer is not None:
            summer.update(data)
        previous, header = signer._header(previous, data)
        yield separator + header
        yield data
        separator = CRLF
    if seen != decoded_length:
        raise InvalidParameterError(
            f"x-amz-decoded-content-length: the body held {seen} bytes, not the declared {decoded_length}")
    trailer = ((checksum.header, encoded(summer)),) \
        if checksum is not None and summer is not None else ()
    yield separator + signer.finish(previous, trailer)[1]


# -- the request side ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ChunkedUpload:
    """What aws-chunked signing adds to a request (headers, later the encoded body), and the framing choices made for it."""

    #: The headers an aws-chunked upload signs, to be set on the request (the signer sets them with its own, in one edit).
    headers: tuple[tuple[str, str], ...]
    body: Body  # the caller's, encoded by `encode`
    framing: Framing
    chunk_size: int
    decoded_length: int
    checksum: ChecksumAlgorithm | None

    def encode(self, scope: ChunkScope, sign: Signer, seed_signature: str) -> Iterator[bytes]:
        """The lazily encoded body, chained to the seed signature (`scope` and `sign` are the seed's)."""
        signer = ChunkSigner(self.framing, scope, sign)
        return encode_body(self.body, signer, seed_signature, chunk_size=self.chunk_size,
                           decoded_length=self.decoded_length, checksum=self.checksum)


def _decoded_length(request: Request) -> int:
    declared = request.header("x-amz-decoded-content-length")
    body = request.body
    actual = len(body) if isinstance(body, (bytes, bytearray, memoryview)) else None
    if declared is None:
        if actual is None:
            raise InvalidParameterError(
                "x-amz-decoded-content-length: required for an aws-chunked upload of a stream; set the header "
                "to the body's length in bytes (it cannot be known without reading the stream)")
        return actual
    length = decimal(declared.strip())
    if length is None:
        raise InvalidParameterError(f"x-amz-decoded-content-length: {declared[:40]!r} is not a non-negative integer "
                                    "of at most 18 digits")
    if actual is not None and actual != length:
        raise InvalidParameterError(
            f"x-amz-decoded-content-length: declared {length} but the body holds {actual} bytes")
    return length


def _content_encoding(existing: str | None) -> str:
    """aws-chunked goes first (S3: "Content-Encoding: aws-chunked,gzip"), and only once."""
    codings = [c.strip() for c in (existing or "").split(",") if c.strip() and c.strip().lower() != "aws-chunked"]
    return ",".join(["aws-chunked", *codings])


def _check_options(framing: Framing | None, payload: str | None, algorithm: str, chunk_size: int,
                   trailer_checksum: str | ChecksumAlgorithm | None) -> None:
    if framing is None:
        if trailer_checksum is not None:
            raise InvalidParameterError(
                f"trailer_checksum: only applies to a -TRAILER streaming payload ({', '.join(FRAMINGS)}), "
                f"not payload={payload!r}")
        return
    if framing.signed and framing.algorithm != algorithm:
        raise InvalidParameterError(
            f"payload: {framing.payload} chains {framing.algorithm} chunk signatures, but the request is signed "
            f"with {algorithm} (use algorithm='v4a' for the ECDSA forms, 'v4' for the HMAC ones)")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < MIN_CHUNK_SIZE:
        raise InvalidParameterError(
            f"chunk_size: {chunk_size!r} must be an integer of at least {MIN_CHUNK_SIZE} bytes (S3's minimum chunk)")
    if framing.trailer and trailer_checksum is None:
        raise InvalidParameterError(
            f"trailer_checksum: required with payload={framing.payload} ({', '.join(CHECKSUMS)})")
    if not framing.trailer and trailer_checksum is not None:
        raise InvalidParameterError(
            f"trailer_checksum: payload={framing.payload} carries no trailer; use its -TRAILER form")


def prepare_upload(request: Request, payload: str | None, *, algorithm: str, chunk_size: int,
                   trailer_checksum: str | ChecksumAlgorithm | None) -> ChunkedUpload | None:
    """Check the streaming options and add the headers an aws-chunked upload signs.

    Returns None when `payload` is not an aws-chunked form. Otherwise the
    upload's headers are `Content-Encoding: aws-chunked` (first, before any
    other coding), `x-amz-decoded-content-length`, the encoded `Content-Length`,
    `x-amz-trailer` (trailer forms) and `x-amz-content-sha256`, each to replace
    the request's header of that name. `algorithm` is
    the seed's algorithm line, which must be the one that signs the chunks.
    Raises InvalidParameterError naming the option, e.g. when the decoded
    length cannot be known (a stream without `x-amz-decoded-content-length`).
    """
    framing = FRAMINGS.get(payload or "")
    _check_options(framing, payload, algorithm, chunk_size, trailer_checksum)
    if framing is None:
        return None
    checksum = checksum_algorithm(trailer_checksum) if trailer_checksum is not None else None
    decoded = _decoded_length(request)
    headers = [
        ("Content-Encoding", _content_encoding(request.header("content-encoding"))),
        ("X-Amz-Decoded-Content-Length", str(decoded)),
        ("Content-Length", str(encoded_length(decoded, chunk_size, framing, checksum))),
    ]
    if checksum is not None:
        headers.append(("X-Amz-Trailer", checksum.header))
    headers.append(("X-Amz-Content-SHA256", framing.payload))
    return ChunkedUpload(tuple(headers), request.body, framing, chunk_size, decoded, checksum)
