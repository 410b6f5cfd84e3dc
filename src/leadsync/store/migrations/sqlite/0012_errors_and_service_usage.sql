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

-- Per REST service and quota day: calls admitted (REST's limits count every service's calls
-- together, under @rest; this says whose they were). No foreign key: a service removed while
-- its calls finish must not make their usage fail; its rows are only no longer shown.
CREATE TABLE service_usage (
    client_id TEXT NOT NULL,
    day       INTEGER NOT NULL,
    calls     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (client_id, day)
) WITHOUT ROWID;
