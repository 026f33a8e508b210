"""What `sigv4 sign` prints, saved and replayed as users do: the artifact is what was signed, and it works.

Each test drives the CLI as typed (temporary credentials with a session token, options in any order), saves
the output, and checks it against another implementation (botocore's signer, `sigv4 verify`, a verifying
loopback server) rather than against our own rendering.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

import sigv4
from cli_run import run_cli
from moto_checking import moto_checking_signatures
from sigv4.raw import parse_request
from verifying_server import verifying_server

TOKEN = "FQoGZXIvYXdzEJr//////////wEaDEXAMPLETOKEN+/="
CREDS = sigv4.Credentials("ASIAEXAMPLE", "test", TOKEN)
ENV = {"AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": TOKEN,
       "HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"}


def saved(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def botocore_signature(signed: bytes, service: str) -> str:
    """botocore's signature of the request as written in `signed` (its URL and x-amz-* headers, as sent)."""
    request = parse_request(signed).request
    boto = AWSRequest(request.method, request.url, data=request.body,
                      headers={n: v for n, v in request.headers if n.lower() != "authorization"})
    boto.context["timestamp"] = request.header("x-amz-date")
    auth = (S3SigV4Auth if service == "s3" else SigV4Auth)(BotoCredentials("ASIAEXAMPLE", "test", TOKEN),
                                                           service, "us-east-1")
    return auth.signature(auth.string_to_sign(boto, auth.canonical_request(boto)), boto)


@pytest.mark.parametrize("typed, sent", [
    ("/bucket/café déjà.txt?prefix=été&x=a b", "/bucket/caf%C3%A9%20d%C3%A9j%C3%A0.txt?prefix=%C3%A9t%C3%A9&x=a%20b"),
    ("/bucket/100%?q=5%", "/bucket/100%25?q=5%25"),
], ids=["space-unicode", "stray-percent"])
@pytest.mark.parametrize("service", ["s3", "service"])
def test_a_header_signed_raw_target_with_a_space_and_unicode_prints_the_target_signed(tmp_path: Path, service: str,
                                                                                      typed: str, sent: str) -> None:
    """A request line typed as people type it (`/café déjà.txt?x=a b`, `/100%`): the printed request line is
    percent-encoded as signed and sent (an escape as written), and botocore computes the same signature from it.
    Before, the line kept the raw space, `é` or `%` (curl and HTTP servers refuse them) while the canonical
    request encoded them."""
    get = f"GET {typed} HTTP/1.1\nHost: example.amazonaws.com\n\n".encode()
    code, signed, err = run_cli(["sign", saved(tmp_path, "get.req", get), "--service", service], ENV)
    line = signed.split(b"\n")[0]
    assert code == 0 and line == f"GET {sent} HTTP/1.1".encode(), (line, err)
    assert f"X-Amz-Security-Token: {TOKEN}".encode() in signed
    authorization = parse_request(signed).request.header("authorization") or ""
    assert authorization.endswith("Signature=" + botocore_signature(signed, service)), err
    path = saved(tmp_path, "signed.req", signed)
    code, out, err = run_cli(["verify", path], ENV)
    assert code == 0 and out.startswith(b"OK: "), (out, err)
    with verifying_server({"ASIAEXAMPLE": CREDS}, s3=service == "s3") as server:
        code, out, err = run_cli(["send", path, "--endpoint", server.url], ENV)
        assert code == 0 and out.startswith(b"HTTP/1.1 200 "), (out, err)
        code, command, err = run_cli(["send", path, "--endpoint", server.url, "--curl"], ENV)
        assert code == 0, err
        curl = subprocess.run(["sh", "-c", command.decode().strip() + " --fail-with-body"], capture_output=True,
                              timeout=60)
    assert curl.returncode == 0 and json.loads(curl.stdout)["key"] == "ASIAEXAMPLE", curl


def test_sign_json_of_a_binary_body_holds_the_bytes_signed(tmp_path: Path) -> None:
    """`sign --json` of a body that is not UTF-8: `signed_request` is the message's bytes in base64, said by
    `"signed_request_encoding": "base64"`; decoded and saved it verifies. Before, the body was `\\xNN` escapes:
    a different payload from the one signed. A UTF-8 request stays text, without the key."""
    body = bytes(range(256))
    put = b"PUT /bucket/blob HTTP/1.1\r\nHost: bucket.s3.amazonaws.com\r\n\r\n" + body
    code, out, err = run_cli(["sign", "--json", saved(tmp_path, "put.req", put)], ENV)
    record = json.loads(out)
    assert code == 0 and record["signed_request_encoding"] == "base64", err
    message = base64.b64decode(record["signed_request"])
    assert message.endswith(b"\r\n\r\n" + body) and TOKEN.encode() in message
    code, out, err = run_cli(["verify", saved(tmp_path, "signed.req", message)], ENV)
    assert code == 0 and out.startswith(b"OK: "), (out, err)
    code, out, err = run_cli(["sign", saved(tmp_path, "text.req", put.replace(body, "é".encode())), "--json"], ENV)
    record = json.loads(out)
    assert "signed_request_encoding" not in record and record["signed_request"].endswith("\r\n\r\né")


@pytest.mark.parametrize("body", [bytes(range(256)), "{\"note\": \"é\"}".encode()], ids=["binary", "text"])
def test_a_saved_sign_json_record_reads_back_in_explain(tmp_path: Path, body: bytes) -> None:
    """`sigv4 sign --json req > record.json; sigv4 explain record.json`: the record's signed request (base64 or
    text) is the capture, and its signature verifies. Before, explain refused it as a HAR it was not."""
    put = b"PUT /bucket/blob HTTP/1.1\r\nHost: bucket.s3.amazonaws.com\r\n\r\n" + body
    code, out, err = run_cli(["sign", saved(tmp_path, "put.req", put), "--json"], ENV)
    assert code == 0, err
    code, out, err = run_cli(["explain", saved(tmp_path, "record.json", out)], ENV)
    assert code == 0 and b"the signature sent verifies" in out and TOKEN.encode() not in out, (out, err)


@pytest.mark.parametrize("key", ["uploads/${filename}", "report.pdf"])
def test_presign_post_algorithm_v2_is_botocores_sigv2_form(key: str) -> None:
    """`sign --presign-post --algorithm v2`: S3's SigV2 form (AWSAccessKeyId, the token, policy, signature), field
    for field and byte for byte what boto3's generate_presigned_post signs with `signature_version="s3"`
    (HmacV1PostAuth) at the same time. Before, the algorithm was ignored and a SigV4 form printed."""
    import boto3
    from botocore.config import Config
    from freezegun import freeze_time

    code, out, err = run_cli(["sign", "--algorithm", "v2", "--presign-post", "--json", "--bucket", "photos", "--key",
                              key, "--condition", '["content-length-range", 1, 1048576]', "--field",
                              "Content-Type=image/png", "--date", "20240304T050607Z", "--expires", "600"], ENV)
    assert code == 0, err
    ours = json.loads(out)
    session = boto3.session.Session(aws_access_key_id="ASIAEXAMPLE", aws_secret_access_key="test",
                                    aws_session_token=TOKEN, region_name="us-east-1")
    s3 = session.client("s3", config=Config(signature_version="s3", s3={"addressing_style": "virtual"}))
    with freeze_time("2024-03-04T05:06:07Z"):
        theirs = s3.generate_presigned_post("photos", key, Fields={"Content-Type": "image/png"}, ExpiresIn=600,
                                            Conditions=[["content-length-range", 1, 1048576],
                                                        {"Content-Type": "image/png"}])
    assert ours == theirs and ours["fields"]["x-amz-security-token"] == TOKEN


@pytest.mark.parametrize("flags", [["--explain"], ["--presign"], ["--algorithm", "v4a"], ["--chunked"],
                                   ["--algorithm", "v2", "--service", "s3express", "--bucket", "b--use1-az4--x-s3"]])
def test_presign_post_refuses_signing_flags_it_cannot_honour(flags: list[str]) -> None:
    """A flag a POST form has no place for is refused in one line, exit 2, rather than ignored (--explain used to
    print the whole form, token included, as if nothing was asked)."""
    code, out, err = run_cli(["sign", "--presign-post", "--bucket", "b", "--key", "k", *flags], ENV)
    assert (code, out) == (2, b"") and err.count("\n") == 1 and err.startswith("sigv4: error: "), err
    assert TOKEN not in err



ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
TRUST_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                               "Action": "sts:AssumeRole"}]})


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[tuple[str, dict[str, str], object]]:
    """moto's S3 checking every signature (botocore's) after setup: its URL, the environment of an assumed role's
    temporary credentials (a session token) it knows, and a boto3 S3 client with them."""
    import boto3
    with moto_checking_signatures(5) as url:
        setup = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIDSETUP",
                     aws_secret_access_key="unchecked")
        iam = boto3.client("iam", **setup)
        role = iam.create_role(RoleName="uploader", AssumeRolePolicyDocument=TRUST_ALL)["Role"]["Arn"]
        iam.put_role_policy(RoleName="uploader", PolicyName="all", PolicyDocument=ALLOW_ALL)
        boto3.client("s3", **setup).create_bucket(Bucket="bkt")
        creds = boto3.client("sts", **setup).assume_role(RoleArn=role, RoleSessionName="qa-sign")["Credentials"]
        env = {**ENV, "AWS_ACCESS_KEY_ID": creds["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
               "AWS_SESSION_TOKEN": creds["SessionToken"]}
        yield url, env, boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                                     aws_access_key_id=creds["AccessKeyId"],
                                     aws_secret_access_key=creds["SecretAccessKey"],
                                     aws_session_token=creds["SessionToken"])


def put_through_moto(tmp_path: Path, moto_s3: tuple[str, dict[str, str], object], target: str, data: bytes,
                     *flags: str) -> bytes:
    """`sigv4 sign` of a PUT of `data` to moto's `target` with `flags`, saved and sent with `sigv4 send`: the
    signed request; asserts moto (botocore's verification) answered 200, and refuses the same with a bad signature."""
    url, env, _ = moto_s3
    put = f"PUT {target} HTTP/1.1\r\nHost: {url.removeprefix('http://')}\r\n\r\n".encode() + data
    code, signed, err = run_cli(["sign", saved(tmp_path, "put.req", put), "--service", "s3", *flags], env)
    assert code == 0, err
    for name, request in (("signed.req", signed), ("forged.req", signed.replace(b"Signature=", b"Signature=0", 1))):
        code, out, err = run_cli(["send", saved(tmp_path, name, request), "--scheme", "http"], env)
        assert code == 0 and out.startswith(b"HTTP/1.1 200 " if name == "signed.req" else b"HTTP/1.1 403 "), out
    return signed


def test_a_raw_key_with_a_space_and_unicode_uploads_to_moto_under_that_key(tmp_path: Path, moto_s3) -> None:
    """The header-signed PUT of `/bkt/my report é.txt` as typed: moto checks botocore's signature of the
    percent-encoded target sent, and stores the object under the key as typed (listed: moto fails boto3's own
    signature of a GET of a non-ASCII key, and of any request for a key with `%` or `+`)."""
    put_through_moto(tmp_path, moto_s3, "/bkt/my report é.txt", b"hello")
    listed = moto_s3[2].list_objects_v2(Bucket="bkt", Prefix="my ")["Contents"]
    assert [(o["Key"], o["Size"]) for o in listed] == [("my report é.txt", 5)]


def test_chunked_unsigned_payload_with_a_trailer_is_streaming_unsigned_payload_trailer(tmp_path: Path,
                                                                                        moto_s3) -> None:
    """`sign --chunked --unsigned-payload --trailer crc32`: STREAMING-UNSIGNED-PAYLOAD-TRAILER (what SDKs send
    to S3 over TLS), chunks without signatures; moto accepts it and stores the bytes. Before, --unsigned-payload
    was ignored and the chunks signed; without --trailer (no such framing) it is refused in one line."""
    data = hashlib.shake_256(b"qa-sign").digest(150_000)
    signed = put_through_moto(tmp_path, moto_s3, "/bkt/unsigned.bin", data, "--chunked", "--unsigned-payload",
                              "--trailer", "crc32", "--chunk-size", "65536")
    head, _, body = signed.partition(b"\r\n\r\n")
    assert b"\r\nX-Amz-Content-SHA256: STREAMING-UNSIGNED-PAYLOAD-TRAILER" in head and b"chunk-signature" not in body
    assert body.startswith(b"10000\r\n") and b"\r\n0\r\nx-amz-checksum-crc32:" in body
    assert moto_s3[2].get_object(Bucket="bkt", Key="unsigned.bin")["Body"].read() == data
    code, out, err = run_cli(["sign", "--chunked", "--unsigned-payload", saved(tmp_path, "u.req", b"PUT /bkt/k "
                              b"HTTP/1.1\r\nHost: bkt.s3.amazonaws.com\r\n\r\nabc")], ENV)
    assert (code, out) == (2, b"") and err.count("\n") == 1 and "add --trailer" in err, err


def test_presign_of_a_post_with_a_body_notes_the_method_and_body_the_url_needs(tmp_path: Path) -> None:
    """`sign --presign` of an STS POST with a form body: the note says the URL is valid only for POST with that
    body (its hash is signed), which `verify` bears out: the POST verifies, a GET of the URL does not. Before,
    the note named only the Content-Type, and `curl "$URL"` (a GET) was refused."""
    post = (b"POST / HTTP/1.1\r\nHost: sts.amazonaws.com\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
            b"Action=GetCallerIdentity&Version=2011-06-15")
    code, url, err = run_cli(["sign", saved(tmp_path, "sts.req", post), "--presign"], ENV)
    assert code == 0 and err == ("sigv4: note: the URL is valid only for POST, with the body it signed, with the "
                                 "signed headers content-type sent as signed\n"), err
    target = url.strip().removeprefix(b"https://sts.amazonaws.com")
    as_posted = post.replace(b"POST / ", b"POST " + target + b" ", 1)
    code, out, err = run_cli(["verify", saved(tmp_path, "post.req", as_posted)], ENV)
    assert code == 0 and out.startswith(b"OK: "), (out, err)
    code, out, err = run_cli(["verify", saved(tmp_path, "url.txt", url)], ENV)
    assert code == 1 and out.startswith(b"FAILED"), (out, err)
    code, url, err = run_cli(["sign", saved(tmp_path, "get.req", b"GET /?Action=GetCallerIdentity&Version=2011-06-15 "
                                            b"HTTP/1.1\r\nHost: sts.amazonaws.com\r\n\r\n"), "--presign"], ENV)
    assert code == 0 and err == "", err


@pytest.mark.parametrize("flags", [[], ["--algorithm", "v4a"], ["--algorithm", "v2"], ["--algorithm", "v2", "--no-s3"],
                                   ["--presign"], ["--algorithm", "v2", "--presign"]])
def test_explain_numbers_its_steps_in_order_and_masks_the_token_in_the_signed_request(tmp_path: Path,
                                                                                      flags: list[str]) -> None:
    """`sign --explain`: steps 1, 2, ... with the signed request last, numbered after the signature (SigV2 has
    two steps: it was "6. Signed request" after step 2), its session token masked; `--show-secrets` shows it."""
    path = saved(tmp_path, "get.req", b"GET /bucket/key?acl HTTP/1.1\r\nHost: s3.amazonaws.com\r\n\r\n")
    code, out, err = run_cli(["sign", path, "--explain", *flags], ENV)
    numbered = [line for line in out.decode().splitlines() if line[:1].isdigit()]
    assert code == 0 and [line.partition(".")[0] for line in numbered] == [str(n) for n in range(1, len(numbered) + 1)]
    assert numbered[-1].endswith(". Signed request:"), numbered
    signed_request = out.decode().partition(numbered[-1])[2]
    spellings = (TOKEN, quote(TOKEN, safe=""))  # in a header, or in a query parameter
    assert not any(token in out.decode() for token in spellings) and "****" in signed_request, out
    code, out, err = run_cli(["sign", path, "--explain", "--show-secrets", *flags], ENV)
    assert code == 0 and any(token in out.decode().partition(". Signed request:")[2] for token in spellings), out


@pytest.mark.parametrize("flags, message", [
    (["--region-set", "us-east-1,us-west-2"], "--region-set: a SigV4a region set; add --algorithm v4a"),
    (["--algorithm", "v2", "--no-s3", "--region-set", "us-east-1"],
     "--region-set: a SigV4a region set; add --algorithm v4a"),
    (["--expires", "60"], "--expires: a presigned URL's lifetime; add --presign"),
    (["--algorithm", "v2", "--expires", "60"], "--expires: a presigned URL's lifetime; add --presign"),
    (["--algorithm", "v2", "--no-s3", "--presign"], "--presign: Query SigV2 (--algorithm v2 of a request S3's"),
])
def test_a_signing_flag_without_the_mode_it_belongs_to_is_named(tmp_path: Path, flags: list[str], message: str) -> None:
    """A flag of another signing mode says which flag it needs, in one line, exit 2. Before, --region-set
    without v4a failed with the library's "pass algorithm='v4a'", and --expires without --presign was ignored
    (a header-signed request printed as if it would expire in 60 seconds), and --presign of Query SigV2 said
    "algorithm: 'v2' is not one of 'v4', 'v4a'"."""
    path = saved(tmp_path, "get.req", b"GET /bucket/key HTTP/1.1\r\nHost: s3.amazonaws.com\r\n\r\n")
    code, out, err = run_cli(["sign", path, *flags], ENV)
    assert (code, out) == (2, b"") and err.count("\n") == 1 and message in err, err


def test_region_set_as_typed_with_spaces_signs_those_regions(tmp_path: Path) -> None:
    """`--region-set 'us-east-1, eu-west-1'` (a space after the comma, as people type lists) signs for both regions
    and verifies; an empty entry is named in one line. Before, both failed with the library's "region: region
    set entry ' eu-west-1' must be ... without whitespace"."""
    path = saved(tmp_path, "put.req", b"PUT /bucket/k HTTP/1.1\r\nHost: s3.amazonaws.com\r\n\r\nhello")
    code, signed, err = run_cli(["sign", path, "--algorithm", "v4a", "--region-set", "us-east-1, eu-west-1"], ENV)
    assert code == 0 and b"\r\nX-Amz-Region-Set: us-east-1,eu-west-1\r\n" in signed, err
    code, out, err = run_cli(["verify", saved(tmp_path, "signed.req", signed)], ENV)
    assert code == 0 and out.startswith(b"OK: AWS4-ECDSA-P256-SHA256") and b"us-east-1,eu-west-1/s3" in out, out
    code, out, err = run_cli(["sign", path, "--algorithm", "v4a", "--region-set", "us-east-1,,eu-west-1"], ENV)
    assert (code, out) == (2, b"") and err.count("\n") == 1 and err.startswith("sigv4: error: --region-set "), err


@pytest.mark.parametrize("algorithm", ["v4", "v4a", "v2"])
def test_a_presigned_url_signed_again_by_header_carries_one_signature(tmp_path: Path, algorithm: str) -> None:
    """`sigv4 sign --presign req > url.txt`, later `sigv4 sign url.txt` (an expired link, signed anew by its
    headers): the old query signature is dropped, so the request carries one signature and verifies. Before, both
    were sent and `verify` (as AWS) refused it: "signed twice, with an Authorization header and a presigned query"."""
    get = saved(tmp_path, "get.req", b"GET /bucket/key?versionId=3 HTTP/1.1\r\nHost: s3.amazonaws.com\r\n\r\n")
    code, url, err = run_cli(["sign", get, "--presign", "--algorithm", algorithm], ENV)
    assert code == 0, err
    code, signed, err = run_cli(["sign", "--algorithm", algorithm, saved(tmp_path, "url.txt", url)], ENV)
    assert code == 0 and signed.startswith(b"GET /bucket/key?versionId=3 HTTP/1.1\r\n"), (signed, err)
    code, out, err = run_cli(["verify", saved(tmp_path, "signed.req", signed)], ENV)
    assert code == 0 and out.startswith(b"OK: ") and b"presigned" not in out, (out, err)


@pytest.mark.parametrize("algorithm", ["v4", "v2"])
def test_a_header_signed_request_presigned_again_is_a_url_a_plain_get_fetches(tmp_path: Path, algorithm: str) -> None:
    """`sigv4 sign req > signed.req`, then `sigv4 sign signed.req --presign` (a shareable link of a request signed
    before): the old signature's headers go, so the URL signs only the host and fetches as is; an S3 SigV2 URL
    presigned again with SigV4 carries one signature. Before, the stale x-amz-content-sha256 header was signed
    into the URL (which no browser sends), and SigV2's AWSAccessKeyId/Signature stayed beside SigV4's."""
    get = saved(tmp_path, "get.req", b"GET /bucket/key HTTP/1.1\r\nHost: s3.amazonaws.com\r\n\r\n")
    code, signed, err = run_cli(["sign", get, "--algorithm", algorithm], ENV)
    assert code == 0, err
    code, url, err = run_cli(["sign", saved(tmp_path, "signed.req", signed), "--presign"], ENV)
    assert code == 0 and err == "" and b"X-Amz-SignedHeaders=host&" in url, (url, err)
    code, out, err = run_cli(["verify", saved(tmp_path, "url.txt", url)], ENV)
    assert code == 0 and out.endswith(b"(presigned)\n"), (out, err)
    code, v2_url, err = run_cli(["sign", get, "--presign", "--algorithm", "v2"], ENV)
    code, url, err = run_cli(["sign", saved(tmp_path, "v2.txt", v2_url), "--presign"], ENV)
    assert code == 0 and b"AWSAccessKeyId" not in url and b"Signature=" not in url.replace(b"X-Amz-Signature=", b"")


def test_a_request_file_saved_with_a_byte_order_mark_signs_and_verifies(tmp_path: Path) -> None:
    """A request file saved by an editor that writes a UTF-8 byte-order mark (Notepad) signs, and the output
    (without the mark) verifies. Before: "request line: method '\\ufeffGET' is not an HTTP token", exit 2."""
    path = saved(tmp_path, "get.req", b"\xef\xbb\xbfGET /bucket/key HTTP/1.1\r\nHost: s3.amazonaws.com\r\n\r\n")
    code, signed, err = run_cli(["sign", path], ENV)
    assert code == 0 and signed.startswith(b"GET /bucket/key HTTP/1.1\r\n"), (signed, err)
    code, out, err = run_cli(["verify", saved(tmp_path, "signed.req", b"\xef\xbb\xbf" + signed)], ENV)
    assert code == 0 and out.startswith(b"OK: "), (out, err)


def test_a_url_presigned_with_omit_session_token_verifies_with_the_same_flag(tmp_path: Path) -> None:
    """`sign --presign --omit-session-token` (the token added after signing, as AWS IoT takes it) replays into
    `verify --omit-session-token`; without the flag it is refused, as AWS refuses it for other services. Before,
    verify had no way to check the URL."""
    get = saved(tmp_path, "get.req", b"GET /things?max=5 HTTP/1.1\r\nHost: api.example.amazonaws.com\r\n\r\n")
    code, url, err = run_cli(["sign", get, "--service", "execute-api", "--presign", "--omit-session-token"], ENV)
    assert code == 0 and b"&X-Amz-Security-Token=" + quote(TOKEN, safe="").encode() + b"&" in url, url
    path = saved(tmp_path, "url.txt", url)
    code, out, err = run_cli(["verify", "--omit-session-token", path], ENV)
    assert code == 0 and out.startswith(b"OK: ") and out.endswith(b"(presigned)\n"), (out, err)
    code, out, err = run_cli(["verify", path], ENV)
    assert code == 1 and out.startswith(b"FAILED (signature_mismatch)"), (out, err)


def test_send_curl_of_a_url_with_brackets_fetches_that_url(tmp_path: Path) -> None:
    """`sigv4 send signed.req --curl | sh` of a request whose query holds `[1]` (as JSON:API-style filters and
    PHP arrays do): curl sends that URL and the signature verifies. Before, curl read `[1]` as a glob range and
    refused the URL ("bad range in URL")."""
    get = saved(tmp_path, "get.req", b"GET /items?filter[id]=1&page[size]=5 HTTP/1.1\r\nHost: api.example.com\r\n\r\n")
    code, signed, err = run_cli(["sign", get, "--service", "execute-api", "--region", "us-east-1"], ENV)
    assert code == 0, err
    with verifying_server({"ASIAEXAMPLE": CREDS}) as server:
        code, command, err = run_cli(["send", saved(tmp_path, "signed.req", signed), "--endpoint", server.url,
                                      "--curl"], ENV)
        assert code == 0, err
        curl = subprocess.run(["sh", "-c", command.decode().strip() + " --fail-with-body"], capture_output=True,
                              timeout=60)
    assert curl.returncode == 0 and json.loads(curl.stdout)["key"] == "ASIAEXAMPLE", curl


@pytest.mark.parametrize("algorithm", ["v4", "v2"])
def test_a_query_sigv2_request_signed_again_carries_one_fresh_signature(tmp_path: Path, algorithm: str) -> None:
    """`sigv4 sign --algorithm v2 ec2.req > signed.req` (EC2's Query SigV2, signed into the query), later
    `sigv4 sign signed.req` with other credentials: the old AWSAccessKeyId, Signature, Timestamp and
    SecurityToken (the first session's token) stayed in the query, so SigV4 went beside a stale SigV2 signature
    and another token, and SigV2 signed again kept the old Timestamp, as stale as before."""
    get = saved(tmp_path, "get.req", b"GET /?Action=DescribeRegions&Version=2016-11-15 HTTP/1.1\r\n"
                                     b"Host: ec2.amazonaws.com\r\n\r\n")
    code, signed, err = run_cli(["sign", get, "--algorithm", "v2", "--date", "20200101T000000Z"], ENV)
    assert code == 0 and b"SecurityToken=" in signed, err
    other = {**ENV, "AWS_ACCESS_KEY_ID": "ASIAOTHER", "AWS_SESSION_TOKEN": "SECONDSESSIONTOKEN0000000000"}
    code, again, err = run_cli(["sign", saved(tmp_path, "signed.req", signed), "--algorithm", algorithm], other)
    assert code == 0, err
    line = again.split(b"\r\n", 1)[0]
    assert b"ASIAEXAMPLE" not in again and b"2020-01-01" not in line and quote(TOKEN, safe="").encode() not in line
    assert line.count(b"Signature=") == (algorithm == "v2"), line
    code, out, err = run_cli(["verify", saved(tmp_path, "again.req", again)], other)
    assert code == 0 and out.startswith(b"OK: "), (out, err, again)
