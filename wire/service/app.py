"""The local Account endpoint's glue: the clock, entropy, a store transaction and the trail around `handle`.

Strategy: `wire.service.handle` is pure; `AccountApp.respond` supplies the
world it needs (now, os.urandom, a SQLite transaction), serializes requests
with a lock, discards the state change of an answered error (as AWS does) and
appends the trail record before the reply goes out. An edge module (clock,
entropy, threads; `tests/test_purity.py` lists it).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
import sigv4
import wire
from wire.service.account import Settings
from wire.service.handler import Endpoint, Reply, handle
from wire.service.identities import DEFAULT_ACCOUNTS, ConfigError, Directory, load_directory
from wire.service.policy import PolicyError
from wire.service.sqlite_store import SqliteStore
from wire.service.trail_log import TrailLog


class AccountApp:
    """One request in, one committed reply out: the clock, entropy, store transaction and trail around `handle`."""

    def __init__(self, endpoint: Endpoint, store: SqliteStore, trail: TrailLog, log: Callable[[str], None]) -> None:
        self.endpoint, self.store, self.trail, self.log = endpoint, store, trail, log
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the store and the trail (after the server that calls `respond` has stopped)."""
        self.store.close()
        self.trail.close()

    def respond(self, request: sigv4.Request, source_ip: str) -> Reply:
        with self._lock:
            with self.store.transaction() as transaction:
                reply = handle(request, endpoint=self.endpoint, now=datetime.now(timezone.utc), store=self.store,
                               entropy=os.urandom, source_ip=source_ip)
                # As on AWS, a call answered with an error leaves no trace in the state.
                transaction.discard = reply.status >= 400
        self.trail.append(reply.event)
        for notice in reply.notices:
            self.log(f"serve: {notice}")
        return reply


def build_app(directory: Directory, state: str, trail: Path, region_delay: float, log: Callable[[str], None]) -> AccountApp:
    """An `AccountApp` for `directory`, its state in the SQLite file `state` (`:memory:` allowed), its trail at `trail`."""
    endpoint = Endpoint(wire.load_model("account"), directory, Settings(region_delay=timedelta(seconds=region_delay)))
    return AccountApp(endpoint, SqliteStore(state), TrailLog(trail), log)


def load_accounts(path: str | None) -> Directory:
    """The identities of an accounts file (`sigv4 serve --accounts`), or the documented default identity when None.

    Raises ConfigError, its message starting with the path, for a file that cannot be read, is not JSON, or breaks
    a rule of the accounts document or of a policy in it.
    """
    known_actions = tuple(wire.load_model("account").operations)
    if path is None:
        return load_directory(DEFAULT_ACCOUNTS, known_actions=known_actions)
    try:
        return load_directory(json.loads(Path(path).read_text(encoding="utf-8")), known_actions=known_actions)
    except OSError as err:
        raise ConfigError(f"{path}: {err.strerror or err}") from None
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path}: not JSON: {err}") from None
    except (ConfigError, PolicyError) as err:
        raise ConfigError(f"{path}: {err}") from None


def state_dir(env: Mapping[str, str]) -> Path:
    """The per-user state directory: $XDG_STATE_HOME/sigv4-toolkit (default ~/.local/state/sigv4-toolkit)."""
    base = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local" / "state")
    return Path(base) / "sigv4-toolkit"


def state_path(given: str | None, env: Mapping[str, str]) -> str:
    """The SQLite state `sigv4 serve` keeps: `given` (--state), else account.db in `state_dir(env)`."""
    return given or str(state_dir(env) / "account.db")


def trail_path(given: str | None, env: Mapping[str, str]) -> Path:
    """The trail `sigv4 serve` writes and `sigv4 trail` reads: `given` (--log), else next to the default state."""
    return Path(given) if given else state_dir(env) / "account-trail.jsonl"


_DEFAULT = DEFAULT_ACCOUNTS["accounts"][0]
#: What `sigv4 serve` says about the default identity: AWS's published example key pair, created for local use
#: only; printing it is the point.
DEFAULT_IDENTITY_NOTICE = (
    f"default identity: account {_DEFAULT['account_id']} (management; member {', '.join(_DEFAULT['members'])}), "
    f"AWS_ACCESS_KEY_ID={_DEFAULT['access_key_id']} AWS_SECRET_ACCESS_KEY={_DEFAULT['secret_access_key']}")
