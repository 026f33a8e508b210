"""The long fuzz run of the capture readers and the diagnosis (issue 22): at least 1e5 mutants of real
captures of every format; only `CaptureError`, bounded memory per case (tests/capture_fuzz.py).

    python3 benchmarks/fuzz_captures.py [CASES] [SEED]     # default 100000 cases, seed 0

Runs in chunks of 10,000 (chunk i fuzzes with seed SEED * 1000 + i; one capture in 16 is diagnosed with
a secret, which runs the mistake search) and prints the running counts by outcome and format after each,
and the elapsed time; exits 1 on the first violation.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from collections import Counter  # noqa: E402

from tests.capture_fuzz import run  # noqa: E402

CHUNK = 10_000


def main() -> None:
    cases = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    start, counts = time.perf_counter(), Counter[str]()
    for chunk, first in enumerate(range(0, cases, CHUNK)):
        counts += run(min(CHUNK, cases - first), seed * 1000 + chunk, secret_every=16)
        print(f"{min(first + CHUNK, cases)} cases (seed {seed}) in {time.perf_counter() - start:.0f} s: "
              + ", ".join(f"{name} {count}" for name, count in sorted(counts.items())), flush=True)


if __name__ == "__main__":
    main()
