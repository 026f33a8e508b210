"""S3 presigned POST: the form against botocore's generate_presigned_post, and verify_post's every reason.

Oracle: boto3's `generate_presigned_post` (S3PostPresigner + S3SigV4PostAuth,
and S3ExpressPostAuth for a directory bucket) at a time frozen by freezegun,
on hypothesis-generated keys, conditions, prefilled fields, expiries, regions
and tokens: the URL, every field (in order), the policy bytes and the
signature must be equal, and our verifier must accept botocore's form.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

import boto3
import pytest
from botocore.auth import S3ExpressPostAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials as BotoCredentials
from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sigv4 import REASONS, Credentials, InvalidParameterError, VerificationError
from sigv4.post import (
    ConditionNotMetError, content_length_range, eq, parse_condition, parse_policy, presign_post, starts_with,
    verify_post,
)

T = datetime(2024, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
CREDS = Credentials("AKIDPOST", "post/secret+key")
TEMP = Credentials("ASIAPOST", "temp/secret", "temp/token==")
KEYS = {c.access_key_id: c for c in (CREDS, TEMP)}


@lru_cache(maxsize=8)
def client(region: str, token: bool) -> Any:
    creds = TEMP if token else CREDS
    session = boto3.session.Session(aws_access_key_id=creds.access_key_id, aws_secret_access_key=creds.secret_access_key,
                                    aws_session_token=creds.session_token, region_name=region)
    return session.client("s3", config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}))


text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x2FF, exclude_characters="\x7f"), max_size=12)
meta = st.text(st.sampled_from("abcxyz-0"), min_size=1, max_size=6).map(lambda s: "x-amz-meta-" + s)
raw_conditions = st.lists(st.one_of(
    st.builds(lambda v: {"acl": v}, st.sampled_from(["private", "public-read"])),
    st.builds(lambda v: ["starts-with", "$Content-Type", v], text),
    st.builds(lambda v: ["eq", "$success_action_status", v], st.sampled_from(["200", "201", "204"])),
    st.builds(lambda v: ["starts-with", "$success_action_redirect", v], text),
    st.builds(lambda n, v: {n: v}, meta, text),
    st.builds(lambda a, b: ["content-length-range", min(a, b), max(a, b)], st.integers(0, 10**9), st.integers(0, 10**9)),
), max_size=4)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.one_of(text.filter(bool), text.map(lambda k: k + "${filename}")), conditions=raw_conditions,
       fields=st.dictionaries(st.sampled_from(["acl", "Content-Type", "success_action_status", "x-amz-meta-a"]), text,
                              max_size=3),
       expires=st.integers(1, 7 * 24 * 3600), region=st.sampled_from(["us-east-1", "eu-west-3"]), token=st.booleans())
def test_form_matches_botocore(key: str, conditions: list[Any], fields: dict[str, str], expires: int, region: str,
                               token: bool) -> None:
    with freeze_time(T):
        # botocore appends its own conditions to the list it is given: hand it a copy.
        theirs = client(region, token).generate_presigned_post(
            "my-bucket", key, Fields=dict(fields), Conditions=json.loads(json.dumps(conditions)), ExpiresIn=expires)
    ours = presign_post(TEMP if token else CREDS, bucket="my-bucket", key=key, region=region, timestamp=T,
                        expires=expires, conditions=conditions, fields=fields)
    assert ours.url == theirs["url"]
    assert list(ours.fields) == list(theirs["fields"].items())
    assert base64.b64decode(ours.string_to_sign) == base64.b64decode(theirs["fields"]["policy"])
    # Either form, filled in as a browser would, verifies.
    form = dict(theirs["fields"])
    if "${filename}" in key:
        form["key"] = key.replace("${filename}", "photo.png")
    try:
        identity = verify_post(form, KEYS.get, now=T, bucket="my-bucket")
    except ConditionNotMetError as err:
        # Conditions are checked after the signature, so botocore's signature verified; the generated
        # conditions ask for a field the form lacks or contradicts, or leave one uncovered: S3 refuses it too.
        assert err.reason == "condition_not_met" and err.auth is not None
    else:
        assert identity.credentials == (TEMP if token else CREDS)
        assert identity.expires_at == T + timedelta(seconds=expires)


def test_botocores_form_with_every_field_covered_verifies() -> None:
    conditions = [{"acl": "public-read"}, ["starts-with", "$Content-Type", "image/"], ["content-length-range", 1, 9],
                  {"x-amz-meta-owner": "ann"}, ["eq", "$success_action_status", "201"]]
    fields = {"acl": "public-read", "Content-Type": "image/png", "x-amz-meta-owner": "ann",
              "success_action_status": "201"}
    with freeze_time(T):
        theirs = client("eu-west-3", True).generate_presigned_post("my-bucket", "in/${filename}", Fields=dict(fields),
                                                                   Conditions=list(conditions), ExpiresIn=30)
    form = {**theirs["fields"], "key": "in/cat.png"}
    identity = verify_post(form, KEYS.get, now=T + timedelta(seconds=30), bucket="my-bucket", content_length=9)
    assert identity.credentials == TEMP and identity.content_length_range == (1, 9)
    with pytest.raises(ConditionNotMetError, match=r'\["content-length-range", 1, 9\]'):
        verify_post(form, KEYS.get, now=T, bucket="my-bucket", content_length=10)


def test_directory_bucket_form_matches_botocores_s3express_post_auth() -> None:
    """Signed with the CreateSession session, its token in X-Amz-S3session-Token (botocore's S3ExpressPostAuth,
    driven as S3PostPresigner drives it: boto3's own generate_presigned_post signs directory buckets with the
    caller's credentials as a CreateBucket on the control endpoint instead)."""
    bucket, session = "photos--usw2-az1--x-s3", Credentials("ASIASESSION", "session/secret", "sess/token==")
    conditions: list[Any] = [["content-length-range", 1, 10], {"bucket": bucket}, {"key": "k"}]
    request = AWSRequest("POST", "https://example.invalid/")
    request.context["s3-presign-post-fields"] = {"key": "k"}
    request.context["s3-presign-post-policy"] = {"expiration": "2024-03-04T05:11:07Z", "conditions": conditions}
    auth = S3ExpressPostAuth(BotoCredentials(session.access_key_id, session.secret_access_key, session.session_token),
                             "s3express", "us-west-2", identity_cache=None)
    with freeze_time(T):
        auth.add_auth(request)
    ours = presign_post(session, bucket=bucket, key="k", region="us-west-2", timestamp=T, expires=300,
                        service="s3express", conditions=[content_length_range(1, 10)])
    assert list(ours.fields) == list(request.context["s3-presign-post-fields"].items())
    assert ours.field_dict()["X-Amz-S3session-Token"] == session.session_token
    assert ours.url == "https://photos--usw2-az1--x-s3.s3express-usw2-az1.us-west-2.amazonaws.com/"
    identity = verify_post(ours.fields, {session.access_key_id: session}.get, now=T, bucket=bucket, content_length=5,
                           expected_service="s3express")
    assert identity.service == "s3express" and identity.credentials == session
    with pytest.raises(VerificationError) as caught:
        verify_post({**ours.field_dict(), "X-Amz-S3session-Token": "stolen"}, {session.access_key_id: session}.get,
                    now=T, bucket=bucket, expected_service="s3express")
    assert caught.value.reason == "token"


def _form(**options: Any) -> dict[str, str]:
    base: dict[str, Any] = dict(bucket="b", key="uploads/${filename}", region="us-east-1", timestamp=T, expires=60,
                                conditions=[starts_with("Content-Type", "image/"), content_length_range(1, 100),
                                            eq("x-amz-meta-owner", "ann"), starts_with("success_action_redirect", "")],
                                fields={"Content-Type": "image/png", "x-amz-meta-owner": "ann"})
    form = presign_post(CREDS, **{**base, **options}).field_dict()
    form["key"] = "uploads/cat.png"
    form["success_action_redirect"] = "https://example.com/done"
    return form


def _reason(form: dict[str, str], **options: Any) -> VerificationError:
    with pytest.raises(VerificationError) as caught:
        verify_post(form, KEYS.get, **{"now": T, "bucket": "b", **options})
    assert caught.value.reason in REASONS
    return caught.value


def test_a_valid_form_verifies_with_its_policy() -> None:
    identity = verify_post(_form(), KEYS.get, now=T, bucket="b", content_length=100)
    assert identity.content_length_range == (1, 100)
    assert identity.access_key_id == "AKIDPOST" and identity.regions == ("us-east-1",)
    assert dict(identity.fields)["content-type"] == "image/png"
    # Field names are case-insensitive; x-ignore-* fields need no condition.
    shouted = {name.upper(): value for name, value in _form().items()} | {"x-ignore-submit": "Upload"}
    verify_post(shouted, KEYS.get, now=T, bucket="b")


def test_expired() -> None:
    err = _reason(_form(), now=T + timedelta(seconds=61))
    assert err.reason == "expired" and "2024-03-04T05:07:07Z" in str(err)
    verify_post(_form(), KEYS.get, now=T + timedelta(seconds=60), bucket="b")


@pytest.mark.parametrize("change, options, condition", [
    ({"key": "elsewhere/cat.png"}, {}, '["starts-with", "$key", "uploads/"]'),
    ({"Content-Type": "text/html"}, {}, '["starts-with", "$Content-Type", "image/"]'),
    ({"Content-Type": "image/png, text/html"}, {}, '["starts-with", "$Content-Type", "image/"]'),
    ({"x-amz-meta-owner": "bob"}, {}, '{"x-amz-meta-owner": "ann"}'),
    ({}, {"bucket": "other"}, '{"bucket": "b"}'),
    ({}, {"content_length": 101}, '["content-length-range", 1, 100]'),
    ({}, {"content_length": 0}, '["content-length-range", 1, 100]'),
])
def test_condition_not_met_names_the_condition(change: dict[str, str], options: dict[str, Any],
                                               condition: str) -> None:
    err = _reason({**_form(), **change}, **options)
    assert isinstance(err, ConditionNotMetError) and err.reason == "condition_not_met"
    assert err.condition is not None and json.dumps(err.condition.to_json()) == condition
    assert condition in str(err)


def test_every_field_needs_a_condition() -> None:
    err = _reason({**_form(), "acl": "public-read"})
    assert isinstance(err, ConditionNotMetError) and err.condition is None and "form field acl" in str(err)
    assert _reason({k: v for k, v in _form().items() if k != "x-amz-meta-owner"}).reason == "condition_not_met"


def test_signature_and_key_reasons() -> None:
    form = _form()
    tampered = {**form, "policy": base64.b64encode(
        base64.b64decode(form["policy"]).replace(b'"image/"', b'"text/"')).decode()}
    err = _reason(tampered)
    assert err.reason == "signature_mismatch" and err.string_to_sign == tampered["policy"]
    assert "post/secret" not in str(err)
    assert _reason({**form, "x-amz-signature": "0" * 64}).reason == "signature_mismatch"
    assert _reason({**form, "x-amz-credential": form["x-amz-credential"].replace("AKIDPOST", "AKIDNOPE")}).reason \
        == "unknown_key"
    assert _reason({**form, "x-amz-credential": "AKIDPOST/20240304/us-east-1/sqs/aws4_request"}).reason == "scope"
    assert _reason(form, allowed_regions={"eu-west-1"}).reason == "scope"
    assert _reason({k: v for k, v in form.items() if k != "policy"}).reason == "malformed_auth"
    assert _reason({**form, "x-amz-algorithm": "AWS4-HMAC-SHA1"}).reason == "malformed_auth"
    with pytest.raises(VerificationError, match="given twice"):
        verify_post([*form.items(), ("Policy", form["policy"])], KEYS.get, now=T, bucket="b")


def test_session_token_reasons() -> None:
    form = presign_post(TEMP, bucket="b", key="k", region="us-east-1", timestamp=T).field_dict()
    verify_post(form, KEYS.get, now=T, bucket="b")
    assert _reason({**form, "x-amz-security-token": "stolen"}).reason == "token"
    assert _reason({k: v for k, v in form.items() if k != "x-amz-security-token"}).reason == "token"


@pytest.mark.parametrize("bad, message", [
    (lambda: starts_with("bucket", "b"), "only an exact match"),
    (lambda: starts_with("success_action_status", "2"), "only an exact match"),
    (lambda: content_length_range(5, 1), "0 <= minimum <= maximum"),
    (lambda: eq("bad name", "v"), "not a form field name"),
    (lambda: eq("acl", "a\r\nb"), "control characters"),
    (lambda: parse_condition(["ends-with", "$key", "x"]), "not {"),
    (lambda: parse_condition({"a": "1", "b": "2"}), "exactly one field"),
    (lambda: parse_policy("not base64!"), "not base64 of a JSON document"),
    (lambda: parse_policy(base64.b64encode(b'{"expiration": "tomorrow", "conditions": []}').decode()),
     "not an ISO 8601"),
    (lambda: presign_post(CREDS, bucket="b", key="k", region="us-east-1", timestamp=T, expires=0), "expires"),
    (lambda: presign_post(CREDS, bucket="b", key="k", region="us-east-1", timestamp=T, service="sqs"), "service"),
    (lambda: presign_post(CREDS, bucket="a/b", key="k", region="us-east-1", timestamp=T), "bucket"),
    (lambda: presign_post(CREDS, bucket="b", key="k", region="us-east-1", timestamp=T, fields={"Policy": "x"}),
     "written by the signer"),
])
def test_bad_input_is_a_typed_error_naming_the_field(bad: Any, message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        bad()


def test_policy_parses_what_it_renders_and_the_documented_forms() -> None:
    post = presign_post(CREDS, bucket="b", key="k", region="us-east-1", timestamp=T,
                        conditions=[["eq", "$acl", "private"], {"x-amz-meta-a": "1"}])
    assert parse_policy(post.policy.encoded()) == post.policy
    documented = base64.b64encode(json.dumps({"expiration": "2007-12-01T12:00:00.000Z", "conditions": [
        {"acl": "public-read"}, {"bucket": "johnsmith"}, ["starts-with", "$key", "user/eric/"]]}).encode()).decode()
    policy = parse_policy(documented)
    assert policy.expiration == datetime(2007, 12, 1, 12, tzinfo=timezone.utc)
    assert [c.kind for c in policy.conditions] == ["eq", "eq", "starts-with"]


# The worked example of AWS's "Example: Browser-Based Upload using HTTP POST (Using AWS Signature Version 4)"
# (S3 API reference): its policy exactly as published (CRLF line ends), base64'd, and the signature AWS computed.
AWS_EXAMPLE_POLICY = (
    "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2"
    "NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMt"
    "cmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29t"
    "L3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4"
    "LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0s"
    "DQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZP"
    "RE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1B"
    "Qy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9")
AWS_EXAMPLE_SIGNATURE = "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"
AWS_EXAMPLE_FORM = [
    ("key", "user/user1/${filename}"), ("acl", "public-read"),
    ("success_action_redirect", "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html"),
    ("Content-Type", "image/jpeg"), ("x-amz-meta-uuid", "14365123651274"), ("x-amz-server-side-encryption", "AES256"),
    ("X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"),
    ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Date", "20151229T000000Z"), ("x-amz-meta-tag", ""),
    ("Policy", AWS_EXAMPLE_POLICY), ("X-Amz-Signature", AWS_EXAMPLE_SIGNATURE),
]


def test_aws_documented_example_form_verifies() -> None:
    example = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    now = datetime(2015, 12, 29, tzinfo=timezone.utc)
    identity = verify_post(AWS_EXAMPLE_FORM, {example.access_key_id: example}.get, now=now, bucket="sigv4examplebucket")
    assert identity.expires_at == datetime(2015, 12, 30, 12, tzinfo=timezone.utc)
    assert len(identity.policy.conditions) == 11 and identity.signature == AWS_EXAMPLE_SIGNATURE
    with pytest.raises(VerificationError) as caught:
        verify_post(AWS_EXAMPLE_FORM, {example.access_key_id: example}.get, now=datetime(2015, 12, 30, 12, 0, 1,
                    tzinfo=timezone.utc), bucket="sigv4examplebucket")
    assert caught.value.reason == "expired"


def test_no_repr_or_message_shows_the_session_token() -> None:
    post = presign_post(TEMP, bucket="b", key="k", region="us-east-1", timestamp=T)
    identity = verify_post(post.fields, KEYS.get, now=T, bucket="b")
    token = TEMP.session_token or ""
    assert token not in repr(post) and token not in repr(identity) and token not in repr(post.policy)
    other = presign_post(Credentials(TEMP.access_key_id, TEMP.secret_access_key, "another-token"), bucket="b", key="k",
                         region="us-east-1", timestamp=T).field_dict()
    forged = {**other, "x-amz-security-token": token}  # the policy names another token than the form carries
    with pytest.raises(VerificationError) as caught:
        verify_post(forged, KEYS.get, now=T, bucket="b")
    assert caught.value.reason == "condition_not_met"  # signed by the same key, so only the condition fails
    assert token not in str(caught.value) and "another-token" not in str(caught.value)
