"""marketorestpython 0.5.25, unmodified but for its host, drives bulk import and both bulk
extracts from start to finish against a real server process on each backend (its job
runner in the background, as in production)."""

from __future__ import annotations

import csv
import io
import time
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from marketorestpython.client import MarketoClient

from backends import BACKENDS, postgres_database, skip_postgres
from leadsync.testing import LeadsyncServer, start_server


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LeadsyncServer]:
    folder = tmp_path_factory.mktemp("bulk-mrp")
    flags = ("--bulk-dir", str(folder / "jobs"))
    if request.param == "sqlite":
        started = start_server(folder, *flags)
        try:
            yield started
        finally:
            started.stop()
        return
    if skip_postgres():
        pytest.skip("LEADSYNC_TEST_SKIP_POSTGRES=1")
    with postgres_database() as url:
        started = start_server(folder, *flags, database_url=url)
        try:
            yield started
        finally:
            started.stop()


@pytest.fixture
def mc(server: LeadsyncServer) -> MarketoClient:
    server.reset()
    client = MarketoClient("123-ABC-456", server.client_id, server.client_secret)
    client.host = server.base_url
    return client


def until(check: Callable[[], dict[str, Any]], done: tuple[str, ...]) -> dict[str, Any]:
    """Poll as a client does, until the job's status is one of ``done``."""
    deadline = time.monotonic() + 30
    while True:
        found = check()
        if found["status"] in done or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_import_status_failures_and_warnings(mc: MarketoClient, tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(
        b'email,firstName,shoeSize\r\nok@x.com,"Ok, ""fine""",\r\nbad,Bad,\r\nw@x.com,W,44\r\n'
    )
    with warnings.catch_warnings():
        # marketorestpython opens the file it uploads and never closes it.
        warnings.simplefilter("ignore", ResourceWarning)
        [queued] = mc.execute(
            method="import_lead", file=str(path), format="csv", lookupField="email"
        )
    assert queued["status"] == "Queued"
    batch = queued["batchId"]

    def status() -> dict[str, Any]:
        result: dict[str, Any] = mc.execute(method="get_import_lead_status", id=batch)[0]
        return result

    done = until(status, ("Complete", "Failed"))
    assert done["status"] == "Complete"
    assert (done["numOfLeadsProcessed"], done["numOfRowsFailed"]) == (2, 1)
    assert done["numOfRowsWithWarning"] == 1
    assert done["message"] == (
        "Import completed with errors, 2 records imported (2 members), 1 failed, 1 warning."
    )
    failures = mc.execute(method="get_import_failure_file", id=batch)
    assert failures == (
        "email,firstName,shoeSize,Import Failure Reason\n"
        "bad,Bad,,Invalid value for field 'email' and value 'bad'\n"
    )
    warned = mc.execute(method="get_import_warning_file", id=batch)
    assert warned == (
        "email,firstName,shoeSize,Import Warning Reason\n"
        "w@x.com,W,44,\"Field 'shoeSize' not found, its value was ignored\"\n"
    )
    [lead] = mc.execute(
        method="get_multiple_leads_by_filter_type",
        filterType="email",
        filterValues=["ok@x.com"],
        fields=["firstName"],
    )
    assert lead["firstName"] == 'Ok, "fine"'


def _window() -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "startAt": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "endAt": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def test_lead_and_activity_extracts(mc: MarketoClient) -> None:
    created = mc.execute(
        method="create_update_leads",
        leads=[{"email": f"e{i}@x.com", "firstName": f"E{i}"} for i in range(5)],
        action="createOrUpdate",
        lookupField="email",
    )
    ids = [row["id"] for row in created]
    [job] = mc.execute(
        method="create_leads_export_job",
        fields=["id", "email", "firstName"],
        filters={"createdAt": _window()},
    )
    export_id = job["exportId"]
    mc.execute(method="enqueue_leads_export_job", job_id=export_id)

    def lead_status() -> dict[str, Any]:
        result: dict[str, Any] = mc.execute(method="get_leads_export_job_status", job_id=export_id)[
            0
        ]
        return result

    done = until(lead_status, ("Completed", "Failed", "Canceled"))
    assert done["status"] == "Completed"
    content = mc.execute(method="get_leads_export_job_file", job_id=export_id)
    rows = list(csv.reader(io.StringIO(content.decode(), newline="")))
    assert rows == [["id", "email", "firstName"]] + [
        [str(lead_id), f"e{i}@x.com", f"E{i}"] for i, lead_id in enumerate(ids)
    ]
    assert done["fileSize"] == len(content)
    listed = mc.execute(method="get_leads_export_jobs_list")
    assert export_id in [row["exportId"] for row in listed]

    [activity_job] = mc.execute(
        method="create_activities_export_job",
        filters={"createdAt": _window(), "activityTypeIds": [12]},
    )
    activity_id = activity_job["exportId"]
    mc.execute(method="enqueue_activities_export_job", job_id=activity_id)

    def activity_status() -> dict[str, Any]:
        result: dict[str, Any] = mc.execute(
            method="get_activities_export_job_status", job_id=activity_id
        )[0]
        return result

    assert until(activity_status, ("Completed", "Failed"))["status"] == "Completed"
    activities = mc.execute(method="get_activities_export_job_file", job_id=activity_id)
    found = list(csv.DictReader(io.StringIO(activities.decode(), newline="")))
    assert sorted(int(row["leadId"]) for row in found) == sorted(ids)
    assert {row["activityTypeId"] for row in found} == {"12"}

    [canceled_job] = mc.execute(
        method="create_leads_export_job", fields=["id"], filters={"createdAt": _window()}
    )
    [canceled] = mc.execute(method="cancel_leads_export_job", job_id=canceled_job["exportId"])
    assert canceled["status"] == "Canceled"
