"""Inspectable AWS request signing: SigV4 headers and presigned URLs.

Pure: no sockets, files, environment or clock. Time, credentials and bytes
come in as arguments; a `SigningResult` with every intermediate comes out.
"""

from .canonical import DEFAULT_UNSIGNED_HEADERS, CanonicalRequest, CanonicalRules
from .errors import (
    InvalidHeaderError,
    InvalidParameterError,
    InvalidTimestampError,
    RequestParseError,
    SigningError,
)
from .payload import UNSIGNED_PAYLOAD, payload_hash
from .signer import SigningResult, presign, sign
from .types import Credentials, Request

__all__ = [
    "DEFAULT_UNSIGNED_HEADERS", "CanonicalRequest", "CanonicalRules", "Credentials", "InvalidHeaderError",
    "InvalidParameterError", "InvalidTimestampError", "Request", "RequestParseError", "SigningError",
    "SigningResult", "UNSIGNED_PAYLOAD", "payload_hash", "presign", "sign",
]
