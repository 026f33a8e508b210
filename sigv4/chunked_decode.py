"""The receiving side of aws-chunked: parse a body incrementally and verify every signature.

Strategy: sans-I/O, like h11. `ChunkedDecoder.feed(bytes)` returns the events
the new bytes complete (`ChunkData`, then `Trailer`, then `EndOfBody`);
`close()` says the sender is done and fails if the body is incomplete. The
parser is a state machine whose readers are chosen from a table keyed by
state; each reader either consumes a complete element from the buffer or
asks for more bytes, reading each fed piece where it is (only an element cut
by a piece's end is copied, to be completed by the next). A data chunk is
released only after its signature has been checked, so memory holds at most
one chunk (`max_chunk_size` bounds what
a hostile sender can make us buffer). Each chunk's signature is verified
against the chain from the seed signature (the request's own, from
`sigv4.verify`), then the trailer's signature and checksum; the first fault
raises a `StreamDecodeError` naming the chunk index and the byte offset where
that chunk's frame starts, and every later call raises it again.

Signatures are checked through a `Verifier`: HMAC recomputation compared in
constant time for SigV4, ECDSA verification with the derived public key for
SigV4a (whose signatures are randomized, so they can only be verified).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from datetime import datetime
from dataclasses import dataclass
from typing import Literal, Union

from . import v4a, v4a_ecdsa
from .bounded import decimal
from .checksums import CHECKSUMS, Checksum, ChecksumAlgorithm, checksum_for_header, encoded
from .chunked import (
    FRAMINGS,
    TRAILER_SIGNATURE_HEADER,
    ChunkScope,
    Framing,
    HashedChunk,
    chunk_string_to_sign,
    trailer_string_to_sign,
)
from .errors import InvalidParameterError, StreamDecodeError, StreamSignatureError
from .keys import signature_hex, signing_key
from .types import Credentials, Request
from .verify import Identity, verify

#: (string-to-sign, signature as sent, padding removed) -> whether it verifies
Verifier = Callable[[str, str], bool]
DEFAULT_MAX_CHUNK_SIZE = 16 * 1024 * 1024
_MAX_LINE = 4096  # a chunk-size line is ~90 bytes (SigV4a ~170); a longer one is garbage
_MAX_TRAILER = 16 * 1024
_HEX_SIZE = re.compile(rb"[0-9a-fA-F]{1,16}\Z")
_LOWER_HEX = re.compile(r"[0-9a-f]+\Z")
_OWS = " \t"


def unchecked(text: str, signature: str) -> bool:
    """The verifier of a reader that checks the framing only (a re-signing proxy that trusts the sender's key
    id): the decoder then skips each chunk's SHA-256, the one cost of a chunk signature."""
    return True


def hmac_verifier(key: bytes) -> Verifier:
    """SigV4: recompute the HMAC with the signing key; compare in constant time."""
    def verify(text: str, signature: str) -> bool:
        return hmac.compare_digest(signature_hex(key, text), signature)
    return verify


def ecdsa_verifier(key: v4a_ecdsa.KeyPair) -> Verifier:
    """SigV4a: verify the DER signature (hex) with the signer's derived key pair (`v4a.key_pair`)."""
    return lambda text, signature: v4a.verify_string(key, text, signature)


@dataclass(frozen=True, slots=True)
class ChunkData:
    """A verified data chunk. `offset`: where its frame starts in the encoded body; `decoded_offset`: in the data."""

    index: int
    offset: int
    decoded_offset: int
    data: bytes
    signature: str  # "" for unsigned chunks


@dataclass(frozen=True, slots=True)
class Trailer:
    """The verified trailing headers (the trailer signature excluded)."""

    headers: tuple[tuple[str, str], ...]
    signature: str  # "" when unsigned


@dataclass(frozen=True, slots=True)
class EndOfBody:
    decoded_length: int
    signature: str  # the last signature of the chain; the seed's for unsigned bodies


Event = Union[ChunkData, Trailer, EndOfBody]
_State = Literal["size_line", "data", "final", "trailer", "done"]


class ChunkedDecoder:
    """Incremental aws-chunked parser and verifier for one request body."""

    def __init__(self, payload: str, *, seed_signature: str = "", scope: ChunkScope | None = None,
                 verify: Verifier | None = None, trailer: str | None = None, decoded_length: int | None = None,
                 max_chunk_size: int = DEFAULT_MAX_CHUNK_SIZE) -> None:
        """`payload`: the request's `x-amz-content-sha256`; `trailer`: its `x-amz-trailer`.

        Signed forms need the seed signature, its scope and a verifier. Raises
        InvalidParameterError for a payload that is not an aws-chunked form or
        missing inputs.
        """
        framing = FRAMINGS.get(payload)
        if framing is None:
            raise InvalidParameterError(f"payload: {payload!r} is not an aws-chunked form ({', '.join(FRAMINGS)})")
        if framing.signed and (scope is None or verify is None or not seed_signature):
            raise InvalidParameterError(f"payload: {payload} is signed; the seed signature, scope and verifier are required")
        checksum: ChecksumAlgorithm | None = None
        if framing.trailer:
            checksum = checksum_for_header(trailer or "")
            if checksum is None:
                raise InvalidParameterError(
                    f"x-amz-trailer: {trailer!r} is not a supported trailing checksum header "
                    f"({', '.join(c.header for c in CHECKSUMS.values())})")
        self._framing: Framing = framing
        self._scope, self._verify = scope, verify
        self._checksum = checksum
        self._summer: Checksum | None = checksum.new() if checksum is not None else None
        self._declared = decoded_length
        self._max_chunk = max_chunk_size
        self._previous = seed_signature
        #: What is being read: a piece as fed, or between feeds the carry (an element cut by a piece's end).
        self._carry = bytearray()
        self._buffer: bytes | bytearray = self._carry
        self._pos = 0  # read position in _buffer; 0 in the carry between feeds
        self._offset = 0  # encoded-body offset of _buffer[0]
        self._state: _State = "size_line"
        self._index = 0
        self._frame_start = 0
        self._decoded = 0
        self._size = 0
        self._wire_signature = ""
        self._error: StreamDecodeError | None = None
        # Each reader consumes one element and returns its events, or None when it needs more bytes.
        self._readers: dict[_State, Callable[[], list[Event] | None]] = {
            "size_line": self._read_size_line,
            "data": self._read_data,
            "final": self._read_final_crlf,
            "trailer": self._read_trailer,
            "done": self._read_after_end,
        }

    # -- public ------------------------------------------------------------------------------------
    def feed(self, data: bytes) -> list[Event]:
        """Consume received bytes; return the events they complete (possibly none)."""
        if self._error is not None:
            raise self._error
        try:
            return self._feed(data if isinstance(data, (bytes, bytearray)) else bytes(data))
        except StreamDecodeError as err:
            self._error = err
            raise

    def _feed(self, data: bytes | bytearray) -> list[Event]:
        # The elements wholly inside `data` are read where they are; only an element cut by the end of a piece
        # is copied (into `_carry`), and completed with just the bytes it lacks from the next piece, so a large
        # piece is not copied whole into a buffer first.
        events: list[Event] = []
        start, carried = 0, len(self._carry)
        if carried:
            take = min(len(data), self._lacking())
            self._carry += memoryview(data)[:take]
            events += self._read()
            start = self._pos - carried  # where reading `data` in place goes on
            if start < 0:  # the carried element is still incomplete: keep everything in the carry
                if take < len(data):
                    self._carry += memoryview(data)[take:]
                    events += self._read()
                self._offset += self._pos
                del self._carry[:self._pos]
                self._pos = 0
                return events
            self._offset += carried
        self._buffer, self._pos = data, start
        events += self._read()
        self._offset += self._pos
        self._buffer = self._carry = bytearray(memoryview(data)[self._pos:])
        self._pos = 0
        return events

    def _read(self) -> list[Event]:
        """The events of the elements complete in `_buffer` from `_pos` on, read in order."""
        events: list[Event] = []
        while (progress := self._readers[self._state]()) is not None:
            events += progress
        return events

    def _lacking(self) -> int:
        """At most how many more bytes the element begun in the carry needs: the rest of a chunk's data and its
        CRLF; else a line or the trailer, no longer than the longest allowed."""
        if self._state == "data":
            return max(0, self._size + 2 - len(self._buffer))
        return _MAX_TRAILER + 4

    def close(self) -> None:
        """The sender has finished; raises StreamDecodeError (`truncated`) if the body is incomplete."""
        if self._error is not None:
            raise self._error
        if self._state != "done":
            self._error = StreamDecodeError(
                "truncated", f"aws-chunked body: ended inside chunk {self._index} (state {self._state}) after "
                f"{self._offset + len(self._buffer)} bytes", offset=self._frame_start, index=self._index)
            raise self._error

    @property
    def done(self) -> bool:
        return self._state == "done"

    # -- helpers -----------------------------------------------------------------------------------
    def _fault(self, reason: str, message: str, *, at: int | None = None) -> StreamDecodeError:
        offset = self._frame_start if at is None else at
        return StreamDecodeError(reason, f"aws-chunked body, chunk {self._index} at byte {offset}: {message}",
                                 offset=offset, index=self._index)

    def _take_line(self, limit: int) -> bytes | None:
        end = self._buffer.find(b"\r\n", self._pos)
        if end == -1:
            if len(self._buffer) - self._pos > limit:
                raise self._fault("malformed", f"no CRLF within {limit} bytes", at=self._offset + self._pos)
            return None
        line = bytes(self._buffer[self._pos:end])
        self._pos = end + 2
        return line

    def _check(self, text: str, wire_signature: str, what: str) -> str:
        assert self._verify is not None
        signature = wire_signature.rstrip("*")
        if not self._verify(text, signature):
            raise StreamSignatureError(
                f"aws-chunked body, {what} {self._index} at byte {self._frame_start}: signature {signature[:16]}... "
                "does not verify against the string-to-sign chained from the previous signature",
                offset=self._frame_start, index=self._index, string_to_sign=text)
        return signature

    def _check_signature_text(self, text: bytes) -> str:
        width = self._framing.signature_width
        signature = text.decode("ascii", "replace")
        unpadded = signature.rstrip("*")
        if len(signature) != width or not _LOWER_HEX.match(unpadded):
            raise self._fault("malformed", f"chunk-signature must be {width} characters of lowercase hex"
                              + (" right-padded with '*'" if width > 64 else ""))
        return signature

    # -- readers (one per state) -------------------------------------------------------------------
    def _read_size_line(self) -> list[Event] | None:
        self._frame_start = self._offset + self._pos
        line = self._take_line(_MAX_LINE)
        if line is None:
            return None
        size_text, sep, extension = line.partition(b";")
        if self._framing.signed:
            key, _, value = extension.partition(b"=")
            if not sep or key != b"chunk-signature":
                raise self._fault("malformed", f"size line {line[:80]!r} lacks ';chunk-signature='")
            self._wire_signature = self._check_signature_text(value)
        elif sep:
            raise self._fault("malformed", f"size line {line[:80]!r}: an unsigned chunk carries no extension")
        if not _HEX_SIZE.match(size_text):
            raise self._fault("malformed", f"chunk size {size_text[:20]!r} is not hexadecimal")
        self._size = int(size_text, 16)
        if self._size > self._max_chunk:
            raise self._fault("malformed", f"chunk size {self._size} exceeds the limit of {self._max_chunk} bytes")
        if self._size == 0:
            self._verify_chunk(b"")
            self._state = "trailer" if self._framing.trailer else "final"
        else:
            self._state = "data"
        return []

    def _verify_chunk(self, data: bytes) -> str:
        if not self._framing.signed:
            return ""
        if self._verify is unchecked:
            self._previous = self._wire_signature.rstrip("*")
            return self._previous
        assert self._scope is not None
        digest = hashlib.sha256(data).hexdigest()
        if isinstance(data, HashedChunk):  # kept with the bytes: signing them again needs no second hash
            data.sha256 = digest
        text = chunk_string_to_sign(self._scope, self._previous, digest)
        self._previous = self._check(text, self._wire_signature, "chunk")
        return self._previous

    def _read_data(self) -> list[Event] | None:
        end = self._pos + self._size
        if len(self._buffer) < end + 2:
            return None
        if self._buffer[end:end + 2] != b"\r\n":
            raise self._fault("malformed", f"chunk data of {self._size} bytes is not followed by CRLF")
        hashed = self._framing.signed and self._verify is not unchecked  # `_verify_chunk` hashes it
        with memoryview(self._buffer) as buffer, buffer[self._pos:end] as chunk:
            data = HashedChunk(chunk) if hashed else bytes(chunk)  # one copy (a bytearray slice, then bytes: two)
        self._pos = end + 2
        if self._declared is not None and self._decoded + len(data) > self._declared:
            raise self._fault("length_mismatch", f"the body exceeds x-amz-decoded-content-length={self._declared}")
        signature = self._verify_chunk(data)
        if self._summer is not None:
            self._summer.update(data)
        event = ChunkData(self._index, self._frame_start, self._decoded, data, signature)
        self._decoded += len(data)
        self._index += 1
        self._state = "size_line"
        return [event]

    def _check_length(self) -> None:
        if self._declared is not None and self._decoded != self._declared:
            raise self._fault("length_mismatch", f"the body holds {self._decoded} bytes, "
                              f"not x-amz-decoded-content-length={self._declared}")

    def _read_final_crlf(self) -> list[Event] | None:
        if len(self._buffer) - self._pos < 2:
            return None
        if self._buffer[self._pos:self._pos + 2] != b"\r\n":
            raise self._fault("malformed", "the final chunk must end with an empty line (no trailer expected)")
        self._pos += 2
        self._check_length()
        self._state = "done"
        return [EndOfBody(self._decoded, self._previous)]

    def _read_trailer(self) -> list[Event] | None:
        end = self._buffer.find(b"\r\n\r\n", self._pos)
        if end == -1:
            if len(self._buffer) - self._pos > _MAX_TRAILER:
                raise self._fault("malformed", f"trailer longer than {_MAX_TRAILER} bytes")
            return None
        try:  # not errors="replace": every invalid byte would read as one U+FFFD
            block = bytes(self._buffer[self._pos:end]).decode("utf-8")
        except UnicodeDecodeError as err:
            raise self._fault("malformed", f"trailer byte 0x{self._buffer[self._pos + err.start]:02x} at offset "
                              f"{err.start} is not UTF-8") from None
        self._pos = end + 4
        self._check_length()
        headers: list[tuple[str, str]] = []
        wire_signature = None
        for line in block.split("\r\n"):
            name, sep, value = line.partition(":")
            # Only HTTP's optional whitespace (space, tab) is trimmed: str.strip() would also take U+00A0 and kin.
            name, value = name.strip(_OWS), value.strip(_OWS)
            if not sep or not name:
                raise self._fault("malformed", f"trailer line {line[:80]!r} is not 'name:value'")
            if name.lower() == TRAILER_SIGNATURE_HEADER:
                wire_signature = value
            else:
                headers.append((name, value))
        assert self._checksum is not None and self._summer is not None  # trailer forms always have both
        names = [n.lower() for n, _ in headers]
        if names != [self._checksum.header]:
            raise self._fault("malformed", f"trailer carries {names}, expected exactly [{self._checksum.header!r}] "
                              "as declared by x-amz-trailer")
        signature = ""
        if self._framing.signed:
            if wire_signature is None:
                raise self._fault("malformed", f"signed trailer lacks {TRAILER_SIGNATURE_HEADER}")
            assert self._scope is not None
            signature = self._check(trailer_string_to_sign(self._scope, self._previous, headers),
                                    self._check_signature_text(wire_signature.encode("ascii", "replace")), "trailer")
            self._previous = signature
        elif wire_signature is not None:
            raise self._fault("malformed", f"unsigned trailer carries {TRAILER_SIGNATURE_HEADER}")
        expected = encoded(self._summer)
        if headers[0][1] != expected:
            raise self._fault("checksum_mismatch", f"{self._checksum.header} is {headers[0][1]!r} but the "
                              f"received data gives {expected!r}")
        self._state = "done"
        return [Trailer(tuple(headers), signature), EndOfBody(self._decoded, self._previous)]

    def _read_after_end(self) -> list[Event] | None:
        if self._pos < len(self._buffer):
            raise self._fault("malformed", f"{len(self._buffer) - self._pos} bytes after the end of the body",
                              at=self._offset + self._pos)
        return None


def decoder_for(identity: Identity, request: Request, *,
                max_chunk_size: int = DEFAULT_MAX_CHUNK_SIZE) -> ChunkedDecoder:
    """A decoder for the body of a request `sigv4.verify` accepted: chained to its seed signature,
    keyed by its credentials, framed by its `x-amz-content-sha256`, `x-amz-trailer` and
    `x-amz-decoded-content-length` headers.

    Raises InvalidParameterError when the request is not an aws-chunked upload
    or declares no usable decoded length.
    """
    declared = request.header("x-amz-decoded-content-length")
    decoded_length = decimal(declared.strip()) if declared is not None else None
    if decoded_length is None:
        shown = repr(declared if declared is None else declared[:40])
        raise InvalidParameterError(f"x-amz-decoded-content-length: {shown}; an aws-chunked request must declare "
                                    "its decoded length (at most 18 ASCII digits)")
    verify: Verifier
    if identity.version == "v4a":
        verify = ecdsa_verifier(v4a.key_pair(identity.credentials))
    else:
        verify = hmac_verifier(signing_key(identity.credentials.secret_access_key, identity.scope_date,
                                           identity.regions[0], identity.service))
    return ChunkedDecoder(identity.payload_hash, seed_signature=identity.signature,
                          scope=ChunkScope(identity.algorithm, identity.amz_date, identity.credential_scope),
                          verify=verify, trailer=request.header("x-amz-trailer"), decoded_length=decoded_length,
                          max_chunk_size=max_chunk_size)


def verify_message(request: Request, body: bytes, lookup: Callable[[str], Credentials | None], *, now: datetime,
                   s3: bool | None = None, omit_session_token: bool = False) -> Identity:
    """`sigv4.verify` of `request` at `now` (`s3=None`: S3's rules for an S3 scope; `omit_session_token`: a
    presigned URL's token added after signing, as `sigv4.verify` reads it), and for an aws-chunked
    upload every chunk signature of `body` (its
    bytes as received) and the trailer's too. Returns the `Identity`; raises `VerificationError` for the
    signature, `StreamDecodeError` for the body (`malformed` at offset 0 when its declared length is unusable).
    """
    identity = verify(request, lookup, now=now, s3=s3, omit_session_token=omit_session_token)
    if identity.payload_hash.startswith("STREAMING-"):
        try:
            decoder = decoder_for(identity, request)
        except InvalidParameterError as err:  # the peer's header, not our input: a fault of the received body
            raise StreamDecodeError("malformed", str(err), offset=0) from None
        decoder.feed(body)
        decoder.close()
    return identity
