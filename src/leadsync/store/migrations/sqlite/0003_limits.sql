-- Call limits per API user and fault rules (docs/limits.md, docs/testing.md).

-- One row per user that has limits or has been counted: its own limits (NULL: the server's
-- setting, 0: none) and the counters that enforce them. day is YYYYMMDD in the quota's time
-- zone; day_calls and the rejects count that day only. recent holds the times (ms, int64
-- little-endian) of the latest admitted calls, at most the rate limit's count of them.
-- in_flight always equals the number of the user's rows in call_leases.
CREATE TABLE user_limits (
    user_id              TEXT PRIMARY KEY REFERENCES api_users (user_id) ON DELETE CASCADE,
    daily_quota          INTEGER,
    rate_calls           INTEGER,
    rate_window_ms       INTEGER,
    concurrency          INTEGER,
    day                  INTEGER NOT NULL DEFAULT 0,
    day_calls            INTEGER NOT NULL DEFAULT 0,
    recent               BLOB NOT NULL DEFAULT x'',
    in_flight            INTEGER NOT NULL DEFAULT 0,
    rejected_quota       INTEGER NOT NULL DEFAULT 0,
    rejected_rate        INTEGER NOT NULL DEFAULT 0,
    rejected_concurrency INTEGER NOT NULL DEFAULT 0
);

-- Calls in flight under a concurrency limit. A lease outlives its call only when the process
-- died mid-call; expires_ms lets the next call that needs the slot reap it.
CREATE TABLE call_leases (
    lease_id   TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
);

CREATE INDEX call_leases_user ON call_leases (user_id, expires_ms);

-- Rules apply in id order. matched counts the calls a rule matched while it was live, fired
-- the ones it acted on.
CREATE TABLE fault_rules (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    operation   TEXT,
    user_id     TEXT,
    code        INTEGER,
    drop_when   TEXT,
    status      INTEGER,
    delay_ms    INTEGER NOT NULL DEFAULT 0,
    probability REAL NOT NULL DEFAULT 1.0,
    times       INTEGER,
    seed        TEXT NOT NULL DEFAULT '',
    matched     INTEGER NOT NULL DEFAULT 0,
    fired       INTEGER NOT NULL DEFAULT 0
);
