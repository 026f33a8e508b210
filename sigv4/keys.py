"""SigV4 signing-key derivation: four chained HMAC-SHA256 steps.

Strategy: the derived key depends only on (secret, date, region, service), so
it is computed once per day and scope and kept in a bounded LRU cache; a
signer that serves many requests pays for one HMAC per request, not five.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from typing import NamedTuple


def hmac_sha256(key: bytes, message: str | bytes) -> bytes:
    data = message.encode("utf-8") if isinstance(message, str) else message
    return hmac.new(key, data, hashlib.sha256).digest()


class KeyDerivation(NamedTuple):
    """Every intermediate of the derivation, for `--explain` (never printed with the secret)."""

    date_key: bytes
    region_key: bytes
    service_key: bytes
    signing_key: bytes


def derive_steps(secret: str, date: str, region: str, service: str) -> KeyDerivation:
    """kDate = HMAC("AWS4"+secret, date); kRegion; kService; kSigning = HMAC(kService, "aws4_request")."""
    date_key = hmac_sha256(("AWS4" + secret).encode("utf-8"), date)
    region_key = hmac_sha256(date_key, region)
    service_key = hmac_sha256(region_key, service)
    return KeyDerivation(date_key, region_key, service_key, hmac_sha256(service_key, "aws4_request"))


@lru_cache(maxsize=512)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """The SigV4 signing key for one credential scope (cached, bounded)."""
    return derive_steps(secret, date, region, service).signing_key
