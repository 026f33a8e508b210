"""Every reader of outside bytes (but the debugger's capture formats), fuzzed: it returns or raises only the
errors its contract names, and a case's memory stays bounded (tests/fuzz_harness.py; the long run with its
figures is `python3 benchmarks/fuzz_readers.py --cases 100000`)."""

from __future__ import annotations

import pytest

from fuzz_harness import MAX_INPUT, Reader, fuzz, readers

#: Cases per reader here: seconds for the whole file, while the long run is in benchmarks/.
CASES = 400
#: What one case of at most MAX_INPUT bytes may take in memory (traced), far above any reader's need.
MAX_CASE_MEMORY = 16 << 20

READERS = readers()


@pytest.mark.parametrize("name", sorted(READERS))
def test_a_reader_raises_only_its_documented_errors_in_bounded_memory(name: str) -> None:
    reader: Reader = READERS[name]
    report = fuzz(reader, CASES, seed=22, memory_every=10)
    assert not report.failures, report.as_dict()["unexpected"]
    assert report.cases == CASES and report.accepted + sum(report.errors.values()) == CASES
    assert report.accepted > 0, "no case was accepted: the seeds no longer reach the reader's success path"
    assert report.max_memory <= MAX_CASE_MEMORY, (report.max_memory, report.max_memory_input, MAX_INPUT)
