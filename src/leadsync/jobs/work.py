"""Which operation runs a job of each kind."""

from __future__ import annotations

from functools import partial

from leadsync.config import Settings
from leadsync.jobs.kinds import ACTIVITIES_EXPORT, IMPORT, LEADS_EXPORT
from leadsync.jobs.runner import Work
from leadsync.operations.bulk_extract import run_export
from leadsync.operations.bulk_import import run_import


def job_work(settings: Settings) -> dict[str, Work]:
    export = partial(run_export, daily_bytes=settings.bulk_export_daily_bytes)
    return {IMPORT: run_import, LEADS_EXPORT: export, ACTIVITIES_EXPORT: export}
