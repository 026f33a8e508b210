"""SigV4a's two ECDSA implementations (sigv4.v4a_ecdsa): awscrt's `EC` when installed, else `cryptography`.

awscrt is the one in use when it imports; without it `cryptography` signs and verifies (a subprocess with awscrt
hidden). A request signed (or presigned) with either verifies with either. Both refuse the same signatures:
each malformed DER form below is False with both, never an exception, and `verify()` gives the same reason
with both; random mutations of a valid signature get the same answer from both.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from itertools import product
from pathlib import Path
from typing import get_args

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st

from sigv4 import Credentials, Request, SigningResult, presign, sign, v4a, v4a_ecdsa, verify
from sigv4.errors import VerificationError

ROOT = Path(__file__).resolve().parent.parent
IMPLEMENTATIONS = get_args(v4a_ecdsa.Implementation)
T = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
CREDS = Credentials("AKIDECDSA", "ecdsa/secret+key")
LOOKUP = {CREDS.access_key_id: CREDS}.get
REQUEST = Request("PUT", "https://bucket.s3.amazonaws.com/photos/cat.txt", [("Content-Type", "text/plain")], b"body")
SCOPE = dict(region="us-east-1,us-west-2", service="s3", timestamp=T, s3=True)
N = v4a.P256_ORDER
MESSAGE = b"AWS4-ECDSA-P256-SHA256\n20240501T120000Z\n20240501/s3/aws4_request\n" + b"ab" * 32
VALID = v4a_ecdsa.sign_deterministic(v4a.private_key(CREDS), MESSAGE)
R, S = decode_dss_signature(VALID)
KEYS = {name: v4a_ecdsa.IMPLEMENTATIONS[name](v4a.private_key(CREDS)) for name in IMPLEMENTATIONS}


def _int(body: bytes) -> bytes:
    return b"\x02" + bytes([len(body)]) + body


def _seq(body: bytes, length: bytes | None = None) -> bytes:
    return b"\x30" + (bytes([len(body)]) if length is None else length) + body


def _minimal(value: int) -> bytes:
    return value.to_bytes(value.bit_length() // 8 + 1, "big")  # one sign bit to spare, as DER writes it


#: Signatures no verifier may accept: DER that is not strict DER, out-of-range r or s, not DER at all.
MALFORMED: dict[str, bytes] = {
    "trailing byte": VALID + b"\x00",
    "truncated": VALID[:-1],
    "long-form length": _seq(_int(_minimal(R)) + _int(_minimal(S)), b"\x81" + bytes([VALID[1]])),
    "indefinite length": b"\x30\x80" + VALID[2:] + b"\x00\x00",
    "r padded with a zero byte": _seq(_int(b"\x00" + _minimal(R)) + _int(_minimal(S))),
    "r negative": _seq(_int((-R).to_bytes(33, "big", signed=True)) + _int(_minimal(S))),
    "r empty": _seq(_int(b"") + _int(_minimal(S))),
    "a third integer": _seq(_int(_minimal(R)) + _int(_minimal(S)) + _int(b"\x01")),
    "r = 0": encode_dss_signature(0, S),
    "s = 0": encode_dss_signature(R, 0),
    "r = n": encode_dss_signature(N, S),
    "s = n": encode_dss_signature(R, N),
    "r + n": encode_dss_signature(R + N, S),
    "r and s swapped": encode_dss_signature(S, R),
    "raw r || s": R.to_bytes(32, "big") + S.to_bytes(32, "big"),
    "SET, not SEQUENCE": b"\x31" + VALID[1:],
    "empty": b"",
    "empty SEQUENCE": b"\x30\x00",
    "10 kB of SEQUENCE tags": b"\x30" * 10_000,
}


def test_awscrt_is_used_when_installed() -> None:
    assert set(v4a_ecdsa.IMPLEMENTATIONS) == {"awscrt", "cryptography"}
    assert v4a_ecdsa.IMPLEMENTATION == "awscrt"
    assert isinstance(v4a.key_pair(CREDS), v4a_ecdsa.CrtKeyPair)


def test_without_awscrt_cryptography_signs_and_verifies() -> None:
    script = """if True:
        import datetime, json, sys
        sys.modules["awscrt"] = None  # as if the crt extra were not installed: importing awscrt fails
        from sigv4 import Credentials, Request, sign, v4a_ecdsa, verify
        creds, now = Credentials("AKIDECDSA", "ecdsa/secret+key"), datetime.datetime(2024, 5, 1, tzinfo=datetime.UTC)
        signed = sign(Request("GET", "https://example.amazonaws.com/k"), creds, region="*", service="svc",
                      timestamp=now, algorithm="v4a")
        identity = verify(signed.request, {creds.access_key_id: creds}.get, now=now)
        print(json.dumps([v4a_ecdsa.IMPLEMENTATION, list(v4a_ecdsa.IMPLEMENTATIONS), identity.version]))
    """
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["cryptography", ["cryptography"], "v4a"]


@pytest.mark.parametrize("signer, verifier", list(product(IMPLEMENTATIONS, repeat=2)))
@pytest.mark.parametrize("signed_by", [sign, presign], ids=["header", "presigned"])
def test_a_signature_made_with_one_verifies_with_the_other(
        signer: str, verifier: str, signed_by: Callable[..., SigningResult], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(v4a_ecdsa, "IMPLEMENTATION", signer)
    signed = signed_by(REQUEST, CREDS, algorithm="v4a", **SCOPE)
    deterministic = signed_by(REQUEST, CREDS, algorithm="v4a", deterministic=True, **SCOPE)
    monkeypatch.setattr(v4a_ecdsa, "IMPLEMENTATION", verifier)
    for result in (signed, deterministic):
        assert verify(result.request, LOOKUP, now=T).signature == result.signature


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_the_valid_signature_and_its_high_s_twin_verify(implementation: v4a_ecdsa.Implementation) -> None:
    key = KEYS[implementation]
    assert key.verify(MESSAGE, VALID)
    # ECDSA's (r, n - s) is as valid as (r, s); neither library asks for low s, and AWS does not either.
    assert key.verify(MESSAGE, encode_dss_signature(R, N - S))
    assert not key.verify(MESSAGE + b".", VALID)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_signatures_are_refused(name: str, implementation: v4a_ecdsa.Implementation) -> None:
    assert KEYS[implementation].verify(MESSAGE, MALFORMED[name]) is False


def _reason(request: Request) -> str:
    with pytest.raises(VerificationError) as info:
        verify(request, LOOKUP, now=T)
    return info.value.reason


@pytest.mark.parametrize("garbage", [*(der.hex() for der in MALFORMED.values()), "zz", "0", VALID.hex().upper()],
                         ids=[*MALFORMED, "not hex", "odd length", "uppercase hex"])
def test_verify_refuses_a_malformed_signature_for_the_same_reason_with_both(
        garbage: str, monkeypatch: pytest.MonkeyPatch) -> None:
    signed = sign(REQUEST, CREDS, algorithm="v4a", **SCOPE)
    authorization = signed.request.header("authorization") or ""
    tampered = signed.request.with_header("Authorization", authorization.replace(signed.signature, garbage))
    reasons = []
    for implementation in IMPLEMENTATIONS:
        monkeypatch.setattr(v4a_ecdsa, "IMPLEMENTATION", implementation)
        reasons.append(_reason(tampered))
    # An empty signature is refused before any ECDSA, as a malformed Authorization header.
    assert reasons == ["malformed_auth" if not garbage else "signature_mismatch"] * len(IMPLEMENTATIONS)


def _mutated(data: st.DataObject) -> bytes:
    signature = bytearray(VALID)
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(signature)))
        edit = data.draw(st.sampled_from(["flip", "insert", "delete"]))
        if edit == "insert" or not signature:
            signature.insert(at, data.draw(st.integers(0, 255)))
        elif edit == "delete":
            del signature[min(at, len(signature) - 1)]
        else:
            signature[min(at, len(signature) - 1)] ^= 1 << data.draw(st.integers(0, 7))
    return bytes(signature)


@settings(max_examples=300)
@given(st.data())
def test_both_give_the_same_answer_for_a_mutated_signature(data: st.DataObject) -> None:
    signature = _mutated(data) if data.draw(st.booleans()) else data.draw(st.binary(max_size=80))
    answers = {name: key.verify(MESSAGE, signature) for name, key in KEYS.items()}
    assert len(set(answers.values())) == 1, answers
