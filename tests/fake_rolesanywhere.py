"""A loopback IAM Roles Anywhere endpoint: verifies CreateSession's X.509 signature and answers as AWS documents.

`POST /sessions` is rebuilt as a `sigv4.Request` from the bytes received and checked with `sigv4.x509.verify`
against the trust anchor's CA certificate; the ARNs are read from the JSON body or the query (the API takes
either), the profile must list the role, and the answer is 201 with one credential set
(`credentialSet[0].credentials`: accessKeyId, secretAccessKey, sessionToken, expiration; assumedRoleUser,
roleArn, sourceIdentity, subjectArn) whose keys are also put in `issued`, for a verifying server to accept.
A failure answers 403 `AccessDeniedException` (400 `ValidationException` for a bad body) with a `message`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from cryptography import x509 as cx509

import sigv4
from sigv4 import x509
from verifying_server import serve_http

ACCOUNT = "111122223333"
REGION = "eu-west-1"
TRUST_ANCHOR_ARN = f"arn:aws:rolesanywhere:{REGION}:{ACCOUNT}:trust-anchor/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"
PROFILE_ARN = f"arn:aws:rolesanywhere:{REGION}:{ACCOUNT}:profile/a1b2c3d4-5678-90ab-cdef-EXAMPLE22222"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/workload"


@dataclass
class FakeRolesAnywhere:
    url: str
    trust_anchor: cx509.Certificate
    #: Issued access key id -> credentials (share a verifying server's `keys` dict to have them accepted).
    issued: dict[str, sigv4.Credentials]
    clock: Callable[[], datetime]
    sessions: list[x509.X509Identity] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def _handler(fake: FakeRolesAnywhere) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _reply(self, status: int, record: dict[str, object]) -> None:
            data = json.dumps(record).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _deny(self, status: int, kind: str, message: str) -> None:
            fake.failures.append(message)
            self._reply(status, {"__type": kind, "message": message})

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path, _, query = self.path.partition("?")
            if path != "/sessions":
                self._deny(404, "ResourceNotFoundException", f"no operation at {path}")
                return
            request = sigv4.Request("POST", self.path, list(self.headers.items()), body)
            now = fake.clock()
            try:
                identity = x509.verify(request, now, trust_anchors=[fake.trust_anchor], regions={REGION})
            except sigv4.VerificationError as err:
                self._deny(403, "AccessDeniedException", f"{err.reason}: {err}")
                return
            try:
                params = {name: values[0] for name, values in parse_qs(query).items()}
                params.update(json.loads(body or b"{}"))
                duration = int(params.get("durationSeconds", 3600))
                arns = (params["trustAnchorArn"], params["profileArn"], params["roleArn"])
            except (ValueError, KeyError, TypeError):
                self._deny(400, "ValidationException", "body: JSON with trustAnchorArn, profileArn, roleArn")
                return
            if arns != (TRUST_ANCHOR_ARN, PROFILE_ARN, ROLE_ARN):
                self._deny(403, "AccessDeniedException", f"unknown trust anchor, profile or role: {arns}")
                return
            fake.sessions.append(identity)
            number = len(fake.sessions)
            creds = sigv4.Credentials(f"ASIAROLESANYWHERE{number:04d}", f"secret-{number}-{'x' * 30}",
                                      f"token-{number}-" + "t" * 200)
            fake.issued[creds.access_key_id] = creds
            expiration = (now + timedelta(seconds=duration)).strftime("%Y-%m-%dT%H:%M:%SZ")
            self._reply(201, {
                "credentialSet": [{
                    "assumedRoleUser": {"arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/workload/{identity.serial_number}",
                                        "assumedRoleId": f"AROAEXAMPLE:{identity.serial_number}"},
                    "credentials": {"accessKeyId": creds.access_key_id, "expiration": expiration,
                                    "secretAccessKey": creds.secret_access_key, "sessionToken": creds.session_token},
                    "packedPolicySize": 0, "roleArn": ROLE_ARN, "sourceIdentity": identity.subject,
                }],
                "subjectArn": f"arn:aws:rolesanywhere:{REGION}:{ACCOUNT}:subject/{identity.serial_number}",
            })

    return Handler


@contextmanager
def fake_rolesanywhere(trust_anchor: cx509.Certificate, issued: dict[str, sigv4.Credentials] | None = None,
                       clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> Iterator[FakeRolesAnywhere]:
    """Serve on 127.0.0.1 at a free port until the block ends."""
    fake = FakeRolesAnywhere("", trust_anchor, {} if issued is None else issued, clock)
    with serve_http(lambda url: _handler(fake)) as fake.url:
        yield fake
