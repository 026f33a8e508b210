"""A small fuzz harness over every reader of outside bytes (but the debugger's capture formats).

Strategy: each `Reader` is a function of one input's bytes, the exception types its contract documents, and
well-formed seeds. `fuzz` mutates the seeds with a seeded `random.Random` (flipped, inserted, deleted,
repeated and spliced bytes, plus tokens that once broke a reader: '²', 5,000 digits, year 9999, a thousand
brackets, a declared encoding), feeds each case to the reader, and counts what it raised. Anything else is a
finding, kept with its input. The suite runs a few hundred cases per reader (tests/test_fuzz_readers.py);
`benchmarks/fuzz_readers.py` runs 100,000 and more, and reports time and memory per case.

Readers that would reach the network or run a command get their answer from the case instead: the
credential providers' `fetch` (and `credential_process`'s runner) are replaced for the run, so the whole
path from the answer's bytes to `CredentialsError` is the providers' own code.
"""

from __future__ import annotations

import base64
import json
import random
import re
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl, urlencode

import sigv4
import wire
from sigv4 import Credentials, Request, VerificationError, tokens
from sigv4.chunked_decode import decoder_for
from sigv4.errors import SigningError, StreamDecodeError
from sigv4.integrations import CredentialsError, container, credentials, http, imds, sso, sts
from sigv4.integrations.http import Reply
from sigv4.post import presign_post, verify_post
from sigv4.raw import parse_request, render_request
from wire import cbor, xml
from wire.errors import DecodeError, ParamError, ServiceError, WireError
from wire.params import read_params
from wire.service import DEFAULT_ACCOUNTS, Endpoint, MemoryStore, Settings, handle, load_directory, queryform
from wire.shorthand import parse_shorthand, parse_value

CREDS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
#: The largest input a case feeds: the readers' cost per byte, not the size of outside data, is under test.
MAX_INPUT = 64 << 10

#: Text that once broke a reader, spliced into inputs.
TOKENS: tuple[bytes, ...] = (
    b"\x00", b"\xff", b"\xc3", b"\r\n", b"\n", b"\r\n\r\n", b" ", b"\t", b"%", b"%FF", b"%2B", b"+", b"&", b"=",
    b";", b",", b":", b'"', b"'", b"\\", b"/", b"..", b"@", b"#", b"?", "\u00b2".encode(), "\u00e9".encode(),
    b"9" * 5000, b"-1", b"0", b"1e999", b"NaN", b"ffffffff", b"99991231T235959Z", b"00010101T000000Z",
    b"9999-12-31T23:59:59-01:00", b"0001-01-01T00:00:00+01:00", b"Fri, 31 Dec 9999 23:59:59 -0100",
    b"[" * 1000, b"{" * 1000, b'{"a":' * 500, b"{a=" * 500, b"<a>" * 500, b"\x81" * 500, b"\xa0" * 2000,
    b'<?xml version="1.0" encoding="utf-32"?>', b'<?xml version="1.0" encoding="nope"?>', b"<!DOCTYPE a>",
    b"\xc1\x1b\x7f\xff\xff\xff\xff\xff\xff\xff", b"\xc0\x78\x19" + b"9999-12-31T23:59:59-01:00",
    b"\xf5", b"\xf9\x3c\x00", b"\x01", b"\x9f", b"\xff" * 3, b"true", b"null",
    b"STREAMING-AWS4-HMAC-SHA256-PAYLOAD", b"aws-chunked", b"x-amz-decoded-content-length",
)


def mutate(rng: random.Random, data: bytes) -> bytes:
    """`data` changed in one to four ways, at most MAX_INPUT bytes long."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        at = rng.randint(0, len(out))
        end = min(len(out), at + rng.randint(1, 64))
        kind = rng.randrange(8)
        if kind == 0 and out:
            out[min(at, len(out) - 1)] ^= 1 << rng.randrange(8)
        elif kind == 1:
            out[at:at] = rng.choice(TOKENS)
        elif kind == 2:
            del out[at:end]
        elif kind == 3:
            out[at:at] = out[at:end] * rng.randint(2, 200)
        elif kind == 4:
            out[at:end] = rng.randbytes(end - at)
        elif kind == 5:
            del out[at:]
        elif kind == 6:
            out[at:at] = rng.randbytes(rng.randint(1, 16))
        else:  # a field's value replaced whole: `X-Amz-Date=20240501T120000Z` becomes `X-Amz-Date=99991231T235959Z`
            match = _FIELD.search(out, at)
            if match:
                out[match.start():match.end()] = rng.choice(TOKENS)
    return bytes(out[:MAX_INPUT])


#: A field's value in most text formats: what lies between two delimiters.
_FIELD = re.compile(rb"(?<=[=:>\[{(,;&\s\"'])[^=:<>\[\]{}(),;&\s\"']+")


@dataclass(frozen=True)
class Reader:
    """A reader of outside bytes: what it does with one input, what its contract lets it raise, seeds."""

    name: str
    read: Callable[[bytes], object]
    allowed: tuple[type[BaseException], ...]
    seeds: tuple[bytes, ...]
    #: Patches the reader needs while it runs (answers instead of the network), entered once per run.
    setup: Callable[[], Any] | None = None


@dataclass
class Report:
    """What one run of a reader found."""

    reader: str
    cases: int = 0
    accepted: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    max_seconds: float = 0.0
    max_memory: int = 0  # bytes at the peak of the measured cases (tracemalloc)
    max_memory_input: int = 0  # the size of that case's input
    failures: list[tuple[str, bytes]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"reader": self.reader, "cases": self.cases, "accepted": self.accepted,
                "errors": dict(self.errors.most_common()), "max_seconds_per_case": round(self.max_seconds, 4),
                "max_memory_bytes": self.max_memory, "max_memory_input_bytes": self.max_memory_input,
                "unexpected": [f"{kind}: {data[:200]!r}" for kind, data in self.failures]}


def fuzz(reader: Reader, cases: int, seed: int = 0, *, memory_every: int = 0) -> Report:
    """Feed `cases` mutated seeds to `reader`; `memory_every` > 0 traces memory of every so many cases."""
    rng = random.Random(f"{reader.name}:{seed}")
    report = Report(reader.name)
    with ExitStack() as stack:
        if reader.setup is not None:
            stack.enter_context(reader.setup())
        for number in range(cases):
            # Each seed once as it is, then mutants.
            data = reader.seeds[number] if number < len(reader.seeds) else mutate(rng, rng.choice(reader.seeds))
            traced = memory_every > 0 and number % memory_every == 0
            if traced:
                tracemalloc.start()
            started = time.perf_counter()
            try:
                reader.read(data)
                report.accepted += 1
            except reader.allowed as err:
                report.errors[type(err).__name__] += 1
            except Exception as err:  # the finding: anything the contract does not name
                report.failures.append((f"{type(err).__name__}: {err}"[:300], data))
            finally:
                report.max_seconds = max(report.max_seconds, time.perf_counter() - started)
                if traced:
                    peak = tracemalloc.get_traced_memory()[1]
                    tracemalloc.stop()
                    if peak > report.max_memory:
                        report.max_memory, report.max_memory_input = peak, len(data)
            report.cases += 1
    return report


# -- the readers ------------------------------------------------------------------------------------------------

def _lookup(key_id: str) -> Credentials | None:
    return CREDS if key_id == CREDS.access_key_id else None


def _signed_raw(**options: Any) -> bytes:
    request = Request("POST", "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
                      [("Content-Type", "application/x-www-form-urlencoded")], b"Marker=a%2Bb&MaxItems=10")
    return render_request(sigv4.sign(request, CREDS, region="us-east-1", service="iam", timestamp=NOW,
                                     **options).request, None, b"Marker=a%2Bb&MaxItems=10")


def _raw_seeds() -> tuple[bytes, ...]:
    presigned = sigv4.presign(Request("GET", "https://examplebucket.s3.amazonaws.com/test.txt"), CREDS,
                              region="us-east-1", service="s3", timestamp=NOW, expires=86400).url
    return (_signed_raw(), _signed_raw(algorithm="v4a"), presigned.encode(),
            b"GET /?a=1&b=%FF HTTP/1.1\r\nHost: example.amazonaws.com\r\nX-Amz-Date: 20240501T120000Z\r\n"
            b"Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/service/aws4_request, "
            b"SignedHeaders=host;x-amz-date, Signature=" + b"0" * 64 + b"\r\n\r\n")


def _read_raw(data: bytes) -> None:
    sigv4.verify(parse_request(data).request, _lookup, now=NOW)


def _v2_seeds() -> tuple[bytes, ...]:
    seeds = []
    for method in ("GET", "POST"):
        request = Request(method, "https://ec2.amazonaws.com/?Action=DescribeRegions&Version=2016-11-15",
                          [("Host", "ec2.amazonaws.com")])
        signed = sigv4.v2.sign(request, CREDS, timestamp=NOW).request
        seeds.append(render_request(signed, None, signed.body if isinstance(signed.body, bytes) else b""))
    return tuple(seeds)


#: A value for every field a token recipe takes (sigv4.tokens.FIELDS).
_TOKEN_FIELDS: dict[str, object] = {
    "host": "db.example.com", "port": 5432, "user": "me", "admin": True, "cluster": "c", "cache_name": "c",
    "serverless": False, "cluster_name": "c", "expires": 3600, "nonce": "0" * 32, "server_nonce": base64.b64encode(
        b"n" * 64).decode(), "sts_host": "sts.amazonaws.com", "server_id": "vault.example.com", "role": "r",
    "repository": "repo",
}


def _token_seeds() -> tuple[bytes, ...]:
    """A token of every kind, as `sigv4 token KIND` prints it."""
    made = [tokens.issue(kind, CREDS, "us-east-1", NOW, **{name: _TOKEN_FIELDS[name] for name in tokens.FIELDS[kind]})
            for kind in tokens.KINDS]
    return tuple(token.encode("latin-1") for token in made)


def _read_token(data: bytes) -> None:
    # What `sigv4 explain TOKEN` does with the text.
    report = tokens.describe(data.decode("latin-1"), NOW)
    tokens.render_report(report, NOW)


def _read_cbor(data: bytes) -> None:
    cbor.decode(data)


_CBOR_SEEDS = tuple(cbor.encode(value) for value in (
    {"Items": [{"Name": "a", "Count": 1, "Ratio": 0.5, "On": True, "At": NOW, "Blob": b"\x00\x01"}], "Next": None},
    [1, -1, 2**64, -(2**64), 1.5, "text", [], {}], {"a": {"b": {"c": [1, 2, 3]}}}))


#: reader -> the (model, operation) pairs its inputs are responses to, picked by an input's first byte.
_PROTOCOL_CASES = {
    "xml": (("s3", "ListBuckets"), ("sts-credentials", "AssumeRole"), ("ec2", "DescribeRegions")),
    "json": (("dynamodb", "GetItem"), ("account", "GetContactInformation")),
}
_XML_SEEDS = (
    b'<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    b"<Owner><ID>1</ID></Owner><Buckets><Bucket><Name>b</Name><CreationDate>2024-05-01T12:00:00.000Z</CreationDate>"
    b"</Bucket></Buckets></ListAllMyBucketsResult>",
    b"<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIA</AccessKeyId><SecretAccessKey>s"
    b"</SecretAccessKey><SessionToken>t</SessionToken><Expiration>2024-05-01T13:00:00Z</Expiration></Credentials>"
    b"</AssumeRoleResult></AssumeRoleResponse>",
    b'<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><regionInfo>'
    b"<item><regionName>us-east-1</regionName><regionEndpoint>ec2.us-east-1.amazonaws.com</regionEndpoint></item>"
    b"</regionInfo></DescribeRegionsResponse>",
    b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>slow down</Message></Error>"
    b"<RequestId>r</RequestId></ErrorResponse>",
    b"<Response><Errors><Error><Code>AuthFailure</Code><Message>no</Message></Error></Errors><RequestID>r"
    b"</RequestID></Response>",
)
_JSON_SEEDS = (
    b'{"Item":{"id":{"S":"1"},"n":{"N":"1.5"},"l":{"L":[{"BOOL":true},{"NULL":true},{"B":"AAE="}]},'
    b'"m":{"M":{"x":{"SS":["a","b"]}}}}}',
    b'{"ContactInformation":{"FullName":"Ana","AddressLine1":"1 Main St","City":"X","CountryCode":"US",'
    b'"PhoneNumber":"+1","PostalCode":"1"}}',
    b'{"__type":"com.amazonaws#ThrottlingException","message":"slow down"}',
    b'{"code":"ResourceNotFoundException","Message":"none"}',
)


def _protocol_reader(kind: str, seeds: tuple[tuple[int, bytes], ...]) -> Reader:
    """`wire.parse_response` for the `kind` protocols; an input's first byte picks the operation (low bits) and
    the status (bit 4: an error), the rest is the body. Seeds are (first byte, body)."""
    cases = tuple((wire.load_model(name), operation) for name, operation in _PROTOCOL_CASES[kind])
    headers = [("Content-Type", "text/xml" if kind == "xml" else "application/json")]

    def read(data: bytes) -> None:
        choice, body = (data[0], data[1:]) if data else (0, b"")
        model, operation = cases[choice % len(cases)]
        if kind == "xml":
            try:
                xml.parse(body)
            except DecodeError:
                pass
        wire.parse_response(model, operation, 400 if choice & 16 else 200, headers, body)

    return Reader(kind, read, (DecodeError, ServiceError), tuple(bytes([first]) + body for first, body in seeds))


_ACCOUNT: list[wire.Model] = []


def _read_shorthand(data: bytes) -> None:
    text = data.decode("utf-8", "replace")
    if not _ACCOUNT:
        _ACCOUNT.append(wire.load_model("account"))
    for parse in (parse_value, parse_shorthand):
        try:
            parse(text)
        except ParamError:
            pass
    read_params(_ACCOUNT[0], "PutContactInformation", [f"ContactInformation={text}"], lambda path: b"")


def _shorthand_seeds() -> tuple[bytes, ...]:
    return (b"FullName=Ana,AddressLine1='1 Main St',City=X,CountryCode=US,PhoneNumber=+1,PostalCode=1",
            b'{"FullName":"Ana","City":"X"}', b"[a,b,{K=v,L=[1,2]}]", b"{'my key'=\"v,w\",x=[]}", b"a,b,c=d")


def _chunked_seed() -> tuple[bytes, Callable[[], Any]]:
    request = Request("PUT", "https://bucket.s3.amazonaws.com/key", [("x-amz-decoded-content-length", "20000")],
                      b"z" * 20000)
    signed = sigv4.sign(request, CREDS, region="us-east-1", service="s3", timestamp=NOW, s3=True,
                        payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", chunk_size=8192,
                        trailer_checksum="crc32c").request
    body = signed.body if isinstance(signed.body, bytes) else b"".join(signed.body)  # type: ignore[arg-type]
    identity = sigv4.verify(signed.with_body(b""), _lookup, now=NOW)
    return body, lambda: decoder_for(identity, signed)


def _chunked_reader() -> Reader:
    body, make = _chunked_seed()

    def read(data: bytes) -> None:
        decoder = make()
        # Fed in two pieces: the split point is part of the case, as a network would cut it.
        cut = data[-1] % (len(data) + 1) if data else 0
        decoder.feed(data[:cut])
        decoder.feed(data[cut:])
        decoder.close()

    return Reader("chunked", read, (StreamDecodeError,), (body,))


def _post_seeds() -> tuple[bytes, ...]:
    post = presign_post(CREDS, bucket="bucket", key="uploads/${filename}", region="us-east-1", timestamp=NOW,
                        conditions=[["content-length-range", 1, 1000], ["starts-with", "$Content-Type", "image/"]],
                        fields=[("Content-Type", "image/png")])
    return (urlencode(list(post.fields)).encode(),)


def _read_post(data: bytes) -> None:
    fields = parse_qsl(data.decode("latin-1"), keep_blank_values=True)
    verify_post(fields, _lookup, now=NOW, bucket="bucket", content_length=10)


def _serve_reader() -> Reader:
    """The local Account endpoint's pure handler over raw requests: it never raises, and answers below 500."""
    accounts = DEFAULT_ACCOUNTS["accounts"][0]
    caller = Credentials(accounts["access_key_id"], accounts["secret_access_key"])
    model = wire.load_model("account")
    endpoint = Endpoint(model, load_directory(DEFAULT_ACCOUNTS), Settings())
    query = queryform.query_model(model)
    url = "http://127.0.0.1:8080"
    contact = {"AlternateContactType": "BILLING", "Name": "Ana", "Title": "CFO", "EmailAddress": "a@example.com",
               "PhoneNumber": "+1"}
    unsigned = [wire.serialize(model, "PutAlternateContact", contact, endpoint=url),
                wire.serialize(query, "PutAlternateContact", contact, endpoint=url),
                wire.serialize(query, "ListRegions", {}, endpoint=url, method="GET")]
    seeds = [render_request(sigv4.sign(request, caller, region="us-east-1", service="account", timestamp=NOW)
                            .request, None, request.body if isinstance(request.body, bytes) else b"")
             for request in unsigned]
    presigned = sigv4.presign(unsigned[2], caller, region="us-east-1", service="account", timestamp=NOW,
                              expires=300).url
    v2 = sigv4.v2.sign(unsigned[2].with_header("Host", "127.0.0.1:8080"), caller, timestamp=NOW).request
    seeds += [presigned.encode(), render_request(v2, None, b"")]

    def read(data: bytes) -> None:
        request = parse_request(data, scheme="http").request
        body = request.body if isinstance(request.body, bytes) else b""
        reply = handle(request.with_body(body), endpoint=endpoint, now=NOW, store=MemoryStore(),
                       entropy=lambda n: bytes(n))
        if reply.status >= 500:
            raise AssertionError(f"answered {reply.status}: {reply.body[:200]!r}")

    return Reader("serve", read, (SigningError,), tuple(seeds))


# -- credential files and answers -----------------------------------------------------------------------------

def _scratch(prefix: str) -> Path:
    """A new directory, in memory where the system has one: a case writes its files, and a disk is slow."""
    shm = Path("/dev/shm")
    return Path(tempfile.mkdtemp(prefix=prefix, dir=shm if shm.is_dir() else None))


#: Endpoints a fuzzed profile may reach: a closed loopback port, so a role or SSO profile fails at once.
_NOWHERE = "http://127.0.0.1:9"


def _files_reader() -> Reader:
    home = _scratch("fuzz-aws-")
    env = {"HOME": str(home), "AWS_CONFIG_FILE": str(home / "config"),
           "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"), "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_ENDPOINT_URL": _NOWHERE}
    config = (b"[default]\nregion = us-east-1\n[profile role]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
              b"source_profile = default\nduration_seconds = 900\nexternal_id = x\nservices = local\n[profile sso]\n"
              b"sso_session = s\nsso_account_id = 123456789012\nsso_role_name = r\n[sso-session s]\n"
              b"sso_region = us-east-1\nsso_start_url = https://x.awsapps.com/start\n"
              b"[services local]\nsts =\n  endpoint_url = http://127.0.0.1:9\n")
    keys = b"[default]\naws_access_key_id = AKID\naws_secret_access_key = s\naws_session_token = t\n"

    def read(data: bytes) -> None:
        # The first byte picks which file the rest is (bit 0: the config file) and the profile asked for.
        choice, text = (data[0], data[1:]) if data else (0, b"")
        (home / "config").write_bytes(text if choice & 1 else config)
        (home / "credentials").write_bytes(keys if choice & 1 else text)
        credentials.resolve_credentials(("default", "role", "sso")[(choice >> 1) % 3], env)

    return Reader("files", read, (CredentialsError,), (b"\x01" + config, b"\x03" + config, b"\x05" + config,
                                                       b"\x00" + keys))


def _answer(status: int, body: bytes) -> Reply:
    return Reply(status, (("Content-Type", "application/json"),), body)


def _answers_reader() -> Reader:
    """Container, IMDS, credential_process, STS and SSO answers, each through its provider."""
    home = _scratch("fuzz-sso-")
    cache = sso.cache_path(home, "s")
    cache.parent.mkdir(parents=True)
    later = (NOW + timedelta(days=36500)).strftime("%Y-%m-%dT%H:%M:%SZ")
    cache.write_text(json.dumps({"accessToken": "a", "expiresAt": later}))
    current: list[bytes] = [b""]

    def fetched(request: Request, env: Any, **_: Any) -> Reply:
        data = current[0]
        if request.method == "PUT":  # IMDSv2's token
            return _answer(200, b"imds-token")
        if request.url.endswith(imds.ROLES_PATH):
            return _answer(200, b"role")
        return _answer(400 if data[:1] == b"!" else 200, data)

    @contextmanager
    def answered() -> Iterator[None]:
        with mock.patch.object(http, "fetch", fetched), mock.patch.object(container, "fetch", fetched), \
                mock.patch.object(imds, "fetch", fetched), \
                mock.patch.object(credentials, "_process_output", lambda argv, where: current[0]):
            yield

    env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1/creds", "AWS_ENDPOINT_URL": _NOWHERE}
    providers = (
        lambda: container.from_container(env),
        lambda: imds.from_imds({}, {}),
        lambda: credentials.from_process("credential-process", profile="p"),
        lambda: sts.assume_role(CREDS, "arn:aws:iam::123456789012:role/r", "s", region="us-east-1", env=env),
        lambda: sso.sso_credentials("p", {"sso_session": "s", "sso_account_id": "1", "sso_role_name": "r"},
                                    {"sso_region": "us-east-1", "sso_start_url": "https://x"}, env, home, now=NOW),
    )

    def read(data: bytes) -> None:
        current[0] = data
        providers[(data[-1] if data else 0) % len(providers)]()

    fields = {"AccessKeyId": "ASIA", "SecretAccessKey": "s", "Token": "t", "SessionToken": "t",
              "Expiration": "2030-01-01T00:00:00Z", "Version": 1, "Code": "Success"}
    seeds = (json.dumps(fields).encode(), _XML_SEEDS[1],
             json.dumps({"roleCredentials": {"accessKeyId": "A", "secretAccessKey": "s", "sessionToken": "t",
                                             "expiration": 1893456000000}}).encode())
    return Reader("answers", read, (CredentialsError,),
                  seeds, answered)


def readers() -> dict[str, Reader]:
    """Every reader by a short name, seeds made (and signed) on the call."""
    found = [
        Reader("raw", _read_raw, (SigningError, VerificationError), _raw_seeds()),
        Reader("sigv2", _read_raw, (SigningError, VerificationError), _v2_seeds()),
        Reader("tokens", _read_token, (SigningError,), _token_seeds()),
        Reader("cbor", _read_cbor, (cbor.CBORDecodeError,), _CBOR_SEEDS),
        _protocol_reader("xml", ((0, _XML_SEEDS[0]), (1, _XML_SEEDS[1]), (2, _XML_SEEDS[2]), (17, _XML_SEEDS[3]),
                                 (18, _XML_SEEDS[4]))),
        _protocol_reader("json", ((0, _JSON_SEEDS[0]), (1, _JSON_SEEDS[1]), (16, _JSON_SEEDS[2]),
                                  (17, _JSON_SEEDS[3]))),
        Reader("shorthand", _read_shorthand, (ParamError, WireError), _shorthand_seeds()),
        _chunked_reader(),
        Reader("post", _read_post, (VerificationError,), _post_seeds()),
        _serve_reader(),
        _files_reader(),
        _answers_reader(),
    ]
    return {reader.name: reader for reader in found}


__all__ = ["MAX_INPUT", "Reader", "Report", "TOKENS", "fuzz", "mutate", "readers"]
