"""Regenerate tests/fixtures/websocket_js.jsonl: KVS signaling and AppSync real-time signatures, and event-stream
message signatures (the empty end frame among them), made by the JavaScript clients AWS ships (the suite cannot
run npm; it replays these).

    cd vectors/websocket_js && npm install --no-save amazon-kinesis-video-streams-webrtc@2.9.0 \\
        @aws-amplify/api-graphql@4.10.1 @smithy/signature-v4@5.7.5 @aws-crypto/sha256-js && python3 generate.py

Strategy: seeded random inputs (key ids, secrets, tokens with `/+=`, regions, channel ARNs, viewer client ids,
times) go to oracle.js as JSON lines; its answers are written beside them, one case a line.
"""

from __future__ import annotations

import json
import random
import string
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent.parent / "tests" / "fixtures" / "websocket_js.jsonl"
REGIONS = ["us-east-1", "us-west-2", "eu-central-1", "ap-southeast-2", "sa-east-1"]
NAME = string.ascii_letters + string.digits + "_.-"


def text(rng: random.Random, alphabet: str, low: int, high: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))


def case(rng: random.Random, index: int) -> dict[str, object]:
    region = rng.choice(REGIONS)
    common = {
        "preset": ("kinesisvideo", "appsync", "eventstream")[index % 3], "region": region,
        "key": "AKIA" + text(rng, string.ascii_uppercase + string.digits, 16, 16),
        "secret": text(rng, string.ascii_letters + string.digits + "/+", 40, 40),
        "token": text(rng, string.ascii_letters + string.digits + "/+=", 20, 80) if rng.random() < 0.6 else "",
        "time": f"20{rng.randint(15, 30)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
                f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z",
    }
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


def main() -> None:
    rng = random.Random(25)
    cases = "".join(json.dumps(case(rng, i)) + "\n" for i in range(60))
    answers = subprocess.run(["node", "oracle.js"], input=cases, capture_output=True, text=True, check=True, cwd=HERE)
    OUT.write_text(answers.stdout)
    print(f"{len(answers.stdout.splitlines())} cases -> {OUT}")


if __name__ == "__main__":
    main()
