"""The state the Account operations read and write, behind a small `Store` protocol.

Strategy: the operations need only a keyed document store: per account, a
few kinds of records (alternate contacts by type, the contact information,
region opt states by name, the account record, a pending primary-email
update), each a JSON-able dict. `Store` names exactly those four verbs;
the edge implements it on SQLite inside one transaction per request, and
`MemoryStore` here is the same contract on dicts for pure tests. Records are
plain dicts of JSON values (times as ISO 8601 text) so every store
serializes them the same way.
"""

from __future__ import annotations

import copy
from typing import Any, Protocol

Record = dict[str, Any]

#: The record kinds the operations use, and what each key is.
KINDS: dict[str, str] = {
    "account": "the key '' holds AccountName, AccountCreatedDate, PrimaryEmail",
    "alternate_contact": "key: AlternateContactType",
    "contact_information": "the key '' holds the ContactInformation structure",
    "region": "key: region name; RegionOptStatus and since (the time of the last change)",
    "email_update": "the key '' holds the pending primary-email update (PrimaryEmail, Otp, started)",
}


class Store(Protocol):
    """Keyed records per (account, kind). Implementations run a request's calls in one transaction."""

    def get(self, account_id: str, kind: str, key: str) -> Record | None: ...

    def put(self, account_id: str, kind: str, key: str, record: Record) -> None: ...

    def delete(self, account_id: str, kind: str, key: str) -> bool:
        """Remove a record; True when it existed."""

    def items(self, account_id: str, kind: str) -> dict[str, Record]:
        """Every record of `kind` for the account, by key."""


class MemoryStore:
    """A `Store` on dicts: the contract without durability, for tests and `:memory:` thinking."""

    def __init__(self) -> None:
        self._records: dict[tuple[str, str, str], Record] = {}

    def get(self, account_id: str, kind: str, key: str) -> Record | None:
        record = self._records.get((account_id, kind, key))
        # Copies keep callers from mutating stored state without a put, as a database would.
        return copy.deepcopy(record) if record is not None else None

    def put(self, account_id: str, kind: str, key: str, record: Record) -> None:
        self._records[(account_id, kind, key)] = copy.deepcopy(record)

    def delete(self, account_id: str, kind: str, key: str) -> bool:
        return self._records.pop((account_id, kind, key), None) is not None

    def items(self, account_id: str, kind: str) -> dict[str, Record]:
        return {k: copy.deepcopy(v) for (a, kd, k), v in self._records.items() if a == account_id and kd == kind}
