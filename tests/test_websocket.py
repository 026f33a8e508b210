"""`sigv4.websocket.presign`, each preset byte-equal to the client AWS ships for that service.

Oracles: awsiotsdk's own WebSocket handshake transform (awscrt query signing, run at a frozen time) for IoT;
awscrt's query presigning for API Gateway; the Transcribe developer guide's recipe, written out step by step, for
Transcribe; the KVS WebRTC JS SDK and Amplify's AppSync real-time signing, replayed from
tests/fixtures/js_oracles.jsonl (made by vectors/js_oracles/generate.py: the suite does not run npm).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import string
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import freezegun
import pytest
from awscrt import auth, http
from awsiot import mqtt_connection_builder
from hypothesis import given, settings
from hypothesis import strategies as st

from sigv4 import Credentials, InvalidParameterError, Request, VerificationError, presign, verify, websocket
from tests.cli_run import run_cli

JS_VECTORS = [json.loads(line) for line in
              (Path(__file__).parent / "fixtures" / "js_oracles.jsonl").read_text().splitlines()]
REGIONS = st.sampled_from(["us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1"])
TIMES = st.datetimes(datetime(2015, 1, 1), datetime(2035, 1, 1), timezones=st.just(timezone.utc)).map(
    lambda t: t.replace(microsecond=0))
KEY_IDS = st.text(string.ascii_uppercase + string.digits, min_size=16, max_size=20).map(lambda s: "AKIA" + s)
SECRETS = st.text(string.ascii_letters + string.digits + "/+", min_size=40, max_size=40)
TOKENS = st.none() | st.text(string.ascii_letters + string.digits + "/+=", min_size=1, max_size=120)
CREDS = st.builds(Credentials, KEY_IDS, SECRETS, TOKENS)
LABELS = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=14)
PARAM_TEXT = st.text(string.ascii_letters + string.digits + "-_.~ /:=&+%é", min_size=1, max_size=20)
#: awscrt refuses to presign a query already holding a signing parameter in any case (`X-AMZ-DATE`); ours, as
#: botocore, replaces one spelt as it writes it and keeps another spelling as the caller's own parameter.
SIGNING_PARAMS = {"x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-expires", "x-amz-signedheaders",
                  "x-amz-signature", "x-amz-security-token"}
PARAM_NAMES = PARAM_TEXT.filter(lambda name: name.lower() not in SIGNING_PARAMS)
WHEN = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
TEMP = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "FwoGZXIvYXdzE/token+=")


def _provider(creds: Credentials) -> auth.AwsCredentialsProvider:
    return auth.AwsCredentialsProvider.new_static(creds.access_key_id, creds.secret_access_key, creds.session_token)


def awsiotsdk_handshake(creds: Credentials, region: str, endpoint: str, when: datetime,
                        headers: list[tuple[str, str]]) -> str:
    """The path and query awsiotsdk's `websockets_with_default_aws_signing` transform gives the handshake."""
    captured: dict[str, Any] = {}
    original = mqtt_connection_builder.websockets_with_custom_handshake
    mqtt_connection_builder.websockets_with_custom_handshake = \
        lambda transform, *args, **kwargs: captured.setdefault("transform", transform)
    try:
        mqtt_connection_builder.websockets_with_default_aws_signing(
            region=region, credentials_provider=_provider(creds), endpoint=endpoint, client_id="test")
    finally:
        mqtt_connection_builder.websockets_with_custom_handshake = original
    request = http.HttpRequest("GET", "/mqtt", http.HttpHeaders([("Host", endpoint), *headers]))
    done = threading.Event()

    class Args:  # what aws-c-mqtt hands the transform: the request, and a way to say it is done
        http_request = request
        error: BaseException | None = None

        def set_done(self, error: BaseException | None = None) -> None:
            self.error = error
            done.set()

    args = Args()
    with freezegun.freeze_time(when):  # the transform's signing config reads the clock; awscrt takes it from there
        captured["transform"](args)
    assert done.wait(10) and args.error is None
    return str(request.path)


# The headers of aws-c-mqtt's WebSocket handshake: awscrt signs Connection, and skips the Sec-WebSocket-* and Upgrade.
HANDSHAKE = [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
             ("Sec-WebSocket-Protocol", "mqtt"), ("Sec-WebSocket-Version", "13")]


@settings(max_examples=25, deadline=None)
@given(creds=CREDS, region=REGIONS, prefix=LABELS, when=TIMES)
def test_iot_equals_the_awsiotsdk_handshake_transform(creds: Credentials, region: str, prefix: str,
                                                     when: datetime) -> None:
    endpoint = f"{prefix}-ats.iot.{region}.amazonaws.com"
    expected = awsiotsdk_handshake(creds, region, endpoint, when, HANDSHAKE)
    ours = websocket.presign("iot", creds, region=region, timestamp=when, endpoint=endpoint,
                             headers=[("Connection", "Upgrade")])
    assert ours.url == f"wss://{endpoint}{expected}"
    assert "X-Amz-Expires" not in ours.url
    # Without the handshake's Connection header only host is signed, which any WebSocket client satisfies.
    host_only = websocket.presign("iot", creds, region=region, timestamp=when, endpoint=endpoint)
    assert host_only.url == f"wss://{endpoint}{awsiotsdk_handshake(creds, region, endpoint, when, [])}"
    assert host_only.signing.signed_headers == ("host",)


def awscrt_presign(creds: Credentials, region: str, service: str, host: str, target: str, when: datetime,
                   expires: int) -> str:
    request = http.HttpRequest("GET", target, http.HttpHeaders([("Host", host)]))
    config = auth.AwsSigningConfig(signature_type=auth.AwsSignatureType.HTTP_REQUEST_QUERY_PARAMS,
                                   credentials_provider=_provider(creds), region=region, service=service, date=when,
                                   expiration_in_seconds=expires)
    return str(auth.aws_sign_request(request, config).result(10).path)


@settings(max_examples=25, deadline=None)
@given(creds=CREDS, region=REGIONS, api=LABELS, stage=LABELS, when=TIMES,
       params=st.lists(st.tuples(PARAM_NAMES, PARAM_TEXT), max_size=3), expires=st.sampled_from([None, 60, 86400]))
def test_execute_api_equals_awscrt(creds: Credentials, region: str, api: str, stage: str, when: datetime,
                                   params: list[tuple[str, str]], expires: int | None) -> None:
    host = f"{api}.execute-api.{region}.amazonaws.com"
    ours = websocket.presign("execute-api", creds, region=region, timestamp=when, endpoint=f"wss://{host}/{stage}",
                             params=params, expires=expires)
    query = "&".join(f"{quote(n, safe='-_.~')}={quote(v, safe='-_.~')}" for n, v in params)
    target = f"/{stage}" + (f"?{query}" if query else "")
    assert ours.url == f"wss://{host}" + awscrt_presign(creds, region, "execute-api", host, target, when,
                                                          expires or 300)


def transcribe_guide_url(creds: Credentials, region: str, when: datetime, path: str,
                         params: dict[str, str]) -> str:
    """The Transcribe developer guide's "Creating a pre-signed URL", tasks 1 to 4, as its pseudocode reads."""
    host = f"transcribestreaming.{region}.amazonaws.com:8443"
    amz_date, datestamp = when.strftime("%Y%m%dT%H%M%SZ"), when.strftime("%Y%m%d")
    credential_scope = f"{datestamp}/{region}/transcribe/aws4_request"
    query = {"X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Credential": f"{creds.access_key_id}/{credential_scope}",
             "X-Amz-Date": amz_date, "X-Amz-Expires": "300", "X-Amz-SignedHeaders": "host", **params}
    if creds.session_token:
        query["X-Amz-Security-Token"] = creds.session_token
    canonical_querystring = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(
        query.items()))
    canonical_request = "\n".join(["GET", path, canonical_querystring, f"host:{host}\n", "host",
                                   hashlib.sha256(b"").hexdigest()])
    string_to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, credential_scope,
                                hashlib.sha256(canonical_request.encode()).hexdigest()])
    key = ("AWS4" + creds.secret_access_key).encode()
    for part in (datestamp, region, "transcribe", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return f"wss://{host}{path}?{canonical_querystring}&X-Amz-Signature={signature}"


@settings(max_examples=25, deadline=None)
@given(creds=CREDS, region=REGIONS, when=TIMES, language=st.sampled_from(["en-US", "es-US", "ja-JP"]),
       encoding=st.sampled_from(["pcm", "flac", "ogg-opus"]), rate=st.sampled_from(["8000", "16000", "48000"]),
       extra=st.dictionaries(st.sampled_from(["session-id", "vocabulary-name", "show-speaker-label"]), PARAM_TEXT,
                             max_size=2))
def test_transcribe_follows_the_developer_guide(creds: Credentials, region: str, when: datetime, language: str,
                                                encoding: str, rate: str, extra: dict[str, str]) -> None:
    params = {"language-code": language, "media-encoding": encoding, "sample-rate": rate, **extra}
    ours = websocket.presign("transcribe", creds, region=region, timestamp=when, params=params)
    assert ours.url == transcribe_guide_url(creds, region, when, "/stream-transcription-websocket", params)
    medical = {**params, "specialty": "PRIMARYCARE", "type": "CONVERSATION"}
    ours = websocket.presign("transcribe-medical", creds, region=region, timestamp=when, params=medical)
    assert ours.url == transcribe_guide_url(creds, region, when, "/medical-stream-transcription-websocket", medical)


@pytest.mark.parametrize("case", [c for c in JS_VECTORS if c["preset"] == "kinesisvideo"],
                         ids=lambda c: c["time"])
def test_kinesisvideo_equals_the_webrtc_js_sdk(case: dict[str, Any]) -> None:
    creds = Credentials(case["key"], case["secret"], case["token"] or None)
    when = datetime.fromisoformat(case["time"].replace("Z", "+00:00"))
    ours = websocket.presign("kinesisvideo", creds, region=case["region"], timestamp=when,
                             endpoint=case["endpoint"], params=case["params"])
    assert ours.url == case["url"]


@pytest.mark.parametrize("case", [c for c in JS_VECTORS if c["preset"] == "appsync"], ids=lambda c: c["time"])
def test_appsync_header_equals_amplify(case: dict[str, Any]) -> None:
    creds = Credentials(case["key"], case["secret"], case["token"] or None)
    when = datetime.fromisoformat(case["time"].replace("Z", "+00:00"))
    ours = websocket.presign("appsync", creds, region=case["region"], timestamp=when, endpoint=case["endpoint"])
    realtime = case["endpoint"].replace(".appsync-api.", ".appsync-realtime-api.")
    header = base64.b64encode(case["header"].encode()).decode()
    assert ours.url == f"wss://{realtime}/graphql?header={quote(header, safe='=')}&payload=e30="
    assert ours.subprotocol == "graphql-ws"


def test_appsync_custom_domain_and_start_message_signature() -> None:
    ours = websocket.presign("appsync", TEMP, region="eu-west-1", timestamp=WHEN, endpoint="api.example.com")
    assert ours.url.startswith("wss://api.example.com/graphql/realtime?header=")
    # A subscription's start message signs its data to /graphql itself, as Amplify's awsRealTimeIAMHeader does.
    header, result = websocket.appsync_authorization(TEMP, host="api.example.com", region="eu-west-1",
                                                      timestamp=WHEN, payload='{"query":"subscription{x}"}',
                                                      canonical_uri="")
    assert result.request.url == "https://api.example.com/graphql"
    assert header["x-amz-security-token"] == TEMP.session_token and header["authorization"] == result.authorization


# -- every URL verifies, and only as signed -------------------------------------------------------------

def _lookup(key_id: str) -> Credentials | None:
    return TEMP if key_id == TEMP.access_key_id else None


PRESIGNS = {
    "iot": {"endpoint": "abc-ats.iot.us-east-1.amazonaws.com"},
    "transcribe": {"params": {"language-code": "en-US", "media-encoding": "pcm", "sample-rate": "16000"}},
    "transcribe-medical": {"params": {"language-code": "en-US", "media-encoding": "pcm", "sample-rate": "16000",
                                      "specialty": "PRIMARYCARE", "type": "DICTATION"}},
    "kinesisvideo": {"endpoint": "wss://v-1.kinesisvideo.us-east-1.amazonaws.com",
                     "params": {"X-Amz-ChannelARN": "arn:aws:kinesisvideo:us-east-1:123456789012:channel/c/1"}},
    "execute-api": {"endpoint": "wss://abc.execute-api.us-east-1.amazonaws.com/prod"},
    "appsync": {"endpoint": "abc.appsync-api.us-east-1.amazonaws.com"},
}


@pytest.mark.parametrize("preset", websocket.PRESET_NAMES)
def test_each_url_verifies_and_reads_back(preset: str) -> None:
    url = websocket.presign(preset, TEMP, region="us-east-1", timestamp=WHEN, **PRESIGNS[preset]).url
    identity = verify(websocket.handshake_request(url), _lookup, now=WHEN + timedelta(minutes=4),
                      expected_service=websocket.PRESETS[preset].service)
    assert identity.access_key_id == TEMP.access_key_id
    report = websocket.describe(url, WHEN)
    assert report.preset == preset and report.ok
    text = "\n".join(websocket.render_report(report, WHEN))
    assert TEMP.session_token not in text and quote(TEMP.session_token or "", safe="") not in text
    assert websocket.PRESETS[preset].purpose in text
    if preset != "appsync":
        with pytest.raises(VerificationError) as err:
            verify(Request("GET", url.replace("/mqtt?", "/other?").replace("us-east-1%2F", "us-east-2%2F")), _lookup,
                   now=WHEN)
        assert err.value.reason in ("signature_mismatch", "scope")


def test_iot_url_without_expiry_is_held_to_the_skew() -> None:
    url = websocket.presign("iot", TEMP, region="us-east-1", timestamp=WHEN, **PRESIGNS["iot"]).url
    assert "X-Amz-Expires" not in url and url.index("X-Amz-Security-Token") < url.index("X-Amz-Signature")
    with pytest.raises(VerificationError) as err:
        verify(Request("GET", url), _lookup, now=WHEN + timedelta(minutes=16))
    assert err.value.reason == "skew"
    # IoT reads the token as added after signing: a URL that signed it is not the one IoT accepts.
    signed_token = presign(Request("GET", url.partition("?")[0]), TEMP, region="us-east-1",
                           service="iotdevicegateway", timestamp=WHEN, expires=None).url
    with pytest.raises(VerificationError) as err:
        verify(Request("GET", signed_token), _lookup, now=WHEN)
    assert err.value.reason == "signature_mismatch"
    # The token is still checked.
    with pytest.raises(VerificationError) as err:
        verify(Request("GET", url.replace("X-Amz-Security-Token=", "X-Amz-Security-Token=x")), _lookup, now=WHEN)
    assert err.value.reason == "token"
    report = websocket.describe(url, WHEN + timedelta(minutes=16))
    assert not report.ok and report.problems[0].startswith("expired")


@pytest.mark.parametrize("args, message", [
    ({"service": "mqtt"}, "service: 'mqtt' is not one of iot, transcribe"),
    ({"service": "iot"}, "endpoint: iot has no default endpoint"),
    ({"service": "transcribe"}, "params: transcribe needs language-code, media-encoding, sample-rate"),
    ({"service": "transcribe", "expires": 600, "params": PRESIGNS["transcribe"]["params"]},
     "expires: 600 s; transcribe accepts at most 300 s"),
    ({"service": "kinesisvideo", "endpoint": "wss://h"}, "params: kinesisvideo needs X-Amz-ChannelARN"),
    ({"service": "execute-api", "endpoint": "http://h/prod"}, "endpoint: 'http://h/prod' must be a wss:// URL"),
    ({"service": "execute-api", "endpoint": "h h"}, "endpoint: 'h h' is not a host name"),
    ({"service": "execute-api", "endpoint": "h", "params": {"X-Amz-Signature": "x"}},
     "params: X-Amz-Signature is set by signing"),
    ({"service": "appsync", "endpoint": "h", "params": {"a": "b"}}, "params: an AppSync handshake carries only"),
])
def test_bad_input_names_the_field(args: dict[str, Any], message: str) -> None:
    service = args.pop("service")
    with pytest.raises(InvalidParameterError, match=message.replace("(", r"\(")):
        websocket.presign(service, TEMP, region="us-east-1", timestamp=WHEN, **args)


def test_describe_refuses_what_is_no_presigned_url() -> None:
    assert websocket.looks_like_url("wss://h/mqtt?X-Amz-Signature=ab") and not websocket.looks_like_url("wss://h/")
    with pytest.raises(InvalidParameterError, match="url: X-Amz-Algorithm query parameter: missing"):
        websocket.describe("wss://h/mqtt?X-Amz-Signature=ab", WHEN)
    with pytest.raises(InvalidParameterError, match="url: its header parameter is not base64"):
        websocket.describe("wss://h/graphql?header=%%%&payload=e30=", WHEN)


# -- the command line: `sigv4 sign --wss PRESET ENDPOINT`, `sigv4 explain URL` ----------------------------

ENV = {"AWS_ACCESS_KEY_ID": TEMP.access_key_id, "AWS_SECRET_ACCESS_KEY": TEMP.secret_access_key,
       "AWS_SESSION_TOKEN": TEMP.session_token or "", "HOME": "/nonexistent"}


def test_cli_sign_wss_prints_the_url_as_the_library_makes_it() -> None:
    # The URL is what was asked for: whole, session token included (AppSync's inside its base64 header object).
    code, out, err = run_cli(["sign", "--wss", "iot", "abc-ats.iot.eu-west-1.amazonaws.com", "--date",
                              "20240501T120000Z"], ENV)
    expected = websocket.presign("iot", TEMP, region="eu-west-1", timestamp=WHEN,
                                 endpoint="abc-ats.iot.eu-west-1.amazonaws.com")
    assert (code, err) == (0, "") and out.decode() == expected.url + "\n"
    code, out, _ = run_cli(["sign", "--wss", "appsync", "abc.appsync-api.eu-west-1.amazonaws.com"], ENV)
    header = json.loads(base64.b64decode(unquote(out.decode().partition("header=")[2].partition("&")[0])))
    assert code == 0 and header["x-amz-security-token"] == TEMP.session_token
    # The explanation masks it, unless --show-secrets.
    code, out, _ = run_cli(["sign", "--wss", "iot", "abc-ats.iot.eu-west-1.amazonaws.com", "--explain"], ENV)
    assert code == 0 and "&X-Amz-Security-Token=****&" in out.decode() and "FwoGZX" not in out.decode()
    code, out, _ = run_cli(["sign", "--wss", "iot", "abc-ats.iot.eu-west-1.amazonaws.com", "--explain",
                            "--show-secrets"], ENV)
    assert code == 0 and quote(TEMP.session_token or "", safe="") in out.decode()


def test_cli_sign_wss_fields_expires_and_explain() -> None:
    code, out, _ = run_cli(["sign", "--wss", "transcribe", "--region", "us-west-2", "--date", "20240501T120000Z",
                            "--field", "language-code=en-US", "--field", "media-encoding=pcm",
                            "--field", "sample-rate=16000", "--expires", "120", "--explain"], ENV)
    text = out.decode()
    assert code == 0 and "X-Amz-Expires=120" in text
    assert "host:transcribestreaming.us-west-2.amazonaws.com:8443↵" in text
    assert TEMP.secret_access_key not in text and "FwoGZX" not in text


@pytest.mark.parametrize("args, message", [
    (["--wss", "transcribe", "--field", "language-code"], "--field 'language-code': expected NAME=VALUE"),
    (["--wss", "iot"], "endpoint: iot has no default endpoint"),
    (["--wss", "transcribe", "--expires", "900", "--field", "language-code=en-US", "--field", "media-encoding=pcm",
      "--field", "sample-rate=8000"], "expires: 900 s; transcribe accepts at most 300 s"),
    (["--wss", "mqtt"], "argument --wss: invalid choice: 'mqtt'"),
    (["--wss", "iot", "h", "--json", "--algorithm", "v4a"], "--wss: not with --json, --algorithm v4a"),
])
def test_cli_sign_wss_errors_are_one_line(args: list[str], message: str) -> None:
    code, out, err = run_cli(["sign", *args], ENV)
    assert (code, out) == (2, b"") and err.startswith("sigv4: error: ") and message in err and err.count("\n") == 1


def test_cli_explain_reads_a_presigned_websocket_url() -> None:
    url = websocket.presign("kinesisvideo", TEMP, region="us-east-1", timestamp=WHEN, **PRESIGNS["kinesisvideo"]).url
    code, out, _ = run_cli(["explain", url], ENV)
    text = out.decode()
    assert code == 1  # signed in 2024: expired now
    assert text.startswith("websocket: kinesisvideo (Kinesis Video Streams WebRTC signaling)\n")
    assert "credential scope: 20240501/us-east-1/kinesisvideo/aws4_request" in text and "problem: expired" in text
    assert "X-Amz-Security-Token=****" in text and quote(TEMP.session_token or "", safe="") not in text
    fresh = websocket.presign("iot", TEMP, region="us-east-1", timestamp=datetime.now(timezone.utc),
                              **PRESIGNS["iot"]).url
    code, out, _ = run_cli(["explain", fresh], ENV)
    assert code == 0 and "no X-Amz-Expires: the service allows its clock skew" in out.decode()


@settings(max_examples=200, deadline=None)
@given(preset=st.sampled_from(websocket.PRESET_NAMES), cut=st.integers(0, 4000), junk=st.text(max_size=8))
def test_describe_of_a_damaged_url_reports_or_raises_its_own_error(preset: str, cut: int, junk: str) -> None:
    url = websocket.presign(preset, TEMP, region="us-east-1", timestamp=WHEN, **PRESIGNS[preset]).url
    damaged = url[:cut] + junk + url[cut + len(junk):]
    try:
        report = websocket.describe(damaged, WHEN)
    except InvalidParameterError:
        return
    assert "\n".join(websocket.render_report(report, WHEN))


def test_cli_verify_reads_an_iot_handshake_as_iot_does(tmp_path: Path) -> None:
    """`sigv4 verify` of the handshake a client sends with our URL: the appended token is checked, not signed."""
    url = websocket.presign("iot", TEMP, region="us-east-1", timestamp=WHEN, **PRESIGNS["iot"]).url
    request = tmp_path / "handshake.req"
    request.write_bytes(f"GET {url.partition('.com')[2]} HTTP/1.1\r\nHost: abc-ats.iot.us-east-1.amazonaws.com\r\n"
                        "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n".encode())
    code, out, _ = run_cli(["verify", str(request), "--now", "20240501T120500Z"], ENV)
    assert (code, out.decode()) == (0, "OK: AWS4-HMAC-SHA256 signature by AKIDEXAMPLE for "
                                       "20240501/us-east-1/iotdevicegateway (presigned)\n")


def test_cli_explain_reads_an_iot_handshake_as_iot_does(tmp_path: Path) -> None:
    """The debugger recomputes an IoT handshake without the appended token (it signed the token in and told
    a user whose signature was right that the secret may be wrong)."""
    url = websocket.presign("iot", TEMP, region="us-east-1", timestamp=WHEN, **PRESIGNS["iot"]).url
    capture = tmp_path / "handshake.txt"
    capture.write_bytes(f"GET {url.partition('.com')[2]} HTTP/1.1\r\nHost: abc-ats.iot.us-east-1.amazonaws.com\r\n"
                        "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
                        "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n".encode())
    code, out, _ = run_cli(["explain", str(capture), "--json"], ENV)
    report = json.loads(out)
    assert "the client signed exactly what the capture shows" in " ".join(report["notes"]), report


def test_cli_sign_wss_signs_for_the_region_its_endpoint_names() -> None:
    """An endpoint in us-west-2 answers only a us-west-2 scope, whatever the profile's region (us-east-1 here)."""
    endpoint = "wss://v-1a2b3c4d.kinesisvideo.us-west-2.amazonaws.com"
    channel = "X-Amz-ChannelARN=arn:aws:kinesisvideo:us-west-2:123456789012:channel/door/1"
    env = dict(ENV, AWS_DEFAULT_REGION="us-east-1")
    code, out, err = run_cli(["sign", "--wss", "kinesisvideo", endpoint, "--field", channel], env)
    assert (code, err) == (0, "") and "%2Fus-west-2%2Fkinesisvideo%2F" in out.decode()
    code, out, _ = run_cli(["explain", out.decode().strip()], env)
    assert code == 0 and "problem" not in out.decode()
    code, out, _ = run_cli(["sign", "--wss", "kinesisvideo", "--region", "eu-west-1", endpoint, "--field", channel],
                           env)
    assert code == 0 and "%2Feu-west-1%2Fkinesisvideo%2F" in out.decode()  # --region still decides


def test_explain_of_a_websocket_url_scoped_to_another_region_than_its_host() -> None:
    url = websocket.presign("execute-api", TEMP, region="us-east-1", timestamp=datetime.now(timezone.utc),
                            endpoint="wss://abc.execute-api.eu-west-1.amazonaws.com/prod").url
    code, out, _ = run_cli(["explain", url], ENV)
    assert code == 1
    assert ("problem: scope: region 'us-east-1', but the host abc.execute-api.eu-west-1.amazonaws.com is in "
            "'eu-west-1'") in out.decode()


@pytest.mark.parametrize("preset", websocket.PRESET_NAMES)
def test_cli_verify_reads_the_url_sign_wss_prints(tmp_path: Path, preset: str) -> None:
    """`sigv4 sign --wss ... > url.txt; sigv4 verify url.txt`, as an https URL of `sign --presign` is read."""
    options = PRESIGNS[preset]
    args = [options.get("endpoint", "")] if "endpoint" in options else []
    for name, value in options.get("params", {}).items():
        args += ["--field", f"{name}={value}"]
    code, out, err = run_cli(["sign", "--wss", preset, *args], dict(ENV, AWS_DEFAULT_REGION="us-east-1"))
    assert (code, err) == (0, "")
    saved = tmp_path / "url.txt"
    saved.write_bytes(out)
    code, out, err = run_cli(["verify", str(saved)], ENV)
    assert (code, err) == (0, "") and out.decode().startswith(f"OK: AWS4-HMAC-SHA256 signature by {TEMP.access_key_id} "
                                                             f"for {datetime.now(timezone.utc):%Y%m%d}/us-east-1/")
    code, out, _ = run_cli(["verify", str(saved)], dict(ENV, AWS_SECRET_ACCESS_KEY="another secret"))
    assert code == 1 and out.decode().startswith("FAILED (") and "FwoGZX" not in out.decode()


def test_a_url_without_expiry_signed_in_year_9999_is_a_typed_error() -> None:
    url = ("wss://x.iot.us-east-1.amazonaws.com/mqtt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F"
           "99991231%2Fus-east-1%2Fiotdevicegateway%2Faws4_request&X-Amz-Date=99991231T235959Z&X-Amz-SignedHeaders=host"
           "&X-Amz-Signature=00")
    with pytest.raises(InvalidParameterError, match="past year 9999"):
        websocket.describe(url, WHEN)
    code, out, err = run_cli(["explain", url], ENV)
    assert (code, out) == (2, b"") and err.count("\n") == 1 and "past year 9999" in err


@pytest.mark.parametrize("endpoint", ["abc.iot.us-east-1.amazonaws.com/bad path",
                                      "wss://abc.iot.us-east-1.amazonaws.com/m\tq",
                                      "abc.iot.us-east-1.amazonaws.com/mqtt#frag",
                                      "abc.iot.us-east-1.amazonaws.com/m?a=b c"])
def test_an_endpoint_that_makes_no_url_is_refused(endpoint: str) -> None:
    """The URL printed had a raw space in its path: no client sends that, and none could open it."""
    code, out, err = run_cli(["sign", "--wss", "iot", endpoint], ENV)
    assert (code, out) == (2, b"") and err.count("\n") == 1 and "percent-encode it" in err
    code, out, err = run_cli(["sign", "--wss", "iot", "wss://abc.iot.us-east-1.amazonaws.com/a%20b"], ENV)
    assert code == 0 and out.startswith(b"wss://abc.iot.us-east-1.amazonaws.com/a%20b?X-Amz-Algorithm=")


def test_an_expiry_asked_of_appsync_is_refused_not_dropped() -> None:
    """`--expires 60` gave a URL that worked for AppSync's 15 minutes of skew, not the 60 s asked for."""
    code, out, err = run_cli(["sign", "--wss", "appsync", "abc.appsync-api.us-east-1.amazonaws.com", "--expires",
                              "60"], ENV)
    assert (code, out) == (2, b"") and "expires: 60 s; an AppSync header object has no expiry to set" in err
    with pytest.raises(InvalidParameterError, match="no expiry"):
        websocket.presign("appsync", TEMP, region="us-east-1", timestamp=WHEN, expires=60, **PRESIGNS["appsync"])
