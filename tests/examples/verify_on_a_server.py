"""Verify on a server.

`sigv4.verify(request, lookup, now=...)` is the server side: it parses the
Authorization header or presigned query (or SigV2 parameters), checks the
credential scope and the clock skew, looks the key id up with your `lookup`
function, checks the session token, and recomputes the signature from the
request's own SignedHeaders list, comparing in constant time. It returns an
`Identity` (key id, scope, signed payload hash) or raises
`VerificationError` whose `.reason` is one word from `sigv4.REASONS`,
ready to map to your protocol's error.

Below, a tiny http.server verifies each request; a client signs with the
requests adapter, then sends one unsigned request.
"""

import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

import sigv4
from sigv4.integrations.requests import SigV4Auth

KEYS = {"AKIDEXAMPLE": sigv4.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        request = sigv4.Request(self.command, self.path, self.headers.items(), body)
        try:
            identity = sigv4.verify(request, KEYS.get, now=datetime.now(timezone.utc), expected_service="notes")
            status, reply = 200, {"hello": identity.access_key_id}
        except sigv4.VerificationError as err:
            status, reply = 403, {"reason": err.reason, "message": str(err)}
        data = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
url = f"http://127.0.0.1:{server.server_address[1]}/notes"

signed = requests.post(url, json={"text": "hi"}, auth=SigV4Auth(KEYS["AKIDEXAMPLE"], region="local", service="notes"))
print(signed.status_code, signed.json())
unsigned = requests.post(url, json={"text": "hi"})
print(unsigned.status_code, unsigned.json()["reason"])
server.shutdown()
assert signed.status_code == 200 and unsigned.json()["reason"] == "missing_auth"
