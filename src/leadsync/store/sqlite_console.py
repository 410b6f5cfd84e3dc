"""SQLite storage for the web console (store/console.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from leadsync.model import Lead
from leadsync.store.base import AlreadyExists
from leadsync.store.console import CONSOLE_USER_COLUMNS, ConsoleReads, ConsoleUser, Dialect
from leadsync.store.handles import SQLiteHandle


def _dialect() -> Dialect:
    from leadsync.store.sqlite import to_us

    return Dialect(
        mark="?",
        attr=lambda name: f"json_extract(l.attrs, '$.\"{name}\"')",
        like="LIKE",  # case-insensitive for ASCII in SQLite
        time=to_us,
    )


class SQLiteConsole(ConsoleReads):
    def __init__(self, store: SQLiteHandle) -> None:
        self._store = store

    def _fetch(self, query: str, params: Sequence[Any]) -> list[Any]:
        return self._store._fetch(query, params)

    def _dialect(self) -> Dialect:
        return _dialect()

    def _lead_columns(self) -> str:
        from leadsync.store.sqlite import _LEAD_COLUMNS

        return ", ".join(f"l.{c.strip()}" for c in _LEAD_COLUMNS.split(","))

    def _row_to_lead(self, row: Any) -> Lead:
        from leadsync.store.sqlite import _row_to_lead

        return _row_to_lead(row)

    def add_user(self, name: str, password_hash: str, created_ms: int) -> ConsoleUser:
        with self._store._transaction() as conn:
            try:
                conn.execute(
                    f"INSERT INTO console_users ({CONSOLE_USER_COLUMNS}) VALUES (?, ?, ?)",
                    (name, password_hash, created_ms),
                )
            except sqlite3.IntegrityError as exc:
                raise AlreadyExists(f"console user {name!r} exists already") from exc
        return ConsoleUser(name, password_hash, created_ms)

    def remove_user(self, name: str) -> bool:
        with self._store._transaction() as conn:
            return conn.execute("DELETE FROM console_users WHERE name = ?", (name,)).rowcount > 0

    def session_key(self, new_key: str) -> str:
        with self._store._transaction() as conn:
            conn.execute(
                "INSERT INTO console_keys (id, session_key) VALUES (1, ?) ON CONFLICT DO NOTHING",
                (new_key,),
            )
            row = conn.execute("SELECT session_key FROM console_keys WHERE id = 1").fetchone()
        return str(row[0])

    def database_bytes(self) -> int:
        pages = self._fetch("PRAGMA page_count", ())[0][0]
        size = self._fetch("PRAGMA page_size", ())[0][0]
        return int(pages) * int(size)
