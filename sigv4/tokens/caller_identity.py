"""Proofs of identity by a signed STS GetCallerIdentity: EKS, MONGODB-AWS and Vault's AWS IAM login.

Strategy: the client signs a GetCallerIdentity it does not send; the server
(the EKS authenticator, mongod, Vault) forwards it to STS and trusts the
answer's ARN. What each adds to the request binds it to that server: EKS
signs `x-k8s-aws-id: <cluster>` into a presigned URL; MONGODB-AWS signs the
server's nonce (`X-MongoDB-Server-Nonce`) into headers and sends only the
Authorization, date and token as BSON; Vault may require
`X-Vault-AWS-IAM-Server-ID` and takes the whole request, base64'd in JSON.
`mongodb_sts_request` and `vault_sts_request` are the server's side: the
request it forwards to STS.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timedelta, timezone

from ..bounded import json_loads
from ..errors import InvalidParameterError
from ..signer import sign
from ..types import Credentials, Request
from .bson_text import decode_strings, encode_strings
from .parts import (BOTOCORE_ORDER, FORM_CONTENT_TYPE, GET_CALLER_IDENTITY, HOST, STS_API_VERSION, b64url,
                    check_text, in_order, presigned_url, sts_host)

EKS_EXPIRES = 60
EKS_PREFIX = "k8s-aws-v1."
EKS_CLUSTER_HEADER = "x-k8s-aws-id"
#: The STS host a MongoDB server names when it names none (the driver spec's default).
MONGODB_STS_HOST = "sts.amazonaws.com"
MONGODB_NONCE_HEADER = "X-MongoDB-Server-Nonce"
MONGODB_NONCE_BYTES = 64  # the client's 32 random bytes, then the server's 32
#: hvac signs for the global STS endpoint, whatever the region of the scope.
VAULT_STS_HOST = "sts.amazonaws.com"
VAULT_SERVER_ID_HEADER = "X-Vault-AWS-IAM-Server-ID"
_VAULT_CONTENT_TYPE = FORM_CONTENT_TYPE + "; charset=utf-8"


def eks(cluster: str, credentials: Credentials, region: str, timestamp: datetime) -> str:
    """The EKS bearer token for `cluster`, as `aws eks get-token` makes it.

    Returns `k8s-aws-v1.` + unpadded base64url of a presigned STS
    GetCallerIdentity URL (`X-Amz-Expires=60`) that signs the
    `x-k8s-aws-id: <cluster>` header. EKS accepts it for 15 minutes.
    """
    cluster = check_text("cluster", cluster)
    url = f"https://{sts_host(region)}/?Action=GetCallerIdentity&Version={STS_API_VERSION}"
    signed = in_order(presigned_url(url, credentials, region, "sts", timestamp, EKS_EXPIRES,
                                    [(EKS_CLUSTER_HEADER, cluster)]), BOTOCORE_ORDER)
    return EKS_PREFIX + b64url(signed)


#: kubectl's ExecCredential API versions `aws eks get-token` answers in: the one KUBERNETES_EXEC_INFO asks
#: for when it is one of these, else v1beta1 (v1alpha1 is answered in too, with a deprecation warning).
EXEC_CREDENTIAL_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
EXEC_CREDENTIAL_DEPRECATED = "client.authentication.k8s.io/v1alpha1"
#: The expiry `aws eks get-token` reports: a minute inside EKS's 15, so client-go refreshes in time.
EKS_REPORTED_LIFETIME = timedelta(minutes=14)


def exec_credential(token: str, timestamp: datetime, exec_info: str | None = None) -> tuple[str, str | None]:
    """(the ExecCredential JSON kubectl's exec plugin reads, a warning for stderr or None), as `aws eks get-token`
    prints them: its keys in its order, 4-space indent, `expirationTimestamp` `EKS_REPORTED_LIFETIME` after
    `timestamp` (the token's signing time). `exec_info` is KUBERNETES_EXEC_INFO, which names the API version."""
    version, warning = EXEC_CREDENTIAL_VERSIONS[1], None
    try:
        asked = json_loads(exec_info).get("apiVersion") if exec_info else version
    except (ValueError, AttributeError):
        asked, warning = version, (f"Error parsing KUBERNETES_EXEC_INFO, defaulting to {version}. This is likely "
                                   "a bug in your Kubernetes client. Please update your Kubernetes client.")
    if asked in EXEC_CREDENTIAL_VERSIONS or asked == EXEC_CREDENTIAL_DEPRECATED:
        version = asked
        if asked == EXEC_CREDENTIAL_DEPRECATED:
            warning = (f"Kubeconfig user entry is using deprecated API version {asked}. Run 'aws eks "
                       "update-kubeconfig' to update.")
    elif warning is None:
        warning = (f"Unrecognized API version in KUBERNETES_EXEC_INFO, defaulting to {version}. This is likely "
                   "due to an outdated AWS CLI. Please update your AWS CLI.")
    expires = timestamp.astimezone(timezone.utc) + EKS_REPORTED_LIFETIME
    document = {"kind": "ExecCredential", "apiVersion": version, "spec": {},
                "status": {"expirationTimestamp": f"{expires:%Y-%m-%dT%H:%M:%SZ}", "token": token}}
    return json.dumps(document, indent=4) + "\n", warning


def exec_credential_token(text: str) -> str:
    """The token in `text` when it is an ExecCredential JSON (`token eks --exec-credential`, `aws eks get-token`),
    else `text` unchanged, so that `sigv4 explain` reads what kubectl's exec plugin reads. Never raises."""
    if not text.lstrip().startswith("{") or '"ExecCredential"' not in text:
        return text
    try:
        document = json_loads(text)
    except ValueError:
        return text
    status = document.get("status") if isinstance(document, dict) else None
    token = status.get("token") if isinstance(status, dict) else None
    return token if isinstance(token, str) and document.get("kind") == "ExecCredential" else text


def mongodb_region(sts_host: str) -> str:
    """The region MONGODB-AWS signs for, from the STS host the server named (the driver spec's rule).

    `sts.amazonaws.com` and a one-label host mean us-east-1, else the second
    label (`sts.eu-west-1.amazonaws.com` -> eu-west-1). Raises
    InvalidParameterError for an empty label or a host over 255 bytes.
    """
    host = check_text("sts_host", sts_host, HOST)
    labels = host.split(".")
    if len(host) > 255 or not all(labels):
        raise InvalidParameterError(f"sts_host: {host!r} is not a host name (an empty label, or over 255 bytes)")
    return "us-east-1" if len(labels) == 1 or host == MONGODB_STS_HOST else labels[1]


def _nonce(server_nonce: bytes | str) -> bytes:
    if isinstance(server_nonce, str):
        try:
            server_nonce = base64.b64decode(server_nonce, validate=True)
        except binascii.Error:
            raise InvalidParameterError("server_nonce: not base64") from None
    if not isinstance(server_nonce, bytes) or len(server_nonce) != MONGODB_NONCE_BYTES:
        raise InvalidParameterError(f"server_nonce: must be {MONGODB_NONCE_BYTES} bytes (the server's `s` field)")
    return server_nonce


def _mongodb_headers(nonce: bytes, host: str) -> list[tuple[str, str]]:
    return [("Content-Type", FORM_CONTENT_TYPE), ("Content-Length", str(len(GET_CALLER_IDENTITY))), ("Host", host),
            (MONGODB_NONCE_HEADER, base64.b64encode(nonce).decode("ascii")), ("X-MongoDB-GS2-CB-Flag", "n")]


def mongodb(server_nonce: bytes | str, credentials: Credentials, timestamp: datetime,
            sts_host: str = MONGODB_STS_HOST) -> str:
    """The client's final MONGODB-AWS SASL payload, as `pymongo-auth-aws` makes it, in base64.

    `server_nonce` is the server's `s` field (64 bytes, or their base64) and
    `sts_host` its `h` field. Signs `POST /` with the GetCallerIdentity form
    body and the `X-MongoDB-Server-Nonce` (base64) and `X-MongoDB-GS2-CB-Flag: n`
    headers for `sts` in the region `mongodb_region(sts_host)`; returns base64
    of the BSON `{a: Authorization, d: X-Amz-Date[, t: session token]}` that
    `saslContinue` carries. Raises InvalidParameterError for a bad nonce or host.
    """
    nonce, region = _nonce(server_nonce), mongodb_region(sts_host)
    request = Request("POST", f"https://{sts_host}/", _mongodb_headers(nonce, sts_host),
                      GET_CALLER_IDENTITY.encode("ascii"))
    signed = sign(request, credentials, region=region, service="sts", timestamp=timestamp).request
    fields = [("a", str(signed.header("Authorization"))), ("d", str(signed.header("X-Amz-Date")))]
    if credentials.session_token:
        fields.append(("t", credentials.session_token))
    return base64.b64encode(encode_strings(fields)).decode("ascii")


def mongodb_fields(payload: str) -> dict[str, str]:
    """The `a`, `d` (and `t`) fields of a MONGODB-AWS payload (base64 of BSON).

    Raises InvalidParameterError when it is not base64 of a BSON document with string `a` and `d`.
    """
    try:
        data = base64.b64decode(payload, validate=True)
    except binascii.Error:
        raise InvalidParameterError("token: not base64") from None
    fields = dict(decode_strings(data))
    if not {"a", "d"} <= fields.keys() or not fields.keys() <= {"a", "d", "t"}:
        raise InvalidParameterError("token: a MONGODB-AWS payload has the fields a, d and (with a session token) t")
    return fields


def mongodb_sts_request(payload: str, server_nonce: bytes | str, sts_host: str = MONGODB_STS_HOST) -> Request:
    """The GetCallerIdentity a MongoDB server rebuilds from `payload` and forwards to STS (its side of the exchange).

    Raises InvalidParameterError for a payload, nonce or host that does not parse.
    """
    fields, nonce = mongodb_fields(payload), _nonce(server_nonce)
    mongodb_region(sts_host)
    headers = [*_mongodb_headers(nonce, sts_host), ("X-Amz-Date", fields["d"]), ("Authorization", fields["a"])]
    if "t" in fields:
        headers.append(("X-Amz-Security-Token", fields["t"]))
    return Request("POST", f"https://{sts_host}/", headers, GET_CALLER_IDENTITY.encode("ascii"))


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def vault(credentials: Credentials, region: str, timestamp: datetime, *, server_id: str | None = None,
          role: str | None = None) -> str:
    """The body of Vault's AWS IAM login (`POST /v1/auth/aws/login`), as hvac's `iam_login` sends it.

    A header-signed `POST https://sts.amazonaws.com/` GetCallerIdentity for
    `sts` in `region` (hvac's `SigV4Auth`), with `X-Vault-AWS-IAM-Server-ID:
    <server_id>` signed when given; returned as JSON of
    `iam_http_request_method`, base64 `iam_request_url`, `iam_request_headers`
    (JSON of name -> [value]) and `iam_request_body`, and `role` (null for the
    auth method's default). Raises InvalidParameterError for bad input.
    """
    headers = [("Content-Type", _VAULT_CONTENT_TYPE), ("Host", VAULT_STS_HOST)]
    if server_id is not None:
        headers.append((VAULT_SERVER_ID_HEADER, check_text("server_id", server_id)))
    headers.append(("Content-Length", str(len(GET_CALLER_IDENTITY))))
    signed = sign(Request("POST", f"https://{VAULT_STS_HOST}/", headers, GET_CALLER_IDENTITY.encode("ascii")), credentials,
                  region=region, service="sts", timestamp=timestamp).request
    return json.dumps({
        "iam_http_request_method": signed.method,
        "iam_request_url": _b64(signed.url),
        "iam_request_headers": _b64(json.dumps({name: [value] for name, value in signed.headers})),
        "iam_request_body": _b64(GET_CALLER_IDENTITY),
        "role": None if role is None else check_text("role", role),
    })


def vault_sts_request(payload: str) -> Request:
    """The GetCallerIdentity Vault rebuilds from a login body and forwards to STS.

    Raises InvalidParameterError when `payload` is not such a body.
    """
    try:
        fields = json_loads(payload)
        url = base64.b64decode(fields["iam_request_url"], validate=True).decode("utf-8")
        body = base64.b64decode(fields["iam_request_body"], validate=True)
        headers = json_loads(base64.b64decode(fields["iam_request_headers"], validate=True))
        method = fields["iam_http_request_method"]
        pairs = [(str(name), str(value)) for name, values in headers.items() for value in values]
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise InvalidParameterError(f"token: not a Vault AWS IAM login body ({type(err).__name__}: {err})") from None
    return Request(str(method), url, pairs, body)
