"""The long fuzz run of every reader of outside bytes (but the debugger's capture formats).

The same harness as the suite's `tests/test_fuzz_readers.py` (`tests/fuzz_harness.py`), with many more cases:
for each reader, the cases run, how many were accepted, the errors raised by type, the longest case, and the
peak traced memory of the sampled cases (tracemalloc on every `--memory-every`-th case) with that case's input
size. A case that raises anything its reader's contract does not name is printed with its input, and the exit
status is 1. Not a test: nothing here asserts on time.

    python3 benchmarks/fuzz_readers.py --cases 100000 [--seed N] [--only cbor xml ...] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fuzz_harness import MAX_INPUT, fuzz, readers  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000, help="cases per reader (default 100000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="*", default=[], help="reader names (default: all)")
    parser.add_argument("--memory-every", type=int, default=100, help="trace memory of every Nth case")
    parser.add_argument("--json", action="store_true", help="one JSON object per reader instead of the table")
    args = parser.parse_args()
    chosen = {name: reader for name, reader in readers().items() if not args.only or name in args.only}
    print(f"{args.cases} cases per reader, inputs of at most {MAX_INPUT} bytes, seed {args.seed}", flush=True)
    unexpected = 0
    for name, reader in chosen.items():
        started = time.perf_counter()
        report = fuzz(reader, args.cases, args.seed, memory_every=args.memory_every)
        unexpected += len(report.failures)
        row = report.as_dict()
        row["seconds"] = round(time.perf_counter() - started, 1)
        if args.json:
            print(json.dumps(row), flush=True)
            continue
        errors = ", ".join(f"{kind} {count}" for kind, count in report.errors.most_common())
        print(f"{name:10} {report.cases} cases in {row['seconds']} s: accepted {report.accepted}; {errors}; "
              f"longest case {report.max_seconds * 1000:.1f} ms; peak memory {report.max_memory / 1024:.0f} KiB "
              f"(input {report.max_memory_input} B); unexpected {len(report.failures)}", flush=True)
        for line in row["unexpected"][:10]:
            print(f"    {line}")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
