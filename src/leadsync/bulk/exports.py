"""Bulk extract jobs for leads and activities: ``/bulk/v1/{leads,activities}/export/...``."""

from __future__ import annotations

from leadsync.bulk.replies import file_reply, files_of
from leadsync.errors import InvalidData, ObjectNotFound
from leadsync.jobs.kinds import ACTIVITIES_EXPORT, LEADS_EXPORT
from leadsync.operations import bulk_extract, rest_leads
from leadsync.rest.routes import RawReply, Reply, RestCall, endpoint
from leadsync.store.jobs import COMPLETED, Job

_LEADS = "/bulk/v1/leads/export"
_ACTIVITIES = "/bulk/v1/activities/export"


def _job(call: RestCall, kind: str) -> Job:
    export_id = call.path_params["exportId"]
    job = call.store.jobs().by_public_id(export_id)
    if job is None or job.kind != kind:
        raise ObjectNotFound(f"Export job not found: {export_id}")
    return job


def _one(job: Job) -> Reply:
    return {"result": [bulk_extract.wire_job(job)]}


def _create(call: RestCall, kind: str) -> Reply:
    body = call.request.json_object()
    return _one(bulk_extract.create_export(call.store, call.catalogue, kind, body, call.clock))


def _enqueue(call: RestCall, kind: str) -> Reply:
    job = bulk_extract.enqueue_export(
        call.store, _job(call, kind), call.clock, call.settings.bulk_export_daily_bytes
    )
    return _one(job)


def _status(call: RestCall, kind: str) -> Reply:
    return _one(_job(call, kind))


def _cancel(call: RestCall, kind: str) -> Reply:
    return _one(bulk_extract.cancel_export(call.store, _job(call, kind), call.clock))


def _file(call: RestCall, kind: str) -> RawReply:
    job = _job(call, kind)
    if job.status != COMPLETED or job.file_size is None:
        status = bulk_extract.wire_job(job)["status"]
        raise InvalidData(f"Export file not available: job {job.public_id} is {status}")
    path = files_of(call.settings).folder(job.id) / "export"
    if not path.exists():
        raise InvalidData(f"Export file of job {job.public_id} is no longer kept")
    return file_reply(path, job.file_size, str(job.params["format"]), call.request.range_header)


def _list(call: RestCall, kind: str) -> Reply:
    request = call.request
    statuses = bulk_extract.parse_statuses(request.values("status"))
    size = rest_leads.batch_size(request.param("batchSize"))
    after = rest_leads.decode_page_token(request.param("nextPageToken"))
    jobs = call.store.jobs().jobs((kind,), statuses, after, size + 1)
    page = jobs[:size]
    reply: Reply = {"result": [bulk_extract.wire_job(job) for job in page]}
    if len(jobs) > size and page:
        reply["nextPageToken"] = rest_leads.encode_page_token(page[-1].id)
    return reply


# -- leads ----------------------------------------------------------------------------------
@endpoint("POST", f"{_LEADS}/create.json")
def create_export_leads(call: RestCall) -> Reply:
    return _create(call, LEADS_EXPORT)


@endpoint("POST", _LEADS + "/{exportId}/enqueue.json")
def enqueue_export_leads(call: RestCall) -> Reply:
    return _enqueue(call, LEADS_EXPORT)


@endpoint("GET", _LEADS + "/{exportId}/status.json")
def get_export_leads_status(call: RestCall) -> Reply:
    return _status(call, LEADS_EXPORT)


@endpoint("POST", _LEADS + "/{exportId}/cancel.json")
def cancel_export_leads(call: RestCall) -> Reply:
    return _cancel(call, LEADS_EXPORT)


@endpoint("GET", _LEADS + "/{exportId}/file.json")
def get_export_leads_file(call: RestCall) -> RawReply:
    return _file(call, LEADS_EXPORT)


@endpoint("GET", "/bulk/v1/leads/export.json")
def get_export_leads(call: RestCall) -> Reply:
    return _list(call, LEADS_EXPORT)


# -- activities -----------------------------------------------------------------------------
@endpoint("POST", f"{_ACTIVITIES}/create.json")
def create_export_activities(call: RestCall) -> Reply:
    return _create(call, ACTIVITIES_EXPORT)


@endpoint("POST", _ACTIVITIES + "/{exportId}/enqueue.json")
def enqueue_export_activities(call: RestCall) -> Reply:
    return _enqueue(call, ACTIVITIES_EXPORT)


@endpoint("GET", _ACTIVITIES + "/{exportId}/status.json")
def get_export_activities_status(call: RestCall) -> Reply:
    return _status(call, ACTIVITIES_EXPORT)


@endpoint("POST", _ACTIVITIES + "/{exportId}/cancel.json")
def cancel_export_activities(call: RestCall) -> Reply:
    return _cancel(call, ACTIVITIES_EXPORT)


@endpoint("GET", _ACTIVITIES + "/{exportId}/file.json")
def get_export_activities_file(call: RestCall) -> RawReply:
    return _file(call, ACTIVITIES_EXPORT)


@endpoint("GET", "/bulk/v1/activities/export.json")
def get_export_activities(call: RestCall) -> Reply:
    return _list(call, ACTIVITIES_EXPORT)
