"""Debug a signature mismatch.

When AWS answers SignatureDoesNotMatch, it usually says what it computed:
S3 returns its CanonicalRequest and StringToSign, other services the
string-to-sign or just a message. `wire.debugger.complaint.read_error(status,
headers, body)` reads any of those envelopes, and `wire.debugger.diagnose.diagnose(
sent, complaint)` rebuilds our canonical request from the request we sent
(no secret needed), diffs the two line by line and names the causes. When
the server gave only a string-to-sign, it searches known rule variants
(double encoding, path normalization, header values...) for the one whose
hash the server used; given the secret, it finds what the client signed.
Each cause has a `kind` from a fixed vocabulary and its `evidence`
("proved" or "likely"). `render_text` prints the report, tokens redacted.
The CLI does the same: `sigv4 diff SENT RESPONSE`, `sigv4 explain CAPTURE`.

Here a key containing a space is signed with the generic rules (paths
double-encoded) and sent to a server that, like S3, encodes once.
"""

from datetime import datetime, timezone
from xml.sax.saxutils import escape

import sigv4
from wire.debugger.complaint import read_error
from wire.debugger.diagnose import diagnose
from wire.debugger.diagnosis_text import render_text

creds = sigv4.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
when = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
sent = sigv4.sign(sigv4.Request("GET", "https://examplebucket.s3.amazonaws.com/my%20photo.jpg"), creds,
                  region="us-east-1", service="s3", timestamp=when, content_sha256_header=True).request

# The server side: S3 rules, and an S3-style error body when verification fails.
try:
    sigv4.verify(sent, {creds.access_key_id: creds}.get, now=when, s3=True)
    raise SystemExit("expected a mismatch")
except sigv4.VerificationError as err:
    body = (f"<Error><Code>SignatureDoesNotMatch</Code><Message>{escape(str(err))}</Message>"
            f"<StringToSign>{escape(err.string_to_sign or '')}</StringToSign>"
            f"<CanonicalRequest>{escape(err.canonical_request or '')}</CanonicalRequest></Error>").encode()

# Both sides agree on the server's rules; with the secret, the diagnosis finds what the client signed instead.
diagnosis = diagnose(sent, read_error(403, [("Content-Type", "application/xml")], body), secret=creds)
print(render_text(diagnosis))
first = diagnosis.causes[0]
assert (first.kind, first.evidence) == ("path-encoding", "proved"), diagnosis.causes
