"""S3's host names: which bucket a virtual-hosted host name addresses.

Strategy: one pattern for S3's endpoints (`s3`, `s3.REGION`, `s3-REGION`,
`s3.dualstack.REGION`, under `amazonaws.com`); labels before it are the
bucket. Its own module so that signing (S3's SigV2 signs the bucket of the
Host) and routing (`wire.endpoints`) read host names alike.
"""

from __future__ import annotations

import re

#: S3's hosts, a bucket's virtual-hosted ones too: [bucket.]s3[.dualstack].REGION, s3-REGION (legacy), s3.
S3_HOST = re.compile(r"(?:^|\.)s3(?:[.-](?:dualstack\.)?([a-z]{2}(?:-[a-z]+)+-\d+))?\.amazonaws\.com$")


def s3_bucket_of(host: str) -> str | None:
    """The bucket of an S3 virtual-hosted host name (`bucket.s3.us-west-2.amazonaws.com`, a port allowed);
    None for any other host (S3's own endpoints, path-style, an emulator's address)."""
    name = host.split(":")[0].lower()
    s3 = S3_HOST.search(name)
    return name[:s3.start()] if s3 and s3.start() > 0 else None
