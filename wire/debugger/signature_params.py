"""The SigV4 and SigV4a parameters a signed request declares: read back from its Authorization header or its
presigned query, without any secret.

Strategy: one reader for both places. The Authorization header's
`Credential=`, `SignedHeaders=` and `Signature=` (or the presigned query's
`X-Amz-*` parameters) are split; SigV4a's credential has no region (the region
set is its own header or parameter), so the scope is cut by algorithm. A
missing part is a `DiagnoseError` naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from sigv4.canonical import query_pairs
from sigv4.types import Request
from wire.errors import WireError

__all__ = ["DiagnoseError", "SignatureParams", "V4A_ALGORITHM", "signature_params"]

#: The SigV4a algorithm name: its credential scope has no region.
V4A_ALGORITHM = "AWS4-ECDSA-P256-SHA256"


class DiagnoseError(WireError, ValueError):
    """The sent request carries no readable SigV4 signature (the message names the missing part)."""


@dataclass(frozen=True, slots=True)
class SignatureParams:
    """What the client declared when it signed: from the Authorization header or a presigned query.

    `region` is the region for SigV4 and the region set for SigV4a.
    """

    algorithm: str
    access_key_id: str
    scope_date: str
    region: str
    service: str
    terminator: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str
    presigned: bool
    expires: int | None

    @property
    def v4a(self) -> bool:
        return self.algorithm == V4A_ALGORITHM

    @property
    def scope(self) -> str:
        if self.v4a:
            return f"{self.scope_date}/{self.service}/{self.terminator}"
        return f"{self.scope_date}/{self.region}/{self.service}/{self.terminator}"


def _authorization_fields(value: str) -> tuple[str, dict[str, str]]:
    algorithm, _, rest = value.strip().partition(" ")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, item = part.strip().partition("=")
        if sep:
            fields[key.strip()] = item.strip()
    return algorithm, fields


def _basic_date(http_date: str) -> str | None:
    try:
        return parsedate_to_datetime(http_date).strftime("%Y%m%dT%H%M%SZ")
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


#: What the debugger says of S3's SigV2 (`s3v2_causes` reads it; SigV4's mistake search does not apply).
_S3V2_HELP = ("its string-to-sign is compared with S3's StringToSign, and with the secret the signature checked; "
              "SigV4's signer-mistake search does not apply; S3 accepts SigV2 only in regions launched before 2014 "
              "(sign with SigV4, boto3's signature_version=\"s3v4\", elsewhere)")


def signature_params(request: Request) -> SignatureParams:
    """Read the SigV4 or SigV4a parameters a signed request carries; raise `DiagnoseError` naming what is missing."""
    authorization = request.header("authorization")
    query = dict(query_pairs(request.query))
    if authorization is not None and authorization.startswith("AWS "):
        raise DiagnoseError(f"Authorization header: S3's Signature Version 2 (AWS {authorization[4:12]}…:signature): "
                            f"{_S3V2_HELP}")
    if authorization is not None:
        algorithm, fields = _authorization_fields(authorization)
        where = "Authorization header"
        credential, signed, signature = (fields.get(k) for k in ("Credential", "SignedHeaders", "Signature"))
        amz_date = request.header("x-amz-date") or _basic_date(request.header("date") or "")
        expires = None
        region_set = request.header("x-amz-region-set")
    elif "X-Amz-Signature" in query:
        where = "presigned query"
        algorithm = query.get("X-Amz-Algorithm", "")
        credential, signed, signature = (query.get(k) for k in
                                         ("X-Amz-Credential", "X-Amz-SignedHeaders", "X-Amz-Signature"))
        amz_date = query.get("X-Amz-Date")
        expires_text = query.get("X-Amz-Expires", "")
        # ASCII digits only, and few (`²` is a digit to str.isdigit, 5000 digits are too many for int()).
        expires = int(expires_text) if re.fullmatch(r"[0-9]{1,9}", expires_text) else None
        region_set = query.get("X-Amz-Region-Set")
    elif "AWSAccessKeyId" in query and "Signature" in query:
        raise DiagnoseError(f"presigned query: a Signature Version 2 URL (AWSAccessKeyId {query['AWSAccessKeyId'][:8]}…, "
                            f"Expires {query.get('Expires', '?')[:12]}, Signature): {_S3V2_HELP}")
    else:
        raise DiagnoseError("request: no Authorization header and no X-Amz-Signature query parameter (not signed)")
    for name, value in (("Credential", credential), ("SignedHeaders", signed), ("Signature", signature),
                        ("X-Amz-Date (or Date)", amz_date)):
        if not value:
            raise DiagnoseError(f"{where}: {name} is missing or empty")
    assert credential and signed and signature and amz_date  # narrowed by the loop above
    parts = credential.split("/")
    if algorithm == V4A_ALGORITHM:
        if len(parts) < 4:
            raise DiagnoseError(f"{where}: Credential {credential!r} must be KEY/date/service/aws4_request (SigV4a)")
        scope_date, service, terminator = parts[-3:]
        key_id, region = "/".join(parts[:-3]), region_set or ""
    else:
        if len(parts) < 5:
            raise DiagnoseError(f"{where}: Credential {credential!r} must be KEY/date/region/service/aws4_request")
        scope_date, region, service, terminator = parts[-4:]
        key_id = "/".join(parts[:-4])
    return SignatureParams(algorithm, key_id, scope_date, region, service, terminator,
                           signed_headers=tuple(signed.split(";")), signature=signature, amz_date=amz_date,
                           presigned=authorization is None, expires=expires)
