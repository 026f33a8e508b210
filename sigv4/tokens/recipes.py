"""The table of token kinds: what each signs, for how long, its maker and the inputs the command line asks for.

Strategy: one `Recipe` per kind, so `issue` (and `sigv4 token KIND`) and
`describe` (and `sigv4 explain`) are loops over data: adding a kind is a
maker and a row here. `Arg` describes one input as the CLI takes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from ..errors import InvalidParameterError
from ..types import Credentials
from .api_key import BEDROCK_MAX_EXPIRES, bedrock
from .caller_identity import MONGODB_STS_HOST, eks, mongodb, vault
from .cassandra import keyspaces
from .connect import dsql, elasticache, memorydb, msk, neptune, rds
from .git import codecommit
from .smtp import ses_smtp

TokenKind = Literal["rds", "dsql", "eks", "elasticache", "msk", "neptune", "bedrock", "keyspaces", "mongodb",
                    "vault", "codecommit", "ses_smtp", "memorydb"]

#: Kinds of token, in the order the CLI lists them (the CLI spells `ses_smtp` as `ses-smtp`).
KINDS: tuple[TokenKind, ...] = ("rds", "dsql", "eks", "elasticache", "memorydb", "msk", "neptune", "bedrock",
                                "keyspaces", "mongodb", "vault", "codecommit", "ses_smtp")


@dataclass(frozen=True, slots=True)
class Arg:
    """One input of a maker besides credentials, region and time, as `sigv4 token` takes it (`--name-with-dashes`)."""

    name: str
    help: str
    kind: Literal["text", "int", "flag"] = "text"
    required: bool = True
    default: object = None

    def cli_options(self) -> dict[str, object]:
        """Keyword arguments for `argparse.ArgumentParser.add_argument`."""
        if self.kind == "flag":
            return {"action": "store_true", "help": self.help}
        return {"required": self.required, "default": self.default, "help": self.help,
                "type": int if self.kind == "int" else str}


@dataclass(frozen=True, slots=True)
class Recipe:
    """What a token of one kind signs, how long a server accepts it, and how to make one."""

    service: str  # the credential scope's service
    lifetime: timedelta | None  # from the signing time until the server refuses it; None: as long as the key
    why: str  # where `lifetime` comes from, for `describe`
    purpose: str  # what the token is for, for `describe` and `--help`
    maker: Callable[..., str]
    args: tuple[Arg, ...] = ()
    inputs: tuple[Literal["region", "timestamp"], ...] = ("region", "timestamp")  # besides credentials


_HOST, _PORT, _USER = Arg("host", "the endpoint host"), Arg("port", "the endpoint port", "int"), Arg("user", "user name")
_STS_WINDOW = "STS accepts a header signature for 15 minutes after X-Amz-Date"

RECIPES: Mapping[TokenKind, Recipe] = {
    "rds": Recipe("rds-db", timedelta(seconds=900), "X-Amz-Expires=900 (RDS accepts a token for 15 minutes)",
                  "the password of an RDS or Aurora database user (IAM database authentication)", rds,
                  (_HOST, _PORT, _USER)),
    "dsql": Recipe("dsql", timedelta(seconds=900), "X-Amz-Expires", "the password of an Aurora DSQL cluster",
                   dsql, (_HOST, Arg("admin", "connect as the admin role (DbConnectAdmin)", "flag"))),
    # aws-iam-authenticator accepts a token for 15 minutes after X-Amz-Date, whatever X-Amz-Expires says;
    # `aws eks get-token` reports an expiry of 14 minutes to stay inside that.
    "eks": Recipe("sts", timedelta(minutes=15), "EKS accepts a token for 15 minutes after X-Amz-Date",
                  "the bearer token of a Kubernetes client of an EKS cluster", eks, (Arg("cluster", "cluster name"),)),
    "elasticache": Recipe("elasticache", timedelta(seconds=900),
                          "X-Amz-Expires=900 (an authenticated connection itself lasts 12 hours)",
                          "the AUTH password of an ElastiCache (Valkey, Redis OSS) user", elasticache,
                          (Arg("cache_name", "the cache or replication group name (not its endpoint)"), _USER,
                           Arg("serverless", "a serverless cache", "flag"))),
    "memorydb": Recipe("memorydb", timedelta(seconds=900),
                       "X-Amz-Expires=900 (an authenticated connection itself lasts 12 hours)",
                       "the AUTH password of a MemoryDB (Valkey, Redis OSS) user", memorydb,
                       (Arg("cluster_name", "the cluster name (not its endpoint)"), _USER)),
    "msk": Recipe("kafka-cluster", timedelta(seconds=900), "X-Amz-Expires=900",
                  "the SASL OAUTHBEARER token of an MSK (Kafka) client", msk),
    # Neptune signs headers; it accepts a signature within 5 minutes of X-Amz-Date.
    "neptune": Recipe("neptune-db", timedelta(minutes=5), "Neptune accepts a header signature for 5 minutes",
                      "the Bolt password of a Neptune openCypher client", neptune, (_HOST, _PORT)),
    "bedrock": Recipe("bedrock", timedelta(seconds=BEDROCK_MAX_EXPIRES), "X-Amz-Expires (at most 12 hours)",
                      "a Bedrock short-term API key (Authorization: Bearer, or AWS_BEARER_TOKEN_BEDROCK)", bedrock,
                      (Arg("expires", "seconds it is valid, 1..43200", "int", False, BEDROCK_MAX_EXPIRES),)),
    "keyspaces": Recipe("cassandra", timedelta(seconds=900), "X-Amz-Expires=900 in the signed request",
                        "the answer to an Amazon Keyspaces (Cassandra) SigV4 challenge", keyspaces,
                        (Arg("nonce", "the 32 characters after `nonce=` in the server's challenge"),)),
    "mongodb": Recipe("sts", timedelta(minutes=15), _STS_WINDOW,
                      "the final MONGODB-AWS SASL payload (base64 of BSON) for a MongoDB server", mongodb,
                      (Arg("server_nonce", "the server's nonce `s`, base64 of 64 bytes"),
                       Arg("sts_host", "the server's STS host `h` (it names the region)", required=False,
                           default=MONGODB_STS_HOST)),
                      ("timestamp",)),
    "vault": Recipe("sts", timedelta(minutes=15), _STS_WINDOW,
                    "the body of a HashiCorp Vault AWS IAM login (POST /v1/auth/aws/login)", vault,
                    (Arg("server_id", "the X-Vault-AWS-IAM-Server-ID value the auth method requires", required=False),
                     Arg("role", "the Vault role to log in as", required=False))),
    "codecommit": Recipe("codecommit", timedelta(minutes=15), "a SigV4 signature: AWS accepts it for 15 minutes",
                         "a git HTTPS URL carrying the CodeCommit user name and password", codecommit,
                         (Arg("repository", "the repository name"),)),
    "ses_smtp": Recipe("ses", None, "derived from the secret key, it lasts as long as the access key",
                       "the SES SMTP password (version 4) of an IAM user; the user name is the access key id",
                       ses_smtp, (), ("region",)),
}

#: Each kind's maker; `issue` calls them by keyword.
MAKERS: Mapping[TokenKind, Callable[..., str]] = {kind: recipe.maker for kind, recipe in RECIPES.items()}
#: Each kind's inputs besides credentials, region and timestamp.
FIELDS: Mapping[TokenKind, tuple[str, ...]] = {kind: tuple(a.name for a in r.args) for kind, r in RECIPES.items()}


def issue(kind: str, credentials: Credentials, region: str, timestamp: datetime, **fields: object) -> str:
    """The token of `kind` (one of KINDS) for `fields` (see FIELDS); a kind that needs no region or time ignores them.

    Raises InvalidParameterError for an unknown kind, or what the maker raises.
    """
    recipe: Recipe | None = RECIPES.get(kind)  # type: ignore[call-overload]
    if recipe is None:
        raise InvalidParameterError(f"kind: {kind!r} is not one of {', '.join(KINDS)}")
    given: dict[str, object] = {"region": region, "timestamp": timestamp}
    return recipe.maker(credentials=credentials, **{name: given[name] for name in recipe.inputs}, **fields)
