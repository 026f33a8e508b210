"""IAM authentication tokens and derived passwords: what databases, clusters, services and servers take as proof.

Strategy: one module per way a token is made (`connect`: presigned connect
URLs; `caller_identity`: signed STS GetCallerIdentity; `api_key`: Bedrock;
`cassandra`: Keyspaces' challenge; `git`: CodeCommit; `smtp`: SES), a table of
recipes (`recipes`) that `issue` and the CLI loop over, and `decoding` for the
way back (`decode`, `describe`, used by `sigv4 explain`). Pure: time,
credentials and nonces are arguments. This module re-exports the public names,
so `from sigv4 import tokens; tokens.rds(...)` reads as one namespace.
"""

from .api_key import bedrock
from .caller_identity import (EKS_CLUSTER_HEADER, EKS_EXPIRES, EKS_PREFIX, eks, exec_credential, exec_credential_token,
                              mongodb, mongodb_region, mongodb_sts_request, vault, vault_sts_request)
from .cassandra import INITIAL_RESPONSE as KEYSPACES_INITIAL_RESPONSE, keyspaces, keyspaces_timestamp
from .connect import CONNECT_EXPIRES, MSK_USER_AGENT, dsql, elasticache, memorydb, msk, neptune, rds
from .decoding import DecodedToken, TokenReport, decode, describe, is_token, looks_like_token, render_report
from .git import codecommit
from .parts import STS_API_VERSION, region_in_host, sts_host
from .recipes import FIELDS, KINDS, MAKERS, RECIPES, Arg, Recipe, TokenKind, issue
from .smtp import ses_smtp

#: Kept from when every connect token had its own constant (all are 900 seconds).
RDS_EXPIRES = DSQL_EXPIRES = ELASTICACHE_EXPIRES = MSK_EXPIRES = CONNECT_EXPIRES

__all__ = ["DSQL_EXPIRES", "EKS_CLUSTER_HEADER", "EKS_EXPIRES", "EKS_PREFIX", "ELASTICACHE_EXPIRES", "FIELDS",
           "KEYSPACES_INITIAL_RESPONSE", "KINDS", "MAKERS", "MSK_EXPIRES", "MSK_USER_AGENT", "RDS_EXPIRES", "RECIPES",
           "STS_API_VERSION", "Arg", "DecodedToken", "Recipe", "TokenKind", "TokenReport", "bedrock", "codecommit",
           "decode", "describe", "dsql", "eks", "elasticache", "exec_credential",
           "exec_credential_token", "is_token", "issue", "keyspaces", "keyspaces_timestamp",
           "looks_like_token", "memorydb", "mongodb", "mongodb_region", "mongodb_sts_request", "msk", "neptune", "rds",
           "region_in_host", "render_report", "ses_smtp", "sts_host", "vault", "vault_sts_request"]
