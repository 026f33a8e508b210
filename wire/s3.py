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
  (`AuthorizationHeaderMalformed`, `PermanentRedirect`, `IllegalLocationConstraintException`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from sigv4.checksums import checksum_algorithm, checksum_value
from sigv4.types import Request
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


def with_checksum(op: Operation, request: Request, algorithm: str = DEFAULT_CHECKSUM) -> Request:
    """`request` with a flexible checksum header when `op` takes one and none is
    there yet (a caller's own `x-amz-checksum-*` or `Content-MD5` wins); only over
    a bytes body (a stream carries it as a trailer). Raises `InvalidParameterError`
    for an unknown algorithm."""
    if not (op.request_checksum_required or op.request_algorithm_member) or not isinstance(request.body, bytes):
        return request
    if any(name.lower().startswith("x-amz-checksum-") or name.lower() == "content-md5" for name, _ in request.headers):
        return request
    chosen = checksum_algorithm(algorithm)
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


def prepare(op: Operation, request: Request, bucket: str | None, *, path_style: bool,
            checksum: str = DEFAULT_CHECKSUM) -> Request:
    """`request` as an S3 client sends it: virtual-hosted unless `path_style`
    (an explicit endpoint URL) or the bucket cannot be a host label, with the
    checksum the operation takes and `Expect: 100-continue` for a large body."""
    if bucket and not path_style:
        request = virtual_hosted(request, bucket)
    return with_expect_continue(with_checksum(op, request, checksum)) if request.body != b"" else request
