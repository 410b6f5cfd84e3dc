"""The storage contract for bulk jobs (imports, exports) and their queue.

A job is a row; its files live on disk (``leadsync.jobs.files``). The store decides nothing
about what a job does: it keeps the queue's invariants atomically, whatever number of
processes share the database.

* ``create``/``enqueue`` admit a job only while fewer than ``QueueLimit.waiting`` jobs of
  its queue are queued or running: the check and the insert are one transaction, serialised
  against every other admission and claim (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: an
  advisory transaction lock).
* ``claim`` hands the oldest queued job of a queue to ``owner`` while fewer than
  ``QueueLimit.running`` of its queue run; the owner holds it until ``lease_until`` and
  keeps it by ``renew``. Every write a runner makes names its owner and is refused (False)
  once the job is no longer running under that owner: a runner whose lease was reaped, or
  whose job was canceled, cannot write over its successor.
* ``requeue`` takes a running job back from an owner known dead or whose lease expired.
* ``LeadWriter.save_job_state`` writes a job's progress in the lead write that made it,
  so what is committed and what the job says it committed never disagree.

Times are given by the caller (operations read the clock); the store stamps nothing.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

CREATED = "created"
QUEUED = "queued"
RUNNING = "running"
COMPLETED = "completed"
FAILED = "failed"
CANCELED = "canceled"
#: Statuses a job never leaves.
FINISHED = frozenset({COMPLETED, FAILED, CANCELED})


@dataclass(frozen=True, slots=True)
class QueueLimit:
    """Jobs of ``kinds`` share a queue: at most ``waiting`` queued or running, at most
    ``running`` of them running."""

    kinds: tuple[str, ...]
    waiting: int
    running: int


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    kind: str
    #: The id clients name it by when it is not ``id`` (an export's UUID).
    public_id: str | None
    status: str
    params: dict[str, Any]
    created_at: datetime
    state: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    queued_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    owner: str | None = None
    lease_until: datetime | None = None
    #: How many times a runner took it (a job whose runners keep dying ends failed).
    attempts: int = 0
    file_size: int | None = None
    file_checksum: str | None = None


class JobStore(abc.ABC):
    @abc.abstractmethod
    def create(
        self,
        kind: str,
        params: dict[str, Any],
        at: datetime,
        *,
        public_id: str | None = None,
        queue: QueueLimit | None = None,
    ) -> Job | None:
        """A new job: queued when ``queue`` is given (None when that queue is full),
        created otherwise."""

    @abc.abstractmethod
    def enqueue(self, job_id: int, queue: QueueLimit, at: datetime) -> Job | None:
        """A created job becomes queued; None when the queue is full. A job in another
        status is returned as it is."""

    @abc.abstractmethod
    def get(self, job_id: int) -> Job | None: ...

    @abc.abstractmethod
    def by_public_id(self, public_id: str) -> Job | None: ...

    @abc.abstractmethod
    def jobs(
        self,
        kinds: Sequence[str] = (),
        statuses: Sequence[str] = (),
        after_id: int = 0,
        limit: int = 100,
    ) -> list[Job]:
        """Jobs by ascending id after ``after_id``, only of ``kinds`` and ``statuses`` when
        given."""

    @abc.abstractmethod
    def newest(
        self,
        kinds: Sequence[str] = (),
        statuses: Sequence[str] = (),
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[Job]:
        """Jobs by descending id below ``before_id`` (None: from the newest), only of
        ``kinds`` and ``statuses`` when given."""

    @abc.abstractmethod
    def claim(
        self, queues: Sequence[QueueLimit], owner: str, at: datetime, lease_until: datetime
    ) -> Job | None:
        """The oldest queued job of a queue with a free running slot, now running under
        ``owner`` (its ``started_at`` is set on its first claim), or None."""

    @abc.abstractmethod
    def renew(
        self,
        job_id: int,
        owner: str,
        lease_until: datetime,
        state: dict[str, Any] | None = None,
    ) -> bool:
        """Extend the owner's lease (and replace the state when given); False when the
        job is no longer running under ``owner``."""

    @abc.abstractmethod
    def finish(
        self,
        job_id: int,
        owner: str,
        status: str,
        at: datetime,
        *,
        message: str = "",
        state: dict[str, Any] | None = None,
        file_size: int | None = None,
        file_checksum: str | None = None,
    ) -> bool:
        """End a running job of ``owner``; False when it is not (any more) theirs."""

    @abc.abstractmethod
    def cancel(self, job_id: int, at: datetime, message: str = "") -> Job | None:
        """A job not finished yet becomes canceled (a running one's runner notices at its
        next write). Returns the job as it is after, None when there is no such job."""

    @abc.abstractmethod
    def running(self) -> list[Job]:
        """Every running job, for the reaper."""

    @abc.abstractmethod
    def requeue(
        self,
        job_id: int,
        owner: str,
        at: datetime,
        *,
        max_attempts: int,
        message: str,
        count_attempt: bool = True,
    ) -> str | None:
        """A running job of ``owner`` goes back to queued, or to failed with ``message``
        once it was claimed ``max_attempts`` times; the new status, None when it was not
        running under ``owner``. Without ``count_attempt`` (its runner stopped in good order)
        the claim does not count as an attempt."""

    @abc.abstractmethod
    def exported_bytes(self, kinds: Sequence[str], since: datetime) -> int:
        """Bytes of the files of ``kinds`` jobs completed since ``since``."""

    @abc.abstractmethod
    def delete_finished(self, before: datetime) -> list[Job]:
        """Delete the jobs created before ``before`` that are finished; returns them (their
        files are the caller's to remove)."""
