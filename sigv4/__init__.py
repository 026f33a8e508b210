"""Inspectable AWS request signing (SigV4, SigV4a, SigV2, S3's SigV2): headers, presigned URLs, verification.

Pure: no sockets, files, environment or clock. Time, credentials and bytes
come in as arguments; a `SigningResult` with every intermediate comes out.
The one edge is `sigv4.integrations` (HTTP-library adapters, credential
files and processes); `tests/test_purity.py` enforces the rest.
"""

from .canonical import DEFAULT_UNSIGNED_HEADERS, CanonicalRequest, CanonicalRules
from .errors import (
    InvalidHeaderError,
    InvalidParameterError,
    InvalidTimestampError,
    RequestParseError,
    SigningError,
    VerificationError,
)
from .payload import UNSIGNED_PAYLOAD, payload_hash
from . import s3express, s3v2, v2, v4a, websocket
from .post import ConditionNotMetError, PostIdentity, PostPolicy, PresignedPost, presign_post, verify_post
from .signer import Algorithm, SigningResult, presign, sign
from .types import Credentials, Request
from .v2 import SigV2Result
from .signed_auth import SignedAuth
from .verify import REASONS, Identity, parse_auth, verify

#: The toolkit's version (pyproject.toml reads it from here; `sigv4 --version` prints it).
__version__ = "0.1.0"

__all__ = [
    "DEFAULT_UNSIGNED_HEADERS", "CanonicalRequest", "CanonicalRules", "Credentials", "InvalidHeaderError",
    "InvalidParameterError", "InvalidTimestampError", "Request", "RequestParseError", "SigningError",
    "SigningResult", "UNSIGNED_PAYLOAD", "payload_hash", "presign", "sign",
    "REASONS", "Algorithm", "Identity", "SigV2Result", "SignedAuth", "VerificationError", "parse_auth", "v2", "v4a",
    "verify", "ConditionNotMetError", "PostIdentity", "PostPolicy", "PresignedPost", "presign_post", "verify_post",
    "s3express", "s3v2", "websocket",
]
