-- REST API services (Marketo's custom services) and the access tokens they were issued.

CREATE TABLE rest_services (
    client_id     TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    client_secret TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

-- Expired tokens are kept a day, so that a client using one is told it expired (602)
-- rather than that it is unknown (601).
CREATE TABLE rest_tokens (
    token      TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES rest_services (client_id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
);

CREATE INDEX rest_tokens_client ON rest_tokens (client_id, expires_at);
