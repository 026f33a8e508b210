"""Plain HTTP/1.1 without h11 (`wire.transport.http1`, `RequestFraming(plain=True)`) reads and writes as h11 does.

Oracle: h11 itself (`RequestFraming(plain=False)`), on generated pipelined streams fed whole, in random pieces
and byte by byte (`tests/http1_differential.py`); the long run is `benchmarks/fuzz_http1.py`.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.http1_differential import Answer, Unbounded, answers, check, cuts, limits, streams
from wire.transport import framing
from wire.transport.framing import NEED_DATA, Head, Held, RequestFraming, ServeLimits
from wire.transport.http1 import UNUSUAL, PlainHead, check_response_headers, read_head, response_bytes

OK = [Answer(200, (("Content-Type", "application/json"),), b"{}")]


@settings(max_examples=300)
@given(streams, cuts, st.booleans(), limits, answers)
def test_plain_framing_equals_h11_on_generated_streams(data: bytes, at: list[int], eof: bool, limits: ServeLimits,
                                                      replies: list[Answer]) -> None:
    check(data, at, eof, limits, replies)


@settings(max_examples=60)
@given(streams, st.booleans(), answers)
def test_plain_framing_equals_h11_byte_by_byte(data: bytes, eof: bool, replies: list[Answer]) -> None:
    check(data, list(range(len(data))), eof, ServeLimits(), replies)


PLAIN = b"POST /a?b=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nX-Amz-Date:\t20261207T000000Z \r\n\r\nabc"


def test_a_plain_head_is_read_without_h11() -> None:
    head = read_head(PLAIN)
    assert head == PlainHead("POST", "/a?b=1", [("Host", "x"), ("Content-Length", "3"),
                                                ("X-Amz-Date", "20261207T000000Z")], 3, False, 64, len(PLAIN) - 3)
    assert read_head(PLAIN[:40]) is None  # not whole yet


# Each is left to h11, which reads it (its rules) or refuses it: one rulebook, so no two readings to play off.
@pytest.mark.parametrize("head", [
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",  # smuggling
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n",  # duplicate
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 4\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \xd9\xa3\r\n\r\n",  # an Arabic-Indic digit
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + b"1" * 21 + b"\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",  # obs-fold
    b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n",  # bare CR
    b"GET / HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n",  # bare LF
    b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",  # whitespace before the colon
    b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n",  # a control byte
    b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7f\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00\r\n\r\n",
    b"GET / HTTP/1.0\r\nHost: x\r\n\r\n",
    b"GET / HTTP/2.0\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1\r\n\r\n",  # no Host
    b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n",
    b"CONNECT x:443 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /\x80 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\n\n",
    b"\x16\x03\x01",  # a TLS hello, incomplete: refused at its first byte
])
def test_anything_not_plain_is_left_to_h11(head: bytes) -> None:
    assert read_head(head) is UNUSUAL
    check(head, [], True, ServeLimits(), OK)


def test_a_plain_answer_is_h11s_byte_for_byte_and_says_close_when_asked() -> None:
    data, keep = response_bytes(200, [("Connection", "keep-alive"), ("X-A", "1")], b"{}", "D", close=True, head=False)
    assert data == b"HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 2\r\nDate: D\r\nConnection: close\r\n\r\n{}"
    assert keep is False
    assert response_bytes(200, [], b"{}", "D", close=False, head=True) == (
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nDate: D\r\n\r\n", True)
    check(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", [], False, ServeLimits(), OK)


@pytest.mark.parametrize("header", [("X-A", "a\r\nSet-Cookie: x=1"), ("X-A", "a\x01"), ("X-A", " a"), ("X A", "1"),
                                    ("X-A", "é"), ("Content-Length", "2"), ("Transfer-Encoding", "chunked")])
def test_an_answer_header_that_cannot_be_sent_is_refused_by_name(header: tuple[str, str]) -> None:
    with pytest.raises(ValueError, match=header[0]):
        check_response_headers([header])


def test_a_long_adversarial_head_is_read_in_linear_time() -> None:
    # Values of many spaced words ending in a byte the grammar refuses: a backtracking regex would take
    # quadratic time or worse. Read (as UNUSUAL) at once; h11 then refuses it.
    line = b"X-A: " + b"a " * 4000 + b"\x01\r\n"
    assert read_head(b"GET / HTTP/1.1\r\nHost: x\r\n" + line * 2 + b"\r\n") is UNUSUAL


def test_a_head_arriving_a_byte_at_a_time_is_searched_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Before: each piece of a head still arriving had the whole buffer searched again for its end, quadratic in
    # the head's size (a 16 KiB head sent a byte at a time: ~130 million bytes searched, for one connection).
    searched: list[int] = []

    def counting(data: bytes | bytearray, done: int = 0) -> object:
        searched.append(len(data) - done)  # the bytes this call had to look through
        return read_head(data, done)

    monkeypatch.setattr(framing, "read_head", counting)
    reader = RequestFraming(ServeLimits(), Held(Unbounded()), plain=True)
    head = b"GET / HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 10_000 + b"\r\n\r\n"
    events = []
    for byte in head:
        reader.receive(bytes([byte]))
        events.append(reader.next_event())
    assert events[:-1] == [NEED_DATA] * (len(head) - 1) and isinstance(events[-1], Head)
    assert sum(searched) < 2 * len(head)
