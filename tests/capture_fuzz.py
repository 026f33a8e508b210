"""Seeded fuzzing of the capture readers and the diagnosis, shared by tests/test_capture_fuzz.py (a few
hundred cases, seconds) and benchmarks/fuzz_captures.py (1e5 cases and more).

Seeds are real captures of every format (tests/fixtures/real: raw, curl -v, --trace, --trace-ascii, HAR,
aws --debug, send --json, send -v, awscurl -v; the JavaScript SDK's and aws4's prints). Each case mutates one
seed the ways damaged or hostile files
differ: bytes flipped, inserted or deleted, a span repeated, truncated, a number made huge (the trace
offsets, sizes and Content-Length that readers could trust), a long line. The invariant: `parse_capture`
returns a `Capture` or raises `CaptureError`, and `diagnose_capture` on what it returns raises nothing;
each case's allocation peak stays under `MEMORY_BOUND` times the input plus a constant.
"""

from __future__ import annotations

import random
import tracemalloc
from collections import Counter
from pathlib import Path

from wire.debugger.capture import CaptureError, parse_capture
from wire.debugger.diagnose import diagnose_capture

_FIXTURES = Path(__file__).parent / "fixtures"
#: Real captures of every format, and the JavaScript prints (the SDK's HttpRequest and error, aws4's options).
SEEDS = sorted([*(_FIXTURES / "real").glob("*.capture"), *(_FIXTURES / "capture").glob("js-sdk-*.txt"),
                *(_FIXTURES / "capture").glob("aws4-*.txt")])
#: Peak allocation allowed per case: this many times the input, plus 8 MiB.
MEMORY_BOUND = 64
_NUMBERS = (b"0fffffff", b"ffffffff", b"9" * 5000, b"99999999999999999999", b"-1", b"\xb2")


def _huge_number(data: bytearray, rng: random.Random) -> None:
    digits = [i for i in range(len(data)) if 0x30 <= data[i] <= 0x39]
    if digits:
        at = rng.choice(digits)
        data[at:at + 1] = rng.choice(_NUMBERS)


def _mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        at = rng.randrange(len(out) + 1)
        if op == 0 and out:
            out[min(at, len(out) - 1)] = rng.randrange(256)
        elif op == 1:
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 2:
            del out[at:at + rng.randint(1, 64)]
        elif op == 3:
            span = out[at:at + rng.randint(1, 200)]
            out[at:at] = span * rng.randint(1, 50)
        elif op == 4:
            del out[at:]
        elif op == 5:
            _huge_number(out, rng)
        else:
            out[at:at] = rng.choice((b"\n", b" ", b"\"", b"'", b"{", b"}", b"=> Send header, ", b"> ",
                                     b"Making request for OperationModel(")) * rng.randint(1, 2000)
    return bytes(out)


def run(cases: int, seed: int = 0, secret_every: int = 2) -> Counter[str]:
    """Fuzz `cases` mutants (deterministic for `seed`); every `secret_every`-th capture read is diagnosed with
    a secret (the mistake search, the costly part), the others without. Returns counts by outcome
    ("capture", "CaptureError", and per format). Raises AssertionError naming the case on any other
    exception or a memory peak over the bound."""
    rng = random.Random(seed)
    counts: Counter[str] = Counter()
    seeds = [path.read_bytes() for path in SEEDS]
    tracemalloc.start()
    try:
        for index in range(cases):
            data = _mutate(rng.choice(seeds), rng)
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
            try:
                capture = parse_capture(data, scheme=rng.choice(("http", "https")))
            except CaptureError:
                counts["CaptureError"] += 1
            except Exception as err:  # noqa: BLE001  (the invariant under test)
                raise AssertionError(f"case {index} (seed {seed}): {type(err).__name__}: {err}\n{data[:300]!r}") from err
            else:
                counts["capture"] += 1
                counts[f"format {capture.format}"] += 1
                try:
                    diagnose_capture(capture, secret="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
                                     if index % secret_every == 0 else None)
                except Exception as err:  # noqa: BLE001
                    raise AssertionError(f"case {index} (seed {seed}): diagnose: {type(err).__name__}: {err}") \
                        from err
            peak = tracemalloc.get_traced_memory()[1] - before
            assert peak <= MEMORY_BOUND * len(data) + (8 << 20), f"case {index} (seed {seed}): peak {peak} bytes " \
                                                                  f"for {len(data)} bytes of input"
    finally:
        tracemalloc.stop()
    return counts
