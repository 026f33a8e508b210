"""Tokens read back: which kind, the request a server verifies, its scope checked, when it stops working.

Strategy: the kind is read from the token's shape (a prefix, JSON, an
answer's `signature=`, a URL with user info, base64 of BSON or of 33 bytes,
else a presigned URL whose parameters name the recipe), then one reader per
shape rebuilds what the server rebuilds. A token that does not carry its
whole request (Keyspaces: the nonce stays with the server; MONGODB-AWS: the
nonce and host) carries its signature's claims; an SES SMTP password carries
neither. `describe` checks the claims against the kind's `Recipe` at a time
given as an argument; `render_report` masks the session token.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote, urlsplit

from ..bounded import json_loads
from ..canonical import query_pairs
from ..errors import InvalidParameterError, VerificationError
from ..redact import MASK, mask_tokens
from ..signed_auth import SignedAuth
from ..types import Request
from ..verify import parse_auth
from .api_key import BEDROCK_PREFIX, BEDROCK_VERSION
from .caller_identity import EKS_CLUSTER_HEADER, EKS_PREFIX, MONGODB_NONCE_HEADER, mongodb_fields, vault_sts_request
from .cassandra import KEYSPACES_EXPIRES, KEYSPACES_SERVICE
from .git import CODECOMMIT_SERVICE
from .parts import ALGORITHM, region_in_host
from .recipes import RECIPES, TokenKind
from .smtp import SES_SMTP_LEGACY_VERSION, SES_SMTP_VERSION


@dataclass(frozen=True, slots=True)
class DecodedToken:
    """A token turned back into what a server verifies."""

    kind: TokenKind
    request: Request | None  # the presigned or header-signed request, when the token carries it whole
    auth: SignedAuth | None = None  # the signature's claims when no whole request carries them (None: SES SMTP)
    facts: tuple[str, ...] = ()  # what else the token says, for `render_report` (never a session token)


def _unb64(text: str, alphabet: Callable[[str], bytes]) -> bytes:
    try:
        return alphabet(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidParameterError("token: not base64 text, a presigned URL or JSON") from None


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidParameterError("token: does not decode to a presigned URL") from None


def _decode_json(token: str) -> DecodedToken:
    try:
        fields = json_loads(token)
    except ValueError as err:
        raise InvalidParameterError(f"token: looks like Neptune or Vault JSON but does not parse ({err})") from None
    if isinstance(fields, dict) and "iam_http_request_method" in fields:
        request = vault_sts_request(token)
        role = fields.get("role")
        return DecodedToken("vault", request, facts=(f"role: {role if isinstance(role, str) else '(the default)'}",))
    if not isinstance(fields, dict) or not all(isinstance(fields.get(k), str) for k in ("Authorization", "Host")):
        raise InvalidParameterError("token: Neptune JSON needs string Authorization and Host fields")
    headers = [(name, str(fields[name])) for name in ("Host", "X-Amz-Date", "X-Amz-Security-Token", "Authorization")
               if isinstance(fields.get(name), str)]
    method = fields.get("HttpMethod", "GET")
    return DecodedToken("neptune", Request(method if isinstance(method, str) else "GET",
                                           f"https://{fields['Host']}/opencypher", headers))


def _decode_keyspaces(token: str) -> DecodedToken:
    fields = dict(part.partition("=")[::2] for part in token.split(","))
    if not {"signature", "access_key", "amzdate"} <= fields.keys():
        raise InvalidParameterError("token: a Keyspaces answer has signature=, access_key= and amzdate=")
    try:
        when = datetime.strptime(fields["amzdate"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
        expires_at = when + timedelta(seconds=KEYSPACES_EXPIRES)
    except ValueError:
        raise InvalidParameterError(f"token: amzdate {fields['amzdate']!r} is not YYYY-MM-DDTHH:MM:SS.mmmZ") from None
    except OverflowError:
        raise InvalidParameterError(f"token: signed at {fields['amzdate']}, so its lifetime ends past year 9999") \
            from None
    date = f"{when:%Y%m%d}"
    auth = SignedAuth("v4", ALGORITHM, False, fields["access_key"], date, (), KEYSPACES_SERVICE, ("host",),
                      fields["signature"], when, expires_at,
                      f"{date}/<the endpoint's region>/{KEYSPACES_SERVICE}/aws4_request", fields["amzdate"])
    facts = ["signed: PUT /authenticate, host:cassandra, SHA-256 of the server's nonce (not in the answer)"]
    if "session_token" in fields:
        facts.append(f"session token: {MASK} (sent with the answer)")
    return DecodedToken("keyspaces", None, auth, tuple(facts))


_CODECOMMIT_SHAPE = ("token: a CodeCommit URL is https://<key id>:<YYYYMMDDTHHMMSSZ><signature>"
                     "@git-codecommit.<region>.amazonaws.com/v1/repos/<name>")


def _decode_codecommit(token: str) -> DecodedToken:
    try:
        parts = urlsplit(token)
    except ValueError:  # an unbalanced '[' (urllib reads it as an IPv6 address)
        raise InvalidParameterError(_CODECOMMIT_SHAPE) from None
    password, user, host = parts.password or "", unquote(parts.username or ""), parts.hostname or ""
    region = region_in_host(host)
    if len(password) != 80 or password[15] != "Z" or not region or not parts.path.startswith("/v1/repos/"):
        raise InvalidParameterError(_CODECOMMIT_SHAPE)
    key_id, _, session = user.partition("%")
    stamp, signature = password[:16], password[16:]
    authorization = (f"{ALGORITHM} Credential={key_id}/{stamp[:8]}/{region}/{CODECOMMIT_SERVICE}/aws4_request, "
                     f"SignedHeaders=host, Signature={signature}")
    request = Request("GIT", f"https://{host}{parts.path}", [("X-Amz-Date", stamp), ("Authorization", authorization)])
    return DecodedToken("codecommit", request, facts=(f"user name: {key_id}" + (f"%{MASK}" if session else ""),))


def _decode_mongodb(data: bytes) -> DecodedToken:
    fields = mongodb_fields(base64.b64encode(data).decode("ascii"))
    auth = _parse(Request("POST", "https://sts.amazonaws.com/", [("X-Amz-Date", fields["d"]),
                                                                  ("Authorization", fields["a"])]))
    return DecodedToken("mongodb", None, auth, (f"session token: {MASK}",) if "t" in fields else ())


def _decode_ses_smtp(data: bytes) -> DecodedToken:
    version = {SES_SMTP_VERSION: "4 (bound to one region)", SES_SMTP_LEGACY_VERSION: "2 (retired: no region)"}
    return DecodedToken("ses_smtp", None, facts=(f"version: {version[data[0]]}",
                                                  "the region and secret key it came from are not recoverable"))


def _kind_of_url(url: str) -> TokenKind:
    params = dict(query_pairs(url.partition("?")[2]))
    action = params.get("Action", "")
    kind: TokenKind | None = (
        "rds" if "DBUser" in params else "dsql" if action.startswith("DbConnect")
        else ("memorydb" if "/memorydb/" in params.get("X-Amz-Credential", "") else "elasticache") if "User" in params
        else "msk" if action == "kafka-cluster:Connect" else "eks" if action == "GetCallerIdentity"
        else "bedrock" if action == "CallWithBearerToken" else None)
    if kind is None:
        raise InvalidParameterError("token: a presigned URL, but not one of the token recipes (no DBUser, User, "
                                    "DbConnect, kafka-cluster:Connect, GetCallerIdentity or CallWithBearerToken)")
    return kind


def _decode_url(token: str) -> DecodedToken:
    if token.startswith(BEDROCK_PREFIX):
        url = "https://" + _text(_unb64(token[len(BEDROCK_PREFIX):], base64.b64decode)).removesuffix(BEDROCK_VERSION)
    elif token.startswith(EKS_PREFIX):
        url = _text(_unb64(token[len(EKS_PREFIX):], base64.urlsafe_b64decode))
    elif "?" not in token and "/" not in token:
        url = _text(_unb64(token, base64.urlsafe_b64decode))
    else:
        # RDS, DSQL, ElastiCache and MemoryDB tokens drop the scheme; the caches sign `http://`, the others
        # `https://`, and neither changes the signature (the host is signed as written, port included).
        url = token if "://" in token else f"https://{token}"
    if "://" not in url or "?" not in url:
        raise InvalidParameterError("token: does not decode to a presigned URL")
    kind = _kind_of_url(url)
    if kind in ("elasticache", "memorydb") and not token.startswith(("http://", "https://")):
        url = "http://" + url.partition("://")[2]
    if kind == "msk":  # MSK's User-Agent rides unsigned after the signature; the broker verifies without it
        base, _, query = url.partition("?")
        url = f"{base}?{'&'.join(p for p in query.split('&') if not p.startswith('User-Agent='))}"
    return DecodedToken(kind, Request("POST" if kind == "bedrock" else "GET", url))


def _standard_b64(token: str) -> bytes | None:
    try:
        return base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        return None


def decode(token: str) -> DecodedToken:
    """Decode any token of `KINDS` back to what its server verifies.

    The kind is read from the token's shape: `bedrock-api-key-`, `k8s-aws-v1.`,
    JSON (Vault, Neptune), `signature=` (Keyspaces), `https://` with user info
    (CodeCommit), base64 of BSON (MONGODB-AWS) or of a version byte and 32
    bytes (SES SMTP), base64url (MSK), else a scheme-less presigned URL whose
    parameters name the recipe. Raises InvalidParameterError when the text is none of these.
    """
    token = token.strip()
    if not token:
        raise InvalidParameterError("token: empty")
    if token.startswith("{"):
        return _decode_json(token)
    if token.startswith("signature="):
        return _decode_keyspaces(token)
    if token.startswith("https://") and "@" in token.partition("?")[0]:
        return _decode_codecommit(token)
    data = None if "?" in token else _standard_b64(token)
    if data is not None and len(data) == 33 and data[0] in (SES_SMTP_VERSION, SES_SMTP_LEGACY_VERSION):
        return _decode_ses_smtp(data)
    if data is not None and len(data) >= 5 and int.from_bytes(data[:4], "little") == len(data):
        return _decode_mongodb(data)
    return _decode_url(token)


def is_token(text: str) -> bool:
    """Whether `text` decodes as a token of one of KINDS (see `decode`)."""
    try:
        decode(text)
    except InvalidParameterError:
        return False
    return True


def looks_like_token(text: str) -> bool:
    """Whether `text` has a token's shape (a token prefix, JSON, a URL with `Action=`) even if it is broken.

    A broken token given to `sigv4 explain` should be reported as a token, not as a file that cannot be read.
    """
    text = text.strip()
    # A one-line HAR or `send --json` record (`jq -c`) is a capture, not Neptune's JSON token.
    capture = text.startswith("{") and re.search(r'"(?:log|request)"\s*:', text) is not None
    return (text.startswith((EKS_PREFIX, BEDROCK_PREFIX, "signature=")) or (text.startswith("{") and not capture)
            or "@git-codecommit." in text or (" " not in text and "?" in text and "Action=" in text)
            or is_token(text))


@dataclass(frozen=True, slots=True)
class TokenReport:
    """What `describe` found: the decoded token, its signature's claims, and when it stops working."""

    token: DecodedToken
    auth: SignedAuth | None  # None for an SES SMTP password, which is a derived key, not a signature
    expires_at: datetime | None  # None: it lasts as long as the access key
    problems: tuple[str, ...]  # empty when the scope fits the recipe and the token is still valid at `now`

    @property
    def ok(self) -> bool:
        return not self.problems


def _parse(request: Request) -> SignedAuth:
    try:
        return parse_auth(request)
    except VerificationError as err:  # a token cut short (a shell ate what follows `&`) is bad input
        raise InvalidParameterError(f"token: {str(err).removeprefix('request: ')}") from None


#: Headers a kind's server needs signed, and what goes wrong without them.
_MUST_SIGN: dict[str, tuple[str, str]] = {
    "eks": (EKS_CLUSTER_HEADER, "EKS cannot tell which cluster it is for"),
    "mongodb": (MONGODB_NONCE_HEADER.lower(), "the server's nonce is not bound, so mongod refuses it"),
}


def _scope_problems(token: DecodedToken, auth: SignedAuth) -> list[str]:
    problems = []
    kind, expected = token.kind, RECIPES[token.kind].service
    authority = token.request.authority if token.request else ""
    if auth.service != expected:
        problems.append(f"scope: service {auth.service!r}, but a {kind} token is signed for {expected!r}")
    if auth.scope_date != auth.signing_time.strftime("%Y%m%d"):
        problems.append(f"scope: date {auth.scope_date} is not the signing date {auth.signing_time:%Y%m%d}")
    host_region = region_in_host(authority)
    if host_region and auth.regions and host_region != auth.regions[0]:
        problems.append(f"scope: region {auth.regions[0]!r}, but the host {authority} is in {host_region!r}")
    header, why = _MUST_SIGN.get(kind, ("", ""))
    if header and header not in auth.signed_headers:
        problems.append(f"signed headers: {header} is not signed; {why}")
    if kind == "neptune" and ":" not in authority:
        problems.append("Host: no port; Neptune signs host:port (usually :8182)")
    return problems


def _expiry(token: DecodedToken, auth: SignedAuth, now: datetime) -> tuple[datetime, list[str]]:
    # A presigned URL ends at its X-Amz-Expires, except EKS's, which the cluster honours for its own 15 minutes.
    lifetime = RECIPES[token.kind].lifetime or timedelta(0)
    try:
        expires_at = (auth.expires_at if auth.expires_at is not None and token.kind != "eks"
                      else auth.signing_time + lifetime)
    except OverflowError:
        raise InvalidParameterError(f"token: signed at {auth.amz_date}, so its lifetime ends past year 9999") from None
    if now >= expires_at:
        return expires_at, [f"expired: stopped working at {expires_at:%Y-%m-%dT%H:%M:%SZ}, "
                            f"{int((now - expires_at).total_seconds())} s before {now:%Y-%m-%dT%H:%M:%SZ}"]
    if auth.signing_time - now > timedelta(minutes=5):
        return expires_at, [f"not yet valid: signed for {auth.amz_date}, more than 5 minutes after "
                            f"{now:%Y-%m-%dT%H:%M:%SZ}"]
    return expires_at, []


def describe(token: str, now: datetime) -> TokenReport:
    """Decode `token`, check its credential scope against its recipe, and say when it stops working at `now`.

    Raises InvalidParameterError when `token` is no token or its signature
    parameters are missing or do not parse.
    """
    decoded = decode(token)
    auth = decoded.auth if decoded.auth or decoded.request is None else _parse(decoded.request)
    if auth is None:  # an SES SMTP password: a derived key, valid while the access key is
        retired = decoded.facts[0].startswith("version: 2")
        return TokenReport(decoded, None, None, ("version 2: SES SMTP endpoints no longer accept the retired "
                                                 "algorithm; derive a version 4 password",) if retired else ())
    expires_at, late = _expiry(decoded, auth, now.astimezone(timezone.utc))
    return TokenReport(decoded, auth, expires_at, tuple(_scope_problems(decoded, auth) + late))


def render_report(report: TokenReport, now: datetime) -> list[str]:
    """`report` as lines for a terminal; the session token is masked."""
    auth, request, recipe = report.auth, report.token.request, RECIPES[report.token.kind]
    lines = [f"token: {report.token.kind} ({recipe.service})", f"for: {recipe.purpose}"]
    if request is not None:
        lines.append(f"request: {request.method} {request.url}")
        lines += [f"  {name}: {value}" for name, value in request.headers]
    if auth is not None:
        lines += [
            f"access key: {auth.access_key_id}",
            f"credential scope: {auth.credential_scope}",
            f"signed headers: {';'.join(auth.signed_headers)}",
            f"signed at: {auth.signing_time:%Y-%m-%dT%H:%M:%SZ}",
        ]
    lines += list(report.token.facts)
    if report.expires_at is None:
        lines.append(f"stops working: never by itself ({recipe.why})")
    else:
        left = int((report.expires_at - now.astimezone(timezone.utc)).total_seconds())
        lines.append(f"stops working: {report.expires_at:%Y-%m-%dT%H:%M:%SZ} "
                     f"({f'in {left} s' if left > 0 else 'already'}; {recipe.why})")
    lines += [f"problem: {p}" for p in report.problems] or ["ok: scope fits the recipe and the token is still valid"]
    return [mask_tokens(line) for line in lines]
