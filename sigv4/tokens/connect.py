"""Connect tokens: the presigned `connect` requests that databases, caches and Kafka clusters take as a password.

Strategy: each is a SigV4 presigned GET of a fixed URL, 900 seconds: the
token is that URL without its scheme (RDS, DSQL, ElastiCache, MemoryDB) or
base64url of it (MSK); Neptune signs headers, not a URL, and its token is
those headers as JSON. ElastiCache and MemoryDB sign the cache or cluster
*name* as the host, not the endpoint, over `http://`.
"""

from __future__ import annotations

import json
from datetime import datetime

from ..signer import sign
from ..types import Credentials, Request
from .parts import (BOTOCORE_ORDER, HOST, b64url, check_port, check_text, in_order, presigned_url, query,
                    without_scheme)

CONNECT_EXPIRES = 900
#: aws-msk-iam-sasl-signer appends an unsigned User-Agent parameter naming the client.
MSK_USER_AGENT = "sigv4-toolkit"
NEPTUNE_FIELDS = ("Authorization", "X-Amz-Date", "X-Amz-Security-Token", "Host")


def rds(host: str, port: int, user: str, credentials: Credentials, region: str, timestamp: datetime) -> str:
    """The RDS IAM authentication token (the password for `user`), as botocore's `generate_db_auth_token`.

    Returns `host:port/?Action=connect&DBUser=...&X-Amz-...` (no scheme), valid
    for 900 seconds. Raises InvalidParameterError (or another SigningError) for bad input.
    """
    host = check_text("host", host, HOST)
    url = f"https://{host}:{check_port(port)}/?{query([('Action', 'connect'), ('DBUser', check_text('user', user))])}"
    return without_scheme(in_order(presigned_url(url, credentials, region, "rds-db", timestamp, CONNECT_EXPIRES),
                                   BOTOCORE_ORDER))


def dsql(host: str, credentials: Credentials, region: str, timestamp: datetime, admin: bool = False) -> str:
    """The Aurora DSQL token, as botocore's `generate_db_connect_auth_token` (`admin=True`: `..._admin_...`).

    Returns `host/?Action=DbConnect[Admin]&X-Amz-...` (no scheme), valid for 900 seconds.
    """
    host = check_text("host", host, HOST)
    action = "DbConnectAdmin" if admin else "DbConnect"
    return without_scheme(in_order(presigned_url(
        f"https://{host}/?Action={action}", credentials, region, "dsql", timestamp, CONNECT_EXPIRES), BOTOCORE_ORDER))


def _cache_token(service: str, field: str, name: str, user: str, credentials: Credentials, region: str,
                 timestamp: datetime, extra: tuple[tuple[str, str], ...] = ()) -> str:
    params = [("Action", "connect"), ("User", check_text("user", user)), *extra]
    url = f"http://{check_text(field, name, HOST)}/?{query(params)}"
    return without_scheme(in_order(presigned_url(url, credentials, region, service, timestamp, CONNECT_EXPIRES),
                                   BOTOCORE_ORDER))


def elasticache(cache_name: str, user: str, credentials: Credentials, region: str, timestamp: datetime,
                serverless: bool = False) -> str:
    """The ElastiCache (Valkey, Redis OSS) IAM token for `user`, by AWS's documented recipe.

    The cache or replication-group name is the signed host, not the endpoint:
    `GET http://<cache_name>/?Action=connect&User=<user>` (`serverless=True`
    adds `ResourceType=ServerlessCache`), presigned for service `elasticache`
    and 900 seconds; the token is that URL without `http://`.
    """
    extra = (("ResourceType", "ServerlessCache"),) if serverless else ()
    return _cache_token("elasticache", "cache_name", cache_name, user, credentials, region, timestamp, extra)


def memorydb(cluster_name: str, user: str, credentials: Credentials, region: str, timestamp: datetime) -> str:
    """The MemoryDB (Valkey, Redis OSS) IAM token for `user`, by the recipe in AWS's MemoryDB guide.

    As ElastiCache's, for service `memorydb`: `GET http://<cluster_name>/?Action=connect&User=<user>`
    presigned for 900 seconds, returned without `http://`. The cluster name is signed, not its endpoint.
    """
    return _cache_token("memorydb", "cluster_name", cluster_name, user, credentials, region, timestamp)


def msk(credentials: Credentials, region: str, timestamp: datetime, *, user_agent: str = MSK_USER_AGENT) -> str:
    """The MSK IAM SASL token, as `aws-msk-iam-sasl-signer-python` makes it.

    Unpadded base64url of `https://kafka.<region>.amazonaws.com/?Action=kafka-cluster%3AConnect&X-Amz-...`
    (900 seconds) with an unsigned `User-Agent` parameter after the signature.
    """
    signed = presigned_url(f"https://kafka.{region}.amazonaws.com/?Action=kafka-cluster%3AConnect", credentials,
                           region, "kafka-cluster", timestamp, CONNECT_EXPIRES)
    return b64url(f"{signed}&{query([('User-Agent', check_text('user_agent', user_agent))])}")


def neptune(host: str, port: int, credentials: Credentials, region: str, timestamp: datetime) -> str:
    """The Neptune IAM token for openCypher over Bolt (the password; the user name is ignored).

    A header signature of `GET /opencypher` with `Host: host:port` (the port is
    signed) for `neptune-db`, returned as AWS's recipe writes it: JSON with
    `Authorization`, `X-Amz-Date`, `X-Amz-Security-Token` (null without a
    session token), `Host` and `HttpMethod`. Neptune accepts it for 5 minutes.
    """
    authority = f"{check_text('host', host, HOST)}:{check_port(port)}"
    signed = sign(Request("GET", f"https://{authority}/opencypher", [("Host", authority)]), credentials,
                  region=region, service="neptune-db", timestamp=timestamp).request
    fields: dict[str, str | None] = {name: signed.header(name) for name in NEPTUNE_FIELDS}
    fields["HttpMethod"] = signed.method
    return json.dumps(fields)
