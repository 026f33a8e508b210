"""SigV4a signing and verification against awscrt, and verify() against sign(), in one run.

Rows (microseconds per request, best of interleaved rounds (see interleaved.py); ratios ours / theirs, lower
is better):
- SigV4a sign: `sigv4.sign(algorithm="v4a")` against awscrt's `aws_sign_request` with V4_ASYMMETRIC: like for
  like, a fresh request signed whole on each side.
- SigV4a verify: `sigv4.verify()` of that request against awscrt's `EC.verify` of the same signature, the
  SHA-256 digest given. awscrt's Python binding has no request verifier, so this is not a like-for-like
  verifier but the bare ECDSA check: a floor. Ours does that same check (below) and reads the Authorization
  header, rebuilds and hashes the canonical request and checks the scope and time around it.
- Ours runs with each ECDSA implementation installed (sigv4.v4a_ecdsa): awscrt's `EC` (the `crt` extra, the
  default when it imports) and the `cryptography` fallback; the table names which one ours uses by default.
- The ECDSA check alone: each implementation's key pair verifying the string-to-sign (awscrt's hashes it first),
  the floor under our verify with that implementation.
- verify/sign: `verify()` per request against `sign()` of the same request, for SigV4
  (HMAC) and SigV4a (ECDSA, the default implementation), header-signed and presigned (verify is shown URLs presigned
  at 256 different seconds in turn, as a server is: none is read twice in a row).
Not a test: nothing here asserts on time.

    python benchmarks/bench_v4a_verify.py [--quick]
"""

from __future__ import annotations

import hashlib
import io
import itertools
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from functools import partial

from pathlib import Path

from cryptography.hazmat.primitives import serialization

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's sigv4, not an installed one

import sigv4  # noqa: E402
from sigv4 import v4a_ecdsa  # noqa: E402
from interleaved import best_us  # noqa: E402  (benchmarks/, beside this script)

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
CREDS = sigv4.Credentials("AKIDBENCHMARK", "benchmark-secret-not-a-real-key/0123456789")
HOST = "examplebucket.s3.amazonaws.com"
HEADERS = [("Host", HOST), ("Content-Type", "text/plain"), ("X-Amz-Meta-Color", "blue")]
BODY = b"Welcome to Amazon S3." * 8
REQUEST = sigv4.Request("PUT", f"https://{HOST}/photos/2024/cat.txt?tagging=x", HEADERS, BODY)
# S3 signs x-amz-content-sha256 (and a verifier requires it on a header-signed S3 request), as awscrt's S3 config does.
SCOPE = dict(region="us-east-1,us-west-2", service="s3", timestamp=NOW, s3=True)
LOOKUP = {CREDS.access_key_id: CREDS}.get
PRESIGNED_URLS = 256  # more than any cache of verify's holds


def awscrt_calls(ours_signed: sigv4.SigningResult) -> dict[str, Callable[[], object]] | None:
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
    return {"sign": crt_sign, "verify": lambda: crt_key.verify(digest, signature)}


def with_ecdsa(implementation: v4a_ecdsa.Implementation, call: Callable[[], object]) -> Callable[[], object]:
    """`call` with SigV4a's ECDSA over `implementation`, the default restored after it."""
    default = v4a_ecdsa.IMPLEMENTATION

    def run() -> object:
        v4a_ecdsa.IMPLEMENTATION = implementation
        try:
            return call()
        finally:
            v4a_ecdsa.IMPLEMENTATION = default
    return run


def main() -> None:
    number, rounds = (50, 3) if "--quick" in sys.argv else (200, 20)
    v4a_signed = sigv4.sign(REQUEST, CREDS, algorithm="v4a", **SCOPE)  # type: ignore[arg-type]
    message, signature = v4a_signed.string_to_sign.encode(), bytes.fromhex(v4a_signed.signature)
    implementations = sorted(v4a_ecdsa.IMPLEMENTATIONS, key=lambda name: name != v4a_ecdsa.IMPLEMENTATION)
    calls: dict[tuple[str, str], Callable[[], object]] = {
        **{("awscrt", op): fn for op, fn in (awscrt_calls(v4a_signed) or {}).items()}}
    def sign_v4a() -> object:
        return sigv4.sign(REQUEST, CREDS, algorithm="v4a", **SCOPE)  # type: ignore[arg-type]

    def verify_v4a() -> object:
        return sigv4.verify(v4a_signed.request, LOOKUP, now=NOW)

    for ecdsa in implementations:
        key = v4a_ecdsa.IMPLEMENTATIONS[ecdsa](sigv4.v4a.private_key(CREDS))
        assert key.verify(message, signature), f"{ecdsa} must accept our signature"
        calls["ours " + ecdsa, "sign"] = with_ecdsa(ecdsa, sign_v4a)
        calls["ours " + ecdsa, "verify"] = with_ecdsa(ecdsa, verify_v4a)
        calls["check " + ecdsa, "check"] = partial(key.verify, message, signature)
    for algorithm in ("v4", "v4a"):
        region = "us-east-1" if algorithm == "v4" else SCOPE["region"]
        for name, signer in (("header", sigv4.sign), ("presigned", sigv4.presign)):
            def sign_once(signer: Callable[..., sigv4.SigningResult] = signer, region: str = region,
                          algorithm: str = algorithm, timestamp: datetime = NOW) -> sigv4.SigningResult:
                return signer(REQUEST, CREDS, region=region, service="s3", timestamp=timestamp, algorithm=algorithm,
                              s3=True)
            # Each presigned URL a server is shown is a new text (its date and signature): verify sees PRESIGNED_URLS
            # of them in turn, never the one it read just before.
            signed = itertools.cycle([sign_once(timestamp=NOW + timedelta(seconds=second)).request
                                      for second in range(PRESIGNED_URLS if name == "presigned" else 1)])
            calls[f"{algorithm} {name}", "sign"] = sign_once
            calls[f"{algorithm} {name}", "verify"] = lambda signed=signed: sigv4.verify(next(signed), LOOKUP, now=NOW)
    us = best_us(calls, number, rounds)
    crt = {op: us["awscrt", op] for op in ("sign", "verify")} if ("awscrt", "sign") in us else None
    print(f"SigV4a: ours signs and verifies with {v4a_ecdsa.IMPLEMENTATION}'s ECDSA (sigv4.v4a_ecdsa), "
          f"installed: {', '.join(implementations)}")
    print(f"{'SigV4a':<40}{'ours µs':>10}{'awscrt µs':>12}{'ratio':>8}")
    for name in implementations:
        label = "ECDSA by " + name + (" (default)" if name == v4a_ecdsa.IMPLEMENTATION else " (fallback)")
        for op in ("sign", "verify"):
            theirs = f"{crt[op]:>12.1f}{us['ours ' + name, op] / crt[op]:>8.2f}" if crt else f"{'n/a':>12}"
            print(f"{op + ', ' + label:<40}{us['ours ' + name, op]:>10.1f}{theirs}")
    checks = ", ".join(f"{name} {us['check ' + name, 'check']:.1f} µs" for name in implementations)
    print(f"the ECDSA check alone, of the string-to-sign: {checks}")
    if crt:
        print("(awscrt verify = its bare EC.verify of a given digest, no request verifier: the floor under ours with "
              "awscrt, which reads, canonicalizes and hashes the request around that same check)")

    print(f"\n{'verify/sign':<22}{'sign µs':>10}{'verify µs':>11}{'ratio':>8}")
    for row in (f"{algorithm} {name}" for algorithm in ("v4", "v4a") for name in ("header", "presigned")):
        sign_us, verify_us = us[row, "sign"], us[row, "verify"]
        print(f"{row:<22}{sign_us:>10.1f}{verify_us:>11.1f}{verify_us / sign_us:>8.2f}")


if __name__ == "__main__":
    main()
