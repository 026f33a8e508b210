"""Header plans: the header work of signing, done once per request shape.

Strategy: a client signs request after request with the same headers and
settings; only the time and the body change. A `HeaderPlan` runs the general
header edit (`types.edited_headers`) and canonicalization
(`canonical.canonical_headers`, which validates every header) once, with the
per-call values (the X-Amz-Date time, the payload hash) left as holes, and
keeps the results as templates; signing one request fills the holes. The
holes only ever receive values the signer made itself (a formatted time, a
payload hash `payload.resolve_payload` checked), so filling needs no check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .canonical import canonical_headers
from .types import edited_headers

#: The holes of a plan, by the index of the per-call value `HeaderPlan.fill` puts in them.
DATE, PAYLOAD = 0, 1

Pairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class HeaderPlan:
    """The signed request's headers and their canonical form, with holes for the per-call values."""

    #: The headers of the signed request (before Authorization); holes hold "".
    headers: Pairs
    header_holes: tuple[tuple[int, int], ...]  # (index in `headers`, DATE or PAYLOAD)
    #: The canonical header pairs, sorted; holes hold "".
    canonical: Pairs
    canonical_holes: tuple[tuple[int, int], ...]
    signed_headers: str
    #: The canonical request from the header lines on, as a %-template: holes are `%(0)s` (date) and `%(1)s` (payload hash).
    template: str

    def fill(self, date: str, payload_hash: str) -> tuple[Pairs, Pairs, str]:
        """(headers, canonical pairs, canonical text from the header lines on) for one call."""
        values = (date, payload_hash)
        headers = [*self.headers]
        for index, kind in self.header_holes:
            headers[index] = (headers[index][0], values[kind])
        pairs = [*self.canonical]
        for index, kind in self.canonical_holes:
            pairs[index] = (pairs[index][0], values[kind])
        return tuple(headers), tuple(pairs), self.template % {"0": date, "1": payload_hash}


def _holes(pairs: Pairs, kinds: dict[str, int]) -> tuple[tuple[int, int], ...]:
    return tuple((index, kinds[name.lower()]) for index, (name, _) in enumerate(pairs) if name.lower() in kinds)


def make_plan(headers: Pairs, sets: Sequence[tuple[str, str | int]], drops: Sequence[str], unsigned: frozenset[str],
              appended: Pairs = ()) -> HeaderPlan:
    """Plan `edited_headers(headers, sets, drops)`, signing all but `unsigned`, then `appended` (never signed).

    A set whose value is DATE or PAYLOAD is a hole, filled per call.
    Raises InvalidHeaderError (from canonicalization) for a bad header.
    """
    kinds = {name.lower(): value for name, value in sets if isinstance(value, int)}
    edited = edited_headers(headers, [(name, "" if isinstance(value, int) else value) for name, value in sets], drops)
    pairs, signed = canonical_headers(edited, unsigned)
    edited += appended
    canonical_holes = _holes(pairs, kinds)
    holes = dict(canonical_holes)
    # Header names are tokens and may hold '%', as may values: escaped, so only the holes format.
    lines = [f"{name}:%({holes[index]})s" if index in holes else f"{name}:{value}".replace("%", "%%")
             for index, (name, value) in enumerate(pairs)]
    template = "\n".join([*lines, "", signed.replace("%", "%%"), f"%({PAYLOAD})s"])
    return HeaderPlan(edited, _holes(edited, kinds), pairs, canonical_holes, signed, template)
