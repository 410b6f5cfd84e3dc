"""Same-key writes of bridge processes sharing a database go one after another: the key holds
(store/bridge.py) on every backend, and two bridges in front of one upstream."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from bridgekit import bridge_settings

from backends import database_url, postgres_url, store  # noqa: F401
from inprocess import AppServer, serving_app
from leadsync.bridge.service import Bridge
from leadsync.store.base import Store
from leadsync.testing import LeadsyncServer
from support import fault, lead_record, statuses, sync_params

NOW = 1_800_000_000_000


def _alive(owner: str) -> bool:
    return False


def test_a_write_holds_all_its_keys_or_none(store: Store) -> None:  # noqa: F811
    holds = store.bridge()
    assert holds.hold_keys(
        ["email:a", "email:b"], "w1", "p1", now_ms=NOW, until_ms=NOW + 1000, dead=_alive
    )
    # b is held: nothing of the second write is held, c included.
    assert not holds.hold_keys(
        ["email:c", "email:b"], "w2", "p2", now_ms=NOW, until_ms=NOW + 1000, dead=_alive
    )
    assert holds.hold_keys(["email:c"], "w3", "p2", now_ms=NOW, until_ms=NOW + 1000, dead=_alive)
    holds.free_keys("w3")
    holds.free_keys("w1")
    assert holds.hold_keys(
        ["email:c", "email:b"], "w2", "p2", now_ms=NOW, until_ms=NOW + 1000, dead=_alive
    )
    assert not holds.hold_keys(
        ["email:a", "email:b"], "w4", "p1", now_ms=NOW, until_ms=NOW + 1000, dead=_alive
    )


def test_a_hold_that_ran_out_or_whose_process_died_is_taken_over(store: Store) -> None:  # noqa: F811
    holds = store.bridge()
    assert holds.hold_keys(["id:7"], "w1", "p1", now_ms=NOW, until_ms=NOW + 1000, dead=_alive)
    assert not holds.hold_keys(
        ["id:7"], "w2", "p2", now_ms=NOW + 1000, until_ms=NOW + 2000, dead=_alive
    )
    assert holds.hold_keys(
        ["id:7"], "w2", "p2", now_ms=NOW + 1001, until_ms=NOW + 2000, dead=_alive
    )
    assert holds.hold_keys(
        ["id:7", "id:8"],
        "w3",
        "p3",
        now_ms=NOW + 1001,
        until_ms=NOW + 2000,
        dead=lambda o: o == "p2",
    )
    # The write it was taken from lets go of nothing that is no longer its own.
    holds.free_keys("w2")
    assert not holds.hold_keys(
        ["id:8"], "w4", "p4", now_ms=NOW + 1001, until_ms=NOW + 2000, dead=_alive
    )


def test_writes_racing_for_one_key_on_postgresql_hold_it_once(postgres_url: str) -> None:  # noqa: F811
    from leadsync.store import open_store

    opened = open_store(postgres_url)
    try:
        holds = opened.bridge()
        for round_ in range(20):
            start = threading.Barrier(4)

            def race(n: int, round_: int = round_, start: threading.Barrier = start) -> bool:
                start.wait()
                keys = [f"email:{round_}", f"email:{round_}-{n}"][:: 1 if n % 2 else -1]
                return holds.hold_keys(
                    keys, f"w{round_}-{n}", f"p{n}", now_ms=NOW, until_ms=NOW + 1000, dead=_alive
                )

            with ThreadPoolExecutor(4) as pool:
                won = list(pool.map(race, range(4)))
            assert won.count(True) == 1, won
    finally:
        opened.close()


def _until(condition: Callable[[], bool]) -> None:
    """Wait for another thread to reach a state (not to order anything)."""
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "the other thread never got there"
        time.sleep(0.005)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_bridge_processes_send_same_key_writes_one_after_another(
    backend: str, upstream: LeadsyncServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # Two bridges on one database, as two workers (SQLite) or two hosts (PostgreSQL) are.
    if backend == "sqlite":
        url, settings = f"sqlite:///{tmp_path / 'bridge.db'}", bridge_settings(upstream, workers=2)
    else:
        url, settings = request.getfixturevalue("postgres_url"), bridge_settings(upstream)
    with (
        serving_app(tmp_path, database_url=url, **settings) as one,
        serving_app(tmp_path, database_url=url, users=(), **settings) as two,
    ):
        bridges = [_bridge(one), _bridge(two)]
        assert all(b.upstream.writing.shared is not None for b in bridges)
        for app in (one, two):
            # Describe read first, so that both calls go straight to Sync Leads.
            statuses(app.call("syncMultipleLeads", sync_params([lead_record("warm@x.com")])))
        upstream.inject("op=syncLeads,delay=1500ms,times=1")
        params = sync_params([lead_record("Same@X.com")])
        ended: dict[str, float] = {}

        def call(app: AppServer, name: str) -> str:
            answer = statuses(app.call("syncMultipleLeads", params))[0].status
            ended[name] = time.monotonic()
            return answer

        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(call, one, "first")
            _until(lambda: bridges[0].upstream.writing.users(("email", "same@x.com")) == 1)
            _until(lambda: _held(two.store, "email:same@x.com"))
            second = pool.submit(call, two, "second")
            got = (first.result(), second.result())
    # The second bridge's write waited for the first's, which the upstream held 1.5 s: it
    # went upstream after it, not beside it.
    assert got == ("CREATED", "UPDATED")
    assert ended["second"] > ended["first"]
    assert len(upstream.leads("Same@X.com")) == 1


def _bridge(app: AppServer) -> Bridge:
    bridge = app.http.app.state.bridge
    assert isinstance(bridge, Bridge)
    return bridge


def _held(db: Store, key: str) -> bool:
    """Whether another write holds ``key`` (probed by trying to hold it, and letting go)."""
    probe = db.bridge()
    now = int(time.time() * 1000)
    if probe.hold_keys([key], "probe", "probe", now_ms=now, until_ms=now + 1, dead=_alive):
        probe.free_keys("probe")
        return False
    return True


def test_a_wait_for_another_hosts_keys_that_runs_out_is_20024(
    upstream: LeadsyncServer, tmp_path: Path
) -> None:
    settings = bridge_settings(upstream, workers=2, upstream_wait_seconds=1)
    with serving_app(tmp_path, **settings) as app:
        made = statuses(app.call("syncMultipleLeads", sync_params([lead_record("made@x.com")])))
        # Another host's write holds held@x.com, and is not about to let go.
        now = int(time.time() * 1000)
        assert app.store.bridge().hold_keys(
            ["email:held@x.com"], "elsewhere", "other-host|boot|1|1",
            now_ms=now, until_ms=now + 60_000, dead=_alive,
        )  # fmt: skip
        # Nothing of this call went upstream: the whole call faults.
        alone = app.call("syncMultipleLeads", sync_params([lead_record("held@x.com")]))
        assert fault(alone).code == 20024
        # After a group went upstream, only the records of the group that waited fail.
        mixed = app.call(
            "syncMultipleLeads",
            sync_params(
                [
                    lead_record(id=made[0].lead_id, attrs={"FirstName": "Ann"}),
                    lead_record("held@x.com"),
                ]
            ),
        )
        got = statuses(mixed)
    assert [s.status for s in got] == ["UPDATED", "FAILED"]
    assert "20024" in (got[1].error or "")
    assert upstream.leads("held@x.com") == []
