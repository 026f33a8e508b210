"""The wire package's exception family.

Strategy: a shallow family under `WireError`. Low-level failures met while
reading bytes (ValueError, KeyError, UnicodeDecodeError, expat errors...) are
converted at one boundary, `wire.parse_response`, into `DecodeError` with
`raise ... from err`, so a caller handles exactly three outcomes: a value,
a `ServiceError` (the peer answered with a modelled or unmodelled error), or
a `DecodeError` (the peer sent something we cannot read).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sigv4.errors import Portable


class WireError(Portable, Exception):
    """Base class of every error raised by `wire`."""


class ModelError(WireError, ValueError):
    """A service model is unusable: unknown shape reference, unsupported protocol..."""


class SerializationError(WireError, ValueError):
    """Params cannot be encoded as a request (e.g. a GET URL over the size limit)."""


class ParamError(WireError, ValueError):
    """A `Name=Value` parameter's text cannot be read as its member's type; the message is one line."""


class DecodeError(WireError, ValueError):
    """Response (or request) bytes cannot be decoded with the model."""


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: where (`path`, e.g. `Filters[0].Name`) and what (`rule`)."""

    path: str
    rule: str

    def __str__(self) -> str:
        return f"{self.path}: {self.rule}" if self.path else self.rule


class ValidationError(WireError, ValueError):
    """Params break the model; `violations` lists every broken rule, not only the first."""

    def __init__(self, violations: tuple[Violation, ...]) -> None:
        self.violations = violations
        super().__init__("; ".join(str(v) for v in violations))


class ServiceError(WireError):
    """The service answered with an error.

    `code` is the normalized error code (as botocore, the HTTP status when the
    answer names none: an empty body, a front end's HTML page; then the message
    is ""), `data` the members of the modelled error shape
    (decoded like any output; empty when the code is not modelled).
    """

    def __init__(
        self,
        code: str,
        message: str,
        status: int,
        request_id: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.status = status
        self.request_id = request_id
        self.data: dict[str, Any] = dict(data or {})
        super().__init__(f"{code} (HTTP {status}): {message}" if message or code not in ("", str(status))
                         else f"HTTP {status}: an error answer whose body could not be read")
