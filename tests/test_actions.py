"""`wire.actions`: the operation a request calls, as each protocol names it, and the allow-list match."""

from __future__ import annotations

import pytest

from wire.actions import AmbiguousActionError, allowed, is_credential_action, operation_name, rest_routes
from wire.model import load_model

S3_ROUTES = rest_routes(load_model("s3"))


@pytest.mark.parametrize(("method", "path", "query", "headers", "expected"), [
    ("GET", "/b/k", "", [], "GetObject"),
    ("GET", "/b/dir/k.txt", "", [], "GetObject"),
    ("PUT", "/b/k", "", [], "PutObject"),
    ("PUT", "/b/k", "", [("x-amz-copy-source", "src/k")], "CopyObject"),
    ("PUT", "/b/k", "partNumber=1&uploadId=u", [], "UploadPart"),
    ("POST", "/b/k", "uploads", [], "CreateMultipartUpload"),
    ("POST", "/b/k", "uploadId=u", [], "CompleteMultipartUpload"),
    ("GET", "/b", "list-type=2", [], "ListObjectsV2"),
    ("GET", "/b/", "", [], "ListObjects"),
    ("GET", "/", "", [], "ListBuckets"),
    ("PUT", "/b", "", [], "CreateBucket"),
    ("GET", "/b", "session", [], "CreateSession"),
    ("GET", "/b/k", "acl", [], "GetObjectAcl"),
])
def test_s3_routes_pick_the_operation_moto_and_aws_would(method: str, path: str, query: str,
                                                         headers: list[tuple[str, str]], expected: str) -> None:
    assert operation_name(method, path, query, headers, None, S3_ROUTES) == expected


def test_json_and_query_protocols_name_it_themselves() -> None:
    assert operation_name("POST", "/", "", [("X-Amz-Target", "DynamoDB_20120810.PutItem")], None) == "PutItem"
    assert operation_name("POST", "/", "", [], b"Action=AssumeRole&Version=2011-06-15") == "AssumeRole"
    assert operation_name("GET", "/", "Action=DescribeInstances&Version=2016-11-15", [], None) == "DescribeInstances"
    assert operation_name("GET", "/unknown", "", [], None) is None



def test_a_request_naming_its_action_twice_or_disguised_is_not_read_by_the_harmless_name() -> None:
    """What a proxy checks against its allow-list must be what the service runs: a REST service routes by method
    and path alone (an `X-Amz-Target` or `?Action=` on S3's PutObject named GetObject, allowed by `s3:Get*`), and
    a Query call that names two actions (its query, its X-Amz-Target, its form twice) runs one the proxy cannot
    know."""
    assert operation_name("PUT", "/b/k", "Action=GetObject", [("X-Amz-Target", "S3.GetObject")], None,
                          S3_ROUTES) == "PutObject"
    form = b"Action=CreateAccessKey&Version=2010-05-08"
    for query, headers, body in (("Action=ListUsers", [], form), ("", [("X-Amz-Target", "IAM.ListUsers")], form),
                                 ("", [], b"Action=ListUsers&" + form)):
        with pytest.raises(AmbiguousActionError, match="names 2 actions"):
            operation_name("POST", "/", query, headers, body)
    assert operation_name("POST", "/", "Action=ListUsers", [], b"Action=ListUsers&Version=2010-05-08") == "ListUsers"

def test_the_allow_list_matches_wildcards_ignoring_case_and_credential_calls_are_known() -> None:
    assert allowed(["s3:Get*"], "s3:GetObject") and not allowed(["s3:Get*"], "s3:PutObject")
    assert allowed(["SQS:*"], "sqs:SendMessage") and allowed(["*"], "iam:ListUsers")
    assert not allowed([], "sts:GetCallerIdentity")
    for action in ("sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:GetSessionToken", "s3:CreateSession",
                   "sso:GetRoleCredentials", "iam:CreateAccessKey"):
        assert is_credential_action(action), action
    assert not is_credential_action("sts:GetCallerIdentity")


def test_a_burst_of_first_requests_loads_a_services_routes_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The proxy's first requests of a service arrive together (16 clients): one model load, not one each."""
    import threading
    import time

    from wire.transport import resign

    loads = []

    def slow_routes(model: object) -> tuple[()]:
        loads.append(model)
        time.sleep(0.05)  # long enough for every thread to miss the cache at once without the lock
        return ()

    monkeypatch.setattr(resign, "rest_routes", slow_routes)
    resign._load_routes.cache_clear()
    threads = [threading.Thread(target=resign._routes, args=("lambda",)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    resign._load_routes.cache_clear()
    assert len(loads) == 1
