"""What the server's strings say: its canonical request or string-to-sign against ours.

Strategy: a server canonical request equal to ours says nothing; a different
one is explained by the known-mistake search (`wire.debugger.mistakes.search`)
or, failing that, by its line diff (`wire.debugger.string_diff`). With only its
string-to-sign, the search looks for the variant of our view whose SHA-256 is
its last line, and that variant is the server's canonical request,
reconstructed.
"""

from __future__ import annotations

from dataclasses import dataclass

from wire.debugger.causes import Cause
from wire.debugger.diagnosis_context import Context
from wire.debugger.mistakes import Match, search
from wire.debugger.recompute import sha256_hex
from wire.debugger.string_diff import diff_causes, sts_causes


def mistake_causes(match: Match, signed: bool) -> list[Cause]:
    """One cause per mistake in `match`: it reproduces the signature sent (`signed`) or the server's canonical
    request."""
    return [Cause(m.kind, ("reproduces the signature you sent: " if signed else
                           "reproduces the server's canonical request: ")
                  + (m.as_signed() if signed else m.as_received())) for m in match.mistakes]


@dataclass(frozen=True, slots=True)
class ServerSide:
    """What the server's strings gave: its canonical request (sent or reconstructed) and the causes."""

    canonical: str | None
    reconstructed: bool
    causes: list[Cause]
    notes: list[str]


def server_side(ctx: Context) -> ServerSide:
    """The server's canonical request (sent, or reconstructed from its string-to-sign) and the causes its
    strings prove."""
    view, ours, theirs_sts = ctx.view, ctx.ours_canonical, ctx.theirs_sts
    theirs = ctx.theirs_canonical
    if view is None or ours is None or ctx.ours_sts is None:
        return ServerSide(theirs, False, [], [])
    causes = sts_causes(ctx.ours_sts, theirs_sts) if theirs_sts else []
    if theirs is not None:
        if theirs == ours:
            return ServerSide(theirs, False, causes, [])
        match = search(view, lambda text: text == theirs)
        return ServerSide(theirs, False, causes + (mistake_causes(match, False) if match else
                                                    diff_causes(ours, theirs)), [])
    if not theirs_sts:
        return ServerSide(None, False, [], [])
    their_hash = theirs_sts.split("\n")[-1].strip()
    if ctx.ours_sts.split("\n")[-1] == their_hash:
        return ServerSide(ours, False, causes, [])
    match = search(view, lambda text: sha256_hex(text) == their_hash)
    if match:
        return ServerSide(match.canonical, True, causes + mistake_causes(match, False),
                           ["the server's canonical request is reconstructed: a known variant of ours hashes to "
                            "the last line of its string-to-sign"])
    return ServerSide(None, False, causes + [Cause(
        "header-changed", f"the server's canonical request differs from ours (its hash {their_hash[:16]}… is not "
                          "ours) and no known mistake reproduces it: most often a signed header value or the body "
                          "changed in a way the capture does not show; the server's full canonical request (S3's "
                          "CanonicalRequest, a JSON service's message) or --secret would settle it", "likely")], [])
