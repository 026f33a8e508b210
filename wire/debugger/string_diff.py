"""Two canonical requests (or strings-to-sign) compared: the rows of a side-by-side diff, and the causes
read off them component by component.

Strategy: a rendered canonical request is cut back into its parts (method,
URI, query, headers, signed list, payload); each part that differs is named
by a small table of known transforms (the path encoded once more, `%2F`
decoded, normalized, a trailing slash; a `+` read as a space; a charset, a
port or whitespace changed in a header); the strings-to-sign are compared by
their first three lines (algorithm, time, scope). Used for the server's
strings against ours, and for the strings a client logged against the
server's.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

from sigv4.canonical import normalize_path, uri_encode
from sigv4.payload import EMPTY_SHA256
from wire.debugger.causes import Cause
from wire.debugger.mistakes import CHARSET, split_port

__all__ = ["DiffRow", "diff_causes", "line_diff", "sts_causes"]

@dataclass(frozen=True, slots=True)
class DiffRow:
    """One row of a side-by-side diff: "same", "changed", "ours-only" or "theirs-only"."""

    status: str
    ours: str | None
    theirs: str | None


def line_diff(ours: str, theirs: str) -> tuple[DiffRow, ...]:
    """Align two texts line by line (split on LF only, so a stray CR stays visible)."""
    left, right = ours.split("\n"), theirs.split("\n")
    rows: list[DiffRow] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, left, right, autojunk=False).get_opcodes():
        if op == "equal":
            rows += [DiffRow("same", line, line) for line in left[i1:i2]]
            continue
        pairs = itertools.zip_longest(left[i1:i2], right[j1:j2])
        rows += [DiffRow("changed" if a is not None and b is not None else "ours-only" if b is None else "theirs-only",
                         a, b) for a, b in pairs]
    return tuple(rows)


@dataclass(frozen=True, slots=True)
class _Parts:
    """A rendered canonical request cut back into its components."""

    method: str
    uri: str
    query: str
    headers: dict[str, str]
    signed: str
    payload: str


def _parts(canonical: str) -> _Parts | None:
    lines = canonical.split("\n")
    if len(lines) < 6 or lines[-3] != "":
        return None
    headers = dict(line.partition(":")[::2] for line in lines[3:-3])
    return _Parts(lines[0], lines[1], lines[2], headers, lines[-2], lines[-1])


#: (kind, transform, words when theirs == transform(ours), words when ours == transform(theirs))
_PATH_RULES: tuple[tuple[str, Callable[[str], str], str, str], ...] = (
    ("path-encoding", lambda p: uri_encode(p, keep_slash=True),
     "the server's path is ours encoded once more (it encodes twice, we once)",
     "our path is the server's encoded once more (encoded twice on our side, once by the server, as S3 does)"),
    ("path-encoding", lambda p: re.sub("%(25)?2[fF]", "/", p),
     "our encoded slash `%2F` is a plain `/` on the server's side (decoded in transit)",
     "the server's path has an encoded slash `%2F` where ours has `/`"),
    ("path-normalization", normalize_path,
     "the server normalized the path (removed `//`, `.` or `..`) and we did not",
     "we normalized the path (removed `//`, `.` or `..`) and the server did not"),
    ("trailing-slash", lambda p: p + "/", "the server's path has a trailing slash ours lacks",
     "our path has a trailing slash the server's lacks"),
    ("path-encoding", lambda p: re.sub("%(25)?2[bB]", "%20", p),
     "a `+` in our path is a space on the server's side", "the server kept a `+` where ours has a space"),
)


def _path_cause(ours: str, theirs: str) -> Cause:
    for kind, transform, theirs_is_more, ours_is_more in _PATH_RULES:
        if transform(ours) == theirs:
            return Cause(kind, f"path: {theirs_is_more}", "proved", ours, theirs)
        if transform(theirs) == ours:
            return Cause(kind, f"path: {ours_is_more}", "proved", ours, theirs)
    return Cause("path-encoding", f"path: ours `{ours}`, the server's `{theirs}`", "proved", ours, theirs)


def _query_params(query: str) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for part in query.split("&") if query else ():
        name, _, value = part.partition("=")
        params.setdefault(name, []).append(value)
    return params


def _query_cause(name: str, ours: list[str] | None, theirs: list[str] | None) -> Cause:
    shown = ("&".join(ours) if ours is not None else None, "&".join(theirs) if theirs is not None else None)
    if ours is None:
        return Cause("query-encoding", f"query parameter `{name}` is only in the server's canonical query", "proved",
                     *shown)
    if theirs is None:
        return Cause("query-encoding", f"query parameter `{name}` is only in ours (the server did not see it)",
                     "proved", *shown)
    if [v.replace("%2B", "%20") for v in ours] == theirs:
        return Cause("plus-space", f"query parameter `{name}`: the server read a `+` as a space (`%20`)", "proved",
                     *shown)
    if [v.replace("%20", "%2B") for v in ours] == theirs:
        # Ours is the request as sent, so its `%20` reached the server as a `+`: re-encoded on the way.
        return Cause("plus-space", f"query parameter `{name}`: the request as sent has a space (`%20`) where the "
                                   "server read a literal `+`: the query was re-encoded on the way with `+` for "
                                   "spaces (form encoding, by a proxy or middleware), which SigV4 reads as a plus",
                     "proved", *shown)
    return Cause("query-encoding", f"query parameter `{name}`: ours `{shown[0]}`, the server's `{shown[1]}`", "proved",
                 *shown)


def _header_cause(name: str, ours: str | None, theirs: str | None) -> Cause:
    shown = f"header `{name}`: ours `{ours}`, the server's `{theirs}`"
    if ours is None:
        return Cause("header-unsigned", f"header `{name}` is signed by the server, not by us", "proved", ours, theirs)
    if theirs is None:
        return Cause("header-unsigned", f"header `{name}` is signed by us, not by the server", "proved", ours, theirs)
    if not theirs and ours:
        return Cause("header-dropped", f"header `{name}` did not reach the server (dropped in transit)", "proved",
                     ours, theirs)
    if CHARSET.sub("", ours) == CHARSET.sub("", theirs):
        how = "added" if CHARSET.search(theirs) else "removed"
        return Cause("header-changed", f"{shown}: the charset was {how} in transit", "proved", ours, theirs)
    if name == "host" and split_port(ours)[0].strip("[]") == split_port(theirs)[0].strip("[]"):
        how = "added" if split_port(theirs)[1] else "dropped" if split_port(ours)[1] else "rewritten"
        return Cause("host-port", f"{shown}: the port was {how} between signing and the server", "proved",
                     ours, theirs)
    if " ".join(ours.split()) == " ".join(theirs.split()):
        return Cause("header-changed", f"{shown}: whitespace differs", "proved", ours, theirs)
    return Cause("header-changed", f"{shown}: changed after signing (proxy, HTTP library or a later edit)", "proved",
                 ours, theirs)


def diff_causes(ours_text: str, theirs_text: str) -> list[Cause]:
    """Causes read off the two canonical requests, component by component."""
    ours, theirs = _parts(ours_text), _parts(theirs_text)
    if ours is None or theirs is None:
        return [Cause("header-changed", "the server's canonical request has another shape than ours (see the diff)")]
    causes = []
    if ours.method != theirs.method:
        causes.append(Cause("method", f"method: ours {ours.method}, the server's {theirs.method}", "proved",
                            ours.method, theirs.method))
    if ours.uri != theirs.uri:
        causes.append(_path_cause(ours.uri, theirs.uri))
    our_query, their_query = _query_params(ours.query), _query_params(theirs.query)
    for name in sorted(our_query.keys() | their_query.keys()):
        if our_query.get(name) != their_query.get(name):
            causes.append(_query_cause(name, our_query.get(name), their_query.get(name)))
    for name in sorted(ours.headers.keys() | theirs.headers.keys()):
        if ours.headers.get(name) != theirs.headers.get(name):
            causes.append(_header_cause(name, ours.headers.get(name), theirs.headers.get(name)))
    if ours.payload != theirs.payload:
        causes.append(Cause("payload-hash", f"body hash: ours {ours.payload}, the server's {theirs.payload}"
                                            + ("; the server received an empty body" if theirs.payload == EMPTY_SHA256
                                               else ""), "proved", ours.payload, theirs.payload))
    return causes


def sts_causes(ours_sts: str, theirs_sts: str) -> list[Cause]:
    """Causes read off the first three lines of the two strings-to-sign."""
    ours, theirs = ours_sts.split("\n"), theirs_sts.split("\n")
    if len(ours) != 4 or len(theirs) != 4:
        return [Cause("algorithm", "the server's string-to-sign has another shape than ours (see the diff)")]
    causes = []
    if ours[0] != theirs[0]:
        causes.append(Cause("algorithm", f"algorithm: ours {ours[0]}, the server's {theirs[0]}", "proved",
                            ours[0], theirs[0]))
    if ours[1] != theirs[1]:
        causes.append(Cause("header-changed", f"request time: ours {ours[1]}, the server's {theirs[1]} (X-Amz-Date "
                                              "changed, or Date and X-Amz-Date disagree)", "proved", ours[1], theirs[1]))
    names = ("scope-date", "scope-region", "scope-service", "algorithm")
    our_scope, their_scope = ours[2].split("/"), theirs[2].split("/")
    if len(our_scope) == len(their_scope) == 4:
        for kind, a, b in zip(names, our_scope, their_scope):
            if a != b:
                causes.append(Cause(kind, f"credential scope {kind.removeprefix('scope-')}: ours `{a}`, the "
                                          f"server's `{b}`", "proved", a, b))
    elif ours[2] != theirs[2]:
        causes.append(Cause("scope-region", f"credential scope: ours `{ours[2]}`, the server's `{theirs[2]}`", "proved",
                            ours[2], theirs[2]))
    return causes
