"""The Jobs page: bulk imports (REST's and SOAP's importToList) and exports, their progress,
and canceling one. What a job's status and progress mean is the bulk operations' to say
(``bulk_import``, ``bulk_extract``); this page only lays them out."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from leadsync.console.pages import _int, _query, _size
from leadsync.console.web import Page, PageHandler, Redirect, Rendered
from leadsync.jobs.kinds import ACTIVITIES_EXPORT, IMPORT, LEADS_EXPORT
from leadsync.operations import bulk_extract, bulk_import
from leadsync.operations.bulk_jobs import cancel_job
from leadsync.store.base import Store
from leadsync.store.jobs import CANCELED, COMPLETED, CREATED, FAILED, FINISHED, QUEUED, RUNNING, Job

PAGE_SIZE = 50
KINDS = {
    IMPORT: "Lead import",
    LEADS_EXPORT: "Lead extract",
    ACTIVITIES_EXPORT: "Activity extract",
}
STATUSES = (CREATED, QUEUED, RUNNING, COMPLETED, FAILED, CANCELED)


class JobPages:
    def __init__(self, store: Store, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    def table(self) -> dict[str, tuple[PageHandler, list[str]]]:
        return {
            "/jobs": (self.jobs, ["GET"]),
            "/jobs/{job_id:int}": (self.job, ["GET", "POST"]),
        }

    def jobs(self, page: Page) -> Rendered:
        q = page.query
        errors: list[str] = []
        kind = q.get("kind", "").strip()
        status = q.get("status", "").strip()
        if kind and kind not in KINDS:
            errors.append(f"No kind of job {kind!r}.")
        if status and status not in STATUSES:
            errors.append(f"No job status {status!r}.")
        before = _int(q.get("before"), "page", errors)
        found: list[Job] = []
        if not errors:
            found = self._newest((kind,) if kind else (), (status,) if status else (), before)
        more = len(found) > PAGE_SIZE
        found = found[:PAGE_SIZE]
        filters = {k: v for k, v in q.items() if k in ("kind", "status") and v}
        return Rendered(
            "jobs.html",
            {
                "title": "Jobs",
                "jobs": [job_row(job) for job in found],
                "q": q,
                "errors": errors,
                "kinds": KINDS,
                "statuses": STATUSES,
                "next": _query({**filters, "before": str(found[-1].id)}) if more else None,
                "first": _query(filters) if before is not None else None,
            },
        )

    def _newest(
        self, kinds: Sequence[str], statuses: Sequence[str], before: int | None
    ) -> list[Job]:
        """Up to ``PAGE_SIZE + 1`` jobs below ``before``, newest first (one more than a page
        says whether there is a next one)."""
        return self.store.jobs().newest(kinds, statuses, before, PAGE_SIZE + 1)

    def job(self, page: Page) -> Rendered | Redirect:
        job_id: int = page.path_params["job_id"]
        # A path's number may be any length; ids fit in 63 bits.
        found = self.store.jobs().get(job_id) if job_id < 2**63 else None
        if found is None:
            return Rendered("missing.html", {"title": "Job", "what": f"job {job_id}"}, 404)
        if page.method == "POST":
            return self._cancel(found, page.form.get("action", ""))
        return Rendered("job.html", {"title": f"Job {job_id}", "job": job_row(found)})

    def _cancel(self, job: Job, action: str) -> Redirect:
        here = f"/console/jobs/{job.id}"
        if action != "cancel":
            return Redirect(here, "Unknown action.")
        if job.status in FINISHED:
            return Redirect(here, f"Job {job.id} has ended already.")
        # What ``leadsync jobs cancel`` does: a running job's runner stops at its next write.
        at = datetime.fromtimestamp(self.clock(), UTC)
        after = cancel_job(self.store, job, at)
        if after is None or after.status != CANCELED:
            return Redirect(here, f"Job {job.id} has ended already.")
        return Redirect(here, f"Job {job.id} canceled.")


def job_row(job: Job) -> dict[str, Any]:
    """A job as the pages show it: the API's own status and figures beside the store's."""
    row: dict[str, Any] = {
        "id": job.id,
        "name": job.public_id or str(job.id),
        "kind": KINDS.get(job.kind, job.kind),
        "is_import": job.kind == IMPORT,
        "origin": _origin(job),
        "status": job.status,
        "cancelable": job.status not in FINISHED,
        "created": _when(job.created_at),
        "queued": _when(job.queued_at),
        "started": _when(job.started_at),
        "finished": _when(job.finished_at) if job.status in FINISHED else "",
        "owner": job.owner or "",
        "lease_until": _when(job.lease_until) if job.status == RUNNING else "",
        "attempts": job.attempts,
        "file": (job.file_size, job.file_checksum) if job.file_size is not None else None,
        "params": _params(job),
    }
    if job.kind == IMPORT:
        processed, failed, warned = bulk_import.counts(job)
        size = int(job.params.get("bytes", 0))
        read = size if job.status == COMPLETED else int(job.state.get("offset", 0))
        row.update(
            api_status=bulk_import.wire_status(job),
            message=bulk_import.message(job),
            processed=processed,
            failed=failed,
            warned=warned,
            progress=f"{processed} imported, {failed} failed, {warned} warnings",
            read=f"{_size(read)} of {_size(size)}" if size else "",
        )
    else:
        wire = bulk_extract.wire_job(job)
        records = int(job.state.get("records", 0))
        progress = f"{records} records"
        if job.file_size is not None:
            progress += f", {_size(job.file_size)}"
        row.update(
            api_status=str(wire["status"]),
            message=str(wire.get("errorMsg", ""))
            or (job.message if job.status == CANCELED else ""),
            records=records,
            progress=progress,
            read="",
        )
    return row


def _origin(job: Job) -> str:
    if job.kind == IMPORT and "soapList" in job.params:
        program, name = job.params["soapList"]
        return f"SOAP importToList into {name}" + (f" ({program})" if program else "")
    if job.kind == IMPORT:
        return "REST bulk import"
    return "REST bulk extract"


def _params(job: Job) -> list[tuple[str, str]]:
    """The request's settings worth reading (not the upload's file name on the server)."""
    shown: list[tuple[str, str]] = []
    for key, value in job.params.items():
        if key in ("upload", "soapList") or value is None or value == {} or value == []:
            continue
        if key == "bytes":
            shown.append(("file size", _size(int(value))))
        elif isinstance(value, list):
            shown.append((key, ", ".join(str(v) for v in value)))
        elif isinstance(value, dict):
            shown.append((key, json.dumps(value, separators=(", ", ": "))))
        else:
            shown.append((key, str(value)))
    return shown


def _when(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if at is not None else ""
