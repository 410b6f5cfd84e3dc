"""``leadsync jobs``: bulk import and export jobs, their progress, and canceling one."""

from __future__ import annotations

import click

from leadsync.cli import database_option, main
from leadsync.cli.common import store_for
from leadsync.clock import SYSTEM_CLOCK
from leadsync.jobs.kinds import IMPORT
from leadsync.operations import bulk_extract, bulk_import, bulk_jobs
from leadsync.operations.rest_leads import iso
from leadsync.store.base import Store
from leadsync.store.jobs import Job

_KINDS = {"import": IMPORT, "leads": "leads_export", "activities": "activities_export"}


def _status(job: Job) -> str:
    if job.kind == IMPORT:
        return bulk_import.wire_status(job)
    return str(bulk_extract.wire_job(job)["status"])


def _progress(job: Job) -> str:
    if job.kind == IMPORT:
        processed, failed, warned = bulk_import.counts(job)
        return f"{processed} imported, {failed} failed, {warned} warned"
    return f"{int(job.state.get('records', 0))} records"


def _name(job: Job) -> str:
    """What clients call it: the batch id of an import, the export id of an export."""
    return job.public_id or str(job.id)


def _find(store: Store, name: str) -> Job:
    job = store.jobs().get(int(name)) if name.isdigit() else store.jobs().by_public_id(name)
    if job is None:
        raise click.ClickException(f"no bulk job {name}")
    return job


@main.group("jobs")
def jobs() -> None:
    """Bulk import and export jobs (docs/rest.md, "Bulk API")."""


@jobs.command("list")
@click.option(
    "--kind", type=click.Choice(sorted(_KINDS)), help="Only imports, or lead or activity exports."
)
@click.option("--status", "statuses", multiple=True, help="Only jobs in this status (repeatable).")
@database_option
def list_jobs(kind: str | None, statuses: tuple[str, ...], database_url: str | None) -> None:
    """List jobs, oldest first: id, kind, status, progress, created at, tab-separated."""
    wanted = {status.casefold() for status in statuses}
    store = store_for(database_url)
    try:
        after = 0
        while page := store.jobs().jobs((_KINDS[kind],) if kind else (), (), after, 500):
            after = page[-1].id
            for job in page:
                status = _status(job)
                if wanted and status.casefold() not in wanted:
                    continue
                click.echo(
                    f"{_name(job)}\t{job.kind}\t{status}\t{_progress(job)}\t{iso(job.created_at)}"
                )
    finally:
        store.close()


@jobs.command("show")
@click.argument("job_id", metavar="ID")
@database_option
def show_job(job_id: str, database_url: str | None) -> None:
    """Show one job (a batch id or an export id): status, progress, times, message."""
    store = store_for(database_url)
    try:
        job = _find(store, job_id)
    finally:
        store.close()
    lines = [
        ("id", _name(job)),
        ("kind", job.kind),
        ("status", _status(job)),
        ("progress", _progress(job)),
        ("created", iso(job.created_at)),
        ("queued", iso(job.queued_at) if job.queued_at else ""),
        ("started", iso(job.started_at) if job.started_at else ""),
        ("finished", iso(job.finished_at) if job.finished_at else ""),
        ("runs", str(job.attempts)),
        ("message", bulk_import.message(job) if job.kind == IMPORT else job.message),
    ]
    if job.file_size is not None:
        lines.append(("file", f"{job.file_size} bytes, sha256 {job.file_checksum}"))
    for key, value in lines:
        click.echo(f"{key}: {value}")


@jobs.command("cancel")
@click.argument("job_id", metavar="ID")
@database_option
def cancel_job(job_id: str, database_url: str | None) -> None:
    """Cancel a job not finished yet; a running import keeps the rows it committed."""
    store = store_for(database_url)
    try:
        job = _find(store, job_id)
        if _status(job) in ("Complete", "Completed", "Failed", "Canceled"):
            raise click.ClickException(f"job {job_id} is {_status(job)} already")
        bulk_jobs.cancel_job(store, job, SYSTEM_CLOCK.now())
    finally:
        store.close()
    click.echo(f"canceled job {job_id}")
