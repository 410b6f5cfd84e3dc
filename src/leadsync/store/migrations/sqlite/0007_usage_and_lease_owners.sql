-- Usage counted whether or not limits are on, and leases that name the process holding them
-- (docs/limits.md).

-- In-flight calls are the user's rows in call_leases, and rejects are counted in call_usage:
-- the counters keep only what the quota and the rate need.
ALTER TABLE user_limits DROP COLUMN in_flight;
ALTER TABLE user_limits DROP COLUMN rejected_quota;
ALTER TABLE user_limits DROP COLUMN rejected_rate;
ALTER TABLE user_limits DROP COLUMN rejected_concurrency;

-- owner: host|boot id|pid|start time of the process that holds the lease (limits/owner.py);
-- leases of a process known dead are reaped without waiting for expires_ms.
ALTER TABLE call_leases ADD COLUMN owner TEXT NOT NULL DEFAULT '';

-- Per user and quota day (YYYYMMDD in the quota's time zone): admitted calls, the records
-- they carried, and calls refused by each limit.
CREATE TABLE call_usage (
    user_id              TEXT NOT NULL REFERENCES api_users (user_id) ON DELETE CASCADE,
    day                  INTEGER NOT NULL,
    calls                INTEGER NOT NULL DEFAULT 0,
    records              INTEGER NOT NULL DEFAULT 0,
    rejected_quota       INTEGER NOT NULL DEFAULT 0,
    rejected_rate        INTEGER NOT NULL DEFAULT 0,
    rejected_concurrency INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, day)
) WITHOUT ROWID;
