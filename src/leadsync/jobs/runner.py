"""Runs queued jobs inside a server process.

Each of ``bulk_threads`` threads reaps, claims a job (``JobStore.claim``: the queue limits
hold across every process on the database), runs it to its end, and claims again; with
nothing to claim it waits a moment. A job whose runner died (its owner known dead on this
host, or its lease expired) is queued again and resumes from its last committed state; after
``MAX_ATTEMPTS`` runs it ends failed with a reason. Tests drive ``run_pending`` instead of
the threads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import timedelta

from leadsync.clock import SYSTEM_CLOCK, Clock
from leadsync.errors import StoreError
from leadsync.jobs.context import JobContext, JobLost, JobStopped
from leadsync.jobs.files import JobFiles
from leadsync.jobs.kinds import JOB_OPERATIONS, KEEP_DAYS, MAX_ATTEMPTS, QUEUES
from leadsync.limits.faults import choose, rule_text
from leadsync.limits.owner import current_owner, is_dead
from leadsync.store.base import Store
from leadsync.store.control import FaultStore
from leadsync.store.jobs import FAILED, Job

log = logging.getLogger("leadsync.jobs")

#: What runs a claimed job of one kind to its end (``JobContext.finish``).
Work = Callable[[JobContext], None]
#: The user fault rules see a job's run as made by (a rule naming no user matches it).
JOB_SUBJECT = "@jobs"
#: How often a runner forgets jobs past their validity (and removes their files).
PURGE_SECONDS = 3600
#: Seconds an idle runner thread waits before it looks at the queue again.
POLL_SECONDS = 0.5


class JobRunner:
    def __init__(
        self,
        store: Store,
        files: JobFiles,
        work: Mapping[str, Work],
        *,
        threads: int = 2,
        lease_seconds: int = 300,
        clock: Clock = SYSTEM_CLOCK,
        owner: str | None = None,
        poll_seconds: float = POLL_SECONDS,
        faults: FaultStore | None = None,
    ) -> None:
        self.store = store
        self.files = files
        self.work = work
        self.threads = threads
        self.lease = timedelta(seconds=lease_seconds)
        self.clock = clock
        self._owner = owner
        self.poll_seconds = poll_seconds
        #: Fault rules to consult before a job runs (None: fault injection is off).
        self.faults = faults
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        #: The queue could not be reached the last time a thread looked (logged once).
        self._unreachable = False
        #: The jobs this runner's threads are working on.
        self._active: set[int] = set()
        #: Held while a thread claims a job and records it active, and while the reaper
        #: looks at this runner's own jobs: a job just claimed is never taken for orphaned.
        self._claiming = threading.Lock()

    @property
    def owner(self) -> str:
        # Asked each time: a forked worker is a process of its own.
        return self._owner or current_owner()

    # -- one step at a time (tests, and each thread's loop) -------------------------------
    def reap(self) -> int:
        """Queue again (or fail) the running jobs of dead owners and expired leases."""
        with self._claiming:
            return self._reap()

    def _reap(self) -> int:
        jobs = self.store.jobs()
        now = self.clock.now()
        taken = 0
        for job in jobs.running():
            owner = job.owner or ""
            if owner == self.owner:
                # Ours: taken back only when no thread of this runner works on it (its
                # thread gave up on a database error).
                if job.id in self._active:
                    continue
            else:
                expired = job.lease_until is not None and job.lease_until < now
                if not (expired or is_dead(owner)):
                    continue
            status = jobs.requeue(
                job.id,
                owner,
                now,
                max_attempts=MAX_ATTEMPTS,
                message=f"Job failed: its process stopped {MAX_ATTEMPTS} times while running it",
            )
            if status is not None:
                taken += 1
                log.warning("bulk job %s of a stopped process is now %s", job.id, status)
        return taken

    def run_one(self) -> Job | None:
        """Claim one job and run it; None when nothing could be claimed."""
        with self._claiming:
            now = self.clock.now()
            job = self.store.jobs().claim(QUEUES, self.owner, now, now + self.lease)
            if job is None:
                return None
            self._active.add(job.id)
        self._run(job)
        return job

    def run_pending(self) -> int:
        """Reap, then run jobs until none can be claimed; how many ran."""
        self.reap()
        ran = 0
        while self.run_one() is not None:
            ran += 1
        return ran

    def purge(self) -> int:
        """Forget jobs older than their validity, with their files."""
        gone = self.store.jobs().delete_finished(self.clock.now() - timedelta(days=KEEP_DAYS))
        for job in gone:
            upload = job.params.get("upload")
            self.files.remove(job.id, upload if isinstance(upload, str) else None)
        return len(gone)

    def _run(self, job: Job) -> None:
        try:
            self._run_claimed(job)
        finally:
            self._active.discard(job.id)

    def _run_claimed(self, job: Job) -> None:
        context = JobContext(
            job, self.store, self.files, self.clock, self.owner, self.lease, self._stop.is_set
        )
        work = self.work.get(job.kind)
        try:
            if work is None:
                context.finish(FAILED, f"Job failed: no runner for jobs of kind {job.kind}")
                return
            if self.faults is not None and not self._faults_let_run(context):
                return
            work(context)
        except JobLost:
            log.info("bulk job %s was canceled or taken over; its runner stops", job.id)
        except JobStopped:
            # Not the job's fault: back to the queue without using up one of its attempts.
            self.store.jobs().requeue(
                job.id,
                self.owner,
                self.clock.now(),
                max_attempts=MAX_ATTEMPTS,
                message="",
                count_attempt=False,
            )
            log.info("bulk job %s goes back to the queue: the server is stopping", job.id)
        except StoreError as exc:
            # The database went away mid-job: the job stays claimed until the reaper puts it
            # back in the queue, and resumes from its last committed step.
            log.error("bulk job %s stopped: %s", job.id, exc)
        except Exception as exc:
            log.exception("bulk job %s failed", job.id)
            try:
                context.finish(FAILED, f"Job failed: {type(exc).__name__}: {exc}")
            except Exception:
                log.exception("could not record bulk job %s as failed", job.id)

    def _faults_let_run(self, context: JobContext) -> bool:
        """Apply the fault rules that name this job's operation: a delay keeps it Queued
        that long (its state says ``stalled``), a code fails it. False when it failed."""
        assert self.faults is not None
        job = context.job
        operation = JOB_OPERATIONS.get(job.kind, job.kind)
        fired = self.faults.fire(JOB_SUBJECT, operation, choose)
        if not fired:
            return True
        log.info(
            "fault rules fired: %s op=%s job=%s",
            "; ".join(f"{rule.id} ({rule_text(rule)})" for rule in fired),
            operation,
            job.id,
        )
        delay = sum(rule.delay_ms for rule in fired) / 1000
        if delay:
            context.renew({**job.state, "stalled": True})
            deadline = time.monotonic() + delay
            while (left := deadline - time.monotonic()) > 0:
                if self._stop.wait(min(left, 1.0)):
                    raise JobLost(job.id)
                context.renew()
            context.renew(dict(job.state))
        code = next((rule.code for rule in fired if rule.code is not None), None)
        if code is not None:
            context.finish(FAILED, f"Job failed: fault rule code {code}")
            return False
        return True

    # -- in the background ----------------------------------------------------------------
    def start(self) -> None:
        if self.threads <= 0 or self._threads:
            return
        self._stop.clear()
        for index in range(self.threads):
            thread = threading.Thread(
                target=self._loop, args=(index,), name=f"leadsync-jobs-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        """A job was queued: look now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    def _loop(self, index: int) -> None:
        purged = 0.0
        while not self._stop.is_set():
            ran = None
            try:
                if index == 0:
                    self.reap()
                    if time.monotonic() - purged > PURGE_SECONDS:
                        purged = time.monotonic()
                        self.purge()
                ran = self.run_one()
                self._unreachable = False
            except StoreError as exc:
                # The database is away (an outage, a restart): say so once, and keep polling.
                if not self._unreachable:
                    log.error("the bulk job runner cannot reach the queue: %s", exc)
                self._unreachable = True
            except Exception:
                log.exception("the bulk job runner could not reach the queue")
            if ran is None:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
