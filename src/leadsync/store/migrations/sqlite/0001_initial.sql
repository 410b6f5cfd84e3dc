-- Leads, API users and custom fields.
CREATE TABLE api_users (
    user_id        TEXT PRIMARY KEY,
    encryption_key TEXT NOT NULL,
    created_at     INTEGER NOT NULL
);

CREATE TABLE custom_fields (
    name       TEXT PRIMARY KEY,
    type       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- Ids are never reused (AUTOINCREMENT), so a lead id stays a stable reference.
-- attrs holds every field but Email as JSON with typed values; times are UTC microseconds.
CREATE TABLE leads (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    email      TEXT,
    email_key  TEXT,
    fsp_id     TEXT UNIQUE,
    fsp_type   TEXT,
    cookie     TEXT UNIQUE,
    attrs      TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE INDEX leads_email_key ON leads (email_key, id);
CREATE INDEX leads_updated_at ON leads (updated_at, id);
