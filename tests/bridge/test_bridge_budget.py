"""Two bridge workers share one upstream budget: a burst never makes the upstream see more
calls in its window or in flight than it allows. The upstream's own limits are on (smaller
than Marketo's, so the test takes seconds): any excess would be a 606 or 615 it counts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from leadsync.bridge.budget import UPSTREAM_SUBJECT, Budget
from leadsync.clock import SYSTEM_CLOCK
from leadsync.config import Settings
from leadsync.store import open_store
from leadsync.testing import LeadsyncServer, start_server
from support import lead_record, running_server, statuses, sync_params

RATE, CONCURRENCY = "10/2s", 3


@pytest.fixture
def limited_upstream(tmp_path: Path) -> Iterator[LeadsyncServer]:
    started = start_server(
        tmp_path / "upstream", "--rest-rate", RATE, "--rest-concurrency", str(CONCURRENCY)
    )
    try:
        yield started
    finally:
        started.stop()


def test_two_workers_share_one_budget(limited_upstream: LeadsyncServer, tmp_path: Path) -> None:
    upstream = limited_upstream
    env = {
        "LEADSYNC_UPSTREAM_RATE_LIMIT": RATE,
        "LEADSYNC_UPSTREAM_CONCURRENCY": str(CONCURRENCY),
        "LEADSYNC_UPSTREAM_WAIT_SECONDS": "30",
    }
    flags = [
        *("--upstream", upstream.base_url, "--upstream-client-id", upstream.client_id),
        *("--upstream-client-secret", upstream.client_secret, "--workers", "2"),
    ]
    results: list[str] = []
    (tmp_path / "bridge").mkdir()
    with running_server(tmp_path / "bridge", *flags, env=env) as bridge:

        def one(n: int) -> None:
            params = sync_params([lead_record(f"burst-{n}@example.com")])
            results.extend(s.status for s in statuses(bridge.call("syncMultipleLeads", params)))

        threads = [threading.Thread(target=one, args=(n,)) for n in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert results == ["CREATED"] * 16
    usage = upstream.usage("@rest")
    assert not any(usage["rejects"].values()), usage["rejects"]
    assert usage["calls_today"] >= 17  # a describe per worker, then the 16 syncs
    assert len(upstream.leads()) == 16


def test_a_slot_given_back_is_freed_for_the_next_call(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'bridge.db'}")
    try:
        settings = Settings(upstream_concurrency=1, upstream_rate_limit="", upstream_daily_quota=0)
        budget = Budget(store, settings, SYSTEM_CLOCK)
        # One slot: each take waits for the one before to be freed (in the background).
        for _ in range(3):
            slot = budget.take(SYSTEM_CLOCK.monotonic() + 5)
            assert [lease.lease_id for lease in store.limits().leases()] == [slot.lease_id]
            budget.give_back(slot)
        budget.close()
        assert store.limits().leases() == []
        now_ms = int(SYSTEM_CLOCK.now().timestamp() * 1000)
        [usage] = store.limits().usage(
            UPSTREAM_SUBJECT, now_ms=now_ms, day=slot.day, window_ms=20_000
        )
        assert (usage.day_calls, usage.in_flight) == (3, 0)
    finally:
        store.close()
