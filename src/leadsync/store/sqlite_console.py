"""SQLite storage for the web console (store/console.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

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

    def _fetch(self, query: str, params: Sequence[Any] = ()) -> list[Any]: ...


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
        rows = self._store._fetch(
            f"SELECT {CONSOLE_USER_COLUMNS} FROM console_users WHERE name = ?", (name,)
        )
        return row_to_console_user(rows[0]) if rows else None

    def users(self) -> list[ConsoleUser]:
        rows = self._store._fetch(f"SELECT {CONSOLE_USER_COLUMNS} FROM console_users ORDER BY name")
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
        return [_row_to_lead(row) for row in self._store._fetch(sql, params)]

    def max_lead_id(self) -> int:
        return int(self._store._fetch("SELECT max(id) FROM leads")[0][0] or 0)

    def lead_counts(self, since: datetime) -> LeadCounts:
        sql, params = counts_sql(_dialect(), since)
        row = self._store._fetch(sql, params)[0]
        return LeadCounts(int(row[0]), int(row[1]), int(row[2]))

    def lead_list_ids(self, lead_id: int) -> list[int]:
        return [int(row[0]) for row in self._store._fetch(lead_list_ids_sql("?"), (lead_id,))]

    def database_bytes(self) -> int:
        pages = self._store._fetch("PRAGMA page_count")[0][0]
        size = self._store._fetch("PRAGMA page_size")[0][0]
        return int(pages) * int(size)
