"""What canceling a bulk job records, for every way one is canceled (REST, CLI, console)."""

from __future__ import annotations

from datetime import datetime

from leadsync.jobs.kinds import IMPORT
from leadsync.store.base import Store
from leadsync.store.jobs import Job


def cancel_job(store: Store, job: Job, at: datetime) -> Job | None:
    """Cancel ``job`` if it has not finished: a running one's runner stops at its next
    write, and an import keeps the rows it committed. The job as it is after, None when it
    is gone. The reason is Marketo's status message for a canceled job of its kind."""
    reason = "Import canceled" if job.kind == IMPORT else "Canceled"
    return store.jobs().cancel(job.id, at, reason)
