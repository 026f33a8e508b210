"""Sign a request.

Build a `sigv4.Request` (method, URL, headers, body), call `sigv4.sign` with
credentials, region, service and the signing time, and send
`result.request`: it is a signed copy carrying Host, X-Amz-Date and the
Authorization header. Nothing reads a clock or the environment: the time is
an argument, so the same input always gives the same signature. The result
keeps every intermediate (`canonical_request`, `string_to_sign`,
`credential_scope`, `signature`) for logging or comparison.

With `requests` or `httpx`, let the adapter do it on every request:

    session.auth = sigv4.integrations.requests.SigV4Auth(creds, region="us-east-1", service="dynamodb")

and with urllib3 or http.client, send `sigv4.integrations.headers_for(...)` as the headers: it returns
every header the request carries, signed.
"""

from datetime import datetime, timezone

import sigv4

creds = sigv4.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
request = sigv4.Request(
    "POST", "https://dynamodb.us-east-1.amazonaws.com/",
    [("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", "DynamoDB_20120810.ListTables")],
    b"{}",
)
result = sigv4.sign(request, creds, region="us-east-1", service="dynamodb",
                    timestamp=datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc))

print(result.canonical_request)
print(result.string_to_sign)
for name, value in result.request.headers:
    print(f"{name}: {value}")
assert result.signed_headers == ("content-type", "host", "x-amz-date", "x-amz-target")
assert result.request.header("authorization") == result.authorization
