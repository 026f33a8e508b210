"""The local AWS Account Management service, as pure functions.

Strategy: `handle(request, endpoint=..., now=..., store=..., entropy=...)`
turns a received `sigv4.Request` into a `Reply` (status, headers, body, a
CloudTrail record, operator notices). Everything that touches the world is
an argument: the clock (`now`), the state (`Store`, one transaction per
call, committed by the caller), randomness (`entropy(n) -> bytes`). The
edge owns sockets (`wire/transport/server.py`), SQLite (`sqlite_store.py`), the
trail file (`trail_log.py`) and the clock (`app.py`).

Modules: `identities` (who may call), `auth` (signature failures as AWS
words them), `authorization` (which account a call acts on, and may it), `account` (the 15
operations), `store` (the state contract), `trail` (CloudTrail records),
`handler` (the steps and the protocol table); `policy` (the IAM policy
subset), `organizations` (the AccountId rules), `queryform` (the Query API form).
"""

from wire.service.account import REGIONS, Settings
from wire.service.handler import Endpoint, Reply, handle
from wire.service.identities import DEFAULT_ACCOUNTS, ConfigError, Directory, Principal, load_directory
from wire.service.store import MemoryStore, Store

__all__ = [
    "DEFAULT_ACCOUNTS", "REGIONS", "ConfigError", "Directory", "Endpoint", "MemoryStore", "Principal", "Reply",
    "Settings", "Store", "handle", "load_directory",
]
