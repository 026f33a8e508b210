"""AWS event-stream framing (`application/vnd.amazon.eventstream`) and its SigV4 message signing.

Strategy: a message is a prelude (total length, headers length, CRC-32 of
those 8 bytes), typed headers, a payload and a CRC-32 of everything before it.
Header values are typed; one table maps each kind to its wire type byte and
codec, both ways, so encoder and decoder cannot drift apart. The decoder is
sans-I/O (`feed(bytes) -> messages`), checks both CRCs and the length limits
before trusting a length, and raises `StreamDecodeError` naming the message
index and its byte offset.

Signing (`STREAMING-AWS4-HMAC-SHA256-EVENTS`, as in Transcribe streaming and
smithy-rs `aws-sigv4::event_stream`): the request is signed with that payload
constant; its signature seeds a chain. Each message is encoded, then wrapped
in an envelope message whose payload is those bytes and whose headers are
`:chunk-signature` (the 32 raw signature bytes) and `:date` (a timestamp,
truncated to whole seconds so it matches the string-to-sign). The string-to-
sign is `AWS4-HMAC-SHA256-PAYLOAD`, the message's date, the scope for that
date, the previous signature (hex), the SHA-256 of the encoded `:date`
header and the SHA-256 of the message bytes. An envelope with an empty
payload ends the stream. Times come from the caller, one per message.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Literal, Union
from uuid import UUID

from .errors import InvalidParameterError, StreamDecodeError, StreamSignatureError
from .keys import signature_hex, signing_key
from .signer import amz_date

EVENTS_PAYLOAD = "STREAMING-AWS4-HMAC-SHA256-EVENTS"
PRELUDE_LENGTH = 12  # total length, headers length, prelude CRC
MIN_MESSAGE_LENGTH = PRELUDE_LENGTH + 4
MAX_MESSAGE_LENGTH = 16 * 1024 * 1024 + 128 * 1024 + MIN_MESSAGE_LENGTH  # payload 16 MiB + headers 128 KiB
MAX_HEADERS_LENGTH = 128 * 1024
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

HeaderKind = Literal["bool", "byte", "short", "integer", "long", "bytes", "string", "timestamp", "uuid"]
HeaderValue = Union[bool, int, bytes, str, datetime, UUID]


@dataclass(frozen=True, slots=True)
class Header:
    """One typed header. Timestamps are timezone-aware datetimes of millisecond precision."""

    name: str
    value: HeaderValue
    kind: HeaderKind


@dataclass(frozen=True, slots=True)
class Message:
    headers: tuple[Header, ...] = ()
    payload: bytes = b""

    def header(self, name: str) -> Header | None:
        """The first header called `name` (event-stream names are case-sensitive), or None."""
        return next((h for h in self.headers if h.name == name), None)


# -- typed header values: one row per kind -----------------------------------------------------------

def _fixed_int(size: int, fmt: str) -> tuple[Callable[[HeaderValue], bytes], Callable[[bytes, int], tuple[HeaderValue, int]]]:
    def encode(value: HeaderValue) -> bytes:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidParameterError(f"header value: {value!r} is not an integer")
        try:
            return struct.pack(fmt, value)
        except struct.error:
            raise InvalidParameterError(f"header value: {value} does not fit in {size} signed bytes") from None

    def decode(data: bytes, pos: int) -> tuple[HeaderValue, int]:
        return struct.unpack_from(fmt, data, pos)[0], pos + size
    return encode, decode


def _encode_sized(value: HeaderValue) -> bytes:
    raw = value.encode("utf-8") if isinstance(value, str) else value
    if not isinstance(raw, bytes):
        raise InvalidParameterError(f"header value: {value!r} is not bytes or str")
    if len(raw) > 0xFFFF:
        raise InvalidParameterError(f"header value: {len(raw)} bytes exceed the 65535-byte limit")
    return struct.pack(">H", len(raw)) + raw


def _decode_bytes(data: bytes, pos: int) -> tuple[HeaderValue, int]:
    (length,) = struct.unpack_from(">H", data, pos)
    end = pos + 2 + length
    if end > len(data):
        raise IndexError("header value runs past the headers")
    return data[pos + 2:end], end


def _decode_string(data: bytes, pos: int) -> tuple[HeaderValue, int]:
    raw, end = _decode_bytes(data, pos)
    assert isinstance(raw, bytes)
    return raw.decode("utf-8"), end  # UnicodeDecodeError is a ValueError: wrapped by the decoder


def _encode_timestamp(value: HeaderValue) -> bytes:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidParameterError(f"header value: {value!r} is not a timezone-aware datetime")
    delta = value - _EPOCH
    if delta.microseconds % 1000:
        raise InvalidParameterError(f"header value: {value.isoformat()} has sub-millisecond precision")
    return struct.pack(">q", (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000)


def _decode_timestamp(data: bytes, pos: int) -> tuple[HeaderValue, int]:
    millis, end = struct.unpack_from(">q", data, pos)[0], pos + 8
    seconds, rest = divmod(millis, 1000)
    return datetime.fromtimestamp(seconds, timezone.utc).replace(microsecond=rest * 1000), end


def _encode_uuid(value: HeaderValue) -> bytes:
    if not isinstance(value, UUID):
        raise InvalidParameterError(f"header value: {value!r} is not a UUID")
    return value.bytes


def _check_bool(value: HeaderValue) -> bytes:
    if not isinstance(value, bool):
        raise InvalidParameterError(f"header value: {value!r} is not a bool")
    return b""


@dataclass(frozen=True, slots=True)
class _Codec:
    kind: HeaderKind
    type_byte: int
    encode: Callable[[HeaderValue], bytes]
    decode: Callable[[bytes, int], tuple[HeaderValue, int]]


_CODECS: tuple[_Codec, ...] = (
    _Codec("bool", 0, _check_bool, lambda data, pos: (True, pos)),
    _Codec("bool", 1, _check_bool, lambda data, pos: (False, pos)),
    _Codec("byte", 2, *_fixed_int(1, ">b")),
    _Codec("short", 3, *_fixed_int(2, ">h")),
    _Codec("integer", 4, *_fixed_int(4, ">i")),
    _Codec("long", 5, *_fixed_int(8, ">q")),
    _Codec("bytes", 6, _encode_sized, _decode_bytes),
    _Codec("string", 7, _encode_sized, _decode_string),
    _Codec("timestamp", 8, _encode_timestamp, _decode_timestamp),
    _Codec("uuid", 9, _encode_uuid, lambda data, pos: (UUID(bytes=data[pos:pos + 16]), pos + 16)),
)
_BY_TYPE = {codec.type_byte: codec for codec in _CODECS}
# bool is the one kind whose type byte depends on the value.
_BY_KIND = {(codec.kind, codec.type_byte == 0 if codec.kind == "bool" else None): codec for codec in _CODECS}


def encode_headers(headers: Iterable[Header]) -> bytes:
    """The wire form of a header block: name length (1 byte), name, type byte, value."""
    out = bytearray()
    for header in headers:
        name = header.name.encode("utf-8")
        if not 0 < len(name) < 256:
            raise InvalidParameterError(f"header name: {header.name!r} must be 1-255 bytes of UTF-8")
        codec = _BY_KIND.get((header.kind, bool(header.value) if header.kind == "bool" else None))
        if codec is None:
            raise InvalidParameterError(f"header {header.name!r}: kind {header.kind!r} is not an event-stream type")
        out += bytes([len(name)]) + name + bytes([codec.type_byte]) + codec.encode(header.value)
    return bytes(out)


def decode_headers(data: bytes) -> tuple[Header, ...]:
    """Parse a header block; raises ValueError/IndexError/struct.error on garbage (the decoder wraps them)."""
    headers, pos = [], 0
    while pos < len(data):
        name_length = data[pos]
        name = data[pos + 1:pos + 1 + name_length].decode("utf-8")
        pos += 1 + name_length
        codec = _BY_TYPE.get(data[pos]) if pos < len(data) and name_length else None
        if codec is None:
            raise ValueError(f"header {name!r}: missing name or unknown value type")
        value, pos = codec.decode(data, pos + 1)
        if pos > len(data):
            raise IndexError(f"header {name!r}: value runs past the headers")
        headers.append(Header(name, value, codec.kind))
    return tuple(headers)


def encode_message(message: Message) -> bytes:
    """One framed message: prelude, prelude CRC, headers, payload, message CRC."""
    headers = encode_headers(message.headers)
    if len(headers) > MAX_HEADERS_LENGTH:
        raise InvalidParameterError(f"headers: {len(headers)} bytes exceed the {MAX_HEADERS_LENGTH}-byte limit")
    total = MIN_MESSAGE_LENGTH + len(headers) + len(message.payload)
    if total > MAX_MESSAGE_LENGTH:
        raise InvalidParameterError(f"message: {total} bytes exceed the {MAX_MESSAGE_LENGTH}-byte limit")
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + headers + message.payload
    return body + struct.pack(">I", zlib.crc32(body))


# -- incremental decoding ----------------------------------------------------------------------------

class EventStreamDecoder:
    """Sans-I/O decoder: `feed(bytes)` returns the complete messages, CRCs checked."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._offset = 0  # stream offset of _buffer[0]
        self._index = 0
        self._error: StreamDecodeError | None = None

    def _fault(self, reason: str, message: str) -> StreamDecodeError:
        self._error = StreamDecodeError(reason, f"event stream, message {self._index} at byte {self._offset}: {message}",
                                        offset=self._offset, index=self._index)
        return self._error

    def feed(self, data: bytes) -> list[Message]:
        """Consume bytes; return the messages they complete."""
        return [message for _, message in self.feed_framed(data)]

    def feed_framed(self, data: bytes) -> list[tuple[int, Message]]:
        """As `feed`, with each message's byte offset in the stream."""
        if self._error is not None:
            raise self._error
        self._buffer += data
        messages: list[tuple[int, Message]] = []
        pos = 0
        buffer = self._buffer
        while len(buffer) - pos >= PRELUDE_LENGTH:
            total, headers_length, prelude_crc = struct.unpack_from(">III", buffer, pos)
            if zlib.crc32(buffer[pos:pos + 8]) != prelude_crc:
                self._drop(pos)
                raise self._fault("crc_mismatch", "prelude CRC does not match; the lengths cannot be trusted")
            if not MIN_MESSAGE_LENGTH + headers_length <= total <= MAX_MESSAGE_LENGTH \
                    or headers_length > MAX_HEADERS_LENGTH:
                self._drop(pos)
                raise self._fault("malformed", f"total length {total} / headers length {headers_length} out of range")
            if len(buffer) - pos < total:
                break
            frame = bytes(buffer[pos:pos + total])
            if zlib.crc32(frame[:-4]) != struct.unpack_from(">I", frame, total - 4)[0]:
                self._drop(pos)
                raise self._fault("crc_mismatch", "message CRC does not match")
            try:
                headers = decode_headers(frame[PRELUDE_LENGTH:PRELUDE_LENGTH + headers_length])
            except (ValueError, IndexError, struct.error) as err:
                self._drop(pos)
                raise self._fault("malformed", f"headers: {err}") from err
            messages.append((self._offset, Message(headers, frame[PRELUDE_LENGTH + headers_length:-4])))
            pos += total
            self._offset += total
            self._index += 1
        del buffer[:pos]
        return messages

    @property
    def consumed(self) -> int:
        """Bytes of complete messages decoded so far."""
        return self._offset

    def _drop(self, pos: int) -> None:
        del self._buffer[:pos]

    def close(self) -> None:
        """The sender is done; raises StreamDecodeError (`truncated`) if a message is incomplete."""
        if self._error is not None:
            raise self._error
        if self._buffer:
            raise self._fault("truncated", f"the stream ended inside a message ({len(self._buffer)} bytes)")


# -- signing -----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class EventSigner:
    """The SigV4 key material for one event stream: the seed request's secret, region and service."""

    secret_access_key: str = field(repr=False)
    region: str
    service: str

    def string_to_sign(self, previous: str, when: datetime, message_bytes: bytes) -> str:
        """`AWS4-HMAC-SHA256-PAYLOAD`, date, scope, previous signature, SHA-256 of the encoded `:date`
        header, SHA-256 of the message bytes (empty for the end frame)."""
        stamp = amz_date(when)
        date_header = encode_headers([Header(":date", when, "timestamp")])
        return (f"AWS4-HMAC-SHA256-PAYLOAD\n{stamp}\n{stamp[:8]}/{self.region}/{self.service}/aws4_request\n"
                f"{previous}\n{hashlib.sha256(date_header).hexdigest()}\n{hashlib.sha256(message_bytes).hexdigest()}")

    def signature(self, previous: str, when: datetime, message_bytes: bytes) -> str:
        key = signing_key(self.secret_access_key, amz_date(when)[:8], self.region, self.service)
        text = self.string_to_sign(previous, when, message_bytes)
        return signature_hex(key, text)

    def envelope(self, previous: str, when: datetime, message_bytes: bytes) -> tuple[str, bytes]:
        """The fold step: sign `message_bytes` (b"" for the end frame) chained to `previous`;
        return the signature (hex) and the encoded envelope message."""
        when = _whole_seconds(when)
        signature = self.signature(previous, when, message_bytes)
        headers = (Header(":chunk-signature", bytes.fromhex(signature), "bytes"), Header(":date", when, "timestamp"))
        return signature, encode_message(Message(headers, message_bytes))


def _whole_seconds(when: datetime) -> datetime:
    amz_date(when)  # refuses naive datetimes with the signer's own message
    return when.astimezone(timezone.utc).replace(microsecond=0)


Timestamps = Union[Iterable[datetime], Callable[[], datetime]]


def sign_events(messages: Iterable[Message], signer: EventSigner, seed_signature: str,
                timestamps: Timestamps) -> Iterator[bytes]:
    """Lazily yield each message signed and wrapped, then the signed empty end frame.

    `timestamps` is one datetime per envelope (messages + 1 for the end
    frame), as an iterable or a callable the caller controls; raises
    InvalidParameterError when the iterable runs out.
    """
    times = timestamps if callable(timestamps) else iter(timestamps).__next__
    previous = seed_signature

    def next_time() -> datetime:
        try:
            return times()
        except StopIteration:
            raise InvalidParameterError("timestamps: one per message plus one for the end frame; ran out") from None

    for message in messages:
        previous, envelope = signer.envelope(previous, next_time(), encode_message(message))
        yield envelope
    yield signer.envelope(previous, next_time(), b"")[1]


@dataclass(frozen=True, slots=True)
class SignedEvent:
    index: int
    offset: int  # byte offset of the envelope in the stream
    message: Message
    signature: str
    date: datetime


@dataclass(frozen=True, slots=True)
class EndOfStream:
    signature: str
    date: datetime


class SignedEventStreamDecoder:
    """Decodes envelopes, verifies the signature chain from the seed, unwraps the inner messages."""

    def __init__(self, signer: EventSigner, seed_signature: str) -> None:
        self._frames = EventStreamDecoder()
        self._signer = signer
        self._previous = seed_signature
        self._index = 0
        self._ended = False
        self._error: StreamDecodeError | None = None

    def feed(self, data: bytes) -> list[SignedEvent | EndOfStream]:
        """Consume bytes; return the verified events they complete. Raises StreamDecodeError."""
        if self._error is not None:
            raise self._error
        try:
            return [self._open(offset, envelope) for offset, envelope in self._frames.feed_framed(data)]
        except StreamDecodeError as err:
            self._error = err
            raise

    def close(self) -> None:
        """The sender is done; raises StreamDecodeError (`truncated`) without a complete end frame."""
        if self._error is not None:
            raise self._error
        self._frames.close()
        if not self._ended:
            self._error = StreamDecodeError("truncated", f"event stream: no end frame after {self._index} messages",
                                            offset=self._frames.consumed, index=self._index)
            raise self._error

    def _fail(self, offset: int, message: str) -> StreamDecodeError:
        return StreamDecodeError("malformed", f"event stream, message {self._index} at byte {offset}: {message}",
                                 offset=offset, index=self._index)

    def _open(self, offset: int, envelope: Message) -> SignedEvent | EndOfStream:
        index = self._index
        if self._ended:
            raise self._fail(offset, "a message follows the end frame")
        signature_header, date_header = envelope.header(":chunk-signature"), envelope.header(":date")
        if signature_header is None or signature_header.kind != "bytes" or \
                date_header is None or date_header.kind != "timestamp":
            raise self._fail(offset, "an envelope needs :chunk-signature (bytes) and :date (timestamp) headers")
        assert isinstance(signature_header.value, bytes) and isinstance(date_header.value, datetime)
        when = date_header.value
        text = self._signer.string_to_sign(self._previous, when, envelope.payload)
        expected = self._signer.signature(self._previous, when, envelope.payload)
        if not hmac.compare_digest(bytes.fromhex(expected), signature_header.value):
            raise StreamSignatureError(
                f"event stream, message {index} at byte {offset}: :chunk-signature does not verify against the "
                "string-to-sign chained from the previous signature", offset=offset, index=index, string_to_sign=text)
        self._previous = expected
        self._index += 1
        if not envelope.payload:
            self._ended = True
            return EndOfStream(expected, when)
        try:
            (inner,) = _decode_one(envelope.payload)
        except StreamDecodeError as err:
            raise self._fail(offset, f"the signed payload is not one event-stream message ({err})") from err
        return SignedEvent(index, offset, inner, expected, when)


def _decode_one(data: bytes) -> list[Message]:
    decoder = EventStreamDecoder()
    messages = decoder.feed(data)
    decoder.close()
    if len(messages) != 1:
        raise StreamDecodeError("malformed", f"{len(messages)} messages", offset=0, index=0)
    return messages
