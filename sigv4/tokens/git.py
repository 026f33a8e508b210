"""AWS CodeCommit git over HTTPS: a SigV4 signature over the `GIT` method as the password.

Strategy: as `git-remote-codecommit` and `aws codecommit credential-helper`
do, sign by hand the canonical request `GIT /v1/repos/<repo>` with only
`host` signed and an empty payload hash line, for `codecommit` (the
string-to-sign's time has no `Z`); the password
is the signing time without its `Z` + `Z` + the signature, the user name the
access key id (and `%<session token>` with temporary credentials). The token
is the URL git-remote-codecommit hands to git, with both in its user info.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import quote

from ..errors import InvalidParameterError
from ..signer import amz_date
from ..types import Credentials
from .parts import check_text, sign_text

CODECOMMIT_SERVICE = "codecommit"
# CodeCommit repository names: letters, digits, '.', '_' and '-', at most 100 (and not `.git`-suffixed here).
_REPOSITORY = re.compile(r"[\w.-]{1,100}\Z", re.ASCII)


def codecommit_host(region: str) -> str:
    """The CodeCommit git endpoint for `region` (China regions are under `amazonaws.com.cn`)."""
    return f"git-codecommit.{region}.amazonaws.com" + (".cn" if region.startswith("cn-") else "")


def codecommit_canonical(path: str, host: str) -> str:
    """The canonical request a CodeCommit password signs: `GIT`, the path, `host` alone, and no payload hash."""
    return f"GIT\n{path}\n\nhost:{host}\n\nhost\n"


def codecommit(repository: str, credentials: Credentials, region: str, timestamp: datetime) -> str:
    """The authenticated git URL for `repository`, equal to `git-remote-codecommit`'s.

    `https://<user>:<password>@git-codecommit.<region>.amazonaws.com/v1/repos/<repository>`:
    the user name is the access key id (`%` + the session token with temporary
    credentials, percent-encoded), the password `YYYYMMDDTHHMMSSZ<signature>` as
    `aws codecommit credential-helper get` prints it. Raises InvalidParameterError for bad input.
    """
    if not _REPOSITORY.match(check_text("repository", repository)):
        raise InvalidParameterError(f"repository: {repository!r} must be 1..100 letters, digits, '.', '_' or '-'")
    host, path, when = codecommit_host(check_text("region", region)), f"/v1/repos/{repository}", amz_date(timestamp)
    # The string-to-sign writes the time without its `Z` (botocore's SigV4Auth over the helper's own timestamp).
    _, signature = sign_text(codecommit_canonical(path, host), credentials, region, CODECOMMIT_SERVICE, when[:8],
                             when[:-1])
    user = credentials.access_key_id + (f"%{credentials.session_token}" if credentials.session_token else "")
    return f"https://{quote(user, safe='')}:{when}{signature}@{host}{path}"
