-- REST API services and their access tokens; the same meaning as sqlite/0005_rest_services.sql.
CREATE TABLE rest_services (
    client_id     TEXT COLLATE "C" PRIMARY KEY,
    name          TEXT NOT NULL,
    client_secret TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE rest_tokens (
    token      TEXT COLLATE "C" PRIMARY KEY,
    client_id  TEXT COLLATE "C" NOT NULL REFERENCES rest_services (client_id) ON DELETE CASCADE,
    expires_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX rest_tokens_client ON rest_tokens (client_id, expires_at);
