"""Bulk jobs in real server processes: kill -9 during an import and during an extract, then
a restart (nothing lost or doubled, no job left hanging); PostgreSQL with two workers (two
imports at once, a third queued, each run once)."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from backends import postgres_database
from leadsync.operations.identity import create_service
from leadsync.store import open_store
from leadsync.store.base import ActivityQuery
from support import Server, running_server

CLIENT_ID = "bulk-server-tests"
CLIENT_SECRET = "bulk-server-tests-secret-0123456789"


def add_service(database_url: str) -> None:
    store = open_store(database_url)
    try:
        create_service(store, "tests", datetime.now(UTC), CLIENT_ID, CLIENT_SECRET)
    finally:
        store.close()


@contextmanager
def serve(tmp: Path, database_url: str, *flags: str, first: bool = True) -> Iterator[Server]:
    with running_server(
        tmp,
        "--bulk-dir",
        str(tmp / "jobs"),
        *flags,
        database_url=database_url,
        users=() if not first else (("bulk_user", "bulk-key-0123456789"),),
    ) as server:
        yield server


_TOKENS: dict[tuple[str, str], dict[str, str]] = {}


def token(server: Server) -> dict[str, str]:
    """A bearer header, asked for once per server process as clients do (a token lasts an
    hour), not on every poll."""
    key = (server.base_url, str(server.process.pid))
    header = _TOKENS.get(key)
    if header is None:
        answer = server.http.get(
            server.base_url + "/identity/oauth/token",
            params={
                "grant_type": "client_credentials",
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            },
        )
        body = answer.json()
        assert "access_token" in body, (answer.status_code, body)
        header = _TOKENS[key] = {"Authorization": f"Bearer {body['access_token']}"}
    return header


def ok(answer: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = answer.json()
    assert body["success"] is True, body
    return body


def upload(server: Server, data: bytes) -> int:
    body = ok(
        server.http.post(
            server.base_url + "/bulk/v1/leads.json",
            params={"format": "csv"},
            files={"file": ("leads.csv", data, "text/csv")},
            headers=token(server),
        )
    )
    batch: int = body["result"][0]["batchId"]
    return batch


def import_status(server: Server, batch: int) -> dict[str, Any]:
    url = f"{server.base_url}/bulk/v1/leads/batch/{batch}.json"
    result: dict[str, Any] = ok(server.http.get(url, headers=token(server)))["result"][0]
    return result


def poll(
    check: Callable[[], dict[str, Any]], until: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        found = check()
        if until(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def rows(count: int, start: int = 0) -> bytes:
    lines = [f"k{i}@x.com,F{i},L{i}" for i in range(start, start + count)]
    return ("email,firstName,lastName\n" + "\n".join(lines) + "\n").encode()


def kill9(server: Server) -> None:
    server.process.kill()
    server.process.wait()


def test_kill_9_during_an_import_then_a_restart_loses_and_doubles_nothing(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 'leadsync.db'}"
    total = 60_000
    with serve(tmp_path, db) as server:
        add_service(db)
        batch = upload(server, rows(total))
        seen = poll(lambda: import_status(server, batch), lambda s: s["numOfLeadsProcessed"] > 0)
        kill9(server)
    assert seen["status"] == "Importing"
    assert 0 < seen["numOfLeadsProcessed"] < total
    with serve(tmp_path, db, first=False) as server:
        done = poll(lambda: import_status(server, batch), lambda s: s["status"] != "Importing")
        assert done["status"] == "Complete", done
        assert (done["numOfLeadsProcessed"], done["numOfRowsFailed"]) == (total, 0)
    store = open_store(db)
    try:
        with store.read() as reader:
            assert reader.count_leads() == total
            new = reader.count_activities(ActivityQuery(types=frozenset({"NewLead"})))
        assert new == total
        job = store.jobs().get(batch)
        assert job is not None
        assert job.attempts == 2
    finally:
        store.close()


def _export_status(server: Server, export_id: str) -> dict[str, Any]:
    url = f"{server.base_url}/bulk/v1/leads/export/{export_id}/status.json"
    result: dict[str, Any] = ok(server.http.get(url, headers=token(server)))["result"][0]
    return result


def test_kill_9_during_an_extract_then_a_restart_writes_the_file_once(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'leadsync.db'}"
    total = 40_000
    now = datetime.now(UTC)
    window = {
        "startAt": (now - timedelta(days=1)).isoformat(),
        "endAt": (now + timedelta(days=1)).isoformat(),
    }
    with serve(tmp_path, db, "--bulk-threads", "1") as server:
        add_service(db)
        batch = upload(server, rows(total))
        poll(lambda: import_status(server, batch), lambda s: s["status"] == "Complete")
        body = {"fields": ["id", "email"], "filter": {"createdAt": window}}
        base = server.base_url + "/bulk/v1/leads/export"
        created = ok(server.http.post(f"{base}/create.json", json=body, headers=token(server)))
        export_id = created["result"][0]["exportId"]
        ok(server.http.post(f"{base}/{export_id}/enqueue.json", headers=token(server)))
        seen = poll(lambda: _export_status(server, export_id), lambda s: s["status"] != "Queued")
        kill9(server)
    assert seen["status"] == "Processing"
    with serve(tmp_path, db, first=False) as server:
        done = poll(lambda: _export_status(server, export_id), lambda s: s["status"] == "Completed")
        assert done["status"] == "Completed", done
        url = f"{server.base_url}/bulk/v1/leads/export/{export_id}/file.json"
        content = server.http.get(url, headers=token(server)).content
    found = list(csv.reader(io.StringIO(content.decode(), newline="")))
    ids = [int(row[0]) for row in found[1:]]
    assert len(ids) == total
    assert ids == sorted(set(ids))
    assert done["fileSize"] == len(content)


def test_two_postgres_workers_run_two_imports_at_once_and_each_once(tmp_path: Path) -> None:
    with postgres_database() as db:
        hold = ("--inject", "op=importLeadJob,delay=1500ms", "--workers", "2")
        with serve(tmp_path, db, *hold) as server:
            add_service(db)
            batches = [upload(server, rows(100, start=i * 100)) for i in range(3)]
            store = open_store(db)
            try:
                most_running = 0
                two_and_one_waiting = False
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    statuses = [job.status for job in store.jobs().jobs()]
                    most_running = max(most_running, statuses.count("running"))
                    if statuses == ["completed"] * 3:
                        break
                    if statuses.count("running") == 2 and statuses.count("queued") == 1:
                        two_and_one_waiting = True
                    time.sleep(0.02)
                assert most_running == 2
                assert two_and_one_waiting
                for batch in batches:
                    job = store.jobs().get(batch)
                    assert job is not None
                    assert (job.status, job.attempts) == ("completed", 1)
                    assert import_status(server, batch)["numOfLeadsProcessed"] == 100
                with store.read() as reader:
                    assert reader.count_leads() == 300
            finally:
                store.close()
