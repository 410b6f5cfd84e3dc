"""--threads: how many calls a process works on at once. The others wait their turn; none is
refused or lost for it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from inprocess import serving_app
from leadsync.config import Settings
from leadsync.soap.endpoint import SoapService
from leadsync.store import open_store
from support import count_leads, lead_record, statuses, sync_params


def test_the_default_follows_the_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'threads.db'}"
    store = open_store(url)
    try:
        assert SoapService(store, Settings(database_url=url)).threads == 2
        assert SoapService(store, Settings(database_url=url, threads=6)).threads == 6
    finally:
        store.close()


def test_calls_beyond_the_threads_wait_their_turn(tmp_path: Path) -> None:
    calls = 12
    with serving_app(tmp_path, threads=1) as server:

        def sync(n: int) -> list[str]:
            records = [lead_record(f"queued{n}-{i}@example.com") for i in range(50)]
            response = server.call("syncMultipleLeads", sync_params(records))
            assert response.status_code == 200, response.text
            return [s.status for s in statuses(response)]

        with ThreadPoolExecutor(calls) as pool:
            outcomes = list(pool.map(sync, range(calls)))
        assert all(o == ["CREATED"] * 50 for o in outcomes)
        assert count_leads(server.database_url) == calls * 50
