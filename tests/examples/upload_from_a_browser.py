"""Upload from a browser: an S3 presigned POST form, and checking one on the server.

A browser cannot sign a request, so S3 lets it POST a form instead: your
server writes a policy (an expiry and conditions on the form fields), signs
the policy with your key, and hands the browser the form's URL and fields.
`sigv4.presign_post` builds exactly the form botocore's
`generate_presigned_post` builds; put the fields in a `<form method="post"
enctype="multipart/form-data">` before the `<input type="file" name="file">`,
or post them with any HTTP client (`sigv4 sign --presign-post` prints them).

A server that accepts such uploads itself (a test double of S3, a gateway)
checks the form with `sigv4.verify_post`: the signature over the policy, the
expiry, and every condition, each failure with a typed reason; a broken
condition is named in the error.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sigv4 import ConditionNotMetError, Credentials, VerificationError, presign_post, verify_post
from sigv4.post import content_length_range, starts_with

creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
now = datetime(2024, 3, 4, 5, 6, 7, tzinfo=timezone.utc)

# 1. The form: any key under uploads/ (the browser fills in ${filename}), images up to 10 MiB, 10 minutes.
post = presign_post(creds, bucket="photos", key="uploads/${filename}", region="eu-west-3", timestamp=now,
                    expires=600, conditions=[starts_with("Content-Type", "image/"), content_length_range(1, 10 << 20)],
                    fields={"Content-Type": "image/png"})
print("POST", post.url)
for name, value in post.fields:
    print(f"  {name} = {value[:60]}{'...' if len(value) > 60 else ''}")

# 2. What the browser sends back: the same fields, ${filename} replaced, then the file.
received = dict(post.fields, key="uploads/cat.png")
lookup = {creds.access_key_id: creds}.get
identity = verify_post(received, lookup, now=now + timedelta(minutes=1), bucket="photos", content_length=48_213)
print("accepted: signed by", identity.access_key_id, "until", identity.expires_at)

# 3. A form that breaks its policy, and one posted too late.
try:
    verify_post({**received, "Content-Type": "text/html"}, lookup, now=now, bucket="photos")
except ConditionNotMetError as err:
    print("refused:", err.reason, "-", err)
    assert err.condition is not None and err.condition.field == "Content-Type"
else:
    raise SystemExit("a text/html upload should have been refused")
try:
    verify_post(received, lookup, now=now + timedelta(minutes=11), bucket="photos")
except VerificationError as err:
    print("refused:", err.reason, "-", err)
    assert err.reason == "expired"
else:
    raise SystemExit("a late upload should have been refused")
