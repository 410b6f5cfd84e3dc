-- Calls answered with an error, by user, quota day and code; the same meaning as
-- sqlite/0012_call_errors.sql. Unlogged like call_usage: a crash of PostgreSQL forgets them.
CREATE UNLOGGED TABLE call_errors (
    user_id TEXT COLLATE "C" NOT NULL REFERENCES api_users (user_id) ON DELETE CASCADE,
    day     INTEGER NOT NULL,
    code    INTEGER NOT NULL,
    calls   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, day, code)
);

CREATE UNLOGGED TABLE service_usage (
    client_id TEXT COLLATE "C" NOT NULL,
    day       INTEGER NOT NULL,
    calls     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (client_id, day)
);
