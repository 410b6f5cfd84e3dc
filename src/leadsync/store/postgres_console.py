"""PostgreSQL storage for the web console (store/console.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, Protocol

import psycopg

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
from leadsync.store.postgres_control import _WRITE_BEGIN, Conn

_DIALECT = Dialect(
    mark="%s",
    attr=lambda name: f"(l.attrs ->> '{name}')",
    like="ILIKE",
    time=lambda at: at.astimezone(UTC),
)


class _Pooled(Protocol):
    def _fetch(
        self, query: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]: ...

    def _transaction(self, begin: str) -> AbstractContextManager[Conn]: ...


class PostgresConsole(ConsoleStore):
    def __init__(self, store: _Pooled) -> None:
        self._store = store

    def add_user(self, name: str, password_hash: str, created_ms: int) -> ConsoleUser:
        try:
            with self._store._transaction(_WRITE_BEGIN) as conn:
                conn.execute(
                    f"INSERT INTO console_users ({CONSOLE_USER_COLUMNS}) VALUES (%s, %s, %s)",
                    (name, password_hash, created_ms),
                )
        except psycopg.errors.UniqueViolation as exc:
            raise AlreadyExists(f"console user {name!r} exists already") from exc
        return ConsoleUser(name, password_hash, created_ms)

    def user(self, name: str) -> ConsoleUser | None:
        rows = self._store._fetch(
            f"SELECT {CONSOLE_USER_COLUMNS} FROM console_users WHERE name = %s", (name,)
        )
        return row_to_console_user(rows[0]) if rows else None

    def users(self) -> list[ConsoleUser]:
        rows = self._store._fetch(f"SELECT {CONSOLE_USER_COLUMNS} FROM console_users ORDER BY name")
        return [row_to_console_user(row) for row in rows]

    def remove_user(self, name: str) -> bool:
        with self._store._transaction(_WRITE_BEGIN) as conn:
            return conn.execute("DELETE FROM console_users WHERE name = %s", (name,)).rowcount > 0

    def session_key(self, new_key: str) -> str:
        with self._store._transaction(_WRITE_BEGIN) as conn:
            conn.execute(
                "INSERT INTO console_keys (id, session_key) VALUES (1, %s) ON CONFLICT DO NOTHING",
                (new_key,),
            )
            row = conn.execute("SELECT session_key FROM console_keys WHERE id = 1").fetchone()
        assert row is not None
        return str(row[0])

    def search_leads(self, search: LeadSearch, limit: int) -> list[Lead]:
        from leadsync.store.postgres import _L_LEAD_COLUMNS, _row_to_lead

        sql, params = search_sql(search, limit, _DIALECT, _L_LEAD_COLUMNS)
        return [_row_to_lead(row) for row in self._store._fetch(sql, params)]

    def max_lead_id(self) -> int:
        return int(self._store._fetch("SELECT max(id) FROM leads")[0][0] or 0)

    def lead_counts(self, since: datetime) -> LeadCounts:
        sql, params = counts_sql(_DIALECT, since)
        row = self._store._fetch(sql, params)[0]
        return LeadCounts(int(row[0]), int(row[1]), int(row[2]))

    def lead_list_ids(self, lead_id: int) -> list[int]:
        return [int(row[0]) for row in self._store._fetch(lead_list_ids_sql("%s"), (lead_id,))]

    def database_bytes(self) -> int:
        return int(self._store._fetch("SELECT pg_database_size(current_database())")[0][0])
