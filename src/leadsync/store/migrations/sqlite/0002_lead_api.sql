-- Activity history, static lists and merges.

-- Ids only grow (AUTOINCREMENT) and are handed out in commit order by the single writer,
-- so an id is also a stream position. attrs is a JSON list of [name, value] pairs.
-- lead_id has no foreign key: history outlives a merged-away lead until it is moved.
CREATE TABLE activities (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    lead_id    INTEGER NOT NULL,
    type       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    asset_name TEXT,
    campaign   TEXT,
    attrs      TEXT NOT NULL DEFAULT '[]'
);

-- No index on created_at: ids and creation times grow together, so the first id created
-- since a time is found by binary search over the primary key, and every write of history
-- (which syncMultipleLeads does for each new lead) is spared an index update.
CREATE INDEX activities_lead ON activities (lead_id, id);

CREATE TABLE static_lists (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE list_members (
    list_id  INTEGER NOT NULL REFERENCES static_lists (id) ON DELETE CASCADE,
    lead_id  INTEGER NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (list_id, lead_id)
) WITHOUT ROWID;

CREATE INDEX list_members_lead ON list_members (lead_id);

-- Where each merged-away lead went, for audit and for support questions.
CREATE TABLE merged_leads (
    loser_id  INTEGER PRIMARY KEY,
    winner_id INTEGER NOT NULL,
    merged_at INTEGER NOT NULL
);
