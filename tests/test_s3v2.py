"""S3's SigV2 (`sigv4.s3v2`): differential against botocore's HmacV1Auth and HmacV1QueryAuth on generated
requests, then `sigv4.verify` on it: what it refuses, and what it accepts because SigV2 does not sign it."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from botocore.auth import HmacV1Auth, HmacV1QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from hypothesis import given, settings
from hypothesis import strategies as st

import cli
from sigv4 import Credentials, Request, VerificationError, s3v2, verify
from sigv4.errors import InvalidHeaderError, InvalidParameterError
from sigv4.resign import resign
from wire.auth_refusal import fault_for, render

T = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
CREDS = Credentials("AKIDS3V2EXAMPLE", "s3v2/secret+key")
TEMP = Credentials("ASIAS3V2EXAMPLE", "s3v2/temporary", "token+/=value")
KEYS = {c.access_key_id: c for c in (CREDS, TEMP)}
EXPIRES = int(T.timestamp()) + 600


def _reason(request: Request, now: datetime = T, **options: Any) -> str:
    with pytest.raises(VerificationError) as info:
        verify(request, KEYS.get, now=now, **options)
    return info.value.reason


# -- 1. differential: botocore's HmacV1Auth / HmacV1QueryAuth ----------------------------------------------

_SEGMENT = st.lists(st.sampled_from(["a", "B", "0", "-", "_", ".", "~", "%20", "%2F", "%C3%A9", "key", "x%2By"]),
                    min_size=1, max_size=4).map("".join)
_VALUE = st.lists(st.sampled_from(["v", "1", "text", "%2F", "%20", "%C3%A9", "+", "%2B", "=", "-", "%3D", "."]),
                  max_size=4).map("".join)
_NAMES = st.sampled_from(sorted(s3v2.SUBRESOURCES) + ["prefix", "max-keys", "marker", "list-type"])
_HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=12)


@st.composite
def s3_requests(draw: st.DrawFn) -> tuple[Request, str | None]:
    """(an S3 request, the bucket its Host names or None for path-style)."""
    virtual = draw(st.booleans())
    host, bucket = ("bkt.s3.us-west-2.amazonaws.com", "bkt") if virtual else ("127.0.0.1:5000", None)
    path = "/" + "/".join(draw(st.lists(_SEGMENT, max_size=3)))
    pairs = draw(st.lists(st.tuples(_NAMES, st.none() | _VALUE), max_size=4))
    query = "&".join(name if value is None else f"{name}={value}" for name, value in pairs)
    headers = [(name, draw(_HEADER_TEXT)) for name in draw(st.lists(
        st.sampled_from(["x-amz-meta-a", "X-Amz-Meta-B", "x-amz-acl", "x-amz-storage-class", "User-Agent"]),
        max_size=4, unique_by=str.lower))]
    body = draw(st.binary(max_size=16))
    if draw(st.booleans()):
        headers.append(("Content-Type", draw(_HEADER_TEXT)))
    if draw(st.booleans()):
        headers.append(("Content-MD5", base64.b64encode(hashlib.md5(body).digest()).decode()))
    method = draw(st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD"]))
    return Request(method, f"http://{host}{path}" + (f"?{query}" if query else ""), headers, body), bucket


def _botocore(request: Request, bucket: str | None, creds: Credentials, auth: HmacV1Auth) -> AWSRequest:
    prepared = AWSRequest(request.method, request.url, headers=dict(request.headers), data=request.body)
    # botocore's serializer gives the auth path: `/{Bucket}/{Key+}`, a bucket alone as `/{Bucket}/`.
    path = f"/{bucket}{request.path}" if bucket else request.path
    prepared.auth_path = path + "/" if path.count("/") == 1 and path != "/" else path
    auth.add_auth(prepared)
    return prepared


@settings(max_examples=150, deadline=None)
@given(s3_requests(), st.sampled_from([CREDS, TEMP]))
def test_header_signature_is_botocores(case: tuple[Request, str | None], creds: Credentials) -> None:
    request, bucket = case
    boto = HmacV1Auth(BotoCredentials(creds.access_key_id, creds.secret_access_key, creds.session_token))
    boto._get_date = lambda: format_datetime(T, usegmt=True)  # type: ignore[method-assign]
    theirs = _botocore(request, bucket, creds, boto)
    ours = s3v2.sign(request, creds, timestamp=T)
    assert ours.request.header("authorization") == theirs.headers["Authorization"]
    assert ours.string_to_sign == boto.canonical_string(request.method, urlsplit(request.url), theirs.headers,
                                                        auth_path=theirs.auth_path)
    # What botocore sent verifies, as a server receives it.
    received = Request(request.method, request.target, [("Host", request.authority), *theirs.headers.items()],
                       request.body)
    identity = verify(received, KEYS.get, now=T + timedelta(minutes=1))
    assert (identity.version, identity.service, identity.presigned) == ("s3v2", "s3", False)


@settings(max_examples=150, deadline=None)
@given(s3_requests(), st.sampled_from([CREDS, TEMP]))
def test_presigned_url_is_botocores(case: tuple[Request, str | None], creds: Credentials) -> None:
    request, bucket = case
    boto = HmacV1QueryAuth(BotoCredentials(creds.access_key_id, creds.secret_access_key, creds.session_token))
    boto._get_date = lambda: str(EXPIRES)  # type: ignore[method-assign]
    theirs = _botocore(request, bucket, creds, boto)
    ours = s3v2.presign(request, creds, expires=EXPIRES)
    sent = dict(parse_qsl(urlsplit(theirs.url).query))
    assert ours.signature == sent["Signature"] and sent["Expires"] == str(EXPIRES)
    assert dict(parse_qsl(ours.request.query)).get(s3v2.TOKEN) == sent.get(s3v2.TOKEN) == creds.session_token
    # botocore's URL (its x-amz-* headers moved into the query) verifies with the headers it signed and left.
    target = urlsplit(theirs.url)
    kept = [(n, v) for n, v in request.headers if n.lower() in ("content-type", "content-md5")]
    received = Request(request.method, f"{target.path}?{target.query}", [("Host", request.authority), *kept],
                       request.body)
    identity = verify(received, KEYS.get, now=T)
    assert identity.presigned and identity.expires_at == datetime.fromtimestamp(EXPIRES, timezone.utc)
    assert verify(Request(request.method, ours.request.target, [("Host", request.authority), *request.headers],
                          request.body), KEYS.get, now=T).access_key_id == creds.access_key_id


def test_the_documented_example() -> None:
    """S3's developer guide (RESTAuthentication, "Object GET"): its string-to-sign, and its request verifies."""
    creds = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    request = Request("GET", "/photos/puppy.jpg", [("Host", "awsexamplebucket1.s3.us-west-1.amazonaws.com"),
                                                   ("Date", "Tue, 27 Mar 2007 19:36:42 +0000")])
    text = "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg"
    assert s3v2.string_to_sign(request, presigned=False) == text
    assert s3v2.signature(creds.secret_access_key, text) == "qgk2+6Sv9/oM7G3qLEjTH1a1l1g="
    signed = request.with_header("Authorization", "AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=")
    assert verify(signed, {creds.access_key_id: creds}.get, now=datetime(2007, 3, 27, 19, 40, tzinfo=timezone.utc))


# -- 2. verification: what it refuses --------------------------------------------------------------------

def _signed(**headers: str) -> Request:
    request = Request("PUT", "http://127.0.0.1:5000/bkt/k?acl", [("Host", "127.0.0.1:5000"), *headers.items()],
                      b"data")
    return s3v2.sign(request, CREDS, timestamp=T).request


def test_a_wrong_secret_is_a_mismatch_carrying_the_string_to_sign() -> None:
    request = _signed()
    with pytest.raises(VerificationError) as info:
        verify(request, {CREDS.access_key_id: Credentials(CREDS.access_key_id, "wrong")}.get, now=T)
    assert info.value.reason == "signature_mismatch" and info.value.canonical_request is None
    assert info.value.string_to_sign == "PUT\n\n\nMon, 06 May 2024 07:08:09 GMT\n/bkt/k?acl"


@pytest.mark.parametrize("edit, reason", [
    (lambda r: r.with_url(r.url.replace("?acl", "?tagging")), "signature_mismatch"),  # another sub-resource
    (lambda r: r.with_url(r.url.replace("/k?", "/K?")), "signature_mismatch"),
    (lambda r: r.with_url(r.url.replace("?acl", "?%61cl")), "malformed_request"),  # a server reads `acl`
    (lambda r: r.with_url(r.url.replace("?acl", "?acl=x%26uploads")), "malformed_request"),
    (lambda r: r.with_header("Content-Type", "text/html"), "signature_mismatch"),
    (lambda r: r.with_header("x-amz-acl", "public-read"), "signature_mismatch"),
    (lambda r: r.append_headers([("Date", "Mon, 06 May 2024 07:08:09 GMT")]), "malformed_request"),  # twice
    (lambda r: r.append_headers([("Host", "other.example.com")]), "malformed_request"),
    (lambda r: r.with_header("Authorization", "AWS " + CREDS.access_key_id), "malformed_auth"),
    (lambda r: r.without_headers(["date"]), "malformed_auth"),
    (lambda r: r.with_header("Authorization", "AWS NOSUCHKEY:c2lnbmF0dXJl"), "unknown_key"),
])
def test_verification_refuses(edit: Any, reason: str) -> None:
    assert verify(_signed(), KEYS.get, now=T).version == "s3v2"
    assert _reason(edit(_signed())) == reason


def test_the_request_time_is_held_to_the_skew() -> None:
    assert _reason(_signed(), now=T + timedelta(minutes=16)) == "skew"
    assert _reason(_signed(), now=T - timedelta(minutes=16)) == "skew"
    assert verify(_signed(), KEYS.get, now=T + timedelta(minutes=14)).signing_time == T


def test_x_amz_date_gives_the_time_and_empties_the_date_line() -> None:
    """AWS: "if you include the x-amz-date header, use the empty string for the Date" (the Date header then
    goes unsigned and may hold anything)."""
    request = Request("GET", "http://127.0.0.1:5000/bkt/k", [("Host", "127.0.0.1:5000"),
                                                             ("x-amz-date", "Mon, 06 May 2024 07:08:09 GMT")])
    text = "GET\n\n\n\nx-amz-date:Mon, 06 May 2024 07:08:09 GMT\n/bkt/k"
    assert s3v2.string_to_sign(request, presigned=False) == text
    signature = s3v2.signature(CREDS.secret_access_key, text)
    signed = request.with_header("Authorization", f"AWS {CREDS.access_key_id}:{signature}")
    assert verify(signed.with_header("Date", "Tue, 07 May 2024 00:00:00 GMT"), KEYS.get, now=T).amz_date == \
        "Mon, 06 May 2024 07:08:09 GMT"


def test_a_content_md5_is_checked_against_the_body() -> None:
    """SigV2 signs the body only through Content-MD5; S3 checks it (BadDigest), so does verify."""
    md5 = base64.b64encode(hashlib.md5(b"data").digest()).decode()
    signed = _signed(**{"Content-MD5": md5})
    assert verify(signed, KEYS.get, now=T).payload_hash == "UNSIGNED-PAYLOAD"  # no payload line is signed
    assert _reason(signed.with_body(b"dat4")) == "checksum"
    declared = _signed(**{"Content-MD5": md5, "x-amz-content-sha256": hashlib.sha256(b"data").hexdigest()})
    assert verify(declared, KEYS.get, now=T).payload_hash == hashlib.sha256(b"data").hexdigest()
    assert _reason(declared.with_body(b"dat4")) == "checksum"
    assert _reason(_signed(**{"x-amz-content-sha256": "0" * 64})) == "payload_hash"  # S3 checks it too


def test_the_session_token_is_checked_and_signed() -> None:
    header = s3v2.sign(Request("GET", "http://h/bkt/k", [("Host", "h")]), TEMP, timestamp=T).request
    assert header.header(s3v2.TOKEN) == TEMP.session_token and verify(header, KEYS.get, now=T)
    assert _reason(header.without_headers([s3v2.TOKEN])) == "token"
    presigned = s3v2.presign(Request("GET", "http://h/bkt/k", [("Host", "h")]), TEMP, expires=EXPIRES).request
    assert verify(presigned, KEYS.get, now=T)
    assert _reason(presigned.with_url(presigned.url.replace("x-amz-security-token=token%2B%2F%3Dvalue",
                                                            "x-amz-security-token=other"))) == "token"


def test_a_presigned_url_is_valid_until_its_expires() -> None:
    presigned = s3v2.presign(Request("GET", "http://h/bkt/k", [("Host", "h")]), CREDS, expires=EXPIRES).request
    assert verify(presigned, KEYS.get, now=T - timedelta(days=30)).expires_at  # no signing time: no "not yet"
    assert verify(presigned, KEYS.get, now=T + timedelta(seconds=600))
    assert _reason(presigned, now=T + timedelta(seconds=601)) == "expired"
    assert _reason(presigned.with_url(presigned.url.replace(f"Expires={EXPIRES}", f"Expires={EXPIRES + 1}"))) == \
        "signature_mismatch"
    assert _reason(presigned.with_url(presigned.url.replace(f"Expires={EXPIRES}", "Expires=soon"))) == \
        "malformed_auth"


# -- 3. what SigV2 does not sign: accepted, as S3 accepts it -----------------------------------------------

def test_what_sigv2_leaves_unsigned_may_change() -> None:
    """Parameters that are not sub-resources, headers other than Content-MD5, Content-Type, Date and
    x-amz-*, and the Host but for the bucket it names: S3 accepts them changed; so does verify (its
    `verified_request` leaves them out)."""
    signed = s3v2.sign(Request("GET", "http://127.0.0.1:5000/bkt?list-type=2&prefix=a",
                               [("Host", "127.0.0.1:5000"), ("User-Agent", "one"), ("X-Amz-Meta-A", "1")]), CREDS,
                       timestamp=T).request
    assert verify(signed, KEYS.get, now=T).signed_headers == ("x-amz-meta-a", "date")  # what it claims to cover
    assert verify(signed.with_url(signed.url.replace("prefix=a", "prefix=b")), KEYS.get, now=T)
    assert verify(signed.with_header("User-Agent", "two").with_header("Host", "other:1"), KEYS.get, now=T)
    virtual = s3v2.sign(Request("GET", "https://bkt.s3.amazonaws.com/k"), CREDS, timestamp=T).request
    assert verify(virtual.with_header("Host", "bkt.s3.eu-west-1.amazonaws.com"), KEYS.get, now=T)
    assert _reason(virtual.with_header("Host", "other.s3.amazonaws.com")) == "signature_mismatch"


_PIECES = st.sampled_from(["AWS ", "AK", ":", "c2ln", " ", "\udcff", "é", "%", "%FF", "&", "=", "x-amz-", "Expires=",
                           "AWSAccessKeyId=", "Signature=", "acl", "%61cl", "+", "Mon, 06 May 2024 07:08:09 GMT", "9",
                           "99999999999", "\t", ",", "x-amz-security-token=", "/", "\u212a"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=6).map("".join), st.lists(_PIECES, max_size=4).map("".join),
       st.lists(_PIECES, max_size=8).map("".join), st.sampled_from(["Date", "x-amz-date", "Content-MD5", "X-Amz-A"]))
def test_verify_of_any_s3_sigv2_shape_answers_or_refuses(authorization: str, value: str, query: str,
                                                          name: str) -> None:
    """Whatever the Authorization, a header and the query hold: accepted, or a VerificationError."""
    headers = [("Host", "b.s3.amazonaws.com"), (name, value)]
    for request in (Request("GET", f"/k?{query}", headers + [("Authorization", authorization)]),
                    Request("GET", f"/k?AWSAccessKeyId=AK&{query}", headers)):
        try:
            verify(request, {"AK": CREDS}.get, now=T)
        except VerificationError:
            pass


def test_bad_inputs_are_typed_errors_naming_the_field() -> None:
    with pytest.raises(InvalidParameterError, match="credentials"):
        s3v2.sign(Request("GET", "http://h/"), Credentials("AK:ID", "s"), timestamp=T)
    with pytest.raises(InvalidParameterError, match="expires"):
        s3v2.presign(Request("GET", "http://h/"), CREDS, expires=-1)
    with pytest.raises(InvalidHeaderError, match="control byte"):
        s3v2.sign(Request("GET", "http://h/", [("x-amz-meta-a", "a\rb")]), CREDS, timestamp=T)
    assert "secret" not in repr(s3v2.sign(Request("GET", "http://h/"), TEMP, timestamp=T))
    assert TEMP.session_token not in repr(s3v2.sign(Request("GET", "http://h/"), TEMP, timestamp=T))


# -- 4. re-signing -------------------------------------------------------------------------------------------

def test_resign_presigns_again_with_the_same_expires_and_header_signs_at_now() -> None:
    new = Credentials("AKIDREAL", "real-secret", "real-token")
    presigned = s3v2.presign(Request("GET", "http://h/bkt/k?versionId=3", [("Host", "h")]), TEMP,
                             expires=EXPIRES).request
    claim = verify(presigned, KEYS.get, now=T)
    again = resign(presigned, claim, new, url="http://up:1/bkt/k?" + presigned.query, service="s3",
                   region="us-east-1", now=T + timedelta(minutes=5))
    query = dict(parse_qsl(again.query))
    assert (query["AWSAccessKeyId"], query["Expires"], query[s3v2.TOKEN]) == ("AKIDREAL", str(EXPIRES), "real-token")
    assert verify(again, {"AKIDREAL": new}.get, now=T).presigned
    header = resign(presigned, claim, new, url="http://up:1/bkt/k?" + presigned.query, service="s3",
                    region="us-east-1", now=T + timedelta(minutes=5), presigned=False)
    assert header.header("authorization", ).startswith("AWS AKIDREAL:") and "AWSAccessKeyId" not in header.query
    assert verify(header, {"AKIDREAL": new}.get, now=T + timedelta(minutes=5)).signing_time == T + timedelta(minutes=5)


# -- 5. the command line: `sigv4 verify` checks it, `sigv4 explain` names it -------------------------------

def test_the_cli_verifies_a_saved_sigv2_request_and_the_debugger_names_it(
        tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    signed = _signed(**{"Content-Type": "text/plain"})
    raw = tmp_path / "put.req"
    raw.write_bytes(f"{signed.method} {signed.target} HTTP/1.1\r\n".encode() + "".join(
        f"{n}: {v}\r\n" for n, v in signed.headers).encode() + b"Content-Length: 4\r\n\r\ndata")
    env = {"AWS_ACCESS_KEY_ID": CREDS.access_key_id, "AWS_SECRET_ACCESS_KEY": CREDS.secret_access_key,
           "HOME": "/nonexistent", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
           "AWS_EC2_METADATA_DISABLED": "true"}
    assert cli.main(["verify", str(raw), "--now", "20240506T070900Z"], env) == 0
    assert capsys.readouterr().out.strip() == f"OK: HmacSHA1 signature by {CREDS.access_key_id} for s3"
    assert cli.main(["verify", str(raw), "--now", "20240506T070900Z"],
                    {**env, "AWS_SECRET_ACCESS_KEY": "wrong"}) == 1
    out = capsys.readouterr().out
    assert out.startswith("FAILED (signature_mismatch)") and "/bkt/k?acl" in out and "wrong" not in out
    assert cli.main(["explain", str(raw)], env) == 0
    assert "[secret" not in capsys.readouterr().out  # the signature verifies with the secret: no cause


def test_sigv4_diff_names_the_line_s3_computed_otherwise(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """A proxy added `; charset=utf-8` to the Content-Type the client signed: S3's StringToSign shows it."""
    signed = _signed(**{"Content-Type": "text/plain"})
    seen = signed.with_header("Content-Type", "text/plain; charset=utf-8")
    with pytest.raises(VerificationError) as info:
        verify(seen, KEYS.get, now=T)
    status, headers, body = render(fault_for(info.value, seen, "s3", T), "s3", "RID", "HID")
    sent, answer = tmp_path / "sent.req", tmp_path / "answer.http"
    sent.write_bytes(f"{signed.method} {signed.target} HTTP/1.1\r\n".encode() + "".join(
        f"{n}: {v}\r\n" for n, v in signed.headers).encode() + b"\r\n")
    answer.write_bytes(f"HTTP/1.1 {status} Forbidden\r\n".encode() + "".join(
        f"{n}: {v}\r\n" for n, v in headers).encode() + b"\r\n" + body)
    env = {"AWS_ACCESS_KEY_ID": CREDS.access_key_id, "AWS_SECRET_ACCESS_KEY": CREDS.secret_access_key,
           "HOME": "/nonexistent", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    assert cli.main(["diff", str(sent), str(answer)], env) == 0
    out = capsys.readouterr().out
    assert "1. [header-changed, proved] S3's string-to-sign differs from the one the request shows at line 3, " \
           "Content-Type: the request gives 'text/plain', S3 computed 'text/plain; charset=utf-8'" in out
    assert cli.main(["diff", str(sent), str(answer), "--secret"], {**env, "AWS_SECRET_ACCESS_KEY": "wrong"}) == 0
    assert "[secret, likely] the signature sent does not verify with the given secret" in capsys.readouterr().out
