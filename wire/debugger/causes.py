"""The debugger's answer, one cause at a time: the fixed vocabulary of kinds and the `Cause` value.

Strategy: a cause is a kind (a word of `CAUSE_KINDS`, stable API documented in
the README), a message, the evidence it rests on ("proved": the server's
strings or facts, the client's logged strings, the signature sent or the
request itself show it; "likely": the request makes it plausible, and the
message says what would settle it) and, where there are two values, ours and
theirs. Every module of the debugger that names causes builds these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["CAUSE_KINDS", "Cause", "Evidence"]

#: The fixed vocabulary of `Cause.kind` (stable API, documented in the README).
CAUSE_KINDS = frozenset({
    "secret", "access-key", "token", "clock-skew", "expired", "scope-region", "scope-service", "scope-date",
    "header-changed", "header-dropped", "header-unsigned", "host-port", "path-encoding", "path-normalization",
    "trailing-slash", "query-encoding", "plus-space", "query-order", "query-empty-value", "payload-hash", "method",
    "algorithm",
})

Evidence = Literal["proved", "likely"]



@dataclass(frozen=True, slots=True)
class Cause:
    """One reason, in words. `kind` is a word of `CAUSE_KINDS`; `evidence` is "proved" (the server's
    strings or facts, or the signature sent, show it) or "likely" (the request makes it plausible)."""

    kind: str
    message: str
    evidence: Evidence = "proved"
    ours: str | None = None
    theirs: str | None = None
