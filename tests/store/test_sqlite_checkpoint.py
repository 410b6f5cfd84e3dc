"""The write-ahead log is copied back into the database file by the store's own thread."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

from leadsync.store.sqlite import SQLiteStore
from leadsync.store.sqlite_checkpoint import BACKSTOP_PAGES


def leads_in_file_alone(db: Path, copy: Path) -> int:
    """Leads a copy of the database file holds without its log, i.e. checkpointed ones."""
    shutil.copyfile(db, copy)
    conn = sqlite3.connect(copy)
    try:
        return int(conn.execute("SELECT count(*) FROM leads").fetchone()[0])
    except sqlite3.OperationalError:  # not even the schema yet
        return 0
    finally:
        conn.close()


def test_commits_reach_the_database_file_without_a_writer_checkpoint(tmp_path: Path) -> None:
    db = tmp_path / "leads.db"
    store = SQLiteStore(f"sqlite:///{db}")
    try:
        store.migrate()
        assert store._writer.execute("PRAGMA wal_autocheckpoint").fetchone() == (BACKSTOP_PAGES,)
        for i in range(20):
            with store.write() as tx:
                tx.conn.execute(  # type: ignore[attr-defined]
                    "INSERT INTO leads (email, attrs, created_at, updated_at)"
                    " VALUES (?, '{}', 0, 0)",
                    (f"l{i}@x.com",),
                )
        deadline = time.monotonic() + 10
        while leads_in_file_alone(db, tmp_path / "copy.db") < 20:
            assert time.monotonic() < deadline, "the log was not checkpointed"
            time.sleep(0.05)
        thread = store._checkpointer._thread
        assert thread is not None
        assert thread.name == "leadsync-sqlite-checkpoint"
    finally:
        store.close()
    # Its own thread: other stores of this process (the in-process app's) keep theirs.
    assert not thread.is_alive()


def test_a_store_only_read_starts_no_thread(tmp_path: Path) -> None:
    db = tmp_path / "leads.db"
    first = SQLiteStore(f"sqlite:///{db}")
    first.migrate()
    first.close()
    store = SQLiteStore(f"sqlite:///{db}")
    try:
        assert store.list_users() == []
        assert store._checkpointer._thread is None
    finally:
        store.close()
