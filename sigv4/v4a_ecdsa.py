"""P-256 ECDSA-SHA256 for SigV4a: sign and verify DER signatures with awscrt's C when installed, else cryptography.

Strategy: an ECDSA sign or verify is most of what SigV4a costs, and awscrt's `EC` (aws-lc's P-256, the
`crt` extra, which botocore's SigV4a uses too) takes about 0.7x the time of `cryptography`'s for a sign and
0.8x for a verify (`benchmarks/bench_v4a_verify.py`). So a key pair is built with awscrt when it imports,
else with `cryptography`, which is always installed; `IMPLEMENTATION` names the one in use and
`IMPLEMENTATIONS` holds every one installed, so tests run each. Both take the message and hash it with
SHA-256 (awscrt is handed the digest), give DER signatures, and refuse the same signatures: strict DER
only (no trailing bytes, long-form lengths or padded integers), r and s in [1, n - 1], high s accepted;
a refusal is False, never an exception (`tests/test_v4a_ecdsa.py` holds them to it). awscrt reads keys
only as DER, so the key always comes from `cryptography` (which derives it from the scalar) and reaches
awscrt as SEC1 DER, once per key pair. awscrt has no RFC 6979 nonces: deterministic signing is
`cryptography`'s alone (`sign_deterministic`).
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Literal, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

Implementation = Literal["awscrt", "cryptography"]


def _load_crt() -> ModuleType | None:
    """`awscrt.crypto` when installed (the optional `crt` extra), else None."""
    try:
        return importlib.import_module("awscrt.crypto")
    except ImportError:
        return None


_CRT = _load_crt()
_RANDOM_NONCES = ec.ECDSA(hashes.SHA256())


class KeyPair(Protocol):
    """A P-256 key pair of one implementation: ECDSA over SHA-256 of the message, DER signatures."""

    def sign(self, message: bytes) -> bytes:
        """A DER signature of the message, with a random nonce."""
        ...

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True when `signature` (DER) is valid for the message; False for any other bytes."""
        ...


class CryptographyKeyPair:
    """The key pair over `cryptography` (OpenSSL)."""

    __slots__ = ("_private", "_public")

    def __init__(self, private: ec.EllipticCurvePrivateKey) -> None:
        self._private = private
        self._public = private.public_key()

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message, _RANDOM_NONCES)

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            self._public.verify(signature, message, _RANDOM_NONCES)
        except InvalidSignature:
            return False
        return True


class CrtKeyPair:
    """The key pair over awscrt's `EC` (aws-lc), built from the `cryptography` key it is given."""

    __slots__ = ("_key",)

    def __init__(self, private: ec.EllipticCurvePrivateKey) -> None:
        assert _CRT is not None, "CrtKeyPair is only offered when awscrt imports"
        sec1 = private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
                                     serialization.NoEncryption())
        self._key = _CRT.EC.new_key_from_der_data(sec1)

    def sign(self, message: bytes) -> bytes:
        signature: bytes = self._key.sign(hashlib.sha256(message).digest())
        return signature

    def verify(self, message: bytes, signature: bytes) -> bool:
        valid: bool = self._key.verify(hashlib.sha256(message).digest(), signature)
        return valid


#: Every implementation installed, by name: what builds its key pair from the derived private key.
IMPLEMENTATIONS: dict[Implementation, Callable[[ec.EllipticCurvePrivateKey], KeyPair]] = {
    "cryptography": CryptographyKeyPair, **({"awscrt": CrtKeyPair} if _CRT is not None else {})}
#: The implementation SigV4a signs and verifies with: the fastest installed.
IMPLEMENTATION: Implementation = "awscrt" if "awscrt" in IMPLEMENTATIONS else "cryptography"


def sign_deterministic(private: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
    """A DER signature of the message with an RFC 6979 nonce, so the same message gives the same signature.

    Raises cryptography's UnsupportedAlgorithm on a backend without RFC 6979 (random signing still works)."""
    return private.sign(message, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
