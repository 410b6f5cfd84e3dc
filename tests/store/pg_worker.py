"""A separate leadsync process for the PostgreSQL concurrency tests.

Usage: ``python pg_worker.py URL JOB_JSON``. The job is ``{"dedup": bool, "threads":
[[record, ...], ...]}``, a record being ``{"email", "id", "fsp", "attrs"}``. The worker
imports everything, prints ``ready``, waits for a line on stdin so that every worker starts
together, opens (and so migrates) the store, runs one sync call per thread at once and
prints the statuses as JSON: ``[[lead_id, status], ...]`` per thread. Also importable, for
``warm_pool``.
"""

from __future__ import annotations

import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from leadsync.model import LeadInput
from leadsync.operations.fields import FieldCatalogue
from leadsync.operations.sync import SyncOptions, sync_leads
from leadsync.store import Store, open_store


def to_input(spec: dict[str, Any]) -> LeadInput:
    return LeadInput(
        id=spec.get("id"),
        email=spec.get("email"),
        foreign_sys_person_id=spec.get("fsp"),
        foreign_sys_type="CUSTOM" if spec.get("fsp") else None,
        attributes=list(spec.get("attrs", {}).items()),
    )


def warm_pool(store: Store, connections: int) -> None:
    """Hold ``connections`` transactions open at once, so the pool has grown that far before
    the real calls start; otherwise they queue for connections and barely overlap."""
    inside = threading.Barrier(connections)

    def hold(_: int) -> None:
        with store.read():
            inside.wait()

    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(hold, range(connections)))


def main(url: str, job: dict[str, Any]) -> None:
    print("ready", flush=True)
    sys.stdin.readline()
    store = open_store(url)
    try:
        catalogue = FieldCatalogue(store.custom_fields())
        options = SyncOptions(dedup=job["dedup"])
        batches = [[to_input(r) for r in batch] for batch in job["threads"]]
        barrier = threading.Barrier(len(batches))
        warm_pool(store, len(batches))

        def run(batch: list[LeadInput]) -> list[list[Any]]:
            barrier.wait()
            result = sync_leads(store, catalogue, batch, options)
            return [[s.lead_id, s.status.value] for s in result.statuses]

        with ThreadPoolExecutor(len(batches)) as pool:
            print(json.dumps(list(pool.map(run, batches))), flush=True)
    finally:
        store.close()


if __name__ == "__main__":
    main(sys.argv[1], json.loads(sys.argv[2]))
