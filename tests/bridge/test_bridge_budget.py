"""Two bridge workers share one upstream budget: a burst never makes the upstream see more
calls in its window or in flight than it allows. The upstream's own limits are on (smaller
than Marketo's, so the test takes seconds): any excess would be a 606 or 615 it counts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

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
