"""Signing at the edge: a request signed as the command line's signing flags say, at our clock's time.

Strategy: the flags (`sigv4 sign`/`send --sign`: --algorithm, --s3/--no-s3, --presign,
--chunked, --date, ...) arrive as one namespace; `signing_options` turns them
into `sigv4.sign`/`sigv4.presign` keywords (a table of flag -> keyword, and
the flag combinations no receiver could verify refused with `FlagError`).
`flag_signer` adds what the world supplies: credentials from the chain
(`sigv4.integrations.credentials`), the scope from flags, profile and host
name, and the time from `now()` (the one clock of the command line, shifted by
a measured skew on a retry).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sigv4
from sigv4 import s3v2, v2, websocket
from sigv4.canonical import S3_SERVICES, query_pairs
from sigv4.explain import explain
from sigv4.integrations.credentials import ResolvedCredentials, resolve_credentials
from sigv4.payload import EMPTY_SHA256
from sigv4.post import TOKEN_NAMES, UNCONDITIONED_FIELDS, PresignedPost, eq, parse_condition_text
from sigv4.raw import as_sent, check_content_length
from sigv4.redact import redact, redact_artifact
from sigv4.signer import PRESIGN_PARAMS, without_query_params
from sigv4.tokens import region_in_host
from wire.endpoints import GLOBAL_ENDPOINT_REGIONS, infer_scope


class FlagError(Exception):
    """A signing flag, or a combination of them, that cannot be used: the message names the flag."""


#: `--expires` when not given (`sign --wss` then takes its preset's).
DEFAULT_EXPIRES = 3600


def _expires(flags: Any) -> int:
    return DEFAULT_EXPIRES if flags.expires is None else int(flags.expires)


def _field_pairs(flags: Any) -> list[tuple[str, str]]:
    """--field NAME=VALUE, repeated, as pairs; raises `FlagError` for one without `=`."""
    if bad := [f for f in flags.field if "=" not in f]:
        raise FlagError(f"--field {bad[0]!r}: expected NAME=VALUE")
    return [(f.partition("=")[0], f.partition("=")[2]) for f in flags.field]


def now() -> datetime:
    """Our clock: the current UTC time, to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def parse_date(text: str | None, flag: str = "--date") -> datetime:
    """`--date YYYYMMDDTHHMMSSZ` (or the time of another `flag`) as an aware UTC datetime, or `now()` when None;
    raises `FlagError` naming `flag`."""
    if text is None:
        return now()
    try:
        return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise FlagError(f"{flag} {text!r}: expected YYYYMMDDTHHMMSSZ, e.g. 20150830T123600Z") from None


def s3_rules(flags: Any, service: str) -> bool:
    """True when S3's rules apply: --s3, or a `service` of `S3_SERVICES` without --no-s3 (as the library's
    adapters do, an S3 scope implies them)."""
    return service in S3_SERVICES if flags.s3 is None else bool(flags.s3)


#: The headers an old signature left, dropped before signing again.
STALE_AUTH_HEADERS = ("authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256")
#: Flags S3's SigV2 has no place for: it signs no payload hash, region or canonical path.
_NOT_S3V2 = ("chunked", "trailer", "unsigned_payload", "region_set", "no_normalize_path", "no_double_encode",
             "omit_session_token")


def s3v2_sign(request: sigv4.Request, flags: Any, credentials: sigv4.Credentials,
              timestamp: datetime) -> s3v2.S3SigV2Result:
    """`--algorithm v2` where S3's rules apply: S3's own SigV2 (`sigv4.s3v2`), `Authorization: AWS KEY:signature`
    at `timestamp`, or with --presign a URL valid until `timestamp` plus --expires (as botocore's `HmacV1Auth`
    and `HmacV1QueryAuth`). Raises `FlagError` naming the flags it has no use for, `sigv4.SigningError`."""
    if unused := [name for name in _NOT_S3V2 if getattr(flags, name, None)]:
        raise FlagError(", ".join(f"--{name.replace('_', '-')}" for name in unused)
                        + ": not with S3's SigV2 (--algorithm v2 of an S3 request)")
    if flags.presign:
        return s3v2.presign(as_sent(request), credentials, expires=int(timestamp.timestamp()) + _expires(flags))
    return s3v2.sign(request, credentials, timestamp=timestamp)


def signing_options(flags: Any, service: str) -> dict[str, Any]:
    """The `sigv4.sign` keywords the signing flags ask for signing for `service` (no scope, time or
    credentials); S3's rules unless --no-s3 when `service` is one of `S3_SERVICES`. Raises `FlagError`."""
    if flags.region_set and flags.algorithm != "v4a":
        raise FlagError("--region-set: a SigV4a region set; add --algorithm v4a (or give one region with --region)")
    if flags.algorithm == "v2":
        if flags.presign:
            raise FlagError("--presign: Query SigV2 (--algorithm v2 of a request S3's rules do not apply to) signs a "
                            "GET's parameters into its URL already: sign without --presign (an Expires=YYYY-MM-DDThh:"
                            "mm:ssZ parameter bounds it)")
        return {"algorithm": "v2"}
    s3 = s3_rules(flags, service)
    options: dict[str, Any] = {
        "algorithm": flags.algorithm,
        "s3": s3,
        "normalize_path": False if flags.no_normalize_path else None,
        "double_encode": False if flags.no_double_encode else None,
        "payload": sigv4.UNSIGNED_PAYLOAD if flags.unsigned_payload else None,
        "omit_session_token": flags.omit_session_token,
        # Without the header, a receiver cannot tell that the payload line is UNSIGNED-PAYLOAD: no replay verifies.
        "content_sha256_header": flags.unsigned_payload and not flags.presign,
    }
    if flags.presign and flags.unsigned_payload and not s3:
        raise FlagError("--unsigned-payload: only S3 verifies a presigned URL against UNSIGNED-PAYLOAD (add --s3)")
    if flags.trailer and not flags.chunked:
        raise FlagError("--trailer: a trailing checksum follows an aws-chunked body; add --chunked")
    if flags.chunked:
        if flags.presign:
            raise FlagError("--chunked: a presigned URL cannot carry a chunk-signed body")
        if flags.unsigned_payload and not flags.trailer:
            raise FlagError("--chunked --unsigned-payload: unsigned chunks end with a trailing checksum; add --trailer "
                            "(STREAMING-UNSIGNED-PAYLOAD-TRAILER)")
        ecdsa = "ECDSA-P256-SHA256" if flags.algorithm == "v4a" else "HMAC-SHA256"
        options["payload"] = "STREAMING-UNSIGNED-PAYLOAD-TRAILER" if flags.unsigned_payload else \
            f"STREAMING-AWS4-{ecdsa}-PAYLOAD" + ("-TRAILER" if flags.trailer else "")
        options["chunk_size"] = flags.chunk_size
        options["trailer_checksum"] = flags.trailer
    return options


def signing_scope(flags: Any, request: sigv4.Request, resolved: ResolvedCredentials) -> tuple[str, str]:
    """(region, service): --region, a region the host name spells out (a global endpoint's, such as
    `iam.amazonaws.com`: us-east-1), the profile's, us-east-1; --service or the host name's.

    Raises `FlagError` when neither --service nor the host name says the service.
    """
    host = request.header("host") or request.authority  # an absolute-form target (`GET https://...`) needs no Host
    service, region = infer_scope(host)
    # A regional endpoint answers only its own region's scope, and a global one (IAM, STS's, Route 53, CloudFront...)
    # only its region's, whatever AWS_REGION says; S3's global name serves each bucket in the bucket's own region.
    fixed = region_in_host(host) or GLOBAL_ENDPOINT_REGIONS.get(host.partition(":")[0].lower())
    region = flags.region or fixed or resolved.region or region or "us-east-1"
    service = flags.service or service
    if not service:
        raise FlagError("--service: required (the host name does not say which service this is)")
    return region, service


@dataclass(frozen=True)
class FlagSigner:
    """Signs requests as the signing flags say, with the credentials and scope `flag_signer` found."""

    flags: Any
    resolved: ResolvedCredentials
    region: str
    service: str

    def sign(self, request: sigv4.Request, skew: timedelta = timedelta(0)) -> Any:
        """The signing result of `request` (presigned with --presign) at --date or our clock, plus `skew`; an
        S3 request with --algorithm v2 is signed with S3's SigV2 (`s3v2_sign`).

        Raises `FlagError`, `sigv4.SigningError` (a request that cannot be signed).
        """
        # The request printed and sent is the one signed: a raw target's ` ` or `é` as %20, %C3%A9, as clients
        # send it (curl refuses a space) and as a server rebuilds the canonical request from it; an old
        # signature's headers and query parameters gone.
        flags, request = self.flags, _unsigned(as_sent(request), s3_rules(self.flags, self.service))
        if flags.algorithm == "v2" and s3_rules(flags, self.service):
            return s3v2_sign(request, flags, self.resolved.credentials, parse_date(flags.date) + skew)
        if flags.chunked:  # an aws-chunked stream's length is known: its Content-Length frames it, no transfer coding
            request = request.without_headers(("transfer-encoding",))
        region: str | list[str] = _region_set(flags.region_set) if flags.region_set else self.region
        options = dict(region=region, service=self.service, timestamp=parse_date(flags.date) + skew,
                       **signing_options(flags, self.service))
        if flags.presign:
            return sigv4.presign(request, self.resolved.credentials, expires=_expires(flags), **options)
        return sigv4.sign(request, self.resolved.credentials, **options)


def presign_note(result: Any) -> str:
    """The note `sign --presign` prints on stderr when a plain GET of the URL would not work: the method it was
    signed for, a body whose hash it signed, the signed headers besides host; "" when a GET is all it needs."""
    needs = [f"for {result.request.method}"] if result.request.method != "GET" else []
    if getattr(result, "payload_hash", sigv4.UNSIGNED_PAYLOAD) not in (sigv4.UNSIGNED_PAYLOAD, EMPTY_SHA256):
        needs.append("with the body it signed")
    if extra := [name for name in result.signed_headers if name != "host"]:
        needs.append(f"with the signed headers {', '.join(extra)} sent as signed")
    return f"sigv4: note: the URL is valid only {', '.join(needs)}" if needs else ""


#: What Query SigV2 writes into a query it signs.
_QUERY_V2_SIGNED = v2.AUTH_PARAMS | {"Timestamp"}


def _unsigned(request: sigv4.Request, s3: bool) -> sigv4.Request:
    """`request` without an old signature, to be signed anew: an Authorization header and the headers signing
    added with it (`STALE_AUTH_HEADERS`, and the Date S3's SigV2 signed: a stale x-amz-content-sha256 or Date
    would be signed into a presigned URL no client sends them with), a presigned URL's parameters (SigV4's
    `X-Amz-*`; where S3's rules apply, S3 SigV2's `AWSAccessKeyId`, `Signature`, `Expires` and token, else Query
    SigV2's, `_QUERY_V2_SIGNED`): AWS refuses a request that carries two signatures."""
    if (authorization := request.header("authorization")) is not None:
        s3v2_date = ["date"] if authorization.startswith(f"{s3v2.SCHEME} ") else []
        request = request.without_headers((*STALE_AUTH_HEADERS, *s3v2_date))
    request = without_query_params(request, PRESIGN_PARAMS)
    if {"AWSAccessKeyId", "Signature"} <= {name for name, _ in query_pairs(request.query)}:
        if s3:
            return request.with_url(s3v2.without_auth(request.url))
        # Query SigV2 signed into the query: its parameters and the Timestamp its signer wrote (kept, SigV2
        # signed again would be as stale as before).
        return without_query_params(request, _QUERY_V2_SIGNED)
    return request


def _region_set(text: str) -> list[str]:
    """--region-set's regions: comma-separated, as typed (`us-east-1, eu-west-1`: spaces around each are no part
    of a region). Raises `FlagError` for an empty entry."""
    regions = [region.strip(" \t") for region in text.split(",")]
    if not all(regions):
        raise FlagError(f"--region-set {text!r}: an empty entry; write regions separated by commas, or *")
    return regions


def _credentials(flags: Any, env: Mapping[str, str]) -> ResolvedCredentials:
    """The chain's credentials (--profile), once no scope flag is given empty: `--region "$AWS_REGION"` with the
    variable unset would sign for a default region unsaid. Raises `FlagError`, `sigv4.SigningError`."""
    for name in ("region", "service", "region_set"):
        if getattr(flags, name, None) == "":
            raise FlagError(f"--{name.replace('_', '-')}: empty (an unset shell variable?); leave the flag out for "
                            "the default")
    return resolve_credentials(flags.profile, env)


def flag_signer(request: sigv4.Request, flags: Any, env: Mapping[str, str]) -> FlagSigner:
    """The signer for `request`'s scope: credentials from the chain (--profile), region and service from the
    flags, profile and host name. Raises `FlagError` (also for --expires without --presign),
    `sigv4.SigningError` (no credentials; a Content-Length that is not the body's length,
    `check_content_length`)."""
    check_content_length(request)
    if flags.expires is not None and not flags.presign:
        raise FlagError("--expires: a presigned URL's lifetime; add --presign (a header-signed request is accepted "
                        "within 15 minutes of its X-Amz-Date)")
    resolved = _credentials(flags, env)
    region, service = signing_scope(flags, request, resolved)
    return FlagSigner(flags, resolved, region, service)


#: Signing flags a POST form has no use for: it signs a policy document, not a request.
_NOT_POST = ("presign", "explain", "chunked", "trailer", "unsigned_payload", "region_set", "no_normalize_path",
             "no_double_encode", "omit_session_token", "wss")

#: Form fields `sigv4.presign_post` writes and conditions itself, or that need no condition.
_SIGNER_FIELDS = {"key", "x-amz-algorithm", "x-amz-credential", "x-amz-date", *UNCONDITIONED_FIELDS,
                  *TOKEN_NAMES}


def presign_post_with_flags(flags: Any, env: Mapping[str, str]) -> tuple[PresignedPost, ResolvedCredentials]:
    """`sign --presign-post`: the S3 browser-upload form the flags describe (--bucket, --key, --condition,
    --field, --url, --expires, --date), and the credentials that signed it. Raises `FlagError`,
    `sigv4.SigningError`.
    """
    if not flags.bucket or flags.key is None:
        raise FlagError("--presign-post: --bucket and --key are required")
    clashes = [*(f"--{name.replace('_', '-')}" for name in _NOT_POST if getattr(flags, name)),
               *(["--algorithm v4a"] if flags.algorithm == "v4a" else [])]
    if clashes:
        raise FlagError(f"--presign-post: not with {', '.join(clashes)} (a form signs its policy, not a request; "
                        "--algorithm v4 or v2)")
    fields = _field_pairs(flags)
    resolved = _credentials(flags, env)
    conditions = [parse_condition_text(text) for text in flags.condition]
    # S3 refuses a form field no condition covers (botocore's Fields= leaves that to the caller): a field
    # prefilled without its own --condition gets an exact one; the signer conditions those it writes itself.
    covered = {condition.field.lower() for condition in conditions} | _SIGNER_FIELDS
    conditions += [eq(name, value) for name, value in fields
                   if name.lower() not in covered and not name.lower().startswith("x-ignore-")]
    post = sigv4.presign_post(resolved.credentials, bucket=flags.bucket, key=flags.key, expires=_expires(flags),
                              region=flags.region or resolved.region or "us-east-1", service=flags.service or "s3",
                              timestamp=parse_date(flags.date), url=flags.url, conditions=conditions, fields=fields,
                              algorithm=flags.algorithm)
    return post, resolved


def presign_wss_with_flags(flags: Any, env: Mapping[str, str]) -> str:
    """`sign --wss PRESET [ENDPOINT]`: the presigned WebSocket URL to print (--field NAME=VALUE: its query
    parameters; --region, else the endpoint's or the profile's; --expires, --date, --explain): an artifact, so
    whole, session token included; with --explain the steps and URL mask the token unless --show-secrets.
    Raises `FlagError`, `sigv4.SigningError`.
    """
    clashes = (("--json", flags.json), ("--presign", flags.presign), ("--chunked", flags.chunked),
               ("--unsigned-payload", flags.unsigned_payload),
               (f"--algorithm {flags.algorithm}", flags.algorithm != "v4"))
    if clash := [name for name, given in clashes if given]:
        raise FlagError(f"--wss: not with {', '.join(clash)} (each preset signs as its service's own client does)")
    params = _field_pairs(flags)
    resolved = _credentials(flags, env)
    endpoint = None if flags.file == "-" else flags.file
    # An endpoint naming a region is only answered for that region (as a token's host), whatever the profile says.
    region = flags.region or region_in_host(endpoint or "") or resolved.region or "us-east-1"
    presigned = websocket.presign(flags.wss, resolved.credentials, region=region, timestamp=parse_date(flags.date),
                                  endpoint=endpoint, params=params, expires=flags.expires)
    if not flags.explain:
        return redact_artifact(presigned.url, resolved.credentials)
    url = redact(presigned.url if flags.show_secrets else presigned.masked_url, resolved.credentials,
                 show_token=flags.show_secrets)
    # A presign's steps end with its URL; AppSync's signed POST travels inside the URL instead.
    return explain(presigned.signing, resolved.credentials, region, websocket.PRESETS[flags.wss].service,
                   show_token=flags.show_secrets,
                   then=None if presigned.signing.authorization is None else ("WebSocket URL", url))
