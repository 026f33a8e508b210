"""IAM Roles Anywhere: requests signed with an X.509 certificate's private key, and their verification.

Strategy: "identical to SigV4, except the keys used, the signature algorithm
and the certificate headers" (the Roles Anywhere user guide). The request
gets `X-Amz-Date`, `X-Amz-X509` (the base64 DER certificate) and, with
intermediates, `X-Amz-X509-Chain` (their base64 DER, comma-separated); every
header but the usual unsigned ones is signed, with SigV4's canonical request
and four-line string-to-sign under `AWS4-X509-RSA-SHA256` (PKCS#1 v1.5) or
`AWS4-X509-ECDSA-SHA256` (DER ECDSA), both over SHA-256, hex in the
Authorization header, whose credential is the certificate's decimal serial
number. This is what the AWS signing helper (`aws_signing_helper`) and
`iam-rolesanywhere-session` do; `create_session_request` builds CreateSession
as the latter sends it (the ARNs in the JSON body, as AWS's examples do).

`verify` is the service's side: the signature must verify with the public
key of the certificate the request carries, the certificate must chain (through
`X-Amz-X509-Chain`) to a trust anchor and be valid at `now`, and the time and
scope must fit. Pure: keys, certificates, time in; nothing read or sent.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Union

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from .canonical import CanonicalRules
from .errors import InvalidParameterError, VerificationError
from .payload import resolve_payload
from .signer import SigningResult, amz_date, canonicalize, host_from_url, string_to_sign
from .types import Request

SERVICE = "rolesanywhere"
RSA_ALGORITHM = "AWS4-X509-RSA-SHA256"
ECDSA_ALGORITHM = "AWS4-X509-ECDSA-SHA256"
X509_HEADER, CHAIN_HEADER = "X-Amz-X509", "X-Amz-X509-Chain"
#: CreateSession's content type as iam-rolesanywhere-session sends it (the signing helper's SDK: application/json).
CONTENT_TYPE = "application/x-amz-json-1.0"
MIN_DURATION, MAX_DURATION = 900, 43200
#: Roles Anywhere, like SigV4, accepts a request time this far from its clock.
MAX_SKEW = timedelta(minutes=15)
#: Intermediates a verifier follows (Roles Anywhere chains are a CA or two deep).
MAX_CHAIN = 8

#: The `.reason` vocabulary of a failed `verify`, beyond `sigv4.verify.REASONS` (`missing_auth`,
#: `malformed_auth`, `scope`, `skew`, `missing_signed_header`, `unsigned_header`, `signature_mismatch`).
CERTIFICATE_REASON = "certificate"

PrivateKey = Union[rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey]
_AUTHORIZATION = re.compile(r"(AWS4-X509-(?:RSA|ECDSA)-SHA256) Credential=(\d+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/"
                            r"aws4_request, ?SignedHeaders=([a-z0-9;!#$%&'*+.^_`|~-]+), ?Signature=([0-9a-f]+)\Z")
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
#: Headers the signature must cover: without them a request could be replayed with another certificate or time.
_REQUIRED_SIGNED = ("host", "x-amz-date", "x-amz-x509")


def _pem_certificates(data: bytes, field: str) -> list[x509.Certificate]:
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise InvalidParameterError(f"{field}: not PEM certificates (-----BEGIN CERTIFICATE-----)") from None
    return certificates


@dataclass(frozen=True, slots=True)
class SigningCertificate:
    """The end-entity certificate, its private key (RSA or EC) and the intermediates sent with it."""

    certificate: x509.Certificate
    private_key: PrivateKey = field(repr=False)
    chain: tuple[x509.Certificate, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.private_key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
            raise InvalidParameterError("private_key: Roles Anywhere signs with RSA or EC keys only")
        spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        if self.private_key.public_key().public_bytes(*spki) != self.certificate.public_key().public_bytes(*spki):
            raise InvalidParameterError("private_key: it is not the key of the certificate (public keys differ)")

    @classmethod
    def from_pem(cls, certificate: bytes, private_key: bytes, chain: bytes | None = None,
                 passphrase: bytes | None = None) -> SigningCertificate:
        """Load PEM data: the certificate (the first of the file), the private key (PKCS#1, SEC 1 or PKCS#8,
        encrypted with `passphrase`), the intermediates bundle. Raises InvalidParameterError naming the part."""
        leaf = _pem_certificates(certificate, "certificate")[0]
        try:
            key = serialization.load_pem_private_key(private_key, password=passphrase)
        except (ValueError, TypeError, UnsupportedAlgorithm) as err:
            raise InvalidParameterError(f"private_key: unusable ({str(err).split('.')[0] or 'not a PEM key'})") \
                from None
        return cls(leaf, key, tuple(_pem_certificates(chain, "intermediates")) if chain else ())  # type: ignore[arg-type]

    @property
    def algorithm(self) -> str:
        """AWS4-X509-RSA-SHA256 or AWS4-X509-ECDSA-SHA256, by the key's type."""
        return RSA_ALGORITHM if isinstance(self.private_key, rsa.RSAPrivateKey) else ECDSA_ALGORITHM

    @property
    def serial_number(self) -> str:
        """The certificate's serial number in decimal: the Authorization header's credential."""
        return str(self.certificate.serial_number)

    def sign_bytes(self, data: bytes) -> bytes:
        """The signature of `data` (SHA-256; ECDSA as DER); ECDSA signatures differ on every call."""
        if isinstance(self.private_key, rsa.RSAPrivateKey):
            return self.private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return self.private_key.sign(data, ec.ECDSA(hashes.SHA256()))


def der_base64(certificate: x509.Certificate) -> str:
    """The certificate as X-Amz-X509 carries it: base64 of its DER bytes."""
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode("ascii")


def create_session_request(endpoint: str, *, profile_arn: str, role_arn: str, trust_anchor_arn: str,
                           duration_seconds: int = 3600, role_session_name: str | None = None) -> Request:
    """An unsigned CreateSession request to `endpoint` (scheme://host[:port]), as iam-rolesanywhere-session
    writes it: POST /sessions, the JSON body with durationSeconds and the three ARNs.

    Raises InvalidParameterError for a duration outside 900..43200 s or an empty ARN.
    """
    if not MIN_DURATION <= duration_seconds <= MAX_DURATION:
        raise InvalidParameterError(f"duration_seconds: {duration_seconds} is not {MIN_DURATION}..{MAX_DURATION}")
    for name, value in (("profile_arn", profile_arn), ("role_arn", role_arn), ("trust_anchor_arn", trust_anchor_arn)):
        if not value.startswith("arn:"):
            raise InvalidParameterError(f"{name}: {value!r} is not an ARN (arn:partition:service:...)")
    body: dict[str, object] = {"durationSeconds": duration_seconds, "profileArn": profile_arn, "roleArn": role_arn,
                               "trustAnchorArn": trust_anchor_arn}
    if role_session_name is not None:
        body["roleSessionName"] = role_session_name
    request = Request("POST", endpoint.rstrip("/") + "/sessions", (), json.dumps(body).encode("utf-8"))
    return request.edit_headers((("Host", host_from_url(request)), ("Content-Type", CONTENT_TYPE)))


def sign(request: Request, signer: SigningCertificate, *, region: str, timestamp: datetime,
         service: str = SERVICE) -> SigningResult:
    """Sign `request` with the certificate's key; return the signed copy and every intermediate.

    Host (from the URL when absent), X-Amz-Date, X-Amz-X509 and X-Amz-X509-Chain (when there are
    intermediates) are set and signed with every other header but the usual unsigned ones; a stale
    Authorization is replaced. Raises a SigningError subclass for unusable input (naive time, bad header).
    """
    when = amz_date(timestamp)
    if not region or not service or "/" in region + service:
        raise InvalidParameterError("region, service: must be non-empty and without '/'")
    sets = [("X-Amz-Date", when), (X509_HEADER, der_base64(signer.certificate))]
    if signer.chain:
        sets.append((CHAIN_HEADER, ",".join(der_base64(cert) for cert in signer.chain)))
    if request.header("host") is None:
        sets.insert(0, ("Host", host_from_url(request)))
    prepared = request.edit_headers(sets, ("authorization",))
    canonical = canonicalize(prepared, CanonicalRules(), resolve_payload(prepared.body, None))
    scope = f"{when[:8]}/{region}/{service}/aws4_request"
    to_sign = string_to_sign(signer.algorithm, when, scope, canonical)
    signature = signer.sign_bytes(to_sign.encode("utf-8")).hex()
    authorization = (f"{signer.algorithm} Credential={signer.serial_number}/{scope}, "
                     f"SignedHeaders={canonical.signed_headers}, Signature={signature}")
    return SigningResult(prepared.with_header("Authorization", authorization), signer.algorithm, when, scope,
                         canonical, to_sign, signature, authorization)


# -- verification -----------------------------------------------------------

@dataclass(frozen=True, slots=True)
class X509Identity:
    """A verified request: the certificate that signed it (chained to `trust_anchor`) and its scope."""

    algorithm: str
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    trust_anchor: x509.Certificate | None  # None when verify was given no trust anchors
    region: str
    service: str
    signing_time: datetime
    signed_headers: tuple[str, ...]

    @property
    def serial_number(self) -> str:
        return str(self.certificate.serial_number)

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()


def _fail(reason: str, message: str) -> VerificationError:
    return VerificationError(reason, message)


def _header_certificates(value: str, where: str) -> list[x509.Certificate]:
    try:
        certificates = [x509.load_der_x509_certificate(base64.b64decode(part.strip(), validate=True))
                        for part in value.split(",")]
        for certificate in certificates:  # parsed lazily: reach every part verification reads, here
            certificate.public_key(), certificate.serial_number, certificate.not_valid_after_utc
            certificate.subject.rfc4514_string(), certificate.issuer.rfc4514_string()
    # The boundary where peer bytes meet the DER parser, whose errors for garbage are many types (ValueError,
    # KeyError, InvalidVersion, UnsupportedAlgorithm, ...) and all mean the same: not a certificate.
    except Exception:
        raise _fail("malformed_auth", f"{where}: not base64 DER certificate(s), comma-separated") from None
    return certificates


def _check_public_key_signature(certificate: x509.Certificate, algorithm: str, signature: str, data: bytes) -> None:
    key = certificate.public_key()
    try:
        raw = bytes.fromhex(signature)
        if algorithm == RSA_ALGORITHM and isinstance(key, rsa.RSAPublicKey):
            key.verify(raw, data, padding.PKCS1v15(), hashes.SHA256())
        elif algorithm == ECDSA_ALGORITHM and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(raw, data, ec.ECDSA(hashes.SHA256()))
        else:
            raise _fail("malformed_auth", f"Authorization: {algorithm} does not fit the certificate's "
                                          f"{type(key).__name__.removeprefix('_')} key")
    except (InvalidSignature, ValueError):
        raise _fail("signature_mismatch", "Signature: does not verify with the public key of the X-Amz-X509 "
                                          "certificate") from None


def _valid_at(certificate: x509.Certificate, now: datetime, what: str) -> None:
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise _fail(CERTIFICATE_REASON, f"{what} {certificate.subject.rfc4514_string()}: valid "
                    f"{certificate.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ} to "
                    f"{certificate.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}, not at {now:%Y-%m-%dT%H:%M:%SZ}")


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
        return True
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False


def _chain_to_anchor(leaf: x509.Certificate, chain: Sequence[x509.Certificate],
                     anchors: Sequence[x509.Certificate], now: datetime) -> x509.Certificate:
    """The trust anchor `leaf` chains to through `chain`; raises VerificationError (`certificate`)."""
    current, unused = leaf, list(chain)
    for _ in range(len(chain) + 1):
        anchor = next((a for a in anchors if _issued_by(current, a)), None)
        if anchor is not None:
            _valid_at(anchor, now, "trust anchor")
            return anchor
        issuer = next((c for c in unused if _issued_by(current, c)), None)
        if issuer is None:
            break
        _valid_at(issuer, now, "intermediate certificate")
        unused.remove(issuer)
        current = issuer
    raise _fail(CERTIFICATE_REASON, f"certificate {leaf.subject.rfc4514_string()}: no chain to a trust anchor "
                                    f"(issuer {current.issuer.rfc4514_string()})")


def verify(request: Request, now: datetime, *, trust_anchors: Sequence[x509.Certificate],
           service: str = SERVICE, regions: Collection[str] | None = None,
           max_skew: timedelta = MAX_SKEW) -> X509Identity:
    """Verify a request signed with an X.509 certificate, as Roles Anywhere does.

    The signature must verify with the key of the X-Amz-X509 certificate, whose serial number the
    Authorization credential names; the certificate must be valid at `now` and chain through
    X-Amz-X509-Chain to one of `trust_anchors` (an empty sequence skips that check: any certificate
    is taken); the scope must name `service` (and one of `regions`, when given) and the request
    time be within `max_skew` of `now`. Raises VerificationError (`.reason`: see CERTIFICATE_REASON).
    """
    header = request.header("authorization")
    if header is None:
        raise _fail("missing_auth", "Authorization header: missing")
    match = _AUTHORIZATION.match(header.strip())
    if match is None:
        raise _fail("malformed_auth", "Authorization header: not 'AWS4-X509-(RSA|ECDSA)-SHA256 Credential=<serial>/"
                                      "<date>/<region>/<service>/aws4_request, SignedHeaders=..., Signature=<hex>'")
    algorithm, serial, date, region, scope_service, names, signature = match.groups()
    signed = tuple(names.split(";"))
    # The chain decides trust: when sent, it must be what was signed too.
    required = _REQUIRED_SIGNED + ((CHAIN_HEADER.lower(),) if request.header(CHAIN_HEADER) is not None else ())
    if missing := [name for name in required if name not in signed]:
        raise _fail("unsigned_header", f"SignedHeaders: {', '.join(missing)} must be signed")
    if list(signed) != sorted(set(signed)):
        raise _fail("malformed_auth", "SignedHeaders: not sorted, or a name repeated")
    amz = request.header("x-amz-date") or ""
    try:
        when = datetime.strptime(amz, _AMZ_DATE).replace(tzinfo=timezone.utc)
    except ValueError:
        raise _fail("malformed_auth", f"X-Amz-Date header: {amz!r} is not YYYYMMDDTHHMMSSZ") from None
    if date != amz[:8] or scope_service != service or (regions is not None and region not in regions):
        raise _fail("scope", f"credential scope {date}/{region}/{scope_service}: expected the date {amz[:8]}, "
                             f"service {service}" + (f" and a region of {', '.join(sorted(regions))}" if regions else ""))
    if abs(now - when) > max_skew:
        raise _fail("skew", f"X-Amz-Date {amz} is {abs(now - when)} away from the server time "
                            f"{now:{_AMZ_DATE}}; at most {max_skew} is allowed")
    leaf = _header_certificates(request.header(X509_HEADER) or "", X509_HEADER + " header")[0]
    chain_value = request.header(CHAIN_HEADER)
    chain = _header_certificates(chain_value, CHAIN_HEADER + " header") if chain_value else []
    if len(chain) > MAX_CHAIN:  # path building tries each pair: a bound keeps a hostile header cheap
        raise _fail("malformed_auth", f"{CHAIN_HEADER} header: {len(chain)} certificates; at most {MAX_CHAIN}")
    if str(leaf.serial_number) != serial:
        raise _fail("malformed_auth", f"Authorization Credential: serial {serial} is not the X-Amz-X509 "
                                      f"certificate's ({leaf.serial_number})")
    lines: dict[str, list[str]] = {}
    for name, value in request.headers:
        if name.lower() in signed:
            lines.setdefault(name.lower(), []).append(value)
    if absent := [name for name in signed if name not in lines]:
        raise _fail("missing_signed_header", f"SignedHeaders: {', '.join(absent)} not in the request")
    only_signed = request.edit_headers(drops=[n for n, _ in request.headers if n.lower() not in signed])
    canonical = canonicalize(only_signed, CanonicalRules(), hashlib.sha256(_body(request)).hexdigest(), frozenset())
    to_sign = string_to_sign(algorithm, amz, f"{date}/{region}/{scope_service}/aws4_request", canonical)
    try:
        _check_public_key_signature(leaf, algorithm, signature, to_sign.encode("utf-8"))
    except VerificationError as err:
        err.canonical_request, err.string_to_sign = canonical.render(), to_sign
        raise
    _valid_at(leaf, now, "certificate")
    anchor = _chain_to_anchor(leaf, chain, trust_anchors, now) if trust_anchors else None
    return X509Identity(algorithm, leaf, tuple(chain), anchor, region, scope_service, when, signed)


def _body(request: Request) -> bytes:
    body = request.body
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise _fail("malformed_request", "body: a verifier needs the whole body as bytes")
    return bytes(body)


__all__ = [
    "CERTIFICATE_REASON", "CHAIN_HEADER", "CONTENT_TYPE", "ECDSA_ALGORITHM", "RSA_ALGORITHM", "SERVICE",
    "SigningCertificate", "X509Identity", "X509_HEADER", "create_session_request", "der_base64",
    "sign", "verify",
]
