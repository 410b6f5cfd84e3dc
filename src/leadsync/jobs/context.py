"""What a job's work is given: the job, the store, its files, and its lease to keep."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from leadsync.clock import Clock
from leadsync.jobs.files import JobFiles
from leadsync.store.base import LeadWriter, Store
from leadsync.store.jobs import Job


class JobLost(Exception):
    """The job is no longer this runner's: canceled, or its lease reaped. The work stops
    and writes nothing more."""


class JobStopped(Exception):
    """The server is stopping: the work stops after its last committed step, and the job
    goes back to the queue to be resumed."""


@dataclass(slots=True)
class JobContext:
    job: Job
    store: Store
    files: JobFiles
    clock: Clock
    owner: str
    lease: timedelta
    #: Whether the process is stopping (its runner's stop was asked).
    stopping: Callable[[], bool] = lambda: False

    def lease_until(self) -> datetime:
        return self.clock.now() + self.lease

    def renew(self, state: dict[str, Any] | None = None) -> None:
        """Keep the lease (and record ``state``); JobLost when the job is not ours,
        JobStopped when the process is stopping."""
        if not self.store.jobs().renew(self.job.id, self.owner, self.lease_until(), state):
            raise JobLost(self.job.id)
        self.check_stop()

    def check_stop(self) -> None:
        if self.stopping():
            raise JobStopped(self.job.id)

    def save_state(self, tx: LeadWriter, state: dict[str, Any]) -> None:
        """Record ``state`` in the write ``tx`` (it commits with the rows it counts);
        JobLost, rolling ``tx`` back, when the job is not ours."""
        if not tx.save_job_state(self.job.id, self.owner, state, self.lease_until()):
            raise JobLost(self.job.id)

    def finish(
        self,
        status: str,
        message: str = "",
        state: dict[str, Any] | None = None,
        *,
        file_size: int | None = None,
        file_checksum: str | None = None,
    ) -> None:
        done = self.store.jobs().finish(
            self.job.id,
            self.owner,
            status,
            self.clock.now(),
            message=message,
            state=state,
            file_size=file_size,
            file_checksum=file_checksum,
        )
        if not done:
            raise JobLost(self.job.id)
