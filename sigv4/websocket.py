"""Presigned WebSocket URLs for the AWS services that take one, each as its own client signs it.

Strategy: a WebSocket handshake is a GET with no body, so every preset is a
SigV4 query presign (`sigv4.presign`) of `wss://host[:port]/path?params`
with the empty body's SHA-256 and only `host` signed. What differs per service
is a row of `PRESETS`: the signing name, the default endpoint and path, the
`X-Amz-Expires` (none for IoT), and the order the client lays the query out in
(the signature does not depend on it, but the URL's bytes do). The session token
is signed, except for the services `sigv4.verify` names in `UNSIGNED_TOKEN_SERVICES`
(IoT), whose clients add it after signing:

- `iot`: AWS IoT Core MQTT over WebSocket, as awsiotsdk's handshake transform
  (awscrt query signing, service `iotdevicegateway`, no expiry, token appended).
- `transcribe`, `transcribe-medical`: Transcribe streaming on port 8443, as the
  Transcribe developer guide builds it (sorted query, token signed, signature last).
- `kinesisvideo`: KVS WebRTC signaling (`X-Amz-ChannelARN`, plus `X-Amz-ClientId`
  for a viewer), as the KVS WebRTC JS SDK's `SigV4RequestSigner` (whole query sorted).
- `execute-api`: API Gateway WebSocket APIs, as awscrt presigns any request.
- `appsync`: AppSync real-time is not a presign: a POST to `<api>/graphql/connect`
  with body `{}` is header-signed as Amplify signs it, and the signed headers go,
  as JSON in base64, into the `header` query parameter, beside `payload=e30=`.

`describe` reads such a URL back (what it is for, its scope, when it stops
working) for `sigv4 explain`. Pure: time and credentials are arguments.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal
from urllib.parse import quote

from .canonical import query_pairs, uri_encode
from .errors import InvalidParameterError, VerificationError
from .redact import MASK, mask_tokens
from .signed_auth import SignedAuth
from .signer import SigningResult, presign as _presign, sign
from .tokens.parts import region_in_host
from .types import Credentials, Request
from .verify import UNSIGNED_TOKEN_SERVICES, parse_auth

#: How a client lays out the query: `crt` (the caller's parameters, then awscrt's order), `sorted` (by name,
#: the signature too), `signature-last` (sorted, the signature appended).
Layout = Literal["crt", "sorted", "signature-last"]


@dataclass(frozen=True, slots=True)
class Preset:
    """How one service's clients presign a WebSocket handshake."""

    name: str
    service: str  # the signing name in the credential scope
    purpose: str  # what the URL is for, as `describe` says it
    endpoint: str  # the default host[:port], `{region}` filled in; "" when the caller must name it
    path: str  # the default path
    expires: int | None  # X-Amz-Expires; None: left out
    max_expires: int | None  # what the service accepts, when less than SigV4's week
    layout: Layout
    subprotocol: str | None  # the Sec-WebSocket-Protocol the client asks for
    required: tuple[str, ...] = ()  # query parameters the service needs


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("iot", "iotdevicegateway", "AWS IoT Core MQTT over WebSocket", "", "/mqtt", None, None, "crt", "mqtt"),
    Preset("transcribe", "transcribe", "Amazon Transcribe streaming (StartStreamTranscriptionWebSocket)",
           "transcribestreaming.{region}.amazonaws.com:8443", "/stream-transcription-websocket", 300, 300,
           "signature-last", None, ("language-code", "media-encoding", "sample-rate")),
    Preset("transcribe-medical", "transcribe", "Amazon Transcribe Medical streaming "
           "(StartMedicalStreamTranscriptionWebSocket)", "transcribestreaming.{region}.amazonaws.com:8443",
           "/medical-stream-transcription-websocket", 300, 300, "signature-last", None,
           ("language-code", "media-encoding", "sample-rate", "specialty", "type")),
    Preset("kinesisvideo", "kinesisvideo", "Kinesis Video Streams WebRTC signaling", "", "/", 299, None, "sorted",
           None, ("X-Amz-ChannelARN",)),
    Preset("execute-api", "execute-api", "an API Gateway WebSocket API", "", "/", 300, None, "crt", None),
    Preset("appsync", "appsync", "AWS AppSync real-time subscriptions (GraphQL over WebSocket)", "", "/graphql",
           None, None, "crt", "graphql-ws"),
)}
PRESET_NAMES = tuple(PRESETS)

#: awscrt's order of the presigning parameters, after the request's own.
_CRT_ORDER = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires",
              "X-Amz-Security-Token", "X-Amz-Signature")
#: The headers Amplify's AppSync real-time provider signs besides host and date (AWS_APPSYNC_REALTIME_HEADERS).
APPSYNC_HEADERS = (("accept", "application/json, text/javascript"), ("content-encoding", "amz-1.0"),
                   ("content-type", "application/json; charset=UTF-8"))
APPSYNC_EMPTY_PAYLOAD = "e30="  # base64 of "{}": the connection carries no payload
_HOST = re.compile(r"[A-Za-z0-9.-]+(:\d{1,5})?\Z")
#: How far a service lets the signing time stray from its clock; a URL without X-Amz-Expires lives that long.
_SKEW = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class PresignedWebSocket:
    """A WebSocket URL ready to open, and the signature that went into it."""

    preset: str
    url: str
    #: The presign (AppSync: the header-signed `/graphql/connect` POST) with every intermediate.
    signing: SigningResult
    #: The `Sec-WebSocket-Protocol` the client asks for, when the service wants one.
    subprotocol: str | None

    @property
    def masked_url(self) -> str:
        """`url` with the session token masked (AppSync's inside its base64 header object too): for logs."""
        return masked_url(self.url)

    def __repr__(self) -> str:
        return f"PresignedWebSocket(preset={self.preset!r}, url={self.masked_url!r})"


def presign(service: str, credentials: Credentials, *, region: str, timestamp: datetime, endpoint: str | None = None,
            params: Mapping[str, str] | Iterable[tuple[str, str]] = (), expires: int | None = None,
            headers: Iterable[tuple[str, str]] = ()) -> PresignedWebSocket:
    """Presign the WebSocket handshake of `service` (a name in `PRESETS`).

    `endpoint`: a host (`abc-ats.iot.us-east-1.amazonaws.com`), `host:port`, or a
    `wss://` URL with a path and query; without one the preset's default (Transcribe's
    regional endpoint). `params` are query parameters added after the endpoint's own
    (Transcribe's `language-code`, KVS's `X-Amz-ChannelARN`). `expires` overrides the
    preset's `X-Amz-Expires`. `headers` are handshake headers to sign besides `host`, which
    the client must then send as given (awsiotsdk signs `Connection: Upgrade`).
    Returns a `PresignedWebSocket`; raises InvalidParameterError naming the field.
    """
    preset = PRESETS.get(service)
    if preset is None:
        raise InvalidParameterError(f"service: {service!r} is not one of {', '.join(PRESET_NAMES)}")
    host, path, query = _endpoint(preset, endpoint, region)
    pairs = _checked_pairs([*query, *(params.items() if isinstance(params, Mapping) else params)])
    if missing := [name for name in preset.required if name not in {n for n, _ in pairs}]:
        raise InvalidParameterError(f"params: {preset.name} needs {', '.join(missing)}")
    if preset.name == "appsync":
        if expires is not None:  # a signed header object, valid within AppSync's clock skew: no lifetime to set
            raise InvalidParameterError(f"expires: {expires} s; an AppSync header object has no expiry to set")
        return _appsync(preset, credentials, region, timestamp, host, pairs)
    lifetime = preset.expires if expires is None else expires
    if preset.max_expires is not None and lifetime is not None and lifetime > preset.max_expires:
        raise InvalidParameterError(f"expires: {lifetime} s; {preset.name} accepts at most {preset.max_expires} s")
    target = path + ("?" + "&".join(f"{uri_encode(n, keep_slash=False)}={uri_encode(v, keep_slash=False)}"
                                    for n, v in pairs) if pairs else "")
    request = Request("GET", f"wss://{host}{target}", [("Host", host), *headers])
    result = _presign(request, credentials, region=region, service=preset.service, timestamp=timestamp,
                      expires=lifetime, omit_session_token=preset.service in UNSIGNED_TOKEN_SERVICES,
                      unsigned_headers=())
    url = _arranged(result.url, preset.layout)
    return PresignedWebSocket(preset.name, url, result._replace(request=result.request.with_url(url)),
                              preset.subprotocol)


def _endpoint(preset: Preset, endpoint: str | None, region: str) -> tuple[str, str, list[tuple[str, str]]]:
    """(host[:port], path, the endpoint's own query pairs), the preset's defaults filled in."""
    text = endpoint or preset.endpoint.format(region=region)
    if not text:
        hint = "(aws iot describe-endpoint --endpoint-type iot:Data-ATS)" if preset.name == "iot" else "or wss:// URL"
        raise InvalidParameterError(f"endpoint: {preset.name} has no default endpoint; pass the host {hint}")
    scheme, sep, rest = text.rpartition("://")
    if sep and scheme.lower() not in ("wss", "https"):
        raise InvalidParameterError(f"endpoint: {text!r} must be a wss:// URL or a host")
    authority, slash, tail = rest.partition("/")
    # The default port is dropped, as the Host header a client sends leaves it out.
    authority = authority[:-4] if authority.endswith(":443") else authority
    if not _HOST.match(authority):
        raise InvalidParameterError(f"endpoint: {authority!r} is not a host name with an optional :port")
    path, _, query = (slash + tail).partition("?")
    if any(c.isspace() or not c.isprintable() or c == "#" for c in slash + tail):
        # A client would send another request than the one signed, or none: the URL printed is not one.
        raise InvalidParameterError(f"endpoint: {slash + tail!r}: a space, control character or '#' in the path "
                                    "or query; percent-encode it")
    return authority, path or preset.path, query_pairs(query) if query else []


def _checked_pairs(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The query parameters of the endpoint and the caller; raises InvalidParameterError for one signing sets."""
    for name, value in pairs:
        if not isinstance(name, str) or not isinstance(value, str) or not name:
            raise InvalidParameterError(f"params: {name!r}={value!r} must be a non-empty name and a text value")
        if name in _CRT_ORDER:
            raise InvalidParameterError(f"params: {name} is set by signing")
    return pairs


def _arranged(url: str, layout: Layout) -> str:
    """`url` with its query parameters laid out in the client's order (the raw text of each kept)."""
    head, _, query = url.partition("?")
    items = query.split("&")
    if layout == "crt":
        items.sort(key=lambda item: (_CRT_ORDER.index(name) + 1 if (name := item.partition("=")[0]) in _CRT_ORDER
                                     else 0))
    elif layout == "sorted":
        items.sort(key=lambda item: item.partition("="))
    else:
        items.sort(key=lambda item: (item.startswith("X-Amz-Signature="), item.partition("=")))
    return head + "?" + "&".join(items)


# -- AppSync real-time ---------------------------------------------------------------------------------

def appsync_authorization(credentials: Credentials, *, host: str, region: str, timestamp: datetime,
                          payload: str = "{}", canonical_uri: str = "/connect") -> tuple[dict[str, str], SigningResult]:
    """The IAM authorization object of an AppSync real-time message, as Amplify signs it.

    The handshake signs `{}` to `https://<host>/graphql/connect`; a subscription's
    `start` message signs its `data` JSON to `https://<host>/graphql` (`canonical_uri=""`).
    Returns (the header object, in Amplify's key order, the session token in it; the signing result).
    """
    request = Request("POST", f"https://{host}/graphql{canonical_uri}", APPSYNC_HEADERS, payload.encode("utf-8"))
    result = sign(request, credentials, region=region, service="appsync", timestamp=timestamp)
    signed = {name.lower(): value for name, value in result.request.headers}
    order = [*(name for name, _ in APPSYNC_HEADERS), "host", "x-amz-date", "x-amz-security-token", "authorization"]
    return {name: signed[name] for name in order if name in signed}, result


def _appsync_url(host: str, header: Mapping[str, str]) -> str:
    encoded = base64.b64encode(json.dumps(header, separators=(",", ":")).encode("utf-8")).decode("ascii")
    # A standard AppSync host has a real-time twin; a custom domain serves real-time under /graphql/realtime.
    realtime = host.replace(".appsync-api.", ".appsync-realtime-api.")
    path = "/graphql" if realtime != host else "/graphql/realtime"
    return f"wss://{realtime}{path}?header={quote(encoded, safe='=')}&payload={APPSYNC_EMPTY_PAYLOAD}"


def _appsync(preset: Preset, credentials: Credentials, region: str, timestamp: datetime, host: str,
             pairs: list[tuple[str, str]]) -> PresignedWebSocket:
    if pairs:
        raise InvalidParameterError("params: an AppSync handshake carries only its header and payload parameters")
    header, result = appsync_authorization(credentials, host=host, region=region, timestamp=timestamp)
    return PresignedWebSocket(preset.name, _appsync_url(host, header), result, preset.subprotocol)


def _is_appsync(url: str) -> bool:
    """Whether `url` carries AppSync's header object rather than a presigned query."""
    return "X-Amz-Signature=" not in url and "header=" in url


def masked_url(url: str) -> str:
    """A presigned WebSocket URL with its session token masked, in the query or in AppSync's header object."""
    if not _is_appsync(url):
        return mask_tokens(url)
    try:
        header = _appsync_header(url)
    except InvalidParameterError:
        return mask_tokens(url)
    if "x-amz-security-token" in header:
        header["x-amz-security-token"] = MASK
    return _appsync_url(header["host"], header)


# -- reading a URL back --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class WebSocketReport:
    """What `describe` found in a presigned WebSocket URL."""

    preset: str | None  # None: a presigned wss URL of no known preset
    url: str
    auth: SignedAuth
    #: When it stops working: its X-Amz-Expires, or for a URL without one, the signing time plus 15 minutes of skew.
    expires_at: datetime
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def looks_like_url(text: str) -> bool:
    """Whether `text` is one line that reads as a presigned WebSocket URL (or AppSync's real-time URL)."""
    text = text.strip()
    return (text.startswith(("wss://", "ws://")) and " " not in text
            and ("X-Amz-Signature=" in text or "header=" in text))


def _appsync_header(url: str) -> dict[str, str]:
    """The IAM authorization object an AppSync real-time URL carries in its `header` parameter."""
    values = dict(query_pairs(url.partition("?")[2]))
    try:
        header = json.loads(base64.b64decode(values.get("header", ""), validate=True))
    except (binascii.Error, ValueError):
        raise InvalidParameterError("url: its header parameter is not base64 of a JSON object") from None
    if not isinstance(header, dict) or not all(isinstance(v, str) for v in header.values()) or "host" not in header:
        raise InvalidParameterError("url: its header parameter holds no signed AppSync authorization object")
    return header


def handshake_request(url: str) -> Request:
    """The request whose signature a presigned WebSocket URL carries: the GET itself, or for AppSync the
    `POST /graphql/connect` (body `{}`) its header object signs. Raises InvalidParameterError for a broken
    AppSync header parameter."""
    if not _is_appsync(url):
        return Request("GET", url)
    header = _appsync_header(url)
    return Request("POST", f"https://{header['host']}/graphql/connect", list(header.items()), b"{}")


def _preset_of(request: Request, auth: SignedAuth) -> str | None:
    if auth.service == "transcribe":
        return "transcribe-medical" if request.path.startswith("/medical") else "transcribe"
    return next((p.name for p in PRESETS.values() if p.service == auth.service), None)


def describe(url: str, now: datetime) -> WebSocketReport:
    """Read a presigned WebSocket URL: which service it is for, its scope, and whether it works at `now`.

    Raises InvalidParameterError when `url` carries no signature that parses.
    """
    url = url.strip()
    request = handshake_request(url)
    try:
        auth = parse_auth(request)
    except VerificationError as err:
        raise InvalidParameterError(f"url: {str(err).removeprefix('request: ')}") from None
    preset = _preset_of(request, auth)
    try:
        expires_at = auth.expires_at or auth.signing_time + _SKEW
    except OverflowError:
        raise InvalidParameterError(f"url: signed at {auth.amz_date}, so it works until past year 9999") from None
    problems = []
    spec = PRESETS.get(preset or "")
    if spec is not None and auth.presigned:
        names = {name for name, _ in query_pairs(request.query)}
        if missing := [name for name in spec.required if name not in names]:
            problems.append(f"query: {', '.join(missing)} missing; {spec.name} requires it")
        if spec.max_expires is not None and auth.expires_at is not None \
                and auth.expires_at - auth.signing_time > timedelta(seconds=spec.max_expires):
            problems.append(f"X-Amz-Expires: more than the {spec.max_expires} s {spec.name} accepts")
    if auth.scope_date != auth.amz_date[:8]:
        problems.append(f"scope: date {auth.scope_date} is not the signing date {auth.amz_date[:8]}")
    host_region = region_in_host(request.authority)
    if host_region and auth.regions and host_region != auth.regions[0]:
        problems.append(f"scope: region {auth.regions[0]!r}, but the host {request.authority} is in {host_region!r}")
    now = now.astimezone(timezone.utc)
    if now >= expires_at:
        problems.append(f"expired: stopped working at {expires_at:%Y-%m-%dT%H:%M:%SZ}, "
                        f"{int((now - expires_at).total_seconds())} s before {now:%Y-%m-%dT%H:%M:%SZ}")
    elif auth.signing_time - now > _SKEW:
        problems.append(f"not yet valid: signed for {auth.amz_date}, more than 15 minutes after "
                        f"{now:%Y-%m-%dT%H:%M:%SZ}")
    return WebSocketReport(preset, url, auth, expires_at, tuple(problems))


def render_report(report: WebSocketReport, now: datetime) -> list[str]:
    """`report` as lines for a terminal; the session token is masked."""
    auth = report.auth
    spec = PRESETS.get(report.preset or "")
    left = int((report.expires_at - now.astimezone(timezone.utc)).total_seconds())
    lines = [
        f"websocket: {report.preset or 'unknown service'}"
        + (f" ({spec.purpose})" if spec else f" (signed for {auth.service!r}, which no preset names)"),
        f"url: {masked_url(report.url)}",
        "signature: " + ("presigned query" if auth.presigned else "IAM authorization object in the header "
                         f"parameter: it signs POST {handshake_request(report.url).url} with body {{}}"),
        f"access key: {auth.access_key_id}",
        f"credential scope: {auth.credential_scope}",
        f"signed headers: {';'.join(auth.signed_headers)}",
        f"signed at: {auth.signing_time:%Y-%m-%dT%H:%M:%SZ}",
        f"stops working: {report.expires_at:%Y-%m-%dT%H:%M:%SZ} ({f'in {left} s' if left > 0 else 'already'}; "
        + ("X-Amz-Expires" if auth.expires_at else "no X-Amz-Expires: the service allows its clock skew") + ")",
    ]
    lines += [f"problem: {p}" for p in report.problems] or ["ok: the URL is well formed and still valid"]
    return lines


__all__ = ["APPSYNC_HEADERS", "PRESETS", "PRESET_NAMES", "Preset", "PresignedWebSocket", "WebSocketReport",
           "appsync_authorization", "describe", "handshake_request", "looks_like_url", "masked_url", "presign",
           "render_report"]
