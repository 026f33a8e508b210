"""Temporary credentials in an STS answer swapped for placeholders, so that a credential boundary can pass it.

Strategy: STS's Query answers (AssumeRole, GetSessionToken, GetFederationToken,
AssumeRoot) carry one `<Credentials>` element with `<AccessKeyId>`,
`<SecretAccessKey>`, `<SessionToken>` and `<Expiration>`. `swap` reads the
four (text elements: no XML parser, no DTD), puts the placeholder's three
values in their places and returns the real credentials with their expiry;
the caller keeps the pair and re-signs what the placeholder signs with the
real ones. Anything else in the body is left as it was; an answer without the
element (or with only part of it) is no swap (`None`), for the caller to refuse.

Pure: the placeholder comes in as a value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.sax.saxutils import escape, unescape

from sigv4.types import Credentials

__all__ = ["SWAPPED_ACTIONS", "Swapped", "swap"]

#: The calls whose answers `swap` can pass through a boundary (the rest of `wire.actions.CREDENTIAL_ACTIONS`
#: stays refused).
SWAPPED_ACTIONS = frozenset({"sts:AssumeRole", "sts:GetSessionToken", "sts:GetFederationToken", "sts:AssumeRoot"})
_CREDENTIALS = re.compile(rb"<Credentials>(.*?)</Credentials>", re.S)
_FIELDS = ("AccessKeyId", "SecretAccessKey", "SessionToken")


@dataclass(frozen=True, slots=True)
class Swapped:
    """An answer with the placeholder's credentials, and the real ones it held (`expiration` as STS wrote it)."""

    body: bytes
    real: Credentials
    expiration: str


def _element(block: bytes, name: str) -> re.Match[bytes] | None:
    return re.search(rb"<" + name.encode() + rb">([^<]*)</" + name.encode() + rb">", block)


def swap(body: bytes, placeholder: Credentials) -> Swapped | None:
    """`body` (an STS answer) with the credentials in it replaced by `placeholder`'s; None when it holds no
    complete `<Credentials>` element."""
    found = _CREDENTIALS.search(body)
    if found is None:
        return None
    block = found.group(1)
    values = {name: _element(block, name) for name in (*_FIELDS, "Expiration")}
    if any(match is None for match in values.values()):
        return None
    real = [unescape(values[name].group(1).decode("utf-8")) for name in _FIELDS]  # type: ignore[union-attr]
    replacement = {"AccessKeyId": placeholder.access_key_id, "SecretAccessKey": placeholder.secret_access_key,
                   "SessionToken": placeholder.session_token or ""}
    swapped = block
    for name in _FIELDS:
        element = f"<{name}>{escape(replacement[name])}</{name}>".encode("utf-8")
        swapped = re.sub(rb"<" + name.encode() + rb">[^<]*</" + name.encode() + rb">", lambda _: element, swapped,
                         count=1)
    expiration = values["Expiration"].group(1).decode("utf-8")  # type: ignore[union-attr]
    return Swapped(body[:found.start(1)] + swapped + body[found.end(1):], Credentials(*real), expiration)
