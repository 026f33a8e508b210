"""Presign a URL.

`sigv4.presign` puts the signature into the URL's query (X-Amz-Algorithm,
X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders,
X-Amz-Signature), so anyone holding the URL can make that one request until
it expires (`expires` seconds, at most 7 days). With `s3=True` the payload
is UNSIGNED-PAYLOAD and the path is neither normalized nor double-encoded,
as S3 requires. SigV4a presigning (`algorithm="v4a"`) adds X-Amz-Region-Set.

The receiving side checks it with `sigv4.verify`, shown here with the
server's clock at two moments.
"""

from datetime import datetime, timedelta, timezone

import sigv4

creds = sigv4.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
signed_at = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
result = sigv4.presign(sigv4.Request("GET", "https://examplebucket.s3.amazonaws.com/photos/cat%201.jpg"), creds,
                       region="us-east-1", service="s3", timestamp=signed_at, expires=600, s3=True)
print(result.url)

lookup = {creds.access_key_id: creds}.get
identity = sigv4.verify(result.request, lookup, now=signed_at + timedelta(minutes=5), s3=True)
print("accepted:", identity.access_key_id, identity.credential_scope)
try:
    sigv4.verify(result.request, lookup, now=signed_at + timedelta(minutes=11), s3=True)
except sigv4.VerificationError as err:
    print("refused:", err.reason)
    assert err.reason == "expired"
