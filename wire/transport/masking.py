"""What a proxy's client never sees: the proxy's own credentials, masked in the answers it relays.

Strategy: an upstream that refuses a signature echoes what it was sent (AWS's
bodies hold the canonical request, `x-amz-security-token:<token>` included,
S3's also its bytes in hex, and the access key id), and an echo service or a
redirect may carry the token in a header or a body of any status. The proxy
signs with credentials its client must not learn, so every relayed answer is
masked, by two rules (`sigv4.redact`'s):
- the places: a session token in its header, parameter and HAR places (also
  inside S3's hex dump), and the proxy's access key id in `Credential=<id>/`
  and `<AWSAccessKeyId>`, in headers and in error bodies (read whole, small,
  text);
- the literal forms of the proxy's own secrets long enough that a match cannot
  be a coincidence (`LITERAL_MIN`; real access key ids are 20 characters,
  tokens hundreds): raw, percent-encoded and as S3's hex dump, in every
  header and body, also one relayed as it arrives, where a form may be split
  between two chunks: the end of a chunk that could begin one is held back
  until the next chunk shows whether it does. A literal form is replaced by as
  many `*`, so the upstream's Content-Length still holds.
A body the upstream sends compressed is not decoded: the proxy asks for
`Accept-Encoding: identity`, so what comes compressed anyway is stored content
(an S3 object with its Content-Encoding), the user's data, not an echo.

Pure: values in, values out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import quote

import sigv4
from sigv4.redact import LITERAL_MIN, MASK, mask_tokens

__all__ = ["CredentialMask"]


def _forms(secret: str) -> set[bytes]:
    """The ways an answer can echo `secret`: as it is, percent-encoded (a query), and as S3's hex dump of a
    canonical request (`CanonicalRequestBytes`: two lower-case digits a byte, spaces between)."""
    raw = secret.encode("utf-8")
    return {raw, quote(raw, safe="-_.~").encode("ascii"), " ".join(f"{byte:02x}" for byte in raw).encode("ascii")}


@dataclass(frozen=True, slots=True)
class CredentialMask:
    """The proxy's credentials as they may come back in an answer; `headers`, `body` and `stream` mask them."""

    access_key_id: str
    #: Literal forms of the secrets long enough to mask wherever they occur, longest first.
    forms: tuple[bytes, ...]

    @classmethod
    def of(cls, credentials: sigv4.Credentials) -> CredentialMask:
        """The mask for what `credentials` signed."""
        secrets = (credentials.access_key_id, credentials.secret_access_key, credentials.session_token)
        forms = set().union(*(_forms(s) for s in secrets if s and len(s) >= LITERAL_MIN))
        return cls(credentials.access_key_id, tuple(sorted(forms, key=len, reverse=True)))

    def headers(self, headers: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
        """`headers` with the credentials masked in their values (a token header's value whole)."""
        return tuple((name, MASK if name.lower() in _TOKEN_HEADERS else self._text(value)) for name, value in headers)

    def body(self, body: bytes) -> bytes:
        """A whole body (an error: small, text) with the credentials masked, by place and literally."""
        return self._text(body.decode("latin-1")).encode("latin-1")  # latin-1: every byte kept as it is

    def stream(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """The chunks of a body relayed as it arrives, the literal forms masked (also across chunks); the
        bytes and their count are otherwise unchanged."""
        if not self.forms:
            yield from chunks
            return
        carry = b""
        for chunk in chunks:
            data = self._literal(carry + chunk)
            cut = len(data) - _partial_tail(data, self.forms)
            carry = data[cut:]
            if cut:
                yield data[:cut]
        if carry:
            yield carry

    def _text(self, text: str) -> str:
        # Each place is found by a marker it always holds (a plain `in` each, not a regex scan per place).
        if "<CanonicalRequestBytes>" in text:
            text = _HEX_DUMP.sub(lambda m: m[1] + _hex(self._places(_unhex(m[2]))) + m[3], text)
        text = self._places(text)
        return self._literal(text.encode("latin-1")).decode("latin-1") if self.forms else text

    def _places(self, text: str) -> str:
        if "token" in text.lower():  # every session-token place (`sigv4.redact.mask_tokens`) names a token
            text = mask_tokens(text)
        if "Credential=" in text or "<AWSAccessKeyId>" in text:
            text = _ACCESS_KEY_PLACES.sub(lambda m: m[1] + MASK if m[2] == self.access_key_id else m[0], text)
        return text

    def _literal(self, data: bytes) -> bytes:
        for form in self.forms:
            if form in data:
                data = data.replace(form, b"*" * len(form))
        return data


_TOKEN_HEADERS = frozenset({"x-amz-security-token", "x-amz-s3session-token"})
# S3's hex dump of the canonical request it expected, masked by place as the text is.
_HEX_DUMP = re.compile(r"(<CanonicalRequestBytes>)((?:[0-9a-fA-F]{2} ?)+)(</CanonicalRequestBytes>)")


def _unhex(dump: str) -> str:
    return bytes.fromhex(dump).decode("latin-1")


def _hex(text: str) -> str:
    return " ".join(f"{byte:02x}" for byte in text.encode("latin-1"))


# An access key id where answers echo one: an echoed Authorization header, S3's error XML.
_ACCESS_KEY_PLACES = re.compile(r"(Credential=|<AWSAccessKeyId>)([A-Za-z0-9]+)(?=[/<])")


def _partial_tail(data: bytes, forms: Sequence[bytes]) -> int:
    """The length of the longest end of `data` that is the beginning of one of `forms` (0: none): bytes to hold
    back until the next chunk says whether the form is there."""
    longest = 0
    for form in forms:
        start = max(0, len(data) - len(form) + 1)
        at = data.find(form[:1], start)
        while at != -1 and len(data) - at > longest:
            if form.startswith(data[at:]):
                longest = len(data) - at
                break
            at = data.find(form[:1], at + 1)
    return longest
