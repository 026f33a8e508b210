"""The `SignatureDoesNotMatch` debugger: why a server refused a signed request.

Strategy: a capture (raw HTTP, curl -v/--trace, HAR, aws --debug, a `send`
record) is read into a request and the server's answer (`capture`); the answer,
in whatever envelope it came, is read into facts (`complaint`); the request's
own declarations are read (`signature_params`); the canonical request is
rebuilt (`recompute`), compared with the server's, and known signer mistakes
are searched for one that reproduces the server's strings or the sent
signature (`mistakes`); each source of evidence gives its causes
(`complaint_rules`, `server_strings`, `secret_proof`, `logged_strings`,
`request_checks`, `likely_causes`), which `diagnose` ranks into a
`diagnosis` and `diagnosis_text` renders. `skew` reads the server's clock from a skew
error for the clients that retry. Pure: values in, values out. It reads
`sigv4` and `wire`; only the CLI, the proxy, the endpoint and the retrying
clients read it.
"""
