"""CloudFront signed URLs and cookies against botocore's `CloudFrontSigner`, their verification, and end to end.

Oracles: botocore's `CloudFrontSigner` with an RSA-SHA1 signer from `cryptography` (as its docstring shows
with `rsa`), and for the command line `aws cloudfront sign` (awscli). AWS's developer guide publishes example signed URLs, but their signatures are redacted
("...EXAMPLE...") and no key is published, so the example is reproduced up to the signature value and
decoded by `sigv4 explain`; every signature byte is compared with botocore's instead.
End to end: a loopback server that answers only what `sigv4.cloudfront.verify` accepts, fetched with
requests and curl, by signed URL and by signed cookies.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli_run import run_cli
from pki import ec_key, pem, public_pem, rsa_key
from sigv4 import InvalidParameterError, InvalidTimestampError, VerificationError, cloudfront
from verifying_server import serve_http

signers = pytest.importorskip("botocore.signers", reason="botocore is in the test extra")
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding  # noqa: E402

KEY_PAIR_ID = "K2JCJMDEHXQW5F"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
EXPIRES = datetime(2026, 1, 1, 18, 0, tzinfo=timezone.utc)  # 1767290400, the developer guide's example expiry
KEY = rsa_key(3)
PUBLIC = {KEY_PAIR_ID: public_pem(KEY)}
#: The developer guide's canned-policy example ("Create a signed URL using a canned policy"), signature redacted there.
GUIDE_URL = ("https://d111111abcdef8.cloudfront.net/image.jpg?color=red&size=medium&Expires=1767290400&Signature="
             "nitfHRCrtziwO2HwPfWw~yYDhUF5EwRunQA-j19DzZrvDh6hQ73lDx~-ar3UocvvRQVw6EkC~GdpGQyyOSKQim-TxAnW7d8F5Kkai9H"
             "Vx0FIu-5jcQb0UEmatEXAMPLE3ReXySpLSMj0yCd3ZAB4UcBCAqEijkytL6f3fVYNGQI6&Key-Pair-Id=K2JCJMDEHXQW5F")


def botocore_signer() -> signers.CloudFrontSigner:
    return signers.CloudFrontSigner(KEY_PAIR_ID, lambda message: KEY.sign(message, padding.PKCS1v15(), hashes.SHA1()))


# -- equality with botocore ----------------------------------------------------------------------------------

resources = st.builds(
    lambda host, path, query: f"https://{host}.cloudfront.net/{path}" + (f"?{query}" if query else ""),
    st.from_regex(r"d[a-z0-9]{5,13}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9._~/-]{0,30}(\*)?", fullmatch=True),
    st.from_regex(r"([a-z]{1,5}=[A-Za-z0-9%]{0,8}(&[a-z]{1,5}=[a-z0-9]{0,4}){0,2})?", fullmatch=True))
moments = st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(timezone.utc))
addresses = st.one_of(st.none(), st.ip_addresses(v=4).map(str), st.ip_addresses(v=4).map(lambda ip: f"{ip}/24"))


@settings(max_examples=25, deadline=None)
@given(resources, moments)
def test_canned_url_equals_botocore(url: str, expires: datetime) -> None:
    ours = cloudfront.sign_url(url, KEY_PAIR_ID, pem(KEY), expires=expires)
    assert ours == botocore_signer().generate_presigned_url(url, date_less_than=expires)
    assert cloudfront.sign_url(url, KEY_PAIR_ID, KEY, expires=int(expires.timestamp())) == ours


@settings(max_examples=25, deadline=None)
@given(resources, moments, st.one_of(st.none(), moments), addresses)
def test_custom_policy_url_and_cookies_equal_botocore(url: str, expires: datetime, starts: datetime | None,
                                                      ip: str | None) -> None:
    theirs_policy = botocore_signer().build_policy(url, expires, date_greater_than=starts, ip_address=ip)
    ours_policy = cloudfront.policy(url, expires, starts=starts, ip_address=ip)
    assert ours_policy == theirs_policy
    theirs = botocore_signer().generate_presigned_url(url, policy=theirs_policy)
    assert cloudfront.sign_url(url, KEY_PAIR_ID, pem(KEY), policy=ours_policy) == theirs
    # Signed cookies carry the signed URL's parameters, each as CloudFront-<name>.
    cookies = cloudfront.sign_cookies(url, KEY_PAIR_ID, pem(KEY), policy=ours_policy)
    params = dict(part.split("=", 1) for part in theirs[len(url) + 1:].split("&"))
    assert cookies == {"CloudFront-" + name: value for name, value in params.items()}


def test_canned_cookies_carry_the_expiry_not_the_policy() -> None:
    url = "https://d111111abcdef8.cloudfront.net/image.jpg"
    cookies = cloudfront.sign_cookies(url, KEY_PAIR_ID, pem(KEY), expires=EXPIRES)
    theirs = botocore_signer().generate_presigned_url(url, date_less_than=EXPIRES)
    assert list(cookies) == ["CloudFront-Expires", "CloudFront-Signature", "CloudFront-Key-Pair-Id"]
    assert theirs == f"{url}?Expires={cookies['CloudFront-Expires']}&Signature={cookies['CloudFront-Signature']}" \
                     f"&Key-Pair-Id={KEY_PAIR_ID}"


def test_the_developer_guide_example_is_reproduced_up_to_its_redacted_signature() -> None:
    base = "https://d111111abcdef8.cloudfront.net/image.jpg?color=red&size=medium"
    ours = cloudfront.sign_url(base, KEY_PAIR_ID, pem(KEY), expires=EXPIRES)
    head, _, rest = GUIDE_URL.partition("&Signature=")
    assert ours.startswith(head + "&Signature=")
    assert ours.endswith("&Key-Pair-Id=K2JCJMDEHXQW5F") and rest.endswith("&Key-Pair-Id=K2JCJMDEHXQW5F")
    access = cloudfront.decode(GUIDE_URL)
    assert (access.canned, access.resource, access.expires, access.key_pair_id) == (True, base, EXPIRES, KEY_PAIR_ID)


def test_base64_alphabet_is_cloudfronts() -> None:
    data = bytes(range(256)) * 3 + b"\x00"  # not a multiple of 3: padded
    text = cloudfront.b64encode(data)
    assert not set(text) & set("+=/") and set("-_~") <= set(text)
    assert cloudfront.b64decode(text, "x") == data


def test_sha256_signatures_say_so_and_verify() -> None:
    url = cloudfront.sign_url("https://d1.cloudfront.net/a", KEY_PAIR_ID, pem(KEY), expires=EXPIRES,
                              hash_algorithm="SHA256")
    assert url.endswith("&Key-Pair-Id=K2JCJMDEHXQW5F&Hash-Algorithm=SHA256")
    assert cloudfront.verify(url, PUBLIC, NOW).hash_algorithm == "SHA256"
    # The same signature read as SHA-1 does not verify: the parameter is covered.
    with pytest.raises(VerificationError) as err:
        cloudfront.verify(url.removesuffix("&Hash-Algorithm=SHA256"), PUBLIC, NOW)
    assert err.value.reason == "signature_mismatch"


@pytest.mark.parametrize("kwargs, error, words", [
    ({}, InvalidParameterError, "exactly one"),
    ({"expires": EXPIRES, "policy": "{}"}, InvalidParameterError, "exactly one"),
    ({"expires": datetime(2026, 1, 1)}, InvalidTimestampError, "naive"),
    ({"expires": -1}, InvalidTimestampError, "before 1970"),
    ({"expires": EXPIRES, "hash_algorithm": "MD5"}, InvalidParameterError, "hash_algorithm"),
])
def test_bad_signing_input_is_a_typed_error(kwargs: dict[str, object], error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        cloudfront.sign_url("https://d1.cloudfront.net/a", KEY_PAIR_ID, pem(KEY), **kwargs)  # type: ignore[arg-type]


def test_keys_and_ids_are_checked() -> None:
    with pytest.raises(InvalidParameterError, match="RSA"):
        cloudfront.sign_url("https://d1.cloudfront.net/a", KEY_PAIR_ID, pem(ec_key(3)), expires=EXPIRES)
    with pytest.raises(InvalidParameterError, match="private_key"):
        cloudfront.sign_url("https://d1.cloudfront.net/a", KEY_PAIR_ID, b"not a key", expires=EXPIRES)
    with pytest.raises(InvalidParameterError, match="key_pair_id"):
        cloudfront.sign_url("https://d1.cloudfront.net/a", "K1&x=1", pem(KEY), expires=EXPIRES)
    with pytest.raises(InvalidParameterError, match="ip_address"):
        cloudfront.policy("https://d1.cloudfront.net/a", EXPIRES, ip_address="300.1.1.1")


# -- verification ----------------------------------------------------------------------------------------------

def _custom(resource: str, **conditions: object) -> str:
    return cloudfront.policy(resource, conditions.pop("expires", EXPIRES), **conditions)  # type: ignore[arg-type]


@settings(max_examples=20, deadline=None)
@given(resources, moments, st.one_of(st.none(), moments), addresses)
def test_verify_accepts_what_botocore_signs_while_valid(url: str, expires: datetime, starts: datetime | None,
                                                         ip: str | None) -> None:
    custom = starts is not None or ip is not None
    signed = (botocore_signer().generate_presigned_url(url, policy=botocore_signer().build_policy(
        url, expires, date_greater_than=starts, ip_address=ip)) if custom
        else botocore_signer().generate_presigned_url(url, date_less_than=expires))
    now = (starts + (expires - starts) / 2) if starts is not None and starts < expires else expires - timedelta(1)
    client = ip.partition("/")[0] if ip else None
    if starts is not None and not starts < now < expires:
        with pytest.raises(VerificationError):
            cloudfront.verify(signed, PUBLIC, now, client_ip=client)
        return
    access = cloudfront.verify(signed, PUBLIC, now, client_ip=client)
    assert (access.canned, access.key_pair_id, access.source) == (not custom, KEY_PAIR_ID, "url")


@pytest.mark.parametrize("make, now, client_ip, reason", [
    (lambda: cloudfront.sign_url("https://d1.cloudfront.net/a.jpg", KEY_PAIR_ID, pem(KEY), expires=EXPIRES),
     EXPIRES, None, "expired"),
    (lambda: cloudfront.sign_url("https://d1.cloudfront.net/a.jpg", KEY_PAIR_ID, pem(KEY),
                                 policy=_custom("https://d1.cloudfront.net/*", starts=NOW + timedelta(hours=1))),
     NOW, None, "not_yet_valid"),
    (lambda: cloudfront.sign_url("https://d1.cloudfront.net/a.jpg", KEY_PAIR_ID, pem(KEY),
                                 policy=_custom("https://d1.cloudfront.net/*", ip_address="192.0.2.0/24")),
     NOW, "198.51.100.7", "ip_not_allowed"),
    (lambda: cloudfront.sign_url("https://d1.cloudfront.net/a.jpg", KEY_PAIR_ID, pem(KEY),
                                 policy=_custom("https://d1.cloudfront.net/*", ip_address="192.0.2.0/24")),
     NOW, None, "ip_not_allowed"),
    (lambda: cloudfront.sign_url("https://d1.cloudfront.net/a.jpg", KEY_PAIR_ID, pem(KEY),
                                 policy=_custom("https://d1.cloudfront.net/private/*")),
     NOW, None, "resource_mismatch"),
    (lambda: cloudfront.sign_url("https://d1.cloudfront.net/a.jpg", "KOTHER", pem(KEY), expires=EXPIRES),
     NOW, None, "unknown_key"),
    # A canned policy is rebuilt from the URL asked for: another path is another policy.
    (lambda: cloudfront.sign_url("https://d1.cloudfront.net/a.jpg", KEY_PAIR_ID, pem(KEY), expires=EXPIRES)
     .replace("/a.jpg", "/b.jpg"), NOW, None, "signature_mismatch"),
    (lambda: cloudfront.sign_url("https://d1.cloudfront.net/a.jpg", KEY_PAIR_ID, pem(rsa_key(4)), expires=EXPIRES),
     NOW, None, "signature_mismatch"),
    (lambda: cloudfront.sign_url("https://d1.cloudfront.net/a.jpg", KEY_PAIR_ID, pem(KEY), expires=EXPIRES)
     .replace("Expires=", "Expires=1"), NOW, None, "signature_mismatch"),
    (lambda: "https://d1.cloudfront.net/a.jpg?Policy=!!&Signature=AAAA&Key-Pair-Id=K1", NOW, None, "malformed_auth"),
    (lambda: "https://d1.cloudfront.net/a.jpg?Expires=1&Signature=AAAA&Signature=AAAA&Key-Pair-Id=K1", NOW, None,
     "malformed_auth"),
    (lambda: "https://d1.cloudfront.net/a.jpg?Expires=1&Policy=e30_&Signature=AAAA&Key-Pair-Id=K1", NOW, None,
     "malformed_auth"),
    (lambda: f"https://d1.cloudfront.net/a.jpg?Policy={cloudfront.b64encode(b'{}')}&Signature=AAAA&Key-Pair-Id=K1",
     NOW, None, "malformed_auth"),
    (lambda: "https://d1.cloudfront.net/a.jpg?Expires=1&Signature=AAAA&Key-Pair-Id=K1&Hash-Algorithm=MD5", NOW, None,
     "malformed_auth"),
    (lambda: "https://d1.cloudfront.net/a.jpg?x=1", NOW, None, "missing_auth"),
])
def test_verify_says_why_not(make, now: datetime, client_ip: str | None, reason: str) -> None:  # type: ignore[no-untyped-def]
    assert reason in cloudfront.REASONS
    with pytest.raises(VerificationError) as err:
        cloudfront.verify(make(), PUBLIC, now, client_ip=client_ip)
    assert err.value.reason == reason, str(err.value)


def test_wildcards_and_cookies() -> None:
    policy = _custom("https://d1.cloudfront.net/videos/*/part-?.ts")
    cookies = cloudfront.sign_cookies("https://d1.cloudfront.net/videos/", KEY_PAIR_ID, pem(KEY), policy=policy)
    ok = cloudfront.verify("https://d1.cloudfront.net/videos/cats/part-1.ts", PUBLIC, NOW, cookies=cookies)
    assert ok.source == "cookies" and ok.resource == "https://d1.cloudfront.net/videos/*/part-?.ts"
    for wrong in ("https://d1.cloudfront.net/videos/cats/part-10.ts", "https://d1.cloudfront.net/Videos/a/part-1.ts"):
        with pytest.raises(VerificationError, match="Resource") as err:
            cloudfront.verify(wrong, PUBLIC, NOW, cookies=cookies)
        assert err.value.reason == "resource_mismatch"
    # Unrelated cookies are ignored; a signed URL wins over cookies.
    assert cloudfront.verify("https://d1.cloudfront.net/videos/a/part-2.ts", PUBLIC, NOW,
                             cookies={**cookies, "session": "x"}).source == "cookies"


def test_verify_refuses_a_naive_time() -> None:
    url = cloudfront.sign_url("https://d1.cloudfront.net/a", KEY_PAIR_ID, pem(KEY), expires=EXPIRES)
    with pytest.raises(InvalidTimestampError):
        cloudfront.verify(url, PUBLIC, datetime(2025, 1, 1))


# -- end to end: a CloudFront-style verifier in front of content -----------------------------------------------

@contextmanager
def cloudfront_edge(public_keys: dict[str, bytes]) -> Iterator[str]:
    """A loopback server that serves /… only to requests `sigv4.cloudfront.verify` accepts (403 + reason else)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            cookies = {name: morsel.value for name, morsel in SimpleCookie(self.headers.get("Cookie") or "").items()}
            url = f"http://{self.headers['Host']}{self.path}"
            try:
                access = cloudfront.verify(url, public_keys, datetime.now(timezone.utc), cookies=cookies,
                                           client_ip=self.client_address[0])
                status, body = 200, json.dumps({"content": "the private file", "source": access.source})
            except VerificationError as err:
                status, body = 403, json.dumps({"reason": err.reason, "message": str(err)})
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    with serve_http(lambda url: Handler) as url:
        yield url


def test_requests_fetches_signed_urls_and_cookies_from_a_verifying_edge() -> None:
    requests = pytest.importorskip("requests", reason="requests is in the test extra")
    soon = datetime.now(timezone.utc) + timedelta(minutes=5)
    with cloudfront_edge(PUBLIC) as edge:
        canned = cloudfront.sign_url(f"{edge}/private/report.pdf?v=2", KEY_PAIR_ID, pem(KEY), expires=soon)
        assert requests.get(canned, timeout=10).json() == {"content": "the private file", "source": "url"}
        tampered = requests.get(canned.replace("report.pdf", "other.pdf"), timeout=10)
        assert (tampered.status_code, tampered.json()["reason"]) == (403, "signature_mismatch")
        custom = cloudfront.sign_url(f"{edge}/private/a.pdf", KEY_PAIR_ID, pem(KEY), policy=cloudfront.policy(
            f"{edge}/private/*", soon, ip_address="127.0.0.1"))
        assert requests.get(custom, timeout=10).status_code == 200
        elsewhere = cloudfront.sign_url(f"{edge}/private/a.pdf", KEY_PAIR_ID, pem(KEY), policy=cloudfront.policy(
            f"{edge}/private/*", soon, ip_address="192.0.2.1"))
        assert requests.get(elsewhere, timeout=10).json()["reason"] == "ip_not_allowed"
        cookies = cloudfront.sign_cookies(f"{edge}/private/", KEY_PAIR_ID, pem(KEY),
                                          policy=cloudfront.policy(f"{edge}/private/*", soon))
        assert requests.get(f"{edge}/private/b.pdf", cookies=cookies, timeout=10).json()["source"] == "cookies"
        assert requests.get(f"{edge}/public/b.pdf", cookies=cookies, timeout=10).json()["reason"] == \
            "resource_mismatch"
        assert requests.get(f"{edge}/private/b.pdf", timeout=10).json()["reason"] == "missing_auth"


def test_curl_with_the_cli_signed_url_and_cookies(tmp_path: Path) -> None:
    curl = shutil.which("curl")
    if curl is None:
        pytest.fail("curl is required for this end-to-end test")
    key_file, public_file = tmp_path / "key.pem", tmp_path / "public.pem"
    key_file.write_bytes(pem(KEY))
    public_file.write_bytes(public_pem(KEY))
    with cloudfront_edge(PUBLIC) as edge:
        flags = ["--key-pair-id", KEY_PAIR_ID, "--private-key", str(key_file), "--expires-in", "300"]
        code, url, err = run_cli(["cloudfront", "sign-url", f"{edge}/doc.txt", *flags], {})
        assert code == 0, err
        fetched = subprocess.run([curl, "-s", "--noproxy", "*", url.decode().strip()], capture_output=True,
                                 timeout=30)
        assert json.loads(fetched.stdout)["source"] == "url"
        code, cookie, err = run_cli(["cloudfront", "sign-cookies", f"{edge}/*", *flags, "--hash-algorithm",
                                     "SHA256"], {})
        assert code == 0, err
        assert cookie.decode().startswith("CloudFront-Policy=")  # a wildcard resource needs a custom policy
        fetched = subprocess.run([curl, "-s", "--noproxy", "*", "-b", cookie.decode().strip(), f"{edge}/any/file"],
                                 capture_output=True, timeout=30)
        assert json.loads(fetched.stdout)["source"] == "cookies"
        code, out, _ = run_cli(["cloudfront", "verify", url.decode().strip(), "--public-key",
                                f"{KEY_PAIR_ID}={public_file}"], {})
        assert code == 0 and out.startswith(b"OK: signed url by key pair K2JCJMDEHXQW5F (canned policy)")
        code, out, _ = run_cli(["cloudfront", "verify", url.decode().strip(), "--public-key",
                                f"{KEY_PAIR_ID}={public_file}", "--now", "20990101T000000Z"], {})
        assert code == 1 and out.startswith(b"FAILED (expired)")


# -- the command line ------------------------------------------------------------------------------------------

def test_cli_sign_url_equals_botocore_and_explain_decodes_it(tmp_path: Path) -> None:
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(pem(KEY))
    url = "https://d111111abcdef8.cloudfront.net/image.jpg?color=red&size=medium"
    code, out, err = run_cli(["cloudfront", "sign-url", url, "--key-pair-id", KEY_PAIR_ID, "--private-key",
                              str(key_file), "--expires", "2026-01-01T18:00:00Z"], {})
    assert (code, err) == (0, "")
    assert out.decode().strip() == botocore_signer().generate_presigned_url(url, date_less_than=EXPIRES)
    code, out, err = run_cli(["explain", GUIDE_URL], {})
    text = out.decode()
    assert code == 1  # the example expired on 2026-01-01
    assert "key pair id: K2JCJMDEHXQW5F" in text and "canned policy" in text
    assert f"resource: {url}" in text and "expires: 2026-01-01T18:00:00Z (1767290400; EXPIRED" in text


@pytest.mark.parametrize("args, words", [
    (["--expires", "tomorrow"], "--expires 'tomorrow': expected"),
    (["--policy", "p.json", "--ip", "192.0.2.1"], "--policy: the policy file says everything"),
    (["--ip", "not-an-ip"], "ip_address: 'not-an-ip' is not an IP address"),
    (["--private-key", "/nonexistent/key.pem"], "/nonexistent/key.pem: cannot read"),
])
def test_cli_errors_are_one_line(tmp_path: Path, args: list[str], words: str) -> None:
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(pem(KEY))
    code, out, err = run_cli(["cloudfront", "sign-url", "https://d1.cloudfront.net/a", "--key-pair-id", KEY_PAIR_ID,
                              "--private-key", str(key_file), *args], {})
    assert (code, out) == (2, b"")
    assert err.count("\n") == 1 and words in err, err


def test_canned_cookies_for_a_wildcard_are_refused() -> None:
    with pytest.raises(InvalidParameterError, match="wildcard"):
        cloudfront.sign_cookies("https://d1.cloudfront.net/*", KEY_PAIR_ID, pem(KEY), expires=EXPIRES)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["Expires=", "Policy=", "Signature=", "Key-Pair-Id=", "Hash-Algorithm=", "&", "?",
                                 "1767290400", "e30_", "eyJTdGF0ZW1lbnQiOltdfQ__", "AAAA", "K1", "SHA256", "~", "-",
                                 "_", "%", "*"]), max_size=14),
       st.dictionaries(st.sampled_from(["CloudFront-Policy", "CloudFront-Expires", "CloudFront-Signature",
                                        "CloudFront-Key-Pair-Id"]), st.text(max_size=12)))
def test_verify_of_any_url_either_accepts_or_says_why(parts: list[str], cookies: dict[str, str]) -> None:
    try:
        cloudfront.verify("https://d1.cloudfront.net/a?" + "".join(parts), PUBLIC, NOW, cookies=cookies)
    except VerificationError as err:
        assert err.reason in cloudfront.REASONS


@pytest.mark.parametrize("extra, theirs_extra", [
    ([], []),
    (["--ip", "192.0.2.0/24", "--starts", "2025-01-01T00:00:00Z"],
     ["--ip-address", "192.0.2.0/24", "--date-greater-than", "2025-01-01T00:00:00Z"]),
], ids=["canned", "custom"])
def test_cli_sign_url_equals_the_aws_cli(tmp_path: Path, extra: list[str], theirs_extra: list[str]) -> None:
    from cryptography.hazmat.primitives import serialization
    key_file = tmp_path / "key.pem"  # PKCS#1: what `aws cloudfront sign` (the `rsa` package) reads
    key_file.write_bytes(KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    url = "https://d111111abcdef8.cloudfront.net/videos/a.mp4?quality=hd"
    theirs = subprocess.run(
        [sys.executable, "-m", "awscli", "cloudfront", "sign", "--url", url, "--key-pair-id", KEY_PAIR_ID,
         "--private-key", f"file://{key_file}", "--date-less-than", "2030-01-01T00:00:00Z", *theirs_extra],
        capture_output=True, text=True, timeout=120,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "AWS_ACCESS_KEY_ID": "x",
             "AWS_SECRET_ACCESS_KEY": "y", "AWS_DEFAULT_REGION": "us-east-1"})
    assert theirs.returncode == 0, theirs.stderr
    code, ours, err = run_cli(["cloudfront", "sign-url", url, "--key-pair-id", KEY_PAIR_ID, "--private-key",
                               str(key_file), "--expires", "2030-01-01T00:00:00Z", *extra], {})
    assert (code, err) == (0, "")
    assert ours.decode().strip() == theirs.stdout.strip()


def test_cli_verify_reads_the_cookie_header_sign_cookies_prints(tmp_path: Path) -> None:
    """`verify --cookie "$(sigv4 cloudfront sign-cookies ...)"`: one Cookie header's value, as curl -b takes it."""
    key_file, public_file = tmp_path / "key.pem", tmp_path / "public.pem"
    key_file.write_bytes(pem(KEY))
    public_file.write_bytes(public_pem(KEY))
    code, cookie, err = run_cli(["cloudfront", "sign-cookies", "https://d1.cloudfront.net/videos/*", "--key-pair-id",
                                 KEY_PAIR_ID, "--private-key", str(key_file)], {})
    assert (code, err) == (0, "") and cookie.count(b"; ") == 2
    verify = ["cloudfront", "verify", "--public-key", f"{KEY_PAIR_ID}={public_file}", "--cookie",
              cookie.decode().strip()]
    code, out, _ = run_cli([*verify, "https://d1.cloudfront.net/videos/a.mp4"], {})
    assert code == 0 and out.startswith(b"OK: signed cookies by key pair K2JCJMDEHXQW5F (custom policy)")
    code, out, _ = run_cli([*verify, "https://d1.cloudfront.net/other/a.mp4"], {})
    assert code == 1 and out.startswith(b"FAILED (resource_mismatch)")


def test_a_policy_time_past_year_9999_is_a_reason_not_a_crash() -> None:
    url = "https://d1.cloudfront.net/a.mp4"
    far_policy = '{"Statement":[{"Resource":"%s","Condition":{"DateLessThan":{"AWS:EpochTime":99999999999999999}}}]}'
    signed_urls = [
        f"{url}?Expires=999999999999&Signature=AAAA&Key-Pair-Id={KEY_PAIR_ID}",  # canned: year 33658
        f"{url}?Policy={cloudfront.b64encode((far_policy % url).encode())}&Signature=AAAA&Key-Pair-Id={KEY_PAIR_ID}",
    ]
    for signed in signed_urls:
        with pytest.raises(VerificationError) as err:
            cloudfront.verify(signed, PUBLIC, NOW)
        assert err.value.reason == "malformed_auth" and "year 9999" in str(err.value)
        code, out, err_text = run_cli(["explain", signed], {})
        assert (code, out) == (2, b"") and err_text.count("\n") == 1 and "year 9999" in err_text


def test_what_is_no_cloudfront_policy_is_not_signed(tmp_path: Path) -> None:
    """`--policy key.pem` (a slip of the flags) signed the private key's PEM into the URL, base64 for anyone to read."""
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(pem(KEY))
    with pytest.raises(InvalidParameterError, match="policy: not"):
        cloudfront.sign_url("https://d1.cloudfront.net/a", KEY_PAIR_ID, pem(KEY), policy=pem(KEY).decode())
    code, out, err = run_cli(["cloudfront", "sign-url", "https://d1.cloudfront.net/a", "--key-pair-id", KEY_PAIR_ID,
                              "--private-key", str(key_file), "--policy", str(key_file)], {})
    assert (code, out) == (2, b"") and err.count("\n") == 1 and "policy: not" in err


@pytest.mark.parametrize("flags, words", [
    (["--expires", "99999999999999999"], "--expires 99999999999999999: past the end of year 9999"),
    (["--expires", "999999999999"], "--expires 999999999999: past the end of year 9999"),
    (["--expires", "2030-01-01", "--starts", "99999999999999999"], "--starts 99999999999999999: past the end"),
    (["--expires-in", "99999999999999"], "--expires-in 99999999999999: must be 1.."),
    (["--expires", "\u00b2"], "--expires '\u00b2': expected epoch seconds"),
])
def test_cli_times_out_of_range_are_one_line(tmp_path: Path, flags: list[str], words: str) -> None:
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(pem(KEY))
    code, out, err = run_cli(["cloudfront", "sign-url", "https://d1.cloudfront.net/a", "--key-pair-id", KEY_PAIR_ID,
                              "--private-key", str(key_file), *flags], {})
    assert (code, out) == (2, b"") and err.count("\n") == 1 and words in err, err
    code, out, err = run_cli(["cloudfront", "verify", "https://d1.cloudfront.net/a", "--public-key",
                              f"{KEY_PAIR_ID}={key_file}", "--now", "99999999999999999"], {})
    assert (code, out) == (2, b"") and "--now 99999999999999999: past the end of year 9999" in err


def test_verify_help_says_what_its_url_is(capsys: pytest.CaptureFixture[str]) -> None:
    import cli
    with pytest.raises(SystemExit):
        cli.main(["cloudfront", "verify", "--help"], {})
    assert "verify: the URL asked for, signed unless --cookie" in " ".join(capsys.readouterr().out.split())


def test_explain_reads_the_cookies_sign_cookies_prints(tmp_path: Path) -> None:
    """`sigv4 explain "$(sigv4 cloudfront sign-cookies ...)"` was 'cannot read (File name too long)'."""
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(pem(KEY))
    sign = ["cloudfront", "sign-cookies", "--key-pair-id", KEY_PAIR_ID, "--private-key", str(key_file),
            "--expires", "2030-01-01T00:00:00Z"]
    code, custom, _ = run_cli([*sign, "https://d1.cloudfront.net/videos/*"], {})
    code, out, err = run_cli(["explain", custom.decode().strip()], {})
    assert (code, err) == (0, "")
    lines = out.decode().splitlines()
    assert lines[:3] == ["CloudFront signed cookies (custom policy, RSA-SHA1)", f"key pair id: {KEY_PAIR_ID}",
                         "resource: https://d1.cloudfront.net/videos/*"]
    assert lines[3].startswith("expires: 2030-01-01T00:00:00Z (1893456000; valid for ")
    code, canned, _ = run_cli([*sign, "https://d1.cloudfront.net/a.mp4"], {})
    saved = tmp_path / "cookies.txt"
    saved.write_bytes(canned)
    code, out, err = run_cli(["explain", str(saved)], {})
    assert (code, err) == (0, "") and "canned policy" in out.decode()
    assert "resource: (the URL asked for: canned cookies name none)" in out.decode()
    code, out, err = run_cli(["explain", "CloudFront-Signature=AAAA; CloudFront-Key-Pair-Id=K1"], {})
    assert (code, out) == (2, b"") and err.count("\n") == 1 and "CloudFront signed cookies: cookie" in err
