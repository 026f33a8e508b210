"""The long run of the false-accept property (tests/test_verify_exact.py runs 1,500 mutants per variant).

For each variant (v4 and v4a header-signed, presigned v4/v4a, SigV2 GET/POST form, S3's SigV2 header-signed
or presigned, aws-chunked bodies through the chunk decoder), sign generated requests and verify generated
mutants of them as a server receives them (tests/false_accept.py): byte edits, insertions and deletions in
the method, path, query names and values (`%`-escapes re-cased, decoded, changed, `+`/`%2B`/`%20`), header
names and values, body and chunk frames; query reorderings and repeats; duplicate and reordered headers, a
second Host.
A mutant `verify` accepts must read as the signed request does (`sigv4.verified.verified_request`):
otherwise it counts as a false accept. Prints the counts per variant; exits 1 if any false accept or
unexpected exception occurred.

    python benchmarks/fuzz_false_accept.py [--cases N] [--seed S] [--variants v4,v2,...]

`--cases`: mutants per variant (default 100000).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.false_accept import OUTCOMES, VARIANTS, run  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000, help="mutants per variant")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of {', '.join(VARIANTS)}")
    args = parser.parse_args()
    variants = args.variants.split(",")
    if unknown := set(variants) - set(VARIANTS):
        parser.error(f"--variants: unknown {', '.join(sorted(unknown))}")
    total: Counter[str] = Counter()
    print(f"{'variant':<10} {'cases':>8} " + " ".join(f"{name:>13}" for name in OUTCOMES) + f" {'seconds':>8}")
    for variant in variants:
        started = time.perf_counter()
        counts = run(variant, args.cases, args.seed)
        total += counts
        print(f"{variant:<10} {sum(counts.values()):>8} " + " ".join(f"{counts[name]:>13}" for name in OUTCOMES)
              + f" {time.perf_counter() - started:>8.1f}", flush=True)
    print(f"{'all':<10} {sum(total.values()):>8} " + " ".join(f"{total[name]:>13}" for name in OUTCOMES))
    bad = total["false_accept"] + total["error"]
    print("accepts of a changed request (must be 0):", total["false_accept"], "; unexpected exceptions:", total["error"])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
