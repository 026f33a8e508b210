"""The oracles' glue shared by tests/test_tokens_oracles.py and benchmarks/fuzz_tokens.py.

pymongo-auth-aws leaves BSON to its caller: `mongodb_context` injects it as
pymongo itself does (pymongo/synchronous/auth_aws.py). SES SMTP has no
package: `documented_smtp_password` is the algorithm of AWS's
smtp_credentials_generate.py (the Amazon SES developer guide), transcribed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any


def mongodb_context(access_key_id: str, secret: str, token: str | None) -> Any:
    """pymongo-auth-aws's SASL context for these credentials, with pymongo's BSON (imported here: a test extra)."""
    import bson
    import pymongo_auth_aws

    class Context(pymongo_auth_aws.AwsSaslContext):  # type: ignore[misc]
        def binary_type(self) -> type[bson.binary.Binary]:
            return bson.binary.Binary

        def bson_encode(self, doc: Any) -> bytes:
            return bson.encode(doc)

        def bson_decode(self, data: Any) -> Any:
            return bson.decode(data)

    return Context(pymongo_auth_aws.AwsCredential(access_key_id, secret, token))


def mongodb_final_payload(context: Any, server_half: bytes, host: str) -> tuple[bytes, bytes]:
    """(the server nonce, the client's final payload) after one client-first step with `context`."""
    nonce = context.bson_decode(context.step(None))["r"] + server_half
    final = context.step(context.bson_encode({"s": context.binary_type()(nonce), "h": host}))
    return nonce, bytes(final)


def documented_smtp_password(secret: str, region: str) -> str:
    """`calculate_key` from smtp_credentials_generate.py in the Amazon SES developer guide."""
    signature = hmac.new(("AWS4" + secret).encode("utf-8"), b"11111111", hashlib.sha256).digest()
    for part in (region, "ses", "aws4_request", "SendRawEmail"):
        signature = hmac.new(signature, part.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(bytes([0x04]) + signature).decode("utf-8")
