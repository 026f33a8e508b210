"""The state change and its trail record are one unit: after a SIGKILL at any moment, every applied
change has exactly one record (before the fix, a change committed just before the kill often had none)."""

from __future__ import annotations

import json
import random
import signal
import threading
import time
from collections import Counter
from pathlib import Path

from tests.test_serve_robustness import _serve, account_client

KINDS = ("BILLING", "OPERATIONS", "SECURITY")


def _recorded_names(trail: Path) -> Counter[str]:
    records = [json.loads(line) for line in trail.read_text(encoding="utf-8").splitlines()]
    return Counter(r["requestParameters"]["Name"] for r in records
                   if r["eventName"] == "PutAlternateContact" and "errorCode" not in r)


def test_every_applied_change_has_exactly_one_trail_record_after_sigkill(tmp_path: Path) -> None:
    rng = random.Random(14)
    acknowledged: list[str] = []
    for run in range(6):
        process, url = _serve(tmp_path)
        account = account_client(url)
        # The state as this start found it: each stored value is an applied change and needs its one record.
        stored = [account.get_alternate_contact(AlternateContactType=kind)["AlternateContact"]["Name"]
                  for kind in KINDS if run > 0]
        recorded = _recorded_names(tmp_path / "trail.jsonl")
        assert all(recorded[name] == 1 for name in stored), (run, stored, recorded)
        assert all(recorded[name] == 1 for name in acknowledged), run
        assert max(recorded.values(), default=1) == 1, "a record exported twice"
        if run == 5:
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=10)
            break

        def writer() -> None:
            for i in range(100_000):
                name = f"r{run}-{i}"
                try:
                    account.put_alternate_contact(AlternateContactType=KINDS[i % 3], Name=name, Title="t",
                                                  EmailAddress="a@example.com", PhoneNumber="+1 1")
                except Exception:  # killed mid-call: this write may or may not have been applied
                    return
                acknowledged.append(name)

        thread = threading.Thread(target=writer)
        thread.start()
        time.sleep(rng.uniform(0.5, 2.0))
        process.kill()  # SIGKILL: at a random point of a call
        process.wait()
        thread.join()
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()
        process.stderr.close()
