"""SQLite storage for the web console (store/console.py)."""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from leadsync.model import Lead
from leadsync.store.base import AlreadyExists
from leadsync.store.console import (
    CONSOLE_USER_COLUMNS,
    ConsoleStore,
    ConsoleUser,
    Dialect,
    LeadCounts,
    LeadSearch,
    counts_sql,
    lead_list_ids_sql,
    row_to_console_user,
    search_sql,
)


class _Transactional(Protocol):
    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]: ...

    def _reader_conn(self) -> sqlite3.Connection: ...


def _dialect() -> Dialect:
    from leadsync.store.sqlite import to_us

    return Dialect(
        mark="?",
        attr=lambda name: f"json_extract(l.attrs, '$.\"{name}\"')",
        like="LIKE",  # case-insensitive for ASCII in SQLite
        time=to_us,
    )


class SQLiteConsole(ConsoleStore):
    def __init__(self, store: _Transactional) -> None:
        self._store = store

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

    def user(self, name: str) -> ConsoleUser | None:
        row = (
            self._store._reader_conn()
            .execute(f"SELECT {CONSOLE_USER_COLUMNS} FROM console_users WHERE name = ?", (name,))
            .fetchone()
        )
        return None if row is None else row_to_console_user(row)

    def users(self) -> list[ConsoleUser]:
        rows = (
            self._store._reader_conn()
            .execute(f"SELECT {CONSOLE_USER_COLUMNS} FROM console_users ORDER BY name")
            .fetchall()
        )
        return [row_to_console_user(row) for row in rows]

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

    def search_leads(self, search: LeadSearch, limit: int) -> list[Lead]:
        from leadsync.store.sqlite import _LEAD_COLUMNS, _row_to_lead

        columns = ", ".join(f"l.{c.strip()}" for c in _LEAD_COLUMNS.split(","))
        sql, params = search_sql(search, limit, _dialect(), columns)
        rows = self._store._reader_conn().execute(sql, params).fetchall()
        return [_row_to_lead(row) for row in rows]

    def lead_counts(self, since: datetime) -> LeadCounts:
        sql, params = counts_sql(_dialect(), since)
        row = self._store._reader_conn().execute(sql, params).fetchone()
        return LeadCounts(int(row[0]), int(row[1]), int(row[2]))

    def lead_list_ids(self, lead_id: int) -> list[int]:
        rows = self._store._reader_conn().execute(lead_list_ids_sql("?"), (lead_id,)).fetchall()
        return [int(row[0]) for row in rows]

    def database_bytes(self) -> int:
        conn = self._store._reader_conn()
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        return int(pages) * int(size)
