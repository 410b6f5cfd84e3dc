-- Bridge mode (docs/bridge.md, store/bridge.py): the upstream's access token, shared by every
-- worker and host, and the journal of bridged calls. The upstream's call budget is counted
-- in the limits tables, under the reserved subject @upstream.
CREATE TABLE bridge_tokens (
    upstream   TEXT PRIMARY KEY,
    token      TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
);

CREATE TABLE bridge_journal (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms          INTEGER NOT NULL,
    user_id        TEXT NOT NULL,
    operation      TEXT NOT NULL,
    duration_ms    REAL NOT NULL,
    records        INTEGER NOT NULL DEFAULT 0,
    created        INTEGER NOT NULL DEFAULT 0,
    updated        INTEGER NOT NULL DEFAULT 0,
    failed         INTEGER NOT NULL DEFAULT 0,
    request_ids    TEXT NOT NULL DEFAULT '',
    upstream_codes TEXT NOT NULL DEFAULT '',
    fault_code     INTEGER,
    error_id       TEXT NOT NULL DEFAULT ''
);

CREATE INDEX bridge_journal_at ON bridge_journal (at_ms);
