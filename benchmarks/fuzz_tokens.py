"""Long differential run of the tokens beyond the six against their vendors' helpers (the suite runs 25 cases each).

    python3 benchmarks/fuzz_tokens.py [--cases N] [--seed S] [--only KIND ...]

For N random cases per kind (default 20000: 140000 in all), each at its own
random time, with a session token in half of them: Bedrock against
aws-bedrock-token-generator, Keyspaces against cassandra-sigv4, MONGODB-AWS
against pymongo-auth-aws, Vault against hvac's iam_login, CodeCommit against
git-remote-codecommit, SES SMTP against AWS's documented algorithm, MemoryDB
against its recipe on botocore's SigV4QueryAuth. Prints cases and mismatches
per kind and exits 1 on any mismatch (the first one's inputs are printed).
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import string
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # the repository, and the oracles' glue the suite uses

from aws_bedrock_token_generator import token_generator  # noqa: E402
from botocore.auth import SigV4QueryAuth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials as BotoCredentials  # noqa: E402
from cassandra_sigv4.auth import SigV4Authenticator  # noqa: E402
from freezegun import freeze_time  # noqa: E402
from git_remote_codecommit import git_url  # noqa: E402
from hvac.api.auth_methods.aws import Aws  # noqa: E402

from sigv4 import Credentials, tokens  # noqa: E402
from token_oracles import documented_smtp_password, mongodb_context, mongodb_final_payload  # noqa: E402

# Kept in a tuple: freezegun stops time.perf_counter, and swaps any module global that names it.
_CLOCK = (time.perf_counter,)
REGIONS = ["us-east-1", "us-west-2", "eu-west-3", "ap-northeast-2", "sa-east-1", "us-gov-west-1", "cn-north-1"]
B64 = string.ascii_letters + string.digits + "+/"


def _text(rng: random.Random, alphabet: str, low: int, high: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))


def _case(rng: random.Random) -> tuple[Credentials, str, datetime]:
    token = _text(rng, B64 + "=", 1, 120) if rng.random() < 0.5 else None
    creds = Credentials("AKIA" + _text(rng, string.ascii_uppercase + "234567", 16, 16), _text(rng, B64, 40, 40), token)
    when = datetime(2015, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=rng.randrange(20 * 365 * 86400))
    return creds, rng.choice(REGIONS), when


def _boto(creds: Credentials) -> BotoCredentials:
    return BotoCredentials(creds.access_key_id, creds.secret_access_key, creds.session_token)


# Each check makes one random case and returns (ours, theirs); `clock` is a frozen clock to move.
def bedrock(rng: random.Random, clock: object) -> tuple[object, object]:
    creds, region, when = _case(rng)
    expires = rng.randint(1, 43200)
    clock.move_to(when)  # type: ignore[attr-defined]
    return tokens.bedrock(creds, region, when, expires), token_generator._generate_token(_boto(creds), region, expires)


def keyspaces(rng: random.Random, clock: object) -> tuple[object, object]:
    creds, region, when = _case(rng)
    when += timedelta(microseconds=rng.randrange(999500))  # cassandra-sigv4 writes `.1000Z` above that
    nonce = _text(rng, string.ascii_letters + string.digits, 32, 32)
    # What SigV4Authenticator reads of a boto3 Session (a real one per case would cost more than the signing).
    session = SimpleNamespace(region_name=region, get_credentials=lambda: _boto(creds))
    clock.move_to(when)  # type: ignore[attr-defined]
    theirs = SigV4Authenticator(session).evaluate_challenge(f"nonce={nonce}".encode())
    return tokens.keyspaces(nonce, creds, region, when), theirs


def mongodb(rng: random.Random, clock: object) -> tuple[object, object]:
    creds, region, when = _case(rng)
    host = rng.choice(["sts.amazonaws.com", f"sts.{region}.amazonaws.com", "localhost"])
    context = mongodb_context(creds.access_key_id, creds.secret_access_key, creds.session_token)
    clock.move_to(when)  # type: ignore[attr-defined]
    nonce, theirs = mongodb_final_payload(context, rng.randbytes(32), host)
    return base64.b64decode(tokens.mongodb(nonce, creds, when, host)), theirs


def vault(rng: random.Random, clock: object) -> tuple[object, object]:
    creds, region, when = _case(rng)
    server_id = _text(rng, string.ascii_letters + string.digits + ".-:/", 1, 40) if rng.random() < 0.5 else None
    role = _text(rng, string.ascii_letters + "-_", 1, 20) if rng.random() < 0.5 else None
    adapter = mock.Mock()
    clock.move_to(when)  # type: ignore[attr-defined]
    Aws(adapter).iam_login(creds.access_key_id, creds.secret_access_key, creds.session_token, header_value=server_id,
                           role=role, region=region)
    return (tokens.vault(creds, region, when, server_id=server_id, role=role),
            json.dumps(adapter.login.call_args.kwargs["json"]))


def codecommit(rng: random.Random, clock: object) -> tuple[object, object]:
    creds, region, when = _case(rng)
    repository = _text(rng, string.ascii_letters + string.digits + "._-", 1, 100)
    clock.move_to(when)  # type: ignore[attr-defined]
    return tokens.codecommit(repository, creds, region, when), git_url(repository, "v1", region, _boto(creds))


def ses_smtp(rng: random.Random, clock: object) -> tuple[object, object]:
    creds, region, _ = _case(rng)
    secret = _text(rng, B64 + string.punctuation + "é€", 1, 80)
    return tokens.ses_smtp(Credentials(creds.access_key_id, secret), region), documented_smtp_password(secret, region)


def memorydb(rng: random.Random, clock: object) -> tuple[object, object]:
    creds, region, when = _case(rng)
    cluster = rng.choice(string.ascii_lowercase) + _text(rng, string.ascii_lowercase + string.digits + "-", 0, 39)
    user = _text(rng, string.ascii_letters + string.digits + " @/+=é-_.", 1, 30)
    request = AWSRequest(method="GET", url=f"http://{cluster}/", params={"Action": "connect", "User": user})
    clock.move_to(when)  # type: ignore[attr-defined]
    SigV4QueryAuth(_boto(creds), "memorydb", region, expires=900).add_auth(request)
    signature = request.prepare().url.rpartition("X-Amz-Signature=")[2]
    return tokens.memorydb(cluster, user, creds, region, when).rpartition("X-Amz-Signature=")[2], signature


CHECKS: dict[str, Callable[[random.Random, object], tuple[object, object]]] = {
    "bedrock": bedrock, "keyspaces": keyspaces, "mongodb": mongodb, "vault": vault, "codecommit": codecommit,
    "ses_smtp": ses_smtp, "memorydb": memorydb,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20000, help="random cases per kind")
    parser.add_argument("--seed", type=int, default=25)
    parser.add_argument("--only", nargs="*", choices=sorted(CHECKS), default=sorted(CHECKS))
    args = parser.parse_args()
    failed = 0
    with mock.patch.dict("os.environ", {}, clear=True), freeze_time("2015-01-01") as clock:
        for kind in args.only:
            rng, started, mismatches = random.Random(f"{args.seed}-{kind}"), _CLOCK[0](), 0
            for case in range(args.cases):
                ours, theirs = CHECKS[kind](rng, clock)
                if ours != theirs:
                    mismatches += 1
                    if mismatches == 1:
                        print(f"{kind}: case {case} differs:\n  ours:   {ours!r}\n  theirs: {theirs!r}")
            print(f"{kind:12} {args.cases} cases, {mismatches} mismatches, {_CLOCK[0]() - started:.1f} s")
            failed += mismatches
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
