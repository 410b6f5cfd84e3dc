-- Usage counted whether or not limits are on, and leases that name the process holding them;
-- the same meaning as sqlite/0007_usage_and_lease_owners.sql.

-- In-flight calls are the user's rows in call_leases, and rejects are counted in call_usage:
-- the counters keep only what the quota and the rate need.
ALTER TABLE limit_usage
    DROP COLUMN in_flight,
    DROP COLUMN rejected_quota,
    DROP COLUMN rejected_rate,
    DROP COLUMN rejected_concurrency,
    DROP COLUMN last_code;

ALTER TABLE call_leases ADD COLUMN owner TEXT NOT NULL DEFAULT '';

-- Written once by every call, so unlogged like the counters (a crash of PostgreSQL forgets
-- the day's usage; docs/limits.md says so).
CREATE UNLOGGED TABLE call_usage (
    user_id              TEXT COLLATE "C" NOT NULL REFERENCES api_users (user_id) ON DELETE CASCADE,
    day                  INTEGER NOT NULL,
    calls                INTEGER NOT NULL DEFAULT 0,
    records              BIGINT NOT NULL DEFAULT 0,
    rejected_quota       INTEGER NOT NULL DEFAULT 0,
    rejected_rate        INTEGER NOT NULL DEFAULT 0,
    rejected_concurrency INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, day)
) WITH (fillfactor = 50);
