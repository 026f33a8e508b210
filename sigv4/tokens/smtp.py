"""Amazon SES SMTP passwords: a secret access key turned, one way, into a password for one region's SMTP endpoint.

Strategy: AWS's documented version 4 algorithm is the SigV4 key derivation
with a fixed date `11111111`, the region, service `ses` and `aws4_request`,
then one more HMAC over `SendRawEmail`; the password is base64 of the version
byte 0x04 and that digest. Nothing in it says which region or key made it; it
lasts as long as the access key. SMTP has no place for a session token, so
temporary credentials cannot make one.
"""

from __future__ import annotations

import base64

from ..errors import InvalidParameterError
from ..keys import hmac_sha256, signing_key
from ..types import Credentials
from .parts import check_text

SES_SMTP_VERSION = 0x04
#: The version byte of the retired algorithm (an HMAC of the message alone, no region).
SES_SMTP_LEGACY_VERSION = 0x02
_DATE, _MESSAGE = "11111111", "SendRawEmail"


def ses_smtp(credentials: Credentials, region: str) -> str:
    """The SES SMTP password (version 4) for `credentials`' secret key in `region`; the user name is the key id.

    Equal to AWS's `smtp_credentials_generate.py`. Raises InvalidParameterError for
    temporary credentials (SMTP cannot carry a session token) or an empty region or key.
    """
    if credentials.session_token:
        raise InvalidParameterError("credentials: SES SMTP signs in with an IAM user's access key and secret only; "
                                    "temporary credentials (a session token) cannot make an SMTP password")
    if not credentials.secret_access_key:
        raise InvalidParameterError("secret_access_key: must not be empty")
    key = signing_key(credentials.secret_access_key, _DATE, check_text("region", region), "ses")
    return base64.b64encode(bytes([SES_SMTP_VERSION]) + hmac_sha256(key, _MESSAGE)).decode("ascii")
