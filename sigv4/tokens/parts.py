"""The pieces every token is built from: input checks, presigned URLs in the reference's order, endpoints.

Strategy: the makers differ in what they sign and how they wrap it; what they
share is here, so each maker reads as its recipe. Query parameters are put in
the order the reference implementation writes them (order does not change a
signature, the canonical query is sorted, only the token's text).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from datetime import datetime

from ..canonical import uri_encode
from ..errors import InvalidParameterError
from ..keys import signature_hex, signing_key
from ..signer import presign, string_to_sign
from ..types import Credentials, Request

ALGORITHM = "AWS4-HMAC-SHA256"
STS_API_VERSION = "2011-06-15"
#: The body of a signed STS GetCallerIdentity (EKS presigns it as a query instead).
GET_CALLER_IDENTITY = f"Action=GetCallerIdentity&Version={STS_API_VERSION}"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

# botocore's `generate_presigned_url` writes SignedHeaders before Expires (its
# SigV4QueryAuth alone, as the MSK and Bedrock signers use it, writes them the other way).
BOTOCORE_ORDER = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires",
                  "X-Amz-Security-Token", "X-Amz-Signature")
# A host name or cache name: no scheme, path, user info, whitespace or control bytes.
HOST = re.compile(r"[^\s/?#@\\]+\Z")
_REGION_IN_HOST = re.compile(r"(?<![a-z])((?:[a-z]{2}|us-gov|us-iso[a-z]?|eu-isoe?)-[a-z]+-\d+)(?![a-z0-9])")


def check_text(field: str, value: object, pattern: re.Pattern[str] | None = None) -> str:
    """`value` if it is a non-empty string without control characters (matching `pattern`, a host rule).

    Raises InvalidParameterError naming `field` otherwise.
    """
    if not isinstance(value, str) or not value:
        raise InvalidParameterError(f"{field}: must be a non-empty string")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise InvalidParameterError(f"{field}: {value!r} contains a control character")
    if pattern is not None and not pattern.match(value):
        raise InvalidParameterError(f"{field}: {value!r} must be a bare host name (no scheme, path, '@' or space)")
    return value


def check_port(port: object) -> int:
    """`port` if it is an integer 1..65535; raises InvalidParameterError otherwise."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise InvalidParameterError(f"port: {port!r} must be an integer 1..65535")
    return port


def query(params: Sequence[tuple[str, str]]) -> str:
    """`params` as a query string, each value percent-encoded as SigV4 encodes it."""
    return "&".join(f"{name}={uri_encode(value, keep_slash=False)}" for name, value in params)


def in_order(url: str, order: Sequence[str]) -> str:
    """`url` with the query parameters named in `order` moved after the others, in that order."""
    base, _, text = url.partition("?")
    parts = text.split("&")
    rank = {name: i for i, name in enumerate(order)}
    parts.sort(key=lambda part: rank.get(part.partition("=")[0], -1))  # stable: the others keep their places
    return f"{base}?{'&'.join(parts)}"


def presigned_url(url: str, credentials: Credentials, region: str, service: str, timestamp: datetime,
                  expires: int, headers: Sequence[tuple[str, str]] = (), method: str = "GET") -> str:
    """`url` presigned with SigV4 (query parameters in our signer's order; see `in_order`). Its host is signed
    in lowercase, as botocore signs a URL's host (`urlsplit(url).hostname`) in the helpers that make these
    tokens (`generate_db_auth_token`, `aws eks get-token`, the MSK and Bedrock signers), and kept as written."""
    scheme, _, rest = url.partition("://")
    authority = rest.partition("/")[0]
    signed = presign(Request(method, f"{scheme}://{authority.lower()}{rest[len(authority):]}", headers), credentials,
                     region=region, service=service, timestamp=timestamp, expires=expires).request.url
    return f"{scheme}://{authority}{signed[len(scheme) + 3 + len(authority):]}"


def sign_text(canonical: str, credentials: Credentials, region: str, service: str, date: str,
              stamp: str) -> tuple[str, str]:
    """(credential scope, hex signature) of a canonical request written out by hand.

    For tokens whose signed "request" is not HTTP (CodeCommit's `GIT`, Keyspaces' nonce)
    and so is not `sigv4.sign`'s to build: `date` is the scope's YYYYMMDD, `stamp`
    the time as the string-to-sign writes it. Raises InvalidParameterError for an
    unusable region or credentials.
    """
    check_text("region", region)
    if "/" in region or any(c.isspace() for c in region):
        raise InvalidParameterError(f"region: {region!r} must not contain '/' or whitespace")
    check_text("access_key_id", credentials.access_key_id)
    if not credentials.secret_access_key:
        raise InvalidParameterError("secret_access_key: must not be empty")
    scope = f"{date}/{region}/{service}/aws4_request"
    key = signing_key(credentials.secret_access_key, date, region, service)
    return scope, signature_hex(key, string_to_sign(ALGORITHM, stamp, scope, canonical))


def without_scheme(url: str) -> str:
    return url.partition("://")[2]


def b64url(text: str) -> str:
    """Unpadded base64url of `text`'s UTF-8 bytes."""
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def sts_host(region: str) -> str:
    """The regional STS endpoint host for `region` (China regions are under `amazonaws.com.cn`)."""
    return f"sts.{region}.amazonaws.com" + (".cn" if region.startswith("cn-") else "")


def region_in_host(host: str) -> str | None:
    """The AWS region named in an endpoint host (`db.x.eu-west-1.rds.amazonaws.com` -> `eu-west-1`), or None."""
    found = _REGION_IN_HOST.search(host.lower())
    return found.group(1) if found else None
