"""S3's customizations (`wire.s3`); the oracle is botocore's S3 client, whose
requests are caught before they are sent (its `before-send` event)."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore.awsrequest import AWSResponse

import wire
from sigv4.types import Request
from wire import s3

MODEL = wire.load_model("s3")
REGION = "us-west-2"
ENDPOINT = f"https://s3.{REGION}.amazonaws.com"


class _Empty:
    def stream(self, **_: Any) -> Any:
        yield b""


@pytest.fixture(scope="module")
def botocore_s3() -> Any:
    """(client, last request) with every request answered 200 locally."""
    sent: list[Any] = []

    def catch(request: Any, **_: Any) -> AWSResponse:
        sent.append(request)
        return AWSResponse(request.url, 200, {}, _Empty())

    client = botocore.session.get_session().create_client(
        "s3", region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test"
    )
    client.meta.events.register("before-send", catch)
    return client, sent


def _ours(operation: str, params: dict[str, Any]) -> Request:
    request = wire.serialize(MODEL, operation, params, endpoint=ENDPOINT)
    return s3.with_checksum(MODEL.operation(operation), s3.virtual_hosted(request, params["Bucket"]))


@pytest.mark.parametrize("bucket", ["my-bucket", "my.bucket", "abc", "a" * 63, "Upper", "under_score", "192.168.1.1"])
@pytest.mark.parametrize("key", ["k", "a/b c.txt", "~tilde/ü+plus"])
def test_addressing_matches_botocore(botocore_s3: Any, bucket: str, key: str) -> None:
    client, sent = botocore_s3
    try:
        client.get_object(Bucket=bucket, Key=key)
    except Exception:  # noqa: BLE001  botocore refuses some names client-side: so must we not address them
        assert not s3.virtual_hostable(bucket)
        return
    assert _ours("GetObject", {"Bucket": bucket, "Key": key}).url == sent[-1].url


@pytest.mark.parametrize(
    "operation, params",
    [
        ("DeleteObjects", {"Bucket": "bkt", "Delete": {"Objects": [{"Key": "a"}, {"Key": "b/c"}], "Quiet": True}}),
        ("PutBucketLifecycleConfiguration", {"Bucket": "bkt", "LifecycleConfiguration": {"Rules": [
            # In the model's order: botocore writes the params' order, we the model's.
            {"Expiration": {"Days": 3}, "ID": "r", "Filter": {"Prefix": "logs/"}, "Status": "Enabled"}]}}),
    ],
)
def test_required_checksum_matches_botocore(botocore_s3: Any, operation: str, params: dict[str, Any]) -> None:
    client, sent = botocore_s3
    getattr(client, botocore.xform_name(operation))(**params)
    theirs = {k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in sent[-1].headers.items()}
    ours = _ours(operation, params)
    assert ours.body == sent[-1].body
    assert ours.header("x-amz-checksum-crc32") == theirs["x-amz-checksum-crc32"]
    assert ours.header("x-amz-sdk-checksum-algorithm") == theirs["x-amz-sdk-checksum-algorithm"] == "CRC32"
    assert ours.url == sent[-1].url


def test_checksum_rules() -> None:
    op = MODEL.operation("DeleteObjects")
    request = wire.serialize(MODEL, "DeleteObjects", {"Bucket": "b", "Delete": {"Objects": [{"Key": "a"}]}}, endpoint=ENDPOINT)
    assert s3.with_checksum(op, request, "sha256").header("x-amz-sdk-checksum-algorithm") == "SHA256"
    own = request.with_header("x-amz-checksum-sha1", "x")
    assert s3.with_checksum(op, own) is own  # the caller's checksum wins
    streamed = request.with_body(iter([b"a"]))
    assert s3.with_checksum(op, streamed) is streamed  # a stream carries it as a trailer
    plain = wire.serialize(MODEL, "ListBuckets", {}, endpoint=ENDPOINT)
    assert s3.with_checksum(MODEL.operation("ListBuckets"), plain) is plain
    with pytest.raises(ValueError, match="md4"):
        s3.with_checksum(op, request, "md4")


def test_path_style_kept_when_bucket_is_not_leading() -> None:
    request = Request("GET", "http://127.0.0.1:9000/other/key")
    assert s3.virtual_hosted(request, "bucket") is request
    assert s3.virtual_hosted(Request("GET", "http://localhost/my.bucket/k"), "my.bucket").url == "http://my.bucket.localhost/k"
    assert s3.virtual_hosted(Request("GET", "https://s3.amazonaws.com/bkt?list-type=2"), "bkt").url == (
        "https://bkt.s3.amazonaws.com/?list-type=2"
    )


def test_expect_continue() -> None:
    small = Request("PUT", "https://h/k", body=b"x" * s3.EXPECT_CONTINUE_OVER)
    assert s3.with_expect_continue(small) is small
    big = Request("PUT", "https://h/k", body=b"x" * (s3.EXPECT_CONTINUE_OVER + 1))
    assert s3.with_expect_continue(big).header("expect") == "100-continue"
    stream = Request("PUT", "https://h/k", body=iter([b"x"]))
    assert s3.with_expect_continue(stream).header("expect") == "100-continue"
    declared = stream.with_header("X-Amz-Decoded-Content-Length", "10")
    assert s3.with_expect_continue(declared) is declared


_MALFORMED = (
    b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>AuthorizationHeaderMalformed</Code><Message>the region"
    b" 'us-east-1' is wrong; expecting 'eu-west-1'</Message><Region>eu-west-1</Region><RequestId>R</RequestId></Error>"
)


def test_redirect_region() -> None:
    assert s3.redirect_region(400, {}, _MALFORMED) == "eu-west-1"
    assert s3.redirect_region(301, {"x-amz-bucket-region": "ap-south-1"}, b"") == "ap-south-1"
    moved = b"<Error><Code>PermanentRedirect</Code><Message>m</Message><Endpoint>b.s3.eu-west-1.amazonaws.com</Endpoint>" \
        b"<Bucket>b</Bucket><Region>eu-west-1</Region></Error>"
    assert s3.redirect_region(301, {}, moved) == "eu-west-1"
    assert s3.redirect_region(403, {}, b"<Error><Code>AccessDenied</Code><Region>x</Region></Error>") is None
    assert s3.redirect_region(400, {}, b"<html>nope</html>") is None
    assert s3.redirect_region(200, {"x-amz-bucket-region": "us-east-1"}, b"") is None


def test_s3_errors_read_from_both_envelopes() -> None:
    with pytest.raises(wire.ServiceError) as caught:
        wire.parse_response(MODEL, "GetObject", 404, {"x-amz-request-id": "H"}, b"<Error><Code>NoSuchKey</Code>"
                            b"<Message>The specified key does not exist.</Message><Key>k</Key><RequestId>R1</RequestId></Error>")
    assert (caught.value.code, caught.value.status, caught.value.request_id) == ("NoSuchKey", 404, "R1")
    with pytest.raises(wire.ServiceError) as caught:
        wire.parse_response(MODEL, "HeadObject", 404, {"x-amz-request-id": "H"}, b"")
    assert (caught.value.code, caught.value.message, caught.value.request_id) == ("404", "Not Found", "H")
    with pytest.raises(wire.ServiceError) as caught:
        wire.parse_response(MODEL, "GetObject", 400, {}, _MALFORMED)
    assert caught.value.code == "AuthorizationHeaderMalformed"


@pytest.mark.parametrize(
    "operation, params",
    [
        ("PutObject", {"Bucket": "b", "Key": "a/b c", "Body": b"data", "Metadata": {"owner": "me"}, "ContentType": "text/x"}),
        ("DeleteObjects", {"Bucket": "b", "Delete": {"Objects": [{"Key": "a"}, {"Key": "b"}], "Quiet": True}}),
        ("ListObjectsV2", {"Bucket": "b", "Prefix": "p/", "MaxKeys": 5}),
        ("PutBucketAcl", {"Bucket": "b", "AccessControlPolicy": {"Owner": {"ID": "o"}, "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": "x"}, "Permission": "READ"}]}}),
    ],
)
def test_server_side_reads_what_the_client_writes(operation: str, params: dict[str, Any]) -> None:
    request = wire.serialize(MODEL, operation, params, endpoint=ENDPOINT)
    assert isinstance(request.body, bytes)
    name, read = wire.parse_request(MODEL, request.method, request.target, request.headers, request.body)
    assert (name, read) == (operation, params)
    if operation == "PutBucketAcl":  # xsi:type travels as an attribute with its namespace declared
        assert b'<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">' in request.body


def test_bucket_location_document_is_the_member() -> None:
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' \
        b"eu-west-1</LocationConstraint>"
    assert wire.parse_response(MODEL, "GetBucketLocation", 200, {}, body) == {"LocationConstraint": "eu-west-1"}


def test_streaming_body_passes_through() -> None:
    chunks = iter([b"a" * 10, b"b" * 5])
    request = wire.serialize(MODEL, "PutObject", {"Bucket": "bkt", "Key": "k", "Body": chunks}, endpoint=ENDPOINT)
    assert request.body is chunks and request.header("content-type") is None
    streamed = s3.prepare(MODEL.operation("PutObject"), request, "bkt", path_style=False)
    assert streamed.header("expect") == "100-continue" and streamed.header("x-amz-checksum-crc32") is None
    with pytest.raises(wire.ValidationError, match="Body"):
        wire.serialize(MODEL, "PutObject", {"Bucket": "bkt", "Key": "k", "Body": 5}, endpoint=ENDPOINT)
    with pytest.raises(wire.ValidationError, match="Tagging"):  # not a streaming member: no stream there
        wire.serialize(MODEL, "PutObjectTagging", {"Bucket": "b", "Key": "k", "Tagging": iter([b"x"])}, endpoint=ENDPOINT)


def test_xml_with_entities_is_refused() -> None:
    laughs = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>' \
        b"<ListBucketResult><Name>&b;</Name></ListBucketResult>"
    with pytest.raises(wire.DecodeError, match="DTD"):
        wire.parse_response(MODEL, "ListObjectsV2", 200, {}, laughs)
    external = b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><ListBucketResult><Name>&x;</Name></ListBucketResult>'
    with pytest.raises(wire.DecodeError):
        wire.parse_response(MODEL, "ListObjectsV2", 200, {}, external)
