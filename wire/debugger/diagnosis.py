"""The diagnosis as a value: both sides' strings, their line diffs, the causes and notes.

Strategy: a frozen dataclass; `to_json` walks it into plain values (times as
ISO 8601, durations as seconds) and redacts session tokens on the way out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from wire.debugger.causes import Cause
from wire.debugger.complaint import ServerComplaint
from wire.debugger.redaction import redact_tree
from wire.debugger.request_times import iso
from wire.debugger.secret_proof import SignatureCheck
from wire.debugger.signature_params import SignatureParams
from wire.debugger.string_diff import DiffRow


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """Our side, the server's side, their line diffs, the causes (most likely first) and notes."""

    complaint: ServerComplaint | None
    params: SignatureParams | None
    ours_canonical_request: str | None
    ours_string_to_sign: str | None
    theirs_canonical_request: str | None
    theirs_string_to_sign: str | None
    #: True when the server's canonical request is our reconstruction (a variant reproduced its hash).
    theirs_reconstructed: bool
    canonical_diff: tuple[DiffRow, ...]
    string_to_sign_diff: tuple[DiffRow, ...]
    causes: tuple[Cause, ...]
    signature_check: SignatureCheck | None
    #: Informational lines that are not causes (what the server did not send, what was assumed).
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (`causes`: kind, message, evidence...; `notes`); session tokens redacted."""
        redacted: dict[str, Any] = redact_tree(_as_json(self))
        return redacted


def _as_json(value: Any) -> Any:
    if isinstance(value, (Diagnosis, Cause, DiffRow, SignatureCheck, SignatureParams, ServerComplaint)):
        return {name: _as_json(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, (tuple, list)):
        return [_as_json(v) for v in value]
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value
