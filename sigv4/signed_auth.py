"""What a request claims about its signature (`SignedAuth`), parsed before any key lookup.

Its own module so that `errors` (whose `VerificationError` carries one) and
`verify` (which parses it) both import it without importing each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Literal

Version = Literal["v4", "v4a", "v2", "s3v2"]  # s3v2: S3's own SigV2 (`sigv4.s3v2`)


@dataclass(frozen=True, init=False)
class SignedAuth:
    """What a request claims about its signature, parsed before any key lookup."""

    version: Version
    algorithm: str  # AWS4-HMAC-SHA256, AWS4-ECDSA-P256-SHA256, HmacSHA256 or HmacSHA1 (S3's SigV2 too)
    presigned: bool  # signature in the URL query (Query SigV2 is always parameters, so False there)
    access_key_id: str
    scope_date: str  # YYYYMMDD; empty for SigV2
    regions: tuple[str, ...]  # v4: (region,); v4a: the region set; v2: ()
    service: str  # empty for Query SigV2; "s3" for S3's
    signed_headers: tuple[str, ...]  # lowercase, as listed; v2: (); s3v2: those whose values it signs
    signature: str
    signing_time: datetime
    expires_at: datetime | None  # presigned expiry, or SigV2 Expires (S3's presigned: also its signing_time)
    credential_scope: str  # as written after the key id; empty for SigV2
    amz_date: str  # the signing time as written in the request (S3's SigV2: Date, x-amz-date or Expires)

    # One is built per verified request (and an Identity after it): the fields go into the instance's __dict__ in
    # one step, a fraction of the cost of the frozen class's object.__setattr__ (or of a slot's setter) per field.
    def __init__(self, version: Version, algorithm: str, presigned: bool, access_key_id: str, scope_date: str,
                 regions: tuple[str, ...], service: str, signed_headers: tuple[str, ...], signature: str,
                 signing_time: datetime, expires_at: datetime | None, credential_scope: str, amz_date: str) -> None:
        # A dict display: half the cost of zipping the names with the values.
        set_fields(self, {
            "version": version, "algorithm": algorithm, "presigned": presigned, "access_key_id": access_key_id,
            "scope_date": scope_date, "regions": regions, "service": service, "signed_headers": signed_headers,
            "signature": signature, "signing_time": signing_time, "expires_at": expires_at,
            "credential_scope": credential_scope, "amz_date": amz_date})


#: SignedAuth's field names, in field order.
FIELD_NAMES = tuple([f.name for f in fields(SignedAuth)])


#: Fill a new (frozen) instance's fields from `values`, every field by name: the setter of the instance dict
#: itself, as `object.__setattr__(auth, "__dict__", values)` would first look it up by name on every call.
set_fields: Callable[[SignedAuth, dict[str, object]], None] = vars(SignedAuth)["__dict__"].__set__
