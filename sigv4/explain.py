"""A step-by-step account of one signature (canonical request, string-to-sign, key derivation), secrets masked.

Pure: a `SigningResult` (or `SigV2Result`) and the credentials in, text out.
This is what `sigv4 sign --explain`, `--json`, `sigv4 verify` and `sigv4 demo` print.
"""

from __future__ import annotations

from . import v4a
from .errors import VerificationError
from .keys import derive_steps
from .s3v2 import S3SigV2Result
from .redact import TokenPlaces, mask, masked_token_note, redact
from .signer import SigningResult
from .types import Credentials
from .v2 import SigV2Result


def visible(text: str) -> str:
    """Make whitespace and line ends visible: `·` space, `→` tab, `↵` newline."""
    lines = text.split("\n")
    return "\n".join(
        f"  {i:>2} │ " + line.replace(" ", "·").replace("\t", "→") + ("↵" if i < len(lines) else "")
        for i, line in enumerate(lines, 1)
    )


def key_steps(result: SigningResult, creds: Credentials, region: str, service: str) -> list[str]:
    """How the signing key comes from the secret, derived keys shortened: they are secrets too."""
    if result.algorithm == "AWS4-ECDSA-P256-SHA256":
        x, y = v4a.public_key(creds)
        return [
            "4. Signing key: ECDSA P-256 private key derived from the secret (NIST SP 800-108 KDF,",
            '   HMAC-SHA256, input key "AWS4A" + secret, label "AWS4-ECDSA-P256-SHA256"); its public key:',
            f"   x = {x:064x}", f"   y = {y:064x}",
            "",
            "5. Signature = hex(DER(ECDSA-SHA256(private key, string-to-sign))) = " + result.signature,
        ]
    date = result.amz_date[:8]
    steps = derive_steps(creds.secret_access_key, date, region, service)

    def short(key: bytes) -> str:
        return key.hex()[:8] + "…"
    return [
        "4. Signing key derivation (HMAC-SHA256 chain; derived keys shortened):",
        f'   kDate    = HMAC("AWS4" + secret, "{date}") = {short(steps.date_key)}',
        f'   kRegion  = HMAC(kDate, "{region}") = {short(steps.region_key)}',
        f'   kService = HMAC(kRegion, "{service}") = {short(steps.service_key)}',
        f'   kSigning = HMAC(kService, "aws4_request") = {short(steps.signing_key)}',
        "",
        f"5. Signature = hex(HMAC(kSigning, string-to-sign)) = {result.signature}",
    ]


def explain(result: SigningResult | SigV2Result | S3SigV2Result, creds: Credentials, region: str,
            service: str, *, show_token: bool = False, then: tuple[str, str] | None = None) -> str:
    """A step-by-step account of one signature: the secret key masked, the session token too unless `show_token`;
    `then` (title, text), e.g. the signed request, is the last step, numbered after the signature's."""
    parts = _steps(result, creds, region, service)
    if then is not None:
        parts += ["", f"{sum(line[:1].isdigit() for line in parts) + 1}. {then[0]}:", then[1]]
    return redact("\n".join(parts), creds, show_token=show_token)


def _steps(result: SigningResult | SigV2Result | S3SigV2Result, creds: Credentials, region: str,
           service: str) -> list[str]:
    """The numbered steps of `explain` (each step's first line starts with its number, no other line does)."""
    if isinstance(result, S3SigV2Result):
        authorization = result.request.header("authorization")
        parts = [
            "1. S3 SigV2 string-to-sign (method, Content-MD5, Content-Type, "
            + ("Expires" if authorization is None else "Date") + ", x-amz-* headers, bucket, path, sub-resources):",
            visible(result.string_to_sign),
            "",
            f"2. Signature = base64(HMAC-SHA1(secret, string-to-sign)) = {result.signature}",
            f"   access key id {creds.access_key_id}, secret {mask(creds.secret_access_key)}",
            f"   Authorization: {authorization}" if authorization else f"   URL: {result.url}",
        ]
        return parts
    if isinstance(result, SigV2Result):
        parts = [
            "1. SigV2 string-to-sign (method, host, path, sorted encoded parameters):",
            visible(result.string_to_sign),
            "",
            f"2. Signature = base64({result.signature_method}(secret, string-to-sign)) = {result.signature}",
            f"   access key id {creds.access_key_id}, secret {mask(creds.secret_access_key)}",
        ]
        return parts
    parts = [
        "1. Canonical request (what the server rebuilds from the request it receives):",
        visible(result.canonical_request),
        "",
        f"   signed headers: {';'.join(result.signed_headers)}",
        f"   payload hash:   {result.payload_hash}",
        "",
        "2. String-to-sign (algorithm, date, credential scope, SHA-256 of the canonical request):",
        visible(result.string_to_sign),
        "",
        f"3. Credential scope: {result.credential_scope}",
        f"   access key id {creds.access_key_id}, secret {mask(creds.secret_access_key)}",
        "",
        *key_steps(result, creds, region, service),
    ]
    if result.authorization:
        parts.append(f"   Authorization: {result.authorization}")
    else:
        parts.append(f"   URL: {result.url}")
    return parts


def result_record(result: SigningResult | SigV2Result | S3SigV2Result) -> dict[str, object]:
    """Every intermediate of a signature as a JSON-ready dict (`sign --json`), secrets not included."""
    record: dict[str, object] = {"string_to_sign": result.string_to_sign, "signature": result.signature}
    if isinstance(result, SigningResult):
        record.update(canonical_request=result.canonical_request, credential_scope=result.credential_scope,
                      signed_headers=list(result.signed_headers))
        record["authorization" if result.authorization else "url"] = result.authorization or result.url
    elif isinstance(result, S3SigV2Result) and (authorization := result.request.header("authorization")):
        record["authorization"] = authorization
    else:
        record["url"] = result.url
    return record


def verification_report(err: VerificationError, request: TokenPlaces | None = None) -> str:
    """Why verification failed, with the canonical request and string-to-sign the verifier expected; for a token
    refused because `request` carries `****` for it, a hint that it is a masked copy."""
    lines = [f"FAILED ({err.reason}): {err}"]
    if err.reason == "token" and request is not None and (note := masked_token_note(request)):
        lines.append(f"hint: {note}")
    if err.canonical_request is not None:
        lines += ["", "Expected canonical request:", visible(err.canonical_request)]
    if err.string_to_sign is not None:
        lines += ["", "Expected string-to-sign:", visible(err.string_to_sign)]
    return "\n".join(lines)
