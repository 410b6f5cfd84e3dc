"""Bulk lead import: ``POST /bulk/v1/leads.json`` and its batch's status, failures and
warnings."""

from __future__ import annotations

from leadsync.bulk.multipart import parse_form
from leadsync.bulk.replies import file_reply, files_of
from leadsync.errors import BlankValue, InvalidValue, ObjectNotFound
from leadsync.jobs.kinds import IMPORT
from leadsync.operations import bulk_import
from leadsync.rest.routes import RawReply, Reply, RestCall, endpoint
from leadsync.store.jobs import Job

_TOO_LARGE = RawReply(
    413, {"Content-Type": "text/plain; charset=utf-8"}, b"Request Entity Too Large\n"
)


@endpoint("POST", "/bulk/v1/leads.json")
def import_lead(call: RestCall) -> Reply | RawReply:
    request = call.request
    form = parse_form(request.content_type, request.body)

    def param(name: str) -> str | None:
        # Clients send them in the query (marketorestpython) or as fields (Adobe's example).
        found = request.param(name)
        return found if found is not None else form.fields.get(name)

    upload = form.files.get("file")
    if upload is None:
        raise BlankValue("file cannot be blank")
    data = upload[1]
    if len(data) > bulk_import.MAX_FILE_BYTES:
        return _TOO_LARGE
    job = bulk_import.create_import(
        call.store,
        call.catalogue,
        files_of(call.settings),
        bulk_import.ImportRequest(
            data=data,
            format=param("format"),
            lookup_field=param("lookupField"),
            list_id=param("listId"),
            partition=param("partitionName"),
        ),
        call.clock,
    )
    return {"result": [{"batchId": job.id, "importId": str(job.id), "status": "Queued"}]}


def _job(call: RestCall) -> Job:
    text = call.path_params["batchId"]
    if not text.isdigit() or not 0 < int(text) < 2**63:
        raise InvalidValue(f"Invalid value '{text}'. Required of type 'Integer'")
    job = call.store.jobs().get(int(text))
    if job is None or job.kind != IMPORT:
        raise ObjectNotFound(f"Import batch not found: {text}")
    return job


@endpoint("GET", "/bulk/v1/leads/batch/{batchId}.json")
def get_import_lead_status(call: RestCall) -> Reply:
    job = _job(call)
    processed, failed, warned = bulk_import.counts(job)
    return {
        "result": [
            {
                "batchId": job.id,
                "importId": str(job.id),
                "status": bulk_import.wire_status(job),
                "numOfLeadsProcessed": processed,
                "numOfRowsFailed": failed,
                "numOfRowsWithWarning": warned,
                "message": bulk_import.message(job),
            }
        ]
    }


def _rows_file(call: RestCall, name: str) -> RawReply:
    job = _job(call)
    # Only what is committed: a running job's file may hold a chunk being written.
    size = job.state.get(f"{name}_bytes")
    path = files_of(call.settings).folder(job.id) / name
    if size is None or not path.exists():
        return RawReply(200, {"Content-Type": "text/plain; charset=utf-8"})
    return file_reply(path, int(size), str(job.params.get("format", "csv")), None)


@endpoint("GET", "/bulk/v1/leads/batch/{batchId}/failures.json")
def get_import_lead_failures(call: RestCall) -> RawReply:
    return _rows_file(call, "failures")


@endpoint("GET", "/bulk/v1/leads/batch/{batchId}/warnings.json")
def get_import_lead_warnings(call: RestCall) -> RawReply:
    return _rows_file(call, "warnings")
