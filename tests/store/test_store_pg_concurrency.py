"""Many writers at once on PostgreSQL: threads sharing one store, and separate processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
from pg_worker import warm_pool

import leadsync
from leadsync.model import LeadInput, SyncOutcome
from leadsync.operations.fields import FieldCatalogue
from leadsync.operations.sync import SyncBatchResult, SyncOptions, sync_leads
from leadsync.store import Store, open_store
from leadsync.store.migrate import load_migrations

T = TypeVar("T")
WORKER = Path(__file__).with_name("pg_worker.py")
SRC = Path(leadsync.__file__).resolve().parents[1]
FIELDS = ("FirstName", "LastName", "City", "State", "Company", "Title", "Department", "Industry")


def spec(
    email: str | None = None,
    *,
    lead_id: int | None = None,
    fsp: str | None = None,
    attrs: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One record, in the JSON form that pg_worker.py also reads."""
    return {"email": email, "id": lead_id, "fsp": fsp, "attrs": attrs or {}}


def one_field(i: int, value: str = "v") -> dict[str, str]:
    return {FIELDS[i]: value}


def to_input(item: dict[str, Any]) -> LeadInput:
    return LeadInput(
        id=item["id"],
        email=item["email"],
        foreign_sys_person_id=item["fsp"],
        foreign_sys_type="CUSTOM" if item["fsp"] else None,
        attributes=list(item["attrs"].items()),
    )


def sync(store: Store, *items: dict[str, Any]) -> SyncBatchResult:
    records = [to_input(item) for item in items]
    return sync_leads(store, FieldCatalogue(), records, SyncOptions(dedup=True))


def at_once(count: int, work: Callable[[int], T]) -> list[T]:
    """Run ``work(0..count-1)`` in threads released together."""
    barrier = threading.Barrier(count)

    def run(i: int) -> T:
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def in_processes(url: str, per_process: list[list[list[dict[str, Any]]]]) -> list[list[Any]]:
    """Each process runs one sync call per thread; returns every call's statuses."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), url, json.dumps({"dedup": True, "threads": threads})],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for threads in per_process
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                pytest.fail(f"worker did not start: {proc.communicate(timeout=30)[1]}")
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        calls: list[list[Any]] = []
        for proc in procs:
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            calls.extend(json.loads(out))
        return calls
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()


def single_statuses(results: list[SyncBatchResult]) -> list[tuple[int, SyncOutcome]]:
    assert all(len(r.statuses) == 1 for r in results)
    return [(r.statuses[0].lead_id, r.statuses[0].status) for r in results]


def assert_one_creation(statuses: list[tuple[int, Any]]) -> int:
    ids = {lead_id for lead_id, _ in statuses}
    assert len(ids) == 1, statuses
    assert sorted(str(s) for _, s in statuses) == ["CREATED"] + ["UPDATED"] * (len(statuses) - 1)
    return ids.pop()


@pytest.fixture
def busy_store(postgres_store: Store) -> Store:
    """The PostgreSQL store with a connection ready for each of 8 threads."""
    warm_pool(postgres_store, 8)
    return postgres_store


def test_threads_deduping_one_new_email_create_one_lead(busy_store: Store) -> None:
    def race(email: str) -> list[SyncBatchResult]:
        return at_once(8, lambda i: sync(busy_store, spec(email, attrs=one_field(i))))

    for round_no in range(4):
        email = f"race{round_no}@x.com"
        results = race(email)
        lead_id = assert_one_creation(single_statuses(results))
        with busy_store.read() as reader:
            lead = reader.newest_leads_by_email([email])[email]
            assert reader.count_leads() == round_no + 1
        assert lead.id == lead_id
        assert lead.values == dict.fromkeys(FIELDS, "v")


def test_threads_creating_one_new_foreign_id_create_one_lead(busy_store: Store) -> None:
    results = at_once(8, lambda i: sync(busy_store, spec(fsp="SF-NEW", attrs=one_field(i))))
    lead_id = assert_one_creation(single_statuses(results))
    with busy_store.read() as reader:
        assert reader.count_leads() == 1
        assert reader.leads_by_foreign_ids(["SF-NEW"])["SF-NEW"].id == lead_id


@pytest.mark.parametrize("key", ["id", "email", "fsp"])
def test_threads_updating_one_lead_lose_no_field(busy_store: Store, key: str) -> None:
    (created,) = sync(busy_store, spec("same@x.com", fsp="SF-1")).statuses

    def update(i: int) -> SyncBatchResult:
        attrs = one_field(i, f"v{i}")
        if key == "id":
            return sync(busy_store, spec(lead_id=created.lead_id, attrs=attrs))
        if key == "email":
            return sync(busy_store, spec("same@x.com", attrs=attrs))
        return sync(busy_store, spec(fsp="SF-1", attrs=attrs))

    results = at_once(8, update)
    assert single_statuses(results) == [(created.lead_id, SyncOutcome.UPDATED)] * 8
    with busy_store.read() as reader:
        lead = reader.leads_by_ids([created.lead_id])[created.lead_id]
        assert reader.count_leads() == 1
    assert lead.values == {name: f"v{i}" for i, name in enumerate(FIELDS)}


def test_processes_migrating_and_deduping_one_new_email_create_one_lead(postgres_url: str) -> None:
    # The schema is empty: every process migrates on open, at the same moment.
    threads = [[spec("proc@x.com", attrs=one_field(i))] for i in range(4)]
    calls = in_processes(postgres_url, [threads, threads, threads])
    lead_id = assert_one_creation([(lead_id, s) for call in calls for lead_id, s in call])
    store = open_store(postgres_url, migrate=False)
    try:
        with store.read() as reader:
            assert reader.count_leads() == 1
            assert reader.newest_leads_by_email(["proc@x.com"])["proc@x.com"].id == lead_id
    finally:
        store.close()
    with psycopg.connect(postgres_url) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations")]
    assert sorted(versions) == [m.version for m in load_migrations("postgres")]


def test_processes_creating_one_new_foreign_id_create_one_lead(postgres_url: str) -> None:
    threads = [[spec(fsp="SF-PROC", attrs=one_field(i))] for i in range(4)]
    calls = in_processes(postgres_url, [threads, threads])
    assert_one_creation([(lead_id, s) for call in calls for lead_id, s in call])


def test_processes_updating_one_lead_lose_no_field(postgres_store: Store) -> None:
    (created,) = sync(postgres_store, spec("shared@x.com")).statuses
    threads = [[spec(lead_id=created.lead_id, attrs=one_field(i, f"v{i}"))] for i in range(8)]
    calls = in_processes(postgres_store.url, [threads[:4], threads[4:]])
    assert [tuple(s) for call in calls for s in call] == [(created.lead_id, "UPDATED")] * 8
    with postgres_store.read() as reader:
        lead = reader.leads_by_ids([created.lead_id])[created.lead_id]
    assert lead.values == {name: f"v{i}" for i, name in enumerate(FIELDS)}
