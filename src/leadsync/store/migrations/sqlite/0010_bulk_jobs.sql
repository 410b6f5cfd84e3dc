-- Bulk import and export jobs (docs/rest.md, "Bulk API"); the same meaning as
-- postgres/0010_bulk_jobs.sql. Times are microseconds since the epoch.

-- status: created, queued, running, completed, failed, canceled. A running job is held by
-- owner (limits/owner.py) until lease_until; a dead owner's job is queued again.
-- state: the job's progress as JSON, written in the same transaction as the rows it counts.
CREATE TABLE bulk_jobs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT NOT NULL,
    public_id     TEXT UNIQUE,
    status        TEXT NOT NULL,
    params        TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT '{}',
    message       TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    queued_at     INTEGER,
    started_at    INTEGER,
    finished_at   INTEGER,
    owner         TEXT,
    lease_until   INTEGER,
    attempts      INTEGER NOT NULL DEFAULT 0,
    file_size     INTEGER,
    file_checksum TEXT
);
CREATE INDEX bulk_jobs_status ON bulk_jobs (status, id);
