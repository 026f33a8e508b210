"""Regenerate tests/fixtures/js_oracles.jsonl: KVS signaling and AppSync real-time signatures, and event-stream
message signatures (the empty end frame among them), made by the JavaScript clients AWS ships; and aws-c-auth's
verdict (through aws-crt) on our deterministic SigV4a seed signatures of aws-chunked uploads. The suite cannot
run npm; it replays these.

    cd vectors/js_oracles && npm install --no-save amazon-kinesis-video-streams-webrtc@2.9.0 \\
        @aws-amplify/api-graphql@4.10.1 @smithy/signature-v4@5.7.5 @aws-crypto/sha256-js aws-crt@1.33.2 \\
        && python3 generate.py

Strategy: seeded random inputs (key ids, secrets, tokens with `/+=`, regions, channel ARNs, viewer client ids,
times) go to oracle.js as JSON lines; its answers are written beside them, one case a line.
"""

from __future__ import annotations

import json
import random
import string
import subprocess
import sys
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))
from sigv4 import Credentials, Request, sign, v4a  # noqa: E402  (the repository's signer, for the SigV4a seeds)

OUT = HERE.parent.parent / "tests" / "fixtures" / "js_oracles.jsonl"
REGIONS = ["us-east-1", "us-west-2", "eu-central-1", "ap-southeast-2", "sa-east-1"]
NAME = string.ascii_letters + string.digits + "_.-"


def text(rng: random.Random, alphabet: str, low: int, high: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))


def case(rng: random.Random, index: int) -> dict[str, object]:
    region = rng.choice(REGIONS)
    common = {
        "preset": ("kinesisvideo", "appsync", "eventstream", "sigv4a-seed")[index % 4], "region": region,
        "key": "AKIA" + text(rng, string.ascii_uppercase + string.digits, 16, 16),
        "secret": text(rng, string.ascii_letters + string.digits + "/+", 40, 40),
        "token": text(rng, string.ascii_letters + string.digits + "/+=", 20, 80) if rng.random() < 0.6 else "",
        "time": f"20{rng.randint(15, 30)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
                f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z",
    }
    if common["preset"] == "sigv4a-seed":
        return sigv4a_seed(rng, common)
    if common["preset"] == "eventstream":  # a message's encoded bytes, or the empty end frame
        body = rng.randbytes(rng.randint(1, 300)) if rng.random() < 0.5 else b""
        return {**common, "prior": rng.randbytes(32).hex(), "body": body.hex()}
    if common["preset"] == "appsync":
        return {**common, "endpoint": text(rng, string.ascii_lowercase + string.digits, 26, 26)
                + f".appsync-api.{region}.amazonaws.com"}
    arn = (f"arn:aws:kinesisvideo:{region}:{rng.randint(10**11, 10**12 - 1)}:channel/"
           f"{text(rng, NAME, 1, 40)}/{rng.randint(10**12, 10**13 - 1)}")
    params = {"X-Amz-ChannelARN": arn}
    if rng.random() < 0.5:  # a viewer (ConnectAsViewer); a master sends no client id
        params["X-Amz-ClientId"] = text(rng, NAME, 1, 40)
    endpoint = f"wss://{text(rng, string.ascii_lowercase + string.digits, 8, 8)}.kinesisvideo.{region}.amazonaws.com"
    return {**common, "endpoint": endpoint, "params": params}


def sigv4a_seed(rng: random.Random, common: dict[str, object]) -> dict[str, object]:
    """An aws-chunked SigV4a upload signed by us (RFC 6979, so the suite can sign it again), as aws-crt is given it:
    the headers before signing added the date, region set and payload hash."""
    payload = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD" + rng.choice(["", "-TRAILER"])
    length = rng.randint(0, 300_000)
    headers = [("host", f"{text(rng, string.ascii_lowercase, 3, 12)}.s3.amazonaws.com"),
               ("x-amz-decoded-content-length", str(length))]
    if rng.random() < 0.5:
        headers.append(("x-amz-storage-class", rng.choice(["STANDARD", "REDUCED_REDUNDANCY"])))
    path = "/" + text(rng, string.ascii_letters + string.digits + "-_.", 1, 30)
    creds = Credentials(str(common["key"]), str(common["secret"]))
    region_set = rng.choice([str(common["region"]), "*", "us-east-1,us-west-2"])
    when = datetime.fromisoformat(str(common["time"]).replace("Z", "+00:00"))
    result = sign(Request("PUT", "https://" + headers[0][1] + path, headers, iter([])), creds, region=region_set,
                  service="s3", timestamp=when, algorithm="v4a", s3=True, deterministic=True, payload=payload,
                  chunk_size=(chunk_size := rng.choice([8192, 65536])),
                  trailer_checksum="crc32c" if payload.endswith("TRAILER") else None)
    x, y = v4a.public_key(creds)
    given = [(n, v) for n, v in result.request.headers
             if n.lower() not in {"authorization", "x-amz-date", "x-amz-region-set", "x-amz-content-sha256"}]
    return {**common, "token": "", "region": region_set, "method": "PUT", "path": path, "headers": given,
            "payload": payload, "chunk_size": chunk_size, "canonical": result.canonical_request,
            "signature": result.signature,
            "x": f"{x:064x}", "y": f"{y:064x}"}


def main() -> None:
    rng = random.Random(25)
    cases = "".join(json.dumps(case(rng, i)) + "\n" for i in range(80))
    answers = subprocess.run(["node", "oracle.js"], input=cases, capture_output=True, text=True, check=True, cwd=HERE)
    OUT.write_text(answers.stdout)
    print(f"{len(answers.stdout.splitlines())} cases -> {OUT}")


if __name__ == "__main__":
    main()
