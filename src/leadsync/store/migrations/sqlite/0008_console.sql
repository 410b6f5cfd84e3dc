-- The web console (docs/console.md): who may sign in to it, and the key that signs its
-- sessions (one row, shared by every process on the database).
CREATE TABLE console_users (
    name          TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_ms    INTEGER NOT NULL
);

CREATE TABLE console_keys (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    session_key TEXT NOT NULL
);
