"""aws-chunked as the SDKs send it: STREAMING-UNSIGNED-PAYLOAD-TRAILER (boto3 and the aws CLI's default upload)
and the SigV4a forms, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD[-TRAILER].

Oracles: botocore's own aws-chunked writer (`AwsChunkedWrapper`) for the unsigned-trailer framing, byte for
byte; boto3 and `python -m awscli s3 cp` uploading over TLS to the loopback verifying server; for SigV4a,
aws-c-auth's chunked-signing test vectors (its expected canonical requests, chunk and trailer
string-to-sign pieces and the public key of its credentials; awscrt's Python binding cannot sign chunks,
so its C tests are the word of aws-c-auth), awscrt's SigV4a seed signature verified by our verifier
and chained from by our chunk signer, whose every signature verifies under aws-c-auth's public key, and
aws-c-auth's own verifier (aws-crt for node, replayed) accepting our seed signatures.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import ssl
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from awscrt import auth, http
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.httpchecksum import _CHECKSUM_CLS, AwsChunkedWrapper
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from sigv4 import Credentials, Request, sign, v4a, verify
from sigv4.checksums import CHECKSUMS, checksum_algorithm
from sigv4.chunked import FRAMINGS, MIN_CHUNK_SIZE, ChunkScope, ChunkSigner, chunk_string_to_sign, encode_body, \
    trailer_string_to_sign
from sigv4.chunked_decode import ChunkData, decoder_for
from tests.local_http import self_signed
from tests.verifying_server import verifying_server

UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
TEMP = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "FwoGZXIvYXdzE/upload+token=")


@settings(max_examples=40, deadline=None)
@given(data=st.integers(0, 150_000).map(lambda n: hashlib.shake_256(str(n).encode()).digest(n)),
       chunk_size=st.integers(MIN_CHUNK_SIZE, 1 << 17), checksum=st.sampled_from(sorted(CHECKSUMS)))
def test_unsigned_trailer_framing_equals_botocore(data: bytes, chunk_size: int, checksum: str) -> None:
    header = checksum_algorithm(checksum).header
    expected = AwsChunkedWrapper(io.BytesIO(data), _CHECKSUM_CLS[checksum], header, chunk_size=chunk_size).read()
    framed = encode_body(data, ChunkSigner(FRAMINGS[UNSIGNED_TRAILER]), "", chunk_size=chunk_size,
                         decoded_length=len(data), checksum=checksum_algorithm(checksum))
    assert b"".join(framed) == expected
    # Signed as a whole request: the body is the same bytes, and Content-Length says their length.
    request = Request("PUT", "https://bucket.s3.amazonaws.com/key", [], data)
    result = sign(request, TEMP, region="us-east-1", service="s3", timestamp=datetime(2024, 5, 1, tzinfo=timezone.utc),
                  s3=True, payload=UNSIGNED_TRAILER, chunk_size=chunk_size, trailer_checksum=checksum)
    body = b"".join(result.request.body)  # type: ignore[arg-type]
    assert body == expected and result.request.header("content-length") == str(len(expected))


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, Path]:
    return self_signed(tmp_path_factory.mktemp("tls"), "127.0.0.1")


def _s3_client(url: str, cert: Path, creds: Credentials) -> Any:
    return boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id=creds.access_key_id,
                        aws_secret_access_key=creds.secret_access_key, aws_session_token=creds.session_token,
                        verify=str(cert), config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 0}))


def test_boto3_upload_sends_the_unsigned_trailer_and_it_verifies(tls: tuple[ssl.SSLContext, Path]) -> None:
    context, cert = tls
    data = os.urandom(200_000)
    with verifying_server({TEMP.access_key_id: TEMP}, s3=True, tls=context, empty_ok=True) as server:
        _s3_client(server.url, cert, TEMP).put_object(Bucket="bucket", Key="k", Body=data)
        wrong = Credentials(TEMP.access_key_id, "not-the-secret", TEMP.session_token)
        with pytest.raises(ClientError):
            _s3_client(server.url, cert, wrong).put_object(Bucket="bucket", Key="k", Body=data)
    ok, refused = server.verdicts
    assert ok["payload_hash"] == UNSIGNED_TRAILER and ok["body"] == data.decode("latin-1")
    assert refused["reason"] == "signature_mismatch"
    headers = {name.lower(): value for name, value in server.received[0].headers}
    assert headers["x-amz-trailer"] == "x-amz-checksum-crc32" and headers["content-encoding"] == "aws-chunked"


def test_aws_cli_cp_sends_the_unsigned_trailer_and_it_verifies(tls: tuple[ssl.SSLContext, Path],
                                                              tmp_path: Path) -> None:
    context, cert = tls
    source = tmp_path / "upload.bin"
    source.write_bytes(data := os.urandom(300_000))
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "AWS_ACCESS_KEY_ID": TEMP.access_key_id,
           "AWS_SECRET_ACCESS_KEY": TEMP.secret_access_key, "AWS_SESSION_TOKEN": TEMP.session_token or "",
           "AWS_DEFAULT_REGION": "us-east-1"}
    with verifying_server({TEMP.access_key_id: TEMP}, s3=True, tls=context, empty_ok=True) as server:
        done = subprocess.run([sys.executable, "-m", "awscli", "s3", "cp", str(source), "s3://bucket/upload.bin",
                               "--endpoint-url", server.url, "--ca-bundle", str(cert)],
                              env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    (verdict,) = server.verdicts
    assert verdict["payload_hash"] == UNSIGNED_TRAILER and verdict["body"] == data.decode("latin-1")


# -- SigV4a chunked: aws-c-auth's vectors (tests/sigv4_chunked_signing_tests.c) ----------------------------

CRT_CREDS = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
CRT_TIME = datetime(2013, 5, 24, tzinfo=timezone.utc)
CRT_PUBLIC = (0x18b7d04643359f6ec270dcbab8dce6d169d66ddc9778c75cfb08dfdb701637ab,
              0xfa36b35e4fe67e3112261d2e17a956ef85b06e44712d2850bcd3c2161e9993f2)
CRT_HEADERS = [("host", "s3.amazonaws.com"), ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
               ("Content-Encoding", "aws-chunked"), ("x-amz-decoded-content-length", "66560")]
CRT_CANONICAL = """PUT
/examplebucket/chunkObject.txt

content-encoding:aws-chunked
content-length:{length}
host:s3.amazonaws.com
x-amz-content-sha256:{payload}
x-amz-date:20130524T000000Z
x-amz-decoded-content-length:66560
x-amz-region-set:us-east-1
x-amz-storage-class:REDUCED_REDUNDANCY
{trailer}
content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-region-set;\
x-amz-storage-class{trailer_name}
{payload}"""
CHUNK_STS_PRE = "AWS4-ECDSA-P256-SHA256-PAYLOAD\n20130524T000000Z\n20130524/s3/aws4_request\n"
CHUNK_STS_POST = [  # 65536 'a', 1024 'a', the empty final chunk
    "\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
    "bf718b6f653bebc184e1479f1935b8da974d701b893afcf49e701f3e2f9f9c5a",
    "\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
    "2edc986847e209b4016e141a6dc8716d3207350f416969382d431539bf292e4a",
    "\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
]
TRAILER_STS_PRE = "AWS4-ECDSA-P256-SHA256-TRAILER\n20130524T000000Z\n20130524/s3/aws4_request\n"
TRAILER_STS_POST = "\n83d8f190334fb741bc8daf73c891689d320bd8017756bc730c540021ed48001f"
CRT_TRAILER = [("first", "1st"), ("second", "2nd"), ("third", "3rd")]


def _crt_key_verifies(text: str, signature: str) -> bool:
    public = ec.EllipticCurvePublicNumbers(*CRT_PUBLIC, ec.SECP256R1()).public_key()
    try:
        public.verify(bytes.fromhex(signature), text.encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


@pytest.mark.usefixtures("ecdsa_implementation")
@pytest.mark.parametrize("payload", ["STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
                                     "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER"])
def test_sigv4a_chunked_signs_what_aws_c_auth_signs(payload: str) -> None:
    assert v4a.public_key(CRT_CREDS) == CRT_PUBLIC
    trailer = payload.endswith("-TRAILER")
    headers = [*CRT_HEADERS, ("x-amz-trailer", "first,second,third")] if trailer else CRT_HEADERS
    request = Request("PUT", "https://s3.amazonaws.com/examplebucket/chunkObject.txt", headers, b"a" * 66560)
    result = sign(request, CRT_CREDS, region="us-east-1", service="s3", timestamp=CRT_TIME, algorithm="v4a", s3=True,
                  payload=payload, trailer_checksum="crc32c" if trailer else None)
    # Our upload declares its own (correct) encoded length and x-amz-trailer: aws-c-auth's vector fixes both.
    ours = result.canonical_request.replace(f"content-length:{result.request.header('content-length')}\n",
                                            "content-length:66824\n")
    ours = ours.replace("x-amz-trailer:x-amz-checksum-crc32c\n", "x-amz-trailer:first,second,third\n")
    assert ours == CRT_CANONICAL.format(length=66824, payload=payload,
                                        trailer="x-amz-trailer:first,second,third\n" if trailer else "",
                                        trailer_name=";x-amz-trailer" if trailer else "")
    assert _crt_key_verifies(result.string_to_sign, result.signature)
    # The chain, as aws-c-auth's chunk signer builds each string-to-sign: 65536 'a', 1024 'a', the final chunk.
    scope = ChunkScope(v4a.ALGORITHM, result.amz_date, result.credential_scope)
    signer = ChunkSigner(FRAMINGS[payload], scope, lambda text: v4a.sign_string(CRT_CREDS, text))
    previous = result.signature
    for data, post in zip((b"a" * 65536, b"a" * 1024, b""), CHUNK_STS_POST):
        text = chunk_string_to_sign(scope, previous, hashlib.sha256(data).hexdigest())
        assert text == CHUNK_STS_PRE + previous + post
        previous = signer._header(previous, data)[0]
        assert _crt_key_verifies(text, previous)
    text = trailer_string_to_sign(scope, previous, CRT_TRAILER)
    assert text == TRAILER_STS_PRE + previous + TRAILER_STS_POST


@pytest.mark.usefixtures("ecdsa_implementation")
def test_awscrt_sigv4a_seed_verifies_and_our_chunks_chain_from_it() -> None:
    payload = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER"
    data = b"z" * 70_000
    request = sign(Request("PUT", "https://s3.amazonaws.com/bucket/key", [("x-amz-decoded-content-length", "70000")],
                           data), CRT_CREDS, region="*", service="s3", timestamp=CRT_TIME, algorithm="v4a", s3=True,
                   payload=payload, trailer_checksum="sha256", chunk_size=65536).request
    # awscrt signs the same headers (its own date, region set and payload header left to it), with ECDSA.
    headers = [(n, v) for n, v in request.headers
               if n.lower() not in {"authorization", "x-amz-date", "x-amz-region-set", "x-amz-content-sha256"}]
    crt_request = http.HttpRequest("PUT", "/bucket/key", http.HttpHeaders(headers), io.BytesIO(b""))
    config = auth.AwsSigningConfig(
        algorithm=auth.AwsSigningAlgorithm.V4_ASYMMETRIC, region="*", service="s3", date=CRT_TIME,
        credentials_provider=auth.AwsCredentialsProvider.new_static(CRT_CREDS.access_key_id,
                                                                    CRT_CREDS.secret_access_key),
        use_double_uri_encode=False, should_normalize_uri_path=False, signed_body_value=payload,
        signed_body_header_type=auth.AwsSignedBodyHeaderType.X_AMZ_CONTENT_SHA_256)
    crt_signed = auth.aws_sign_request(crt_request, config).result(10)
    crt = Request("PUT", "https://s3.amazonaws.com/bucket/key", list(crt_signed.headers))
    identity = verify(crt, lambda key: CRT_CREDS, now=CRT_TIME)
    assert identity.payload_hash == payload and identity.version == "v4a"
    # Our body, chained from awscrt's seed signature, decodes and verifies chunk by chunk.
    scope = ChunkScope(identity.algorithm, identity.amz_date, identity.credential_scope)
    body = b"".join(encode_body(data, ChunkSigner(FRAMINGS[payload], scope,
                                                  lambda text: v4a.sign_string(CRT_CREDS, text)),
                                identity.signature, chunk_size=65536, decoded_length=len(data),
                                checksum=checksum_algorithm("sha256")))
    decoder = decoder_for(identity, crt)
    events = decoder.feed(body)
    decoder.close()
    assert b"".join(e.data for e in events if isinstance(e, ChunkData)) == data


SEEDS = [case for line in (Path(__file__).parent / "fixtures" / "js_oracles.jsonl").read_text().splitlines()
         if (case := json.loads(line))["preset"] == "sigv4a-seed"]


@pytest.mark.parametrize("case", SEEDS, ids=lambda c: f"{c['payload'][-7:]}-{c['region']}")
def test_aws_c_auth_verifies_our_sigv4a_chunked_seed(case: dict[str, Any]) -> None:
    """aws-crt's `aws_verify_sigv4a_signing` (aws-c-auth) accepted these seeds of ours, rebuilding the same canonical
    request (vectors/js_oracles/generate.py); RFC 6979 nonces make our signer give the same bytes again."""
    assert case["verified"] is True
    creds = Credentials(case["key"], case["secret"])
    when = datetime.fromisoformat(case["time"].replace("Z", "+00:00"))
    request = Request("PUT", f"https://{case['headers'][0][1]}{case['path']}", [tuple(h) for h in case["headers"]],
                      iter([]))
    result = sign(request, creds, region=case["region"], service="s3", timestamp=when, algorithm="v4a", s3=True,
                  deterministic=True, payload=case["payload"], chunk_size=case["chunk_size"],
                  trailer_checksum="crc32c" if case["payload"].endswith("TRAILER") else None)
    assert (result.canonical_request, result.signature) == (case["canonical"], case["signature"])
    assert v4a.public_key(creds) == (int(case["x"], 16), int(case["y"], 16))
