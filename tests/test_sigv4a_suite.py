"""The official SigV4a test suite (aws-c-auth's v4a folder), read in place.

Per case, for header signing and for presigning: canonical request and
string-to-sign byte for byte, the derived public key, the vector's own
signatures verify against our string-to-sign, ours verifies with the derived
key, and the signed request carries what the vector's does (apart from the
randomized signature). ECDSA signatures differ on every run, so they are
verified, never compared.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from conftest import SIGV4A_SUITE

from sigv4 import Credentials, SigningResult, presign, sign, v4a
from sigv4.canonical import query_pairs
from sigv4.raw import parse_request
from sigv4.types import Request

#: Folders with only request.txt and context.json: the issue gives their canonical query.
REQUEST_ONLY = {
    "get-vanilla-query-order-key": "Param1=Value1&Param1=value2",
    "get-vanilla-query-order-value": "Param1=value1&Param1=value2",
}
_SIGNATURE = re.compile(r"(Signature=)([0-9a-f]+)")


def _case_names() -> list[str]:
    if not SIGV4A_SUITE.is_dir():
        return []  # test_suite_is_present reports the cases as not run
    return sorted(p.name for p in SIGV4A_SUITE.iterdir() if (p / "request.txt").is_file())


CASES = _case_names()
FULL_CASES = [c for c in CASES if c not in REQUEST_ONLY]


@dataclass(frozen=True)
class Case:
    """One vector folder and its context.json, with every field turned into a signing option."""

    folder: Path
    request: Request
    credentials: Credentials
    region: str
    service: str
    timestamp: datetime
    normalize: bool
    sign_body: bool
    omit_session_token: bool
    expires: int

    @classmethod
    def load(cls, name: str) -> Case:
        folder = SIGV4A_SUITE / name
        ctx = json.loads((folder / "context.json").read_text())
        creds = ctx["credentials"]
        known = {"credentials", "expiration_in_seconds", "normalize", "region", "service", "sign_body",
                 "timestamp", "omit_session_token"}
        # A context field we do not know would be silently ignored: refuse it instead.
        assert set(ctx) <= known, f"context.json fields not honoured: {set(ctx) - known}"
        assert set(creds) <= {"access_key_id", "secret_access_key", "token"}
        return cls(
            folder=folder,
            request=parse_request((folder / "request.txt").read_bytes()).request,
            credentials=Credentials(creds["access_key_id"], creds["secret_access_key"], creds.get("token")),
            region=ctx["region"],
            service=ctx["service"],
            timestamp=datetime.fromisoformat(ctx["timestamp"].replace("Z", "+00:00")),
            normalize=ctx["normalize"],
            sign_body=ctx["sign_body"],
            omit_session_token=ctx.get("omit_session_token", False),
            expires=ctx["expiration_in_seconds"],
        )

    def text(self, name: str) -> str:
        return (self.folder / name).read_text()

    def sign_headers(self) -> SigningResult:
        # sign_body adds x-amz-content-sha256 to header signing only.
        return sign(self.request, self.credentials, region=self.region, service=self.service,
                    timestamp=self.timestamp, algorithm="v4a", normalize_path=self.normalize,
                    content_sha256_header=self.sign_body, omit_session_token=self.omit_session_token)

    def presign(self) -> SigningResult:
        return presign(self.request, self.credentials, region=self.region, service=self.service,
                       timestamp=self.timestamp, algorithm="v4a", normalize_path=self.normalize,
                       expires=self.expires, omit_session_token=self.omit_session_token)


MODES: dict[str, Callable[[Case], SigningResult]] = {"header": Case.sign_headers, "query": Case.presign}


def test_suite_is_present() -> None:
    if not SIGV4A_SUITE.is_dir():
        pytest.xfail(f"SigV4a suite folder {SIGV4A_SUITE} is absent: its 40 cases (80 checks) were not run")
    assert len(CASES) == 40
    assert set(REQUEST_ONLY) <= set(CASES)


@pytest.mark.usefixtures("ecdsa_implementation")
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", FULL_CASES)
def test_sigv4a_suite(name: str, mode: str) -> None:
    case = Case.load(name)
    result = MODES[mode](case)
    assert result.canonical_request == case.text(f"{mode}-canonical-request.txt"), "canonical request"
    assert result.string_to_sign == case.text(f"{mode}-string-to-sign.txt"), "string-to-sign"
    if mode == "header" and (case.folder / "canonical-request.txt").is_file():
        # get-vanilla also keeps the older unprefixed file names for header signing.
        assert result.canonical_request == case.text("canonical-request.txt"), "canonical request (unprefixed)"
        assert result.string_to_sign == case.text("string-to-sign.txt"), "string-to-sign (unprefixed)"
    key = json.loads(case.text("public-key.json"))
    assert v4a.public_key(case.credentials) == (int(key["X"], 16), int(key["Y"], 16)), "derived public key"
    key = v4a.key_pair(case.credentials)
    suite_signed = parse_request((case.folder / f"{mode}-signed-request.txt").read_bytes()).request
    # The suite signed twice: once for *-signature.txt, once for the signed request.
    in_request = _SIGNATURE.search(suite_signed.url if mode == "query" else suite_signed.header("authorization") or "")
    assert in_request, "the suite's signed request carries a signature"
    for signature in (case.text(f"{mode}-signature.txt").strip(), in_request.group(2)):
        assert v4a.verify_string(key, result.string_to_sign, signature), "the suite's signature verifies"
    assert v4a.verify_string(key, result.string_to_sign, result.signature), "our signature verifies"
    assert _without_signature(result.request, mode) == _without_signature(suite_signed, mode), "signed request"


def _without_signature(request: Request, mode: str) -> tuple[str, str, list[tuple[str, str]], list[tuple[str, str]]]:
    """What a signed request sends apart from its signature: method, path, query multiset, headers multiset."""
    headers = sorted((n.lower(), _SIGNATURE.sub(r"\1", v)) for n, v in request.headers)
    query = sorted((n, v) for n, v in query_pairs(request.query) if n != "X-Amz-Signature")
    return request.method, request.path, query, headers


@pytest.mark.usefixtures("ecdsa_implementation")
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(REQUEST_ONLY))
def test_request_only_cases(name: str, mode: str) -> None:
    if not SIGV4A_SUITE.is_dir():
        pytest.xfail(f"SigV4a suite folder {SIGV4A_SUITE} is absent")
    case = Case.load(name)
    result = MODES[mode](case)
    expected = REQUEST_ONLY[name]
    user_params = [p for p in result.canonical.query.split("&") if not p.startswith("X-Amz-")]
    assert "&".join(user_params) == expected, "canonical query"
    assert v4a.verify_string(v4a.key_pair(case.credentials), result.string_to_sign, result.signature)


@pytest.mark.usefixtures("ecdsa_implementation")
def test_deterministic_signatures_repeat() -> None:
    creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    request = Request("GET", "https://example.amazonaws.com/")
    when = datetime.fromisoformat("2015-08-30T12:36:00+00:00")
    first, second = (sign(request, creds, region=["us-east-1", "us-west-2"], service="service", timestamp=when,
                          algorithm="v4a", deterministic=True) for _ in range(2))
    assert first.signature == second.signature
    assert first.request.header("x-amz-region-set") == "us-east-1,us-west-2"
    assert first.credential_scope == "20150830/service/aws4_request"


def test_key_derivation_vector() -> None:
    # From the issue: the private scalar for this pair is found on the first counter value.
    scalar = v4a.derive_private_scalar("AKISORANDOMAASORANDOM", "q+jcrXGc+0zWN6uzclKVhvMmUsIfRPa4rlRandom")
    assert scalar == 0x7FD3BD010C0D9C292141C2B77BFBDE1042C92E6836FFF749D1269EC890FCA1BD
