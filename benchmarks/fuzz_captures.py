"""The long fuzz run of the capture readers and the diagnosis (issue 22): at least 1e5 mutants of real
captures of every format; only `CaptureError`, bounded memory per case (tests/capture_fuzz.py).

    python3 benchmarks/fuzz_captures.py [CASES] [SEED]     # default 100000 cases, seed 0

Prints the counts by outcome and format, and the elapsed time; exits 1 on the first violation.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.capture_fuzz import run  # noqa: E402


def main() -> None:
    cases = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    start = time.perf_counter()
    counts = run(cases, seed)
    print(f"{cases} cases (seed {seed}) in {time.perf_counter() - start:.0f} s: "
          + ", ".join(f"{name} {count}" for name, count in sorted(counts.items())))


if __name__ == "__main__":
    main()
