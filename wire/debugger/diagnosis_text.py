"""The debugger's report as text: the complaint, side-by-side diffs with visible whitespace, the causes
(most likely first, each with its evidence) and the notes.

Pure: a `Diagnosis` in, text out; session tokens are redacted as in `Diagnosis.to_json`.
"""

from __future__ import annotations

import re

from wire.debugger.diagnosis import Diagnosis
from wire.debugger.redaction import redact
from wire.debugger.string_diff import DiffRow

__all__ = ["render_diff", "render_text"]


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _visible(line: str | None) -> str:
    """Control bytes as escapes, a tab as `\\t`, trailing spaces as `·`."""
    if line is None:
        return ""
    shown = _CONTROL.sub(lambda m: "\\r" if m.group() == "\r" else f"\\x{ord(m.group()):02x}",
                         redact(line).replace("\t", "\\t"))
    stripped = shown.rstrip(" ")
    return stripped + "·" * (len(shown) - len(stripped))


_MARKS = {"same": " ", "changed": "!", "ours-only": "-", "theirs-only": "+"}


def _first_difference(a: str, b: str) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def render_diff(rows: tuple[DiffRow, ...], left_title: str = "ours", right_title: str = "server's") -> list[str]:
    """Side-by-side lines: `!` changed, `-` only ours, `+` only theirs; `¶` marks each line end."""
    cells = []
    for index, row in enumerate(rows):
        end = "" if index == len(rows) - 1 else "¶"
        cells.append((row, _visible(row.ours) + (end if row.ours is not None else ""),
                      _visible(row.theirs) + (end if row.theirs is not None else "")))
    width = min(max([len(left_title)] + [len(left) for _, left, _ in cells]), 88)
    out = [f"  {left_title:<{width}} | {right_title}"]
    for row, left, right in cells:
        out.append(f"{_MARKS[row.status]} {left:<{width}} | {right}")
        if row.status == "changed":
            at = _first_difference(left, right)
            out.append(f"  {' ' * at + '^':<{width}} | {' ' * at}^")
    return out


def render_text(diagnosis: Diagnosis) -> str:
    """The human report: complaint, side-by-side diffs with visible whitespace, then causes. Tokens redacted."""
    lines: list[str] = []
    c, p = diagnosis.complaint, diagnosis.params
    if c is not None:
        first = redact(c.message.strip().split("\n")[0]) if c.message else ""
        lines.append(f"Server said: {c.status or '-'} {c.code or '(no code)'} [{c.envelope}, {c.kind}] {first}")
    if p is not None:
        how = "presigned URL" if p.presigned else "Authorization header"
        lines.append(f"Signed ({how}): {p.access_key_id[:8]}…/{p.scope}, request time {p.amz_date}, "
                     f"signed headers {';'.join(p.signed_headers)}")
    for title, rows in (("Canonical request", diagnosis.canonical_diff), ("String-to-sign", diagnosis.string_to_sign_diff)):
        if rows:
            note = " (server's side reconstructed from its hash)" if title == "Canonical request" and \
                diagnosis.theirs_reconstructed else ""
            lines += ["", f"{title}{note}:", *render_diff(rows)]
    for title, text, rows in (("canonical request", diagnosis.ours_canonical_request, diagnosis.canonical_diff),
                              ("string-to-sign", diagnosis.ours_string_to_sign, diagnosis.string_to_sign_diff)):
        if text and not rows:
            shown = [_visible(line) for line in text.split("\n")]
            lines += ["", f"Our {title} (the server sent none):", *(f"  {line}¶" for line in shown[:-1]), f"  {shown[-1]}"]
    check = diagnosis.signature_check
    if check is not None:
        lines += ["", f"Signature sent:                          {check.provided}",
                  f"Given secret over our string-to-sign:    {check.ours} "
                  f"({'matches' if check.ours_matches else 'differs'})"]
        if check.theirs is not None:
            lines.append(f"Given secret over server's string-to-sign: {check.theirs} "
                         f"({'matches' if check.theirs_matches else 'differs'})")
    if diagnosis.causes:
        lines += ["", "Causes (most likely first):"]
        lines += [f"  {i}. [{cause.kind}, {cause.evidence}] {redact(cause.message)}"
                  for i, cause in enumerate(diagnosis.causes, 1)]
    else:
        lines += ["", "Causes: none found"]
    if diagnosis.notes:
        lines += ["", "Notes:", *(f"  - {redact(note)}" for note in diagnosis.notes)]
    return "\n".join(lines) + "\n"

