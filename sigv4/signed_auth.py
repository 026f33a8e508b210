"""What a request claims about its signature (`SignedAuth`), parsed before any key lookup.

Its own module so that `errors` (whose `VerificationError` carries one) and
`verify` (which parses it) both import it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Literal

Version = Literal["v4", "v4a", "v2"]


@dataclass(frozen=True, slots=True, init=False)
class SignedAuth:
    """What a request claims about its signature, parsed before any key lookup."""

    version: Version
    algorithm: str  # AWS4-HMAC-SHA256, AWS4-ECDSA-P256-SHA256, HmacSHA256 or HmacSHA1
    presigned: bool  # signature in the URL query (SigV2 is always parameters, so False there)
    access_key_id: str
    scope_date: str  # YYYYMMDD; empty for SigV2
    regions: tuple[str, ...]  # v4: (region,); v4a: the region set; v2: ()
    service: str  # empty for SigV2
    signed_headers: tuple[str, ...]  # lowercase, as listed; v2: ()
    signature: str
    signing_time: datetime
    expires_at: datetime | None  # presigned expiry, or SigV2 Expires
    credential_scope: str  # as written after the key id; empty for SigV2
    amz_date: str  # the signing time as written in the request

    # One is built per verified request (and an Identity after it): the slots are filled through their
    # descriptors, a fraction of the cost of the frozen class's object.__setattr__ per field (as in sigv4.types).
    def __init__(self, version: Version, algorithm: str, presigned: bool, access_key_id: str, scope_date: str,
                 regions: tuple[str, ...], service: str, signed_headers: tuple[str, ...], signature: str,
                 signing_time: datetime, expires_at: datetime | None, credential_scope: str, amz_date: str) -> None:
        FIELD_SETTERS[0](self, version)
        FIELD_SETTERS[1](self, algorithm)
        FIELD_SETTERS[2](self, presigned)
        FIELD_SETTERS[3](self, access_key_id)
        FIELD_SETTERS[4](self, scope_date)
        FIELD_SETTERS[5](self, regions)
        FIELD_SETTERS[6](self, service)
        FIELD_SETTERS[7](self, signed_headers)
        FIELD_SETTERS[8](self, signature)
        FIELD_SETTERS[9](self, signing_time)
        FIELD_SETTERS[10](self, expires_at)
        FIELD_SETTERS[11](self, credential_scope)
        FIELD_SETTERS[12](self, amz_date)


#: The slot setters of SignedAuth's fields, in field order.
FIELD_SETTERS = [SignedAuth.__dict__[f.name].__set__ for f in fields(SignedAuth)]
