"""Bulk extract of leads and of activities: a job that writes what the REST reads return for
a filter to one delimited file, in id order, a page at a time (bounded memory).

The values are the REST reads' own: leads through ``rest_leads.resolve_fields`` and
``lead_values`` (``GET /rest/v1/leads.json``), activities through
``rest_activities.activity_record`` (``GET /rest/v1/activities.json``). The file is written
beside its final name and renamed once whole, so a job restarted after its process died
writes it again from the start, and a client never reads half a file.
"""

from __future__ import annotations

import csv
import hashlib
import os
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

import orjson

from leadsync.clock import Clock
from leadsync.errors import (
    BlankValue,
    FieldNotFound,
    InvalidData,
    InvalidValue,
    ObjectNotFound,
    TooManyExportJobs,
)
from leadsync.jobs.context import JobContext
from leadsync.jobs.kinds import ACTIVITIES_EXPORT, EXPORT_QUEUE, EXPORTS, LEADS_EXPORT
from leadsync.model import Value
from leadsync.operations import rest_activities, rest_leads
from leadsync.operations.activities import presented
from leadsync.operations.bulk_jobs import cancel_job
from leadsync.operations.fields import FieldCatalogue, catalogue_of
from leadsync.store.base import ActivityQuery, LeadQuery, Store
from leadsync.store.jobs import (
    CANCELED,
    COMPLETED,
    CREATED,
    FAILED,
    FINISHED,
    QUEUED,
    RUNNING,
    Job,
)

FORMATS = {"CSV": ",", "TSV": "\t", "SSV": ";"}
#: Widest createdAt/updatedAt range of one job.
MAX_RANGE = timedelta(days=31)
#: Records read, and written, at a time.
PAGE = 1000
LEAD_FILTERS = ("createdAt", "updatedAt", "staticListId", "staticListName")
#: Filters Marketo has that name things leadsync does not hold.
_UNHELD_FILTERS = ("smartListId", "smartListName")
ACTIVITY_FIELDS = (
    "marketoGUID",
    "leadId",
    "activityDate",
    "activityTypeId",
    "campaignId",
    "primaryAttributeValueId",
    "primaryAttributeValue",
    "attributes",
)
_STATUS = {
    CREATED: "Created",
    QUEUED: "Queued",
    RUNNING: "Processing",
    COMPLETED: "Completed",
    CANCELED: "Canceled",
    FAILED: "Failed",
}
_STATUS_FOLDED = {text.casefold(): status for status, text in _STATUS.items()}
_STATUS_FOLDED["cancelled"] = CANCELED


# -- creating, queueing, canceling ----------------------------------------------------------
def _date(text: Any, where: str) -> datetime:
    if not isinstance(text, str) or not text.strip():
        raise InvalidData(f"Invalid date format for {where}: give an ISO 8601 date and time")
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidData(f"Invalid date format for {where}: '{text}'") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _range(value: Any, name: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise InvalidData(f"{name} filter must be an object with startAt and endAt")
    start = _date(value.get("startAt"), f"{name}.startAt")
    end = _date(value.get("endAt"), f"{name}.endAt")
    if end < start:
        raise InvalidData(f"{name}: endAt is before startAt")
    if end - start > MAX_RANGE:
        raise InvalidData(f"{name}: the date range exceeds 31 days")
    return {"startAt": start.isoformat(), "endAt": end.isoformat()}


def _format(text: Any) -> str:
    if text is None or text == "":
        return "CSV"
    if not isinstance(text, str) or text.strip().upper() not in FORMATS:
        raise InvalidValue(f"Invalid value '{text}' for format: CSV, TSV or SSV")
    return text.strip().upper()


def _headers(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidData("columnHeaderNames must map field names to column names")
    return dict(value)


def _lead_filter(store: Store, data: dict[str, Any]) -> dict[str, Any]:
    given = [name for name in data if name in LEAD_FILTERS or name in _UNHELD_FILTERS]
    unknown = [name for name in data if name not in given]
    if unknown:
        raise InvalidData(f"Unsupported filter type: {unknown[0]}")
    if not given:
        raise BlankValue(f"filter cannot be blank: give one of {', '.join(LEAD_FILTERS)}")
    held = [name for name in given if name in _UNHELD_FILTERS]
    if held:
        raise InvalidData(f"Unsupported filter type: {held[0]} (leadsync holds no smart lists)")
    found: dict[str, Any] = {}
    for name in ("createdAt", "updatedAt"):
        if name in data:
            found[name] = _range(data[name], name)
    list_id: int | None = None
    if "staticListId" in data:
        raw = data["staticListId"]
        if isinstance(raw, bool) or not isinstance(raw, int | str) or not str(raw).isdigit():
            raise InvalidValue(f"Invalid value '{raw}'. Required of type 'Integer'")
        list_id = int(raw)
        with store.read() as reader:
            if reader.static_list(list_id=list_id) is None:
                raise ObjectNotFound(f"Static list not found: {list_id}")
    if "staticListName" in data:
        name = data["staticListName"]
        with store.read() as reader:
            found_list = reader.static_list(name=str(name)) if isinstance(name, str) else None
        if found_list is None:
            raise ObjectNotFound(f"Static list not found: {name}")
        if list_id is not None and list_id != found_list.id:
            raise InvalidData("staticListId and staticListName name different lists")
        list_id = found_list.id
    if list_id is not None:
        found["listId"] = list_id
    return found


def _activity_filter(data: dict[str, Any]) -> dict[str, Any]:
    unknown = [name for name in data if name not in ("createdAt", "activityTypeIds")]
    if unknown:
        raise InvalidData(f"Unsupported filter type: {unknown[0]}")
    if "createdAt" not in data:
        raise BlankValue("createdAt cannot be blank")
    found: dict[str, Any] = {"createdAt": _range(data["createdAt"], "createdAt")}
    if "activityTypeIds" in data:
        ids = data["activityTypeIds"]
        if not isinstance(ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in ids
        ):
            raise InvalidValue("activityTypeIds must be a list of integers")
        if len(ids) > rest_activities.MAX_TYPE_IDS:
            raise InvalidData(
                f"Too many values in activityTypeIds: at most {rest_activities.MAX_TYPE_IDS}"
            )
        found["activityTypeIds"] = ids
    return found


def create_export(
    store: Store, catalogue: FieldCatalogue, kind: str, body: dict[str, Any], clock: Clock
) -> Job:
    """A Created job for ``body`` (``fields``, ``format``, ``columnHeaderNames``,
    ``filter``), checked whole first."""
    fields = body.get("fields")
    if fields is not None and (
        not isinstance(fields, list) or not all(isinstance(f, str) for f in fields)
    ):
        raise InvalidData("fields must be a list of field names")
    filter_data = body.get("filter")
    if not isinstance(filter_data, dict):
        raise BlankValue("filter cannot be blank")
    if kind == LEADS_EXPORT:
        if not fields:
            raise BlankValue("fields cannot be blank")
        rest_leads.resolve_fields(catalogue, fields)
        checked = _lead_filter(store, filter_data)
    else:
        for name in fields or ():
            if name not in ACTIVITY_FIELDS:
                raise FieldNotFound(f"Field '{name}' not found")
        checked = _activity_filter(filter_data)
    params = {
        "fields": list(fields or ACTIVITY_FIELDS),
        "format": _format(body.get("format")),
        "columnHeaderNames": _headers(body.get("columnHeaderNames")),
        "filter": checked,
    }
    job = store.jobs().create(kind, params, clock.now(), public_id=str(uuid.uuid4()))
    assert job is not None
    return job


def enqueue_export(store: Store, job: Job, clock: Clock, daily_bytes: int) -> Job:
    """Queue a Created job: 1029 when it is queued already, the queue is full, or today's
    exports reached ``daily_bytes``."""
    if job.status != CREATED:
        raise TooManyExportJobs(f"Job {job.public_id} already queued")
    now = clock.now()
    day = datetime.combine(now.astimezone(UTC).date(), time(), UTC)
    if daily_bytes and store.jobs().exported_bytes(EXPORTS, day) >= daily_bytes:
        raise TooManyExportJobs(f"Export daily quota {daily_bytes} bytes exceeded")
    queued = store.jobs().enqueue(job.id, EXPORT_QUEUE, now)
    if queued is None:
        raise TooManyExportJobs(f"Too many jobs ({EXPORT_QUEUE.waiting}) in queue")
    return queued


def cancel_export(store: Store, job: Job, clock: Clock) -> Job:
    if job.status in FINISHED:
        return job
    return cancel_job(store, job, clock.now()) or job


def parse_statuses(texts: Sequence[str]) -> list[str]:
    statuses = []
    for text in texts:
        status = _STATUS_FOLDED.get(text.strip().casefold())
        if status is None:
            raise InvalidValue(f"Invalid value '{text}' for status")
        statuses.append(status)
    return statuses


def wire_job(job: Job) -> dict[str, Any]:
    """A job as the export endpoints describe it (Marketo's keys, nulls left out)."""
    row: dict[str, Any] = {
        "exportId": job.public_id,
        "format": job.params.get("format", "CSV"),
        # A fault rule may hold a claimed job back: it looks queued meanwhile.
        "status": "Queued" if job.state.get("stalled") else _STATUS.get(job.status, "Failed"),
        "createdAt": rest_leads.iso(job.created_at),
    }
    if job.queued_at is not None:
        row["queuedAt"] = rest_leads.iso(job.queued_at)
    if job.started_at is not None:
        row["startedAt"] = rest_leads.iso(job.started_at)
    if job.finished_at is not None and job.status in (COMPLETED, FAILED, CANCELED):
        row["finishedAt"] = rest_leads.iso(job.finished_at)
    if job.status == COMPLETED:
        row["numberOfRecords"] = int(job.state.get("records", 0))
        row["fileSize"] = job.file_size
        row["fileChecksum"] = job.file_checksum
    if job.status == FAILED:
        row["errorMsg"] = job.message or "Export failed"
    return row


# -- running the job --------------------------------------------------------------------------
def _cell(value: Value | Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return orjson.dumps(value).decode()
    return str(value)


def _lead_rows(
    store: Store, catalogue: FieldCatalogue, params: dict[str, Any]
) -> Iterator[list[list[str]]]:
    refs = rest_leads.resolve_fields(catalogue, params["fields"])
    names = [ref.rest_name for ref in refs]
    filters = params["filter"]
    updated = filters.get("updatedAt")
    created = filters.get("createdAt")
    created_from = datetime.fromisoformat(created["startAt"]) if created else None
    created_to = datetime.fromisoformat(created["endAt"]) if created else None
    after = 0
    while True:
        query = LeadQuery(
            after_id=after,
            updated_from=datetime.fromisoformat(updated["startAt"]) if updated else None,
            updated_to=datetime.fromisoformat(updated["endAt"]) if updated else None,
            list_id=filters.get("listId"),
        )
        with store.read() as reader:
            leads = reader.leads_page(query, PAGE)
        if not leads:
            return
        after = leads[-1].id
        rows = []
        for lead in leads:
            if (
                created_from is not None
                and created_to is not None
                and not created_from <= lead.created_at <= created_to
            ):
                continue
            values = rest_leads.lead_values(lead, refs)
            rows.append([_cell(values[name]) for name in names])
        yield rows


def _activity_rows(
    store: Store, catalogue: FieldCatalogue, params: dict[str, Any]
) -> Iterator[list[list[str]]]:
    filters = params["filter"]
    created = filters["createdAt"]
    type_ids = filters.get("activityTypeIds")
    types = rest_activities.type_kinds(type_ids) if type_ids else None
    if types is not None and not types:
        return
    labels = {f.display_name or f.name: f for f in catalogue.all()}
    fields = params["fields"]
    after: int | None = None
    while True:
        query = ActivityQuery(
            types=types,
            created_from=datetime.fromisoformat(created["startAt"]),
            created_to=datetime.fromisoformat(created["endAt"]),
            after_id=after,
        )
        with store.read() as reader:
            found = reader.activities(query, PAGE)
        if not found:
            return
        after = found[-1].id
        rows = []
        for activity in found:
            record = rest_activities.activity_record(presented(activity), labels)
            attributes = {item["name"]: item["value"] for item in record.pop("attributes")}
            record["attributes"] = attributes
            rows.append([_cell(record.get(name)) for name in fields])
        yield rows


def run_export(ctx: JobContext, daily_bytes: int = 0) -> None:
    job = ctx.job
    params = job.params
    catalogue = catalogue_of(ctx.store.custom_fields())
    headers = params.get("columnHeaderNames") or {}
    part = ctx.files.output(job.id, "export.part")
    final = ctx.files.output(job.id, "export")
    pages = (
        _lead_rows(ctx.store, catalogue, params)
        if job.kind == LEADS_EXPORT
        else _activity_rows(ctx.store, catalogue, params)
    )
    records = 0
    digest = hashlib.sha256()
    try:
        with open(part, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, delimiter=FORMATS[params["format"]], lineterminator="\n")
            writer.writerow([headers.get(name, name) for name in params["fields"]])
            for rows in pages:
                writer.writerows(rows)
                records += len(rows)
                # Keeps the lease, and stops here when the job was canceled.
                ctx.renew({"records": records})
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        # Canceled, stopped or failed: a resumed job writes the file again from the start.
        part.unlink(missing_ok=True)
        raise
    with open(part, "rb") as written:
        for block in iter(lambda: written.read(1024 * 1024), b""):
            digest.update(block)
    size = part.stat().st_size
    if daily_bytes:
        now = ctx.clock.now()
        day = datetime.combine(now.astimezone(UTC).date(), time(), UTC)
        if ctx.store.jobs().exported_bytes(EXPORTS, day) + size > daily_bytes:
            part.unlink(missing_ok=True)
            ctx.finish(FAILED, f"Export daily quota {daily_bytes} bytes exceeded")
            return
    os.replace(part, final)
    ctx.finish(
        COMPLETED,
        state={"records": records},
        file_size=size,
        file_checksum=digest.hexdigest(),
    )


KINDS = {"leads": LEADS_EXPORT, "activities": ACTIVITIES_EXPORT}
