"""S3 Express One Zone: directory buckets, their sessions, and how requests to them are signed.

Strategy: nothing new in the arithmetic; only which credentials sign and
where the token goes, as botocore's S3ExpressAuth / S3ExpressQueryAuth /
S3ExpressPostAuth do it. A client first calls `CreateSession` on the
bucket (`GET /?session`), an ordinary SigV4 request with the signing name
`s3express` and the caller's own credentials, their session token (if any) in
`x-amz-security-token`. The session it gets back (a key pair and a session
token) signs every later request to that bucket, again with the signing name
`s3express`, but the session token travels in `x-amz-s3session-token` (a
presigned URL: `X-Amz-S3session-Token`; a POST form: `sigv4.post` with
`service="s3express"`) and no `x-amz-security-token` is sent. So each function
here prepares the request and calls `sigv4.sign` / `sigv4.presign` with the
session's key pair stripped of its token, which the signer then never adds.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from .chunked import DEFAULT_CHUNK_SIZE
from .errors import InvalidParameterError
from .signer import SigningResult, _query_params, _with_query, presign, sign, without_query_params
from .types import Credentials, Request

SIGNING_NAME = "s3express"
SESSION_TOKEN_HEADER = "x-amz-s3session-token"
SESSION_TOKEN_PARAM = "X-Amz-S3session-Token"
SESSION_MODE_HEADER = "x-amz-create-session-mode"
#: A directory bucket is named `<base>--<zone id>--x-s3`, e.g. `photos--usw2-az1--x-s3`.
DIRECTORY_BUCKET_SUFFIX = "--x-s3"
SessionMode = Literal["ReadWrite", "ReadOnly"]


def zone_id(bucket: str) -> str:
    """The Availability Zone id in a directory bucket's name (`usw2-az1` of `photos--usw2-az1--x-s3`).

    Raises InvalidParameterError for a name that is not `<base>--<zone id>--x-s3`.
    """
    base, sep, zone = bucket.removesuffix(DIRECTORY_BUCKET_SUFFIX).rpartition("--")
    if not bucket.endswith(DIRECTORY_BUCKET_SUFFIX) or not sep or not base or not zone \
            or not all(c.isalnum() or c == "-" for c in zone):
        raise InvalidParameterError(f"bucket: {bucket!r} is not a directory bucket name (<base>--<zone id>--x-s3)")
    return zone


def directory_bucket_url(bucket: str, region: str, key: str = "") -> str:
    """The zonal endpoint URL of `bucket` (virtual-hosted), with `key` (already URI-encoded) as the path."""
    return f"https://{bucket}.s3express-{zone_id(bucket)}.{region}.amazonaws.com/{key.lstrip('/')}"


def create_session(
    bucket: str, credentials: Credentials, *, region: str, timestamp: datetime, mode: SessionMode | None = None,
    url: str | None = None,
) -> SigningResult:
    """The signed `CreateSession` request for `bucket` (`GET /?session`), signed as SigV4 for `s3express`
    with `credentials` (their session token, if any, in `x-amz-security-token`).

    `mode` sets `x-amz-create-session-mode`; `url` replaces the bucket's zonal endpoint (a local server).
    Raises a SigningError subclass for unusable input.
    """
    base = url if url is not None else directory_bucket_url(bucket, region)
    headers = [(SESSION_MODE_HEADER, mode)] if mode is not None else []
    return sign(Request("GET", base.rstrip("?") + ("&" if "?" in base else "?") + "session", headers), credentials,
                region=region, service=SIGNING_NAME, timestamp=timestamp, s3=True)


def _session_key(session: Credentials) -> tuple[Credentials, str]:
    """The session's key pair without its token (so the signer adds no x-amz-security-token), and the token."""
    if not session.session_token:
        raise InvalidParameterError("credentials: a directory bucket request is signed with the session "
                                    "CreateSession returned, which has a session token; this one has none")
    return Credentials(session.access_key_id, session.secret_access_key), session.session_token


def sign_directory_request(
    request: Request, session: Credentials, *, region: str, timestamp: datetime, payload: str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE, trailer_checksum: str | None = None,
    unsigned_headers: Iterable[str] | None = None,
) -> SigningResult:
    """Sign a request to a directory bucket with a CreateSession `session`: its token in `x-amz-s3session-token`
    (signed), none in `x-amz-security-token`, the signing name `s3express`, S3's canonicalization.

    `payload`, `chunk_size`, `trailer_checksum` and `unsigned_headers` are as for `sigv4.sign` (aws-chunked
    uploads with a crc64nvme trailer included). Raises a SigningError subclass for unusable input.
    """
    key, token = _session_key(session)
    prepared = request.edit_headers(((SESSION_TOKEN_HEADER, token),), drops=("x-amz-security-token",))
    return sign(prepared, key, region=region, service=SIGNING_NAME, timestamp=timestamp, s3=True, payload=payload,
                chunk_size=chunk_size, trailer_checksum=trailer_checksum, unsigned_headers=unsigned_headers)


def presign_directory_request(
    request: Request, session: Credentials, *, region: str, timestamp: datetime, expires: int = 300,
) -> SigningResult:
    """Presign a request to a directory bucket with a CreateSession `session`: `X-Amz-S3session-Token` in the
    query (signed), no `X-Amz-Security-Token`, the signing name `s3express`, `UNSIGNED-PAYLOAD`.

    `expires` defaults to 300 seconds, as botocore's S3ExpressQueryAuth. Raises a SigningError subclass.
    """
    key, token = _session_key(session)
    bare = without_query_params(request, (SESSION_TOKEN_PARAM, "X-Amz-Security-Token"))
    prepared = bare.with_url(_with_query(bare.url, _query_params([(SESSION_TOKEN_PARAM, token)])))
    return presign(prepared, key, region=region, service=SIGNING_NAME, timestamp=timestamp, expires=expires, s3=True)
