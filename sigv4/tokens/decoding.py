"""IAM authentication tokens: the presigned requests that databases and clusters take as a password.

Strategy: every token is a SigV4 signature over a fixed request, built from a
small table of recipes (service, expiry, the request's shape); the token is
that presigned URL without its scheme (RDS, DSQL, ElastiCache), base64url of
it (MSK; EKS behind `k8s-aws-v1.`), or, for Neptune, the signed headers as
JSON (Neptune signs headers, not a URL). The query parameters come in the
order the reference implementation writes them, so a token equals the
reference's byte for byte; order does not change a signature (the canonical
query is sorted), only the text.

`decode` and `describe` go the other way: any token back to the request a
server verifies, its scope checked against its recipe and its end of life
computed from the signing time. Pure: the time comes in as an argument.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal

from .canonical import query_pairs, uri_encode
from .errors import InvalidParameterError, VerificationError
from .signer import presign, sign
from .redact import mask_tokens
from .types import Credentials, Request
from .signed_auth import SignedAuth
from .verify import parse_auth

TokenKind = Literal["rds", "dsql", "eks", "elasticache", "msk", "neptune"]

#: Kinds of token, in the order the CLI lists them.
KINDS: tuple[TokenKind, ...] = ("rds", "dsql", "eks", "elasticache", "msk", "neptune")


@dataclass(frozen=True, slots=True)
class Recipe:
    """What a token of one kind signs and how long a server accepts it."""

    service: str  # the credential scope's service
    lifetime: timedelta  # from the signing time until the server refuses it
    why: str  # where `lifetime` comes from, for `describe`


RECIPES: Mapping[TokenKind, Recipe] = {
    "rds": Recipe("rds-db", timedelta(seconds=900), "X-Amz-Expires=900 (RDS accepts a token for 15 minutes)"),
    "dsql": Recipe("dsql", timedelta(seconds=900), "X-Amz-Expires"),
    # aws-iam-authenticator accepts a token for 15 minutes after X-Amz-Date, whatever X-Amz-Expires says;
    # `aws eks get-token` reports an expiry of 14 minutes to stay inside that.
    "eks": Recipe("sts", timedelta(minutes=15), "EKS accepts a token for 15 minutes after X-Amz-Date"),
    "elasticache": Recipe("elasticache", timedelta(seconds=900),
                          "X-Amz-Expires=900 (an authenticated connection itself lasts 12 hours)"),
    "msk": Recipe("kafka-cluster", timedelta(seconds=900), "X-Amz-Expires=900"),
    # Neptune signs headers; it accepts a signature within 5 minutes of X-Amz-Date.
    "neptune": Recipe("neptune-db", timedelta(minutes=5), "Neptune accepts a header signature for 5 minutes"),
}

RDS_EXPIRES = DSQL_EXPIRES = ELASTICACHE_EXPIRES = MSK_EXPIRES = 900
EKS_EXPIRES = 60
EKS_PREFIX = "k8s-aws-v1."
EKS_CLUSTER_HEADER = "x-k8s-aws-id"
STS_API_VERSION = "2011-06-15"
#: aws-msk-iam-sasl-signer appends an unsigned User-Agent parameter naming the client.
MSK_USER_AGENT = "sigv4-toolkit"

# botocore's `generate_presigned_url` writes SignedHeaders before Expires (its
# SigV4QueryAuth alone, as the MSK signer uses it, writes them the other way).
_BOTOCORE_ORDER = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires",
                   "X-Amz-Security-Token", "X-Amz-Signature")
# A host name or cache name: no scheme, path, user info, whitespace or control bytes.
_HOST = re.compile(r"[^\s/?#@\\]+\Z")
_REGION_IN_HOST = re.compile(r"(?<![a-z])((?:[a-z]{2}|us-gov|us-iso[a-z]?|eu-isoe?)-[a-z]+-\d+)(?![a-z0-9])")
_NEPTUNE_FIELDS = ("Authorization", "X-Amz-Date", "X-Amz-Security-Token", "Host")


def _check_text(field: str, value: object, pattern: re.Pattern[str] | None = None) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidParameterError(f"{field}: must be a non-empty string")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise InvalidParameterError(f"{field}: {value!r} contains a control character")
    if pattern is not None and not pattern.match(value):
        raise InvalidParameterError(f"{field}: {value!r} must be a bare host name (no scheme, path, '@' or space)")
    return value


def _check_port(port: object) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise InvalidParameterError(f"port: {port!r} must be an integer 1..65535")
    return port


def _query(params: Sequence[tuple[str, str]]) -> str:
    return "&".join(f"{name}={uri_encode(value, keep_slash=False)}" for name, value in params)


def _in_order(url: str, order: Sequence[str]) -> str:
    """`url` with the query parameters named in `order` moved after the others, in that order."""
    base, _, query = url.partition("?")
    parts = query.split("&")
    rank = {name: i for i, name in enumerate(order)}
    parts.sort(key=lambda part: rank.get(part.partition("=")[0], -1))  # stable: the others keep their places
    return f"{base}?{'&'.join(parts)}"


def _presigned_url(url: str, credentials: Credentials, region: str, service: str, timestamp: datetime,
                   expires: int, headers: Sequence[tuple[str, str]] = ()) -> str:
    return presign(Request("GET", url, headers), credentials, region=region, service=service,
                   timestamp=timestamp, expires=expires).request.url


def _without_scheme(url: str) -> str:
    return url.partition("://")[2]


def rds(host: str, port: int, user: str, credentials: Credentials, region: str, timestamp: datetime) -> str:
    """The RDS IAM authentication token (the password for `user`), as botocore's `generate_db_auth_token`.

    Returns `host:port/?Action=connect&DBUser=...&X-Amz-...` (no scheme), valid
    for 900 seconds. Raises InvalidParameterError (or another SigningError) for bad input.
    """
    host = _check_text("host", host, _HOST)
    url = f"https://{host}:{_check_port(port)}/?{_query([('Action', 'connect'), ('DBUser', _check_text('user', user))])}"
    return _without_scheme(_in_order(
        _presigned_url(url, credentials, region, RECIPES["rds"].service, timestamp, RDS_EXPIRES), _BOTOCORE_ORDER))


def dsql(host: str, credentials: Credentials, region: str, timestamp: datetime, admin: bool = False) -> str:
    """The Aurora DSQL token, as botocore's `generate_db_connect_auth_token` (`admin=True`: `..._admin_...`).

    Returns `host/?Action=DbConnect[Admin]&X-Amz-...` (no scheme), valid for 900 seconds.
    """
    host = _check_text("host", host, _HOST)
    action = "DbConnectAdmin" if admin else "DbConnect"
    return _without_scheme(_in_order(_presigned_url(
        f"https://{host}/?Action={action}", credentials, region, RECIPES["dsql"].service, timestamp, DSQL_EXPIRES),
        _BOTOCORE_ORDER))


def sts_host(region: str) -> str:
    """The regional STS endpoint host for `region` (China regions are under `amazonaws.com.cn`)."""
    return f"sts.{region}.amazonaws.com" + (".cn" if region.startswith("cn-") else "")


def eks(cluster: str, credentials: Credentials, region: str, timestamp: datetime) -> str:
    """The EKS bearer token for `cluster`, as `aws eks get-token` makes it.

    Returns `k8s-aws-v1.` + unpadded base64url of a presigned STS
    GetCallerIdentity URL (`X-Amz-Expires=60`) that signs the
    `x-k8s-aws-id: <cluster>` header. EKS accepts it for 15 minutes.
    """
    cluster = _check_text("cluster", cluster)
    url = f"https://{sts_host(region)}/?Action=GetCallerIdentity&Version={STS_API_VERSION}"
    signed = _in_order(_presigned_url(url, credentials, region, RECIPES["eks"].service, timestamp, EKS_EXPIRES,
                                      [(EKS_CLUSTER_HEADER, cluster)]), _BOTOCORE_ORDER)
    return EKS_PREFIX + _b64url(signed)


def elasticache(cache_name: str, user: str, credentials: Credentials, region: str, timestamp: datetime,
                serverless: bool = False) -> str:
    """The ElastiCache (Valkey, Redis OSS) IAM token for `user`, by AWS's documented recipe.

    The cache or replication-group name is the signed host, not the endpoint:
    `GET http://<cache_name>/?Action=connect&User=<user>` (`serverless=True`
    adds `ResourceType=ServerlessCache`), presigned for service `elasticache`
    and 900 seconds; the token is that URL without `http://`.
    """
    cache_name = _check_text("cache_name", cache_name, _HOST)
    params = [("Action", "connect"), ("User", _check_text("user", user))]
    if serverless:
        params.append(("ResourceType", "ServerlessCache"))
    url = f"http://{cache_name}/?{_query(params)}"
    return _without_scheme(_in_order(_presigned_url(
        url, credentials, region, RECIPES["elasticache"].service, timestamp, ELASTICACHE_EXPIRES), _BOTOCORE_ORDER))


def msk(credentials: Credentials, region: str, timestamp: datetime, *, user_agent: str = MSK_USER_AGENT) -> str:
    """The MSK IAM SASL token, as `aws-msk-iam-sasl-signer-python` makes it.

    Unpadded base64url of `https://kafka.<region>.amazonaws.com/?Action=kafka-cluster%3AConnect&X-Amz-...`
    (900 seconds) with an unsigned `User-Agent` parameter after the signature.
    """
    signed = _presigned_url(f"https://kafka.{region}.amazonaws.com/?Action=kafka-cluster%3AConnect", credentials,
                            region, RECIPES["msk"].service, timestamp, MSK_EXPIRES)
    return _b64url(f"{signed}&{_query([('User-Agent', _check_text('user_agent', user_agent))])}")


def neptune(host: str, port: int, credentials: Credentials, region: str, timestamp: datetime) -> str:
    """The Neptune IAM token for openCypher over Bolt (the password; the user name is ignored).

    A header signature of `GET /opencypher` with `Host: host:port` (the port is
    signed) for `neptune-db`, returned as AWS's recipe writes it: JSON with
    `Authorization`, `X-Amz-Date`, `X-Amz-Security-Token` (null without a
    session token), `Host` and `HttpMethod`. Neptune accepts it for 5 minutes.
    """
    authority = f"{_check_text('host', host, _HOST)}:{_check_port(port)}"
    signed = sign(Request("GET", f"https://{authority}/opencypher", [("Host", authority)]), credentials,
                  region=region, service=RECIPES["neptune"].service, timestamp=timestamp).request
    fields: dict[str, str | None] = {name: signed.header(name) for name in _NEPTUNE_FIELDS}
    fields["HttpMethod"] = signed.method
    return json.dumps(fields)


#: Each kind's maker; `issue` calls them by keyword.
MAKERS: Mapping[TokenKind, Callable[..., str]] = {
    "rds": rds, "dsql": dsql, "eks": eks, "elasticache": elasticache, "msk": msk, "neptune": neptune,
}
#: Each kind's inputs besides credentials, region and timestamp (`port` is an int, `admin` and `serverless` bools).
FIELDS: Mapping[TokenKind, tuple[str, ...]] = {
    "rds": ("host", "port", "user"), "dsql": ("host", "admin"), "eks": ("cluster",),
    "elasticache": ("cache_name", "user", "serverless"), "msk": (), "neptune": ("host", "port"),
}


def issue(kind: str, credentials: Credentials, region: str, timestamp: datetime, **fields: object) -> str:
    """The token of `kind` (one of KINDS) for `fields` (see FIELDS). Raises InvalidParameterError for an unknown kind."""
    if kind not in MAKERS:
        raise InvalidParameterError(f"kind: {kind!r} is not one of {', '.join(KINDS)}")
    return MAKERS[kind](credentials=credentials, region=region, timestamp=timestamp, **fields)  # type: ignore[index]


def region_in_host(host: str) -> str | None:
    """The AWS region named in an endpoint host (`db.x.eu-west-1.rds.amazonaws.com` -> `eu-west-1`), or None."""
    found = _REGION_IN_HOST.search(host.lower())
    return found.group(1) if found else None


def _b64url(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


# -- decoding -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DecodedToken:
    """A token turned back into the request a server verifies."""

    kind: TokenKind
    request: Request  # the presigned GET (URL with a scheme), or Neptune's header-signed GET


def _unb64url(text: str) -> str:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("utf-8")
    except (binascii.Error, ValueError):
        raise InvalidParameterError("token: not base64url text, a presigned URL or Neptune JSON") from None


def _decode_neptune(token: str) -> DecodedToken:
    try:
        fields = json.loads(token)
    except ValueError as err:
        raise InvalidParameterError(f"token: looks like Neptune JSON but does not parse ({err})") from None
    if not isinstance(fields, dict) or not all(isinstance(fields.get(k), str) for k in ("Authorization", "Host")):
        raise InvalidParameterError("token: Neptune JSON needs string Authorization and Host fields")
    headers = [(name, str(fields[name])) for name in ("Host", "X-Amz-Date", "X-Amz-Security-Token", "Authorization")
               if isinstance(fields.get(name), str)]
    method = fields.get("HttpMethod", "GET")
    return DecodedToken("neptune", Request(method if isinstance(method, str) else "GET",
                                           f"https://{fields['Host']}/opencypher", headers))


def _kind_of_url(url: str) -> TokenKind:
    params = dict(query_pairs(url.partition("?")[2]))
    action = params.get("Action", "")
    kind: TokenKind | None = ("rds" if "DBUser" in params else "dsql" if action.startswith("DbConnect")
                              else "elasticache" if "User" in params else "msk" if action == "kafka-cluster:Connect"
                              else "eks" if action == "GetCallerIdentity" else None)
    if kind is None:
        raise InvalidParameterError("token: a presigned URL, but not one of the token recipes "
                                    "(no DBUser, User, DbConnect, kafka-cluster:Connect or GetCallerIdentity)")
    return kind


def decode(token: str) -> DecodedToken:
    """Decode any token of `KINDS` back to the request its server verifies.

    The kind is read from the token's shape: `k8s-aws-v1.` (EKS), JSON
    (Neptune), base64url (MSK), else a scheme-less presigned URL whose
    parameters name the recipe. Raises InvalidParameterError when the text is none of these.
    """
    token = token.strip()
    if not token:
        raise InvalidParameterError("token: empty")
    if token.startswith("{"):
        return _decode_neptune(token)
    if token.startswith(EKS_PREFIX):
        url = _unb64url(token[len(EKS_PREFIX):])
    elif "?" not in token and "/" not in token:
        url = _unb64url(token)
    else:
        # RDS, DSQL and ElastiCache tokens drop the scheme; ElastiCache signs `http://`, the others `https://`,
        # and neither changes the signature (the host is signed as written, port included).
        url = token if "://" in token else f"https://{token}"
    if "://" not in url or "?" not in url:
        raise InvalidParameterError("token: does not decode to a presigned URL")
    kind = _kind_of_url(url)
    if kind == "elasticache" and not token.startswith(("http://", "https://")):
        url = "http://" + url.partition("://")[2]
    if kind == "msk":  # MSK's User-Agent rides unsigned after the signature; the broker verifies without it
        base, _, query = url.partition("?")
        url = f"{base}?{'&'.join(p for p in query.split('&') if not p.startswith('User-Agent='))}"
    return DecodedToken(kind, Request("GET", url))


def is_token(text: str) -> bool:
    """Whether `text` decodes as a token of one of KINDS (see `decode`)."""
    try:
        decode(text)
    except InvalidParameterError:
        return False
    return True


def looks_like_token(text: str) -> bool:
    """Whether `text` has a token's shape (`k8s-aws-v1.`, Neptune JSON, a URL with `Action=`) even if it is broken.

    A broken token given to `sigv4 explain` should be reported as a token, not as a file that cannot be read.
    """
    text = text.strip()
    return text.startswith((EKS_PREFIX, "{")) or (" " not in text and "?" in text and "Action=" in text) or is_token(text)


@dataclass(frozen=True, slots=True)
class TokenReport:
    """What `describe` found: the decoded token, its parsed signature, and when it stops working."""

    token: DecodedToken
    auth: SignedAuth
    expires_at: datetime
    problems: tuple[str, ...]  # empty when the scope fits the recipe and the token is still valid at `now`

    @property
    def ok(self) -> bool:
        return not self.problems


def _scope_problems(kind: TokenKind, request: Request, auth: SignedAuth) -> list[str]:
    problems = []
    expected = RECIPES[kind].service
    if auth.service != expected:
        problems.append(f"scope: service {auth.service!r}, but a {kind} token is signed for {expected!r}")
    if auth.scope_date != auth.signing_time.strftime("%Y%m%d"):
        problems.append(f"scope: date {auth.scope_date} is not the signing date {auth.signing_time:%Y%m%d}")
    host_region = region_in_host(request.authority)
    if host_region and auth.regions and host_region != auth.regions[0]:
        problems.append(f"scope: region {auth.regions[0]!r}, but the host {request.authority} is in {host_region!r}")
    if kind == "eks" and EKS_CLUSTER_HEADER not in auth.signed_headers:
        problems.append(f"signed headers: {EKS_CLUSTER_HEADER} is not signed; EKS cannot tell which cluster it is for")
    if kind == "neptune" and ":" not in request.authority:
        problems.append("Host: no port; Neptune signs host:port (usually :8182)")
    return problems


def describe(token: str, now: datetime) -> TokenReport:
    """Decode `token`, check its credential scope against its recipe, and say when it stops working at `now`.

    Raises InvalidParameterError when `token` is no token or its signature
    parameters are missing or do not parse.
    """
    decoded = decode(token)
    try:
        auth = parse_auth(decoded.request)
    except VerificationError as err:  # a token cut short (a shell ate what follows `&`) is bad input
        raise InvalidParameterError(f"token: {str(err).removeprefix('request: ')}") from None
    # A presigned URL ends at its X-Amz-Expires, except EKS's, which the cluster honours for its own 15 minutes.
    expires_at = (auth.expires_at if auth.expires_at is not None and decoded.kind != "eks"
                  else auth.signing_time + RECIPES[decoded.kind].lifetime)
    problems = _scope_problems(decoded.kind, decoded.request, auth)
    now = now.astimezone(timezone.utc)
    if now >= expires_at:
        problems.append(f"expired: stopped working at {expires_at:%Y-%m-%dT%H:%M:%SZ}, "
                        f"{int((now - expires_at).total_seconds())} s before {now:%Y-%m-%dT%H:%M:%SZ}")
    elif auth.signing_time - now > timedelta(minutes=5):
        problems.append(f"not yet valid: signed for {auth.amz_date}, more than 5 minutes after "
                        f"{now:%Y-%m-%dT%H:%M:%SZ}")
    return TokenReport(decoded, auth, expires_at, tuple(problems))


def render_report(report: TokenReport, now: datetime) -> list[str]:
    """`report` as lines for a terminal; the session token is masked."""
    auth, request = report.auth, report.token.request
    left = int((report.expires_at - now.astimezone(timezone.utc)).total_seconds())
    lines = [
        f"token: {report.token.kind} ({RECIPES[report.token.kind].service})",
        f"request: {request.method} {request.url}",
    ]
    lines += [f"  {name}: {value}" for name, value in request.headers]
    lines += [
        f"access key: {auth.access_key_id}",
        f"credential scope: {auth.credential_scope}",
        f"signed headers: {';'.join(auth.signed_headers)}",
        f"signed at: {auth.signing_time:%Y-%m-%dT%H:%M:%SZ}",
        f"stops working: {report.expires_at:%Y-%m-%dT%H:%M:%SZ} "
        f"({f'in {left} s' if left > 0 else 'already'}; {RECIPES[report.token.kind].why})",
    ]
    lines += [f"problem: {p}" for p in report.problems] or ["ok: scope fits the recipe and the token is still valid"]
    return [mask_tokens(line) for line in lines]


__all__ = ["FIELDS", "KINDS", "MAKERS", "RECIPES", "DecodedToken", "Recipe", "TokenKind", "TokenReport", "decode",
           "describe", "dsql", "eks", "elasticache", "is_token", "issue", "msk", "neptune", "rds", "region_in_host",
           "render_report", "sts_host"]
