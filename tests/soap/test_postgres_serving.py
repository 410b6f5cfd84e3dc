"""Several worker processes on one PostgreSQL: no duplicate or lost lead when calls race,
and a lost database connection fails the call in flight, then heals by itself."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from backends import postgres_database, skip_postgres
from pgproxy import Proxy
from support import (
    Server,
    count_leads,
    fault,
    lead_record,
    running_server,
    statuses,
    stored_leads,
    sync_params,
)

CLIENTS = 16

pytestmark = pytest.mark.skipif(skip_postgres(), reason="LEADSYNC_TEST_SKIP_POSTGRES=1")


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Two worker processes behind one port, on a PostgreSQL database of their own."""
    with (
        postgres_database() as url,
        running_server(
            tmp_path_factory.mktemp("workers"), "--workers", "2", database_url=url
        ) as srv,
    ):
        yield srv


def _race(server: Server, calls: list[list[str]]) -> list[list[int]]:
    def call(records: list[str]) -> list[int]:
        got = statuses(server.call("syncMultipleLeads", sync_params(records)))
        assert all(s.status != "FAILED" for s in got), got
        return [s.lead_id for s in got]

    with ThreadPoolExecutor(CLIENTS) as pool:
        return list(pool.map(call, calls))


def test_two_worker_processes_start(workers: Server) -> None:
    deadline = time.monotonic() + 30
    while workers.log().count("Application startup complete") < 2:
        assert time.monotonic() < deadline, workers.log()
        time.sleep(0.1)


def test_racing_calls_deduping_one_new_email_create_one_lead(workers: Server) -> None:
    calls = [
        [lead_record("race@pg.example", {"LeadScore": str(i)}), lead_record(f"own{i}@pg.example")]
        for i in range(48)
    ]
    ids = _race(workers, calls)
    assert len({pair[0] for pair in ids}) == 1
    own = [pair[1] for pair in ids]
    assert len(set(own)) == len(own)
    assert ids[0][0] not in own


def test_racing_updates_of_one_lead_lose_no_field(workers: Server) -> None:
    [created] = statuses(
        workers.call("syncMultipleLeads", sync_params([lead_record("fields@pg.example")]))
    )
    fields = ["City", "State", "Country", "Title", "Company", "Industry", "Department", "Site"]
    calls = [[lead_record(None, {name: f"v-{name}"}, id=created.lead_id)] for name in fields * 4]
    _race(workers, calls)
    lead = stored_leads(workers.database_url, [created.lead_id])[created.lead_id]
    assert lead.values == {name: f"v-{name}" for name in fields}


def test_a_foreign_id_never_belongs_to_two_leads(workers: Server) -> None:
    calls = [[lead_record(f"fsp{i}@pg.example", fsp="FSP-RACE")] for i in range(32)]
    ids = _race(workers, calls)
    assert len({pair[0] for pair in ids}) == 1


def test_ids_stay_unique_and_stable(workers: Server) -> None:
    calls = [[lead_record(f"u{c}-{i}@pg.example") for i in range(20)] for c in range(CLIENTS)]
    ids = [lead_id for batch in _race(workers, calls) for lead_id in batch]
    assert len(set(ids)) == len(ids)
    again = [lead_id for batch in _race(workers, calls) for lead_id in batch]
    assert again == ids


def test_a_lost_connection_fails_the_call_and_the_server_recovers(tmp_path: Path) -> None:
    with postgres_database() as url:
        host_port = url.split("@", 1)[1].split("/", 1)[0]
        host, port = host_port.rsplit(":", 1)
        proxy = Proxy((host, int(port)))
        proxy.start()
        via_proxy = url.replace(host_port, f"127.0.0.1:{proxy.port}")
        try:
            with running_server(tmp_path, database_url=via_proxy) as srv:
                [ok] = statuses(
                    srv.call("syncMultipleLeads", sync_params([lead_record("before@pg.example")]))
                )
                assert ok.status == "CREATED"
                proxy.stop()
                lost = srv.call(
                    "syncMultipleLeads", sync_params([lead_record("during@pg.example")])
                )
                got = fault(lost)
                assert got.code == 20011
                assert "Traceback" not in lost.text
                proxy.start()
                deadline = time.monotonic() + 30
                while True:
                    response = srv.call(
                        "syncMultipleLeads", sync_params([lead_record("after@pg.example")])
                    )
                    if response.status_code == 200 or time.monotonic() > deadline:
                        break
                    time.sleep(0.2)
                assert [s.status for s in statuses(response)] == ["CREATED"]
        finally:
            proxy.stop()
        # The failed call reported no success and wrote nothing.
        assert count_leads(url) == 2
