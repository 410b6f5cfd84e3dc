"""importToList and getImportToListStatus on the wire: a bulk import job (the one REST's
``POST /bulk/v1/leads.json`` queues) of the call's header and rows into a static list."""

from __future__ import annotations

from leadsync.errors import (
    BadParameter,
    ListNotFound,
    ObjectNotFound,
    ParameterRequired,
    RestError,
)
from leadsync.jobs.files import JobFiles, bulk_root
from leadsync.jobs.kinds import IMPORT
from leadsync.mktows import xml
from leadsync.mktows.escaping import esc
from leadsync.operations import bulk_import
from leadsync.operations.fields import FieldCatalogue, catalogue_of
from leadsync.soap.handlers import CallContext, CallOutcome, operation, parse_bool
from leadsync.soap.records import child_text
from leadsync.soap.writer import success
from leadsync.store.base import Store
from leadsync.store.jobs import CANCELED, COMPLETED, FAILED, Job

_MODES = ("UPSERTLEADS", "LISTONLY")
#: At most this many rows in one call (Marketo documents no number; the bulk file cap holds).
MAX_ROWS = 100_000


def _status(job: Job) -> str:
    if job.status == COMPLETED:
        return "COMPLETE"
    if job.status == FAILED:
        return "FAILED"
    if job.status == CANCELED:
        return "CANCELED"
    return "PROCESSING"


def _rest_names(catalogue: FieldCatalogue, header: str) -> str:
    """The header's SOAP field names (``Email,FirstName``) as the REST names the import
    reads; a name the catalogue does not know stays as it is."""
    names = []
    for name in header.split(","):
        fdef = catalogue.get(name.strip())
        names.append((fdef.rest_name or fdef.name) if fdef is not None else name.strip())
    return ",".join(names)


@operation("importToList")
def import_to_list(ctx: CallContext) -> CallOutcome:
    params = ctx.request.params
    list_name = (child_text(params, "listName") or "").strip()
    if not list_name:
        raise ParameterRequired("Parameter Required: listName is missing")
    header = child_text(params, "importFileHeader")
    if not header or not header.strip():
        raise ParameterRequired("Parameter Required: importFileHeader is missing")
    rows_el = xml.child(params, "importFileRows")
    rows = [xml.text(row) or "" for row in xml.children(rows_el)] if rows_el is not None else []
    if len(rows) > MAX_ROWS:
        raise BadParameter(f"importFileRows holds {len(rows)} rows; at most {MAX_ROWS}")
    mode = (child_text(params, "importListMode") or "UPSERTLEADS").strip().upper()
    if mode not in _MODES:
        raise BadParameter(f"importListMode must be UPSERTLEADS or LISTONLY, not {mode!r}")
    catalogue = catalogue_of(ctx.store.custom_fields())
    data = "\n".join([_rest_names(catalogue, header), *rows]).encode("utf-8") + b"\n"
    if len(data) > bulk_import.MAX_FILE_BYTES:
        raise BadParameter("importFileRows holds more than 10 MB")
    request = bulk_import.ImportRequest(
        data=data,
        format="csv",
        list_name=list_name,
        program=child_text(params, "programName") or "",
        list_only=mode == "LISTONLY",
        clear_list=parse_bool(child_text(params, "clearList"), "clearList", False),
    )
    try:
        bulk_import.create_import(
            ctx.store, catalogue, JobFiles(bulk_root(ctx.settings)), request, ctx.clock
        )
    except ObjectNotFound as exc:
        raise ListNotFound(f"List Not Found: {exc.message}") from None
    except RestError as exc:
        raise BadParameter(exc.message) from None
    body = "<result><importStatus>PROCESSING</importStatus></result>"
    return CallOutcome(success("importToList", body), records=len(rows))


def latest_import(store: Store, program: str, list_name: str) -> Job | None:
    """The newest importToList job for the program and list (names compared without
    regard to case)."""
    wanted = [program.strip().casefold(), list_name.strip().casefold()]
    found = None
    after = 0
    while page := store.jobs().jobs((IMPORT,), (), after, 500):
        after = page[-1].id
        for job in page:
            names = job.params.get("soapList")
            if isinstance(names, list) and [str(n).strip().casefold() for n in names] == wanted:
                found = job
    return found


@operation("getImportToListStatus")
def get_import_to_list_status(ctx: CallContext) -> CallOutcome:
    params = ctx.request.params
    program = child_text(params, "programName") or ""
    list_name = child_text(params, "listName") or ""
    job = latest_import(ctx.store, program, list_name)
    if job is None:
        raise ListNotFound(f"List Not Found: no importToList into {list_name!r}")
    processed, failed, _warned = bulk_import.counts(job)
    parts = [f"<status>{_status(job)}</status>"]
    if job.started_at is not None:
        parts.append(f"<startedTime>{job.started_at.isoformat()}</startedTime>")
    if job.finished_at is not None:
        parts.append(f"<endedTime>{job.finished_at.isoformat()}</endedTime>")
    parts.append(f"<rowsImported>{processed}</rowsImported>")
    parts.append(f"<rowsFailed>{failed}</rowsFailed>")
    parts.append(f"<importSummary>{esc(bulk_import.message(job))}</importSummary>")
    body = "<result>" + "".join(parts) + "</result>"
    return CallOutcome(success("getImportToListStatus", body))
