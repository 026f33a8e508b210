"""IAM Roles Anywhere X.509 signing against `iam-rolesanywhere-session`, verification, and the credential source.

Oracle: `iam_rolesanywhere_session.IAMRolesAnywhereSigner` (AWS's Python package) on the CreateSession
request its `IAMRolesAnywhereSession` builds, at a frozen time. RSA (PKCS#1 v1.5) signatures are
deterministic: the signed requests are equal byte for byte. ECDSA signatures are randomized: everything
signed (headers, canonical request, string-to-sign) is equal, our verifier accepts the oracle's signature,
and the oracle's string-to-sign verifies ours with the certificate's public key. The AWS signing helper (Go,
not installed here) is matched through its algorithm restated from its source (`_helper_signature`), on a
request shaped as it sends one.
End to end: a fake Roles Anywhere endpoint (`fake_rolesanywhere`) verifies the signature and the chain to
its trust anchor and issues credentials, which the credential chain (profile `rolesanywhere_*` keys, and
`credential_process` running `sigv4 credential-process rolesanywhere`) hands to a signer whose request a
verifying server accepts.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sigv4
from cli_run import run_cli
from fake_rolesanywhere import PROFILE_ARN, REGION, ROLE_ARN, TRUST_ANCHOR_ARN, fake_rolesanywhere
from pki import certificate, pem, pki, rsa_key
from sigv4 import InvalidParameterError, Request, VerificationError, x509
from sigv4.integrations.credentials import CachingProvider, from_profile, resolve_credentials
from verifying_server import verifying_server

oracle = pytest.importorskip("iam_rolesanywhere_session", reason="iam-rolesanywhere-session is in the test extra")
from botocore.awsrequest import AWSRequest  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa  # noqa: E402
from freezegun import freeze_time  # noqa: E402

NOW = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
ARNS = {"profile_arn": PROFILE_ARN, "role_arn": ROLE_ARN, "trust_anchor_arn": TRUST_ANCHOR_ARN}


def _oracle_signed(kind: str, chain: bool, region: str, duration: int, session_name: str | None,
                   at: datetime) -> tuple[AWSRequest, oracle.IAMRolesAnywhereSigner]:
    """The CreateSession request as IAMRolesAnywhereSession builds it, signed by its signer at `at`."""
    p = pki(kind)
    session = oracle.IAMRolesAnywhereSession(
        certificate=pem(p.leaf), private_key=pem(p.leaf_key), certificate_chain=pem(p.intermediate) if chain else None,
        region=region, session_duration=duration, role_session_name=session_name,
        endpoint=f"rolesanywhere.{region}.amazonaws.com", **ARNS)
    request = AWSRequest(method="POST", url=f"https://{session.endpoint}/sessions",
                         data=json.dumps(session._build_session_request_body()))
    with freeze_time(at):
        session._request_signer.add_auth(request)
    return request, session._request_signer


def _ours(kind: str, chain: bool, region: str, duration: int, session_name: str | None,
          at: datetime) -> sigv4.SigningResult:
    p = pki(kind)
    signer = x509.SigningCertificate.from_pem(pem(p.leaf), pem(p.leaf_key), pem(p.intermediate) if chain else None)
    request = x509.create_session_request(f"https://rolesanywhere.{region}.amazonaws.com", duration_seconds=duration,
                                          role_session_name=session_name, **ARNS)
    return x509.sign(request, signer, region=region, timestamp=at)


def _as_request(theirs: AWSRequest) -> Request:
    body = theirs.body if isinstance(theirs.body, bytes) else theirs.body.encode()
    return Request(theirs.method, theirs.url, list(theirs.headers.items()), body)


cases = st.tuples(st.sampled_from(["rsa", "ec"]), st.booleans(), st.sampled_from(["us-east-1", "eu-west-1",
                                                                                    "ap-southeast-2"]),
                  st.integers(900, 43200), st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9_=,.@-]{2,20}",
                                                                              fullmatch=True)),
                  st.datetimes(min_value=datetime(2021, 1, 1), max_value=datetime(2039, 1, 1),
                               timezones=st.just(timezone.utc)).map(lambda t: t.replace(microsecond=0)))


@settings(max_examples=30, deadline=None)
@given(cases)
def test_signing_equals_iam_rolesanywhere_session(case: tuple[str, bool, str, int, str | None, datetime]) -> None:
    kind, chain, region, duration, session_name, at = case
    theirs_aws, their_signer = _oracle_signed(kind, chain, region, duration, session_name, at)
    theirs, ours = _as_request(theirs_aws), _ours(kind, chain, region, duration, session_name, at)
    their_auth = theirs.header("authorization") or ""
    if kind == "rsa":  # deterministic: the whole signed request, header order included
        assert (ours.request.method, ours.request.url, ours.request.headers, ours.request.body) == \
            (theirs.method, theirs.url, theirs.headers, theirs.body)
        return
    # ECDSA: all that was signed is equal ...
    assert ours.request.headers[:-1] == theirs.headers[:-1] and ours.request.body == theirs.body
    del theirs_aws.headers["Authorization"]  # the oracle recomputes over the headers as they were when it signed
    their_canonical = their_signer.canonical_request(theirs_aws)
    assert ours.canonical_request == their_canonical
    their_string_to_sign = their_signer.string_to_sign(theirs_aws, their_canonical)
    assert ours.string_to_sign == their_string_to_sign
    assert ours.authorization.rpartition("Signature=")[0] == their_auth.rpartition("Signature=")[0]
    # ... our verifier accepts their signature, and their string-to-sign verifies ours with the certificate's key.
    anchor = pki(kind).root if chain else pki(kind).intermediate
    assert x509.verify(theirs, at, trust_anchors=[anchor]).algorithm == x509.ECDSA_ALGORITHM
    public = pki(kind).leaf.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(bytes.fromhex(ours.signature), their_string_to_sign.encode(), ec.ECDSA(hashes.SHA256()))


def test_rsa_signature_is_pkcs1_sha256_over_the_documented_string_to_sign() -> None:
    ours = _ours("rsa", True, REGION, 3600, None, NOW)
    assert ours.string_to_sign.split("\n")[:3] == ["AWS4-X509-RSA-SHA256", "20240506T070809Z",
                                                   f"20240506/{REGION}/rolesanywhere/aws4_request"]
    assert ours.canonical_request.split("\n")[:3] == ["POST", "/sessions", ""]
    assert ours.signed_headers == ("content-type", "host", "x-amz-date", "x-amz-x509", "x-amz-x509-chain")
    assert ours.authorization.startswith(f"AWS4-X509-RSA-SHA256 Credential={pki('rsa').leaf.serial_number}/20240506/")
    public = pki("rsa").leaf.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    public.verify(bytes.fromhex(ours.signature), ours.string_to_sign.encode(), padding.PKCS1v15(), hashes.SHA256())


def _helper_signature(request: Request, signer: x509.SigningCertificate, region: str, when: datetime) -> str:
    """The AWS signing helper's algorithm (aws_signing_helper/signer.go, `signRequest`), restated: every header but
    Authorization, User-Agent and X-Amzn-Trace-Id, lowercased, sorted, repeated values joined by `,`, runs of
    spaces collapsed; the query as Go's `url.Values.Encode()` with `+` as `%20`; path `/sessions`; SHA-256 of
    the body; the Authorization header it builds (RSA: PKCS#1 v1.5 over SHA-256 of the string-to-sign)."""
    values: dict[str, list[str]] = {}
    for name, value in request.headers:
        if name.lower() not in ("authorization", "user-agent", "x-amzn-trace-id"):
            values.setdefault(name.lower(), []).append(value)
    names = sorted(values)
    lines = [re.sub(" +", " ", f"{name}:{','.join(values[name])}".strip(" ")) for name in names]
    pairs: dict[str, list[str]] = {}
    for key, value in parse_qsl(request.query, keep_blank_values=True):
        pairs.setdefault(key, []).append(value)
    query = "&".join(f"{quote(key, safe='-_.~')}={quote(value, safe='-_.~')}" for key in sorted(pairs)
                     for value in pairs[key])
    body = request.body if isinstance(request.body, bytes) else b""
    canonical = "\n".join(["POST", "/sessions", query, "\n".join(lines), "", ";".join(names),
                           hashlib.sha256(body).hexdigest()])
    scope = f"{when:%Y%m%d}/{region}/rolesanywhere/aws4_request"
    to_sign = "\n".join([signer.algorithm, f"{when:%Y%m%dT%H%M%SZ}", scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    assert isinstance(signer.private_key, rsa.RSAPrivateKey)
    signature = signer.private_key.sign(to_sign.encode(), padding.PKCS1v15(), hashes.SHA256()).hex()
    return (f"{signer.algorithm} Credential={signer.certificate.serial_number}/{scope}, "
            f"SignedHeaders={';'.join(names)}, Signature={signature}")


def test_signing_equals_the_signing_helpers_algorithm() -> None:
    """As the helper sends CreateSession: the ARNs in the query, `application/json`, the SDK's own headers."""
    p = pki("rsa")
    signer = x509.SigningCertificate(p.leaf, p.leaf_key, (p.intermediate,))
    query = urlencode([("profileArn", PROFILE_ARN), ("roleArn", ROLE_ARN), ("trustAnchorArn", TRUST_ANCHOR_ARN)],
                      quote_via=quote)
    request = Request("POST", f"https://rolesanywhere.{REGION}.amazonaws.com/sessions?{query}",
                      [("Content-Type", "application/json"), ("Amz-Sdk-Invocation-Id", "3f1c  5d2e"),
                       ("User-Agent", "CredHelper/1.4.0 (go1.22; linux; amd64)")], b'{"durationSeconds":3600}')
    ours = x509.sign(request, signer, region=REGION, timestamp=NOW)
    assert ours.authorization == _helper_signature(ours.request, signer, REGION, NOW)


def test_the_signing_helpers_layout_verifies_too() -> None:
    """The AWS signing helper sends the ARNs in the query and `application/json` (the API takes either form)."""
    p = pki("ec")
    query = "&".join(f"{name}={value.replace(':', '%3A').replace('/', '%2F')}" for name, value in
                     (("profileArn", PROFILE_ARN), ("roleArn", ROLE_ARN), ("trustAnchorArn", TRUST_ANCHOR_ARN)))
    request = Request("POST", f"https://rolesanywhere.{REGION}.amazonaws.com/sessions?{query}",
                      [("Content-Type", "application/json")], b'{"durationSeconds":3600}')
    signed = x509.sign(request, x509.SigningCertificate(p.leaf, p.leaf_key), region=REGION, timestamp=NOW)
    # Go's url.Values.Encode(): sorted by name, values escaped (`:` and `/` included).
    assert signed.canonical_request.split("\n")[2] == query
    assert x509.verify(signed.request, NOW, trust_anchors=[p.intermediate]).trust_anchor == p.intermediate


# -- verification --------------------------------------------------------------------------------------------

def _reason(request: Request, **kwargs: object) -> str:
    options: dict = {"trust_anchors": [pki("rsa").root], **kwargs}
    with pytest.raises(VerificationError) as err:
        x509.verify(request, options.pop("now", NOW), **options)
    return err.value.reason


def test_verify_checks_signature_chain_validity_time_and_scope() -> None:
    good = _ours("rsa", True, REGION, 3600, None, NOW).request
    identity = x509.verify(good, NOW, trust_anchors=[pki("rsa").root], regions={REGION})
    assert (identity.subject, identity.trust_anchor, identity.chain) == \
        ("CN=workload-rsa.example.com", pki("rsa").root, (pki("rsa").intermediate,))
    assert _reason(good.with_body(good.body + b" ")) == "signature_mismatch"  # type: ignore[operator]
    assert _reason(good.with_header("Content-Type", "text/plain")) == "signature_mismatch"
    assert _reason(good, trust_anchors=[certificate("Another CA", rsa_key(5), ca=True)]) == "certificate"
    assert _reason(good.without_headers(["X-Amz-X509-Chain"])) == "missing_signed_header"
    assert _reason(good, now=NOW + timedelta(minutes=16)) == "skew"
    assert _reason(good, regions={"us-east-1"}) == "scope"
    assert _reason(good, service="sts") == "scope"
    assert _reason(good.without_headers(["Authorization"])) == "missing_auth"
    auth = good.header("authorization") or ""
    assert _reason(good.with_header("Authorization", auth.replace("Credential=", "Credential=1"))) == "malformed_auth"
    assert _reason(good.with_header("Authorization", auth.replace("RSA", "ECDSA"))) == "malformed_auth"
    assert _reason(good.with_header("Authorization", auth.replace("x-amz-x509;", ""))) == "unsigned_header"
    assert _reason(good.with_header("Authorization", auth.replace(";x-amz-x509-chain", ""))) == "unsigned_header"
    chain = good.header("X-Amz-X509-Chain") or ""
    assert _reason(good.with_header("X-Amz-X509-Chain", ",".join([chain] * 9))) == "malformed_auth"
    # Without the chain header the leaf does not reach the root; its issuer as the anchor it does.
    alone = x509.sign(x509.create_session_request("https://rolesanywhere.eu-west-1.amazonaws.com", **ARNS),
                      x509.SigningCertificate(pki("rsa").leaf, pki("rsa").leaf_key), region=REGION, timestamp=NOW)
    assert _reason(alone.request) == "certificate"
    assert x509.verify(alone.request, NOW, trust_anchors=[pki("rsa").intermediate]).chain == ()


def test_an_expired_certificate_is_refused() -> None:
    key = rsa_key(6)
    old = certificate("old", key, issuer=pki("rsa").root, issuer_key=rsa_key(1), serial=77,
                      not_after=datetime(2023, 1, 1, tzinfo=timezone.utc))
    signed = x509.sign(x509.create_session_request("https://h", **ARNS), x509.SigningCertificate(old, key),
                       region=REGION, timestamp=NOW)
    with pytest.raises(VerificationError, match="valid 2020-01-01T00:00:00Z to 2023-01-01T00:00:00Z") as err:
        x509.verify(signed.request, NOW, trust_anchors=[pki("rsa").root])
    assert err.value.reason == x509.CERTIFICATE_REASON


def test_bad_signing_input_is_a_typed_error() -> None:
    p = pki("rsa")
    with pytest.raises(InvalidParameterError, match="not the key of the certificate"):
        x509.SigningCertificate(p.leaf, rsa_key(7))
    with pytest.raises(InvalidParameterError, match="certificate: not PEM"):
        x509.SigningCertificate.from_pem(b"nope", pem(p.leaf_key))
    with pytest.raises(InvalidParameterError, match="private_key"):
        x509.SigningCertificate.from_pem(pem(p.leaf), b"nope")
    with pytest.raises(InvalidParameterError, match="duration_seconds"):
        x509.create_session_request("https://h", duration_seconds=60, **ARNS)
    with pytest.raises(InvalidParameterError, match="role_arn"):
        x509.create_session_request("https://h", **{**ARNS, "role_arn": "workload"})


# -- the credential source, end to end -----------------------------------------------------------------------

def _write_pki(tmp_path: Path, kind: str) -> dict[str, str]:
    p = pki(kind)
    files = {"certificate": p.leaf, "private-key": p.leaf_key, "intermediates": p.intermediate}
    for name, item in files.items():
        (tmp_path / f"{name}.pem").write_bytes(pem(item))
    return {name: str(tmp_path / f"{name}.pem") for name in files}


def _profile(tmp_path: Path, files: dict[str, str], endpoint: str, duration: int = 3600) -> dict[str, str]:
    config = tmp_path / "config"
    config.write_text(
        "[profile workload]\n"
        f"rolesanywhere_certificate = {files['certificate']}\nrolesanywhere_private_key = {files['private-key']}\n"
        f"rolesanywhere_intermediates = {files['intermediates']}\nrolesanywhere_trust_anchor_arn = {TRUST_ANCHOR_ARN}\n"
        f"rolesanywhere_profile_arn = {PROFILE_ARN}\nrolesanywhere_role_arn = {ROLE_ARN}\n"
        f"rolesanywhere_session_duration = {duration}\nrolesanywhere_endpoint = {endpoint}\n")
    return {"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
            "HOME": str(tmp_path), "AWS_EC2_METADATA_DISABLED": "true"}


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_profile_credentials_come_from_a_verified_create_session_and_sign_requests(tmp_path: Path, kind: str) -> None:
    keys: dict[str, sigv4.Credentials] = {}
    with fake_rolesanywhere(pki(kind).root, keys) as fake, verifying_server(keys) as server:
        env = _profile(tmp_path, _write_pki(tmp_path, kind), fake.url)
        found = resolve_credentials("workload", env)
        assert fake.failures == [] and len(fake.sessions) == 1
        assert fake.sessions[0].algorithm == (x509.RSA_ALGORITHM if kind == "rsa" else x509.ECDSA_ALGORITHM)
        assert found.source == "rolesanywhere (profile workload)"
        assert found.credentials == keys[found.credentials.access_key_id]
        assert found.expiry is not None and timedelta(minutes=59) < found.expiry - datetime.now(timezone.utc)
        signed = sigv4.sign(Request("POST", f"{server.url}/orders", [], b"{}"), found.credentials, region=REGION,
                            service="execute-api", timestamp=datetime.now(timezone.utc))
        requests = pytest.importorskip("requests", reason="requests is in the test extra")
        answer = requests.post(signed.request.url, data=b"{}", headers=dict(signed.request.headers), timeout=10)
        assert (answer.status_code, answer.json()["key"]) == (200, found.credentials.access_key_id)


def test_credentials_are_refreshed_before_they_expire(tmp_path: Path) -> None:
    with fake_rolesanywhere(pki("ec").root) as fake:
        env = _profile(tmp_path, _write_pki(tmp_path, "ec"), fake.url, duration=900)
        clock = [datetime.now(timezone.utc)]
        provider = CachingProvider(lambda: from_profile("workload", env), clock=lambda: clock[0])
        first = provider()
        clock[0] += timedelta(minutes=5)
        assert provider() is first and len(fake.sessions) == 1  # 10 minutes left: kept
        clock[0] += timedelta(minutes=6)  # 4 minutes left, within the 5-minute refresh window: a new session
        second = provider()
        assert len(fake.sessions) == 2 and second.credentials != first.credentials


def test_a_refused_session_is_a_credentials_error_naming_the_service_answer(tmp_path: Path) -> None:
    with fake_rolesanywhere(certificate("Another CA", rsa_key(5), ca=True)) as fake:
        env = _profile(tmp_path, _write_pki(tmp_path, "rsa"), fake.url)
        with pytest.raises(sigv4.SigningError, match=r"CreateSession: HTTP 403: certificate: .*no chain to a trust"):
            resolve_credentials("workload", env)


def test_cli_credential_process_feeds_botocore_and_our_chain(tmp_path: Path) -> None:
    keys: dict[str, sigv4.Credentials] = {}
    files = _write_pki(tmp_path, "rsa")
    with fake_rolesanywhere(pki("rsa").root, keys) as fake:
        flags = [f"--{name}={path}" for name, path in files.items()] + [
            f"--trust-anchor-arn={TRUST_ANCHOR_ARN}", f"--profile-arn={PROFILE_ARN}", f"--role-arn={ROLE_ARN}",
            f"--endpoint={fake.url}"]
        code, out, err = run_cli(["credential-process", "rolesanywhere", *flags], {})
        assert (code, err) == (0, "")
        record = json.loads(out)
        assert list(record) == ["Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"]
        assert keys[record["AccessKeyId"]].secret_access_key == record["SecretAccessKey"]
        # As a profile's credential_process, run by botocore and by our chain.
        command = " ".join([sys.executable, str(Path(__file__).resolve().parent.parent / "cli.py"),
                            "credential-process", "rolesanywhere", *flags])
        config = tmp_path / "process-config"
        config.write_text(f"[profile helper]\ncredential_process = {command}\n")
        env = {"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
               "HOME": str(tmp_path)}
        assert resolve_credentials("helper", env).credentials.access_key_id in keys
        import botocore.session
        session = botocore.session.Session(profile="helper")
        session.set_config_variable("config_file", str(config))
        frozen = session.get_credentials().get_frozen_credentials()
        assert keys[frozen.access_key].session_token == frozen.token
        assert len(fake.sessions) == 3


@pytest.mark.parametrize("args, words", [
    (["--certificate", "c.pem"], "private-key, trust-anchor-arn, profile-arn, role-arn missing"),
    (["--certificate", "/nonexistent.pem", "--private-key", "k", "--trust-anchor-arn", TRUST_ANCHOR_ARN,
      "--profile-arn", PROFILE_ARN, "--role-arn", ROLE_ARN], "certificate /nonexistent.pem: unreadable"),
    (["--certificate", "c", "--private-key", "k", "--trust-anchor-arn", TRUST_ANCHOR_ARN, "--profile-arn",
      PROFILE_ARN, "--role-arn", ROLE_ARN, "--session-duration", "1h"], "session-duration '1h' is not a whole"),
])
def test_cli_errors_are_one_line(args: list[str], words: str) -> None:
    code, out, err = run_cli(["credential-process", "rolesanywhere", *args], {})
    assert (code, out) == (2, b"")
    assert err.count("\n") == 1 and words in err, err


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["Authorization", "X-Amz-Date", "X-Amz-X509", "X-Amz-X509-Chain", "Host", "Content-Type"]),
       st.integers(0, 400), st.text(alphabet="AZaz09+/=,; -_.", max_size=6))
def test_a_mangled_request_is_refused_with_a_reason(name: str, at: int, insert: str) -> None:
    good = _ours("ec", True, REGION, 3600, None, NOW).request
    value = good.header(name) or ""
    mangled = good.with_header(name, value[:at] + insert + value[at + len(insert):])
    try:
        x509.verify(mangled, NOW, trust_anchors=[pki("ec").root])
    except VerificationError as err:
        assert err.reason in sigv4.REASONS or err.reason == x509.CERTIFICATE_REASON
    else:  # only white space that HTTP and the canonical form drop changed
        assert " ".join((mangled.header(name) or "").split()) == value
