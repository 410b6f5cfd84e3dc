-- The calls history (store/calls.py): the latest API calls, at most as many as the
-- calls_history setting; the oldest are deleted as new ones come.
CREATE TABLE calls (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms       INTEGER NOT NULL,
    user_id     TEXT NOT NULL,
    api         TEXT NOT NULL,
    operation   TEXT NOT NULL,
    duration_ms REAL NOT NULL,
    records     INTEGER NOT NULL DEFAULT 0,
    created     INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    fault_code  INTEGER,
    error_id    TEXT NOT NULL DEFAULT '',
    summary     TEXT NOT NULL DEFAULT ''
);

-- The console filters by these, newest first.
CREATE INDEX calls_user ON calls (user_id, id);
CREATE INDEX calls_operation ON calls (operation, id);
CREATE INDEX calls_fault ON calls (fault_code, id);
CREATE INDEX calls_at ON calls (at_ms);
