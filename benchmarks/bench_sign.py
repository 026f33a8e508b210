"""SigV4 signing speed against botocore and awscrt, in one run.

Times `sigv4.sign()` and `sigv4.presign()` on the same small JSON POST as
botocore's `SigV4Auth.add_auth` / `SigV4QueryAuth` and awscrt's signer, mhart/aws4
(node) where node and `npm install --prefix benchmarks/node` are present, and the floor: the work no
signature can avoid in Python with a cached signing key (one SHA-256 of the canonical request, one HMAC of the
string-to-sign, their hex digests). The
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
import hmac
import io
import itertools
import json
import shutil
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's sigv4, not an installed one

import sigv4  # noqa: E402
from interleaved import best_us  # noqa: E402  (benchmarks/, beside this script)

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
KEY_ID, SECRET = "AKIDBENCHMARK", "benchmark-secret-not-a-real-key/0123456789"
URL = "https://dynamodb.us-east-1.amazonaws.com/"
# As an SDK sends it: a User-Agent (left unsigned, as by botocore) and a Content-Type.
HEADERS = [("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", "DynamoDB_20120810.GetItem"),
           ("User-Agent", "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.11.7 "
                          "md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.0")]
S3_URL = "https://examplebucket.s3.us-east-1.amazonaws.com/photos/2024/05/cat.jpg"
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
        # An S3 GET URL as `generate_presigned_url('get_object', ...)` makes it: a new request every call.
        "presign S3 GET": lambda: sigv4.presign(sigv4.Request("GET", S3_URL), creds, region="us-east-1", service="s3",
                                                s3=True, timestamp=NOW, expires=300).url,
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
    return {"sign": run(header_auth), "presign": run(query_auth), "presign S3 GET": s3_presigner()}


def s3_presigner() -> Callable[[], object]:
    """botocore's S3 client presigning a GET with static credentials, as users call it."""
    import botocore.session
    from botocore.config import Config
    client = botocore.session.get_session().create_client(
        "s3", region_name="us-east-1", aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET,
        config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}))
    bucket, _, key = S3_URL.removeprefix("https://").partition("/")
    return lambda: client.generate_presigned_url("get_object", Params={"Bucket": bucket.partition(".")[0], "Key": key},
                                                 ExpiresIn=300)


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


def floor_calls() -> Calls:
    """The unavoidable part of one signature: hash the canonical request, HMAC the string-to-sign, hex both."""
    creds = sigv4.Credentials(KEY_ID, SECRET)
    result = sigv4.sign(sigv4.Request("POST", URL, HEADERS, BODY), creds, region="us-east-1", service="dynamodb",
                        timestamp=NOW)
    canonical = result.canonical_request.encode()
    prefix = result.string_to_sign.rpartition("\n")[0] + "\n"
    key = sigv4.keys.signing_key(SECRET, NOW.strftime("%Y%m%d"), "us-east-1", "dynamodb")

    def once() -> str:
        string_to_sign = prefix + hashlib.sha256(canonical).hexdigest()
        return hmac.digest(key, string_to_sign.encode(), "sha256").hex()
    assert once() == result.signature
    return {"sign": once}


AWS4_SCRIPT = Path(__file__).with_name("node") / "aws4_sign.js"


def aws4_calls(number: int) -> Calls | None:
    """mhart/aws4 in node: each call is one round of `number` signatures timed inside node (its start-up
    excluded), so it takes its turn among the Python rows; the value is µs per signature."""
    node = shutil.which("node")
    if node is None or not (AWS4_SCRIPT.parent / "node_modules" / "aws4").is_dir():
        return None
    message = json.dumps({"number": number, "url": URL, "headers": HEADERS, "body": BODY.decode(), "key_id": KEY_ID,
                          "secret": SECRET, "service": "dynamodb", "region": "us-east-1",
                          "date": NOW.strftime("%Y%m%dT%H%M%SZ")})

    def round_us() -> float:
        done = subprocess.run([node, str(AWS4_SCRIPT)], input=message, capture_output=True, text=True, check=True)
        return float(done.stdout)
    return {"sign": round_us}


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
    libraries = {"ours": ours(), "botocore": botocore_calls(), "awscrt": awscrt_calls(), "floor": floor_calls()}
    us = best_us({(lib, op): fn for lib, calls in libraries.items() if calls for op, fn in calls.items()}, number, rounds,
                 external={("aws4", "sign"): fn for fn in (aws4_calls(number) or {}).values()})
    print(f"best of {rounds} interleaved rounds of {number} calls")
    print(f"{'operation':<18}{'ours µs':>10}{'botocore µs':>14}{'ratio':>8}{'awscrt µs':>12}{'ratio':>8}")
    for op in ("sign", "sign, new request", "sign, new second", "sign, new header", "presign", "presign S3 GET"):
        base = op.split(",")[0] if op.startswith("sign") else op
        mine = us["ours", op]
        row = f"{op:<18}{mine:>10.1f}"
        for lib in ("botocore", "awscrt"):
            theirs = us.get((lib, base))
            row += f"{theirs:>14.1f}{mine / theirs:>8.2f}" if theirs else f"{'n/a':>14}{'':>8}"
        print(row)
    floor = us["floor", "sign"]
    print(f"{'floor':<18}{floor:>10.1f}   new request / floor {us['ours', 'sign, new request'] / floor:.2f}")
    if ("aws4", "sign") in us:
        print(f"{'aws4 (node)':<18}{us['aws4', 'sign']:>10.1f}   new request / aws4 "
              f"{us['ours', 'sign, new request'] / us['aws4', 'sign']:.2f}")
    else:
        print("aws4 (node): not run (needs node and `npm install --prefix benchmarks/node`)")
    print(f"{'verify':<18}{us['ours', 'verify']:>10.1f}   ratio to our sign {us['ours', 'verify'] / us['ours', 'sign']:.2f}")
    print("targets: new request <= 1.5x the floor (about 0.10x botocore, 0.30x awscrt); presign S3 GET <= 0.08x "
          "botocore; verify <= 1.3x sign")
    for size in ((8 << 20, 64 << 20) if not quick else (8 << 20,)):
        streamed_hashing(size)


if __name__ == "__main__":
    main()
