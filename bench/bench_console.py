"""Console pages on a large SQLite database: p50 and p95 of each page, in process.

Seeds ``--leads`` leads (written straight through the store, in batches), signs in, then
fetches each page ``--repeat`` times. The console must answer every page in under 200 ms at
p95 on 1,000,000 leads (issue 17).
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from starlette.testclient import TestClient

from leadsync.app import create_app
from leadsync.config import Settings
from leadsync.console.passwords import hash_password
from leadsync.model import Lead
from leadsync.store import open_store
from leadsync.store.base import Store

BATCH = 10_000


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


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'console.db'}")
        started = time.perf_counter()
        seed(store, args.leads)
        print(f"seeded {args.leads:,} leads in {time.perf_counter() - started:.0f} s")
        store.console().add_user("bench", hash_password("bench password"), 0)
        middle = args.leads // 2
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
        }
        with TestClient(create_app(Settings(), store)) as client:
            login = client.get("/console/login").text
            token = re.search(r'name="csrf" value="([^"]+)"', login)
            assert token
            form = {"csrf": token.group(1), "name": "bench", "password": "bench password"}
            assert client.post("/console/login", data=form).status_code == 200
            print(f"console pages on {args.leads:,} leads (SQLite, in process)")
            for name, path in pages.items():
                times = []
                for _ in range(args.repeat):
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
