"""A throwaway PKI for the X.509 (Roles Anywhere) and CloudFront tests: a CA, an intermediate, end-entity certificates.

Keys are generated once per process (RSA generation costs); certificates are valid 2020..2040 so that the fixed
signing times of the differential tests fall inside them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

NOT_BEFORE = datetime(2020, 1, 1, tzinfo=timezone.utc)
NOT_AFTER = datetime(2040, 1, 1, tzinfo=timezone.utc)


@lru_cache(maxsize=None)
def rsa_key(index: int = 0) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@lru_cache(maxsize=None)
def ec_key(index: int = 0) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def certificate(subject: str, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, *, issuer: x509.Certificate | None = None,
                issuer_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = None, serial: int = 1,
                ca: bool = False, not_before: datetime = NOT_BEFORE, not_after: datetime = NOT_AFTER) -> x509.Certificate:
    """`subject`'s certificate for `key`, issued by `issuer` (self-signed when None), SHA-256."""
    builder = (x509.CertificateBuilder().subject_name(_name(subject))
               .issuer_name(issuer.subject if issuer else _name(subject)).public_key(key.public_key())
               .serial_number(serial).not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    return builder.sign(issuer_key or key, hashes.SHA256())


def pem(item: x509.Certificate | rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    if isinstance(item, x509.Certificate):
        return item.public_bytes(serialization.Encoding.PEM)
    return item.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@dataclass(frozen=True)
class Pki:
    """A root CA (the trust anchor), an intermediate it issued, and an end entity the intermediate issued."""

    root: x509.Certificate
    intermediate: x509.Certificate
    leaf: x509.Certificate
    leaf_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@lru_cache(maxsize=None)
def pki(kind: str = "rsa", serial: int = 0x1F2E3D4C5B6A79881726354453627181) -> Pki:
    """A three-level PKI whose end-entity key is `kind` ("rsa" or "ec")."""
    root_key, intermediate_key = rsa_key(1), ec_key(1)
    root = certificate("Test Root CA", root_key, ca=True, serial=10)
    intermediate = certificate("Test Intermediate CA", intermediate_key, issuer=root, issuer_key=root_key, ca=True,
                               serial=11)
    leaf_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = rsa_key(2) if kind == "rsa" else ec_key(2)
    leaf = certificate(f"workload-{kind}.example.com", leaf_key, issuer=intermediate, issuer_key=intermediate_key,
                       serial=serial)
    return Pki(root, intermediate, leaf, leaf_key)
