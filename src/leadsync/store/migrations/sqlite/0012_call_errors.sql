-- Per API user and quota day: calls answered with an error, by the code answered (REST's
-- stats/errors.json reads those of the subject @rest; docs/rest.md). Refusals by a limit
-- stay counted in call_usage.
CREATE TABLE call_errors (
    user_id TEXT NOT NULL REFERENCES api_users (user_id) ON DELETE CASCADE,
    day     INTEGER NOT NULL,
    code    INTEGER NOT NULL,
    calls   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, day, code)
) WITHOUT ROWID;
