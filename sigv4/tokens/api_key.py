"""Amazon Bedrock short-term API keys: a presigned `CallWithBearerToken` carried as a bearer token.

Strategy: as `aws-bedrock-token-generator` does, presign `POST
https://bedrock.amazonaws.com/?Action=CallWithBearerToken` for service
`bedrock` in the caller's region (the host is global, the scope regional),
drop the scheme, append `&Version=1` (unsigned) and base64 it behind
`bedrock-api-key-`. Bedrock accepts it until X-Amz-Expires, at most 12 hours
and never past the credentials' own expiry.
"""

from __future__ import annotations

import base64
from datetime import datetime

from ..errors import InvalidParameterError
from ..types import Credentials
from .parts import presigned_url, without_scheme

BEDROCK_PREFIX = "bedrock-api-key-"
BEDROCK_HOST = "bedrock.amazonaws.com"
#: The token format's version, appended after the signature (not signed).
BEDROCK_VERSION = "&Version=1"
BEDROCK_MAX_EXPIRES = 43200  # 12 hours, the generator's default and its limit


def bedrock(credentials: Credentials, region: str, timestamp: datetime, expires: int = BEDROCK_MAX_EXPIRES) -> str:
    """A Bedrock short-term API key, equal to `aws-bedrock-token-generator`'s for the same inputs.

    Returns `bedrock-api-key-` + base64 of `bedrock.amazonaws.com/?Action=CallWithBearerToken&X-Amz-...&Version=1`,
    valid for `expires` seconds (1..43200). Raises InvalidParameterError for bad input.
    """
    if isinstance(expires, bool) or not isinstance(expires, int) or not 1 <= expires <= BEDROCK_MAX_EXPIRES:
        raise InvalidParameterError(f"expires: {expires!r} must be an integer 1..{BEDROCK_MAX_EXPIRES} seconds")
    url = presigned_url(f"https://{BEDROCK_HOST}/?Action=CallWithBearerToken", credentials, region, "bedrock",
                        timestamp, expires, method="POST")
    return BEDROCK_PREFIX + base64.b64encode((without_scheme(url) + BEDROCK_VERSION).encode("utf-8")).decode("ascii")
