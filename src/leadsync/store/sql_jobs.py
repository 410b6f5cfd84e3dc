"""The bulk job queue on SQL, for both backends (see ``store.jobs`` for the contract).

The statements are the same on SQLite and PostgreSQL; what differs is given by the backend:
the parameter marker, and the statement that serialises admissions and claims (SQLite's
write transactions are serialised already).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any

import orjson

from leadsync.store.jobs import (
    CANCELED,
    COMPLETED,
    CREATED,
    FAILED,
    FINISHED,
    QUEUED,
    RUNNING,
    Job,
    JobStore,
    QueueLimit,
)

_COLUMNS = (
    "id, kind, public_id, status, params, created_at, state, message, queued_at, started_at,"
    " finished_at, owner, lease_until, attempts, file_size, file_checksum"
)
#: PostgreSQL's advisory lock key for the queue ("jobs").
QUEUE_LOCK_KEY = 0x6A6F6273


def us(value: datetime) -> int:
    return int(value.timestamp() * 1_000_000)


def _at(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value / 1_000_000, UTC)


def dump_state(state: dict[str, Any]) -> str:
    return orjson.dumps(state).decode()


def job_from_row(row: Sequence[Any]) -> Job:
    created = _at(row[5])
    assert created is not None
    return Job(
        id=int(row[0]),
        kind=row[1],
        public_id=row[2],
        status=row[3],
        params=orjson.loads(row[4]),
        created_at=created,
        state=orjson.loads(row[6]),
        message=row[7],
        queued_at=_at(row[8]),
        started_at=_at(row[9]),
        finished_at=_at(row[10]),
        owner=row[11],
        lease_until=_at(row[12]),
        attempts=int(row[13]),
        file_size=row[14],
        file_checksum=row[15],
    )


_MAX_ID = 2**63 - 1


def _marks(count: int) -> str:
    return ", ".join("?" * count)


class SqlJobs(JobStore):
    def __init__(
        self,
        transaction: Callable[[], AbstractContextManager[Any]],
        fetch: Callable[[str, Sequence[Any]], list[Any]],
        *,
        marker: str = "?",
        serialise: str | None = None,
    ) -> None:
        self._transaction = transaction
        self._fetch_rows = fetch
        self._marker = marker
        self._serialise = serialise

    def _sql(self, query: str) -> str:
        return query if self._marker == "?" else query.replace("?", self._marker)

    def _fetch(self, query: str, params: Sequence[Any] = ()) -> list[Any]:
        return self._fetch_rows(self._sql(query), params)

    @contextmanager
    def _queue(self) -> Iterator[Callable[..., Any]]:
        """A write transaction that no other admission or claim runs beside."""
        with self._transaction() as conn:
            if self._serialise:
                conn.execute(self._serialise)

            def run(query: str, params: Sequence[Any] = ()) -> Any:
                return conn.execute(self._sql(query), params)

            yield run

    @staticmethod
    def _waiting(run: Callable[..., Any], queue: QueueLimit) -> int:
        row = run(
            f"SELECT count(*) FROM bulk_jobs WHERE status IN (?, ?)"
            f" AND kind IN ({_marks(len(queue.kinds))})",
            (QUEUED, RUNNING, *queue.kinds),
        ).fetchone()
        return int(row[0])

    def _one(self, run: Callable[..., Any], job_id: int) -> Job | None:
        row = run(f"SELECT {_COLUMNS} FROM bulk_jobs WHERE id = ?", (job_id,)).fetchone()
        return job_from_row(row) if row else None

    def create(
        self,
        kind: str,
        params: dict[str, Any],
        at: datetime,
        *,
        public_id: str | None = None,
        queue: QueueLimit | None = None,
    ) -> Job | None:
        with self._queue() as run:
            if queue is not None and self._waiting(run, queue) >= queue.waiting:
                return None
            status = QUEUED if queue is not None else CREATED
            row = run(
                "INSERT INTO bulk_jobs (kind, public_id, status, params, created_at, queued_at)"
                " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    kind,
                    public_id,
                    status,
                    dump_state(params),
                    us(at),
                    us(at) if queue is not None else None,
                ),
            ).fetchone()
            return self._one(run, int(row[0]))

    def enqueue(self, job_id: int, queue: QueueLimit, at: datetime) -> Job | None:
        with self._queue() as run:
            job = self._one(run, job_id)
            if job is None or job.status != CREATED:
                return job
            if self._waiting(run, queue) >= queue.waiting:
                return None
            run(
                "UPDATE bulk_jobs SET status = ?, queued_at = ? WHERE id = ?",
                (QUEUED, us(at), job_id),
            )
            return self._one(run, job_id)

    def get(self, job_id: int) -> Job | None:
        rows = self._fetch(f"SELECT {_COLUMNS} FROM bulk_jobs WHERE id = ?", (job_id,))
        return job_from_row(rows[0]) if rows else None

    def by_public_id(self, public_id: str) -> Job | None:
        rows = self._fetch(f"SELECT {_COLUMNS} FROM bulk_jobs WHERE public_id = ?", (public_id,))
        return job_from_row(rows[0]) if rows else None

    def jobs(
        self,
        kinds: Sequence[str] = (),
        statuses: Sequence[str] = (),
        after_id: int = 0,
        limit: int = 100,
    ) -> list[Job]:
        return self._page(kinds, statuses, "id > ?", after_id, "ORDER BY id", limit)

    def newest(
        self,
        kinds: Sequence[str] = (),
        statuses: Sequence[str] = (),
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[Job]:
        # Ids fit in 63 bits; a bound past them (or none) reads from the newest.
        bound = _MAX_ID if before_id is None else min(before_id, _MAX_ID)
        return self._page(kinds, statuses, "id < ?", bound, "ORDER BY id DESC", limit)

    def _page(
        self,
        kinds: Sequence[str],
        statuses: Sequence[str],
        bound: str,
        bound_id: int,
        order: str,
        limit: int,
    ) -> list[Job]:
        where = [bound]
        params: list[Any] = [bound_id]
        if kinds:
            where.append(f"kind IN ({_marks(len(kinds))})")
            params += kinds
        if statuses:
            where.append(f"status IN ({_marks(len(statuses))})")
            params += statuses
        rows = self._fetch(
            f"SELECT {_COLUMNS} FROM bulk_jobs WHERE {' AND '.join(where)} {order} LIMIT ?",
            (*params, limit),
        )
        return [job_from_row(row) for row in rows]

    def claim(
        self, queues: Sequence[QueueLimit], owner: str, at: datetime, lease_until: datetime
    ) -> Job | None:
        # Idle runners poll: a read first, so that they take no write lock (SQLite's is the
        # whole database's) while nothing waits.
        if not self._fetch("SELECT 1 FROM bulk_jobs WHERE status = ? LIMIT 1", (QUEUED,)):
            return None
        with self._queue() as run:
            for queue in queues:
                marks = _marks(len(queue.kinds))
                row = run(
                    f"SELECT count(*) FROM bulk_jobs WHERE status = ? AND kind IN ({marks})",
                    (RUNNING, *queue.kinds),
                ).fetchone()
                if int(row[0]) >= queue.running:
                    continue
                row = run(
                    f"SELECT id FROM bulk_jobs WHERE status = ? AND kind IN ({marks})"
                    " ORDER BY id LIMIT 1",
                    (QUEUED, *queue.kinds),
                ).fetchone()
                if row is None:
                    continue
                run(
                    "UPDATE bulk_jobs SET status = ?, owner = ?, lease_until = ?,"
                    " started_at = coalesce(started_at, ?), attempts = attempts + 1"
                    " WHERE id = ?",
                    (RUNNING, owner, us(lease_until), us(at), row[0]),
                )
                return self._one(run, int(row[0]))
        return None

    def renew(
        self,
        job_id: int,
        owner: str,
        lease_until: datetime,
        state: dict[str, Any] | None = None,
    ) -> bool:
        with self._transaction() as conn:
            if state is None:
                cur = conn.execute(
                    self._sql(
                        "UPDATE bulk_jobs SET lease_until = ?"
                        " WHERE id = ? AND owner = ? AND status = ?"
                    ),
                    (us(lease_until), job_id, owner, RUNNING),
                )
            else:
                cur = conn.execute(
                    self._sql(
                        "UPDATE bulk_jobs SET lease_until = ?, state = ?"
                        " WHERE id = ? AND owner = ? AND status = ?"
                    ),
                    (us(lease_until), dump_state(state), job_id, owner, RUNNING),
                )
            return bool(cur.rowcount == 1)

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
        assert status in FINISHED
        with self._transaction() as conn:
            cur = conn.execute(
                self._sql(
                    "UPDATE bulk_jobs SET status = ?, finished_at = ?, message = ?,"
                    " state = coalesce(?, state), file_size = ?, file_checksum = ?,"
                    " owner = NULL, lease_until = NULL"
                    " WHERE id = ? AND owner = ? AND status = ?"
                ),
                (
                    status,
                    us(at),
                    message,
                    dump_state(state) if state is not None else None,
                    file_size,
                    file_checksum,
                    job_id,
                    owner,
                    RUNNING,
                ),
            )
            return bool(cur.rowcount == 1)

    def cancel(self, job_id: int, at: datetime, message: str = "") -> Job | None:
        with self._queue() as run:
            job = self._one(run, job_id)
            if job is None or job.status in FINISHED:
                return job
            run(
                "UPDATE bulk_jobs SET status = ?, finished_at = ?, message = ?, owner = NULL,"
                " lease_until = NULL WHERE id = ?",
                (CANCELED, us(at), message, job_id),
            )
            return self._one(run, job_id)

    def running(self) -> list[Job]:
        rows = self._fetch(
            f"SELECT {_COLUMNS} FROM bulk_jobs WHERE status = ? ORDER BY id", (RUNNING,)
        )
        return [job_from_row(row) for row in rows]

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
        with self._queue() as run:
            job = self._one(run, job_id)
            if job is None or job.status != RUNNING or job.owner != owner:
                return None
            if count_attempt and job.attempts >= max_attempts:
                run(
                    "UPDATE bulk_jobs SET status = ?, finished_at = ?, message = ?,"
                    " owner = NULL, lease_until = NULL WHERE id = ?",
                    (FAILED, us(at), message, job_id),
                )
                return FAILED
            run(
                "UPDATE bulk_jobs SET status = ?, owner = NULL, lease_until = NULL,"
                " attempts = attempts - ? WHERE id = ?",
                (QUEUED, 0 if count_attempt else 1, job_id),
            )
            return QUEUED

    def exported_bytes(self, kinds: Sequence[str], since: datetime) -> int:
        rows = self._fetch(
            "SELECT coalesce(sum(file_size), 0) FROM bulk_jobs WHERE status = ?"
            f" AND finished_at >= ? AND kind IN ({_marks(len(kinds))})",
            (COMPLETED, us(since), *kinds),
        )
        return int(rows[0][0])

    def delete_finished(self, before: datetime) -> list[Job]:
        finished = sorted(FINISHED)
        with self._queue() as run:
            rows = run(
                f"SELECT {_COLUMNS} FROM bulk_jobs WHERE created_at < ?"
                f" AND status IN ({_marks(len(finished))})",
                (us(before), *finished),
            ).fetchall()
            if rows:
                ids = [row[0] for row in rows]
                run(f"DELETE FROM bulk_jobs WHERE id IN ({_marks(len(ids))})", ids)
            return [job_from_row(row) for row in rows]


def save_job_state(
    conn: Any, marker: str, job_id: int, owner: str, state: dict[str, Any], lease_until: int
) -> bool:
    """``LeadWriter.save_job_state`` on a backend's connection."""
    query = (
        "UPDATE bulk_jobs SET state = ?, lease_until = ? WHERE id = ? AND owner = ? AND status = ?"
    )
    if marker != "?":
        query = query.replace("?", marker)
    cur = conn.execute(query, (dump_state(state), lease_until, job_id, owner, RUNNING))
    return bool(cur.rowcount == 1)
