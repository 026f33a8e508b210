"""End to end over real wss:// on loopback: a `websockets` server verifies each handshake with `sigv4.verify`.

The server plays IoT Core, Transcribe streaming and an API Gateway WebSocket API at once (by path): it
refuses a handshake whose presigned query does not verify (403, the reason in the body), and otherwise
talks the service's first steps: MQTT CONNACK for IoT; for Transcribe, the signed event stream that
follows, each audio event and the empty end frame verified against the chain seeded by the URL's own
signature. Clients: the `websockets` client with our presigned URL, and awsiotsdk's own MQTT client,
which signs its handshake itself.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from awscrt import auth, io, mqtt
from awsiot import mqtt_connection_builder
from websockets.exceptions import InvalidStatus
from websockets.http11 import Request as WsRequest, Response
from websockets.sync.client import connect
from websockets.sync.server import ServerConnection, serve

from sigv4 import Credentials, Request, VerificationError, verify, websocket
from sigv4.eventstream import EndOfStream, EventSigner, Header, Message, SignedEventStreamDecoder, sign_events
from tests.local_http import self_signed

CREDS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "FwoGZXIvYXdzE/session+token=")
REGION = "us-west-2"
#: path -> the signing name each service checks.
SERVICES = {"/mqtt": "iotdevicegateway", "/stream-transcription-websocket": "transcribe", "/prod": "execute-api"}
CONNACK = b"\x20\x02\x00\x00"  # MQTT 3.1.1: connection accepted


def _verified(request: WsRequest) -> tuple[str, str]:
    """(service, seed signature) of a handshake that verifies; raises VerificationError otherwise."""
    service = SERVICES.get(request.path.partition("?")[0], "unknown")
    signed = Request("GET", request.path, list(request.headers.raw_items()))
    identity = verify(signed, lambda key: CREDS if key == CREDS.access_key_id else None,
                      now=datetime.now(timezone.utc), expected_service=service, allowed_regions={REGION})
    return service, identity.signature


def _process_request(connection: ServerConnection, request: WsRequest) -> Response | None:
    try:
        connection.seed = _verified(request)  # type: ignore[attr-defined]
    except VerificationError as err:
        return connection.respond(403, f"{err.reason}: {err}\n")
    return None


def _handler(connection: ServerConnection) -> None:
    service, seed = connection.seed  # type: ignore[attr-defined]
    if service == "iotdevicegateway":
        connection.recv()  # the MQTT CONNECT packet
        connection.send(CONNACK)
        connection.recv()  # DISCONNECT, or the client closing
    elif service == "transcribe":
        decoder = SignedEventStreamDecoder(EventSigner(CREDS.secret_access_key, REGION, "transcribe"), seed)
        events = []
        for data in connection:
            events += decoder.feed(data if isinstance(data, bytes) else data.encode())
            if isinstance(events[-1:] and events[-1], EndOfStream):
                break
        decoder.close()
        connection.send(f"verified {len(events) - 1} audio events and the end frame")
    else:
        connection.send(f"echo {connection.recv()!r}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    context, cert = self_signed(tmp_path_factory.mktemp("wss"))
    # MQTT clients ask for the "mqtt" subprotocol; Transcribe and API Gateway clients ask for none.
    mqtt_if_asked = lambda _, offered: "mqtt" if "mqtt" in offered else None  # noqa: E731
    with serve(_handler, "127.0.0.1", 0, ssl=context, process_request=_process_request,
               select_subprotocol=mqtt_if_asked) as wss:
        thread = threading.Thread(target=wss.serve_forever, daemon=True)
        thread.start()
        yield f"localhost:{wss.socket.getsockname()[1]}", cert
        wss.shutdown()
        thread.join(10)


def _client_tls(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


def test_iot_handshake_verifies_and_mqtt_connects(server: tuple[str, Path]) -> None:
    endpoint, cert = server
    url = websocket.presign("iot", CREDS, region=REGION, timestamp=datetime.now(timezone.utc), endpoint=endpoint).url
    with connect(url, ssl=_client_tls(cert), subprotocols=["mqtt"], proxy=None) as ws:  # type: ignore[list-item]
        ws.send(b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00")  # CONNECT, clean session, empty client id
        assert ws.recv() == CONNACK


def test_awsiotsdk_client_connects_through_the_same_verifier(server: tuple[str, Path]) -> None:
    endpoint, cert = server
    host, _, port = endpoint.partition(":")
    provider = auth.AwsCredentialsProvider.new_static(CREDS.access_key_id, CREDS.secret_access_key,
                                                      CREDS.session_token)
    connection = mqtt_connection_builder.websockets_with_default_aws_signing(
        endpoint=host, port=int(port), region=REGION, credentials_provider=provider, ca_filepath=str(cert),
        client_id="sigv4-e2e", clean_session=True, keep_alive_secs=30,
        client_bootstrap=io.ClientBootstrap.get_or_create_static_default())
    assert connection.connect().result(10)["session_present"] is False
    connection.disconnect().result(10)
    assert isinstance(connection, mqtt.Connection)


def test_transcribe_handshake_then_signed_event_stream(server: tuple[str, Path]) -> None:
    endpoint, cert = server
    now = datetime.now(timezone.utc)
    presigned = websocket.presign("transcribe", CREDS, region=REGION, timestamp=now, endpoint=endpoint,
                                  params={"language-code": "en-US", "media-encoding": "pcm", "sample-rate": "16000"})
    assert presigned.url.startswith(f"wss://{endpoint}/stream-transcription-websocket?")
    audio = [Message((Header(":content-type", "application/octet-stream", "string"),
                      Header(":event-type", "AudioEvent", "string"), Header(":message-type", "event", "string")),
                     bytes([n]) * 3200) for n in range(3)]
    frames = sign_events(audio, EventSigner(CREDS.secret_access_key, REGION, "transcribe"),
                         presigned.signing.signature, lambda: datetime.now(timezone.utc))
    with connect(presigned.url, ssl=_client_tls(cert), proxy=None) as ws:
        for frame in frames:
            ws.send(frame)
        assert ws.recv() == "verified 3 audio events and the end frame"


def test_api_gateway_handshake_verifies(server: tuple[str, Path]) -> None:
    endpoint, cert = server
    url = websocket.presign("execute-api", CREDS, region=REGION, timestamp=datetime.now(timezone.utc),
                            endpoint=f"wss://{endpoint}/prod", params={"room": "42"}).url
    with connect(url, ssl=_client_tls(cert), proxy=None) as ws:
        ws.send("hello")
        assert ws.recv() == "echo 'hello'"


@pytest.mark.parametrize("tamper, reason", [
    (lambda url: url.replace("room=42", "room=43"), "signature_mismatch"),
    (lambda url: url.replace("%2Fexecute-api%2F", "%2Fexecute-ap1%2F"), "scope"),
    (lambda url: url.replace("X-Amz-Security-Token=", "X-Amz-Security-Token=x"), "token"),
])
def test_tampered_handshake_is_refused(server: tuple[str, Path], tamper: object, reason: str) -> None:
    endpoint, cert = server
    url = websocket.presign("execute-api", CREDS, region=REGION, timestamp=datetime.now(timezone.utc),
                            endpoint=f"wss://{endpoint}/prod", params={"room": "42"}).url
    with pytest.raises(InvalidStatus) as err:
        connect(tamper(url), ssl=_client_tls(cert), proxy=None)  # type: ignore[operator]
    assert err.value.response.status_code == 403
    assert err.value.response.body.decode().startswith(reason)
