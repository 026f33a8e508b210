"""Header plans: the header work of signing, done once per request shape.

Strategy: a client signs request after request with the same headers and
settings; only the time and the body change. A `HeaderPlan` runs the general
header edit (`types.edit_headers_at`) and canonicalization
(`canonical.canonical_headers`, which validates every header) once, with the
per-call values (the X-Amz-Date time, the payload hash) left as holes;
signing one request fills the holes. The holes only ever receive values the
signer made itself (a formatted time, a payload hash `payload.resolve_payload`
checked), so filling needs no check. A shape seen only once (a header with a
request id or a body checksum makes every request its own shape) is not worth
a plan with holes, nor a place in the cache: `PlanCache` keeps plans for the
shapes that come back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from .canonical import canonical_headers
from .types import edit_headers_at

#: The holes of a plan, by the index of the per-call value `HeaderPlan.fill` puts in them.
DATE, PAYLOAD = 0, 1

Pairs = tuple[tuple[str, str], ...]
Holes = tuple[tuple[int, int], ...]  # (index in the pairs, DATE or PAYLOAD)


# A NamedTuple: one is built per request shape, in C rather than by a frozen dataclass's setattr calls.
class HeaderPlan(NamedTuple):
    """The signed request's headers and their canonical form, with holes for the per-call values."""

    #: The headers of the signed request (before Authorization); holes hold "".
    headers: Pairs
    header_holes: Holes
    #: The canonical header pairs, sorted; holes hold "".
    canonical: Pairs
    canonical_holes: Holes
    signed_headers: str

    def fill(self, date: str, payload_hash: str) -> tuple[Pairs, Pairs]:
        """(headers, canonical pairs) for one call."""
        if not self.header_holes:  # a one-off plan, made with the call's values in (see `PlanCache`)
            return self.headers, self.canonical
        values = (date, payload_hash)
        headers = [*self.headers]
        for index, kind in self.header_holes:
            headers[index] = (headers[index][0], values[kind])
        pairs = [*self.canonical]
        for index, kind in self.canonical_holes:
            pairs[index] = (pairs[index][0], values[kind])
        return tuple(headers), tuple(pairs)


def make_plan(headers: Pairs, sets: Sequence[tuple[str, str]], holes: Mapping[str, int], drops: Sequence[str],
              unsigned: frozenset[str], appended: Pairs = ()) -> HeaderPlan:
    """Plan `edited_headers(headers, sets, drops)`, signing all but `unsigned`, then `appended` (never signed).

    `holes` maps the lowercase names of sets whose values are filled per call
    to DATE or PAYLOAD (their values in `sets` are placeholders).
    Raises InvalidHeaderError (from canonicalization) for a bad header.
    """
    edited, landed = edit_headers_at(headers, sets, drops)
    pairs, signed = canonical_headers(edited, unsigned)
    if not holes:  # a one-off plan: nothing to find
        return HeaderPlan(edited + appended, (), pairs, (), signed)
    canonical_holes = tuple([(index, holes[name]) for index, (name, _) in enumerate(pairs) if name in holes])
    return HeaderPlan(edited + appended, tuple([(landed[name], kind) for name, kind in holes.items()]), pairs,
                      canonical_holes, signed)


class PlanCache:
    """Header plans by request shape: `make(*shape, values)` builds one, with
    holes when `values` is None, else with those (date, payload hash) put in.

    A shape's first sighting gets a one-off plan with its values in; from
    its second on, one plan with holes, kept. So one-off shapes never push
    out the shapes a client keeps sending, as they would from an LRU. Each
    of the two tables is emptied when it reaches `size` shapes. Thread-safe:
    racing callers at worst build the same plan twice.
    """

    def __init__(self, make: Callable[..., HeaderPlan], size: int = 512) -> None:
        self._make = make
        self._size = size
        self._plans: dict[tuple[Any, ...], HeaderPlan] = {}
        self._seen: set[tuple[Any, ...]] = set()

    def get(self, shape: tuple[Any, ...], date: str, payload_hash: str) -> HeaderPlan:
        plan = self._plans.get(shape)
        if plan is not None:
            return plan
        if shape not in self._seen:
            if len(self._seen) >= self._size:
                self._seen.clear()
            self._seen.add(shape)
            return self._make(*shape, (date, payload_hash))
        if len(self._plans) >= self._size:
            self._plans.clear()
        plan = self._plans[shape] = self._make(*shape, None)
        return plan
