"""The console's speed, and what it costs the API.

1. Console pages on a large SQLite database, in process: seeds ``--leads`` leads (written
   straight through the store, in batches) and ``--jobs`` finished bulk jobs (a busy week's),
   signs in, then fetches each page ``--repeat`` times. Every page must answer in under
   200 ms at p95 on 1,000,000 leads (issue 17).
2. syncMultipleLeads throughput over HTTP on a real server, alone and then with a client
   refreshing the overview every second: within 5% of each other (issue 17).
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from bench_sync import batches, run_http, seed_indices
from common import cli, server, tmp_sqlite
from starlette.testclient import TestClient

from leadsync.app import create_app
from leadsync.config import Settings
from leadsync.console.passwords import hash_password
from leadsync.jobs.kinds import IMPORT, LEADS_EXPORT
from leadsync.model import Lead
from leadsync.store import open_store
from leadsync.store.base import Store

BATCH = 10_000
#: Bulk jobs are kept 7 days; a week of imports and extracts every few minutes.
JOBS = 3_000


def seed(store: Store, count: int) -> None:
    """``count`` leads made over the last year, one every 30 s, the newest now."""
    now = datetime.now(UTC)
    done = 0
    while done < count:
        size = min(BATCH, count - done)
        with store.write() as writer:
            ids = writer.allocate_ids(size)
            writer.insert_leads(
                [
                    Lead(
                        id=lead_id,
                        email=f"lead{done + n:07}@example{(done + n) % 97}.com",
                        foreign_sys_person_id=None,
                        foreign_sys_type=None,
                        values={
                            "FirstName": f"First{done + n}",
                            "LastName": f"Last{(done + n) % 5000}",
                            "Company": f"Company {(done + n) % 20000}",
                        },
                        created_at=now - timedelta(seconds=30 * (count - done - n)),
                        updated_at=now - timedelta(seconds=30 * (count - done - n)),
                    )
                    for n, lead_id in enumerate(ids)
                ]
            )
        done += size


def seed_jobs(store: Store, count: int) -> None:
    """``count`` finished bulk jobs, a third of them failed, made over the last week."""
    now = datetime.now(UTC)
    jobs = store.jobs()
    for n in range(count):
        at = now - timedelta(minutes=3 * (count - n))
        kind = (IMPORT, LEADS_EXPORT)[n % 2]
        public_id = None if kind == IMPORT else f"bench-export-{n}"
        job = jobs.create(kind, {"format": "csv", "bytes": 1_000_000}, at, public_id=public_id)
        assert job is not None
        jobs.cancel(job.id, at, "Import canceled" if kind == IMPORT else "Canceled")


def _sign_in(http: httpx.Client, base: str) -> None:
    token = re.search(r'name="csrf" value="([^"]+)"', http.get(base + "/console/login").text)
    assert token
    form = {"csrf": token.group(1), "name": "bench", "password": "bench password"}
    assert http.post(base + "/console/login", data=form).status_code == 303


def refresh_cost(count: int, connections: int) -> dict[str, float]:
    """Sync throughput alone, then with the overview refreshed every second."""
    with tempfile.TemporaryDirectory() as tmp:
        url = tmp_sqlite(Path(tmp), "refresh.db")
        cli("console", "add-user", "bench", "--password", "bench password", "--database", url)
        with server(url) as endpoint:
            base = endpoint.removesuffix("/soap/mktows/2_2")
            for offset in (0, 1_000_000, 2_000_000):
                run_http(endpoint, seed_indices(count, offset), connections)
            alone = run_http(endpoint, batches(count, 0), connections)
            stop = threading.Event()
            refreshes = [0]

            def refresh() -> None:
                with httpx.Client(timeout=30) as http:
                    _sign_in(http, base)
                    while not stop.is_set():
                        assert http.get(base + "/console/").status_code == 200
                        refreshes[0] += 1
                        stop.wait(1.0)

            refresher = threading.Thread(target=refresh)
            refresher.start()
            try:
                watched = run_http(endpoint, batches(count, 1_000_000), connections)
            finally:
                stop.set()
                refresher.join()
            # Alone again, so that a change of the machine's load shows as such.
            again = run_http(endpoint, batches(count, 2_000_000), connections)
    alone.items += again.items
    alone.seconds += again.seconds
    alone.latencies += again.latencies
    alone.name = "sync alone (before and after)"
    watched.name = f"sync, overview refreshed each second ({refreshes[0]} times)"
    change = watched.rate / alone.rate - 1
    print("syncMultipleLeads over HTTP while the console's overview is refreshed (SQLite)")
    print("  " + alone.line())
    print("  " + watched.line())
    print(f"  change: {change:+.1%}   (target: within 5%)")
    return {"sync_alone": alone.rate, "sync_watched": watched.rate}


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=JOBS)
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args(argv)
    results = pages(args.leads, args.repeat, args.jobs)
    results.update(refresh_cost(args.batches, args.connections))
    return results


def pages(leads: int, repeat: int, jobs: int = JOBS) -> dict[str, float]:
    """p95 of each console page on ``leads`` leads and ``jobs`` bulk jobs."""
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'console.db'}")
        started = time.perf_counter()
        seed(store, leads)
        seed_jobs(store, jobs)
        print(f"seeded {leads:,} leads and {jobs:,} jobs in {time.perf_counter() - started:.0f} s")
        store.console().add_user("bench", hash_password("bench password"), 0)
        middle = leads // 2
        pages = {
            "overview": "/console/",
            "leads, first page": "/console/leads",
            "leads, a page in the middle": f"/console/leads?after={middle}",
            "leads, email prefix (10 matches)": "/console/leads?email=lead051234",
            "leads, email prefix (100,000)": "/console/leads?email=lead05",
            "leads, name (few matches)": "/console/leads?name=First99999",
            "leads, company (many matches)": "/console/leads?company=company+1",
            "a lead": f"/console/leads/{middle}",
            "calls": "/console/calls",
            "users": "/console/users",
            "fault rules": "/console/faults",
            "jobs": "/console/jobs",
            "jobs, imports only": "/console/jobs?kind=import",
            "jobs, an old page": f"/console/jobs?before={jobs // 10}",
            "a job": f"/console/jobs/{jobs // 2}",
        }
        with TestClient(create_app(Settings(), store)) as client:
            login = client.get("/console/login").text
            token = re.search(r'name="csrf" value="([^"]+)"', login)
            assert token
            form = {"csrf": token.group(1), "name": "bench", "password": "bench password"}
            assert client.post("/console/login", data=form).status_code == 200
            print(f"console pages on {leads:,} leads (SQLite, in process)")
            for name, path in pages.items():
                times = []
                for _ in range(repeat):
                    t0 = time.perf_counter()
                    response = client.get(path)
                    times.append((time.perf_counter() - t0) * 1000)
                    assert response.status_code == 200, (path, response.status_code)
                times.sort()
                p95 = times[max(0, round(0.95 * len(times)) - 1)]
                print(f"  {name:34} p50 {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms")
                results[name] = p95
        store.close()
    return results


if __name__ == "__main__":
    main()
