"""Copying SQLite's write-ahead log back into the database file, off the write path.

SQLite's automatic checkpoint runs inside the commit that takes the log past 1000 pages:
that writer copies the pages and syncs the file while it holds the write lock every other
call is waiting for. Here a thread of the store's own runs a PASSIVE checkpoint shortly
after commits instead (PASSIVE never waits for, nor blocks, readers or the writer), and the
writer's automatic checkpoint stays as a backstop at a size the thread keeps the log under.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

#: Pages of log at which the writer checkpoints itself all the same (40 MB of 4 KiB pages).
BACKSTOP_PAGES = 10_000
#: Seconds between the checkpoints of a store being written to.
INTERVAL = 0.1


class Checkpointer:
    """Checkpoints the log at most every ``INTERVAL`` while commits arrive."""

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._pending = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def committed(self) -> None:
        """Note a commit; the first one starts the thread."""
        self._pending = True
        if self._thread is None:
            with self._lock:
                if self._thread is None and not self._stop.is_set():
                    self._thread = threading.Thread(
                        target=self._run, name="leadsync-sqlite-checkpoint", daemon=True
                    )
                    self._thread.start()

    def close(self) -> None:
        """Stop the thread after a last checkpoint."""
        with self._lock:
            self._stop.set()
            thread = self._thread
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        conn = self._connect()
        try:
            while not self._stop.wait(INTERVAL):
                self._checkpoint(conn)
            self._checkpoint(conn)
        finally:
            conn.close()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        if not self._pending:
            return
        self._pending = False
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:
            # The next commit asks again; the writer's own checkpoint bounds the log meanwhile.
            self._pending = True
            log.warning("WAL checkpoint failed: %s", exc)
