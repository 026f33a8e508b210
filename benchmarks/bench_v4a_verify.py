"""SigV4a signing and verification against awscrt, and verify() against sign(), in one run.

Rows (microseconds per request, best of 5 repeats; ratios ours / theirs, lower is better):
- v4a sign: `sigv4.sign(algorithm="v4a")` against awscrt's `aws_sign_request` with V4_ASYMMETRIC.
- v4a verify: `sigv4.verify()` of that request against awscrt's `EC.verify` of the same
  signature. awscrt's Python binding has no request verifier, so its row is the bare
  ECDSA check (digest given): a floor, not a like-for-like verifier.
- verify/sign: `verify()` per request against `sign()` of the same request, for SigV4
  (HMAC) and SigV4a (ECDSA), header-signed and presigned.
Not a test: nothing here asserts on time.

    python benchmarks/bench_v4a_verify.py [--quick]
"""

from __future__ import annotations

import hashlib
import io
import sys
import timeit
from collections.abc import Callable
from datetime import datetime, timezone

from pathlib import Path

from cryptography.hazmat.primitives import serialization

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's sigv4, not an installed one

import sigv4  # noqa: E402

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
CREDS = sigv4.Credentials("AKIDBENCHMARK", "benchmark-secret-not-a-real-key/0123456789")
HOST = "examplebucket.s3.amazonaws.com"
HEADERS = [("Host", HOST), ("Content-Type", "text/plain"), ("X-Amz-Meta-Color", "blue")]
BODY = b"Welcome to Amazon S3." * 8
REQUEST = sigv4.Request("PUT", f"https://{HOST}/photos/2024/cat.txt?tagging=x", HEADERS, BODY)
# S3 signs x-amz-content-sha256 (and a verifier requires it on a header-signed S3 request), as awscrt's S3 config does.
SCOPE = dict(region="us-east-1,us-west-2", service="s3", timestamp=NOW, s3=True)
LOOKUP = {CREDS.access_key_id: CREDS}.get


def per_call_us(fn: Callable[[], object], number: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6


def awscrt_rows(number: int, ours_signed: sigv4.SigningResult) -> dict[str, float] | None:
    try:
        from awscrt import auth, crypto, http
    except ImportError:
        return None
    config = auth.AwsSigningConfig(
        algorithm=auth.AwsSigningAlgorithm.V4_ASYMMETRIC, signature_type=auth.AwsSignatureType.HTTP_REQUEST_HEADERS,
        credentials_provider=auth.AwsCredentialsProvider.new_static(CREDS.access_key_id, CREDS.secret_access_key),
        region=SCOPE["region"], service="s3", date=NOW, use_double_uri_encode=False, should_normalize_uri_path=False,
        signed_body_header_type=auth.AwsSignedBodyHeaderType.X_AMZ_CONTENT_SHA_256)

    def crt_sign() -> None:
        request = http.HttpRequest("PUT", REQUEST.target, http.HttpHeaders(HEADERS), io.BytesIO(BODY))
        auth.aws_sign_request(request, config).result()

    der_key = sigv4.v4a.private_key(CREDS).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    crt_key = crypto.EC.new_key_from_der_data(der_key)
    digest = hashlib.sha256(ours_signed.string_to_sign.encode()).digest()
    signature = bytes.fromhex(ours_signed.signature)
    assert crt_key.verify(digest, signature), "awscrt must accept our signature"
    return {"sign": per_call_us(crt_sign, number), "verify": per_call_us(lambda: crt_key.verify(digest, signature),
                                                                         number)}


def main() -> None:
    number = 200 if "--quick" in sys.argv else 2000
    v4a_signed = sigv4.sign(REQUEST, CREDS, algorithm="v4a", **SCOPE)  # type: ignore[arg-type]
    ours = {
        "sign": per_call_us(lambda: sigv4.sign(REQUEST, CREDS, algorithm="v4a",
                                               **SCOPE), number),  # type: ignore[arg-type]
        "verify": per_call_us(lambda: sigv4.verify(v4a_signed.request, LOOKUP, now=NOW), number),
    }
    crt = awscrt_rows(number, v4a_signed)
    print(f"{'SigV4a':<12}{'ours µs':>10}{'awscrt µs':>12}{'ratio':>8}")
    for op in ("sign", "verify"):
        theirs = f"{crt[op]:>12.1f}{ours[op] / crt[op]:>8.2f}" if crt else f"{'n/a':>12}"
        print(f"{op:<12}{ours[op]:>10.1f}{theirs}")
    if crt:
        print("(awscrt verify = bare ECDSA check of a given digest; ours parses, canonicalizes and hashes too)")

    print(f"\n{'verify/sign':<22}{'sign µs':>10}{'verify µs':>11}{'ratio':>8}")
    for algorithm in ("v4", "v4a"):
        region = "us-east-1" if algorithm == "v4" else SCOPE["region"]
        for name, signer in (("header", sigv4.sign), ("presigned", sigv4.presign)):
            def sign_once() -> sigv4.SigningResult:
                return signer(REQUEST, CREDS, region=region, service="s3", timestamp=NOW,  # type: ignore[operator]
                              algorithm=algorithm, s3=True)
            signed = sign_once().request
            sign_us = per_call_us(sign_once, number)
            verify_us = per_call_us(lambda: sigv4.verify(signed, LOOKUP, now=NOW), number)
            print(f"{algorithm + ' ' + name:<22}{sign_us:>10.1f}{verify_us:>11.1f}{verify_us / sign_us:>8.2f}")


if __name__ == "__main__":
    main()
