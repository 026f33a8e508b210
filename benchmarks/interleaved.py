"""Timing on a shared machine: candidates take turns, best round wins.

This machine's speed changes by up to 2x for seconds at a time. Timing one
library and then the other would let such a stretch tilt their ratio; here
every candidate runs once per round, so a slow stretch lands on all of them,
and each keeps its best round.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable, Hashable, Mapping
from typing import TypeVar

Key = TypeVar("Key", bound=Hashable)


def best_us(calls: Mapping[Key, Callable[[], object]], number: int, rounds: int,
            external: Mapping[Key, Callable[[], float]] | None = None) -> dict[Key, float]:
    """Best microseconds per call of each of `calls`, over `rounds` rounds of `number` calls each.

    `external`: rounds timed elsewhere (another process, another language), each call running one round and
    returning its microseconds per call; they take their turn in every round like the rest."""
    external = external or {}
    best = dict.fromkeys([*calls, *external], float("inf"))
    for _ in range(rounds):
        for key, fn in calls.items():
            best[key] = min(best[key], timeit.timeit(fn, number=number) / number * 1e6)
        for key, timed_round in external.items():
            best[key] = min(best[key], timed_round())
    return best
