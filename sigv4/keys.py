"""SigV4 signing-key derivation: four chained HMAC-SHA256 steps.

Strategy: the derived key depends only on (secret, date, region, service), so
it is computed once per day and scope and kept in a bounded LRU cache; a
signer that serves many requests pays for one HMAC per request, not five.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from functools import lru_cache, partial
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


_BLOCK = 64  # SHA-256 block size: HMAC pads the key to it
_IPAD = bytes(0x36 for _ in range(_BLOCK))
_OPAD = bytes(0x5C for _ in range(_BLOCK))


@lru_cache(maxsize=512)
def _hmac_states(key: bytes) -> tuple[hashlib._Hash, hashlib._Hash]:
    block = (hashlib.sha256(key).digest() if len(key) > _BLOCK else key).ljust(_BLOCK, b"\0")
    inner = hashlib.sha256(bytes(a ^ b for a, b in zip(block, _IPAD)))
    outer = hashlib.sha256(bytes(a ^ b for a, b in zip(block, _OPAD)))
    return inner, outer


def signature_hex(key: bytes, string_to_sign: str) -> str:
    """Lowercase hex HMAC-SHA256 of a string-to-sign; equal to `hmac.new(key, text, sha256).hexdigest()`.

    The SHA-256 states after the padded key blocks are cached per key (RFC
    2104's precomputation), so one signature costs two hash copies rather than
    building an HMAC object: this is the per-chunk overhead of aws-chunked and
    event-stream signing, where every 64 KiB chunk carries a signature.
    """
    inner, outer = _hmac_states(key)
    return _signature_from_states(inner, outer, string_to_sign)


def hmac_signer(key: bytes) -> Callable[[str], str]:
    """`signature_hex` bound to one key, its pad states looked up once rather than per signature."""
    return partial(_signature_from_states, *_hmac_states(key))


def _signature_from_states(inner: hashlib._Hash, outer: hashlib._Hash, string_to_sign: str) -> str:
    inner, outer = inner.copy(), outer.copy()
    inner.update(string_to_sign.encode("utf-8"))
    outer.update(inner.digest())
    return outer.hexdigest()
