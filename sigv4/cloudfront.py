"""Amazon CloudFront signed URLs and signed cookies, and their verification.

Strategy: a CloudFront signature is an RSA PKCS#1 v1.5 signature (SHA-1 by
default, SHA-256 with `Hash-Algorithm=SHA256`) over a JSON policy, written in
CloudFront's base64 alphabet (`+` `=` `/` become `-` `_` `~`). A canned
policy names one resource and an expiry; it is not sent, only its expiry
(`Expires`), and the receiver rebuilds it from the URL it was asked for. A
custom policy (wildcards, a start time, a source IP range) travels whole
(`Policy`). The same values go into a URL's query (`Expires`/`Policy`,
`Signature`, `Key-Pair-Id`) or into cookies (`CloudFront-*`). The policy
text is built as botocore's `CloudFrontSigner.build_policy` builds it, so a
URL signed here equals botocore's byte for byte.

`verify` is the receiving side, for tests of CloudFront-fronted apps: given
the requested URL (and cookies), public keys by key pair id, the time and the
client's address, it rebuilds or decodes the policy, checks the signature,
then the policy's conditions, and raises `VerificationError` with one word of
`REASONS`. Pure: keys, time and addresses come in as arguments.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Literal, Union

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .errors import InvalidParameterError, InvalidTimestampError, VerificationError

HashAlgorithm = Literal["SHA1", "SHA256"]
HASH_ALGORITHMS: dict[str, type[hashes.HashAlgorithm]] = {"SHA1": hashes.SHA1, "SHA256": hashes.SHA256}
#: A private key: PEM (PKCS#1 or PKCS#8, unencrypted) or a loaded `cryptography` RSA key.
PrivateKey = Union[bytes, str, rsa.RSAPrivateKey]
#: A public key: PEM (SubjectPublicKeyInfo, as CloudFront takes it) or a loaded `cryptography` RSA key.
PublicKey = Union[bytes, str, rsa.RSAPublicKey]

#: The query parameters a signed URL carries, as CloudFront removes them before matching the resource.
URL_PARAMS = ("Expires", "Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm")
COOKIE_PREFIX = "CloudFront-"

#: The `.reason` vocabulary of a failed `verify`: reason -> what it means.
REASONS: dict[str, str] = {
    "missing_auth": "neither the URL nor the cookies carry a CloudFront signature",
    "malformed_auth": "a signature part is missing, repeated, or not decodable (base64, JSON, policy shape)",
    "unknown_key": "no public key is known for the Key-Pair-Id",
    "signature_mismatch": "the signature does not verify over the policy with that public key",
    "expired": "the policy's DateLessThan is past",
    "not_yet_valid": "the policy's DateGreaterThan is still ahead",
    "ip_not_allowed": "the policy's IpAddress range does not hold the client's address",
    "resource_mismatch": "the policy's Resource does not match the requested URL",
}

_ENCODE = bytes.maketrans(b"+=/", b"-_~")
_DECODE = bytes.maketrans(b"-_~", b"+=/")
_EPOCH_DIGITS = re.compile(r"\d{1,12}\Z")
#: 9999-12-31T23:59:59Z: a later time is no `datetime` (a policy may write one; nothing can check it).
_LAST_EPOCH = 253402300799


def b64encode(data: bytes) -> str:
    """`data` in CloudFront's base64 alphabet (`-` for `+`, `_` for `=`, `~` for `/`)."""
    return base64.b64encode(data).translate(_ENCODE).decode("ascii")


def b64decode(text: str, field: str) -> bytes:
    """The bytes of CloudFront base64 `text`; raises VerificationError (`malformed_auth`) naming `field`."""
    try:
        return base64.b64decode(text.encode("ascii").translate(_DECODE), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise VerificationError("malformed_auth", f"{field}: not CloudFront base64 ([A-Za-z0-9-~] with _ padding)") \
            from None


def _epoch(when: datetime | int, field: str) -> int:
    if isinstance(when, bool) or not isinstance(when, (int, datetime)):
        raise InvalidTimestampError(f"{field}: expected an aware datetime or epoch seconds, got {type(when).__name__}")
    if isinstance(when, int):
        if when < 0:
            raise InvalidTimestampError(f"{field}: {when} is before 1970")
        return when
    if when.tzinfo is None or when.utcoffset() is None:
        raise InvalidTimestampError(f"{field}: a naive datetime is ambiguous; give one with a time zone (UTC)")
    return int(when.timestamp())


def _cidr(ip_address: str) -> str:
    """`ip_address` as the policy writes it: a bare address gets `/32` (botocore's rule), a range is checked."""
    text = ip_address if "/" in ip_address else ip_address + "/32"
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise InvalidParameterError(f"ip_address: {ip_address!r} is not an IP address or CIDR range") from None
    return text


def policy(resource: str, expires: datetime | int, *, starts: datetime | int | None = None,
           ip_address: str | None = None) -> str:
    """The compact policy JSON botocore's `build_policy` writes: Resource, then DateLessThan, IpAddress and
    DateGreaterThan conditions in that order. With no `starts` and `ip_address` it is the canned policy.

    Raises InvalidTimestampError for a naive or negative time, InvalidParameterError for a bad address.
    """
    condition: dict[str, Any] = {"DateLessThan": {"AWS:EpochTime": _epoch(expires, "expires")}}
    if ip_address:
        condition["IpAddress"] = {"AWS:SourceIp": _cidr(ip_address)}
    if starts is not None:
        condition["DateGreaterThan"] = {"AWS:EpochTime": _epoch(starts, "starts")}
    return json.dumps({"Statement": [{"Resource": resource, "Condition": condition}]}, separators=(",", ":"))


def _private_key(key: PrivateKey) -> rsa.RSAPrivateKey:
    if isinstance(key, rsa.RSAPrivateKey):
        return key
    try:
        loaded = serialization.load_pem_private_key(key.encode() if isinstance(key, str) else key, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as err:
        reason = "it is encrypted" if "encrypted" in str(err).lower() else "it is not an unencrypted PEM private key"
        raise InvalidParameterError(f"private_key: unusable: {reason}") from None
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise InvalidParameterError("private_key: CloudFront signs with RSA keys; this one is "
                                    f"{type(loaded).__name__.removeprefix('_')}")
    return loaded


def _public_key(key: PublicKey, key_pair_id: str) -> rsa.RSAPublicKey:
    if isinstance(key, rsa.RSAPublicKey):
        return key
    try:
        loaded = serialization.load_pem_public_key(key.encode() if isinstance(key, str) else key)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InvalidParameterError(f"public key {key_pair_id}: not a PEM public key") from None
    if not isinstance(loaded, rsa.RSAPublicKey):
        raise InvalidParameterError(f"public key {key_pair_id}: CloudFront keys are RSA")
    return loaded


def _check_key_pair_id(key_pair_id: str) -> None:
    if not key_pair_id or not key_pair_id.isascii() or not key_pair_id.isalnum():
        raise InvalidParameterError(f"key_pair_id: {key_pair_id!r} is not a CloudFront key pair id (letters and "
                                    "digits, e.g. K2JCJMDEHXQW5F)")


@dataclass(frozen=True, slots=True)
class Signed:
    """A signed policy: what a URL's query or the cookies carry."""

    policy: str
    #: The canned policy's expiry (epoch seconds): then `Expires` is sent instead of the policy.
    canned_expires: int | None
    signature: str  # CloudFront base64
    key_pair_id: str
    hash_algorithm: HashAlgorithm

    def pairs(self) -> list[tuple[str, str]]:
        """(name, value) in the order CloudFront documents them; Hash-Algorithm only when not SHA-1."""
        first = (("Expires", str(self.canned_expires)) if self.canned_expires is not None
                 else ("Policy", b64encode(self.policy.encode("utf-8"))))
        pairs = [first, ("Signature", self.signature), ("Key-Pair-Id", self.key_pair_id)]
        return pairs + ([("Hash-Algorithm", self.hash_algorithm)] if self.hash_algorithm != "SHA1" else [])


def sign_policy(policy_text: str, key_pair_id: str, private_key: PrivateKey, *, canned_expires: int | None = None,
                hash_algorithm: HashAlgorithm = "SHA1") -> Signed:
    """Sign `policy_text` (sent as is) with `private_key`; `canned_expires` marks it as the canned policy
    whose expiry is sent instead of the policy. Raises InvalidParameterError for an unusable key or id."""
    _check_key_pair_id(key_pair_id)
    if hash_algorithm not in HASH_ALGORITHMS:
        raise InvalidParameterError(f"hash_algorithm: {hash_algorithm!r} is not one of {', '.join(HASH_ALGORITHMS)}")
    key = _private_key(private_key)
    signature = key.sign(policy_text.encode("utf-8"), padding.PKCS1v15(), HASH_ALGORITHMS[hash_algorithm]())
    return Signed(policy_text, canned_expires, b64encode(signature), key_pair_id, hash_algorithm)


def _signed(resource: str, key_pair_id: str, private_key: PrivateKey, expires: datetime | int | None,
            custom: str | None, hash_algorithm: HashAlgorithm) -> Signed:
    if (expires is None) == (custom is None):
        raise InvalidParameterError("expires, policy: give exactly one (expires for the canned policy, policy for "
                                    "a custom one)")
    if custom is not None:
        try:  # what CloudFront could never accept is refused here, not found out at the edge
            _statement(custom)
        except VerificationError as err:
            raise InvalidParameterError(str(err)) from None
        return sign_policy(custom, key_pair_id, private_key, hash_algorithm=hash_algorithm)
    assert expires is not None  # for the type checker: the check above
    moment = _epoch(expires, "expires")
    return sign_policy(policy(resource, moment), key_pair_id, private_key, canned_expires=moment,
                       hash_algorithm=hash_algorithm)


def sign_url(url: str, key_pair_id: str, private_key: PrivateKey, *, expires: datetime | int | None = None,
             policy: str | None = None, hash_algorithm: HashAlgorithm = "SHA1") -> str:
    """`url` signed for CloudFront: with `expires`, a canned policy (`Expires=`); with `policy` (see
    `policy()`), a custom one (`Policy=`). The signing parameters go last, after `&` when `url` has a query.

    Equal to botocore's `CloudFrontSigner.generate_presigned_url` for SHA-1. Raises InvalidParameterError
    (key, key pair id, both or neither of expires and policy) or InvalidTimestampError.
    """
    signed = _signed(url, key_pair_id, private_key, expires, policy, hash_algorithm)
    return url + ("&" if "?" in url else "?") + "&".join(f"{name}={value}" for name, value in signed.pairs())


def sign_cookies(resource: str, key_pair_id: str, private_key: PrivateKey, *, expires: datetime | int | None = None,
                 policy: str | None = None, hash_algorithm: HashAlgorithm = "SHA1") -> dict[str, str]:
    """Signed cookies (`CloudFront-Expires` or `CloudFront-Policy`, `CloudFront-Signature`,
    `CloudFront-Key-Pair-Id`) for `resource` (the URL of the canned policy; a custom `policy` names its own).

    The values are the signed URL's parameters. Raises as `sign_url`, and InvalidParameterError for a canned
    policy on a resource with a `*` (CloudFront rebuilds a canned policy from the URL asked for, which never
    equals a pattern: wildcards need a custom policy).
    """
    if expires is not None and "*" in resource:
        raise InvalidParameterError(f"resource: {resource!r} has a wildcard, which only a custom policy can carry "
                                    "(policy=policy(resource, expires))")
    signed = _signed(resource, key_pair_id, private_key, expires, policy, hash_algorithm)
    return {COOKIE_PREFIX + name: value for name, value in signed.pairs()}


# -- receiving --------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SignedAccess:
    """What a signed URL or signed cookies grant: decoded, and after `verify` checked."""

    key_pair_id: str
    source: Literal["url", "cookies"]
    canned: bool
    policy: str  # the JSON text the signature covers
    resource: str | None  # None: a custom policy without Resource (any file of the key's distributions)
    expires: datetime
    starts: datetime | None
    ip_range: str | None
    hash_algorithm: HashAlgorithm
    signature: bytes = field(repr=False)


def split_url(url: str) -> tuple[str, list[tuple[str, str]]]:
    """(the URL without CloudFront's parameters, those parameters as sent); other query parameters keep their
    order and spelling."""
    base, sep, query = url.partition("?")
    query = query.partition("#")[0]
    kept: list[str] = []
    taken: list[tuple[str, str]] = []
    for part in query.split("&") if sep else ():
        name, _, value = part.partition("=")
        if name in URL_PARAMS:
            taken.append((name, value))
        else:
            kept.append(part)
    return base + ("?" + "&".join(kept) if kept else ""), taken


def _one(params: list[tuple[str, str]], name: str, where: str) -> str | None:
    values = [value for key, value in params if key == name]
    if len(values) > 1:
        raise VerificationError("malformed_auth", f"{where}{name}: given {len(values)} times")
    if values and not values[0]:
        raise VerificationError("malformed_auth", f"{where}{name}: empty")
    return values[0] if values else None


def _epoch_condition(condition: Mapping[str, Any], name: str) -> datetime | None:
    if name not in condition:
        return None
    value = condition[name]
    moment = value.get("AWS:EpochTime") if isinstance(value, dict) else None
    if isinstance(moment, str) and _EPOCH_DIGITS.match(moment):  # AWS's own examples write some as strings
        moment = int(moment)
    if isinstance(moment, bool) or not isinstance(moment, int) or not 0 <= moment <= _LAST_EPOCH:
        raise VerificationError("malformed_auth", f"policy: Condition.{name} must be {{\"AWS:EpochTime\": <seconds>}}"
                                                  " up to the end of year 9999")
    return datetime.fromtimestamp(moment, timezone.utc)


def _statement(policy_text: str) -> tuple[str | None, datetime, datetime | None, str | None]:
    """(Resource, DateLessThan, DateGreaterThan, IpAddress) of a policy's one statement."""
    try:
        document = json.loads(policy_text)
        statements = document["Statement"]
        if not isinstance(statements, list) or len(statements) != 1 or not isinstance(statements[0], dict):
            raise TypeError
        statement, condition = statements[0], statements[0]["Condition"]
        if not isinstance(condition, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise VerificationError("malformed_auth", "policy: not {\"Statement\": [{\"Resource\": ..., \"Condition\": "
                                                  "{...}}]} with exactly one statement") from None
    resource = statement.get("Resource")
    if resource is not None and not isinstance(resource, str):
        raise VerificationError("malformed_auth", "policy: Resource must be a string")
    expires = _epoch_condition(condition, "DateLessThan")
    if expires is None:
        raise VerificationError("malformed_auth", "policy: Condition.DateLessThan is required")
    ip_condition = condition.get("IpAddress")
    ip_range = ip_condition.get("AWS:SourceIp") if isinstance(ip_condition, dict) else None
    if ip_condition is not None:
        try:
            ipaddress.ip_network(ip_range, strict=False)  # type: ignore[arg-type]  # None and non-strings raise
        except (TypeError, ValueError):
            raise VerificationError("malformed_auth", "policy: Condition.IpAddress must be "
                                                      "{\"AWS:SourceIp\": \"<address>/<bits>\"}") from None
    return resource, expires, _epoch_condition(condition, "DateGreaterThan"), ip_range


def decode(url: str, cookies: Mapping[str, str] | None = None) -> SignedAccess:
    """What the signed `url` (or, when its query has no signature, the `cookies`) claims, unchecked.

    Raises VerificationError: `missing_auth` when neither is signed, `malformed_auth` when a part is
    missing, repeated or undecodable.
    """
    base, params = split_url(url)
    source: Literal["url", "cookies"] = "url"
    where = "query parameter "
    if not params:
        params = [(name.removeprefix(COOKIE_PREFIX), value) for name, value in (cookies or {}).items()
                  if name.startswith(COOKIE_PREFIX) and name.removeprefix(COOKIE_PREFIX) in URL_PARAMS]
        source, where = "cookies", "cookie " + COOKIE_PREFIX
    if not params:
        raise VerificationError("missing_auth", "request: no Signature query parameter and no CloudFront-Signature "
                                                "cookie")
    expires_text, policy_b64 = _one(params, "Expires", where), _one(params, "Policy", where)
    signature_b64, key_pair_id = _one(params, "Signature", where), _one(params, "Key-Pair-Id", where)
    algorithm = _one(params, "Hash-Algorithm", where) or "SHA1"
    if signature_b64 is None or key_pair_id is None:
        raise VerificationError("malformed_auth", f"{where}{'Signature' if signature_b64 is None else 'Key-Pair-Id'}: "
                                                  "missing")
    if (expires_text is None) == (policy_b64 is None):
        raise VerificationError("malformed_auth", f"{where}Expires, {where}Policy: exactly one must be given")
    if algorithm not in HASH_ALGORITHMS:
        raise VerificationError("malformed_auth", f"{where}Hash-Algorithm: {algorithm!r} is not SHA1 or SHA256")
    if expires_text is not None:
        if not _EPOCH_DIGITS.match(expires_text):
            raise VerificationError("malformed_auth", f"{where}Expires: {expires_text!r} is not epoch seconds")
        policy_text = policy(base, int(expires_text))
    else:
        assert policy_b64 is not None  # for the type checker: exactly one is set
        try:
            policy_text = b64decode(policy_b64, where + "Policy").decode("utf-8")
        except UnicodeDecodeError:
            raise VerificationError("malformed_auth", f"{where}Policy: not UTF-8 JSON") from None
    resource, expires, starts, ip_range = _statement(policy_text)
    return SignedAccess(key_pair_id, source, expires_text is not None, policy_text, resource, expires, starts,
                        ip_range, algorithm,  # type: ignore[arg-type]  # checked against HASH_ALGORITHMS above
                        b64decode(signature_b64, where + "Signature"))


def resource_matches(pattern: str, url: str) -> bool:
    """Whether `url` matches a policy Resource: `*` any run of characters, `?` exactly one, case-sensitive."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, url, re.DOTALL) is not None


def verify(url: str, public_keys: Mapping[str, PublicKey], now: datetime, *, cookies: Mapping[str, str] | None = None,
           client_ip: str | None = None) -> SignedAccess:
    """Check a request for a CloudFront-signed resource as CloudFront would, and return what it grants.

    `url` is the full URL requested (scheme, host, path, query); `cookies` the request's cookies (used
    when the URL carries no signature); `public_keys` maps key pair ids to RSA public keys; `client_ip`
    is the viewer's address (needed when the policy limits it). Raises VerificationError with `.reason`
    one of `REASONS` and a message saying what failed; InvalidTimestampError for a naive `now`.
    """
    if now.tzinfo is None:
        raise InvalidTimestampError("now: a naive datetime is ambiguous; give one with a time zone (UTC)")
    access = decode(url, cookies)
    key = public_keys.get(access.key_pair_id)
    if key is None:
        raise VerificationError("unknown_key", f"Key-Pair-Id {access.key_pair_id}: no public key with this id")
    try:
        _public_key(key, access.key_pair_id).verify(access.signature, access.policy.encode("utf-8"),
                                                    padding.PKCS1v15(), HASH_ALGORITHMS[access.hash_algorithm]())
    except InvalidSignature:
        raise VerificationError("signature_mismatch", f"Signature: does not verify over the "
                                f"{'canned' if access.canned else 'custom'} policy with key {access.key_pair_id} "
                                f"({access.hash_algorithm}); policy: {access.policy}") from None
    base = split_url(url)[0]
    if access.resource is not None and not resource_matches(access.resource, base):
        raise VerificationError("resource_mismatch", f"policy Resource {access.resource!r} does not match the "
                                                     f"requested {base!r}")
    if now >= access.expires:
        raise VerificationError("expired", f"policy DateLessThan: expired at {access.expires:%Y-%m-%dT%H:%M:%SZ}; "
                                           f"now is {now.astimezone(timezone.utc):%Y-%m-%dT%H:%M:%SZ}")
    if access.starts is not None and now <= access.starts:
        raise VerificationError("not_yet_valid", f"policy DateGreaterThan: valid only after "
                                f"{access.starts:%Y-%m-%dT%H:%M:%SZ}; now is {now.astimezone(timezone.utc):%Y-%m-%dT%H:%M:%SZ}")
    if access.ip_range is not None:
        try:
            allowed = client_ip is not None and ipaddress.ip_address(client_ip) in ipaddress.ip_network(
                access.ip_range, strict=False)
        except ValueError:
            allowed = False
        if not allowed:
            raise VerificationError("ip_not_allowed", f"policy IpAddress: {access.ip_range} does not hold the "
                                                      f"client address {client_ip or '(unknown)'}")
    return access


def cookie_header(text: str) -> dict[str, str]:
    """The cookies of a Cookie header's value (`a=1; b=2`, as `sigv4 cloudfront sign-cookies` prints them)."""
    return dict(pair.strip().partition("=")[::2] for pair in text.split(";") if pair.strip())


def looks_signed(text: str) -> bool:
    """Whether `text` is one line shaped like a CloudFront signed URL, or signed cookies as a Cookie header's
    value (for `sigv4 explain`)."""
    if text.startswith(COOKIE_PREFIX):
        return "\n" not in text and f"{COOKIE_PREFIX}Signature=" in text
    return (" " not in text and "\n" not in text and "://" in text and "Key-Pair-Id=" in text
            and "Signature=" in text)


def explain(url: str, now: datetime) -> tuple[list[str], bool]:
    """(lines for a terminal, whether the time window holds `now`) of a signed URL (or of signed cookies, a
    Cookie header's value): key pair id, policy kind, resource, validity window, the policy. The signature is not
    checked (that needs the public key: `verify`).

    Raises InvalidParameterError when `url` is not a decodable CloudFront signed URL or cookies.
    """
    cookies = cookie_header(url) if url.startswith(COOKIE_PREFIX) else None
    try:
        access = decode("" if cookies else url, cookies)
    except VerificationError as err:
        raise InvalidParameterError(f"CloudFront signed {'cookies' if cookies else 'URL'}: {err}") from None
    if cookies and access.canned:  # the canned policy is rebuilt from the URL asked for, which cookies do not carry
        access = replace(access, resource="(the URL asked for: canned cookies name none)",
                         policy=access.policy.replace('"Resource":""', '"Resource":"<the URL asked for>"', 1))
    left = int((access.expires - now).total_seconds())
    state = f"valid for {left} s more" if left > 0 else f"EXPIRED {-left} s ago"
    lines = [
        f"CloudFront signed {'URL' if access.source == 'url' else 'cookies'} "
        f"({'canned' if access.canned else 'custom'} policy, RSA-{access.hash_algorithm})",
        f"key pair id: {access.key_pair_id}",
        f"resource: {access.resource if access.resource is not None else '(any: no Resource in the policy)'}",
        f"expires: {access.expires:%Y-%m-%dT%H:%M:%SZ} ({int(access.expires.timestamp())}; {state})",
    ]
    if access.starts is not None:
        lines.append(f"valid from: {access.starts:%Y-%m-%dT%H:%M:%SZ} ({int(access.starts.timestamp())})")
    if access.ip_range is not None:
        lines.append(f"source IP: {access.ip_range}")
    lines.append(f"policy: {access.policy}")
    lines.append("signature: not checked (needs the public key: sigv4 cloudfront verify --public-key ID=FILE)")
    return lines, left > 0 and (access.starts is None or access.starts < now)
