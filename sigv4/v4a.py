"""SigV4a: the asymmetric (ECDSA P-256) variant of SigV4.

Strategy: SigV4a reuses the SigV4 canonical request unchanged; only three
things differ, and all three live here. The credential scope drops the region
(`date/service/aws4_request`) because the signature is valid in every region
of the region set, which travels as the signed `X-Amz-Region-Set` header or
query parameter. The algorithm line reads `AWS4-ECDSA-P256-SHA256`. And the
key is an ECDSA P-256 key pair derived from the secret key with the NIST SP
800-108 counter-mode KDF, so a verifier holding the same credentials can
recompute the public key. Derivation costs an HMAC loop and a scalar
multiplication, so derived keys are kept in a bounded LRU cache, with the key
pair of the ECDSA implementation in use (`v4a_ecdsa`: awscrt's when installed,
else cryptography's) built once per credentials beside them.

Signatures are DER-encoded ECDSA signatures written in lowercase hex, as the
AWS SDKs send them. ECDSA is randomized, so a signature can only be checked
by verifying it against the public key, never by comparing strings;
`deterministic=True` switches to RFC 6979 nonces for reproducible output.

Spec: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
(section "Derive a signing key for SigV4a").
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric import ec

from . import v4a_ecdsa
from .errors import InvalidParameterError
from .keys import hmac_sha256
from .types import Credentials

ALGORITHM = "AWS4-ECDSA-P256-SHA256"
REGION_SET_HEADER = "X-Amz-Region-Set"
#: Order n of the P-256 group (FIPS 186-4, D.1.2.3).
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_KDF_LABEL = b"AWS4-ECDSA-P256-SHA256"
# The KDF output length in bits, written big-endian into every fixed input.
_KDF_LENGTH = (256).to_bytes(4, "big")
# The counter is one byte in the context; AWS's C signer gives up after 254 tries.
_MAX_COUNTER = 254


def derive_private_scalar(access_key_id: str, secret_access_key: str) -> int:
    """The SigV4a private key d, derived as AWS specifies.

    One NIST SP 800-108 counter-mode block (i = 1) with HMAC-SHA256 keyed by
    "AWS4A" + secret, fixed input `i || label || 0x00 || context || L`, where the
    context is the access key id followed by a one-byte retry counter. A
    candidate above n - 2 is rejected and the counter bumped; d = candidate + 1,
    so d lands in [1, n - 1] without modular bias.
    """
    input_key = ("AWS4A" + secret_access_key).encode("utf-8")
    key_id = access_key_id.encode("utf-8")
    for counter in range(1, _MAX_COUNTER + 1):
        fixed_input = (1).to_bytes(4, "big") + _KDF_LABEL + b"\x00" + key_id + bytes([counter]) + _KDF_LENGTH
        candidate = int.from_bytes(hmac_sha256(input_key, fixed_input), "big")
        if candidate <= P256_ORDER - 2:
            return candidate + 1
    # Each try fails with probability ~2**-32; reaching here means a broken HMAC.
    raise InvalidParameterError("credentials: SigV4a key derivation found no valid scalar in 254 tries")


@lru_cache(maxsize=256)
def _private_key(access_key_id: str, secret_access_key: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(derive_private_scalar(access_key_id, secret_access_key), ec.SECP256R1())


def private_key(credentials: Credentials) -> ec.EllipticCurvePrivateKey:
    """The derived P-256 private key for these credentials (cached, bounded)."""
    return _private_key(credentials.access_key_id, credentials.secret_access_key)


@lru_cache(maxsize=256)
def _key_pair(access_key_id: str, secret_access_key: str,
              implementation: v4a_ecdsa.Implementation) -> v4a_ecdsa.KeyPair:
    return v4a_ecdsa.IMPLEMENTATIONS[implementation](_private_key(access_key_id, secret_access_key))


def key_pair(credentials: Credentials) -> v4a_ecdsa.KeyPair:
    """The derived key pair for these credentials, over the ECDSA implementation in use
    (`v4a_ecdsa.IMPLEMENTATION`), as `sign_string` signs and `verify_string` checks with it (cached, bounded,
    as `private_key`)."""
    return _key_pair(credentials.access_key_id, credentials.secret_access_key, v4a_ecdsa.IMPLEMENTATION)


def public_key(credentials: Credentials) -> tuple[int, int]:
    """The derived public key as affine coordinates (x, y), for tests and verifiers."""
    numbers = private_key(credentials).public_key().public_numbers()
    return numbers.x, numbers.y


def credential_scope(amz_date: str, service: str) -> str:
    """`YYYYMMDD/service/aws4_request`: the SigV4 scope without a region."""
    return f"{amz_date[:8]}/{service}/aws4_request"


def region_set(region: str | Sequence[str]) -> str:
    """The `X-Amz-Region-Set` value for a region set given as text, a list, or `*`.

    Raises InvalidParameterError for an empty set or an entry holding
    whitespace, `/` or `,`.
    """
    entries = [r.strip() for r in region.split(",")] if isinstance(region, str) else list(region)
    if not entries:
        raise InvalidParameterError("region: the SigV4a region set is empty; give at least one region or '*'")
    for entry in entries:
        if not isinstance(entry, str):
            raise InvalidParameterError(f"region: region set entries must be str, not {type(entry).__name__}")
        if not entry or "/" in entry or "," in entry or any(c.isspace() for c in entry):
            raise InvalidParameterError(
                f"region: region set entry {entry!r} must be a non-empty region name or pattern "
                "without whitespace, '/' or ','"
            )
    return ",".join(entries)


def sign_string(credentials: Credentials, string_to_sign: str, *, deterministic: bool = False) -> str:
    """ECDSA-P256-SHA256 signature of a string-to-sign, DER-encoded, in lowercase hex.

    Used for the request signature and for the chained chunk and trailer
    signatures of `STREAMING-AWS4-ECDSA-P256-SHA256-*` payloads.
    """
    message = string_to_sign.encode("utf-8")
    if deterministic:
        return v4a_ecdsa.sign_deterministic(private_key(credentials), message).hex()
    return key_pair(credentials).sign(message).hex()


def verify_string(key: v4a_ecdsa.KeyPair, string_to_sign: str, signature_hex: str) -> bool:
    """True when `signature_hex` (DER in hex) is a valid signature of the string-to-sign by `key`
    (`key_pair(credentials)`)."""
    try:
        der = bytes.fromhex(signature_hex)
    except ValueError:
        return False
    return key.verify(string_to_sign.encode("utf-8"), der)
