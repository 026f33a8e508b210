"""S3's customizations, the ones every AWS SDK applies on top of the restXml model.

Strategy: small pure functions over a serialized `Request` (from
`wire.serialize`), each doing one thing an SDK does for S3 and nothing else:
- addressing: a bucket whose name is a DNS label moves from the path into the
  host name (`https://bucket.s3.region.amazonaws.com/key`, virtual-hosted
  style); a name that is not (dots over https, upper case, underscores), an
  IP-address-like name, or an explicit endpoint URL keeps the bucket in the
  path (path style), as the SDKs' endpoint rules do;
- checksums: an operation that requires one (`httpChecksum.requestChecksumRequired`)
  or names its algorithm member gets a flexible checksum header
  (`x-amz-checksum-<alg>` and `x-amz-sdk-checksum-algorithm`) over a bytes
  body; a streamed body carries it as an aws-chunked trailer instead (the
  signer's `trailer_checksum`). `httpChecksumRequired` (Content-MD5) is done
  by `wire.serialize` for every protocol;
- `Expect: 100-continue` for a body over 1 MiB or of unknown size, so that a
  server refusing the request (a wrong region, a bad signature) can say so
  before the upload;
- a streaming payload given on a command line as `@path` or `fileb://path`
  is a file to stream (`streamed_file`; the caller opens it);
- the region-redirect error: S3 names the bucket's region in the
  `x-amz-bucket-region` header, or in `<Region>` of the error XML
  (`AuthorizationHeaderMalformed`, `PermanentRedirect`, `IllegalLocationConstraintException`);
- an error inside a 200 answer: S3 may fail CopyObject, UploadPartCopy or
  CompleteMultipartUpload after sending `200 OK`, the `<Error>` document in
  the body (`answer_status`, botocore's `_handle_200_error`);
- directory buckets (S3 Express One Zone, `<base>--<zone id>--x-s3`): the
  zonal endpoint `s3express-<zone id>.<region>.amazonaws.com`, and the session
  CreateSession returns (decoded by the restXml codec) as credentials with an
  expiry, as botocore's S3ExpressIdentityResolver and endpoint rules do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TypeGuard

from sigv4.checksums import checksum_algorithm, checksum_value
from sigv4.errors import InvalidParameterError
from sigv4.s3express import zone_id
from sigv4.types import Credentials, Request
from wire import xml
from wire.errors import DecodeError, ParamError
from wire.http import normalize_headers, percent_encode
from wire.model import Operation
from wire.restxml import error_envelope

#: S3's default flexible checksum (botocore's and the AWS CLI's since 2025).
DEFAULT_CHECKSUM = "crc32"
#: The payload line of a signed aws-chunked upload with a trailing checksum.
STREAMING_PAYLOAD = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
#: Bodies above this size (or of unknown size) ask for `100 Continue` first (botocore's threshold).
EXPECT_CONTINUE_OVER = 1024 * 1024

_DNS_BUCKET = re.compile(r"[a-z0-9]([a-z0-9.-]{1,61})[a-z0-9]")
_IP_LIKE = re.compile(r"\d+\.\d+\.\d+\.\d+")

#: Error codes whose XML says in `<Region>` where the bucket lives.
REDIRECT_CODES = frozenset({"AuthorizationHeaderMalformed", "PermanentRedirect", "IllegalLocationConstraintException",
                            "TemporaryRedirect"})


def virtual_hostable(bucket: str, scheme: str = "https") -> bool:
    """Whether `bucket` can be a host name label: 3-63 characters of lower-case
    letters, digits and `-`, not shaped like an IP address; dots only over
    plain http (a dotted name breaks the `*.s3.amazonaws.com` TLS certificate)."""
    if not _DNS_BUCKET.fullmatch(bucket) or _IP_LIKE.fullmatch(bucket) or ".." in bucket or ".-" in bucket \
            or "-." in bucket:
        return False
    return scheme == "http" or "." not in bucket


def virtual_hosted(request: Request, bucket: str) -> Request:
    """`request` (path style, `/<bucket>/...`) addressed virtual-hosted style:
    the bucket becomes the first label of the host. Returned unchanged when the
    bucket cannot be a host label or the path does not start with it."""
    prefix = "/" + percent_encode(bucket)
    target = request.target
    if not virtual_hostable(bucket, request.scheme) or not (
        target == prefix or target.startswith((prefix + "/", prefix + "?"))
    ):
        return request
    rest = target[len(prefix):]
    path = rest if rest.startswith("/") else "/" + rest
    return request.with_url(f"{request.scheme}://{bucket}.{request.authority}{path}")


def chosen_checksum(request: Request, default: str = DEFAULT_CHECKSUM) -> str:
    """The flexible checksum `request` is to carry (as a header or an aws-chunked
    trailer): the one its caller named in the operation's algorithm member
    (`ChecksumAlgorithm=SHA256` travels as `x-amz-sdk-checksum-algorithm`), else
    `default`. Raises `InvalidParameterError` for an algorithm we do not know."""
    named = request.header("x-amz-sdk-checksum-algorithm")
    return checksum_algorithm(named.strip().lower() if named else default).name


def with_checksum(op: Operation, request: Request, algorithm: str = DEFAULT_CHECKSUM) -> Request:
    """`request` with a flexible checksum header when `op` takes one and none is
    there yet (a caller's own `x-amz-checksum-*` or `Content-MD5` wins); only over
    a bytes body (a stream carries it as a trailer). The algorithm is the one the
    caller named in the request (`chosen_checksum`), else `algorithm`. Raises
    `InvalidParameterError` for an unknown algorithm."""
    if not (op.request_checksum_required or op.request_algorithm_member) or not isinstance(request.body, bytes):
        return request
    if any(name.lower().startswith("x-amz-checksum-") or name.lower() == "content-md5" for name, _ in request.headers):
        return request
    chosen = checksum_algorithm(chosen_checksum(request, algorithm))
    request = request.with_header(chosen.header, checksum_value(chosen.name, request.body))
    if request.header("x-amz-sdk-checksum-algorithm") is None:
        request = request.with_header("x-amz-sdk-checksum-algorithm", chosen.name.upper())
    return request


def body_size(request: Request) -> int | None:
    """The body's size in bytes when known without reading it (bytes, or a declared length)."""
    if isinstance(request.body, bytes):
        return len(request.body)
    declared = request.header("x-amz-decoded-content-length") or request.header("content-length")
    return int(declared) if declared is not None and declared.strip().isdigit() else None


def with_expect_continue(request: Request, threshold: int = EXPECT_CONTINUE_OVER) -> Request:
    """`request` with `Expect: 100-continue` when its body is over `threshold`
    bytes or of unknown size (an empty bytes body never asks)."""
    size = body_size(request)
    if (size is not None and size <= threshold) or request.header("expect") is not None:
        return request
    return request.with_header("Expect", "100-continue")


def redirect_region(status: int, headers: Mapping[str, str] | Iterable[tuple[str, str]], body: bytes) -> str | None:
    """The region S3 says the bucket is in, from a wrong-region answer: the
    `x-amz-bucket-region` header (HEAD responses have no body) or `<Region>` of a
    redirect error's XML; None for any other response."""
    if status < 300:
        return None
    region = normalize_headers(headers).get("x-amz-bucket-region")
    if region:
        return region
    envelope = error_envelope(body)
    if envelope is None:
        return None
    _, error = envelope
    code, found = error.child("Code"), error.child("Region")
    if code is None or code.text not in REDIRECT_CODES or found is None or not found.text:
        return None
    return found.text


#: How a command line names a file to stream as a blob payload: `@path` or `fileb://path` (the AWS CLI's form).
FILE_PREFIXES = ("fileb://", "@")


def streamed_file(op: Operation, params: Mapping[str, object]) -> tuple[str, str] | None:
    """(member name, path) when the value of `op`'s streaming blob payload is a
    file reference (`@path`, `fileb://path`), to be streamed from disk rather
    than held in memory; else None."""
    shape = op.input
    if shape is None or shape.payload is None:
        return None
    member = shape.members[shape.payload]
    value = params.get(member.name)
    if not member.streaming or not isinstance(value, str):
        return None
    for prefix in FILE_PREFIXES:
        if value.startswith(prefix) and value[len(prefix):] not in ("", "-"):  # `@-` (stdin) is read whole
            return member.name, value[len(prefix):]
    return None


def check_ascii_metadata(request: Request) -> None:
    """Raises `ParamError` when a user metadata header (`x-amz-meta-*`, the
    `Metadata` member) holds a non-ASCII name or value: S3 keeps metadata sent
    over REST as US-ASCII, so botocore refuses it before sending (encode other
    text, e.g. per RFC 2047, yourself)."""
    for name, value in request.headers:
        if name.lower().startswith("x-amz-meta-") and not (name.isascii() and value.isascii()):
            raise ParamError(f"Metadata: {name[len('x-amz-meta-'):]!r}={value!r}: S3 metadata is US-ASCII only "
                             "(encode other text yourself, e.g. as RFC 2047 does)")


def prepare(op: Operation, request: Request, bucket: str | None, *, path_style: bool,
            checksum: str = DEFAULT_CHECKSUM) -> Request:
    """`request` as an S3 client sends it: virtual-hosted unless `path_style`
    (an explicit endpoint URL) or the bucket cannot be a host label, with the
    checksum the operation takes and `Expect: 100-continue` for a large body.
    Raises `ParamError` for non-ASCII metadata (`check_ascii_metadata`)."""
    check_ascii_metadata(request)
    if bucket and not path_style:
        request = virtual_hosted(request, bucket)
    return with_expect_continue(with_checksum(op, request, checksum)) if request.body != b"" else request


def answer_status(op: Operation, status: int, body: bytes) -> int:
    """The status to read S3's answer to `op` by: 500 for a `200 OK` whose body is an `<Error>` document or
    XML cut off mid-way (S3 fails a copy or CompleteMultipartUpload after the status line was sent), else
    `status`. An operation whose payload is a blob, a string or a stream keeps its status: its body may be
    any bytes. As botocore's `_handle_200_error`."""
    shape = op.output
    if status != 200 or not body or shape is None:
        return status
    if shape.payload is not None:
        payload = shape.members[shape.payload].shape
        if payload.type in ("blob", "string") or payload.streaming:
            return status
    try:
        return 500 if xml.parse(body).tag == "Error" else status
    except DecodeError:
        return 500


#: A session is asked for again when fewer than this many seconds of it are left (botocore's advisory window).
SESSION_REFRESH_BEFORE = timedelta(seconds=45)


def directory_bucket(bucket: object) -> TypeGuard[str]:
    """Whether `bucket` names an S3 Express One Zone directory bucket (`<base>--<zone id>--x-s3`)."""
    if not isinstance(bucket, str):
        return False
    try:
        zone_id(bucket)
    except InvalidParameterError:
        return False
    return True


def zonal_endpoint(bucket: str, region: str) -> str:
    """The zonal endpoint of directory bucket `bucket` in `region`, without the bucket
    (`https://s3express-use1-az4.us-east-1.amazonaws.com`): requests address the bucket
    virtual-hosted on it. Raises InvalidParameterError for a name that is not a directory bucket's."""
    return f"https://s3express-{zone_id(bucket)}.{region}.amazonaws.com"


def session_credentials(output: Mapping[str, object]) -> tuple[Credentials, datetime]:
    """The session credentials and their expiry in a decoded CreateSession `output`
    (`Credentials`: AccessKeyId, SecretAccessKey, SessionToken, Expiration).
    Raises DecodeError when a member is missing."""
    found = output.get("Credentials")
    creds: Mapping[str, object] = found if isinstance(found, Mapping) else {}
    key, secret, token, expiry = (creds.get(name) for name in
                                  ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"))
    if not (isinstance(key, str) and isinstance(secret, str) and isinstance(token, str)
            and isinstance(expiry, datetime)):
        raise DecodeError("Credentials: a CreateSession answer carries AccessKeyId, SecretAccessKey, SessionToken "
                         "and Expiration")
    return Credentials(key, secret, token), expiry


def session_fresh(expiry: datetime, now: datetime, margin: timedelta = SESSION_REFRESH_BEFORE) -> bool:
    """Whether a session expiring at `expiry` may still sign at `now` (more than `margin` left)."""
    return expiry - now > margin
