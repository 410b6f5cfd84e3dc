"""Bulk extract of leads and activities: the job's life, its filters, its file."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
from bulkapp import Bulk, bulk_on

from leadsync.config import Settings
from leadsync.jobs.kinds import QUEUES
from leadsync.store.base import Store

LEADS = "/bulk/v1/leads/export"
ACTIVITIES = "/bulk/v1/activities/export"


def sync(bulk: Bulk, *records: dict[str, Any]) -> list[int]:
    body = bulk.rest.ok(bulk.rest.post("/rest/v1/leads.json", json={"input": list(records)}))
    return [row["id"] for row in body["result"]]


def window(bulk: Bulk, days: int = 1) -> dict[str, str]:
    now = bulk.rest.clock.now()
    return {
        "startAt": (now - timedelta(days=days)).isoformat(),
        "endAt": (now + timedelta(hours=1)).isoformat(),
    }


def create(bulk: Bulk, base: str, body: dict[str, Any]) -> str:
    answer = bulk.rest.ok(bulk.rest.post(f"{base}/create.json", json=body))
    row = answer["result"][0]
    assert row["status"] == "Created"
    export_id: str = row["exportId"]
    return export_id


def status(bulk: Bulk, base: str, export_id: str) -> dict[str, Any]:
    body = bulk.rest.ok(bulk.rest.get(f"{base}/{export_id}/status.json"))
    result: dict[str, Any] = body["result"][0]
    return result


def export(bulk: Bulk, base: str, body: dict[str, Any]) -> tuple[str, bytes]:
    export_id = create(bulk, base, body)
    queued = bulk.rest.ok(bulk.rest.post(f"{base}/{export_id}/enqueue.json"))
    assert queued["result"][0]["status"] == "Queued"
    bulk.run()
    answer = bulk.rest.get(f"{base}/{export_id}/file.json")
    assert answer.status_code == 200
    return export_id, answer.content


def test_a_lead_export_holds_what_the_rest_reads_return(bulk: Bulk) -> None:
    ids = sync(
        bulk,
        {"email": "a@x.com", "firstName": "Ann"},
        {"email": "b@x.com", "firstName": 'B, "the" second'},
        {"email": "c@x.com", "firstName": "Chlo\u00eb\nNewline"},
    )
    fields = ["id", "email", "firstName", "updatedAt"]
    body = {"fields": fields, "format": "CSV", "filter": {"updatedAt": window(bulk)}}
    export_id, content = export(bulk, LEADS, body)
    rows = list(csv.reader(io.StringIO(content.decode(), newline="")))
    assert rows[0] == fields
    for lead_id, row in zip(ids, rows[1:], strict=True):
        read = bulk.rest.ok(
            bulk.rest.get(f"/rest/v1/lead/{lead_id}.json", params={"fields": ",".join(fields)})
        )["result"][0]
        assert row == [str(read[name]) for name in fields]
    done = status(bulk, LEADS, export_id)
    assert done["status"] == "Completed"
    assert done["numberOfRecords"] == 3
    assert done["fileSize"] == len(content)
    assert done["fileChecksum"] == hashlib.sha256(content).hexdigest()
    assert {"createdAt", "queuedAt", "startedAt", "finishedAt"} <= set(done)


def test_the_file_honours_range(bulk: Bulk) -> None:
    sync(bulk, {"email": "a@x.com"})
    export_id, content = export(
        bulk, LEADS, {"fields": ["email"], "filter": {"createdAt": window(bulk)}}
    )
    url = f"{LEADS}/{export_id}/file.json"
    part = bulk.rest.get(url, headers={"Range": "bytes=2-5"})
    assert part.status_code == 206
    assert part.content == content[2:6]
    assert part.headers["content-range"] == f"bytes 2-5/{len(content)}"
    assert bulk.rest.get(url, headers={"Range": "bytes=3-"}).content == content[3:]
    assert bulk.rest.get(url, headers={"Range": "bytes=-4"}).content == content[-4:]
    assert bulk.rest.get(url, headers={"Range": "bytes=999-"}).status_code == 416


def test_lead_filters(bulk: Bulk) -> None:
    store = bulk.rest.store
    members = store.add_static_list("Members")
    ids = sync(bulk, {"email": "in@x.com"}, {"email": "out@x.com"})
    bulk.rest.ok(
        bulk.rest.post(f"/rest/v1/lists/{members.id}/leads.json", json={"input": [{"id": ids[0]}]})
    )
    _, by_name = export(bulk, LEADS, {"fields": ["email"], "filter": {"staticListName": "members"}})
    assert by_name == b"email\nin@x.com\n"
    _, by_id = export(
        bulk, LEADS, {"fields": ["email"], "format": "TSV", "filter": {"staticListId": members.id}}
    )
    assert by_id == b"email\nin@x.com\n"
    old = {"startAt": "2020-01-01T00:00:00Z", "endAt": "2020-01-20T00:00:00Z"}
    _, none = export(bulk, LEADS, {"fields": ["email"], "filter": {"createdAt": old}})
    assert none == b"email\n"
    _, renamed = export(
        bulk,
        LEADS,
        {
            "fields": ["email"],
            "columnHeaderNames": {"email": "Email Address"},
            "filter": {"updatedAt": window(bulk)},
        },
    )
    assert renamed == b"Email Address\nin@x.com\nout@x.com\n"


def test_create_errors(bulk: Bulk) -> None:
    rest = bulk.rest

    def code(body: dict[str, Any], base: str = LEADS) -> str:
        return rest.error(rest.post(f"{base}/create.json", json=body))

    too_wide = {"startAt": "2026-01-01T00:00:00Z", "endAt": "2026-02-02T00:00:00Z"}
    assert code({"fields": ["email"], "filter": {"createdAt": too_wide}}) == "1003"
    assert code({"fields": ["email"], "filter": {"smartListId": 1}}) == "1003"
    assert code({"fields": ["shoeSize"], "filter": {"createdAt": window(bulk)}}) == "1006"
    assert code({"fields": ["email"], "filter": {"staticListId": 999}}) == "1013"
    assert code({"fields": ["email"]}) == "701"
    xml = {"fields": ["email"], "format": "XML", "filter": {"createdAt": window(bulk)}}
    assert code(xml) == "1001"
    bad_date = {"startAt": "yesterday", "endAt": "2026-01-02T00:00:00Z"}
    assert code({"filter": {"createdAt": bad_date}}, ACTIVITIES) == "1003"
    assert code({"filter": {"activityTypeIds": [12]}}, ACTIVITIES) == "701"
    assert rest.error(rest.get(f"{LEADS}/no-such-job/status.json")) == "1013"


def test_queue_limits_and_cancel(bulk: Bulk) -> None:
    body = {"fields": ["email"], "filter": {"createdAt": window(bulk)}}
    ids = [create(bulk, LEADS, body) for _ in range(11)]
    for export_id in ids[:10]:
        bulk.rest.ok(bulk.rest.post(f"{LEADS}/{export_id}/enqueue.json"))
    assert bulk.rest.error(bulk.rest.post(f"{LEADS}/{ids[10]}/enqueue.json")) == "1029"
    assert bulk.rest.error(bulk.rest.post(f"{LEADS}/{ids[0]}/enqueue.json")) == "1029"
    jobs = bulk.rest.store.jobs()
    now = bulk.rest.clock.now()
    claimed = [jobs.claim(QUEUES, f"owner{i}", now, now + timedelta(minutes=5)) for i in range(3)]
    assert [job is not None for job in claimed] == [True, True, False]
    assert status(bulk, LEADS, ids[0])["status"] == "Processing"
    canceled = bulk.rest.ok(bulk.rest.post(f"{LEADS}/{ids[0]}/cancel.json"))
    assert canceled["result"][0]["status"] == "Canceled"
    bulk.rest.ok(bulk.rest.post(f"{LEADS}/{ids[10]}/enqueue.json"))
    listed = bulk.rest.ok(bulk.rest.get(f"{LEADS[: -len('/export')]}/export.json"))
    assert [row["exportId"] for row in listed["result"]] == ids
    only = bulk.rest.ok(
        bulk.rest.get("/bulk/v1/leads/export.json", params={"status": "canceled,processing"})
    )
    assert [row["status"] for row in only["result"]] == ["Canceled", "Processing"]
    first = claimed[0]
    assert first is not None
    # Its runner finds out at its next write, and stops.
    assert bulk.rest.store.jobs().renew(first.id, "owner0", now) is False


def test_the_daily_export_volume_is_limited(store: Store, tmp_path: Path) -> None:
    settings = Settings(bulk_dir=str(tmp_path / "jobs"), bulk_export_daily_bytes=26)
    for bulk in bulk_on(store, tmp_path / "jobs", settings):
        sync(bulk, {"email": "someone@example.com"})
        body = {"fields": ["email"], "filter": {"createdAt": window(bulk)}}
        _, content = export(bulk, LEADS, body)
        assert len(content) == 26
        both_days = {
            **window(bulk),
            "endAt": (bulk.rest.clock.now() + timedelta(days=2)).isoformat(),
        }
        second = create(bulk, LEADS, {"fields": ["email"], "filter": {"createdAt": both_days}})
        refused = bulk.rest.post(f"{LEADS}/{second}/enqueue.json")
        assert bulk.rest.error(refused) == "1029"
        assert "Export daily quota" in refused.json()["errors"][0]["message"]
        bulk.rest.clock.advance(timedelta(days=1))
        bulk.rest.authenticate()
        bulk.rest.ok(bulk.rest.post(f"{LEADS}/{second}/enqueue.json"))
        sync(bulk, {"email": "another@example.com"})
        bulk.run()
        failed = status(bulk, LEADS, second)
        assert failed["status"] == "Failed"
        assert "Export daily quota" in failed["errorMsg"]


def test_an_activity_export(bulk: Bulk) -> None:
    ids = sync(bulk, {"email": "a@x.com", "firstName": "Ann"})
    sync(bulk, {"email": "a@x.com", "firstName": "Anne"})
    body = {"format": "CSV", "filter": {"createdAt": window(bulk), "activityTypeIds": [12, 13]}}
    export_id, content = export(bulk, ACTIVITIES, body)
    rows = list(csv.DictReader(io.StringIO(content.decode(), newline="")))
    read = bulk.rest.ok(
        bulk.rest.get(
            "/rest/v1/activities.json",
            params={
                "activityTypeIds": "12,13",
                "nextPageToken": bulk.rest.ok(
                    bulk.rest.get(
                        "/rest/v1/activities/pagingtoken.json",
                        params={"sinceDatetime": window(bulk)["startAt"]},
                    )
                )["nextPageToken"],
            },
        )
    )["result"]
    assert [row["marketoGUID"] for row in rows] == [one["marketoGUID"] for one in read]
    assert [int(row["leadId"]) for row in rows] == [ids[0]] * len(read)
    for row, one in zip(rows, read, strict=True):
        attributes = {item["name"]: item["value"] for item in one["attributes"]}
        assert orjson.loads(row["attributes"]) == attributes
        assert row["activityTypeId"] == str(one["activityTypeId"])
    new_leads = {"filter": {"createdAt": window(bulk), "activityTypeIds": [12]}}
    assert export(bulk, ACTIVITIES, new_leads)[1].count(b"\n") == 2
    assert status(bulk, ACTIVITIES, export_id)["numberOfRecords"] == len(read)
