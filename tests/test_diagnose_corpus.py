"""The mismatch corpus of issue 12: realistic SignatureDoesNotMatch cases, each with its true cause.

Every case is produced the way people hit it: a client signs (this project's
signer, botocore's SigV4Auth/S3SigV4Auth/SigV4QueryAuth, or a hand-rolled
signer simulated by signing a canonical request with the mistake in it), the
request is changed in transit where the case says so, and the server's
answer comes from `sigv4.verify` (the verifier behind `sigv4 serve`) poured
into the envelope the case names: a JSON service's "The Canonical String for
this request should have been", a Query XML `ErrorResponse` (IAM, STS), S3's
`Error` with `CanonicalRequest`/`StringToSign` and their `Bytes` forms, the
string-to-sign alone, or a minimal envelope with no strings (moto's own
`<ErrorResponse><Errors><Error>` body, EC2's `Response`, a bare JSON error).
Complaint cases (clock, scope, keys, tokens) use AWS's documented bodies in
tests/fixtures/errors/.

The acceptance, asserted per case:
- with the secret, the first cause is the true one;
- without it, the first cause is the true one wherever the server's strings
  or facts decide it; elsewhere the first cause is "likely", says what is
  known and what would settle it;
- no cause text holds the secret or a session token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from string import Template
from typing import Any
from xml.sax.saxutils import escape

import pytest

from sigv4 import Credentials, Request, VerificationError, presign, sign, verify
from sigv4 import v4a as sigv4a
from sigv4.keys import signing_key
from sigv4.signer import SigningResult
from wire.debugger.complaint import read_error
from wire.debugger.diagnose import CAUSE_KINDS, Diagnosis, diagnose
from wire.debugger.diagnosis_text import render_text

botocore_auth = pytest.importorskip("botocore.auth", reason="botocore is in the test extra")
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials as BotoCredentials  # noqa: E402
from freezegun import freeze_time  # noqa: E402
from moto.core.exceptions import SignatureDoesNotMatchError  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures" / "errors"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKENvalue"
CREDS = Credentials("AKIDEXAMPLE", SECRET)
TEMPORARY = Credentials("ASIAEXAMPLE", SECRET, TOKEN)
WHEN = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
MISMATCH = ("The request signature we calculated does not match the signature you provided. Check your AWS Secret "
            "Access Key and signing method. Consult the service documentation for details.")


# -- clients ---------------------------------------------------------------------------------


def ours(request: Request, *, region: str = "us-east-1", service: str, creds: Credentials = CREDS,
         **options: Any) -> SigningResult:
    return sign(request, creds, region=region, service=service, timestamp=WHEN, **options)


def ours_presigned(request: Request, *, region: str = "us-east-1", service: str, **options: Any) -> SigningResult:
    return presign(request, CREDS, region=region, service=service, timestamp=WHEN, expires=900, **options)


def botocore(request: Request, *, service: str, region: str = "us-east-1", auth: str = "SigV4Auth") -> Request:
    """Sign with botocore's own signer (frozen at WHEN); the request as botocore sends it."""
    body = request.body if isinstance(request.body, bytes) else b""
    prepared = AWSRequest(method=request.method, url=request.url, headers=dict(request.headers), data=body)
    kwargs = {"expires": 900} if "Query" in auth else {}
    with freeze_time(WHEN):
        getattr(botocore_auth, auth)(BotoCredentials(CREDS.access_key_id, SECRET), service, region,
                                     **kwargs).add_auth(prepared)
    host = request.url.split("/")[2]
    headers = [("Host", host), *((n, v) for n, v in prepared.headers.items())]
    return Request(request.method, prepared.url, headers, body)


def hand_rolled(result: SigningResult, edit: Callable[[list[str]], None], *, key_region: str | None = None) -> Request:
    """A signer with a bug: it signs the canonical request `edit` makes of the right one (lines edited in
    place), or derives its key for `key_region`; the request sent is the right one."""
    lines = result.canonical_request.split("\n")
    edit(lines)
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    string_to_sign = result.string_to_sign.rsplit("\n", 1)[0] + "\n" + digest
    if result.algorithm == sigv4a.ALGORITHM:
        signature = sigv4a.sign_string(CREDS, string_to_sign)
    else:
        date, region, service, _ = result.credential_scope.split("/")
        key = signing_key(SECRET, date, key_region or region, service)
        signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    request = result.request
    authorization = request.header("authorization")
    if authorization is not None:
        return request.with_header("Authorization", authorization.replace(result.signature, signature))
    return request.with_url(request.url.replace(f"X-Amz-Signature={result.signature}", f"X-Amz-Signature={signature}"))


# -- servers ---------------------------------------------------------------------------------


def _hex(text: str) -> str:
    return " ".join(f"{byte:02x}" for byte in text.encode("utf-8"))


def _template(name: str, **values: str) -> bytes:
    return Template((FIXTURES / name).read_text()).substitute(values).encode()


def _strings(err: VerificationError, quote: Callable[[str], str]) -> dict[str, str]:
    assert err.canonical_request is not None and err.string_to_sign is not None
    return {"canonical_request": quote(err.canonical_request), "string_to_sign": quote(err.string_to_sign),
            "canonical_request_bytes": _hex(err.canonical_request), "string_to_sign_bytes": _hex(err.string_to_sign),
            "access_key_id": CREDS.access_key_id, "signature_provided": err.auth.signature if err.auth else ""}


def _json_quote(text: str) -> str:
    return json.dumps(text)[1:-1]


#: Envelope name -> (renders the server's answer from its VerificationError, does it carry the strings).
ENVELOPES: dict[str, tuple[Callable[[VerificationError], bytes], bool]] = {
    "json": (lambda e: _template("json-invalid-signature.json", **_strings(e, _json_quote)), True),
    "query-xml": (lambda e: _template("query-signature-does-not-match.xml", **_strings(e, escape)), True),
    "s3-xml": (lambda e: _template("s3-signature-does-not-match.xml", **_strings(e, escape)), True),
    "sts-only": (lambda e: _template("rest-json-sts-only.http", **_strings(e, _json_quote)), True),
    "moto": (lambda e: SignatureDoesNotMatchError().get_body().encode(), False),
    "ec2": (lambda e: (FIXTURES / "ec2-signature-does-not-match.xml").read_bytes(), False),
    "json-minimal": (lambda e: (FIXTURES / "json-minimal-signature.json").read_bytes(), False),
}


#: The secret the server holds for AKIDEXAMPLE when it is not the one the client signed with (a rotated key).
ROTATED = Credentials("AKIDEXAMPLE", "anotherSecretTheServerHoldsEXAMPLEKEY")


def server_answer(received: Request, envelope: str, rotated: bool = False, **rules: Any) -> bytes:
    """What the server says about `received`: sigv4.verify's mismatch, in the envelope named."""
    keys = {CREDS.access_key_id: ROTATED if rotated else CREDS, TEMPORARY.access_key_id: TEMPORARY}
    try:
        verify(received, keys.get, now=WHEN, **rules)
    except VerificationError as err:
        assert err.reason == "signature_mismatch", err
        return ENVELOPES[envelope][0](err)
    raise AssertionError("the case does not produce a mismatch")


# -- the cases -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    kind: str
    sent: Request
    #: The request the server received: the sent one after transit (None: unchanged).
    received: Request | None = None
    envelope: str = "json"
    rules: dict[str, Any] = field(default_factory=dict)
    #: Where the capture was taken: "client" (what left the client) or "server" (what arrived).
    capture: str = "client"
    #: A complaint body given as is (time, scope, key and token complaints).
    body: bytes | None = None
    #: Whether the server's answer decides the cause without the secret.
    decided_by_server: bool | None = None

    @property
    def arrived(self) -> Request:
        return self.received or self.sent

    def answer(self) -> bytes:
        return self.body if self.body is not None else server_answer(self.arrived, self.envelope, **self.rules)

    def decidable_without_secret(self) -> bool:
        if self.decided_by_server is not None:
            return self.decided_by_server
        has_strings = ENVELOPES[self.envelope][1]
        return has_strings and self.received is not None and self.capture == "client"


STS = "https://sts.amazonaws.com/"
FORM = ("Content-Type", "application/x-www-form-urlencoded")
STS_BODY = b"Action=GetCallerIdentity&Version=2011-06-15"
DDB = "https://dynamodb.us-east-1.amazonaws.com/"
DDB_HEADERS = [("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", "DynamoDB_20120810.ListTables")]
DDB_BODY = b'{"Limit":5,"ExclusiveStartTableName":"a"}'
API = "https://abc123.execute-api.us-east-1.amazonaws.com"
IAM = "https://iam.amazonaws.com/"
BUCKET = "https://examplebucket.s3.amazonaws.com"
S3 = {"service": "s3", "s3": True}
S3_RULES = {"s3": True}


def sts() -> Request:
    return Request("POST", STS, [FORM], STS_BODY)


def ddb(body: bytes = DDB_BODY, *headers: tuple[str, str]) -> Request:
    return Request("POST", DDB, [*DDB_HEADERS, *headers], body)


def _set(index: int, value: str) -> Callable[[list[str]], None]:
    def edit(lines: list[str]) -> None:
        lines[index] = value
    return edit


def _header_line(name: str, value: str) -> Callable[[list[str]], None]:
    def edit(lines: list[str]) -> None:
        at = next(i for i, line in enumerate(lines) if line.startswith(name + ":"))
        lines[at] = f"{name}:{value}"
    return edit


def _cases() -> dict[str, Case]:
    cases: dict[str, Case] = {}

    # Client-side signer mistakes: the request on the wire is right, the signature is over something else.
    unsorted = ours(Request("GET", IAM + "?Version=2010-05-08&Action=ListUsers&MaxItems=10"), service="iam")
    for envelope in ("query-xml", "moto"):
        cases[f"query-order/hand-rolled/{envelope}"] = Case(
            "query-order", hand_rolled(unsorted, _set(2, "Version=2010-05-08&Action=ListUsers&MaxItems=10")),
            envelope=envelope)
    cases["plus-space/botocore/json"] = Case(
        "plus-space", botocore(Request("GET", API + "/prod/search?q=red+shoes"), service="execute-api"))
    cases["plus-space/botocore/moto"] = Case(
        "plus-space", botocore(Request("GET", IAM + "?Action=ListUsers&PathPrefix=/a+b/&Version=2010-05-08"),
                               service="iam"), envelope="moto")
    acl = ours(Request("GET", BUCKET + "/photo.jpg?acl"), **S3)
    cases["query-empty-value/hand-rolled/s3"] = Case(
        "query-empty-value", hand_rolled(acl, _set(2, "acl")), envelope="s3-xml", rules=S3_RULES)
    prefix = ours(Request("GET", BUCKET + "/?list-type=2&prefix=a%2Fb"), **S3)
    cases["query-encoding/encoded-twice/s3"] = Case(
        "query-encoding", hand_rolled(prefix, _set(2, "list-type=2&prefix=a%252Fb")), envelope="s3-xml",
        rules=S3_RULES)
    cases["query-encoding/not-encoded/json-minimal"] = Case(
        "query-encoding", hand_rolled(ours(Request("GET", API + "/prod/items?filter=a%2Cb"), service="execute-api"),
                                      _set(2, "filter=a,b")), envelope="json-minimal")
    key = Request("GET", BUCKET + "/my%20photo.jpg")
    cases["path-encoding/generic-rule-for-s3/s3"] = Case(
        "path-encoding", ours(key, service="s3", content_sha256_header=True).request, envelope="s3-xml",
        rules=S3_RULES)
    cases["path-encoding/s3-rule-elsewhere/json"] = Case(
        "path-encoding", ours(Request("GET", API + "/prod/a%20b"), service="execute-api", double_encode=False).request)
    cases["path-normalization/raw-path/sts-only"] = Case(
        "path-normalization", ours(Request("GET", API + "/prod//items/./1"), service="execute-api",
                                   normalize_path=False).request, envelope="sts-only")
    local = ours(Request("POST", "https://localhost:8443/", [FORM, ("Host", "localhost:8443")], STS_BODY),
                 service="sts")
    cases["host-port/hand-rolled/query-xml"] = Case(
        "host-port", hand_rolled(local, _header_line("host", "localhost")), envelope="query-xml")
    cases["host-port/hand-rolled/ec2"] = Case(
        "host-port", hand_rolled(local, _header_line("host", "localhost")), envelope="ec2")
    spaced = ours(ddb(DDB_BODY, ("X-Amz-Meta", "a  b")), service="dynamodb")
    cases["header-changed/untrimmed/json"] = Case(
        "header-changed", hand_rolled(spaced, _header_line("x-amz-meta", "a  b")))
    compact = ours(ddb(), service="dynamodb")
    respaced = json.dumps(json.loads(DDB_BODY)).encode()
    cases["payload-hash/reserialized-after-signing/json-minimal"] = Case(
        "payload-hash", compact.request.with_body(respaced), envelope="json-minimal")
    cases["payload-hash/reserialized-after-signing/json"] = Case(
        "payload-hash", compact.request.with_body(respaced))
    cases["scope-region/key-for-us-east-1/json"] = Case(
        "scope-region", hand_rolled(ours(ddb(), region="us-west-2", service="dynamodb"), lambda lines: None,
                                    key_region="us-east-1"))
    get = ours(Request("GET", BUCKET + "/photo.jpg"), **S3).request
    cases["method/signed-get-sent-head/s3"] = Case(
        "method", Request("HEAD", get.url, get.headers), envelope="s3-xml", rules=S3_RULES)

    # Transit: a proxy or library changes the request after signing. The client-side capture and the
    # server's strings decide it; with a minimal envelope the capture is taken where the server receives.
    def in_transit(kind: str, label: str, sent: Request, received: Request, envelopes: tuple[str, ...],
                   minimal: str | None) -> None:
        for envelope in envelopes:
            cases[f"{kind}/{label}/{envelope}"] = Case(kind, sent, received, envelope=envelope)
        if minimal:
            cases[f"{kind}/{label}/{minimal}"] = Case(kind, sent, received, envelope=minimal, capture="server")

    form = ours(sts(), service="sts")
    in_transit("header-changed", "charset-added", form.request,
               form.request.with_header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
               ("query-xml", "sts-only"), "moto")
    boto_form = botocore(sts(), service="sts")
    in_transit("header-changed", "botocore-charset", boto_form,
               boto_form.with_header("Content-Type", FORM[1] + "; charset=UTF-8"), ("query-xml",), None)
    ported = ours(Request("POST", STS, [FORM, ("Host", "sts.amazonaws.com:443")], STS_BODY), service="sts")
    in_transit("host-port", "proxy-strips-443", ported.request, ported.request.with_header("Host", "sts.amazonaws.com"),
               ("query-xml", "sts-only"), "moto")
    meta = ours(Request("PUT", BUCKET + "/photo.jpg", [("x-amz-meta-color", "blue")], b"jpeg"), **S3)
    cases["header-changed/value-rewritten/s3"] = Case(
        "header-changed", meta.request, meta.request.with_header("x-amz-meta-color", "red"), envelope="s3-xml",
        rules=S3_RULES)
    cases["header-dropped/proxy-drops/s3"] = Case(
        "header-dropped", meta.request, meta.request.with_header("x-amz-meta-color", ""), envelope="s3-xml",
        rules=S3_RULES)
    slash = ours(Request("GET", BUCKET + "/reports/2024%2F01.csv"), **S3)
    cases["path-encoding/slash-decoded/s3"] = Case(
        "path-encoding", slash.request, slash.request.with_url(BUCKET + "/reports/2024/01.csv"), envelope="s3-xml",
        rules=S3_RULES)
    body = ours(ddb(), service="dynamodb")
    in_transit("payload-hash", "proxy-reserializes", body.request, body.request.with_body(respaced),
               ("json", "sts-only"), None)
    items = ours(Request("GET", API + "/prod/items"), service="execute-api")
    in_transit("trailing-slash", "added-in-transit", items.request, items.request.with_url(API + "/prod/items/"),
               ("json", "sts-only"), "json-minimal")
    plus = ours(Request("GET", API + "/prod/search?q=red+shoes"), service="execute-api")
    cases["plus-space/server-reads-space/sts-only"] = Case(
        "plus-space", plus.request, plus.request, envelope="sts-only", rules={"plus_is_space": True})
    listing = ours(Request("GET", IAM + "?Action=ListUsers&MaxItems=10&Version=2010-05-08"), service="iam")
    cases["query-encoding/param-dropped/query-xml"] = Case(
        "query-encoding", listing.request, listing.request.with_url(IAM + "?Action=ListUsers&Version=2010-05-08"),
        envelope="query-xml")
    dated = ours(sts(), service="sts")
    cases["header-changed/x-amz-date-rewritten/query-xml"] = Case(
        "header-changed", dated.request, dated.request.with_header("X-Amz-Date", "20240102T031405Z"),
        envelope="query-xml")

    # Presigned URLs.
    presigned_key = ours_presigned(Request("GET", BUCKET + "/my%20photo.jpg"), service="s3")
    cases["path-encoding/presigned-generic-rule/s3"] = Case(
        "path-encoding", presigned_key.request, envelope="s3-xml", rules=S3_RULES)
    presigned_port = ours_presigned(Request("GET", "https://examplebucket.s3.amazonaws.com:443/photo.jpg",
                                            [("Host", "examplebucket.s3.amazonaws.com:443")]), **S3)
    cases["host-port/presigned-proxy-strips/s3"] = Case(
        "host-port", presigned_port.request,
        presigned_port.request.with_header("Host", "examplebucket.s3.amazonaws.com"), envelope="s3-xml",
        rules=S3_RULES)
    presigned_iam = ours_presigned(Request("GET", IAM + "?Version=2010-05-08&Action=ListUsers"), service="iam")
    in_sent_order = "&".join(p for p in presigned_iam.request.query.split("&") if not p.startswith("X-Amz-Signature="))
    cases["query-order/presigned-hand-rolled/query-xml"] = Case(
        "query-order", hand_rolled(presigned_iam, _set(2, in_sent_order)), envelope="query-xml")
    boto_presigned = botocore(Request("GET", BUCKET + "/photo.jpg"), service="s3", auth="S3SigV4QueryAuth")
    cases["trailing-slash/presigned-botocore/s3"] = Case(
        "trailing-slash", boto_presigned, boto_presigned.with_url(boto_presigned.url.replace("/photo.jpg",
                                                                                            "/photo.jpg/")),
        envelope="s3-xml", rules=S3_RULES)

    # SigV4a.
    v4a = ours(Request("PUT", "https://mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com/k",
                       [("Content-Type", "text/plain")], b"hello"), region="*", service="s3", s3=True,
               algorithm="v4a")
    cases["header-changed/v4a-charset/s3"] = Case(
        "header-changed", v4a.request, v4a.request.with_header("Content-Type", "text/plain; charset=utf-8"),
        envelope="s3-xml", rules=S3_RULES)
    cases["header-changed/v4a-charset/ec2"] = Case(
        "header-changed", v4a.request, v4a.request.with_header("Content-Type", "text/plain; charset=utf-8"),
        envelope="ec2", rules=S3_RULES, capture="server")
    v4a_query = ours(Request("GET", "https://mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com/?b=2&a=1"),
                     region="*", service="s3", s3=True, algorithm="v4a")
    cases["query-order/v4a-hand-rolled/s3"] = Case(
        "query-order", hand_rolled(v4a_query, _set(2, "b=2&a=1")), envelope="s3-xml", rules=S3_RULES)
    v4a_presigned = presign(Request("GET", "https://mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com/k"),
                            CREDS, region="*", service="s3", timestamp=WHEN, expires=900, s3=True, algorithm="v4a")
    cases["host-port/v4a-presigned-hand-rolled/moto"] = Case(
        "host-port", hand_rolled(v4a_presigned, _header_line(
            "host", "mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com:443")), envelope="moto", rules=S3_RULES)

    # The key itself: strings agree, the signature verifies with the given secret, AWS holds another.
    cases["secret/rotated-key/query-xml"] = Case("secret", ours(sts(), service="sts").request, envelope="query-xml",
                                                 rules={"rotated": True}, decided_by_server=False)

    # Complaints whose own words decide the cause.
    signed = ours(sts(), service="sts").request
    west = ours(sts(), region="us-west-2", service="sts").request
    iam_west = ours(Request("GET", IAM + "?Action=ListUsers&Version=2010-05-08"), region="us-west-2",
                    service="iam").request
    temporary = ours(sts(), service="sts", creds=TEMPORARY).request
    s3_put = ours(Request("PUT", BUCKET + "/k", [("x-amz-acl", "public-read")], b"hello"), **S3,
                  unsigned_headers=["x-amz-acl"]).request
    complaints: tuple[tuple[str, str, Request, bytes], ...] = (
        ("clock-skew", "s3-request-time-too-skewed", signed, (FIXTURES / "s3-request-time-too-skewed.xml").read_bytes()),
        ("clock-skew", "json-signature-expired", signed, (FIXTURES / "json-signature-expired.json").read_bytes()),
        ("expired", "s3-presigned-expired", ours_presigned(Request("GET", BUCKET + "/k"), **S3).request,
         (FIXTURES / "s3-request-expired.xml").read_bytes()),
        ("scope-region", "s3-authorization-header-malformed", west,
         (FIXTURES / "s3-authorization-header-malformed.xml").read_bytes()),
        ("scope-region", "iam-scoped-to-a-valid-region", iam_west, (FIXTURES / "iam-scope-valid-region.xml").read_bytes()),
        ("scope-region", "sts-not-region", west, (FIXTURES / "query-scope-region.xml").read_bytes()),
        ("scope-service", "json-correct-service", signed, (FIXTURES / "json-scope-service.json").read_bytes()),
        ("scope-date", "query-scope-date", signed, (FIXTURES / "query-scope-date.xml").read_bytes()),
        ("access-key", "sts-invalid-client-token-id", signed, (FIXTURES / "sts-invalid-client-token-id.xml").read_bytes()),
        ("access-key", "dynamodb-unrecognized-client", signed, (FIXTURES / "json-token-invalid.json").read_bytes()),
        ("access-key", "s3-invalid-access-key-id", signed, (FIXTURES / "s3-invalid-access-key.xml").read_bytes()),
        ("token", "sts-expired-token", temporary, (FIXTURES / "query-token-expired.xml").read_bytes()),
        ("header-unsigned", "s3-headers-not-signed", s3_put, (FIXTURES / "s3-headers-not-signed.xml").read_bytes()),
        ("payload-hash", "s3-content-sha256-mismatch", ours(Request("PUT", BUCKET + "/k", [], b"hello"), **S3).request,
         _template("s3-content-sha256-mismatch.xml", client_hash=hashlib.sha256(b"hello").hexdigest(),
                   server_hash=hashlib.sha256(b"hello!").hexdigest())),
    )
    for kind, name, request, answer in complaints:
        cases[f"{kind}/{name}"] = Case(kind, request, body=answer, decided_by_server=True)
    return cases


CASES = _cases()


def _diagnose(case: Case, secret: Credentials | None) -> Diagnosis:
    captured = case.arrived if case.capture == "server" else case.sent
    complaint = read_error(None, [], case.answer())
    return diagnose(captured, complaint, secret=secret)


def _no_secrets(diagnosis: Diagnosis) -> None:
    shown = render_text(diagnosis) + json.dumps(diagnosis.to_json())
    assert SECRET not in shown and TOKEN not in shown
    assert not any("not about this request" in note for note in diagnosis.notes)  # S3 echoes what it received


def test_the_corpus_is_large_and_covers_every_envelope_and_signing_form() -> None:
    assert len(CASES) >= 40
    envelopes = {c.envelope for c in CASES.values() if c.body is None}
    assert envelopes == set(ENVELOPES)
    assert any("presigned" in name for name in CASES) and any("v4a" in name for name in CASES)
    assert {c.kind for c in CASES.values()} <= CAUSE_KINDS


@pytest.mark.parametrize("name", list(CASES))
def test_with_the_secret_the_first_cause_is_the_true_one(name: str) -> None:
    case = CASES[name]
    diagnosis = _diagnose(case, CREDS if case.sent.header("x-amz-security-token") is None else TEMPORARY)
    first = diagnosis.causes[0] if diagnosis.causes else None
    assert first is not None and first.kind == case.kind, f"{name}:\n{render_text(diagnosis)}"
    assert first.evidence == "proved" or case.kind == "secret", render_text(diagnosis)
    assert {c.kind for c in diagnosis.causes} <= CAUSE_KINDS
    _no_secrets(diagnosis)


@pytest.mark.parametrize("name", list(CASES))
def test_without_the_secret_the_first_cause_is_true_or_says_what_would_settle_it(name: str) -> None:
    case = CASES[name]
    diagnosis = _diagnose(case, None)
    assert diagnosis.causes, render_text(diagnosis)
    first = diagnosis.causes[0]
    if case.decidable_without_secret():
        assert first.kind == case.kind and first.evidence == "proved", f"{name}:\n{render_text(diagnosis)}"
    else:
        assert first.evidence == "likely" and "would settle it" in first.message, f"{name}:\n{render_text(diagnosis)}"
        assert all(c.evidence == "likely" for c in diagnosis.causes), render_text(diagnosis)
    _no_secrets(diagnosis)


def test_corpus_figures(capsys: pytest.CaptureFixture[str]) -> None:
    """Counts printed with the test output: how many cases the server decides, and how often the likely
    first cause is the true one where it does not."""
    decided = [n for n, c in CASES.items() if c.decidable_without_secret()]
    undecided = [n for n in CASES if n not in decided]
    right = [n for n in undecided if _diagnose(CASES[n], None).causes[0].kind == CASES[n].kind]
    with capsys.disabled():
        print(f"\ncorpus: {len(CASES)} cases; decided by the server's answer: {len(decided)}; "
              f"undecided without the secret: {len(undecided)} (likely first cause right in {len(right)})")
    assert len(decided) + len(undecided) == len(CASES)



@pytest.mark.parametrize(("name", "words"), [
    ("plus-space/botocore/json", "the client signed the query text as sent, sorted but not re-encoded (`+` kept as "
                                 "`+`), but the request carries values SigV4 encodes as `%XX` (`+` as `%2B`) "
                                 "(botocore's reading of a URL that already has a query)"),
    ("trailing-slash/added-in-transit/json-minimal", "the client signed the path `/prod/items`, but the request "
                                                     "carries `/prod/items/` (with the trailing slash)"),
    ("payload-hash/reserialized-after-signing/json", "the client signed the same JSON serialized differently"),
    ("query-order/hand-rolled/moto", "the client signed the query parameters in the order sent"),
    ("path-encoding/generic-rule-for-s3/s3", "the client signed the path encoded twice (`/my%2520photo.jpg`), but "
                                             "the request carries an S3 path, which is encoded once (`/my%20photo.jpg`)"),
    ("scope-region/key-for-us-east-1/json", "the client derived its key for `20240102/us-east-1/dynamodb/aws4_request` "
                                            "but declared `20240102/us-west-2/dynamodb/aws4_request`"),
])
def test_with_the_secret_the_words_say_what_the_client_signed(name: str, words: str) -> None:
    first = _diagnose(CASES[name], CREDS).causes[0]
    assert first.message.startswith("reproduces the signature you sent: ") and words in first.message, first.message


def test_the_readme_documents_the_vocabulary_exactly() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    table = readme[readme.index("| kind | the cause |"):]
    table = table[:table.index("\n\n")]
    documented = {kind for row in table.splitlines()[2:] for kind in
                  (k.strip(" `") for k in row.split("|")[1].split(","))}
    assert documented == CAUSE_KINDS


def test_two_mistakes_at_once_are_both_proved() -> None:
    """A hand-rolled signer that neither sorts the query nor keeps the Host port."""
    result = ours(Request("GET", "https://localhost:8443/?b=2&a=1", [("Host", "localhost:8443")]), service="iam")

    def edit(lines: list[str]) -> None:
        lines[2] = "b=2&a=1"
        _header_line("host", "localhost")(lines)

    sent = hand_rolled(result, edit)
    diagnosis = diagnose(sent, read_error(None, [], server_answer(sent, "moto")), secret=CREDS)
    assert [(c.kind, c.evidence) for c in diagnosis.causes] == [("query-order", "proved"), ("host-port", "proved")]
