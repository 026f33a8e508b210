"""Shared helpers for the local Account endpoint tests: signed calls into the pure handler."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import sigv4
import wire
from wire.service import DEFAULT_ACCOUNTS, Endpoint, MemoryStore, Reply, Settings, handle, load_directory

MODEL = wire.load_model("account")
NOW = datetime(2026, 11, 24, 19, 0, tzinfo=timezone.utc)
DEFAULT = DEFAULT_ACCOUNTS["accounts"][0]
CREDS = sigv4.Credentials(DEFAULT["access_key_id"], DEFAULT["secret_access_key"])
MANAGEMENT, MEMBER = "111122223333", "444455556666"
ENDPOINT_URL = "http://127.0.0.1:8080"


def counter_entropy() -> Callable[[int], bytes]:
    """Deterministic bytes: SHA-256 of a counter, so ids and codes are reproducible."""
    counter = itertools.count()

    def entropy(n: int) -> bytes:
        return hashlib.sha256(str(next(counter)).encode()).digest()[:n]

    return entropy


class Service:
    """The handler with a memory store and a fixed clock; `call` signs and serves one operation."""

    def __init__(self, accounts: Mapping[str, Any] = DEFAULT_ACCOUNTS, *, delay: timedelta = timedelta(seconds=60)):
        self.endpoint = Endpoint(MODEL, load_directory(accounts), Settings(region_delay=delay))
        self.store = MemoryStore()
        self.entropy = counter_entropy()
        self.now = NOW

    def serve(self, request: sigv4.Request) -> Reply:
        return handle(request, endpoint=self.endpoint, now=self.now, store=self.store, entropy=self.entropy)

    def signed(self, operation: str, params: Mapping[str, Any], *, creds: sigv4.Credentials = CREDS,
               region: str = "us-east-1", service: str = "account", at: datetime | None = None) -> sigv4.Request:
        request = wire.serialize(MODEL, operation, params, endpoint=ENDPOINT_URL)
        return sigv4.sign(request, creds, region=region, service=service, timestamp=at or self.now).request

    def call(self, operation: str, params: Mapping[str, Any] | None = None, **options: Any) -> Reply:
        return self.serve(self.signed(operation, params or {}, **options))

    def ok(self, operation: str, params: Mapping[str, Any] | None = None, **options: Any) -> dict[str, Any]:
        reply = self.call(operation, params, **options)
        assert reply.status == 200, reply.body
        return wire.parse_response(MODEL, operation, reply.status, reply.headers, reply.body)


def error_of(reply: Reply) -> tuple[int, str, dict[str, Any]]:
    """(status, x-amzn-ErrorType, JSON body) of an error reply."""
    headers = {k.lower(): v for k, v in reply.headers}
    return reply.status, headers["x-amzn-errortype"], json.loads(reply.body)


CONTACT = {"Name": "Ana", "Title": "CFO", "EmailAddress": "ana@example.com", "PhoneNumber": "+1 555 0100"}
CONTACT_INFO = {"FullName": "Ana Lima", "AddressLine1": "1 Main St", "City": "Lisbon", "PostalCode": "1000-001",
                "CountryCode": "PT", "PhoneNumber": "+351 21 000 0000"}
