"""aws-chunked signing throughput against plain SHA-256, and its memory profile.

Streams N MiB (default 256) from a generator of 64 KiB pieces through
`sigv4.sign(..., payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")` and drains the
encoded body, against `hashlib.sha256` over the same stream; each timed best
of R rounds, the rows taking turns within a round. Peak traced memory (tracemalloc, separate untimed runs) is shown
for two stream sizes to show it stays flat. Also times the trailer forms
(crc32 via zlib; crc32c and crc64nvme through both implementations: awscrt's C
when installed, over the full stream, and the pure-Python fallback on a
smaller one) and the decoder. Targets: chunked signing within 15% of plain
SHA-256 (ratio <= 1.15); a crc32c or crc64nvme trailer with the C
implementation at most 1.5x plain SHA-256. Not a test: no assertions on time.

    python benchmarks/bench_chunked.py [--mib N] [--rounds R]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sigv4 import Credentials, Request, sign  # noqa: E402
from sigv4.checksums import CHECKSUMS  # noqa: E402
from sigv4.chunked import ChunkScope  # noqa: E402
from sigv4.chunked_decode import ChunkedDecoder, hmac_verifier  # noqa: E402
from sigv4.keys import signing_key  # noqa: E402
from interleaved import best_us  # noqa: E402  (benchmarks/, beside this script)

PIECE = 64 * 1024
TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
CREDS = Credentials("AKIDBENCH", "bench/secret")
WHEN = datetime(2024, 1, 1, tzinfo=timezone.utc)
_BLOCK = bytes(range(256)) * (PIECE // 256)


def stream(mib: int) -> Iterator[bytes]:
    for _ in range(mib * 1024 * 1024 // PIECE):
        yield _BLOCK


def plain_sha256(mib: int) -> int:
    digest = hashlib.sha256()
    for piece in stream(mib):
        digest.update(piece)
    return len(digest.digest())


@contextmanager
def pure(name: str) -> Iterator[None]:
    """The pure-Python implementation of checksum `name` in place of awscrt's, for the rows that time it."""
    row = CHECKSUMS[name]
    CHECKSUMS[name] = replace(row, new=row.pure, implementation="python")
    try:
        yield
    finally:
        CHECKSUMS[name] = row


def drain_pure(mib: int, checksum: str) -> int:
    with pure(checksum):
        return drain(mib, TRAILER, checksum)


def signed_body(mib: int, payload: str, checksum: str | None = None) -> Iterator[bytes]:
    request = Request("PUT", "https://bucket.s3.amazonaws.com/key",
                      [("x-amz-decoded-content-length", str(mib << 20))], stream(mib))
    res = sign(request, CREDS, region="us-east-1", service="s3", timestamp=WHEN, s3=True, payload=payload,
               chunk_size=PIECE, trailer_checksum=checksum)
    return iter(res.request.body)  # type: ignore[arg-type]


def drain(mib: int, payload: str, checksum: str | None = None) -> int:
    return sum(len(frame) for frame in signed_body(mib, payload, checksum))


def decode(mib: int) -> int:
    request = Request("PUT", "https://bucket.s3.amazonaws.com/key",
                      [("x-amz-decoded-content-length", str(mib << 20))], stream(mib))
    res = sign(request, CREDS, region="us-east-1", service="s3", timestamp=WHEN, s3=True,
               payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD", chunk_size=PIECE)
    decoder = ChunkedDecoder(res.payload_hash, seed_signature=res.signature,
                             scope=ChunkScope(res.algorithm, res.amz_date, res.credential_scope),
                             verify=hmac_verifier(signing_key(CREDS.secret_access_key, "20240101", "us-east-1", "s3")))
    total = 0
    for frame in res.request.body:  # type: ignore[union-attr]
        total += sum(len(e.data) for e in decoder.feed(frame) if hasattr(e, "data"))
    decoder.close()
    return total


def peak_kib(run: Callable[[], int]) -> float:
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    mib, rounds = args.mib, args.rounds
    rows: list[tuple[str, int, Callable[[], int]]] = [
        ("hashlib.sha256 (baseline)", mib, lambda: plain_sha256(mib)),
        ("chunked STREAMING-AWS4-HMAC-SHA256-PAYLOAD", mib, lambda: drain(mib, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")),
        ("chunked ...-PAYLOAD-TRAILER crc32", mib, lambda: drain(mib, TRAILER, "crc32")),
        ("chunked ...-PAYLOAD-TRAILER sha256", mib, lambda: drain(mib, TRAILER, "sha256")),
        (f"chunked ...-TRAILER crc32c ({CHECKSUMS['crc32c'].implementation})", mib,
         lambda: drain(mib, TRAILER, "crc32c")),
        (f"chunked ...-TRAILER crc64nvme ({CHECKSUMS['crc64nvme'].implementation})", mib,
         lambda: drain(mib, TRAILER, "crc64nvme")),
        ("decode + verify (sign, then ChunkedDecoder)", mib, lambda: decode(mib)),
    ]
    small = max(1, mib // 64)
    rows += [(f"chunked ...-TRAILER {name} (python, {small} MiB)", small,
              lambda name=name: drain_pure(small, name)) for name in ("crc32c", "crc64nvme")]  # type: ignore[misc]
    best = best_us({name: run for name, _, run in rows}, 1, rounds)
    times = [best[name] / 1e6 for name, _, _ in rows]
    print(f"stream: {mib} MiB in {PIECE // 1024} KiB pieces; best of {rounds} interleaved rounds")
    print(f"{'operation':<44}{'MB/s':>10}{'ratio':>8}")
    for (name, size, _), seconds in zip(rows, times):
        rate = size * 1.048576 / seconds
        ratio = seconds / times[0] * (mib / size)
        print(f"{name:<44}{rate:>10.1f}{ratio:>8.2f}")
    print("targets (time vs plain SHA-256 over the same stream): chunked signing <= 1.15; "
          "a crc32c or crc64nvme trailer with awscrt <= 1.5")
    print("peak traced memory, chunked signing (should not grow with the stream):")
    for size in (max(1, mib // 8), mib):
        print(f"  {size:>5} MiB: {peak_kib(lambda: drain(size, 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD')):8.1f} KiB")


if __name__ == "__main__":
    main()
