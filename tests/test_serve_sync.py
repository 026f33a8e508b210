"""When the endpoint waits for the disk: a call that changed state is answered only after an fsync that
follows its commit; a call that saw only synced state (a read, a refusal) is answered without one."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

import sigv4

from tests.service_helpers import Service
from wire.service.app import AccountApp, build_app, load_accounts

CONTACT = {"AlternateContactType": "BILLING", "Name": "Ana", "Title": "CFO", "EmailAddress": "ana@example.com",
           "PhoneNumber": "+1 555 0100"}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[AccountApp]:
    app = build_app(load_accounts(None), str(tmp_path / "state.db"), tmp_path / "trail.jsonl", 0, lambda _: None)
    yield app
    app.close()


def _steps(app: AccountApp, operation: str, params: dict[str, str]) -> list[str]:
    """The store's commits and syncs made by the calling thread while serving one call, in order."""
    steps: list[str] = []
    store, caller = app.store, threading.current_thread()
    commit, sync = store.commit, store.sync

    def spy_commit(*, sync: bool = True) -> None:
        commit(sync=sync)
        if threading.current_thread() is caller:
            steps.append("commit")

    def spy_sync() -> None:
        sync()
        if threading.current_thread() is caller:  # not the trail's background flush
            steps.append("sync")

    store.commit, store.sync = spy_commit, spy_sync  # type: ignore[method-assign]
    try:
        request = Service().signed(operation, params, at=datetime.now(timezone.utc))
        app.respond(request, "127.0.0.1")
    finally:
        del store.commit, store.sync
    return steps


def test_a_write_is_synced_after_its_commit_before_its_answer(app: AccountApp) -> None:
    assert _steps(app, "PutAlternateContact", CONTACT) == ["commit", "sync"]


def test_a_read_of_synced_state_is_answered_without_a_sync(app: AccountApp) -> None:
    _steps(app, "PutAlternateContact", CONTACT)
    assert _steps(app, "GetAlternateContact", {"AlternateContactType": "BILLING"}) == ["commit"]


def test_a_refused_write_changes_nothing_and_waits_for_no_sync(app: AccountApp) -> None:
    refused = dict(CONTACT, EmailAddress="not an address")
    assert _steps(app, "PutAlternateContact", refused) == ["commit"]


def test_a_read_committed_with_an_unsynced_change_waits_for_its_sync(app: AccountApp) -> None:
    # A change is in the open transaction (not yet committed nor synced): the read commits it with its own
    # record and may answer with it, so it must not be answered before the change is on disk.
    app.store.begin()
    with app.store.change() as change:
        change.put("111122223333", "alternate_contact", "BILLING", dict(CONTACT))
    assert _steps(app, "GetAlternateContact", {"AlternateContactType": "BILLING"}) == ["commit", "sync"]


def _group_steps(app: AccountApp, calls: list[tuple[str, dict[str, str]]]) -> list[str]:
    """`respond_group` (the server's event loop) with `calls`: the store's commits and syncs and the answers,
    in the order they happened, whatever thread they happened on."""
    steps: list[str] = []
    answered = threading.Event()
    store = app.store
    commit, sync = store.commit, store.sync

    def spy_commit(*, sync: bool = True) -> None:
        commit(sync=sync)
        steps.append("commit")

    def spy_sync() -> None:
        sync()
        steps.append("sync")

    def answer(i: int, reply: object) -> None:
        steps.append(f"answer {calls[i][0]} {getattr(reply, 'status', reply)}")
        if sum(step.startswith("answer") for step in steps) == len(calls):
            answered.set()

    store.commit, store.sync = spy_commit, spy_sync  # type: ignore[method-assign]
    try:
        now = datetime.now(timezone.utc)
        app.respond_group([(Service().signed(operation, params, at=now), "127.0.0.1") for operation, params in calls],
                          answer)
        assert answered.wait(5)
    finally:
        del store.commit, store.sync
    return steps


def test_calls_arriving_together_share_one_commit_and_a_write_is_answered_after_its_sync(app: AccountApp) -> None:
    get = ("GetAlternateContact", {"AlternateContactType": "BILLING"})
    # The first read ran before the write: it depends on no unsynced change and is answered after the commit.
    assert _group_steps(app, [get, ("PutAlternateContact", CONTACT), get]) == [
        "commit", "answer GetAlternateContact 404", "sync", "answer PutAlternateContact 200",
        "answer GetAlternateContact 200"]
    # A read of synced state is answered at once, after the commit of its record, without a sync.
    assert _group_steps(app, [get, get]) == ["commit", "answer GetAlternateContact 200",
                                             "answer GetAlternateContact 200"]


def test_a_call_that_fails_in_a_group_costs_that_call_alone(app: AccountApp) -> None:
    broken = sigv4.Request("POST", "/getAlternateContact", [("Host", "x")], b"{}")
    replies: dict[int, object] = {}
    app.respond_group([(broken, "127.0.0.1")], lambda i, reply: replies.__setitem__(i, reply))
    assert getattr(replies[0], "status", None) == 403  # a refusal is a reply, not a failure

    def check_fails(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    import wire.service.app as app_module
    real_check = app_module.check
    now = datetime.now(timezone.utc)
    get = Service().signed("GetAlternateContact", {"AlternateContactType": "BILLING"}, at=now)
    calls = iter([check_fails, real_check])
    app_module.check = lambda *args, **kwargs: next(calls)(*args, **kwargs)  # type: ignore[assignment]
    try:
        app.respond_group([(get, "127.0.0.1"), (get, "127.0.0.1")], lambda i, reply: replies.__setitem__(i, reply))
    finally:
        app_module.check = real_check
    assert isinstance(replies[0], RuntimeError) and getattr(replies[1], "status", None) == 404


def test_a_failing_trail_sync_is_logged_once_and_retried(tmp_path: Path) -> None:
    # Before: an exception ended the trail's sync thread silently: the file was never synced or pruned again.
    log: list[str] = []
    app = build_app(load_accounts(None), str(tmp_path / "state.db"), tmp_path / "trail.jsonl", 0, log.append)
    real_sync, failures = app.trail.sync, iter([OSError(28, "No space left on device")] * 3)

    def flaky_sync() -> None:
        failure = next(failures, None)
        if failure:
            raise failure
        real_sync()

    app.trail.sync = flaky_sync  # type: ignore[method-assign]
    try:
        app.respond(Service().signed("PutAlternateContact", CONTACT, at=datetime.now(timezone.utc)), "127.0.0.1")
        for _ in range(100):  # the fourth attempt (0.4 s) succeeds
            if app.store.exported:
                break
            time.sleep(0.05)
        assert app.store.exported == app.store.last_seq > 0
    finally:
        app.close()
    assert [line for line in log if "syncing the trail failed" in line and "No space left" in line] == [log[0]]
