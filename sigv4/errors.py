"""The signer's exception family. Every message names the field and the rule."""

from __future__ import annotations

from typing import Any

from .signed_auth import SignedAuth


def _rebuilt(cls: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]) -> BaseException:
    error = cls.__new__(cls, *args)  # BaseException.__new__ sets `args`; __init__ is not called again
    error.__dict__.update(state)
    return error


class Portable:
    """A mixin for exceptions whose `__init__` takes other parameters than `args` (the message): pickled and
    copied as their args and attributes, so they cross process boundaries (multiprocessing, a process pool)."""

    def __reduce__(self) -> tuple[Any, ...]:
        assert isinstance(self, BaseException)
        return _rebuilt, (type(self), self.args, self.__dict__)


class SigningError(Portable, ValueError):
    """Base class: the input cannot be signed as given."""


class InvalidHeaderError(SigningError):
    """A header name or value breaks HTTP's rules (control bytes, non-token name)."""


class InvalidTimestampError(SigningError):
    """The signing time is unusable (naive datetime, unparseable text)."""


class InvalidParameterError(SigningError):
    """A signing option is out of range or empty (region, service, expiry...)."""


class RequestParseError(SigningError):
    """Raw request bytes could not be parsed as an HTTP/1.1 request."""


class VerificationError(Portable, Exception):
    """A received request failed verification (`sigv4.verify`).

    Not a SigningError: the fault is in the peer's request, not in our input.
    `.reason` is one word from `sigv4.verify.REASONS`, for mapping to a
    protocol error; the message says exactly what failed. On a signature
    mismatch, `.canonical_request` and `.string_to_sign` are what the verifier
    computed, for the client to diff against its own. `.auth` is the parsed
    authorization (key id, scope, signed headers) when parsing got that far.
    """

    def __init__(
        self, reason: str, message: str, *, auth: SignedAuth | None = None,
        canonical_request: str | None = None, string_to_sign: str | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.auth = auth
        self.canonical_request = canonical_request
        self.string_to_sign = string_to_sign


class StreamDecodeError(Portable, Exception):
    """Received streaming bytes (an aws-chunked body, an event stream) are malformed or fail a check.

    Not a SigningError: the fault is in the bytes received. `.reason` is one
    of `malformed`, `truncated`, `crc_mismatch`, `signature_mismatch`,
    `checksum_mismatch`, `length_mismatch`; `.offset` is the byte offset in the
    received stream where the faulty chunk or message (or the malformed text)
    starts; `.index` is that chunk's or message's 0-based index, None when the
    fault is not inside one.
    """

    def __init__(self, reason: str, message: str, *, offset: int, index: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.offset = offset
        self.index = index


class StreamSignatureError(StreamDecodeError):
    """A chunk, trailer or event signature does not verify; `.string_to_sign` is what it was checked against."""

    def __init__(self, message: str, *, offset: int, index: int, string_to_sign: str) -> None:
        super().__init__("signature_mismatch", message, offset=offset, index=index)
        self.string_to_sign = string_to_sign
