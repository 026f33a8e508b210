"""Event-stream framing and STREAMING-AWS4-HMAC-SHA256-EVENTS signing.

Oracles: smithy-rs `aws-sigv4` event_stream.rs `string_to_sign` test (the
framing, the `:date` header encoding and the string-to-sign, byte for byte),
botocore's `EventStreamBuffer` decoding what we encode (differential), and the
JS SDK's `signMessage` signatures of messages and empty end frames (replayed).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID

import pytest
from botocore.eventstream import EventStreamBuffer
from hypothesis import given, settings
from hypothesis import strategies as st

from sigv4 import Credentials, Request, sign
from sigv4.errors import InvalidParameterError, StreamDecodeError, StreamSignatureError
from sigv4.eventstream import (
    EVENTS_PAYLOAD,
    EndOfStream,
    EventSigner,
    EventStreamDecoder,
    Header,
    Message,
    SignedEvent,
    SignedEventStreamDecoder,
    encode_message,
    sign_events,
)

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
SIGNER = EventSigner("events/secret", "us-west-2", "transcribe")
SEED = "aa" * 32

timestamps = st.integers(-(2**40), 2**40).map(
    lambda ms: datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=ms))
names = st.text(st.characters(codec="utf-8", exclude_characters=":"), min_size=1, max_size=20).filter(
    lambda n: len(n.encode()) < 256)
header_values = st.one_of(
    st.booleans().map(lambda v: (v, "bool")),
    st.integers(-128, 127).map(lambda v: (v, "byte")),
    st.integers(-(2**15), 2**15 - 1).map(lambda v: (v, "short")),
    st.integers(-(2**31), 2**31 - 1).map(lambda v: (v, "integer")),
    st.integers(-(2**63), 2**63 - 1).map(lambda v: (v, "long")),
    st.binary(max_size=300).map(lambda v: (v, "bytes")),
    st.text(max_size=100).map(lambda v: (v, "string")),
    timestamps.map(lambda v: (v, "timestamp")),
    st.uuids().map(lambda v: (v, "uuid")),
)
typed_headers = st.tuples(names, header_values).map(lambda t: Header(t[0], t[1][0], t[1][1]))
messages = st.builds(lambda h, p: Message(tuple(h), p), st.lists(typed_headers, max_size=6), st.binary(max_size=2000))
# botocore refuses a repeated header name (DuplicateHeader); the format itself allows it.
distinct_messages = st.builds(lambda h, p: Message(tuple(h), p),
                              st.lists(typed_headers, max_size=6, unique_by=lambda h: h.name), st.binary(max_size=2000))


def test_smithy_rs_string_to_sign_vector() -> None:
    message = Message((Header("some-header", "value", "string"),), b"test payload")
    text = EventSigner("unused", "us-east-1", "testservice").string_to_sign(
        hashlib.sha256(b"last message sts").hexdigest(), datetime.fromtimestamp(123456789, timezone.utc),
        encode_message(message))
    assert text.split("\n") == [
        "AWS4-HMAC-SHA256-PAYLOAD",
        "19731129T213309Z",
        "19731129/us-east-1/testservice/aws4_request",
        "be1f8c7d79ef8e1abc5254a2c70e4da3bfaf4f07328f527444e1fc6ea67273e2",
        "0c0e3b3bf66b59b976181bd7d401927bbd624107303c713fd1e5f3d3c8dd1b1e",
        "f2eba0f2e95967ee9fbc6db5e678d2fd599229c0d04b11e4fc8e0f2a02a806c6",
    ]


@settings(max_examples=150, deadline=None)
@given(batch=st.lists(messages, max_size=5), cuts=st.lists(st.integers(0, 50_000), max_size=10))
def test_encode_decode_round_trip_in_any_slices(batch: list[Message], cuts: list[int]) -> None:
    wire = b"".join(encode_message(m) for m in batch)
    points = sorted({0, len(wire), *(c % (len(wire) + 1) for c in cuts)})
    decoder = EventStreamDecoder()
    decoded: list[Message] = []
    for start, end in zip(points, points[1:]):
        decoded += decoder.feed(wire[start:end])
    decoder.close()
    assert decoded == batch


@settings(max_examples=100, deadline=None)
@given(message=distinct_messages)
def test_botocore_decodes_what_we_encode(message: Message) -> None:
    buffer = EventStreamBuffer()
    buffer.add_data(encode_message(message))
    (theirs,) = list(buffer)
    assert theirs.payload == message.payload
    expected = {}
    for header in message.headers:  # botocore gives timestamps as ms, uuids as bytes
        value = header.value
        if isinstance(value, datetime):
            value = int((value - datetime(1970, 1, 1, tzinfo=timezone.utc)) / timedelta(milliseconds=1))
        elif isinstance(value, UUID):
            value = value.bytes
        expected[header.name] = value
    assert theirs.headers == expected


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=200))
def test_decoder_raises_only_its_own_error(data: bytes) -> None:
    decoder = EventStreamDecoder()
    try:
        decoder.feed(data)
        decoder.close()
    except StreamDecodeError:
        pass


def test_crc_faults_name_the_message() -> None:
    first, second = encode_message(Message(payload=b"one")), encode_message(Message(payload=b"two"))
    broken = bytearray(first + second)
    broken[len(first) + 14] ^= 1  # a payload byte of message 1
    with pytest.raises(StreamDecodeError) as caught:
        EventStreamDecoder().feed(bytes(broken))
    assert (caught.value.reason, caught.value.index, caught.value.offset) == ("crc_mismatch", 1, len(first))
    broken = bytearray(first)
    broken[2] ^= 1  # the total length: the prelude CRC catches it before the length is trusted
    with pytest.raises(StreamDecodeError) as caught:
        EventStreamDecoder().feed(bytes(broken))
    assert (caught.value.reason, caught.value.index) == ("crc_mismatch", 0)
    with pytest.raises(StreamDecodeError, match="ended inside a message") as caught:
        decoder = EventStreamDecoder()
        decoder.feed(first[:-1])
        decoder.close()
    assert caught.value.reason == "truncated"


@pytest.mark.parametrize(("header", "message"), [
    (Header("n", 300, "byte"), "does not fit in 1"),
    (Header("n", "x", "long"), "not an integer"),
    (Header("n", datetime(2024, 1, 1, 0, 0, 0, 1, tzinfo=timezone.utc), "timestamp"), "sub-millisecond"),
    (Header("n", datetime(2024, 1, 1), "timestamp"), "timezone-aware"),
    (Header("", b"", "bytes"), "header name"),
    (Header("n", 1, "float"), "not an event-stream type"),  # type: ignore[arg-type]
])
def test_bad_header_values_are_refused(header: Header, message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        encode_message(Message((header,)))


# -- signing -----------------------------------------------------------------------------------------

def signed_stream(batch: list[Message], times: list[datetime]) -> bytes:
    return b"".join(sign_events(batch, SIGNER, SEED, times))


@settings(max_examples=60, deadline=None)
@given(batch=st.lists(messages, max_size=4), cuts=st.lists(st.integers(0, 20_000), max_size=8),
       step=st.integers(0, 90_000))
def test_sign_then_verify_round_trip(batch: list[Message], cuts: list[int], step: int) -> None:
    times = [T0 + timedelta(milliseconds=step * i) for i in range(len(batch) + 1)]
    wire = signed_stream(batch, times)
    points = sorted({0, len(wire), *(c % (len(wire) + 1) for c in cuts)})
    decoder = SignedEventStreamDecoder(SIGNER, SEED)
    events: list[SignedEvent | EndOfStream] = []
    for start, end in zip(points, points[1:]):
        events += decoder.feed(wire[start:end])
    decoder.close()
    assert [e.message for e in events if isinstance(e, SignedEvent)] == batch
    assert isinstance(events[-1], EndOfStream)
    assert [e.date for e in events] == [t.replace(microsecond=0) for t in times]


def test_envelope_shape_and_chain() -> None:
    wire = signed_stream([Message(payload=b"hello")], [T0, T0 + timedelta(seconds=1)])
    envelopes = EventStreamDecoder().feed(wire)
    assert [h.name for h in envelopes[0].headers] == [":chunk-signature", ":date"]
    assert envelopes[1].payload == b""  # the end frame
    first = SIGNER.signature(SEED, T0, encode_message(Message(payload=b"hello")))
    assert envelopes[0].header(":chunk-signature").value == bytes.fromhex(first)  # type: ignore[union-attr]
    end = SIGNER.signature(first, T0 + timedelta(seconds=1), b"")
    assert envelopes[1].header(":chunk-signature").value == bytes.fromhex(end)  # type: ignore[union-attr]


def test_tampered_message_reports_its_index_and_offset() -> None:
    batch = [Message(payload=b"a" * 10), Message(payload=b"b" * 10), Message(payload=b"c" * 10)]
    wire = signed_stream(batch, [T0] * 4)
    envelopes = EventStreamDecoder().feed_framed(wire)
    offset = envelopes[1][0]
    # Re-sign message 1 with a different payload under the wrong key: CRCs valid, signature not.
    forged = EventSigner("other", "us-west-2", "transcribe").envelope(
        SIGNER.signature(SEED, T0, encode_message(batch[0])), T0, encode_message(Message(payload=b"B" * 10)))[1]
    tampered = wire[:offset] + forged + wire[envelopes[2][0]:]
    decoder = SignedEventStreamDecoder(SIGNER, SEED)
    with pytest.raises(StreamSignatureError) as caught:
        decoder.feed(tampered)
    assert (caught.value.index, caught.value.offset) == (1, offset)
    with pytest.raises(StreamSignatureError):
        decoder.feed(b"")  # fails fast


def test_missing_end_frame_and_extra_frames() -> None:
    wire = signed_stream([Message(payload=b"x")], [T0, T0])
    cut = EventStreamDecoder().feed_framed(wire)[1][0]
    decoder = SignedEventStreamDecoder(SIGNER, SEED)
    decoder.feed(wire[:cut])
    with pytest.raises(StreamDecodeError, match="no end frame"):
        decoder.close()
    with pytest.raises(StreamDecodeError, match="follows the end frame"):
        SignedEventStreamDecoder(SIGNER, SEED).feed(wire + wire)


def test_timestamps_from_a_callable_and_running_out() -> None:
    ticks = iter(range(10))
    wire = b"".join(sign_events([Message(payload=b"p")], SIGNER, SEED, lambda: T0 + timedelta(seconds=next(ticks))))
    events = SignedEventStreamDecoder(SIGNER, SEED).feed(wire)
    assert [e.date for e in events] == [T0, T0 + timedelta(seconds=1)]
    with pytest.raises(InvalidParameterError, match="timestamps: one per message plus one"):
        signed_stream([Message(payload=b"p")], [T0])


def test_seed_from_a_signed_events_request() -> None:
    creds = Credentials("AKIDEVENTS", SIGNER.secret_access_key)
    request = Request("POST", "https://transcribestreaming.us-west-2.amazonaws.com/stream-transcription",
                      [("Content-Type", "application/vnd.amazon.eventstream")])
    seed = sign(request, creds, region="us-west-2", service="transcribe", timestamp=T0, payload=EVENTS_PAYLOAD,
                content_sha256_header=True)
    assert seed.request.header("x-amz-content-sha256") == EVENTS_PAYLOAD
    wire = b"".join(sign_events([Message(payload=b"audio")], SIGNER, seed.signature, [T0, T0]))
    events = SignedEventStreamDecoder(SIGNER, seed.signature).feed(wire)
    assert isinstance(events[0], SignedEvent) and events[0].message.payload == b"audio"


JS_SIGNED = [case for line in (Path(__file__).parent / "fixtures" / "js_oracles.jsonl").read_text().splitlines()
             if (case := json.loads(line))["preset"] == "eventstream"]


@pytest.mark.parametrize("case", JS_SIGNED, ids=lambda c: f"{len(c['body']) // 2}-bytes")
def test_message_and_end_frame_signatures_equal_the_js_sdk(case: dict[str, str]) -> None:
    """@smithy/signature-v4's `signMessage` (the JS SDK's event-stream signer), replayed: see
    vectors/js_oracles/generate.py. An empty body is the end frame that closes a signed stream."""
    when = datetime.fromisoformat(case["time"].replace("Z", "+00:00"))
    signer = EventSigner(case["secret"], case["region"], "transcribe")
    body = bytes.fromhex(case["body"])
    assert signer.signature(case["prior"], when, body) == case["signature"]
    signature, envelope = signer.envelope(case["prior"], when, body)
    (decoded,) = EventStreamDecoder().feed(envelope)
    assert decoded.header(":chunk-signature").value == bytes.fromhex(case["signature"])  # type: ignore[union-attr]
    assert decoded.payload == body and signature == case["signature"]
