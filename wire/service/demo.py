"""`sigv4 demo`: the local Account endpoint in-process, and signed calls to it, each signature explained.

An edge module (a server on a loopback port, a scratch directory; `tests/test_purity.py` lists it). It uses
the example identity, whose published key pair is printed on purpose: it signs nothing outside this process.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sigv4
import wire
from sigv4.explain import explain
from wire.export import body_text
from wire.service.app import build_app, load_accounts
from wire.service.identities import DEFAULT_ACCOUNTS
from wire.transport.client import Connection, TransportOptions
from wire.transport.server import LocalServer

#: The calls the demo makes, in order: (operation, parameters).
DEMO_CALLS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("PutAlternateContact", {"AlternateContactType": "SECURITY", "Name": "Ana Lima", "Title": "CISO",
                             "EmailAddress": "security@example.com", "PhoneNumber": "+1 555 0100"}),
    ("GetAlternateContact", {"AlternateContactType": "SECURITY"}),
    ("ListRegions", {"MaxResults": 5, "RegionOptStatusContains": ["ENABLED_BY_DEFAULT"]}),
)


def run_demo(out: Callable[[str], None]) -> None:
    """Start the endpoint (state in memory, trail in a scratch directory), make `DEMO_CALLS`, print each step."""
    default = DEFAULT_ACCOUNTS["accounts"][0]
    creds = sigv4.Credentials(default["access_key_id"], default["secret_access_key"])
    region, service = "us-east-1", "account"
    with tempfile.TemporaryDirectory(prefix="sigv4-demo-") as scratch:
        trail = Path(scratch) / "trail.jsonl"
        app = build_app(load_accounts(None), ":memory:", trail, 60, out)
        with LocalServer(app) as server:
            out(f"Local AWS Account Management endpoint on {server.url} (in-process, loopback only, "
                f"example credentials {creds.access_key_id})")
            # No proxy settings: the demo never leaves the loopback interface.
            connection = Connection("http", f"{server.host}:{server.port}", TransportOptions(), {})
            try:
                for number, (operation, params) in enumerate(DEMO_CALLS, 1):
                    request = wire.serialize(app.endpoint.model, operation, params, endpoint=server.url)
                    result = sigv4.sign(request, creds, region=region, service=service,
                                        timestamp=datetime.now(timezone.utc))
                    out(f"\n=== {number}. {operation} {json.dumps(params)}")
                    out(explain(result, creds, region, service))
                    exchange = connection.request(result.request)
                    out(f"\n<- HTTP {exchange.status} {exchange.reason}")
                    out(body_text(exchange.body) or "(empty body)")
            finally:
                connection.close()
        records = trail.read_text(encoding="utf-8").splitlines()
        app.close()
    events = ", ".join(json.loads(r)["eventName"] for r in records)
    out(f"\n{len(records)} CloudTrail records written; events: {events}")
