"""SigV4 signing speed against botocore and awscrt, in one run.

Times `sigv4.sign()` and `sigv4.presign()` on the same small JSON POST as
botocore's `SigV4Auth.add_auth` / `SigV4QueryAuth` and awscrt's signer (the
"new request" row builds our `Request` inside the timed call, as botocore and
awscrt build theirs), `sigv4.verify()` of that request against our `sign()`, and
hashing a 64 MiB streamed body against plain hashlib.sha256. Prints
microseconds per request, ratios (ours / theirs; lower is better) and peak
memory. Each figure is the best of many rounds in which the libraries take
turns, so that the noise of a shared machine does not tilt the ratios.
Not a test: no assertions on time.

    python benchmarks/bench_sign.py [--quick]
"""

from __future__ import annotations

import hashlib
import io
import itertools
import sys
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import sigv4
from interleaved import best_us  # benchmarks/, beside this script

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
KEY_ID, SECRET = "AKIDBENCHMARK", "benchmark-secret-not-a-real-key/0123456789"
URL = "https://dynamodb.us-east-1.amazonaws.com/"
HEADERS = [("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", "DynamoDB_20120810.GetItem")]
BODY = b'{"TableName":"Music","Key":{"Artist":{"S":"No One You Know"},"SongTitle":{"S":"Call Me Today"}}}'


Calls = dict[str, Callable[[], object]]


def ours() -> Calls:
    creds = sigv4.Credentials(KEY_ID, SECRET)
    req = sigv4.Request("POST", URL, HEADERS, BODY)
    # The date string is cached per second: this row misses it every call.
    seconds = itertools.cycle([NOW + timedelta(seconds=i) for i in range(100_000)])
    # Header work is planned per request shape (sigv4.plan): a header whose value changes every call makes
    # every request a shape of its own, signed without a plan; this row shows that cost.
    one_offs = itertools.cycle([sigv4.Request("POST", URL, [*HEADERS, ("X-Request-Id", str(i))], BODY)
                                for i in range(100_000)])
    signed = sigv4.sign(req, creds, region="us-east-1", service="dynamodb", timestamp=NOW).request
    lookup = {KEY_ID: creds}.get
    return {
        # As clients do, and as the botocore and awscrt rows do: a new request object for every call.
        "sign, new request": lambda: sigv4.sign(sigv4.Request("POST", URL, HEADERS, BODY), creds, region="us-east-1",
                                                service="dynamodb", timestamp=NOW),
        "sign, new second": lambda: sigv4.sign(req, creds, region="us-east-1", service="dynamodb",
                                               timestamp=next(seconds)),
        "sign, new header": lambda: sigv4.sign(next(one_offs), creds, region="us-east-1", service="dynamodb",
                                               timestamp=NOW),
        "sign": lambda: sigv4.sign(req, creds, region="us-east-1", service="dynamodb", timestamp=NOW),
        "presign": lambda: sigv4.presign(req, creds, region="us-east-1", service="dynamodb", timestamp=NOW, expires=300),
        # The server side of "sign": the same request, as signed, checked against the same key.
        "verify": lambda: sigv4.verify(signed, lookup, now=NOW),
    }


def botocore_calls() -> Calls | None:
    try:
        from botocore.auth import SigV4Auth, SigV4QueryAuth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
    except ImportError:
        return None
    creds = Credentials(KEY_ID, SECRET)
    header_auth, query_auth = SigV4Auth(creds, "dynamodb", "us-east-1"), SigV4QueryAuth(creds, "dynamodb", "us-east-1", 300)

    def run(auth):
        return lambda: auth.add_auth(AWSRequest("POST", URL, dict(HEADERS), BODY))
    return {"sign": run(header_auth), "presign": run(query_auth)}


def awscrt_calls() -> Calls | None:
    try:
        from awscrt import auth, http
    except ImportError:
        return None
    provider = auth.AwsCredentialsProvider.new_static(KEY_ID, SECRET)

    def config(kind):
        return auth.AwsSigningConfig(
            algorithm=auth.AwsSigningAlgorithm.V4, signature_type=kind, credentials_provider=provider,
            region="us-east-1", service="dynamodb", date=NOW, expiration_in_seconds=300 if kind.name.startswith("HTTP_REQUEST_QUERY") else None)

    headers_cfg, query_cfg = config(auth.AwsSignatureType.HTTP_REQUEST_HEADERS), config(auth.AwsSignatureType.HTTP_REQUEST_QUERY_PARAMS)

    def run(cfg):
        def once():
            request = http.HttpRequest("POST", "/", http.HttpHeaders([("Host", "dynamodb.us-east-1.amazonaws.com"), *HEADERS]),
                                       io.BytesIO(BODY))
            auth.aws_sign_request(request, cfg).result()
        return once
    return {"sign": run(headers_cfg), "presign": run(query_cfg)}


def streamed_hashing(size: int) -> None:
    chunk = b"a" * (1 << 20)

    class Repeat(io.RawIOBase):
        def __init__(self) -> None:
            self.left = size
        def readable(self) -> bool:
            return True
        def readinto(self, buffer) -> int:
            n = min(len(buffer), self.left, len(chunk))
            buffer[:n] = chunk[:n]
            self.left -= n
            return n

    def plain() -> None:
        digest = hashlib.sha256()
        stream = Repeat()
        while data := stream.read(1 << 20):
            digest.update(data)

    tracemalloc.start()
    sigv4.payload_hash(Repeat())
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    best = best_us({("ours", ""): lambda: sigv4.payload_hash(Repeat()), ("hashlib", ""): plain}, 1, 5)
    ours_s, plain_s = best["ours", ""] / 1e6, best["hashlib", ""] / 1e6
    mib = size / (1 << 20)
    print(f"streamed sha256 of {mib:.0f} MiB: ours {mib / ours_s:7.0f} MiB/s, hashlib {mib / plain_s:7.0f} MiB/s, "
          f"ratio {ours_s / plain_s:.3f}x, peak traced memory {peak / 1024:.0f} KiB")


def main() -> None:
    quick = "--quick" in sys.argv
    number, rounds = (200, 5) if quick else (1000, 40)
    libraries = {"ours": ours(), "botocore": botocore_calls(), "awscrt": awscrt_calls()}
    us = best_us({(lib, op): fn for lib, calls in libraries.items() if calls for op, fn in calls.items()}, number, rounds)
    print(f"best of {rounds} interleaved rounds of {number} calls")
    print(f"{'operation':<18}{'ours µs':>10}{'botocore µs':>14}{'ratio':>8}{'awscrt µs':>12}{'ratio':>8}")
    for op in ("sign", "sign, new request", "sign, new second", "sign, new header", "presign"):
        base = op.split(",")[0]
        mine = us["ours", op]
        row = f"{op:<18}{mine:>10.1f}"
        for lib in ("botocore", "awscrt"):
            theirs = us.get((lib, base))
            row += f"{theirs:>14.1f}{mine / theirs:>8.2f}" if theirs else f"{'n/a':>14}{'':>8}"
        print(row)
    print(f"{'verify':<18}{us['ours', 'verify']:>10.1f}   ratio to our sign {us['ours', 'verify'] / us['ours', 'sign']:.2f}")
    print("targets: new request vs botocore <= 0.15, vs awscrt <= 0.45; verify <= 2x sign")
    for size in ((8 << 20, 64 << 20) if not quick else (8 << 20,)):
        streamed_hashing(size)


if __name__ == "__main__":
    main()
