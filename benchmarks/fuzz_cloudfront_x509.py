"""Long fuzz runs for `sigv4.cloudfront` and `sigv4.x509` (the suite runs a few hundred cases of each).

- cloudfront-botocore: random resources, expiries, start times and IP ranges, signed by us and by
  botocore's `CloudFrontSigner` (RSA-SHA1): the URLs must be equal byte for byte.
- cloudfront-mutated: a valid signed URL with random bytes replaced, inserted or deleted: `verify` either
  accepts it (the mutation left what is signed intact) or raises VerificationError with a reason of
  `cloudfront.REASONS`, never anything else.
- x509-mutated: a valid CreateSession request (ECDSA, with a chain) with one header value mutated:
  `x509.verify` accepts it only when the value is unchanged but for white space, else raises
  VerificationError with a known reason.
Not a test: it prints counts and exits 1 on the first broken invariant.

    python benchmarks/fuzz_cloudfront_x509.py [CASES]      # default 100000 per mutation run, CASES // 10 vs botocore
"""

from __future__ import annotations

import random
import string
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # this checkout, and the tests' throwaway PKI

from botocore.signers import CloudFrontSigner  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding  # noqa: E402
from pki import pem, pki, public_pem, rsa_key  # noqa: E402

import sigv4  # noqa: E402
from sigv4 import VerificationError, cloudfront, x509  # noqa: E402

NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)
ALPHABET = string.ascii_letters + string.digits + "-_~.%&=?*/+:; ,\"{}"


def mutate(text: str, rng: random.Random) -> str:
    at = rng.randrange(len(text) + 1)
    piece = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 4)))
    kind = rng.randrange(3)
    if kind == 0:
        return text[:at] + piece + text[at + len(piece):]
    if kind == 1:
        return text[:at] + piece + text[at:]
    return text[:at] + text[at + rng.randint(1, 4):]


def cloudfront_botocore(cases: int, rng: random.Random) -> int:
    key = rsa_key(3)
    theirs = CloudFrontSigner("K2JCJMDEHXQW5F", lambda m: key.sign(m, padding.PKCS1v15(), hashes.SHA1()))
    for _ in range(cases):
        url = f"https://d{rng.randrange(10**6)}.cloudfront.net/" + "".join(
            rng.choice(string.ascii_letters + "/._-*") for _ in range(rng.randint(0, 20)))
        if rng.random() < 0.5:
            url += "?" + "&".join(f"k{i}=v{rng.randrange(99)}" for i in range(rng.randint(1, 3)))
        expires = NOW + timedelta(seconds=rng.randrange(1, 10**9))
        if rng.random() < 0.5:
            ours = cloudfront.sign_url(url, "K2JCJMDEHXQW5F", key, expires=expires)
            expected = theirs.generate_presigned_url(url, date_less_than=expires)
        else:
            starts = NOW - timedelta(seconds=rng.randrange(10**8)) if rng.random() < 0.5 else None
            ip = f"{rng.randrange(256)}.{rng.randrange(256)}.0.0/{rng.randint(8, 32)}" if rng.random() < 0.5 else None
            policy = theirs.build_policy(url, expires, date_greater_than=starts, ip_address=ip)
            if cloudfront.policy(url, expires, starts=starts, ip_address=ip) != policy:
                raise AssertionError(f"policy differs for {url}")
            ours, expected = cloudfront.sign_url(url, "K2JCJMDEHXQW5F", key, policy=policy), \
                theirs.generate_presigned_url(url, policy=policy)
        if ours != expected:
            raise AssertionError(f"URL differs:\n{ours}\n{expected}")
    return cases


def cloudfront_mutated(cases: int, rng: random.Random) -> dict[str, int]:
    key = rsa_key(3)
    public = {"K2JCJMDEHXQW5F": public_pem(key)}
    valid = [cloudfront.sign_url("https://d1.cloudfront.net/a/b.jpg?x=1", "K2JCJMDEHXQW5F", key,
                                 expires=NOW + timedelta(days=1)),
             cloudfront.sign_url("https://d1.cloudfront.net/a/b.jpg", "K2JCJMDEHXQW5F", key, hash_algorithm="SHA256",
                                 policy=cloudfront.policy("https://d1.cloudfront.net/a/*", NOW + timedelta(days=1),
                                                          ip_address="192.0.2.0/24"))]
    seen: dict[str, int] = {}
    for _ in range(cases):
        url = mutate(rng.choice(valid), rng)
        try:
            cloudfront.verify(url, public, NOW, client_ip="192.0.2.9")
            reason = "accepted"
        except VerificationError as err:
            if err.reason not in cloudfront.REASONS:
                raise AssertionError(f"unknown reason {err.reason!r} for {url}") from None
            reason = err.reason
        seen[reason] = seen.get(reason, 0) + 1
    return seen


def x509_mutated(cases: int, rng: random.Random) -> dict[str, int]:
    p = pki("ec")
    signer = x509.SigningCertificate(p.leaf, p.leaf_key, (p.intermediate,))
    good = x509.sign(x509.create_session_request(
        "https://rolesanywhere.eu-west-1.amazonaws.com", profile_arn="arn:aws:rolesanywhere:eu-west-1:1:profile/p",
        role_arn="arn:aws:iam::1:role/r", trust_anchor_arn="arn:aws:rolesanywhere:eu-west-1:1:trust-anchor/t"),
        signer, region="eu-west-1", timestamp=NOW).request
    seen: dict[str, int] = {}
    for _ in range(cases):
        name, value = rng.choice(good.headers)
        mangled = good.with_header(name, mutate(value, rng))
        try:
            x509.verify(mangled, NOW, trust_anchors=[p.root])
            # None of these values holds a space, and "Name=value, Name=value" may be written without one.
            if "".join((mangled.header(name) or "").split()) != "".join(value.split()):
                raise AssertionError(f"accepted a changed {name}: {mangled.header(name)!r}")
            reason = "accepted"
        except sigv4.InvalidHeaderError:
            reason = "refused by with_header"
        except VerificationError as err:
            if err.reason not in sigv4.REASONS and err.reason != x509.CERTIFICATE_REASON:
                raise AssertionError(f"unknown reason {err.reason!r}") from None
            reason = err.reason
        seen[reason] = seen.get(reason, 0) + 1
    return seen


def main() -> None:
    cases = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rng = random.Random(20261207)
    print(f"cloudfront-botocore: {cloudfront_botocore(cases // 10, rng)} URLs equal to botocore's")
    print(f"cloudfront-mutated: {cases} cases: {cloudfront_mutated(cases, rng)}")
    print(f"x509-mutated: {cases} cases: {x509_mutated(cases, rng)}")


if __name__ == "__main__":
    main()
