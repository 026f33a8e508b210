"""`HTTPS_PROXY` mode: CONNECT to an AWS host name terminated here, with a certificate minted for that host.

Strategy: the proxy keeps a local certificate authority (an EC P-256 key and a
self-signed CA certificate, created with `cryptography` on first use in the
CA directory, the key readable by its owner only). Clients trust it through
`AWS_CA_BUNDLE` (its certificate's path is printed at start) and reach AWS
through `HTTPS_PROXY`: a `CONNECT host:443` for an AWS host name
(`wire.endpoints.is_aws_host`) is answered 200 and the connection's TLS is
terminated with a leaf certificate for that host, minted on first use and
kept in memory (a bounded cache of server contexts); the requests inside are
served like any other, their Host naming the AWS endpoint meant. Any other
host is refused: nothing is ever tunnelled blind. Certificates load through
a file (the `ssl` module reads none from memory): written to a temporary file
in the CA directory and removed once loaded.
"""

from __future__ import annotations

import datetime
import os
import ssl
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from wire.endpoints import is_aws_host

__all__ = ["CertificateAuthority", "connect_host"]

_CA_NAME = "sigv4 proxy local CA"
_CACHED_CONTEXTS = 256
_LEAF_DAYS = 30
_CA_DAYS = 3650


def connect_host(target: str) -> str | None:
    """The host name of a CONNECT `target` (`host:port`, port 443) when it is an AWS host; None otherwise."""
    host, _, port = target.rpartition(":")
    if port != "443" or not host or not is_aws_host(host):
        return None
    return host.lower()


class CertificateAuthority:
    """The local CA of `directory` (created there when missing): `certificate_path` is what clients trust;
    `wrap(sock, host)` terminates TLS on `sock` as `host`."""

    def __init__(self, directory: Path, now: Callable[[], datetime.datetime]) -> None:
        self.directory = directory
        self.certificate_path = directory / "ca.pem"
        self._now = now
        self._key, self._certificate = self._load_or_create()
        self._contexts: OrderedDict[str, ssl.SSLContext] = OrderedDict()
        self._lock = threading.Lock()

    def wrap(self, sock: Any, host: str, timeout: float) -> ssl.SSLSocket:
        """`sock` with TLS terminated as `host` (the handshake done, within `timeout` seconds); raises OSError
        (ssl.SSLError) when the client's handshake fails."""
        sock.settimeout(timeout)
        return self._context(host).wrap_socket(sock, server_side=True)

    def _context(self, host: str) -> ssl.SSLContext:
        with self._lock:
            context = self._contexts.get(host)
            if context is not None:
                self._contexts.move_to_end(host)
                return context
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        with tempfile.NamedTemporaryFile(dir=self.directory, suffix=".pem") as leaf:
            leaf.write(self._mint(host))
            leaf.flush()
            context.load_cert_chain(leaf.name)
        with self._lock:
            self._contexts[host] = context
            while len(self._contexts) > _CACHED_CONTEXTS:
                self._contexts.popitem(last=False)
        return context

    def _mint(self, host: str) -> bytes:
        """A leaf key and certificate for `host`, signed by the CA, as PEM (key first)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = self._now()
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
            .issuer_name(self._certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=_LEAF_DAYS))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                           critical=False)
            .sign(self._key, hashes.SHA256())
        )
        return (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
                + certificate.public_bytes(serialization.Encoding.PEM))

    def _load_or_create(self) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key_path = self.directory / "ca-key.pem"
        if key_path.exists() and self.certificate_path.exists():
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                raise ValueError(f"{key_path}: not an EC private key")
            return key, x509.load_pem_x509_certificate(self.certificate_path.read_bytes())
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, _CA_NAME)])
        now = self._now()
        certificate = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=_CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
        self.certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        return key, certificate
