"""AWS's answer to a request whose signature fails, in the envelope of the service's protocol.

Strategy: a failed `sigv4.verify` (a `VerificationError` and its `.reason`) or
a failed aws-chunked body (`StreamDecodeError`) becomes the `ServiceError` an
AWS front end answers with, then the bytes of that answer. AWS has two
families of wording: the coral front end of JSON, restJson and Query services
(`InvalidSignatureException` with the canonical string and string-to-sign in
its message, `Signature expired: ... (... - 15 min.)`; `coral_fault`, which
the local Account endpoint answers with too), and S3's own (`SignatureDoesNotMatch`
with `StringToSign`/`CanonicalRequest` and their bytes as elements,
`RequestTimeTooSkewed`, `AccessDenied` "Request has expired"; `s3_fault`).
Query services rename the coral codes (`QUERY_CODES`: SignatureDoesNotMatch,
InvalidClientTokenId...), EC2 answers `AuthFailure`. The envelope is chosen by
`envelope_for` from what the request shows (an `X-Amz-Target` is awsJson, an
`Action=` form is Query) and, where it shows nothing, from the service
(`ENVELOPE_BY_SERVICE`: S3 and EC2 by their signing names; restJson is the
rest). The bytes come from the protocols' own error encoders
(`wire.serialize_error`), except S3's `<Error>` root, written here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Literal

import wire
from sigv4.canonical import S3_SERVICES
from sigv4.errors import StreamDecodeError, StreamSignatureError, VerificationError
from sigv4.types import Request
from wire import xml
from wire.errors import ServiceError
from wire.http import Response
from wire.model import Model, build_model

#: How an AWS front end wraps an authentication error: awsJson `__type`, restJson `x-amzn-ErrorType`,
#: Query (and restXml) `<ErrorResponse>`, EC2 `<Response><Errors>`, S3 `<Error>`.
Envelope = Literal["json", "rest-json", "query", "ec2", "s3"]

#: Signing names whose requests do not show their protocol (no JSON target, no Action form).
ENVELOPE_BY_SERVICE: dict[str, Envelope] = {
    **{name: "s3" for name in S3_SERVICES}, "ec2": "ec2", "route53": "query", "cloudfront": "query",
}
MAX_SKEW = timedelta(minutes=15)
_AMZ = "%Y%m%dT%H%M%SZ"
_ISO = "%Y-%m-%dT%H:%M:%SZ"

MISMATCH_TEXT = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details.\n\n"
    "The Canonical String for this request should have been\n'{canonical}'\n\n"
    "The String-to-Sign should have been\n'{string_to_sign}'\n"
)
MISSING_TOKEN_TEXT = "Missing Authentication Token"
INVALID_TOKEN_TEXT = "The security token included in the request is invalid."
EXPIRED_TOKEN_TEXT = "The security token included in the request is expired"

#: The coral front end's error codes -> the codes AWS Query services answer with for the same fault.
QUERY_CODES: dict[str, str] = {
    "InvalidSignatureException": "SignatureDoesNotMatch",
    "IncompleteSignatureException": "IncompleteSignature",
    "MissingAuthenticationTokenException": "MissingAuthenticationToken",
    "UnrecognizedClientException": "InvalidClientTokenId",
    "ExpiredTokenException": "ExpiredToken",
}


def _denied(code: str, message: str) -> ServiceError:
    return ServiceError(code, message, 403)


def _skew(err: VerificationError, now: datetime) -> ServiceError:
    assert err.auth is not None  # verify attaches the parsed auth to every post-parse failure
    signed = err.auth.signing_time.strftime(_AMZ)
    if err.auth.signing_time < now:
        return _denied("InvalidSignatureException", f"Signature expired: {signed} is now earlier than "
                       f"{now - MAX_SKEW:{_AMZ}} ({now:{_AMZ}} - 15 min.)")
    return _not_yet_current(err, now)


def _not_yet_current(err: VerificationError, now: datetime) -> ServiceError:
    assert err.auth is not None
    return _denied("InvalidSignatureException", f"Signature not yet current: {err.auth.signing_time:{_AMZ}} is "
                   f"still later than {now + MAX_SKEW:{_AMZ}} ({now:{_AMZ}} + 15 min.)")


def _expired(err: VerificationError, now: datetime) -> ServiceError:
    assert err.auth is not None and err.auth.expires_at is not None
    return _denied("InvalidSignatureException", f"Signature expired: {err.auth.expires_at:{_AMZ}} is now earlier "
                   f"than {now:{_AMZ}} (X-Amz-Date {err.auth.amz_date} + X-Amz-Expires).")


def _mismatch(err: VerificationError, now: datetime) -> ServiceError:
    return _denied("InvalidSignatureException", MISMATCH_TEXT.format(
        canonical=err.canonical_request or "", string_to_sign=err.string_to_sign or ""))


def _invalid_signature(err: VerificationError, now: datetime) -> ServiceError:
    return _denied("InvalidSignatureException", f"{err}.")


def _incomplete_signature(err: VerificationError, now: datetime) -> ServiceError:
    return _denied("IncompleteSignatureException", f"{err}.")


def _unrecognized(err: VerificationError, now: datetime) -> ServiceError:
    return _denied("UnrecognizedClientException", INVALID_TOKEN_TEXT)


#: `VerificationError.reason` -> the coral front end's error for it.
_CORAL: dict[str, Callable[[VerificationError, datetime], ServiceError]] = {
    "unknown_key": _unrecognized,
    "token": _unrecognized,
    "skew": _skew,
    "expired": _expired,
    "not_yet_valid": _not_yet_current,
    "signature_mismatch": _mismatch,
    "missing_signed_header": _incomplete_signature,
    "unsigned_header": _incomplete_signature,
    "payload_hash": _invalid_signature,
    "checksum": _invalid_signature,
    "condition_not_met": _invalid_signature,
    "malformed_request": _invalid_signature,
    "scope": _invalid_signature,
    "malformed_auth": _incomplete_signature,
    "missing_auth": lambda err, now: _denied("MissingAuthenticationTokenException", MISSING_TOKEN_TEXT),
}


def coral_fault(err: VerificationError, now: datetime) -> ServiceError:
    """The error (403, JSON-dialect code, AWS's message text) a coral front end answers `err` with at `now`."""
    return _CORAL[err.reason](err, now.astimezone(timezone.utc))


# -- S3 ------------------------------------------------------------------------------------------------------

S3_MISMATCH_TEXT = ("The request signature we calculated does not match the signature you provided. "
                    "Check your key and signing method.")


def _hex_bytes(text: str) -> str:
    """S3's `StringToSignBytes`/`CanonicalRequestBytes`: each UTF-8 byte as two hex digits, space-separated."""
    return " ".join(f"{byte:02x}" for byte in text.encode("utf-8"))


def _s3_mismatch(err: VerificationError, request: Request, now: datetime) -> ServiceError:
    assert err.auth is not None
    sts, canonical = err.string_to_sign or "", err.canonical_request
    data = {"AWSAccessKeyId": err.auth.access_key_id, "StringToSign": sts, "SignatureProvided": err.auth.signature,
            "StringToSignBytes": _hex_bytes(sts)}
    if canonical is not None:  # SigV2 signs its string-to-sign directly: S3 shows no canonical request then
        data.update(CanonicalRequest=canonical, CanonicalRequestBytes=_hex_bytes(canonical))
    return ServiceError("SignatureDoesNotMatch", S3_MISMATCH_TEXT, 403, data=data)


def _s3_unknown_key(err: VerificationError, request: Request, now: datetime) -> ServiceError:
    assert err.auth is not None
    return ServiceError("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.",
                        403, data={"AWSAccessKeyId": err.auth.access_key_id})


def _s3_skew(err: VerificationError, request: Request, now: datetime) -> ServiceError:
    assert err.auth is not None
    return ServiceError("RequestTimeTooSkewed", "The difference between the request time and the current time is "
                        "too large.", 403, data={"RequestTime": err.auth.amz_date, "ServerTime": f"{now:{_ISO}}",
                                                 "MaxAllowedSkewMilliseconds": str(MAX_SKEW // timedelta(milliseconds=1))})


def _s3_expired(err: VerificationError, request: Request, now: datetime) -> ServiceError:
    assert err.auth is not None and err.auth.expires_at is not None
    times = {"Expires": f"{err.auth.expires_at:{_ISO}}", "ServerTime": f"{now:{_ISO}}"}
    if err.auth.version == "s3v2":  # its URL names only the expiry
        return ServiceError("AccessDenied", "Request has expired", 403, data=times)
    seconds = round((err.auth.expires_at - err.auth.signing_time).total_seconds())
    return ServiceError("AccessDenied", "Request has expired", 403, data={"X-Amz-Expires": str(seconds), **times})


def _s3_payload(err: VerificationError, request: Request, now: datetime) -> ServiceError:
    declared = request.header("x-amz-content-sha256")
    if declared is None:
        return ServiceError("InvalidRequest", "Missing required header for this request: x-amz-content-sha256", 400)
    if not isinstance(request.body, bytes):
        return ServiceError("InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                            "STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, "
                            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, "
                            "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.", 400)
    return sha256_mismatch(declared, hashlib.sha256(request.body).hexdigest())


def sha256_mismatch(declared: str, computed: str) -> ServiceError:
    """S3's error for a body whose SHA-256 is `computed`, not the `declared` x-amz-content-sha256."""
    return ServiceError("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what "
                        "was computed.", 400, data={"ClientComputedContentSHA256": declared,
                                                    "S3ComputedContentSHA256": computed})


def bad_digest(algorithm: str) -> ServiceError:
    """S3's error for a body whose `x-amz-checksum-<algorithm>` header does not match it."""
    return ServiceError("BadDigest", f"The {algorithm.upper()} you specified did not match the calculated checksum.",
                        400)


def _s3_denied(message: str) -> Callable[[VerificationError, Request, datetime], ServiceError]:
    return lambda err, request, now: ServiceError("AccessDenied", message, 403)


def _s3_malformed(err: VerificationError, request: Request, now: datetime) -> ServiceError:
    if (request.header("authorization") or "").startswith("AWS "):  # S3's SigV2 header, in S3's words
        return ServiceError("InvalidArgument", "AWS authorization header is invalid.  Expected "
                            "AwsAccessKeyId:signature", 400)
    if request.header("authorization") is None:
        return ServiceError("AuthorizationQueryParametersError", f"{err}.", 400)
    return ServiceError("AuthorizationHeaderMalformed", f"The authorization header is malformed; {err}.", 400)


#: `VerificationError.reason` -> S3's error for it.
_S3: dict[str, Callable[[VerificationError, Request, datetime], ServiceError]] = {
    "missing_auth": _s3_denied("Access Denied"),  # an anonymous request: S3 answers so for a private bucket
    "malformed_auth": _s3_malformed,
    "scope": _s3_malformed,
    "unknown_key": _s3_unknown_key,
    "token": lambda err, request, now: ServiceError("InvalidToken", "The provided token is malformed or otherwise "
                                                    "invalid.", 400),
    "skew": _s3_skew,
    "expired": _s3_expired,
    "not_yet_valid": _s3_denied("Request is not valid yet"),
    "missing_signed_header": _s3_malformed,
    "unsigned_header": _s3_denied("There were headers present in the request which were not signed"),
    "payload_hash": _s3_payload,
    "checksum": lambda err, request, now: bad_digest(str(err).split()[0].removeprefix("x-amz-checksum-")),
    "malformed_request": lambda err, request, now: ServiceError("InvalidRequest", f"{err}.", 400),
    "condition_not_met": _s3_denied("Invalid according to Policy: Policy Condition failed"),
    "signature_mismatch": _s3_mismatch,
}


def s3_fault(err: VerificationError, request: Request, now: datetime) -> ServiceError:
    """The error S3 answers `request`, refused with `err` at `now`, with: code, status, message and the
    elements S3 adds (`data`, in S3's order)."""
    return _S3[err.reason](err, request, now.astimezone(timezone.utc))


def chunk_fault(err: StreamDecodeError, access_key_id: str) -> ServiceError:
    """The error S3 answers an aws-chunked body with when a chunk or the trailer fails (`err`)."""
    if isinstance(err, StreamSignatureError):
        return ServiceError("SignatureDoesNotMatch", S3_MISMATCH_TEXT, 403, data={
            "AWSAccessKeyId": access_key_id, "StringToSign": err.string_to_sign,
            "StringToSignBytes": _hex_bytes(err.string_to_sign)})
    if err.reason == "checksum_mismatch":
        return ServiceError("BadDigest", f"{err}.", 400)
    if err.reason in ("truncated", "length_mismatch"):
        return ServiceError("IncompleteBody", "The request body terminated unexpectedly", 400)
    return ServiceError("InvalidRequest", f"{err}.", 400)


def too_large(envelope: Envelope, message: str) -> ServiceError:
    """The error for a request body over a server's limit (`message` says by how much): S3's EntityTooLarge
    (400, its words), elsewhere 413 RequestEntityTooLarge."""
    if envelope == "s3":
        return ServiceError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", 400)
    return ServiceError("RequestEntityTooLarge", f"{message[:1].upper()}{message[1:]}.", 413)


def expired_token(envelope: Envelope) -> ServiceError:
    """The error for a request whose signature and session token verified, the token past its expiration."""
    if envelope == "s3":
        return ServiceError("ExpiredToken", "The provided token has expired.", 400)
    code = "ExpiredTokenException" if envelope in ("json", "rest-json") else "ExpiredToken"
    return ServiceError(code, EXPIRED_TOKEN_TEXT, 400 if envelope == "json" else 403)


# -- EC2 -----------------------------------------------------------------------------------------------------

_EC2_AUTH_FAILURE = ServiceError("AuthFailure", "AWS was not able to validate the provided access credentials", 401)
#: `VerificationError.reason` -> EC2's error; any other reason (an unknown key, a bad token) is `AuthFailure`.
#: A wrong signature is SignatureDoesNotMatch in EC2's own words, as users of every SDK have quoted it.
_EC2: dict[str, ServiceError] = {
    "signature_mismatch": ServiceError("SignatureDoesNotMatch", "The request signature we calculated does not match "
                                       "the signature you provided. Check your AWS Secret Access Key and signing "
                                       "method. Consult the service documentation for details.", 403),
    "skew": ServiceError("RequestExpired", "Request has expired.", 400),
    "expired": ServiceError("RequestExpired", "Request has expired.", 400),
    "not_yet_valid": ServiceError("RequestExpired", "Request has expired.", 400),
    "missing_auth": ServiceError("MissingAuthenticationToken", "Request is missing Authentication Token", 401),
    "malformed_auth": ServiceError("IncompleteSignature", "Request must contain a signature that conforms to AWS "
                                   "standards", 400),
}


# -- the envelopes -------------------------------------------------------------------------------------------


def _model(protocol: str) -> Model:
    return build_model({"metadata": {"protocol": protocol, "apiVersion": "2011-06-15", "signingName": "guard",
                                     "jsonVersion": "1.0", "targetPrefix": "Guard"}, "operations": {}, "shapes": {}})


#: A shapeless model per protocol: its error encoder writes the envelope (no modelled error shapes).
_MODELS: dict[str, Model] = {envelope: _model(envelope) for envelope in ("json", "rest-json", "query", "ec2")}


def envelope_for(request: Request, service: str | None) -> Envelope:
    """How AWS wraps an authentication error for `request`, whose credential scope names `service` (None when
    it carries no readable scope): an awsJson target or content type is "json", a Query form (`Action=` in the
    query of a GET or in a form body) "query", unless the service answers otherwise (`ENVELOPE_BY_SERVICE`);
    anything else "rest-json", or "s3" when no service is known (an anonymous or S3 SigV2 request: every other
    protocol's requests show themselves or carry a scope)."""
    by_service = ENVELOPE_BY_SERVICE.get(service or "")
    if by_service in ("s3", "ec2"):
        return by_service
    content_type = (request.header("content-type") or "").lower()
    if request.header("x-amz-target") is not None or content_type.startswith("application/x-amz-json"):
        return "json"
    if content_type.startswith("application/x-www-form-urlencoded") or "Action=" in request.query:
        return "query"
    return by_service or ("s3" if service is None else "rest-json")


def fault_for(err: VerificationError, request: Request, envelope: Envelope, now: datetime) -> ServiceError:
    """The error AWS answers `request` with when it fails verification with `err` at `now`, in `envelope`'s
    dialect (codes and statuses as that family of services sends them)."""
    if envelope == "s3":
        return s3_fault(err, request, now)
    if envelope == "ec2":
        return _EC2.get(err.reason, _EC2_AUTH_FAILURE)
    fault = coral_fault(err, now)
    if envelope == "query":
        return ServiceError(QUERY_CODES.get(fault.code, fault.code), fault.message, fault.status)
    if envelope == "json":  # awsJson services (DynamoDB...) answer every authentication error 400
        return ServiceError(fault.code, fault.message, 400)
    return fault


def _s3_body(error: ServiceError, request_id: str, host_id: str) -> bytes:
    fields = {"Code": error.code, "Message": error.message, **error.data, "RequestId": request_id, "HostId": host_id}
    content = "".join(xml.element(name, xml.text(str(value))) for name, value in fields.items())
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + xml.element("Error", content)).encode("utf-8")


def render(error: ServiceError, envelope: Envelope, request_id: str, host_id: str = "") -> Response:
    """`(status, headers, body)` of `error` in `envelope`, carrying `request_id` where the protocol puts it
    (S3: `x-amz-request-id` and `x-amz-id-2` = `host_id`, and the same in the body); awsJson's `__type` is
    written `com.amazon.coral.service#<code>`, as AWS writes it."""
    if envelope == "s3":
        s3_headers = (("Content-Type", "application/xml"), ("x-amz-request-id", request_id), ("x-amz-id-2", host_id))
        return error.status, s3_headers, _s3_body(error, request_id, host_id)
    code = f"com.amazon.coral.service#{error.code}" if envelope == "json" else error.code
    status, headers, body = wire.serialize_error(_MODELS[envelope], code, error.message, error.status,
                                                 request_id=request_id)
    if not any(name.lower() == "x-amzn-requestid" for name, _ in headers):
        headers += (("x-amzn-RequestId", request_id),)
    return status, headers, body

