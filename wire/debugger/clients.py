"""What the debugger knows about the clients that sign requests: how to recognise each, which signing quirks
it has, and what it logs.

Strategy: one table, `CLIENTS`, read by the ranking (`wire.debugger.diagnose`)
and nowhere else decided by `if`s. A client is recognised from its
User-Agent (a regular expression over the header) or from the capture
format only it writes (awscurl -v, aws --debug). Its `quirks` are the cause
kinds its own signer produces on a correct-looking request (curl 7.88 signs
the query in the order sent); for every other client the same request shape
is normal behaviour (botocore signs `Content-Type: ...; charset=utf-8` for
Query calls and sends S3 list parameters unsorted, having signed them
sorted), so it is no evidence. An unrecognised client (a hand-rolled signer)
may have any quirk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sigv4.types import Request

__all__ = ["CLIENTS", "Client", "HAND_ROLLED", "PRESIGNER", "REQUEST_SHAPE_QUIRKS", "identify"]

#: The cause kinds a request's own shape can make likely (an unsorted query, a `+`, a charset...). A trailing
#: slash is not one: a path ending in `/` is as often right as wrong, so it never outranks the secret.
REQUEST_SHAPE_QUIRKS = frozenset({
    "query-order", "plus-space", "query-empty-value", "query-encoding", "path-normalization", "path-encoding",
    "header-changed", "host-port",
})


@dataclass(frozen=True, slots=True)
class Client:
    """One client: its name, how it is recognised, its signer's quirks, and how it logs what it signed."""

    name: str
    #: Matched (search) against the User-Agent header; None: recognised by capture format only.
    user_agent: re.Pattern[str] | None
    #: Cause kinds its signer is known to produce by itself.
    quirks: frozenset[str]
    #: How it shows the canonical request and string-to-sign it signed, for the advice ("" when it does not).
    logs: str
    #: Capture formats (`wire.debugger.capture.Capture.format`) only this client writes.
    formats: frozenset[str] = frozenset()
    #: Its quirks in words, for the report ("" when it has none worth naming).
    known_for: str = ""


#: botocore signs with awscrt when it is installed, and that signer logs neither string.
_BOTOCORE_LOG = ("`--debug` (botocore's log) prints its CanonicalRequest and StringToSign (with "
                 "BOTO_DISABLE_CRT=true when awscrt is installed: its CRT signer logs neither)")
_SDK_LOG = "its debug logging of the signer prints the canonical request and string-to-sign"

#: Most specific first: the aws CLI's User-Agent also names botocore.
CLIENTS: tuple[Client, ...] = (
    Client("aws-cli", re.compile(r"^aws-cli/"), frozenset(), _BOTOCORE_LOG),
    # botocore's debug log is written by botocore alone, whichever program embeds it.
    Client("boto3/botocore", re.compile(r"\b(?:Boto3|Botocore)/", re.I), frozenset(), _BOTOCORE_LOG,
           frozenset({"aws-debug"})),
    Client("aws-sdk-js", re.compile(r"\baws-sdk-js/|\baws-sdk-nodejs/"), frozenset(), _SDK_LOG),
    Client("aws-sdk-java", re.compile(r"\baws-sdk-java/"), frozenset(), _SDK_LOG),
    Client("aws-sdk-go", re.compile(r"\baws-sdk-go(?:-v2)?/"), frozenset(), _SDK_LOG),
    Client("aws-sdk-rust", re.compile(r"\baws-sdk-rust/"), frozenset(), _SDK_LOG),
    Client("aws-sdk-dotnet", re.compile(r"\baws-sdk-dotnet"), frozenset(), _SDK_LOG),
    Client("awscurl", None, frozenset(), "`awscurl -v` prints its CANONICAL REQUEST and STRING_TO_SIGN",
           frozenset({"awscurl"})),
    # curl 7.75-8.x `--aws-sigv4` signs the query string in the order it is given, unsorted.
    Client("curl", re.compile(r"^curl/"), frozenset({"query-order"}), "",
           known_for="its `--aws-sigv4` signs the query in the order given, unsorted"),
    Client("okhttp", re.compile(r"^okhttp/"), REQUEST_SHAPE_QUIRKS, ""),
    # python-requests and urllib3 carry whatever signer the script uses (requests-aws4auth, a hand-rolled one).
    Client("python-requests", re.compile(r"^python-requests/"), REQUEST_SHAPE_QUIRKS, ""),
    Client("urllib3", re.compile(r"^python-urllib3/"), REQUEST_SHAPE_QUIRKS, ""),
)

#: Any client the table does not recognise: a hand-rolled signer may make any mistake.
HAND_ROLLED = Client("an unrecognised client", None, REQUEST_SHAPE_QUIRKS, "",
                     known_for="a hand-rolled signer may make any of the known mistakes")


#: Whoever presigned a URL: the User-Agent is the program that fetched it (curl, a browser), which signed nothing.
#: Presigned URLs come from SDKs (and `sigv4 sign --presign`) far more often than from hand-rolled code, and their
#: shape is an SDK's normal one (botocore sends `versionId=...&response-content-type=text%2Fplain&X-Amz-...`
#: unsorted, signed sorted): no quirk, so the secret comes first and the secret's search settles the rest.
PRESIGNER = Client("the URL's presigner (the User-Agent is the program that fetched it)", None, frozenset(), "")

_PRESIGNED = re.compile(r"(?:^|&)X-Amz-Signature=", re.I)


def identify(request: Request, capture_format: str | None = None) -> Client:
    """The client that signed `request`: by User-Agent, or by the capture format only it writes (awscurl's
    User-Agent is python-requests'; botocore's log, whatever program wrote it), else `HAND_ROLLED`; for a
    presigned URL fetched as such, `PRESIGNER` (its User-Agent names the fetcher, not the signer). Never raises."""
    if _PRESIGNED.search(request.query) and request.header("authorization") is None:
        return PRESIGNER
    agent = request.header("user-agent") or ""
    by_agent = next((c for c in CLIENTS if c.user_agent is not None and c.user_agent.search(agent)), None)
    by_format = next((c for c in CLIENTS if capture_format in c.formats), None)
    if by_format is not None and (by_agent is None or by_agent.logs != by_format.logs):
        return by_format
    return by_agent or HAND_ROLLED
