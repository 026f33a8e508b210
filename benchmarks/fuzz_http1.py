"""The long differential run of the server's plain HTTP/1.1 framing against h11 (tests/http1_differential.py).

    python3 benchmarks/fuzz_http1.py [CASES]     # default 100000

Generated pipelined request streams (mostly RFC 9112, often not: smuggling shapes, bare CR/LF, obs-fold,
control bytes, other versions, heads over the limit, bodies cut short), cut in random pieces, fed to
`RequestFraming(plain=True)` and to h11 alone; every transcript (heads, bodies, refusals, answers' bytes,
keep-alive) must be equal. Prints the counts of how the runs ended, and how many read at least one request
without h11; exits 1 (hypothesis's report) on the first difference.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.http1_differential import Answer, answers, check, cuts, limits, streams  # noqa: E402
from wire.transport.framing import ServeLimits  # noqa: E402
from wire.transport.http1 import PlainHead, read_head  # noqa: E402


def main() -> None:
    cases = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    ended: Counter[str] = Counter()
    plain = 0
    start = time.perf_counter()

    @settings(max_examples=cases, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(streams, cuts, st.booleans(), limits, answers)
    def run(data: bytes, at: list[int], eof: bool, limits: ServeLimits, replies: list[Answer]) -> None:
        nonlocal plain
        ended[check(data, at, eof, limits, replies)] += 1
        plain += isinstance(read_head(data), PlainHead)

    run()
    total = sum(ended.values())
    print(f"{total} cases in {time.perf_counter() - start:.0f} s, all equal to h11's; first request plain in {plain}; "
          "ended: " + ", ".join(f"{name} {count}" for name, count in ended.most_common()))


if __name__ == "__main__":
    main()
