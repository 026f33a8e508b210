"""Call an operation on the local endpoint.

`wire.api.serialize(model, operation, params, endpoint=...)` encodes the
parameters for the service's protocol and returns a `sigv4.Request`; sign
it, send it, and `wire.api.parse_response(model, operation, status,
headers, body)` returns the output as a dict, or raises `ServiceError`.
`wire.model.load_model("account")` is the shipped AWS Account Management
model.

Run the local endpoint with `python cli.py serve` (or `sigv4 serve`): it
prints its URL and the example identity it accepts. This script starts it
on a free port with in-memory state and calls ListRegions, signed through
`headers_for` and sent with urllib3.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

import urllib3

import sigv4
from sigv4.integrations import headers_for
from wire.api import parse_response, serialize
from wire.model import load_model

ROOT = Path(__file__).resolve().parents[2]
CREDS = sigv4.Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")  # the example identity

with tempfile.TemporaryDirectory() as state:
    server = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "serve", "--port", "0", "--state", ":memory:",
                               "--log", str(Path(state) / "trail.jsonl")], stdout=subprocess.PIPE, text=True)
    try:
        first = server.stdout.readline() if server.stdout else ""
        endpoint = first.rsplit(" on ", 1)[1].strip()
        model = load_model("account")
        request = serialize(model, "ListRegions", {"MaxResults": 5}, endpoint=endpoint)
        headers = headers_for(request.method, request.url, request.headers, request.body, CREDS,
                              region="us-east-1", service="account")
        response = urllib3.request(request.method, request.url, body=request.body, headers=headers)
        output = parse_response(model, "ListRegions", response.status, list(response.headers.items()), response.data)
        print([region["RegionName"] for region in output["Regions"]])
        assert len(output["Regions"]) == 5
    finally:
        server.terminate()
        server.wait(timeout=10)
