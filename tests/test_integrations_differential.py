"""The requests adapter against requests-aws4auth and botocore on the same prepared requests.

Oracles: requests-aws4auth's `AWS4Auth` and botocore's `SigV4Auth` /
`S3SigV4Auth` / `SigV4QueryAuth` / `S3SigV4QueryAuth`, all at one frozen
time. Where they are correct the Authorization header (or presigned
signature) must be identical. requests-aws4auth signs host, content-type,
date and x-amz-*, and always sends x-amz-content-sha256: our adapter's
default header rule (host, content-type, content-md5, x-amz-*) signs the
same set, and `service="s3"` implies S3 rules in both. botocore signs every
header but a few; our adapter does too when given botocore's
`unsigned_headers` list. Where a peer is wrong, a test below
shows the canonical request it builds, the one SigV4 prescribes, and that a
server verifying by the spec accepts ours.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth as BotoSigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from freezegun import freeze_time
from requests_aws4auth import AWS4Auth

import sigv4
from sigv4.integrations.requests import SigV4Auth
from verifying_server import Server, verifying_server

T = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
KEY = sigv4.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
TEMP = sigv4.Credentials("ASIATEMP", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "FwoGZXIvYXdzEBYaD+token/=")
HOST = "https://example.amazonaws.com"

#: (method, path and query, body): requests on which all three agree.
AGREED = [
    ("GET", "/", None),
    ("GET", "/a b/c?z=1&a=2&a=1", None),
    ("POST", "/x", b"hello"),
    ("PUT", "/bucket/key.txt", b"\x00\x01binary"),
    ("GET", "/%E2%82%AC?q=%2F&k=%7E", None),
    ("GET", "/k?b=&a", None),
    ("DELETE", "/a/./b/../c", None),
]


def prepared(method: str, target: str, body: object, port: str = "") -> requests.PreparedRequest:
    return requests.Request(method, HOST + port + target, data=body, headers={"Content-Type": "text/plain"}).prepare()


def ours(request: requests.PreparedRequest, creds: sigv4.Credentials, service: str, **options: object) -> \
        requests.PreparedRequest:
    copy = request.copy()
    SigV4Auth(creds, region="us-east-1", service=service, clock=lambda: T, **options)(copy)  # type: ignore[arg-type]
    return copy


def with_aws4auth(request: requests.PreparedRequest, creds: sigv4.Credentials, service: str) -> requests.PreparedRequest:
    copy = request.copy()
    with freeze_time(T):
        AWS4Auth(creds.access_key_id, creds.secret_access_key, "us-east-1", service,
                 session_token=creds.session_token)(copy)
    return copy


def aws4auth_like(request: requests.PreparedRequest, creds: sigv4.Credentials, service: str) -> \
        requests.PreparedRequest:
    # The adapter's defaults (S3 rules from the service name, the signed-header rule); requests-aws4auth
    # always sends x-amz-content-sha256.
    return ours(request, creds, service, content_sha256_header=True)


def with_botocore(request: requests.PreparedRequest, creds: sigv4.Credentials, service: str, *,
                  presign: bool = False) -> AWSRequest:
    aws = AWSRequest(request.method, request.url, headers=dict(request.headers), data=request.body or b"")
    boto_creds = BotoCredentials(creds.access_key_id, creds.secret_access_key, creds.session_token)
    s3 = service == "s3"
    signer = ((S3SigV4QueryAuth if s3 else SigV4QueryAuth)(boto_creds, service, "us-east-1", expires=3600) if presign
              else (S3SigV4Auth if s3 else BotoSigV4Auth)(boto_creds, service, "us-east-1"))
    with freeze_time(T):
        signer.add_auth(aws)
    return aws


def query_param(url: str, name: str) -> str:
    return parse_qs(urlsplit(url).query)[name][0]


@pytest.mark.parametrize("service", ["svc", "s3"])
@pytest.mark.parametrize("creds", [KEY, TEMP], ids=["key", "session"])
@pytest.mark.parametrize("method, target, body", AGREED)
def test_identical_to_requests_aws4auth(method, target, body, creds, service) -> None:
    request = prepared(method, target, body)
    theirs, mine = with_aws4auth(request, creds, service), aws4auth_like(request, creds, service)
    assert mine.headers["Authorization"] == theirs.headers["Authorization"]
    assert mine.headers["X-Amz-Content-SHA256"] == theirs.headers["x-amz-content-sha256"]


@pytest.mark.parametrize("service", ["svc", "s3"])
@pytest.mark.parametrize("creds", [KEY, TEMP], ids=["key", "session"])
@pytest.mark.parametrize("method, target, body", [*AGREED, ("GET", "/a//b", None)])
def test_identical_to_botocore(method, target, body, creds, service) -> None:
    request = prepared(method, target, body)
    mine = ours(request, creds, service, unsigned_headers=sigv4.DEFAULT_UNSIGNED_HEADERS)
    assert mine.headers["Authorization"] == with_botocore(request, creds, service).headers["Authorization"]


@pytest.mark.parametrize("service", ["svc", "s3"])
@pytest.mark.parametrize("target", ["/", "/a b/c?z=1&a=2", "/k?b=&a"])
def test_presigned_identical_to_botocore(target, service) -> None:
    request = requests.Request("GET", HOST + target).prepare()
    mine = ours(request, TEMP, service, s3=service == "s3", presign=True)
    theirs = with_botocore(request, TEMP, service, presign=True)
    assert query_param(mine.url or "", "X-Amz-Signature") == query_param(theirs.url, "X-Amz-Signature")


@pytest.mark.parametrize("service", ["svc", "s3"])
def test_default_signed_headers_are_requests_aws4auths_on_a_sessions_request(service) -> None:
    """A Session adds Accept-Encoding, Connection, User-Agent and Accept, which proxies rewrite: neither signs them."""
    session = requests.Session()
    request = session.prepare_request(requests.Request("PUT", HOST + "/b/k", data=b"x", headers={
        "Content-Type": "text/plain", "Content-MD5": "nZ+sZE6Wr3pLZI2Kk9dMVg==", "X-Amz-Meta-A": "1", "X-Other": "2"}))
    assert {"Accept-Encoding", "Connection", "User-Agent", "Accept"} <= set(request.headers)
    theirs = with_aws4auth(request, KEY, service)
    mine = aws4auth_like(request, KEY, service)
    assert "SignedHeaders=content-md5;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-meta-a," in \
        mine.headers["Authorization"]
    # requests-aws4auth leaves Content-MD5 unsigned; told to sign the same set, the signatures agree.
    trimmed = request.copy()
    del trimmed.headers["Content-MD5"]
    assert aws4auth_like(trimmed, KEY, service).headers["Authorization"] == \
        with_aws4auth(trimmed, KEY, service).headers["Authorization"]
    assert "content-md5" not in theirs.headers["Authorization"]
    named = ours(request, KEY, service, content_sha256_header=True, signed_headers=["X-Other"])
    assert ";x-other," in named.headers["Authorization"]


def test_str_bodies_with_the_content_type_requests_aws4auth_sets() -> None:
    """For a str body requests-aws4auth appends `; charset=utf-8` to Content-Type (a header it then signs) and
    sends UTF-8, as we do; given that Content-Type up front, the signatures are identical."""
    body = '{"json": "h\u00e9"}'
    plain = prepared("POST", "/x", body)
    assert with_aws4auth(plain, KEY, "svc").headers["Content-Type"] == "text/plain; charset=utf-8"
    request = requests.Request("POST", HOST + "/x", data=body, headers={"Content-Type": "text/plain; charset=utf-8"})
    for service in ("svc", "s3"):
        theirs = with_aws4auth(request.prepare(), KEY, service)
        mine = aws4auth_like(request.prepare(), KEY, service)
        assert mine.headers["Authorization"] == theirs.headers["Authorization"]
        assert mine.body == theirs.body == body.encode("utf-8")


# -- where a peer is wrong ---------------------------------------------------------

@pytest.fixture
def s3_server() -> Iterator[Server]:
    with verifying_server({"AKIDEXAMPLE": KEY}, s3=True) as srv:
        yield srv


def test_requests_aws4auth_collapses_double_slashes_in_s3_keys(s3_server) -> None:
    """S3 object keys may contain `//` and S3 does not normalize paths; requests-aws4auth signs `/b/a/k` for
    the key `a//k`, so S3 (and botocore, and we) compute a different canonical URI."""
    request = prepared("GET", "/b/a//k", None)
    auth = AWS4Auth(KEY.access_key_id, KEY.secret_access_key, "us-east-1", "s3")
    theirs = with_aws4auth(request, KEY, "s3")
    canonical = auth.get_canonical_request(theirs, theirs.headers["Authorization"].split("SignedHeaders=")[1]
                                           .split(",")[0], theirs.headers["x-amz-content-sha256"])
    assert canonical.split("\n")[1] == "/b/a/k"
    mine = aws4auth_like(request, KEY, "s3")
    assert mine.headers["Authorization"] != theirs.headers["Authorization"]
    assert ours(request, KEY, "s3", s3=True).headers["Authorization"] == \
        with_botocore(request, KEY, "s3").headers["Authorization"]
    response = requests.get(s3_server.url + "/b/a//k", auth=SigV4Auth(KEY, region="us-east-1", service="s3", s3=True))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("query, botocore_line, spec_line", [
    ("x=a=b", "x=a=b", "x=a%3Db"),  # '=' inside a value must be percent-encoded
    ("r=a+b", "r=a+b", "r=a%2Bb"),  # a literal '+' is not unreserved, so it is encoded
])
def test_botocore_leaves_reserved_characters_of_a_raw_query_unencoded(query, botocore_line, spec_line) -> None:
    """botocore canonicalizes a query already in the URL by splitting it without encoding reserved characters
    (its own serializers never put them there raw); SigV4 URI-encodes every name and value."""
    request = prepared("GET", "/k?" + query, None)
    aws = AWSRequest("GET", request.url, headers={})
    signer = BotoSigV4Auth(BotoCredentials(KEY.access_key_id, KEY.secret_access_key), "svc", "us-east-1")
    aws.context["timestamp"] = "20240501T120000Z"
    assert signer.canonical_query_string(aws) == botocore_line
    result = sigv4.sign(sigv4.Request("GET", request.url or ""), KEY, region="us-east-1", service="svc", timestamp=T)
    assert result.canonical.query == spec_line


def test_requests_aws4auth_reads_plus_as_space() -> None:
    """requests-aws4auth form-decodes the query (`+` is a space), which is our `plus_is_space=True`; SigV4's
    default reads the raw query, where `+` is a plus. Equal once the same reading is chosen."""
    request = prepared("GET", "/k?r=a+b", None)
    theirs = with_aws4auth(request, KEY, "svc")
    mine = ours(request, KEY, "svc", content_sha256_header=True, plus_is_space=True,
                unsigned_headers=[*sigv4.DEFAULT_UNSIGNED_HEADERS, "content-length"])
    assert mine.headers["Authorization"] == theirs.headers["Authorization"]
    assert aws4auth_like(request, KEY, "svc").headers["Authorization"] != theirs.headers["Authorization"]
