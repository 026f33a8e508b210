"""Clock-skew errors, as the debugger names them: `sigv4.clock_skew`, where the signers' edge reads them too.

Strategy: the measurement lives in the pure core (`sigv4.clock_skew`), so that the adapters and the command
line's resend need not read the debugger; these names stay for the debugger's readers.
"""

from __future__ import annotations

from sigv4.clock_skew import MIN_CORRECTION, SKEW_KINDS, SKEW_STATUSES, clock_offset, correction, retry_offset

__all__ = ["MIN_CORRECTION", "SKEW_KINDS", "SKEW_STATUSES", "clock_offset", "correction", "retry_offset"]
